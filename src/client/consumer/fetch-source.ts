import { setTimeout as sleep } from 'node:timers/promises'
import { Fetch, type FetchPartitionData } from '../../protocol/apis/fetch.js'
import { ErrorCode, errorByCode } from '../../protocol/error-codes.js'
import { RecordBatch, readRecordSet } from '../../protocol/records/index.js'
import type { Connection } from '../connection.js'
import { AbortedTransactionFilter } from './aborted-filter.js'
import { FetchSession } from './fetch-session.js'
import type { PartitionCursor } from './partition-cursor.js'

/** What a source needs from its pipeline. */
export interface SourceHost {
  readonly maxWaitMs: number
  readonly minBytes: number
  readonly maxBytes: number
  readonly partitionMaxBytes: number
  readonly isolationLevel: 0 | 1
  readonly rackId: string
  readonly requestTimeoutMs: number
  /** Bytes of queued (fetched, unread) data a partition may hold before its fetching pauses. */
  shareBytes(): number
  connection(nodeId: number, signal: AbortSignal): Promise<Connection>
  /** Resolves pending start positions (ListOffsets) of these partitions, all led by `nodeId`. */
  resolvePositions(nodeId: number, cursors: PartitionCursor[], signal: AbortSignal): Promise<void>
  /** Data arrived for a partition. */
  delivered(cursor: PartitionCursor): void
  /** The partition must be routed again (leader moved, topic unknown...): take it off this source. */
  reroute(cursor: PartitionCursor, reason: number): void
  /** OFFSET_OUT_OF_RANGE for this partition. */
  outOfRange(cursor: PartitionCursor): void
  /** The leader reported divergence (KIP-320): the log was truncated at `endOffset`. */
  diverged(cursor: PartitionCursor, endOffset: number): void
}

/**
 * The fetch loop for one leader broker (franz-go's "source"): one Fetch in flight at a time for every partition
 * this broker leads, in one incremental fetch session. Partitions whose queued data reached their share of the
 * buffer are left out until the application drains them, so prefetch is bounded in bytes.
 */
export class FetchSource {
  readonly partitions = new Set<PartitionCursor>()
  private readonly session = new FetchSession()
  private readonly abort = new AbortController()
  private wakeUp: (() => void) | undefined
  private running: Promise<void> | undefined
  private failures = 0

  constructor(
    readonly nodeId: number,
    private readonly host: SourceHost,
  ) {}

  add(cursor: PartitionCursor): void {
    this.partitions.add(cursor)
    this.wake()
  }

  remove(cursor: PartitionCursor): void {
    this.partitions.delete(cursor)
    this.session.drop(cursor)
    this.wake()
  }

  /** Something changed (data drained, partition added, resumed): re-evaluate what to fetch. */
  wake(): void {
    const w = this.wakeUp
    this.wakeUp = undefined
    w?.()
  }

  start(): void {
    this.running ??= this.loop().catch(() => {})
  }

  async stop(): Promise<void> {
    this.abort.abort()
    this.wake()
    await this.running
  }

  /** Closes the broker-side session (best effort), for a clean shutdown. */
  async closeSession(): Promise<void> {
    const closing = this.session.closing()
    if (!closing) return
    try {
      const conn = await this.host.connection(this.nodeId, AbortSignal.timeout(2000))
      await conn.request(
        Fetch,
        { ...closing, maxWaitMs: 0, minBytes: 0, topics: [], forgottenTopicsData: [] },
        { timeoutMs: 2000 },
      )
    } catch {}
  }

  private async loop(): Promise<void> {
    const signal = this.abort.signal
    while (!signal.aborted) {
      const pending = [...this.partitions].filter((c) => c.pendingSpec !== undefined && c.fetchOffset < 0)
      if (pending.length > 0) {
        const specs = pending.map((c) => c.pendingSpec)
        try {
          await this.host.resolvePositions(this.nodeId, pending, signal)
          this.failures = 0
        } catch {
          if (signal.aborted) return
          await this.backoff(signal)
          continue
        }
        // A lookup can leave a new spec to resolve (a timestamp past the end becomes 'latest'): go round again,
        // unless nothing changed, which would only spin.
        if (pending.some((c, i) => this.partitions.has(c) && c.fetchOffset < 0 && c.pendingSpec !== specs[i])) continue
      }
      const share = this.host.shareBytes()
      const ready = [...this.partitions].filter((c) => !c.paused && c.fetchOffset >= 0 && c.queuedBytes < share)
      if (ready.length === 0) {
        await new Promise<void>((resolve) => {
          this.wakeUp = resolve
        })
        continue
      }
      try {
        await this.fetchOnce(ready, signal)
        this.failures = 0
      } catch {
        if (signal.aborted) return
        // The session's state is uncertain after a failed request: the next one is full.
        this.session.reset()
        await this.backoff(signal)
      }
    }
  }

  private async backoff(signal: AbortSignal): Promise<void> {
    this.failures++
    const ms = Math.min(1000, 50 * 2 ** Math.min(this.failures, 5))
    await sleep(ms, undefined, { signal }).catch(() => {})
  }

  private async fetchOnce(ready: PartitionCursor[], signal: AbortSignal): Promise<void> {
    const h = this.host
    const conn = await h.connection(this.nodeId, signal)
    const version = conn.versionFor(Fetch)
    const useTopicIds = version >= 13
    const generations = new Map(ready.map((c) => [c, c.generation]))
    const sent = new Map(ready.map((c) => [c, c.fetchOffset]))
    const body = this.session.build(ready, h.partitionMaxBytes, useTopicIds)
    const res = await conn.request(
      Fetch,
      {
        maxWaitMs: h.maxWaitMs,
        minBytes: h.minBytes,
        maxBytes: h.maxBytes,
        isolationLevel: h.isolationLevel,
        rackId: h.rackId,
        ...body,
      },
      { version, timeoutMs: h.maxWaitMs + h.requestTimeoutMs, signal },
    )
    if (res.errorCode !== 0) {
      // FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH, FETCH_SESSION_TOPIC_ID_ERROR...: start over.
      this.session.reset()
      if (!errorByCode(res.errorCode).retriable) await this.backoff(signal)
      return
    }
    this.session.accepted(res.sessionId)
    const byKey = new Map<string, PartitionCursor>()
    for (const c of this.partitions) byKey.set(`${useTopicIds ? c.topicId : c.topic}:${c.partition}`, c)
    for (const t of res.responses) {
      for (const p of t.partitions) {
        const cursor = byKey.get(`${useTopicIds ? t.topicId : t.topic}:${p.partitionIndex}`)
        // Dropped, moved or seeked while the fetch was out: what it brought is stale.
        if (!cursor || !this.partitions.has(cursor)) continue
        const gen = generations.get(cursor)
        if (gen !== undefined && gen !== cursor.generation) continue
        if (gen === undefined || sent.get(cursor) !== cursor.fetchOffset) continue
        this.handlePartition(cursor, p)
      }
    }
  }

  private handlePartition(cursor: PartitionCursor, p: FetchPartitionData): void {
    const h = this.host
    if (p.errorCode !== 0) {
      if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) h.outOfRange(cursor)
      else h.reroute(cursor, p.errorCode)
      return
    }
    cursor.highWatermark = Number(p.highWatermark)
    cursor.lastStableOffset = Number(p.lastStableOffset)
    cursor.logStartOffset = Number(p.logStartOffset)
    if (p.divergingEpoch.epoch >= 0) {
      h.diverged(cursor, Number(p.divergingEpoch.endOffset))
      return
    }
    const set = readRecordSet(p.records, { topic: cursor.topic, partition: cursor.partition })
    const batches = set.batches.filter((b) => b.lastOffset >= cursor.fetchOffset)
    if (batches.length === 0) return
    const last = batches[batches.length - 1]!
    cursor.fetchOffset = last instanceof RecordBatch ? last.nextOffset : last.lastOffset + 1
    if (last instanceof RecordBatch) cursor.lastFetchedEpoch = last.partitionLeaderEpoch
    const bytes = batches.reduce((n, b) => n + b.bytes.length, 0)
    cursor.enqueue({
      batches,
      bytes,
      highWatermark: cursor.highWatermark,
      lastStableOffset: cursor.lastStableOffset,
      filter: h.isolationLevel === 1 ? new AbortedTransactionFilter(p.abortedTransactions) : undefined,
    })
    h.delivered(cursor)
  }
}
