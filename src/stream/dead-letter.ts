import type { ConsumerRecord, SkippedBatch } from '../client/consumer/index.js'
import type { Message, ProducerOptions } from '../client/producer/index.js'

/**
 * The dead-letter lane of a {@link StreamProcessor}: where a record goes when its handler keeps failing or it cannot
 * be deserialised, and where a batch that cannot be opened (over the decompression limits, corrupt) goes whole.
 */
export interface DeadLetterOptions {
  /** The dead-letter topic of a source topic: a name, or a function of the source topic. Default `<topic>.dlq`. */
  topic?: string | ((sourceTopic: string) => string)
  /**
   * The producer writing the copies (connection and settings), e.g. to put the lane on another cluster. Default:
   * the consumer's cluster connections with the producer's defaults (idempotent, acks all). Either way a copy is
   * acknowledged by the broker before the offset it stands for counts as done.
   */
  producer?: ProducerOptions
}

/** Header names of a dead-letter copy (values are UTF-8 strings). */
export const DLQ_HEADERS = {
  /** Why it is here: `handler` (failed every attempt), `deserialize`, or `batch` (a batch that could not be opened). */
  reason: 'skiff.dlq.reason',
  topic: 'skiff.dlq.topic',
  partition: 'skiff.dlq.partition',
  /** The record's offset (reasons `handler`, `deserialize`). */
  offset: 'skiff.dlq.offset',
  /** The record's timestamp, ms since the epoch (reasons `handler`, `deserialize`). */
  timestamp: 'skiff.dlq.timestamp',
  /** Handler runs before giving up (reason `handler`). */
  attempts: 'skiff.dlq.attempts',
  /** The batch's first and last offsets (reason `batch`); the copy's value is the batch as fetched, compressed. */
  baseOffset: 'skiff.dlq.base-offset',
  lastOffset: 'skiff.dlq.last-offset',
  /** The batch's codec, when it was refused for expanding past the decompression limit (reason `batch`). */
  codec: 'skiff.dlq.codec',
  /** The limit it broke, in bytes (reason `batch`, size errors). */
  limitBytes: 'skiff.dlq.limit-bytes',
  /** The error's class (its `name`) and message. */
  errorClass: 'skiff.dlq.error.class',
  errorMessage: 'skiff.dlq.error.message',
} as const

export type DeadLetterReason = 'handler' | 'deserialize' | 'batch'

/** Emitted as 'dead-letter' once a copy is acknowledged. */
export interface DeadLetterCopy {
  reason: DeadLetterReason
  topic: string
  partition: number
  /** The record's offset, or the first offset of the batch the copy stands for. */
  offset: number
  /** The last offset the copy stands for (the record's own offset for a record). */
  lastOffset: number
  /** Where the copy was written. */
  dlqTopic: string
  dlqPartition: number
  dlqOffset: number
  error: Error
}

export function dlqTopicFor(option: DeadLetterOptions['topic'], sourceTopic: string): string {
  if (option === undefined) return `${sourceTopic}.dlq`
  return typeof option === 'function' ? option(sourceTopic) : option
}

function errorHeaders(error: Error): Array<[string, string]> {
  return [
    [DLQ_HEADERS.errorClass, error.name || error.constructor.name],
    // Keep the header small: a message is for people, and a stack would repeat the class and message anyway.
    [DLQ_HEADERS.errorMessage, error.message.slice(0, 4096)],
  ]
}

/** The copy of a record: its key, value and headers, plus headers saying where it came from and why it failed. */
export function recordCopy(
  record: ConsumerRecord,
  reason: 'handler' | 'deserialize',
  error: Error,
  attempts: number,
): Message {
  const headers: Array<readonly [string, Buffer | string | null]> = record.headers.map((h) => [h.key, h.value] as const)
  headers.push(
    [DLQ_HEADERS.reason, reason],
    [DLQ_HEADERS.topic, record.topic],
    [DLQ_HEADERS.partition, String(record.partition)],
    [DLQ_HEADERS.offset, String(record.offset)],
    [DLQ_HEADERS.timestamp, String(record.timestamp)],
    [DLQ_HEADERS.attempts, String(attempts)],
    ...errorHeaders(error),
  )
  return { key: record.key, value: record.value, headers }
}

/** The copy of a batch that could not be opened: its raw bytes as the value, headers naming where and why. */
export function batchCopy(batch: SkippedBatch & { raw: Buffer }): Message {
  const headers: Array<readonly [string, string]> = [
    [DLQ_HEADERS.reason, 'batch'],
    [DLQ_HEADERS.topic, batch.topic],
    [DLQ_HEADERS.partition, String(batch.partition)],
    [DLQ_HEADERS.baseOffset, String(batch.baseOffset)],
    [DLQ_HEADERS.lastOffset, String(batch.lastOffset)],
  ]
  if (batch.codec !== undefined) headers.push([DLQ_HEADERS.codec, batch.codec])
  if (batch.limitBytes !== undefined) headers.push([DLQ_HEADERS.limitBytes, String(batch.limitBytes)])
  headers.push(...errorHeaders(batch.error))
  return { key: null, value: batch.raw, headers }
}
