import { ConfigError } from '../errors.js'
import type { SaslContext, SaslMechanism } from './mechanism.js'
import { OAuthBearerSaslMechanism, type OAuthBearerSaslOptions } from './oauthbearer.js'
import { PlainSaslMechanism, type PlainSaslOptions } from './plain.js'
import { ScramSaslMechanism, type ScramSaslOptions } from './scram.js'

export type { SaslContext, SaslMechanism } from './mechanism.js'
export {
  type OAuthBearerSaslOptions,
  type OAuthBearerToken,
  type OAuthBearerTokenContext,
  type OAuthBearerTokenProvider,
  oauthBearerInitialResponse,
} from './oauthbearer.js'
export type { PlainSaslOptions } from './plain.js'
export type { ScramSaslOptions } from './scram.js'

/** How a connection authenticates: one of the mechanisms Kafka brokers ship with, and its credentials. */
export type SaslOptions = PlainSaslOptions | ScramSaslOptions | OAuthBearerSaslOptions

/** The mechanisms Skiff speaks. */
export const SASL_MECHANISMS: readonly SaslOptions['mechanism'][] = [
  'PLAIN',
  'SCRAM-SHA-256',
  'SCRAM-SHA-512',
  'OAUTHBEARER',
]

/**
 * A fresh mechanism for one authentication. Throws ConfigError for an unknown mechanism or credentials it cannot
 * carry, so `validateSaslOptions` can refuse them before connecting.
 */
export function createSaslMechanism(options: SaslOptions, context: SaslContext): SaslMechanism {
  switch (options?.mechanism) {
    case 'PLAIN':
      return new PlainSaslMechanism(options)
    case 'SCRAM-SHA-256':
    case 'SCRAM-SHA-512':
      return new ScramSaslMechanism(options)
    case 'OAUTHBEARER':
      if (typeof options.token !== 'function') {
        throw new ConfigError('OAUTHBEARER needs a token provider: sasl.token = async ({ broker }) => ({ value })')
      }
      return new OAuthBearerSaslMechanism(options.token, context)
    default:
      throw new ConfigError(
        `unknown SASL mechanism ${JSON.stringify((options as { mechanism?: unknown })?.mechanism)}; Skiff speaks ${SASL_MECHANISMS.join(', ')}`,
      )
  }
}

/** Throws ConfigError for SASL options that could never authenticate. */
export function validateSaslOptions(options: SaslOptions): void {
  createSaslMechanism(options, { broker: '(validation)', signal: new AbortController().signal })
}
