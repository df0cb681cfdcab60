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

/** A control-topic record, or the control topic itself, could not be read as a stream mapping. */
export class StreamResolverError extends SkiffError {
  override name = 'StreamResolverError'
  constructor(
    /** The stream (or control topic) concerned. */
    readonly stream: string,
    reason: string,
  ) {
    super(`stream mapping ${stream}: ${reason}`)
  }
}

/** A stream name has no target in the resolver. */
export class StreamNotFoundError extends SkiffError {
  override name = 'StreamNotFoundError'
  constructor(readonly stream: string) {
    super(`stream ${stream} has no target in the resolver; add one with update() or on the control topic`)
  }
}

/** A streaming-layer wait (control topic read, drain of an old topic, close) outlasted its bound. */
export class StreamTimeoutError extends SkiffError {
  override name = 'StreamTimeoutError'
  constructor(
    what: string,
    readonly timeoutMs: number,
  ) {
    super(`${what} within ${timeoutMs} ms`, { retriable: true })
  }
}

/** The stream producer or consumer was closed. */
export class StreamClosedError extends SkiffError {
  override name = 'StreamClosedError'
  constructor(what: string) {
    super(`${what} is closed`)
  }
}
