import type { DecompressionBudget } from '../../compression/budget.js'
import {
  DecompressionBudgetExceededError,
  decodeBatch,
  LegacyMessageBatch,
  type RecordBatch,
  type RecordChunk,
  RecordTooLargeError,
} from '../../protocol/records/index.js'
import type { AbortedTransactionFilter } from './aborted-filter.js'
import type { BadBatchPolicy, ConsumerRecord, SkippedBatch, StartOffset } from './types.js'

/** What one Fetch returned for one partition, queued until the application reads it. */
export interface FetchedSet {
  batches: Array<RecordBatch | LegacyMessageBatch>
  /** Raw bytes held (views into the fetch response), counted against the partition's share of the buffer. */
  bytes: number
  highWatermark: number
  lastStableOffset: number
  filter: AbortedTransactionFilter | undefined
}

/** Records decoded for the application, and the decompression budget they hold until released. */
export interface DeliveredChunk {
  messages: ConsumerRecord[]
  highWatermark: number
  lastStableOffset: number
  release(): void
}

const NOOP = () => {}

/**
 * One partition as one reader sees it. The fetch side (`fetchOffset`, leader epochs, queued bytes) runs ahead of the
 * consume side (`position`, the next offset to deliver) by at most the partition's share of the buffer; batches
 * are decoded — and decompressed — only as the application pulls records.
 */
export class PartitionCursor {
  // ---- fetch side ----
  /** Next offset to fetch; -1 until the start position is resolved. */
  fetchOffset = -1
  /** A start position still to resolve with ListOffsets. */
  pendingSpec: StartOffset | undefined
  /** Leader epoch known from metadata, sent as currentLeaderEpoch (KIP-320). */
  leaderEpoch = -1
  /** Epoch of the last batch fetched, sent as lastFetchedEpoch so the leader can report divergence (v12+). */
  lastFetchedEpoch = -1
  paused = false
  queuedBytes = 0
  highWatermark = -1
  lastStableOffset = -1
  logStartOffset = -1
  /** Bumped by seek(): fetches in flight for an older generation are dropped when they return. */
  generation = 0

  // ---- consume side ----
  /** Next offset to deliver; -1 until known. */
  position = -1
  private readonly queue: FetchedSet[] = []
  private current:
    | { set: FetchedSet; index: number; chunks?: AsyncGenerator<RecordChunk>; batch?: RecordBatch }
    | undefined

  constructor(
    readonly topic: string,
    readonly partition: number,
    public topicId: string,
  ) {}

  get hasQueued(): boolean {
    return this.current !== undefined || this.queue.length > 0
  }

  enqueue(set: FetchedSet): void {
    this.queue.push(set)
    this.queuedBytes += set.bytes
  }

  /** Forgets everything fetched and not yet delivered (seek, loss of the partition, truncation). */
  clear(): void {
    void this.current?.chunks?.return(undefined)
    this.current = undefined
    this.queue.length = 0
    this.queuedBytes = 0
  }

  /**
   * The next records for the application, or null when nothing fetched is left. Records before `position` (the
   * first batch may start earlier) are dropped; aborted and control batches are filtered under read_committed.
   */
  async nextChunk(
    budget: DecompressionBudget,
    policy: BadBatchPolicy,
    onSkip: (s: SkippedBatch) => void,
  ): Promise<DeliveredChunk | null> {
    for (;;) {
      const cur = this.current
      if (!cur) {
        const set = this.queue.shift()
        if (!set) return null
        this.current = { set, index: 0 }
        continue
      }
      if (cur.chunks) {
        let step: IteratorResult<RecordChunk>
        try {
          step = await cur.chunks.next()
        } catch (err) {
          this.badBatch(cur.batch!, err as Error, policy, onSkip)
          cur.chunks = undefined
          cur.index++
          continue
        }
        if (step.done) {
          this.position = Math.max(this.position, cur.batch!.nextOffset)
          cur.chunks = undefined
          cur.index++
          continue
        }
        const delivered = this.deliverable(step.value.records as ConsumerRecord[])
        if (delivered.length === 0) {
          step.value.release()
          continue
        }
        return {
          messages: delivered,
          highWatermark: cur.set.highWatermark,
          lastStableOffset: cur.set.lastStableOffset,
          release: step.value.release,
        }
      }
      if (cur.index >= cur.set.batches.length) {
        this.queuedBytes -= cur.set.bytes
        this.current = undefined
        continue
      }
      const batch = cur.set.batches[cur.index]!
      if (batch instanceof LegacyMessageBatch) {
        cur.index++
        let records: ConsumerRecord[]
        try {
          records = batch.records({ verifyCrc: true }) as ConsumerRecord[]
        } catch (err) {
          this.badBatch(batch, err as Error, policy, onSkip)
          continue
        }
        for (const r of records) {
          r.topic = this.topic
          r.partition = this.partition
        }
        const delivered = this.deliverable(records)
        if (delivered.length > 0) {
          return {
            messages: delivered,
            highWatermark: cur.set.highWatermark,
            lastStableOffset: cur.set.lastStableOffset,
            release: NOOP,
          }
        }
        continue
      }
      // The filter sees every batch in order, delivered or not, to track which transactions are open-aborted.
      const accepted = cur.set.filter ? cur.set.filter.accept(batch) : !batch.isControl
      if (!accepted || batch.nextOffset <= this.position) {
        this.position = Math.max(this.position, batch.nextOffset)
        cur.index++
        continue
      }
      cur.batch = batch
      cur.chunks = decodeBatch(batch, { budget, autoRelease: true })
    }
  }

  /** Drops records below the position and advances it past the rest. */
  private deliverable(records: ConsumerRecord[]): ConsumerRecord[] {
    if (records.length === 0) return records
    let from = 0
    while (from < records.length && records[from]!.offset < this.position) from++
    const out = from === 0 ? records : records.slice(from)
    if (out.length > 0) this.position = out[out.length - 1]!.offset + 1
    return out
  }

  private badBatch(
    batch: RecordBatch | LegacyMessageBatch,
    err: Error,
    policy: BadBatchPolicy,
    onSkip: (s: SkippedBatch) => void,
  ): void {
    const lastOffset = batch.lastOffset
    if (policy === 'fail') {
      // Leave the position at the bad batch and stop the partition there, so the error is raised once and the
      // other partitions keep flowing: a seek past it (or a retry) and resume() are the application's call.
      this.clear()
      this.fetchOffset = -1
      this.pendingSpec = Math.max(this.position, batch.baseOffset)
      this.paused = true
      throw err
    }
    this.position = Math.max(this.position, lastOffset + 1)
    onSkip({
      topic: this.topic,
      partition: this.partition,
      baseOffset: batch.baseOffset,
      lastOffset,
      error: err,
      ...limitOf(err),
      // A copy: `bytes` is a view into the whole fetch response. Only the compressed size is copied.
      raw: Buffer.from(batch.bytes),
    })
  }
}

/** The codec and limit a size error names, for the 'skipped' event. */
function limitOf(err: Error): { codec?: string; limitBytes?: number } {
  if (err instanceof DecompressionBudgetExceededError)
    return { codec: err.details.codec, limitBytes: err.details.limitBytes }
  if (err instanceof RecordTooLargeError) return { limitBytes: err.context.limitBytes }
  return {}
}
