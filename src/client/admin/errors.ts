import { SkiffError } from '../../errors.js'

/**
 * An admin call ran out of time (its `timeoutMs`) before Kafka gave a usable answer, having retried retriable
 * failures until then. `cause` is the last failure seen (a connection error, a request timeout, or a retriable
 * Kafka error such as COORDINATOR_LOAD_IN_PROGRESS), which usually says what to look at.
 *
 * Calls that address several items (topics, partitions, groups...) reject with it only when no broker answered
 * for any of them; otherwise the items still unanswered carry a per-item error instead.
 */
export class AdminTimeoutError extends SkiffError {
  override name = 'AdminTimeoutError'

  constructor(
    /** The admin method, e.g. `describeGroups`. */
    readonly operation: string,
    /** The call's timeout. */
    readonly timeoutMs: number,
    cause?: unknown,
  ) {
    const last = cause instanceof Error ? `; last error: ${cause.message}` : ''
    super(`${operation} did not complete within ${timeoutMs} ms${last}`, { cause, retriable: true })
  }
}
