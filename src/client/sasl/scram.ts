import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto'
import { ConfigError, SaslAuthenticationError } from '../errors.js'
import type { SaslMechanism } from './mechanism.js'

/**
 * The client side of SCRAM (RFC 5802) with SHA-256 and SHA-512 (RFC 7677), as Kafka speaks it (KIP-84): two
 * SaslAuthenticate round trips after SaslHandshake v1.
 *
 *   client-first `n,,n=<user>,r=<client nonce>`      → server-first `r=<nonce>,s=<salt>,i=<iterations>`
 *   client-final `c=biws,r=<nonce>,p=<ClientProof>`  → server-final `v=<ServerSignature>` (or `e=<error>`)
 *
 * The password never crosses the wire: the client proves it knows SaltedPassword = Hi(password, salt, i), and checks
 * the server's signature, which only a server holding the stored credential can compute (mutual authentication).
 *
 * Like Kafka's own ScramFormatter, passwords are used as their UTF-8 bytes without SASLprep (RFC 4013): a credential
 * created by Kafka's tools from the same string matches. No channel binding (gs2 header `n,,`).
 */

export type ScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512'

const DIGESTS: Record<ScramMechanism, 'sha256' | 'sha512'> = { 'SCRAM-SHA-256': 'sha256', 'SCRAM-SHA-512': 'sha512' }

/** Kafka refuses SCRAM credentials with fewer iterations (ScramMechanism.minIterations), and so do we. */
export const SCRAM_MIN_ITERATIONS = 4096
/**
 * Kafka never stores more iterations than this (ScramMechanism.maxIterations); a server asking for more is not a
 * Kafka broker, or wants to burn our CPU. Raise it with `maxIterations` for a server known to need more.
 */
export const SCRAM_MAX_ITERATIONS = 16384

/** The gs2 header: no channel binding, no authzid. Echoed base64-encoded in client-final as `c=biws`. */
const GS2_HEADER = 'n,,'

export interface ScramOptions {
  mechanism: ScramMechanism
  username: string
  password: string
  /** The client nonce. Random (24 bytes, base64url) unless given; give one only to reproduce a test vector. */
  nonce?: string
  /**
   * SCRAM extensions appended to client-first (RFC 5802 §5.1), e.g. `{ tokenauth: 'true' }` to authenticate with a
   * Kafka delegation token (KIP-48).
   */
  extensions?: Readonly<Record<string, string>>
  /** Highest iteration count accepted from the server. Default {@link SCRAM_MAX_ITERATIONS}. */
  maxIterations?: number
}

/** The fields of a server-first-message. */
export interface ScramServerFirst {
  /** Client nonce + server nonce. */
  nonce: string
  salt: Buffer
  iterations: number
}

/** Keys derived from the salted password (RFC 5802 §3). */
export interface ScramKeys {
  saltedPassword: Buffer
  clientKey: Buffer
  storedKey: Buffer
  serverKey: Buffer
}

/** RFC 5802 §5.1 `saslname`: `=` and `,` are escaped as `=3D` and `=2C`. */
export function escapeSaslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C')
}

/** Hi(str, salt, i) = PBKDF2 with HMAC-<hash> and an output the size of the hash (RFC 5802 §2.2). */
export function hi(digest: 'sha256' | 'sha512', password: Buffer, salt: Buffer, iterations: number): Promise<Buffer> {
  const length = digest === 'sha256' ? 32 : 64
  return new Promise((resolve, reject) => {
    // Asynchronous: PBKDF2 runs on libuv's thread pool instead of blocking the event loop for a few milliseconds.
    pbkdf2(password, salt, iterations, length, digest, (err, key) => (err ? reject(err) : resolve(key)))
  })
}

export function hmac(digest: 'sha256' | 'sha512', key: Buffer, data: string | Buffer): Buffer {
  return createHmac(digest, key).update(data).digest()
}

/**
 * ClientKey = HMAC(SaltedPassword, "Client Key"), StoredKey = H(ClientKey),
 * ServerKey = HMAC(SaltedPassword, "Server Key").
 */
export function scramKeys(digest: 'sha256' | 'sha512', saltedPassword: Buffer): ScramKeys {
  const clientKey = hmac(digest, saltedPassword, 'Client Key')
  return {
    saltedPassword,
    clientKey,
    storedKey: createHash(digest).update(clientKey).digest(),
    serverKey: hmac(digest, saltedPassword, 'Server Key'),
  }
}

/** Splits `a=1,b=2` into attributes; values may contain `=`. */
function attributes(message: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const part of message.split(',')) {
    const eq = part.indexOf('=')
    if (eq !== 1) continue
    out.set(part[0]!, part.slice(2))
  }
  return out
}

/**
 * The SCRAM exchange of one authentication, as a small state machine: `firstMessage()`, then
 * `finalMessage(serverFirst)`, then `verifyServerFinal(serverFinal)`. It only builds and checks messages; sending
 * them in SaslAuthenticate requests is the connection's job. A failed exchange throws SaslAuthenticationError;
 * bad options, ConfigError.
 */
export class ScramClient {
  readonly mechanism: ScramMechanism
  private readonly digest: 'sha256' | 'sha512'
  private readonly password: Buffer
  private readonly clientNonce: string
  private readonly clientFirstBare: string
  private readonly maxIterations: number
  private expectedServerSignature: Buffer | undefined
  private state: 'initial' | 'first-sent' | 'final-sent' | 'done' = 'initial'

  constructor(options: ScramOptions) {
    const { mechanism, username, password } = options
    const digest = DIGESTS[mechanism]
    if (!digest)
      throw new ConfigError(`unknown SCRAM mechanism ${String(mechanism)}; use SCRAM-SHA-256 or SCRAM-SHA-512`)
    if (typeof username !== 'string' || username.length === 0) throw new ConfigError(`${mechanism} needs a username`)
    if (typeof password !== 'string') throw new ConfigError(`${mechanism} needs a password`)
    this.mechanism = mechanism
    this.digest = digest
    this.password = Buffer.from(password, 'utf8')
    this.clientNonce = options.nonce ?? randomBytes(24).toString('base64url')
    if (this.clientNonce.length === 0 || /[,\s]/.test(this.clientNonce)) {
      throw new ConfigError(`${mechanism} nonce must be non-empty printable characters without commas`)
    }
    this.maxIterations = options.maxIterations ?? SCRAM_MAX_ITERATIONS
    let extensions = ''
    for (const [key, value] of Object.entries(options.extensions ?? {})) {
      if (!/^[A-Za-z][A-Za-z0-9]*$/.test(key) || key.length === 1 || value.includes(',')) {
        throw new ConfigError(`invalid SCRAM extension ${key}=${value}`)
      }
      extensions += `,${key}=${value}`
    }
    this.clientFirstBare = `n=${escapeSaslName(username)},r=${this.clientNonce}${extensions}`
  }

  /** client-first-message, the authBytes of the first SaslAuthenticate. */
  firstMessage(): Buffer {
    this.step('initial', 'first-sent')
    return Buffer.from(GS2_HEADER + this.clientFirstBare, 'utf8')
  }

  /** Reads the server-first-message and answers with client-final-message, which carries the ClientProof. */
  async finalMessage(serverFirstBytes: Uint8Array): Promise<Buffer> {
    this.step('first-sent', 'final-sent')
    const serverFirstMessage = Buffer.from(serverFirstBytes).toString('utf8')
    const serverFirst = this.parseServerFirst(serverFirstMessage)
    const saltedPassword = await hi(this.digest, this.password, serverFirst.salt, serverFirst.iterations)
    const keys = scramKeys(this.digest, saltedPassword)
    const withoutProof = `c=${Buffer.from(GS2_HEADER).toString('base64')},r=${serverFirst.nonce}`
    const authMessage = `${this.clientFirstBare},${serverFirstMessage},${withoutProof}`
    const clientSignature = hmac(this.digest, keys.storedKey, authMessage)
    const proof = Buffer.alloc(clientSignature.length)
    for (let i = 0; i < proof.length; i++) proof[i] = keys.clientKey[i]! ^ clientSignature[i]!
    this.expectedServerSignature = hmac(this.digest, keys.serverKey, authMessage)
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8')
  }

  /**
   * Checks the server-final-message: `e=` (the server refused) or a ServerSignature other than the one the password
   * implies (the server does not hold our credential: an impostor) throws.
   */
  verifyServerFinal(serverFinalBytes: Uint8Array): void {
    this.step('final-sent', 'done')
    const attrs = attributes(Buffer.from(serverFinalBytes).toString('utf8'))
    const error = attrs.get('e')
    if (error !== undefined) throw this.fail(`the server answered e=${error}`)
    const v = attrs.get('v')
    if (v === undefined) throw this.fail('server-final-message has no verifier (v=)')
    const signature = Buffer.from(v, 'base64')
    const expected = this.expectedServerSignature!
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
      throw this.fail('the server signature does not match: the server does not know this credential')
    }
  }

  /** Parses and validates a server-first-message against our nonce and the iteration bounds. */
  parseServerFirst(message: string): ScramServerFirst {
    const attrs = attributes(message)
    if (attrs.has('m')) throw this.fail('the server requires an unsupported mandatory extension (m=)')
    const nonce = attrs.get('r')
    const salt = attrs.get('s')
    const iterationsText = attrs.get('i')
    if (nonce === undefined || salt === undefined || iterationsText === undefined) {
      throw this.fail(`malformed server-first-message ${JSON.stringify(message.slice(0, 200))}`)
    }
    if (!nonce.startsWith(this.clientNonce) || nonce.length === this.clientNonce.length) {
      throw this.fail('the server nonce does not extend the client nonce')
    }
    const iterations = /^[0-9]{1,9}$/.test(iterationsText) ? Number(iterationsText) : Number.NaN
    if (!(iterations >= SCRAM_MIN_ITERATIONS && iterations <= this.maxIterations)) {
      throw this.fail(
        `iteration count ${iterationsText} is outside ${SCRAM_MIN_ITERATIONS}-${this.maxIterations}` +
          ' (raise maxIterations to allow more)',
      )
    }
    const saltBytes = Buffer.from(salt, 'base64')
    if (saltBytes.length === 0) throw this.fail('the server sent an empty salt')
    return { nonce, salt: saltBytes, iterations }
  }

  private step(from: ScramClient['state'], to: ScramClient['state']): void {
    if (this.state !== from) throw this.fail(`out of order: expected state ${from}, in ${this.state}`)
    this.state = to
  }

  private fail(message: string): SaslAuthenticationError {
    return new SaslAuthenticationError(this.mechanism, message)
  }
}

/** `sasl` options for SCRAM-SHA-256 and SCRAM-SHA-512. */
export type ScramSaslOptions = Omit<ScramOptions, 'nonce'>

/**
 * SCRAM as a {@link SaslMechanism}: client-first, then client-final in answer to server-first, then the server-final
 * is verified (a broker that cannot prove it holds our credential fails the exchange) and the exchange is complete.
 */
export class ScramSaslMechanism implements SaslMechanism {
  readonly name: ScramMechanism
  private readonly client: ScramClient
  private answered = 0

  /** Throws ConfigError for bad options (see {@link ScramClient}). */
  constructor(options: ScramOptions) {
    this.client = new ScramClient(options)
    this.name = this.client.mechanism
  }

  async start(): Promise<Buffer> {
    return this.client.firstMessage()
  }

  async next(challenge: Buffer): Promise<Buffer | null> {
    // ScramClient enforces the order itself: a third challenge fails its state check.
    if (this.answered++ === 0) return this.client.finalMessage(challenge)
    this.client.verifyServerFinal(challenge)
    return null
  }
}
