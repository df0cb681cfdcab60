import { SkiffError } from '../../errors.js'

/** The position is outside the log and the reset policy is `none`. */
export class OffsetOutOfRangeError extends SkiffError {
  override name = 'OffsetOutOfRangeError'
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
  ) {
    super(`offset ${offset} is out of range for ${topic}[${partition}] and the reset policy is 'none'`)
  }
}

/**
 * The leader's log diverged from what this reader fetched (an unclean election or a truncation after a leader
 * change, detected through leader epochs, KIP-320): records from `truncatedFrom` on, already fetched, are gone.
 */
export class LogTruncationError extends SkiffError {
  override name = 'LogTruncationError'
  constructor(
    readonly topic: string,
    readonly partition: number,
    /** The first offset no longer in the log. */
    readonly truncatedFrom: number,
    /** Where this reader had got to. */
    readonly position: number,
  ) {
    super(
      `log of ${topic}[${partition}] was truncated at offset ${truncatedFrom} (this reader was at ${position}); ` +
        `records ${truncatedFrom}..${position - 1} it fetched are no longer in the log`,
    )
  }
}
