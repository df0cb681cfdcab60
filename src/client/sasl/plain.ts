import { ConfigError } from '../errors.js'

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
