import { SkiffError } from '../../errors.js'

function size(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / (1024 * 1024)).toFixed(1)} MiB`
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`
  return `${bytes} bytes`
}

/** Where a record was going. */
export interface RecordTarget {
  topic: string
  /** Undefined when the record failed before a partition was chosen. */
  partition?: number
}

function where(t: RecordTarget): string {
  return t.partition === undefined ? t.topic : `${t.topic}[${t.partition}]`
}

/**
 * A record was not acknowledged within `deliveryTimeoutMs` of being handed to the producer (Java's
 * `delivery.timeout.ms`). Whether the broker wrote it is unknown when it was sent at least once; `cause` is the last
 * error seen while retrying, if any.
 */
export class DeliveryTimeoutError extends SkiffError {
  override name = 'DeliveryTimeoutError'
  readonly topic: string
  readonly partition: number
  /** Times the batch holding the record was sent. */
  readonly attempts: number

  constructor(t: { topic: string; partition: number; deliveryTimeoutMs: number; attempts: number }, cause?: unknown) {
    const last = cause instanceof Error ? `; last error: ${cause.message}` : ''
    super(
      `record for ${where(t)} not acknowledged within deliveryTimeoutMs (${t.deliveryTimeoutMs} ms) after ${t.attempts} ` +
        `attempt(s)${t.attempts > 0 ? ' (it may or may not have been written)' : ''}${last}`,
      { cause },
    )
    this.topic = t.topic
    this.partition = t.partition
    this.attempts = t.attempts
  }
}

/**
 * `send` (or `produce`) waited `maxBlockMs` for room in the producer's buffer (`bufferBytes`) and none came: the
 * brokers are not taking records as fast as they are produced.
 */
export class BufferFullError extends SkiffError {
  override name = 'BufferFullError'
  constructor(
    readonly topic: string,
    readonly recordBytes: number,
    readonly bufferBytes: number,
    readonly maxBlockMs: number,
  ) {
    super(
      `no room for a ${size(recordBytes)} record for ${topic} within maxBlockMs (${maxBlockMs} ms): all of ` +
        `bufferBytes (${size(bufferBytes)}) holds records not yet acknowledged; produce slower or raise bufferBytes`,
      { retriable: true },
    )
  }
}

/** The topic (or the requested partition) did not appear in the cluster metadata within `maxBlockMs`. */
export class MetadataTimeoutError extends SkiffError {
  override name = 'MetadataTimeoutError'
  constructor(
    readonly topic: string,
    readonly partition: number | undefined,
    readonly maxBlockMs: number,
    cause?: unknown,
  ) {
    const what = partition === undefined ? `topic ${topic}` : `partition ${topic}[${partition}]`
    const last = cause instanceof Error ? ` (last error: ${cause.message})` : ''
    super(`${what} not present in the cluster metadata after maxBlockMs (${maxBlockMs} ms)${last}`, {
      cause,
      retriable: true,
    })
  }
}

/** One record is larger than the producer can ever send (`maxRequestBytes` or `bufferBytes`). Checked before sending. */
export class RecordTooLargeToSendError extends SkiffError {
  override name = 'RecordTooLargeToSendError'
  constructor(
    readonly topic: string,
    readonly recordBytes: number,
    readonly limitName: 'maxRequestBytes' | 'bufferBytes',
    readonly limitBytes: number,
  ) {
    super(`a ${size(recordBytes)} record for ${topic} is larger than ${limitName} (${size(limitBytes)})`)
  }
}

/** The producer is closing or closed: the record was refused, or could not be delivered before `close` ended. */
export class ProducerClosedError extends SkiffError {
  override name = 'ProducerClosedError'
  constructor(message = 'the producer is closed') {
    super(message)
  }
}

/**
 * Another producer with the same `transactionalId` has started (its InitProducerId bumped the epoch), or the
 * coordinator aborted this producer's transaction for running past `transactionTimeoutMs`: this instance is a zombie
 * and must not write. The producer refuses all further work; close it.
 */
export class ProducerFencedError extends SkiffError {
  override name = 'ProducerFencedError'
  constructor(
    readonly transactionalId: string | null,
    readonly producerId: bigint,
    readonly producerEpoch: number,
    cause?: unknown,
  ) {
    const why = cause instanceof Error ? `: ${cause.message}` : ''
    super(
      `producer ${producerId} epoch ${producerEpoch}${transactionalId === null ? '' : ` (transactional id ${transactionalId})`} ` +
        `was fenced by a newer instance${why}`,
      { cause },
    )
  }
}

/** A transaction method was called out of order (send after commit, two transactions at once, ...). */
export class TransactionStateError extends SkiffError {
  override name = 'TransactionStateError'
}

/**
 * Something failed inside the transaction (a record could not be delivered, an offset commit was refused): it cannot
 * commit. Call `abort()` and start again; `cause` is the failure.
 */
export class TransactionAbortableError extends SkiffError {
  override name = 'TransactionAbortableError'
  constructor(message: string, cause?: unknown) {
    super(message, { cause })
  }
}

/** The record was still waiting to be sent when its transaction was aborted; it was dropped. */
export class TransactionAbortedError extends SkiffError {
  override name = 'TransactionAbortedError'
  constructor(readonly topic: string) {
    super(`record for ${topic} dropped: its transaction was aborted before it was sent`)
  }
}

/** The producer hit an error it cannot recover from (e.g. it may not get a producer id); `cause` says which. */
export class ProducerFatalError extends SkiffError {
  override name = 'ProducerFatalError'
  constructor(message: string, cause?: unknown) {
    super(message, { cause })
  }
}
