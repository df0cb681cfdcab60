import { SkiffError } from '../../errors.js'
import { ProtocolError } from '../errors.js'

/** Where in a fetch response a record batch sits, for error messages. */
export interface RecordContext {
  topic?: string
  partition?: number
}

/**
 * A record batch or legacy message set that cannot be trusted: a CRC mismatch, lengths that disagree with each
 * other, a record count that disagrees with the records present, truncated records inside a complete batch.
 * Names the batch (topic, partition, offsets) and the byte position.
 */
export class CorruptRecordError extends ProtocolError {
  override name = 'CorruptRecordError'
  readonly topic?: string
  readonly partition?: number
  readonly baseOffset?: number

  constructor(
    problem: string,
    where: RecordContext & { baseOffset?: number; lastOffset?: number; field?: string; offset?: number },
  ) {
    const tp = where.topic !== undefined ? `${where.topic}[${where.partition ?? '?'}]` : undefined
    const batch =
      where.baseOffset !== undefined
        ? `batch at offset ${where.baseOffset}${where.lastOffset !== undefined ? `..${where.lastOffset}` : ''}`
        : undefined
    const location = [tp, batch].filter(Boolean).join(' ')
    super(location ? `${location}: ${problem}` : problem, { field: where.field, offset: where.offset })
    this.topic = where.topic
    this.partition = where.partition
    this.baseOffset = where.baseOffset
  }
}

function mib(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / (1024 * 1024)).toFixed(1)} MiB`
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`
  return `${bytes} bytes`
}

/** What a batch over the decompression limit is. */
export interface BudgetExceededDetails extends RecordContext {
  baseOffset: number
  lastOffset: number
  codec: string
  compressedBytes: number
  /** Bytes decompressed when decoding stopped (or the size a header declared, when refused up front). */
  producedBytes: number
  limitBytes: number
  /** The codec's account of how the limit was hit, when it refused before decoding (a declared size). */
  detail?: string
}

/**
 * A compressed batch expands past `maxBatchDecompressedBytes`: the bomb defence. Raised while decoding, without the
 * batch's output ever having been allocated in full. Not corrupt data — a batch too big for this consumer's limits;
 * skip it (its offsets are here) or raise the limit.
 */
export class DecompressionBudgetExceededError extends SkiffError {
  override name = 'DecompressionBudgetExceededError'
  readonly details: BudgetExceededDetails

  constructor(details: BudgetExceededDetails, cause?: unknown) {
    const tp = details.topic !== undefined ? `${details.topic}[${details.partition ?? '?'}]` : 'a partition'
    super(
      `${details.codec} batch at ${tp} offsets ${details.baseOffset}..${details.lastOffset} expands past ` +
        `maxBatchDecompressedBytes (${mib(details.limitBytes)}) (${mib(details.compressedBytes)} compressed, ` +
        `${details.detail ?? `stopped after ${mib(details.producedBytes)}`}); skip it or raise the limit`,
      { cause },
    )
    this.details = details
  }
}

/** One record is larger than `maxRecordBytes`. */
export class RecordTooLargeError extends SkiffError {
  override name = 'RecordTooLargeError'
  constructor(readonly context: RecordContext & { offset: number; recordBytes: number; limitBytes: number }) {
    const tp = context.topic !== undefined ? `${context.topic}[${context.partition ?? '?'}] ` : ''
    super(
      `record at ${tp}offset ${context.offset} is ${mib(context.recordBytes)}, over maxRecordBytes ` +
        `(${mib(context.limitBytes)}); skip it or raise the limit`,
    )
  }
}
