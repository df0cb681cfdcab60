/**
 * The root of every error Skiff throws on purpose. Catch `SkiffError` to tell Skiff's own failures
 * (protocol, broker, connection, decompression limits, configuration) from bugs elsewhere.
 */
export class SkiffError extends Error {
  override name = 'SkiffError'
  /** True when retrying the same operation may succeed without any other change. */
  readonly retriable: boolean

  constructor(message: string, options?: { cause?: unknown; retriable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.retriable = options?.retriable ?? false
  }
}
