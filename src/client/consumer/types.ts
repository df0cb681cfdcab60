import type { KafkaRecord } from '../../protocol/records/index.js'

/** Where to start reading a partition. */
export type StartOffset =
  | 'earliest'
  | 'latest'
  /** An exact offset. */
  | number
  /** The first offset whose record timestamp is ≥ this (ms since the epoch); the end if none is. */
  | { timestamp: number }

/** What to do when the position is out of the log's range (OFFSET_OUT_OF_RANGE): move to an end, or fail. */
export type ResetPolicy = 'earliest' | 'latest' | 'none'

/**
 * What to do with a batch that cannot be decoded: corrupt, or over the decompression limits (a compression bomb, or
 * a batch bigger than this consumer accepts).
 * - `fail`: the error (DecompressionBudgetExceededError, RecordTooLargeError, CorruptRecordError — each naming the
 *   topic, partition and offsets) is thrown once by the iterator, after the batch's records decoded before the
 *   problem; the partition then stops at that position (paused) while the others keep flowing. `seek()` past the
 *   batch and `resume()` it, or just `resume()` to try again.
 * - `skip`: the rest of the batch is skipped and reported as a 'skipped' event (SkippedBatch); reading goes on.
 */
export type BadBatchPolicy = 'fail' | 'skip'

export interface TopicPartition {
  topic: string
  partition: number
}

/** A consumed record: the record plus where it came from. Keys, values and header values are Buffer views. */
export interface ConsumerRecord extends KafkaRecord {
  topic: string
  partition: number
}

/** Records of one partition, delivered together (one decoded chunk of one or more batches). */
export interface MessageBatch {
  topic: string
  partition: number
  messages: ConsumerRecord[]
  /** The partition's high watermark when these were fetched: `highWatermark - 1 - lastOffset` is the lag. */
  highWatermark: number
  /** The last stable offset (read_committed reads stop here). */
  lastStableOffset: number
}

/** Reported when a batch is skipped under the `skip` policy, or when the log was truncated under the reader. */
export interface SkippedBatch {
  topic: string
  partition: number
  baseOffset: number
  lastOffset: number
  error: Error
  /** The batch's codec, when it was skipped for expanding past maxBatchDecompressedBytes. */
  codec?: string
  /** The limit it broke (maxBatchDecompressedBytes or maxRecordBytes), for the size errors. */
  limitBytes?: number
  /**
   * The batch as fetched, still compressed: a copy of its log entry (v2 record batch or legacy message set entry,
   * header included), so it can be kept (a dead-letter copy) without holding the fetch response. Set for batches
   * skipped under the `skip` policy; absent for truncation.
   */
  raw?: Buffer
}

export function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}
