// Consuming a logical stream: reads the stream's current target with the group's committed offsets; when the
// mapping changes, drains the old topic to the end offsets taken at the switch, commits, and continues on the new
// target from where the group committed there (or the earliest offset). With group assignment, every member drains
// what the group gives it until the whole group is committed at those ends — partitions of a member that died
// meanwhile are handed to the others — and only then do the members move on.
import { Admin } from '../client/admin/index.js'
import { Consumer, type ConsumerOptions, type ConsumerRecord, type OffsetToCommit } from '../client/consumer/index.js'
import { StreamClosedError, StreamTimeoutError } from './errors.js'
import { abortableSleep, type StreamChange, type StreamResolver, type StreamTarget, sameTarget } from './resolver.js'

/** The promise, marked handled: a read left pending when the loop stops must not surface as an unhandled rejection. */
function settled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {})
  return p
}

/** One target being read. */
interface Session {
  consumer: Consumer
  inner: AsyncIterator<ConsumerRecord>
  partitions: number[]
  /** Per partition: the offset after the last record handed out. */
  next: Map<number, number>
  group: boolean
  /** A read in flight (kept across races, so no record is lost when another event wins). */
  pending: Promise<IteratorResult<ConsumerRecord>> | undefined
  read(): Promise<IteratorResult<ConsumerRecord>>
}

function untilAborted(signal: AbortSignal): Promise<'stopped'> {
  return new Promise<'stopped'>((resolve) => {
    if (signal.aborted) resolve('stopped')
    else signal.addEventListener('abort', () => resolve('stopped'), { once: true })
  })
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
  /**
   * `group` (default): the target's partitions are shared among the group's members (subscribe), so several
   * StreamConsumers of one group split the work and take over from each other. `all`: this consumer reads every
   * partition itself (assign), committing under the group id.
   */
  assignment?: 'group' | 'all'
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
 * the new target is read from the group's committed offsets there, else from the earliest. Under `group`
 * assignment each member drains the partitions it is given and then waits — still reading, so it can take over a
 * departed member's partitions — until the group's commits reach the ends on every partition of the old topic.
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
    const stopped = untilAborted(signal)
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
        try {
          // Live reading until the mapping changes.
          for (;;) {
            const r = await Promise.race([session.read(), changedPromise, stopped])
            if (r === 'stopped') return
            if (r === 'changed') break
            session.pending = undefined
            if (r.done) return
            session.next.set(r.value.partition, r.value.offset + 1)
            yield { stream, target, record: r.value }
          }
          arm()
          // The end offsets of the old topic, listed after the grace. Reading goes on meanwhile: a record handed over
          // by the consumer is always yielded in the same turn of the event loop, never left waiting across one, so a
          // rebalance cannot take its partition away in between (its next owner would read it again).
          const listing = abortableSleep(this.options.drainGraceMs ?? 1000, signal)
            .then(() => this.endOffsets(target, session.partitions, signal))
            .then(
              (ends) => ({ kind: 'ends' as const, ends }),
              (error: unknown) => ({ kind: 'error' as const, error }),
            )
          let ends: Map<number, number> | undefined
          while (!ends) {
            const r = await Promise.race([session.read(), listing, stopped])
            if (r === 'stopped') return
            if ('kind' in r) {
              if (r.kind === 'error') {
                if (signal.aborted) return // closed during the switch: end cleanly, committing what was finished
                throw r.error
              }
              ends = r.ends
              break
            }
            session.pending = undefined
            if (r.done) return
            session.next.set(r.value.partition, r.value.offset + 1)
            yield { stream, target, record: r.value }
          }
          const drainSignal = AbortSignal.any([signal, AbortSignal.timeout(this.options.drainTimeoutMs ?? 60_000)])
          const outcome = session.group
            ? yield* this.drainGroup(target, session, ends, drainSignal)
            : yield* this.drainAll(target, session, ends, drainSignal)
          if (outcome === 'ended' || signal.aborted) return
          if (outcome === 'stopped')
            throw new StreamTimeoutError(
              `stream ${stream}: ${target.topic} on ${target.bootstrap} not drained`,
              this.options.drainTimeoutMs ?? 60_000,
            )
          this.switches++
        } finally {
          // return() marks the last record handed out as finished and closes the consumer, which commits.
          await session.inner.return?.().catch(() => {})
        }
      }
    } finally {
      resolver.off('change', onChange)
    }
  }

  /** Reads every partition (assign) up to the ends. */
  private async *drainAll(
    target: StreamTarget,
    session: Session,
    ends: Map<number, number>,
    drainSignal: AbortSignal,
  ): AsyncGenerator<StreamRecord, 'drained' | 'stopped' | 'ended'> {
    const drainStopped = untilAborted(drainSignal)
    const behind = () => [...ends].some(([p, end]) => (session.next.get(p) ?? 0) < end)
    while (behind()) {
      const r = await Promise.race([session.read(), drainStopped])
      if (r === 'stopped') return 'stopped'
      session.pending = undefined
      if (r.done) return 'ended'
      session.next.set(r.value.partition, r.value.offset + 1)
      // Records past the end offsets taken at the switch are left to whoever reads that topic next.
      if (r.value.offset < (ends.get(r.value.partition) ?? 0))
        yield { stream: this.options.stream, target, record: r.value }
    }
    return 'drained'
  }

  /**
   * Reads what the group gives this member up to the ends, committing each partition at its end once reached, until
   * the group's commits are at the ends on every partition — whoever read them. A partition whose last records below
   * the end are control records (transaction markers) never delivers its end: it counts as reached once the reader's
   * position has stood at or past the end, with nothing new from it, for two checks in a row.
   *
   * The checks (a commit, a look at the group's offsets) run beside the reading, never in its way: a record the
   * consumer hands over is yielded at once, in the same turn of the event loop, so a rebalance cannot take its
   * partition away between the two (which would have the record read again by the partition's next owner).
   */
  private async *drainGroup(
    target: StreamTarget,
    session: Session,
    ends: Map<number, number>,
    drainSignal: AbortSignal,
  ): AsyncGenerator<StreamRecord, 'drained' | 'stopped' | 'ended'> {
    const drainStopped = untilAborted(drainSignal)
    const admin = new Admin({ bootstrap: target.bootstrap })
    /**
     * Per partition: the offset after the last record the caller has finished with (or that was not handed out).
     * Everything handed out before the drain is finished: the caller asked for more.
     */
    const finished = new Map(session.next)
    const state = { committedAtEnd: new Set<number>(), positionsSeen: new Map<number, number>() }
    let check: Promise<'drained' | 'again'> | undefined
    try {
      for (;;) {
        check ??= abortableSleep(250, drainSignal)
          .then(() => this.checkDrained(target, session, ends, finished, state, admin, drainSignal))
          .catch(() => 'again' as const)
        const r = await Promise.race([session.read(), drainStopped, check])
        if (r === 'stopped') return 'stopped'
        if (r === 'drained') return 'drained'
        if (r === 'again') {
          check = undefined
          continue
        }
        session.pending = undefined
        if (r.done) return 'ended'
        const { partition, offset } = r.value
        session.next.set(partition, offset + 1)
        if (offset < (ends.get(partition) ?? 0)) yield { stream: this.options.stream, target, record: r.value }
        // The caller asked for more: it is finished with that record.
        finished.set(partition, offset + 1)
      }
    } finally {
      await check?.catch(() => {})
      await admin.close()
    }
  }

  /** One check of a group drain: commits the partitions this member finished at their ends; is the group done? */
  private async checkDrained(
    target: StreamTarget,
    session: Session,
    ends: Map<number, number>,
    finished: Map<number, number>,
    state: { committedAtEnd: Set<number>; positionsSeen: Map<number, number> },
    admin: Admin,
    signal: AbortSignal,
  ): Promise<'drained' | 'again'> {
    const reached: OffsetToCommit[] = []
    for (const tp of session.consumer.assignment()) {
      const end = ends.get(tp.partition)
      if (end === undefined || state.committedAtEnd.has(tp.partition)) continue
      const done = finished.get(tp.partition) ?? -1
      let position = -1
      try {
        position = session.consumer.position(tp)
      } catch {
        continue // revoked meanwhile
      }
      // Past the end for two checks with nothing new finished: only control records (or nothing) were left.
      const stillAtEnd = position >= end && state.positionsSeen.get(tp.partition) === done
      state.positionsSeen.set(tp.partition, position >= end ? done : Number.NaN)
      if (done >= end || stillAtEnd) reached.push({ topic: target.topic, partition: tp.partition, offset: end })
    }
    if (reached.length > 0) {
      // A rebalance under way refuses it: the next check commits again.
      await session.consumer.commit(reached, { signal }).then(
        () => {
          for (const o of reached) state.committedAtEnd.add(o.partition)
        },
        () => {},
      )
    }
    const committed = await admin.listGroupOffsets(this.options.groupId, { topics: [target.topic], signal })
    const at = new Map(committed.map((o) => [o.partition, o.error ? -1 : Number(o.offset)]))
    if ([...ends].every(([p, end]) => (at.get(p) ?? -1) >= end)) return 'drained'
    // A partition committed at its end and lost since may come back: it is checked anew then.
    const mine = new Set(session.consumer.assignment().map((tp) => tp.partition))
    for (const p of state.committedAtEnd) if (!mine.has(p)) state.committedAtEnd.delete(p)
    return 'again'
  }

  /** A consumer on the target: subscribed in the group, or every partition assigned from the group's commits. */
  private async open(target: StreamTarget, signal: AbortSignal): Promise<Session> {
    const admin = new Admin({ bootstrap: target.bootstrap })
    const callSignal = AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs ?? 30_000)])
    try {
      const [description] = await admin.describeTopics([target.topic], { signal: callSignal })
      if (!description || description.error) throw description?.error ?? new Error(`${target.topic} not described`)
      const partitions = description.partitions.map((p) => p.partition)
      const consumer = new Consumer({
        ...this.options.consumer,
        client: { bootstrap: target.bootstrap },
        groupId: this.options.groupId,
        resetPolicy: 'earliest',
      })
      const group = (this.options.assignment ?? 'group') === 'group'
      const next = new Map<number, number>()
      if (group) await consumer.subscribe([target.topic], { signal })
      else {
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
        for (const [p, o] of committed) next.set(p, o)
        for (const e of earliest) if (!e.error) next.set(e.partition, Number(e.offset))
        await consumer.assign(
          partitions.map((partition) => ({ topic: target.topic, partition, offset: next.get(partition) })),
        )
      }
      const inner = consumer[Symbol.asyncIterator]()
      const session: Session = {
        consumer,
        inner,
        partitions,
        next,
        group,
        pending: undefined,
        read: () => {
          session.pending ??= settled(inner.next())
          return session.pending
        },
      }
      return session
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
