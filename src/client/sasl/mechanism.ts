/** What a mechanism learns about the authentication it takes part in. */
export interface SaslContext {
  /** `host:port` of the broker being authenticated to. */
  readonly broker: string
  /** Aborted when the authentication is abandoned: connect timeout, the caller's signal, the connection closing. */
  readonly signal: AbortSignal
}

/**
 * The client side of one SASL exchange, independent of how its messages travel. On Kafka each message is the
 * `authBytes` of one SaslAuthenticate request after SaslHandshake v1 (KIP-152); the connection sends them and hands
 * back the broker's answers. A broker refusing the exchange does so with an error code, which the connection
 * reports; a mechanism only checks what the broker sends when it succeeds (SCRAM's server signature).
 *
 * A mechanism is stateful and serves exactly one authentication: the connection makes a new one for every
 * authentication and re-authentication (KIP-368), so SCRAM draws a fresh nonce and OAUTHBEARER asks for a token.
 */
export interface SaslMechanism {
  /** The name sent in SaslHandshake, e.g. `SCRAM-SHA-512`. */
  readonly name: string
  /** The first client message. */
  start(): Promise<Buffer>
  /**
   * The broker's answer to our last message: the next message to send, or `null` when the exchange is complete.
   * Throws SaslAuthenticationError when the answer breaks the mechanism's rules.
   */
  next(challenge: Buffer): Promise<Buffer | null>
  /** How long the credential stays valid, when the mechanism knows it (an OAUTHBEARER token's lifetime). */
  readonly credentialLifetimeMs?: number
}
