import { SkiffError } from '../errors.js'

/** A record's handler kept failing: every attempt (the first plus the retries) threw. */
export class HandlerFailedError extends SkiffError {
  override name = 'HandlerFailedError'
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    /** How many times the handler ran for this record. */
    readonly attempts: number,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)
    super(`handler failed ${attempts} time(s) for ${topic}[${partition}] offset ${offset}: ${why}`, { cause })
  }
}

/** A partition's completed ranges do not fit the commit metadata: commits of it wait until the low work is done. */
export class CommitMetadataTooLargeError extends SkiffError {
  override name = 'CommitMetadataTooLargeError'
  constructor(
    readonly topic: string,
    readonly partition: number,
    /** Characters the smallest encoding takes. */
    readonly chars: number,
    /** The limit (`offset.metadata.max.bytes`). */
    readonly maxChars: number,
  ) {
    super(
      `completed ranges of ${topic}[${partition}] need ${chars} characters of commit metadata, over the ${maxChars} ` +
        'limit; this partition is committed again once its oldest unfinished records are done',
      { retriable: true },
    )
  }
}

/**
 * A record's bytes could not be turned into the value its handler expects. Thrown by the `deserialize` option (or by
 * a handler): with a dead-letter lane the record goes there at once, without retries (they would fail the same way).
 */
export class DeserializationError extends SkiffError {
  override name = 'DeserializationError'
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)
    super(`cannot deserialise ${topic}[${partition}] offset ${offset}: ${why}`, { cause })
  }
}
