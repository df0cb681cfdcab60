import { SkiffError } from '../errors.js'

/** The TCP/TLS connection to a broker failed, closed, or could not be established. Retriable. */
export class ConnectionError extends SkiffError {
  override name = 'ConnectionError'
  /** `host:port` of the broker. */
  readonly broker: string

  constructor(message: string, broker: string, cause?: unknown) {
    super(`${message} (broker ${broker})`, { cause, retriable: true })
    this.broker = broker
  }
}

/** A request got no response within its timeout. Retriable; the connection stays usable. */
export class RequestTimeoutError extends SkiffError {
  override name = 'RequestTimeoutError'
  constructor(
    readonly api: string,
    readonly broker: string,
    readonly timeoutMs: number,
  ) {
    super(`${api} request to ${broker} timed out after ${timeoutMs} ms`, { retriable: true })
  }
}

/** An operation was cancelled through its AbortSignal; `cause` is the signal's reason. */
export class AbortedError extends SkiffError {
  override name = 'AbortedError'
  constructor(what: string, reason?: unknown) {
    super(`${what} was aborted`, { cause: reason })
  }
}

/** Invalid options given by the caller. */
export class ConfigError extends SkiffError {
  override name = 'ConfigError'
}

/**
 * SASL authentication failed: the broker refused the credentials or does not offer the mechanism, or (SCRAM) the
 * broker's own proof did not check out, or the exchange broke the mechanism's rules, or a re-authentication (KIP-368)
 * failed and closed the connection. Not retriable with the same credentials.
 */
export class SaslAuthenticationError extends SkiffError {
  override name = 'SaslAuthenticationError'
  /** `host:port` of the broker, when the failure came from one. */
  readonly broker: string | undefined
  /** The mechanisms the broker has enabled, when it refused ours as unsupported. */
  readonly enabledMechanisms: readonly string[] | undefined
  /** The broker's own error message (SaslAuthenticate `errorMessage`), when it sent one. */
  readonly errorMessage: string | undefined
  /** True when the failure ended a re-authentication of a live connection rather than a first authentication. */
  readonly reauthentication: boolean
  /** What went wrong, without the mechanism and broker around it. */
  readonly reason: string

  constructor(
    /** The SASL mechanism, e.g. `SCRAM-SHA-512`. */
    readonly mechanism: string,
    message: string,
    cause?: unknown,
    details: {
      broker?: string
      enabledMechanisms?: readonly string[]
      errorMessage?: string
      reauthentication?: boolean
    } = {},
  ) {
    const where = details.broker === undefined ? '' : ` (broker ${details.broker})`
    super(
      `${mechanism} ${details.reauthentication ? 're-authentication' : 'authentication'} failed: ${message}${where}`,
      {
        cause,
      },
    )
    this.reason = message
    this.broker = details.broker
    this.enabledMechanisms = details.enabledMechanisms
    this.errorMessage = details.errorMessage
    this.reauthentication = details.reauthentication ?? false
  }
}
