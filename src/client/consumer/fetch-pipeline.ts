import { EventEmitter } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { DecompressionBudget, type DecompressionBudgetOptions } from '../../compression/budget.js'
import { ListOffsets } from '../../protocol/apis/list-offsets.js'
import { errorByCode } from '../../protocol/error-codes.js'
import { KafkaError } from '../../protocol/kafka-error.js'
import type { Cluster } from '../cluster/cluster.js'
import type { Connection } from '../connection.js'
import { AbortedError, ConfigError } from '../errors.js'
import { LogTruncationError, OffsetOutOfRangeError } from './errors.js'
import { FetchSource, type SourceHost } from './fetch-source.js'
import { type DeliveredChunk, PartitionCursor } from './partition-cursor.js'
import {
  type BadBatchPolicy,
  type ResetPolicy,
  type SkippedBatch,
  type StartOffset,
  type TopicPartition,
  tpKey,
} from './types.js'

/** How a fetch pipeline reads. Defaults follow the Java consumer's. */
export interface FetchOptions {
  /** `read_committed` hides aborted transactions and stops at the last stable offset. Default read_uncommitted. */
  isolation?: 'read_uncommitted' | 'read_committed'
  /** How long the broker may hold a fetch waiting for `minBytes`. Default 500. */
  maxWaitMs?: number
  /** Default 1. */
  minBytes?: number
  /** Per fetch response. Default 50 MiB. */
  maxBytes?: number
  /** Per partition per fetch. Default 1 MiB (a larger first batch is still returned whole, KIP-74). */
  partitionMaxBytes?: number
  /**
   * Bytes buffered ahead of the application: fetched-but-unread data per partition is held to its share of this,
   * and decompressed bytes are bounded by it too (see DecompressionBudget). Default 64 MiB.
   */
  bufferBytes?: number
  /** Limits for decompression; or pass a shared `budget`. */
  decompression?: Omit<DecompressionBudgetOptions, 'bufferBytes'>
  budget?: DecompressionBudget
  /** When the position is out of range. Default 'latest' (Kafka's auto.offset.reset). */
  resetPolicy?: ResetPolicy
  /**
   * A batch that cannot be decoded (corrupt, or over the limits): fail (default: thrown once, its partition stops
   * there, paused) or skip it and emit 'skipped'. See BadBatchPolicy.
   */
  badBatchPolicy?: BadBatchPolicy
  /** The client's rack, for follower fetching (KIP-392). */
  rackId?: string
  /** Names this reader's fetch connections (independent readers must not share them). Default a unique name. */
  name?: string
}

let pipelines = 0

/**
 * Reads a set of partitions: one fetch source (loop + session) per leader broker, records decoded lazily as the
 * application pulls them, prefetch bounded in bytes. Several pipelines may read the same partitions at once, each
 * with its own positions, connections and fetch sessions (a backfill reader next to a live one).
 *
 * Events: 'skipped' (SkippedBatch) under the skip policy; 'truncated' (LogTruncationError) when the leader's log
 * diverged from what was fetched; 'reset' ({ topic, partition, offset }) when the reset policy moved a position.
 */
export class FetchPipeline extends EventEmitter implements SourceHost {
  readonly maxWaitMs: number
  readonly minBytes: number
  readonly maxBytes: number
  readonly partitionMaxBytes: number
  readonly isolationLevel: 0 | 1
  readonly rackId: string
  readonly requestTimeoutMs: number
  readonly budget: DecompressionBudget
  private readonly bufferBytes: number
  private readonly resetPolicy: ResetPolicy
  private readonly badBatchPolicy: BadBatchPolicy
  private readonly kind: `fetch:${string}`
  private readonly cursors = new Map<string, PartitionCursor>()
  private readonly sources = new Map<number, FetchSource>()
  private readonly located = new Map<PartitionCursor, FetchSource>()
  private readonly ready: PartitionCursor[] = []
  private readonly inReady = new Set<PartitionCursor>()
  private readonly failures = new Map<PartitionCursor, Error>()
  private dataWaiter: (() => void) | undefined
  private closed = false

  constructor(
    private readonly cluster: Cluster,
    options: FetchOptions = {},
  ) {
    super()
    const pos = (name: string, v: number | undefined, def: number) => {
      if (v === undefined) return def
      if (!Number.isFinite(v) || v < 0) throw new ConfigError(`${name} must be a non-negative number, got ${v}`)
      return v
    }
    this.maxWaitMs = pos('maxWaitMs', options.maxWaitMs, 500)
    this.minBytes = pos('minBytes', options.minBytes, 1)
    this.maxBytes = pos('maxBytes', options.maxBytes, 50 * 1024 * 1024)
    this.partitionMaxBytes = pos('partitionMaxBytes', options.partitionMaxBytes, 1024 * 1024)
    this.bufferBytes = pos('bufferBytes', options.bufferBytes, 64 * 1024 * 1024)
    this.isolationLevel = options.isolation === 'read_committed' ? 1 : 0
    this.rackId = options.rackId ?? ''
    this.requestTimeoutMs = cluster.options.requestTimeoutMs
    this.resetPolicy = options.resetPolicy ?? 'latest'
    this.badBatchPolicy = options.badBatchPolicy ?? 'fail'
    this.budget = options.budget ?? new DecompressionBudget({ ...options.decompression, bufferBytes: this.bufferBytes })
    this.kind = `fetch:${options.name ?? `reader-${++pipelines}`}`
  }

  /** Starts reading partitions from the given positions (default: the reset policy's end). */
  async assign(partitions: ReadonlyArray<TopicPartition & { offset?: StartOffset }>): Promise<void> {
    for (const tp of partitions) {
      const key = tpKey(tp.topic, tp.partition)
      let cursor = this.cursors.get(key)
      if (!cursor) {
        cursor = new PartitionCursor(tp.topic, tp.partition, '')
        this.cursors.set(key, cursor)
      }
      this.setStart(cursor, tp.offset ?? (this.resetPolicy === 'earliest' ? 'earliest' : 'latest'))
    }
    await Promise.all(partitions.map((tp) => this.route(this.cursors.get(tpKey(tp.topic, tp.partition))!)))
  }

  /** Stops reading partitions and drops what was fetched for them. */
  unassign(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) {
      const cursor = this.cursors.get(tpKey(tp.topic, tp.partition))
      if (!cursor) continue
      this.cursors.delete(tpKey(tp.topic, tp.partition))
      this.located.get(cursor)?.remove(cursor)
      this.located.delete(cursor)
      cursor.clear()
      this.failures.delete(cursor)
    }
  }

  assignment(): TopicPartition[] {
    return [...this.cursors.values()].map((c) => ({ topic: c.topic, partition: c.partition }))
  }

  /** Moves a partition's position; records fetched for the old one are dropped. */
  seek(tp: TopicPartition, offset: StartOffset): void {
    const cursor = this.cursor(tp)
    this.setStart(cursor, offset)
    this.located.get(cursor)?.wake()
  }

  /** The next offset to deliver, or -1 while unknown. */
  position(tp: TopicPartition): number {
    return this.cursor(tp).position
  }

  /** Lag as last reported by the leader: high watermark (or last stable offset) minus position. */
  lag(tp: TopicPartition): number {
    const c = this.cursor(tp)
    const end = this.isolationLevel === 1 ? c.lastStableOffset : c.highWatermark
    return end < 0 || c.position < 0 ? -1 : Math.max(0, end - c.position)
  }

  pause(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.cursor(tp).paused = true
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) {
      const c = this.cursor(tp)
      c.paused = false
      if (c.hasQueued) this.markReady(c)
      this.located.get(c)?.wake()
    }
    this.signalData()
  }

  /**
   * The next decoded records of any partition (partitions take turns), waiting for data up to `timeoutMs`
   * (resolves null on timeout). Throws what a partition failed with (OffsetOutOfRangeError under reset 'none',
   * LogTruncationError, a batch error under the 'fail' policy) — once, for that partition.
   */
  async next(
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<(DeliveredChunk & { topic: string; partition: number }) | null> {
    const deadline = options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeoutMs
    for (;;) {
      if (this.closed) return null
      if (this.failures.size > 0) {
        const [cursor, err] = this.failures.entries().next().value as [PartitionCursor, Error]
        this.failures.delete(cursor)
        throw err
      }
      const cursor = this.ready.shift()
      if (cursor) {
        this.inReady.delete(cursor)
        if (cursor.paused || !this.cursors.has(tpKey(cursor.topic, cursor.partition))) continue
        const chunk = await cursor.nextChunk(this.budget, this.badBatchPolicy, (s) => this.skipped(s))
        if (cursor.hasQueued) this.markReady(cursor)
        // Reading freed room in this partition's share: let its source fetch more.
        this.located.get(cursor)?.wake()
        if (chunk) return { ...chunk, topic: cursor.topic, partition: cursor.partition }
        continue
      }
      const left = deadline - Date.now()
      if (left <= 0) return null
      await this.waitForData(left, options.signal)
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const sources = [...this.sources.values()]
    await Promise.all(sources.map((s) => s.stop()))
    await Promise.all(sources.map((s) => s.closeSession()))
    for (const c of this.cursors.values()) c.clear()
    this.signalData()
  }

  // ---- SourceHost ----

  shareBytes(): number {
    return Math.max(this.partitionMaxBytes, this.bufferBytes / Math.max(1, this.cursors.size))
  }

  connection(nodeId: number, signal: AbortSignal): Promise<Connection> {
    return this.cluster.connectionTo(nodeId, this.kind, signal)
  }

  async resolvePositions(nodeId: number, cursors: PartitionCursor[], signal: AbortSignal): Promise<void> {
    const conn = await this.connection(nodeId, signal)
    const byTopic = new Map<string, PartitionCursor[]>()
    for (const c of cursors) {
      const list = byTopic.get(c.topic) ?? []
      list.push(c)
      byTopic.set(c.topic, list)
    }
    const specs = new Map(cursors.map((c) => [c, c.pendingSpec]))
    const res = await conn.request(
      ListOffsets,
      {
        replicaId: -1,
        isolationLevel: this.isolationLevel,
        topics: [...byTopic].map(([name, list]) => ({
          name,
          partitions: list.map((c) => ({
            partitionIndex: c.partition,
            currentLeaderEpoch: c.leaderEpoch,
            timestamp: BigInt(timestampOf(specs.get(c)!)),
          })),
        })),
      },
      { signal },
    )
    for (const t of res.topics) {
      for (const p of t.partitions) {
        const cursor = byTopic.get(t.name)?.find((c) => c.partition === p.partitionIndex)
        if (!cursor || cursor.pendingSpec !== specs.get(cursor)) continue
        if (p.errorCode !== 0) {
          this.reroute(cursor, p.errorCode)
          continue
        }
        let offset = Number(p.offset)
        // A timestamp after every record matches nothing: start at the end, as the Java consumer resets.
        if (offset < 0) {
          cursor.pendingSpec = 'latest'
          continue
        }
        if (typeof cursor.pendingSpec === 'number') offset = cursor.pendingSpec
        cursor.pendingSpec = undefined
        cursor.fetchOffset = offset
        cursor.position = offset
      }
    }
  }

  delivered(cursor: PartitionCursor): void {
    if (!cursor.paused) this.markReady(cursor)
    this.signalData()
  }

  reroute(cursor: PartitionCursor, errorCode: number): void {
    const info = errorByCode(errorCode)
    this.located.get(cursor)?.remove(cursor)
    this.located.delete(cursor)
    this.cluster.metadata.invalidate(cursor.topic)
    if (!info.retriable && !info.refreshMetadata) {
      this.failures.set(
        cursor,
        KafkaError.fromCode(errorCode, { api: 'Fetch', topic: cursor.topic, partition: cursor.partition }),
      )
      this.signalData()
    }
    void this.routeLater(cursor)
  }

  outOfRange(cursor: PartitionCursor): void {
    if (this.resetPolicy === 'none') {
      this.failures.set(cursor, new OffsetOutOfRangeError(cursor.topic, cursor.partition, cursor.fetchOffset))
      cursor.paused = true
      this.signalData()
      return
    }
    const from = cursor.fetchOffset
    this.setStart(cursor, this.resetPolicy)
    this.emit('reset', { topic: cursor.topic, partition: cursor.partition, from, policy: this.resetPolicy })
  }

  diverged(cursor: PartitionCursor, endOffset: number): void {
    const position = Math.max(cursor.position, cursor.fetchOffset)
    const err = new LogTruncationError(cursor.topic, cursor.partition, endOffset, position)
    if (this.resetPolicy === 'none') {
      this.failures.set(cursor, err)
      this.signalData()
    } else this.emit('truncated', err)
    this.setStart(cursor, Math.min(endOffset, position))
  }

  // ---- internals ----

  private cursor(tp: TopicPartition): PartitionCursor {
    const c = this.cursors.get(tpKey(tp.topic, tp.partition))
    if (!c) throw new ConfigError(`${tp.topic}[${tp.partition}] is not assigned to this reader`)
    return c
  }

  private setStart(cursor: PartitionCursor, spec: StartOffset): void {
    if (typeof spec === 'number' && (!Number.isInteger(spec) || spec < 0)) {
      throw new ConfigError(`offset must be a non-negative integer, 'earliest', 'latest' or { timestamp }, got ${spec}`)
    }
    cursor.generation++
    cursor.clear()
    cursor.lastFetchedEpoch = -1
    if (typeof spec === 'number') {
      // An explicit offset needs no lookup; an out-of-range one is caught by the fetch and the reset policy.
      cursor.pendingSpec = undefined
      cursor.fetchOffset = spec
      cursor.position = spec
    } else {
      cursor.pendingSpec = spec
      cursor.fetchOffset = -1
      cursor.position = -1
    }
  }

  private async route(cursor: PartitionCursor): Promise<void> {
    if (this.closed || !this.cursors.has(tpKey(cursor.topic, cursor.partition))) return
    const info = await this.cluster.metadata.topic(cursor.topic)
    const p = info.partitions[cursor.partition]
    if (!p) {
      throw KafkaError.fromCode(3, { api: 'Metadata', topic: cursor.topic, partition: cursor.partition })
    }
    cursor.topicId = info.topicId
    if (p.leader < 0) {
      void this.routeLater(cursor)
      return
    }
    cursor.leaderEpoch = p.leaderEpoch
    let source = this.sources.get(p.leader)
    if (!source) {
      source = new FetchSource(p.leader, this)
      this.sources.set(p.leader, source)
      if (!this.closed) source.start()
    }
    this.located.set(cursor, source)
    source.add(cursor)
  }

  /** Routes again after a metadata refresh, retrying with backoff while the partition has no reachable leader. */
  private async routeLater(cursor: PartitionCursor): Promise<void> {
    for (let attempt = 0; !this.closed && !this.located.has(cursor); attempt++) {
      await sleep(Math.min(1000, 50 * 2 ** Math.min(attempt, 5)))
      if (!this.cursors.has(tpKey(cursor.topic, cursor.partition))) return
      try {
        await this.cluster.metadata.refresh([cursor.topic])
        await this.route(cursor)
      } catch {}
    }
  }

  private markReady(cursor: PartitionCursor): void {
    if (this.inReady.has(cursor)) return
    this.inReady.add(cursor)
    this.ready.push(cursor)
  }

  private signalData(): void {
    const w = this.dataWaiter
    this.dataWaiter = undefined
    w?.()
  }

  private waitForData(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new AbortedError('waiting for records', signal.reason))
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      const onAbort = () => {
        clearTimeout(timer)
        this.dataWaiter = undefined
        reject(new AbortedError('waiting for records', signal?.reason))
      }
      const timer = setTimeout(done, Math.min(ms, 2 ** 31 - 1))
      signal?.addEventListener('abort', onAbort, { once: true })
      const previous = this.dataWaiter
      this.dataWaiter = () => {
        previous?.()
        done()
      }
    })
  }

  private skipped(s: SkippedBatch): void {
    this.emit('skipped', s)
  }
}

function timestampOf(spec: StartOffset): number {
  if (spec === 'earliest') return -2
  if (spec === 'latest') return -1
  if (typeof spec === 'number') return -1
  return spec.timestamp
}
