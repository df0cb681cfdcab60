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
