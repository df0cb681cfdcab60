// Consuming a logical stream: reads the stream's current target with the group's committed offsets; when the
// mapping changes, drains the old topic to the end offsets taken at the switch, commits, and continues on the new
// target from where the group committed there (or the earliest offset).
import { Admin } from '../client/admin/index.js'
import { Consumer, type ConsumerOptions, type ConsumerRecord } from '../client/consumer/index.js'
import { StreamClosedError, StreamTimeoutError } from './errors.js'
import { abortableSleep, type StreamChange, type StreamResolver, type StreamTarget, sameTarget } from './resolver.js'

/** The promise, marked handled: a read left pending when the loop stops must not surface as an unhandled rejection. */
function settled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {})
  return p
}

/** Options of a {@link StreamConsumer}. */
export interface StreamConsumerOptions {
  resolver: StreamResolver
  /** The stream to read. */
  stream: string
  /** The consumer group; offsets are committed on each target's cluster under this id. */
  groupId: string
  /** Options of the underlying Consumer (one per target); the cluster and group come from the target and groupId. */
  consumer?: Omit<ConsumerOptions, 'client' | 'cluster' | 'groupId' | 'resetPolicy'>
  /**
   * How long after a switch the old topic's end offsets are taken, so sends already accepted by producers that
   * switched at the same moment are acknowledged first. Default 1000 ms.
   */
  drainGraceMs?: number
  /** Bound of draining the old topic to those end offsets (StreamTimeoutError). Default 60 000. */
  drainTimeoutMs?: number
  /** Bound of the admin calls (partitions, offsets). Default 30 000. */
  timeoutMs?: number
  /** Stops the iteration (the loop ends cleanly, committing what was finished). */
  signal?: AbortSignal
}

/** A record of a stream, with the target it was read from. */
export interface StreamRecord {
  stream: string
  target: StreamTarget
  record: ConsumerRecord
}

/**
 * Reads a stream by name, following its mapping.
 *
 * ```ts
 * const consumer = new StreamConsumer({ resolver, stream: 'orders', groupId: 'billing' })
 * for await (const { record } of consumer) await handle(record)
 * ```
 * Offsets are committed as with a Consumer: a record is finished once the loop asks for the next one. On a
 * mapping change the old topic is read up to the end offsets listed `drainGraceMs` after the switch (records
 * produced there later, by producers that had not seen the change, are not read), its offsets are committed, and
 * the new target is read from the group's committed offsets there, else from the earliest. All partitions of the
 * target topic are assigned to this one consumer (no group rebalancing), so run one StreamConsumer per group.
 *
 * Events are not emitted; `switches` counts the completed switches.
 */
export class StreamConsumer implements AsyncIterable<StreamRecord> {
  private readonly options: StreamConsumerOptions
  private readonly closeController = new AbortController()
  /** Mapping changes completed (old topic drained, new target opened). */
  switches = 0

  constructor(options: StreamConsumerOptions) {
    this.options = options
  }

  /** Ends the iteration (the loop returns after committing what was finished). Idempotent. */
  close(): void {
    this.closeController.abort(new StreamClosedError('the stream consumer'))
  }

  async *[Symbol.asyncIterator](): AsyncIterator<StreamRecord> {
    const { resolver, stream } = this.options
    const signal = this.options.signal
      ? AbortSignal.any([this.options.signal, this.closeController.signal])
      : this.closeController.signal
    let changed: (() => void) | undefined
    let changedPromise!: Promise<'changed'>
    const arm = () => {
      changedPromise = new Promise((resolve) => {
        changed = () => resolve('changed')
      })
    }
    arm()
    let current: StreamTarget | undefined
    const onChange = (c: StreamChange) => {
      if (c.stream === stream && !sameTarget(c.target, current)) changed?.()
    }
    const stopped = new Promise<'stopped'>((resolve) => {
      if (signal.aborted) resolve('stopped')
      else signal.addEventListener('abort', () => resolve('stopped'), { once: true })
    })
    resolver.on('change', onChange)
    try {
      while (!signal.aborted) {
        current = resolver.resolve(stream)
        if (!current) {
          if ((await Promise.race([changedPromise, stopped])) === 'stopped') return
          arm()
          continue
        }
        const target = current
        const session = await this.open(target, signal)
        const inner = session.consumer[Symbol.asyncIterator]()
        let pending: Promise<IteratorResult<ConsumerRecord>> | undefined
        try {
          // Live reading until the mapping changes.
          for (;;) {
            pending ??= settled(inner.next())
            const r = await Promise.race([pending, changedPromise, stopped])
            if (r === 'stopped') return
            if (r === 'changed') break
            pending = undefined
            if (r.done) return
            session.next.set(r.value.partition, r.value.offset + 1)
            yield { stream, target, record: r.value }
          }
          arm()
          // Drain: the old topic up to its end offsets as of the switch (plus the grace).
          await abortableSleep(this.options.drainGraceMs ?? 1000, signal)
          const ends = await this.endOffsets(target, session.partitions, signal)
          const drainSignal = AbortSignal.any([signal, AbortSignal.timeout(this.options.drainTimeoutMs ?? 60_000)])
          const drainStopped = new Promise<'stopped'>((resolve) => {
            if (drainSignal.aborted) resolve('stopped')
            else drainSignal.addEventListener('abort', () => resolve('stopped'), { once: true })
          })
          const behind = () => [...ends].some(([p, end]) => (session.next.get(p) ?? 0) < end)
          while (behind()) {
            pending ??= settled(inner.next())
            const r = await Promise.race([pending, drainStopped])
            if (r === 'stopped') {
              if (signal.aborted) return
              throw new StreamTimeoutError(
                `stream ${stream}: ${target.topic} on ${target.bootstrap} not drained`,
                this.options.drainTimeoutMs ?? 60_000,
              )
            }
            pending = undefined
            if (r.done) return
            session.next.set(r.value.partition, r.value.offset + 1)
            // Records past the end offsets taken at the switch are left to whoever reads that topic next.
            if (r.value.offset < (ends.get(r.value.partition) ?? 0)) yield { stream, target, record: r.value }
          }
          this.switches++
        } finally {
          // return() marks the last record handed out as finished and closes the consumer, which commits.
          await inner.return?.().catch(() => {})
        }
      }
    } finally {
      resolver.off('change', onChange)
    }
  }

  /** A consumer on the target, every partition assigned from the group's committed offsets (else earliest). */
  private async open(
    target: StreamTarget,
    signal: AbortSignal,
  ): Promise<{ consumer: Consumer; partitions: number[]; next: Map<number, number> }> {
    const admin = new Admin({ bootstrap: target.bootstrap })
    const callSignal = AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs ?? 30_000)])
    try {
      const [description] = await admin.describeTopics([target.topic], { signal: callSignal })
      if (!description || description.error) throw description?.error ?? new Error(`${target.topic} not described`)
      const partitions = description.partitions.map((p) => p.partition)
      const committed = new Map<number, number>()
      for (const o of await admin.listGroupOffsets(this.options.groupId, { signal: callSignal })) {
        if (o.topic === target.topic && !o.error && o.offset !== null && o.offset >= 0)
          committed.set(o.partition, Number(o.offset))
      }
      const earliest = await admin.listOffsets(
        partitions
          .filter((p) => !committed.has(p))
          .map((partition) => ({ topic: target.topic, partition, spec: 'earliest' as const })),
        { signal: callSignal },
      )
      const next = new Map(committed)
      for (const e of earliest) if (!e.error) next.set(e.partition, Number(e.offset))
      const consumer = new Consumer({
        ...this.options.consumer,
        client: { bootstrap: target.bootstrap },
        groupId: this.options.groupId,
        resetPolicy: 'earliest',
      })
      await consumer.assign(
        partitions.map((partition) => ({ topic: target.topic, partition, offset: next.get(partition) })),
      )
      return { consumer, partitions, next }
    } finally {
      await admin.close()
    }
  }

  private async endOffsets(
    target: StreamTarget,
    partitions: number[],
    signal: AbortSignal,
  ): Promise<Map<number, number>> {
    const admin = new Admin({ bootstrap: target.bootstrap })
    try {
      const listed = await admin.listOffsets(
        partitions.map((partition) => ({ topic: target.topic, partition, spec: 'latest' as const })),
        { signal: AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs ?? 30_000)]) },
      )
      const ends = new Map<number, number>()
      for (const l of listed) {
        if (l.error) throw l.error
        ends.set(l.partition, Number(l.offset))
      }
      return ends
    } finally {
      await admin.close()
    }
  }
}
