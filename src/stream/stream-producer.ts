// Producing to a logical stream: every send resolves the stream's current target, so a mapping change moves new
// sends to the new cluster/topic at once, while the old producer finishes what it already accepted and closes.

import { ConfigError } from '../client/errors.js'
import { type Message, Producer, type ProducerOptions, type RecordMetadata } from '../client/producer/index.js'
import { StreamClosedError, StreamNotFoundError } from './errors.js'
import { type LaneName, streamLanes } from './lanes.js'
import type { StreamChange, StreamLocation, StreamResolver, StreamTarget } from './resolver.js'

/** Options of a {@link StreamProducer}. */
export interface StreamProducerOptions {
  resolver: StreamResolver
  /** Options of every underlying Producer (one per cluster); `bootstrap` comes from the targets. */
  producer?: Omit<ProducerOptions, 'bootstrap'>
  /** Bound of flushing and closing a producer the streams moved away from. Default 30 000. */
  closeTimeoutMs?: number
}

/** What a send to a stream was acknowledged with: the primary's metadata and, with a mirror, the mirror's. */
export interface StreamSendResult {
  target: StreamTarget
  primary: RecordMetadata[]
  mirror?: RecordMetadata[]
}

interface Pool {
  producer: Producer
  /** Sends in flight on it. */
  inflight: Set<Promise<unknown>>
}

/**
 * Produces to streams by name through a {@link StreamResolver}.
 *
 * A mapping change takes effect for the next send: sends already handed to the old cluster's producer complete
 * there (their promises resolve or reject as usual), then that producer is flushed and closed once no stream uses
 * its cluster any more. A record is written where its send resolved it — never to both — so the switch neither loses
 * an acknowledged record nor duplicates one.
 *
 * With a `mirror` in the target, every send is written to the primary and to the mirror at once, and the send
 * resolves only when both acknowledged; if either fails it rejects (the records may then be on one side only: retry
 * the send, and expect duplicates on the side that had them). Records on the two clusters have their own offsets.
 */
export class StreamProducer {
  private readonly resolver: StreamResolver
  private readonly options: StreamProducerOptions
  /** A producer per cluster bootstrap. */
  private readonly pools = new Map<string, Pool>()
  private readonly retiring = new Set<Promise<void>>()
  private readonly onChange = (c: StreamChange) => this.retireUnused(c)
  private closed = false

  constructor(options: StreamProducerOptions) {
    this.resolver = options.resolver
    this.options = options
    this.resolver.on('change', this.onChange)
  }

  /**
   * Sends messages to the stream's current target (and mirror); resolves once acknowledged by each. `lane` picks
   * the target topic's lane (default `realtime`: the topic itself; `batch`: `<topic>.batch`; `dlq`: `<topic>.dlq`).
   */
  async send(
    stream: string,
    messages: readonly Message[],
    options: { signal?: AbortSignal; lane?: LaneName } = {},
  ): Promise<StreamSendResult> {
    if (this.closed) throw new StreamClosedError('the stream producer')
    const target = this.resolver.resolve(stream)
    if (!target) throw new StreamNotFoundError(stream)
    const lane = options.lane ?? 'realtime'
    if (lane !== 'realtime' && lane !== 'batch' && lane !== 'dlq')
      throw new ConfigError(`unknown lane ${String(lane)}: realtime, batch or dlq`)
    const inLane = (l: StreamLocation): StreamLocation =>
      lane === 'realtime' ? l : { ...l, topic: streamLanes(l.topic)[lane] }
    const primary = this.sendTo(inLane(target), messages, options.signal)
    const mirror = target.mirror ? this.sendTo(inLane(target.mirror), messages, options.signal) : undefined
    if (!mirror) return { target, primary: await primary }
    const [p, m] = await Promise.all([primary, mirror])
    return { target, primary: p, mirror: m }
  }

  /** Waits until everything sent so far is acknowledged (or failed), on every cluster. */
  async flush(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.producer.flush()))
    await Promise.allSettled([...this.retiring])
  }

  /** Flushes and closes every producer. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.resolver.off('change', this.onChange)
    const timeoutMs = this.options.closeTimeoutMs ?? 30_000
    await Promise.allSettled([...this.retiring])
    await Promise.allSettled([...this.pools.values()].map((p) => this.retire(p, timeoutMs)))
    this.pools.clear()
  }

  private sendTo(
    location: StreamLocation,
    messages: readonly Message[],
    signal?: AbortSignal,
  ): Promise<RecordMetadata[]> {
    let pool = this.pools.get(location.bootstrap)
    if (!pool) {
      pool = {
        producer: new Producer({ ...this.options.producer, bootstrap: location.bootstrap }),
        inflight: new Set(),
      }
      this.pools.set(location.bootstrap, pool)
    }
    const p = pool.producer.send({ topic: location.topic, messages }, { signal })
    const set = pool.inflight
    set.add(p)
    const forget = () => set.delete(p)
    p.then(forget, forget)
    return p
  }

  /** Closes the producers of clusters no stream of the resolver points at any more. */
  private retireUnused(_change: StreamChange): void {
    const used = new Set<string>()
    for (const t of this.resolver.streams().values()) {
      used.add(t.bootstrap)
      if (t.mirror) used.add(t.mirror.bootstrap)
    }
    for (const [bootstrap, pool] of this.pools) {
      if (used.has(bootstrap)) continue
      this.pools.delete(bootstrap)
      const done = this.retire(pool, this.options.closeTimeoutMs ?? 30_000)
      this.retiring.add(done)
      done.finally(() => this.retiring.delete(done))
    }
  }

  /** Lets the sends in flight finish, flushes, closes. */
  private async retire(pool: Pool, timeoutMs: number): Promise<void> {
    await Promise.allSettled([...pool.inflight])
    await pool.producer.flush().catch(() => {})
    await pool.producer.close({ timeoutMs }).catch(() => {})
  }
}
