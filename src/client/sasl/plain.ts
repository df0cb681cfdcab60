import { ConfigError, SaslAuthenticationError } from '../errors.js'
import type { SaslMechanism } from './mechanism.js'

/** Credentials for SASL/PLAIN (RFC 4616). */
export interface PlainCredentials {
  username: string
  password: string
  /**
   * The identity to act as, when different from `username`. Kafka accepts it only when it equals the username
   * (PlainSaslServer), so it is normally left out.
   */
  authorizationId?: string
}

/**
 * The single message a SASL/PLAIN client sends (RFC 4616 §2): `authzid NUL authcid NUL passwd`, UTF-8. On Kafka it
 * travels as the `authBytes` of one SaslAuthenticate request after SaslHandshake v1 (KIP-152); the broker answers
 * with empty `authBytes` on success or SASL_AUTHENTICATION_FAILED. PLAIN sends the password as it is: use it over
 * TLS only, outside tests.
 *
 * Throws ConfigError for an empty username or password or a NUL inside any field, which would shift the fields the
 * broker reads.
 */
export function plainAuthBytes(credentials: PlainCredentials): Buffer {
  const { username, password, authorizationId = '' } = credentials
  if (typeof username !== 'string' || username.length === 0) throw new ConfigError('SASL/PLAIN needs a username')
  if (typeof password !== 'string' || password.length === 0) throw new ConfigError('SASL/PLAIN needs a password')
  for (const [name, value] of [
    ['username', username],
    ['password', password],
    ['authorizationId', authorizationId],
  ] as const) {
    if (value.includes('\0')) throw new ConfigError(`SASL/PLAIN ${name} must not contain a NUL character`)
  }
  return Buffer.from(`${authorizationId}\0${username}\0${password}`, 'utf8')
}

/** `sasl` options for SASL/PLAIN. */
export interface PlainSaslOptions extends PlainCredentials {
  mechanism: 'PLAIN'
}

/** SASL/PLAIN as a {@link SaslMechanism}: one message, answered with empty bytes on success. */
export class PlainSaslMechanism implements SaslMechanism {
  readonly name = 'PLAIN'
  private readonly message: Buffer
  private state: 'initial' | 'sent' | 'done' = 'initial'

  /** Throws ConfigError for credentials PLAIN cannot carry (see {@link plainAuthBytes}). */
  constructor(credentials: PlainCredentials) {
    this.message = plainAuthBytes(credentials)
  }

  async start(): Promise<Buffer> {
    if (this.state !== 'initial')
      throw new SaslAuthenticationError('PLAIN', `out of order: start() in state ${this.state}`)
    this.state = 'sent'
    return this.message
  }

  async next(challenge: Buffer): Promise<Buffer | null> {
    if (this.state !== 'sent') throw new SaslAuthenticationError('PLAIN', `out of order: next() in state ${this.state}`)
    this.state = 'done'
    // PlainSaslServer answers a valid message with nothing; any challenge means the peer is not speaking PLAIN.
    if (challenge.length > 0) {
      throw new SaslAuthenticationError('PLAIN', `the server sent a ${challenge.length}-byte challenge; PLAIN has none`)
    }
    return null
  }
}
