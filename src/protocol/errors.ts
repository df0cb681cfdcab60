import { SkiffError } from '../errors.js'

/** Where in a message a decoding or encoding failure happened. */
export interface ProtocolErrorContext {
  /** The message being read or written, e.g. `Metadata v12 response`. */
  message?: string
  /** The field, by its name in Kafka's message schema, e.g. `Topics[].Partitions[].ErrorCode`. */
  field?: string
  /** Byte offset from the start of the buffer being decoded. */
  offset?: number
}

/**
 * Bytes that do not form a valid Kafka protocol message: truncated, lengths that point past the end,
 * counts larger than the bytes that could hold them, malformed varints, invalid UTF-8 lengths.
 * Thrown instead of Buffer's RangeError so that a hostile frame is always a typed, explained failure.
 */
export class ProtocolError extends SkiffError {
  override name = 'ProtocolError'
  readonly context: ProtocolErrorContext

  constructor(problem: string, context: ProtocolErrorContext = {}) {
    super(ProtocolError.describe(problem, context))
    this.context = context
  }

  private static describe(problem: string, c: ProtocolErrorContext): string {
    const where: string[] = []
    if (c.message) where.push(c.message)
    if (c.field) where.push(`field ${c.field}`)
    if (c.offset !== undefined) where.push(`byte ${c.offset}`)
    return where.length > 0 ? `${problem} (${where.join(', ')})` : problem
  }
}

/** The client and the broker share no version of an API, or a field cannot be sent at the negotiated version. */
export class UnsupportedVersionError extends SkiffError {
  override name = 'UnsupportedVersionError'
}
