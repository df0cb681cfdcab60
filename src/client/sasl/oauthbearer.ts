import { SaslAuthenticationError } from '../errors.js'
import type { SaslContext, SaslMechanism } from './mechanism.js'

/** A bearer token, as a token provider returns it. */
export interface OAuthBearerToken {
  /** The token itself, e.g. a JWT in compact form. Must be an RFC 6750 `b64token`. */
  value: string
  /**
   * How long the token stays valid from now, when known. The broker derives its session lifetime from the token's
   * own expiry anyway (KIP-368); this only shortens the time to re-authentication if it is earlier still.
   */
  lifetimeMs?: number
  /**
   * SASL extensions sent beside the token (RFC 7628 §3.1; KIP-342), e.g. `{ logicalCluster: 'lkc-1' }`. Keys are
   * letters only and `auth` is reserved; values are printable ASCII, space, tab, CR or LF.
   */
  extensions?: Readonly<Record<string, string>>
}

/** What a token provider is told: which broker wants a token, and when to give up. */
export interface OAuthBearerTokenContext {
  broker: string
  /** Aborted when the authentication is abandoned (connect timeout, connection closed). */
  signal?: AbortSignal
}

/**
 * Supplies the token for one authentication. Called for every new connection and every re-authentication, so a
 * provider that fetches from an identity provider should cache the token and refresh it before it expires.
 */
export type OAuthBearerTokenProvider = (
  context: OAuthBearerTokenContext,
) => OAuthBearerToken | Promise<OAuthBearerToken>

/** `sasl` options for SASL/OAUTHBEARER. */
export interface OAuthBearerSaslOptions {
  mechanism: 'OAUTHBEARER'
  token: OAuthBearerTokenProvider
}

const SEPARATOR = '\x01'
/** RFC 6750 §2.1 b64token, which is what Kafka's OAuthBearerClientInitialResponse accepts after `Bearer `. */
const B64TOKEN = /^[-._~+/A-Za-z0-9]+=*$/
const EXTENSION_KEY = /^[A-Za-z]+$/
const EXTENSION_VALUE = /^[\x21-\x7E \t\r\n]+$/
/** The client's answer to a server error (RFC 7628 §3.2.3): a lone %x01, after which the server fails the exchange. */
export const OAUTHBEARER_ERROR_ACK: Buffer = Buffer.from([0x01])

/**
 * The OAUTHBEARER client initial response (RFC 7628 §3.1), as Kafka's OAuthBearerClientInitialResponse writes it:
 * a GS2 header without channel binding or authzid, then `auth=Bearer <token>` and the extensions, each followed by
 * %x01, and a final %x01:
 *
 *   `n,,\x01auth=Bearer <token>\x01[key=value\x01]*\x01`
 *
 * Throws SaslAuthenticationError for a token or extension the broker's parser would refuse.
 */
export function oauthBearerInitialResponse(token: Pick<OAuthBearerToken, 'value' | 'extensions'>): Buffer {
  const value = token?.value
  if (typeof value !== 'string' || !B64TOKEN.test(value)) {
    throw new SaslAuthenticationError(
      'OAUTHBEARER',
      typeof value === 'string' && value.length > 0
        ? 'the token is not an RFC 6750 b64token (letters, digits, -._~+/ and trailing =)'
        : 'the token provider returned no token value',
    )
  }
  let message = `n,,${SEPARATOR}auth=Bearer ${value}${SEPARATOR}`
  for (const [key, v] of Object.entries(token.extensions ?? {})) {
    if (!EXTENSION_KEY.test(key) || key === 'auth') {
      throw new SaslAuthenticationError('OAUTHBEARER', `invalid SASL extension name ${JSON.stringify(key)}`)
    }
    if (typeof v !== 'string' || !EXTENSION_VALUE.test(v)) {
      throw new SaslAuthenticationError('OAUTHBEARER', `invalid value for SASL extension ${key}`)
    }
    message += `${key}=${v}${SEPARATOR}`
  }
  return Buffer.from(message + SEPARATOR, 'utf8')
}

/**
 * SASL/OAUTHBEARER (RFC 7628) as Kafka's OAuthBearerSaslClient speaks it. The token comes from the caller's
 * provider, asked once per authentication. The broker answers a good token with empty bytes. A bad one it answers
 * with an error JSON (`{"status":"invalid_token"}`) and no error code; the client must then send a lone %x01, which
 * the broker answers with SASL_AUTHENTICATION_FAILED carrying that JSON (OAuthBearerSaslServer).
 */
export class OAuthBearerSaslMechanism implements SaslMechanism {
  readonly name = 'OAUTHBEARER'
  credentialLifetimeMs: number | undefined
  /** The broker's error JSON (RFC 7628 §3.2.2), once it has refused the token. */
  serverError: string | undefined
  private state: 'initial' | 'sent' | 'acked' | 'done' = 'initial'

  constructor(
    private readonly provider: OAuthBearerTokenProvider,
    private readonly context: SaslContext,
  ) {}

  async start(): Promise<Buffer> {
    this.step('initial', 'sent')
    let token: OAuthBearerToken
    try {
      token = await this.provider({ broker: this.context.broker, signal: this.context.signal })
    } catch (err) {
      throw new SaslAuthenticationError(
        'OAUTHBEARER',
        `the token provider failed: ${err instanceof Error ? err.message : String(err)}`,
        err,
      )
    }
    const lifetime = token?.lifetimeMs
    this.credentialLifetimeMs = typeof lifetime === 'number' && lifetime > 0 ? lifetime : undefined
    return oauthBearerInitialResponse(token)
  }

  async next(challenge: Buffer): Promise<Buffer | null> {
    if (this.state === 'sent' && challenge.length === 0) {
      this.state = 'done'
      return null
    }
    if (this.state === 'sent') {
      this.state = 'acked'
      this.serverError = challenge.toString('utf8')
      return OAUTHBEARER_ERROR_ACK
    }
    // Only a broker that accepts our %x01 after its own error gets here; Kafka's never does.
    throw new SaslAuthenticationError(
      'OAUTHBEARER',
      this.state === 'acked'
        ? `the broker refused the token: ${this.serverError}`
        : `out of order: a challenge in state ${this.state}`,
    )
  }

  private step(from: OAuthBearerSaslMechanism['state'], to: OAuthBearerSaslMechanism['state']): void {
    if (this.state !== from) throw new SaslAuthenticationError('OAUTHBEARER', `out of order: in state ${this.state}`)
    this.state = to
  }
}
