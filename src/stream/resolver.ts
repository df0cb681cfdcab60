// Logical stream names → where the stream lives now (cluster bootstrap, topic, optional mirror). Producers and
// consumers of the streaming layer address streams by name and follow this mapping while it changes, so moving a
// stream to another cluster is one update here (or one record on the control topic), not a restart.
import { EventEmitter } from 'node:events'
import { Admin } from '../client/admin/index.js'
import { Consumer, type ConsumerRecord } from '../client/consumer/index.js'
import { AbortedError } from '../client/errors.js'
import type { Producer } from '../client/producer/index.js'
import { StreamResolverError, StreamTimeoutError } from './errors.js'

/** A cluster and a topic on it. */
export interface StreamLocation {
  /** Bootstrap servers of the cluster, `host:port[,host:port...]`. */
  bootstrap: string
  topic: string
}

/** Where a stream lives: its primary location and, for critical streams, a mirror that receives every write too. */
export interface StreamTarget extends StreamLocation {
  /** Duplicate writes here (see StreamProducer): a send resolves only once both the primary and the mirror acked. */
  mirror?: StreamLocation
}

/** Two targets name the same places. */
export function sameTarget(a: StreamTarget | undefined, b: StreamTarget | undefined): boolean {
  if (!a || !b) return a === b
  const m = (x?: StreamLocation, y?: StreamLocation) =>
    x === undefined || y === undefined ? x === y : x.bootstrap === y.bootstrap && x.topic === y.topic
  return m(a, b) && m(a.mirror, b.mirror)
}

/** A mapping change: the stream's new target (undefined: removed) and the one it replaced. */
export interface StreamChange {
  stream: string
  target: StreamTarget | undefined
  previous: StreamTarget | undefined
}

/** Options of {@link StreamResolver.watch}. */
export interface ControlTopicOptions {
  /** Bootstrap servers of the control cluster. */
  bootstrap: string
  /** The compacted control topic: key = stream name, value = JSON StreamTarget, tombstone = removed. */
  topic: string
  /** Bound of reading the topic up to its end at start. Default 30 000. */
  timeoutMs?: number
  signal?: AbortSignal
}

/** Waits `ms`, or rejects when the signal aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError('a wait'))
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(new AbortedError('a wait'))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** Reads a control-topic value (JSON StreamTarget) for `stream`; StreamResolverError when it is not one. */
export function parseStreamTarget(stream: string, raw: string): StreamTarget {
  let v: unknown
  try {
    v = JSON.parse(raw)
  } catch (err) {
    throw new StreamResolverError(stream, `its value is not JSON (${(err as Error).message})`)
  }
  const loc = (x: unknown): x is StreamLocation =>
    typeof x === 'object' &&
    x !== null &&
    typeof (x as StreamLocation).bootstrap === 'string' &&
    typeof (x as StreamLocation).topic === 'string'
  if (!loc(v)) throw new StreamResolverError(stream, 'its value needs string `bootstrap` and `topic`')
  const mirror = (v as StreamTarget).mirror
  if (mirror !== undefined && !loc(mirror))
    throw new StreamResolverError(stream, '`mirror` needs `bootstrap` and `topic`')
  return {
    bootstrap: v.bootstrap,
    topic: v.topic,
    ...(mirror ? { mirror: { bootstrap: mirror.bootstrap, topic: mirror.topic } } : {}),
  }
}

/**
 * Maps stream names to targets. Built from a static map ({@link StreamResolver.fromMap}, changed at runtime with
 * {@link update}) or from a compacted control topic that it keeps following ({@link StreamResolver.watch}).
 *
 * Events: `'change'` ({@link StreamChange}) whenever a stream's target changes; `'error'` (StreamResolverError) for
 * a control record that cannot be read (it is ignored; only emitted when listened to).
 */
export class StreamResolver extends EventEmitter {
  private readonly targets = new Map<string, StreamTarget>()
  private consumer: Consumer | undefined
  private loop: Promise<void> | undefined
  private closed = false

  /** A resolver over a static map. */
  static fromMap(map: Readonly<Record<string, StreamTarget>> | ReadonlyMap<string, StreamTarget>): StreamResolver {
    const r = new StreamResolver()
    const entries = map instanceof Map ? [...map.entries()] : Object.entries(map)
    for (const [name, target] of entries) r.targets.set(name, { ...target })
    return r
  }

  /**
   * A resolver that follows a compacted control topic: it reads every partition from the earliest offset, returns
   * once it has read up to the end offsets it found at start, and keeps following (emitting 'change').
   */
  static async watch(options: ControlTopicOptions): Promise<StreamResolver> {
    const r = new StreamResolver()
    try {
      await r.follow(options)
    } catch (err) {
      await r.close()
      throw err
    }
    return r
  }

  /** The stream's current target, or undefined when it has none. */
  resolve(stream: string): StreamTarget | undefined {
    return this.targets.get(stream)
  }

  /** Every stream and its target. */
  streams(): Map<string, StreamTarget> {
    return new Map(this.targets)
  }

  /** Sets (or, with null, removes) a stream's target, emitting 'change' when it differs. */
  update(stream: string, target: StreamTarget | null): void {
    const previous = this.targets.get(stream)
    const next = target === null ? undefined : { ...target }
    if (sameTarget(previous, next)) return
    if (next) this.targets.set(stream, next)
    else this.targets.delete(stream)
    this.emit('change', { stream, target: next, previous } satisfies StreamChange)
  }

  /** Resolves once `predicate` holds for the stream's target; StreamTimeoutError after `timeoutMs` (default 30 000). */
  async waitFor(
    stream: string,
    predicate: (target: StreamTarget | undefined) => boolean,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<StreamTarget | undefined> {
    if (predicate(this.resolve(stream))) return this.resolve(stream)
    const timeoutMs = options.timeoutMs ?? 30_000
    return new Promise((resolve, reject) => {
      const done = (fn: () => void) => {
        clearTimeout(timer)
        this.off('change', onChange)
        options.signal?.removeEventListener('abort', onAbort)
        fn()
      }
      const onChange = (c: StreamChange) => {
        if (c.stream === stream && predicate(c.target)) done(() => resolve(c.target))
      }
      const onAbort = () => done(() => reject(new AbortedError(`waiting for stream ${stream}`)))
      const timer = setTimeout(
        () =>
          done(() => reject(new StreamTimeoutError(`stream ${stream} did not reach the expected target`, timeoutMs))),
        timeoutMs,
      )
      this.on('change', onChange)
      if (options.signal?.aborted) onAbort()
      else options.signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Stops following the control topic. Idempotent. */
  async close(): Promise<void> {
    this.closed = true
    await this.consumer?.close({ timeoutMs: 5000 }).catch(() => {})
    await this.loop?.catch(() => {})
  }

  private async follow(options: ControlTopicOptions): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 30_000
    const signal = options.signal
      ? AbortSignal.any([options.signal, AbortSignal.timeout(timeoutMs)])
      : AbortSignal.timeout(timeoutMs)
    const admin = new Admin({ bootstrap: options.bootstrap })
    let ends: Map<number, number>
    try {
      const [description] = await admin.describeTopics([options.topic], { signal })
      if (!description || description.error)
        throw new StreamResolverError(
          options.topic,
          `the control topic cannot be described: ${description?.error?.message}`,
        )
      const listed = await admin.listOffsets(
        description.partitions.map((p) => ({ topic: options.topic, partition: p.partition, spec: 'latest' as const })),
        { signal },
      )
      ends = new Map()
      for (const l of listed) {
        if (l.error) throw new StreamResolverError(options.topic, `end offsets unknown: ${l.error.message}`)
        ends.set(l.partition, Number(l.offset))
      }
    } finally {
      await admin.close()
    }
    const consumer = new Consumer({ client: { bootstrap: options.bootstrap }, resetPolicy: 'earliest', maxWaitMs: 200 })
    this.consumer = consumer
    await consumer.assign(
      [...ends.keys()].map((partition) => ({ topic: options.topic, partition, offset: 'earliest' })),
    )
    const pending = new Set([...ends].filter(([, end]) => end > 0).map(([p]) => p))
    let caughtUp!: () => void
    const ready = new Promise<void>((resolve) => {
      caughtUp = resolve
    })
    if (pending.size === 0) caughtUp()
    this.loop = (async () => {
      try {
        for await (const record of consumer) {
          if (this.closed) break
          this.apply(record)
          if (pending.has(record.partition) && record.offset + 1 >= ends.get(record.partition)!) {
            pending.delete(record.partition)
            if (pending.size === 0) caughtUp()
          }
        }
      } catch (err) {
        // After start, a reader failure is reported rather than thrown: the last known mapping stays in use.
        if (!this.closed && this.listenerCount('error') > 0) this.emit('error', err)
        throw err
      }
    })()
    this.loop.catch(() => {})
    let onAbort: (() => void) | undefined
    const stoppedEarly = new Promise<never>((_, reject) => {
      this.loop!.then(
        () =>
          reject(new StreamResolverError(options.topic, 'the control topic reader stopped before reaching the end')),
        reject,
      )
      onAbort = () =>
        reject(
          options.signal?.aborted
            ? new AbortedError('watching the control topic')
            : new StreamTimeoutError(`control topic ${options.topic} not read to its end`, timeoutMs),
        )
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort, { once: true })
    })
    stoppedEarly.catch(() => {})
    try {
      await Promise.race([ready, stoppedEarly])
    } finally {
      signal.removeEventListener('abort', onAbort!)
    }
  }

  private apply(record: ConsumerRecord): void {
    const stream = record.key?.toString()
    if (!stream) return
    if (record.value === null) {
      this.update(stream, null)
      return
    }
    try {
      this.update(stream, parseStreamTarget(stream, record.value.toString()))
    } catch (err) {
      if (this.listenerCount('error') > 0) this.emit('error', err)
    }
  }
}

/** Writes a stream's target (null: a tombstone, removing it) to a control topic; resolves when acknowledged. */
export async function publishStreamTarget(
  producer: Producer,
  controlTopic: string,
  stream: string,
  target: StreamTarget | null,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  await producer.send(
    { topic: controlTopic, messages: [{ key: stream, value: target === null ? null : JSON.stringify(target) }] },
    { signal: options.signal },
  )
}
