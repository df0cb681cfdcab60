import type { ConsumerOptions, ConsumerRecord } from '../client/consumer/index.js'
import type { BackfillOptions } from './backfill.js'
import type { DeadLetterOptions } from './dead-letter.js'
import type { StreamLanes } from './lanes.js'
import type { PriorityOptions } from './scheduler.js'

/** What a handler is told besides the record. */
export interface HandlerContext {
  /** 1 for the first run of this record, then 2, 3… for retries. */
  attempt: number
  /**
   * Aborted when the processor gives up on this run: the partition was revoked or lost and the revoke timeout
   * passed, or `close()` timed out. The record then counts as unfinished (it is handled again later).
   */
  signal: AbortSignal
  /** What `deserialize` made of the record (undefined without that option). */
  value: unknown
}

/** Handles one record; a rejection (or throw) is retried with backoff. */
export type RecordHandler = (record: ConsumerRecord, context: HandlerContext) => void | Promise<void>

/**
 * - `partition`: records of a partition one at a time, in offset order (parallel across partitions);
 * - `key`: records of a key one at a time, in offset order (parallel across keys; records without a key are not
 *   ordered among themselves);
 * - `unordered`: any record whenever there is capacity.
 */
export type Ordering = 'partition' | 'key' | 'unordered'

/** Options of a {@link StreamProcessor}. */
export interface StreamProcessorOptions {
  /**
   * The consumer to read with (`groupId` required). The processor owns it: `autoCommit` is turned off (the
   * processor commits offsets with their metadata itself) and its rebalance hooks are wrapped (yours still run,
   * after the processor's work).
   */
  consumer: ConsumerOptions
  /** Topics to subscribe to. Default, with `lanes`: the realtime and batch lanes. */
  topics?: string[] | RegExp
  /**
   * Reads a stream's lanes (see `streamLanes()`): the realtime lane's records first, the batch lane's with the
   * capacity left spare (see `priority`), and — unless `deadLetter.topic` says otherwise — what cannot be handled
   * goes to the dlq lane.
   */
  lanes?: StreamLanes
  /** How handler slots and buffer are shared between realtime and batch work (batch lane, backfill cursors). */
  priority?: PriorityOptions
  /** Splits partitions with a large backlog into a live cursor at the head and a backfill cursor behind it. */
  backfill?: BackfillOptions
  handler: RecordHandler
  /** Most handler runs at once, across partitions. Default 16. */
  concurrency?: number
  /** Default 'partition'. */
  ordering?: Ordering
  /** Commit completed work this often. Default 5000. */
  commitIntervalMs?: number
  /** The broker's `offset.metadata.max.bytes` (characters). Default 4096, Kafka's default. */
  metadataMaxChars?: number
  /** Try deflate on the metadata. Default true. */
  compressMetadata?: boolean
  /** Retries after a handler's first failure. Default 3. */
  retries?: number
  /** First retry delay; doubled each retry, with jitter. Default 100. */
  retryBackoffMs?: number
  /** Most delay between retries. Default 5000. */
  retryBackoffMaxMs?: number
  /**
   * After the last retry fails: `stop` (default) stops the processor (`run()` rejects with the
   * {@link HandlerFailedError}; the record stays unfinished, so it is handled again after a restart); `skip` reports
   * the error as an 'error' event and counts the record done. Not used with a `deadLetter` lane: the record goes
   * there instead.
   */
  failurePolicy?: 'stop' | 'skip'
  /** Records held (queued or running) for one partition before fetching it pauses. Default max(500, 8 × concurrency). */
  maxBufferedPerPartition?: number
  /**
   * Records held in all before the processor stops taking more from the consumer. Default max(2000, 32 × concurrency).
   * With batch work (a batch lane, backfill), `priority.batchBufferShare` of it is batch work's, the rest realtime's.
   */
  maxBuffered?: number
  /** How long a revocation waits for the partition's running handlers before aborting them. Default 30 000. */
  revokeTimeoutMs?: number
  /**
   * Turns a record into the value handed to the handler as `context.value`, once per record. When it throws, the
   * record goes to the dead-letter lane at once (no retries), or — without one — counts as a failed handler run.
   */
  deserialize?: (record: ConsumerRecord) => unknown
  /**
   * The dead-letter lane. With it, a record whose handler fails every attempt (instead of `failurePolicy`), or
   * whose `deserialize` throws (or whose handler throws a {@link DeserializationError}), is copied to the lane with
   * headers naming its topic, partition, offset, timestamp and the error ({@link DLQ_HEADERS}); a batch that cannot
   * be opened (over the consumer's decompression limits, or corrupt) is copied whole, its raw compressed bytes as
   * the value (the consumer's `badBatchPolicy` is then `skip`). An offset counts as done only once its copy is
   * acknowledged by the broker; a copy that cannot be written stops the processor (the record stays unfinished).
   */
  deadLetter?: DeadLetterOptions
}

/** Emitted as 'commit': what was committed for one partition. */
export interface ProcessorCommit {
  topic: string
  partition: number
  /** The Kafka offset committed: the lowest offset not done. */
  offset: number
  /** Done ranges above it, stored in the metadata. */
  ranges: number
  metadata: string
}

/** Emitted as 'backpressure' when a partition starts (`active: true`) or stops being held back. */
export interface ProcessorBackpressure {
  topic: string
  partition: number
  /**
   * - `metadata`: its completed ranges would not fit the commit metadata with more records running: only its oldest
   *   unfinished record may start until they do;
   * - `buffer`: `maxBufferedPerPartition` records are held for it: fetching it is paused.
   */
  reason: 'metadata' | 'buffer'
  active: boolean
}

/** Counters of a processor. */
export interface ProcessorStats {
  /** Handler runs that succeeded (a record retried and then successful counts once). */
  handled: number
  /** Handler runs that threw. */
  failures: number
  /** Records given up on after the last retry (under `skip`). */
  skippedFailed: number
  /** Records not handled because the commit metadata says they were done already. */
  skippedDone: number
  /** Copies acknowledged in the dead-letter lane (records, and batches that could not be opened). */
  deadLettered: number
  /** Commits made (each covering one or more partitions). */
  commits: number
  inFlight: number
  buffered: number
  /** Partitions currently held back because of their metadata size. */
  metadataPressure: number
  /** Partitions read from two positions at the moment (a backfill cursor behind the live one). */
  backfilling: number
  /** Records running, by priority. */
  running: { realtime: number; batch: number }
}
