import { EventEmitter } from 'node:events'
import net from 'node:net'
import tls from 'node:tls'
import type { Api, RequestOf, ResponseOf } from '../protocol/api.js'
import { ApiVersions } from '../protocol/apis/api-versions.js'
import { SaslAuthenticate } from '../protocol/apis/sasl-authenticate.js'
import { SaslHandshake } from '../protocol/apis/sasl-handshake.js'
import { ErrorCode, errorByCode } from '../protocol/error-codes.js'
import { ProtocolError, UnsupportedVersionError } from '../protocol/errors.js'
import { decodeResponse, encodeRequestChunks } from '../protocol/frame.js'
import { KafkaError } from '../protocol/kafka-error.js'
import { Reader } from '../protocol/reader.js'
import { raceAbort } from './abort.js'
import { AbortedError, ConfigError, ConnectionError, RequestTimeoutError, SaslAuthenticationError } from './errors.js'
import { createSaslMechanism, type SaslOptions, validateSaslOptions } from './sasl/index.js'
import { type BrokerApiRange, negotiateVersion } from './versions.js'

/** Options for one broker connection. */
export interface ConnectionOptions {
  host: string
  port: number
  /** Sent in every request header; brokers log it and quotas key on it. Default `skiff`. */
  clientId?: string | null
  /** `true` for TLS with Node's defaults, or `node:tls` options (ca, cert, key, servername...). */
  tls?: boolean | tls.ConnectionOptions
  /** Default 10 000. */
  connectTimeoutMs?: number
  /** Default for each request; a request can override it. Default 30 000. */
  requestTimeoutMs?: number
  /** Requests awaiting a response at once; more wait their turn (still under their own timeout). Default 32. */
  maxInFlight?: number
  /** A response frame declaring more bytes than this is refused before it is buffered. Default 256 MiB. */
  maxResponseBytes?: number
  /** Aborts connecting (and the ApiVersions handshake and SASL authentication). */
  signal?: AbortSignal
  /** Ask the broker's ApiVersions after connecting, so `request()` can pick versions. Default true. */
  handshake?: boolean
  /**
   * Authenticate with SASL after the ApiVersions handshake (a SASL_PLAINTEXT listener, or SASL_SSL with `tls`), and
   * re-authenticate before the session the broker grants runs out (KIP-368). Needs `handshake` (the default).
   */
  sasl?: SaslOptions
  /** KIP-511 client software name/version, sent in ApiVersions v3+. */
  clientSoftwareName?: string
  clientSoftwareVersion?: string
}

/** Options for one request. */
export interface RequestOptions {
  /** Force a version; otherwise the highest both sides support. */
  version?: number
  timeoutMs?: number
  signal?: AbortSignal
}

interface Pending {
  readonly api: Api
  readonly version: number
  readonly resolve: (frame: Buffer) => void
  readonly reject: (err: Error) => void
  timer: NodeJS.Timeout | undefined
  /** Settled by a timeout or an abort: the response, when it comes, is read off the stream and dropped. */
  abandoned: boolean
  cleanup: (() => void) | undefined
}

/** A request waiting its turn: for an in-flight slot, or for a re-authentication to finish. */
interface Waiter {
  /** Called when the request may go; a slot, if it needs one, is already counted for it. */
  readonly go: () => void
  readonly reject: (err: Error) => void
}

const DEFAULTS = {
  clientId: 'skiff',
  connectTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxInFlight: 32,
  maxResponseBytes: 256 * 1024 * 1024,
}

const MAX_CORRELATION_ID = 0x7fffffff
/** More SaslAuthenticate round trips than any mechanism needs (SCRAM takes two) means the exchange is looping. */
const MAX_SASL_ROUNDS = 10
/** Reported to brokers as ClientSoftwareVersion (KIP-511). */
const SKIFF_VERSION = '0.1.0'

/**
 * One TCP or TLS connection to one broker, with pipelining: many requests in flight, each response matched to
 * its request by correlation id. Writes made in the same tick are coalesced into one syscall (cork/uncork);
 * response frames are cut from the socket's chunks without copying when a frame sits in one chunk.
 *
 * With `sasl`, the connection authenticates before it is handed out, and re-authenticates on its own before the
 * session the broker granted ends (KIP-368): new requests wait (under their own timeouts) while the in-flight ones
 * finish and SaslHandshake + SaslAuthenticate run again, then go out in order. A failed re-authentication closes
 * the connection with a SaslAuthenticationError, which every waiting request gets.
 *
 * Events: `close` (err?: Error) once the socket is gone, whatever the reason; `reauthenticated` (count: number)
 * after each successful re-authentication.
 */
export class Connection extends EventEmitter {
  /** `host:port`, for messages. */
  readonly broker: string
  /** The broker's ApiVersions answer, by api key (empty when connected with `handshake: false`). */
  apiVersions: ReadonlyMap<number, BrokerApiRange> = new Map()
  /** Cluster-wide finalized feature levels (KIP-584), e.g. `metadata.version`, `transaction.version`. */
  finalizedFeatures: ReadonlyMap<string, number> = new Map()

  private readonly socket: net.Socket
  private readonly clientId: string | null
  private readonly requestTimeoutMs: number
  private readonly maxInFlight: number
  private readonly maxResponseBytes: number
  private readonly pending = new Map<number, Pending>()
  /** Requests waiting for an in-flight slot (or a re-authentication), in order. */
  private readonly waitingForSlot: Waiter[] = []
  /** Requests without a response (acks=0 Produce) waiting for a re-authentication to finish. */
  private readonly waitingForGate: Waiter[] = []
  private inFlight = 0
  private readonly sasl: SaslOptions | undefined
  private readonly connectTimeoutMs: number
  /** True while re-authenticating: nothing but SASL requests may be written. */
  private paused = false
  /** Resolves the re-authentication's wait for in-flight requests to finish. */
  private drained: (() => void) | undefined
  private reauthTimer: NodeJS.Timeout | undefined
  private reauthCount = 0
  private nextCorrelationId = 0
  private corked = false
  private closedWith: Error | undefined
  private closed = false

  // Read state: unconsumed chunks, the offset into the first one, and the size of the frame being assembled.
  private chunks: Buffer[] = []
  private head = 0
  private buffered = 0
  private frameSize = -1

  private constructor(socket: net.Socket, options: ConnectionOptions) {
    super()
    this.socket = socket
    this.broker = `${options.host}:${options.port}`
    this.clientId = options.clientId === undefined ? DEFAULTS.clientId : options.clientId
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs
    this.maxInFlight = options.maxInFlight ?? DEFAULTS.maxInFlight
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULTS.maxResponseBytes
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs
    this.sasl = options.sasl
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('error', (err) => this.fail(new ConnectionError(`connection failed: ${err.message}`, this.broker, err)))
    socket.on('close', () => this.fail(new ConnectionError('connection closed by the broker', this.broker)))
  }

  /**
   * Connects and, unless `handshake: false`, asks the broker which API versions it speaks (falling back to
   * ApiVersions v0 when the broker rejects our version, KIP-511), then authenticates when `sasl` is given. All of
   * it happens within `connectTimeoutMs`.
   */
  static async connect(options: ConnectionOptions): Promise<Connection> {
    validate(options)
    const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs
    const deadline = Date.now() + connectTimeoutMs
    const broker = `${options.host}:${options.port}`
    const signal = options.signal
    if (signal?.aborted) throw new AbortedError(`connecting to ${broker}`, signal.reason)

    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const useTls = options.tls !== undefined && options.tls !== false
      const tlsOptions = typeof options.tls === 'object' ? options.tls : {}
      const s = useTls
        ? tls.connect({
            servername: net.isIP(options.host) ? undefined : options.host,
            ...tlsOptions,
            host: options.host,
            port: options.port,
          })
        : net.connect({ host: options.host, port: options.port })
      const readyEvent = useTls ? 'secureConnect' : 'connect'
      const done = (err?: Error) => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        s.removeListener(readyEvent, onReady)
        s.removeListener('error', onError)
        if (err) {
          s.destroy()
          reject(err)
        } else resolve(s)
      }
      const onReady = () => done()
      const onError = (err: Error) => done(new ConnectionError(`cannot connect: ${err.message}`, broker, err))
      const onAbort = () => done(new AbortedError(`connecting to ${broker}`, signal?.reason))
      const timer = setTimeout(
        () => done(new ConnectionError(`no connection within ${connectTimeoutMs} ms`, broker)),
        connectTimeoutMs,
      )
      s.once(readyEvent, onReady)
      s.once('error', onError)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
    socket.setNoDelay(true)
    socket.setKeepAlive(true, 60_000)

    const conn = new Connection(socket, options)
    if (options.handshake !== false) {
      try {
        await conn.handshake(options, remaining(deadline), signal)
        if (conn.sasl) await conn.authenticate(deadline, signal, false)
      } catch (err) {
        conn.destroy()
        throw err
      }
    }
    return conn
  }

  /** Successful re-authentications (KIP-368) of this connection so far. */
  get reauthentications(): number {
    return this.reauthCount
  }

  /**
   * One SASL exchange: SaslHandshake v1 (KIP-152), then SaslAuthenticate round trips until the mechanism is done,
   * then the re-authentication timer for the session the broker granted. Runs with no other request in flight:
   * before the connection is handed out, or paused for a re-authentication.
   */
  private async authenticate(deadline: number, signal: AbortSignal | undefined, reauthentication: boolean) {
    // The mechanism's own steps (a token provider, PBKDF2) are bounded by the same deadline as the requests.
    const controller = new AbortController()
    const mechanism = createSaslMechanism(this.sasl!, { broker: this.broker, signal: controller.signal })
    const budgetMs = remaining(deadline)
    const timer = setTimeout(
      () =>
        controller.abort(new ConnectionError(`SASL authentication did not finish within ${budgetMs} ms`, this.broker)),
      budgetMs,
    )
    timer.unref()
    const onAbort = () => controller.abort(new AbortedError(`authenticating to ${this.broker}`, signal?.reason))
    signal?.addEventListener('abort', onAbort, { once: true })
    const onClose = (err: Error) => controller.abort(err)
    this.once('close', onClose)
    const bounded = <T>(step: Promise<T>) => raceAbort(step, controller.signal)
    const refused = (
      message: string,
      cause?: unknown,
      details: { enabledMechanisms?: readonly string[]; errorMessage?: string } = {},
    ) =>
      new SaslAuthenticationError(mechanism.name, message, cause, { ...details, broker: this.broker, reauthentication })

    try {
      const handshakeVersion = this.versionFor(SaslHandshake)
      if (handshakeVersion < 1) {
        // v0 sends the tokens as bare frames instead of SaslAuthenticate requests (Kafka < 1.0); not supported.
        throw new UnsupportedVersionError(`broker ${this.broker} offers only SaslHandshake v0 (before KIP-152)`)
      }
      const handshake = await this.sendNow(
        SaslHandshake,
        handshakeVersion,
        { mechanism: mechanism.name },
        remaining(deadline),
        signal,
      )
      if (handshake.errorCode === ErrorCode.UNSUPPORTED_SASL_MECHANISM) {
        const enabled = [...handshake.mechanisms]
        throw refused(
          `the broker does not offer ${mechanism.name}; its enabled mechanisms are ${enabled.join(', ') || '(none)'}`,
          undefined,
          { enabledMechanisms: enabled },
        )
      }
      if (handshake.errorCode !== 0) throw refused(`SaslHandshake answered ${errorByCode(handshake.errorCode).name}`)

      const version = this.versionFor(SaslAuthenticate)
      let message = await bounded(mechanism.start())
      for (let round = 1; ; round++) {
        const res = await this.sendNow(SaslAuthenticate, version, { authBytes: message }, remaining(deadline), signal)
        if (res.errorCode !== 0) {
          const name = errorByCode(res.errorCode).name
          const text = res.errorMessage || undefined
          throw refused(text ? `${name}: ${text}` : name, undefined, { errorMessage: text })
        }
        const next = await bounded(mechanism.next(Buffer.from(res.authBytes)))
        if (next === null) {
          this.scheduleReauthentication(Number(res.sessionLifetimeMs), mechanism.credentialLifetimeMs)
          return
        }
        if (round >= MAX_SASL_ROUNDS) throw refused(`no outcome after ${round} SaslAuthenticate round trips`)
        message = next
      }
    } catch (err) {
      // The broker closing the socket mid-exchange, a timeout or an abort keep their own types; what the mechanism
      // or the broker refused is a SaslAuthenticationError already. Both carry this connection's broker.
      if (err instanceof SaslAuthenticationError && err.broker === undefined) throw refused(err.reason, err.cause)
      throw err
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      this.removeListener('close', onClose)
    }
  }

  /**
   * KIP-368: a session of `sessionLifetimeMs` must be renewed before it ends, or the broker closes the connection
   * at its next request. Like Kafka's SaslClientAuthenticator, renew at a random point between 85% and 95% of the
   * lifetime: room for latency and clock drift, and connections made together do not all renew together.
   */
  private scheduleReauthentication(sessionLifetimeMs: number, credentialLifetimeMs: number | undefined): void {
    clearTimeout(this.reauthTimer)
    this.reauthTimer = undefined
    // 0 means the broker does not expire sessions (connections.max.reauth.ms unset): nothing to renew.
    if (!(sessionLifetimeMs > 0) || this.closed) return
    const lifetime = Math.min(sessionLifetimeMs, credentialLifetimeMs ?? Number.POSITIVE_INFINITY)
    this.reauthTimer = setTimeout(() => void this.reauthenticate(), reauthenticationDelayMs(lifetime))
    this.reauthTimer.unref()
  }

  private async reauthenticate(): Promise<void> {
    this.reauthTimer = undefined
    if (this.closed) return
    this.paused = true
    try {
      if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve))
      if (this.closed) return
      await this.authenticate(Date.now() + this.connectTimeoutMs, undefined, true)
    } catch (err) {
      const mechanism = this.sasl!.mechanism
      this.fail(
        err instanceof SaslAuthenticationError
          ? err
          : new SaslAuthenticationError(mechanism, (err as Error).message, err, {
              broker: this.broker,
              reauthentication: true,
            }),
      )
      return
    }
    this.paused = false
    this.reauthCount++
    this.emit('reauthenticated', this.reauthCount)
    this.pump()
  }

  private async handshake(options: ConnectionOptions, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const { response } = await this.exchangeApiVersions({
      timeoutMs,
      signal,
      clientSoftwareName: options.clientSoftwareName,
      clientSoftwareVersion: options.clientSoftwareVersion,
    })
    const ranges = new Map<number, BrokerApiRange>()
    for (const k of response.apiKeys) ranges.set(k.apiKey, { min: k.minVersion, max: k.maxVersion })
    this.apiVersions = ranges
    const features = new Map<string, number>()
    for (const f of response.finalizedFeatures) features.set(f.name, f.maxVersionLevel)
    this.finalizedFeatures = features
  }

  /**
   * Asks the broker's ApiVersions, starting at `startVersion` (default: our newest). KIP-511: a broker that does not
   * know that version answers UNSUPPORTED_VERSION (35) with a v0 body listing its own range; we then retry once at
   * the highest version both sides know. Resolves with the answer and the versions the broker rejected.
   */
  async exchangeApiVersions(
    options: {
      startVersion?: number
      timeoutMs?: number
      signal?: AbortSignal
      clientSoftwareName?: string
      clientSoftwareVersion?: string
    } = {},
  ): Promise<{ version: number; rejected: number[]; response: ResponseOf<typeof ApiVersions> }> {
    const body = {
      clientSoftwareName: options.clientSoftwareName ?? 'skiff',
      clientSoftwareVersion: options.clientSoftwareVersion ?? SKIFF_VERSION,
    }
    const rejected: number[] = []
    let version = options.startVersion ?? ApiVersions.versions.max
    for (;;) {
      const frame = await this.send(ApiVersions, version, body, options)
      const errorCode = frame.length >= 6 ? frame.readInt16BE(4) : 0
      if (errorCode === ErrorCode.UNSUPPORTED_VERSION) {
        const v0 = decodeResponse(ApiVersions, 0, frame)
        const theirs = v0.apiKeys.find((k) => k.apiKey === ApiVersions.key)
        const next = Math.min(ApiVersions.versions.max, theirs?.maxVersion ?? -1)
        rejected.push(version)
        if (next < 0 || next >= version || rejected.length > 1) {
          throw new UnsupportedVersionError(
            `broker ${this.broker} rejected ApiVersions v${version} and offers ${theirs ? `${theirs.minVersion}-${theirs.maxVersion}` : 'no ApiVersions at all'}`,
          )
        }
        version = next
        continue
      }
      const response = decodeResponse(ApiVersions, version, frame)
      if (response.errorCode !== 0) {
        throw KafkaError.fromCode(response.errorCode, { api: 'ApiVersions', broker: this.broker })
      }
      return { version, rejected, response }
    }
  }

  /** The version this connection will use for `api`: the highest both sides support. */
  versionFor(api: Api): number {
    return negotiateVersion(api, this.apiVersions.get(api.key), this.broker)
  }

  /** Sends a request and resolves with the decoded response. */
  async request<A extends Api>(api: A, body: RequestOf<A>, options: RequestOptions = {}): Promise<ResponseOf<A>> {
    const version = options.version ?? this.versionFor(api)
    const frame = await this.send(api, version, body, options)
    return decodeResponse(api, version, frame)
  }

  /**
   * Sends a request whose response the broker will not send (Produce with acks=0). Resolves once the bytes are
   * handed to the socket.
   */
  async requestNoResponse<A extends Api>(api: A, body: RequestOf<A>, options: RequestOptions = {}): Promise<void> {
    const version = options.version ?? this.versionFor(api)
    this.assertOpen()
    if (this.paused) {
      const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs
      await this.waitTurn(this.waitingForGate, api, Date.now() + timeoutMs, timeoutMs, options.signal)
      this.assertOpen()
    }
    const frame = encodeRequestChunks(api, version, this.takeCorrelationId(), this.clientId, body)
    await new Promise<void>((resolve, reject) => {
      this.write(frame, (err) =>
        err ? reject(new ConnectionError(`write failed: ${err.message}`, this.broker, err)) : resolve(),
      )
    })
  }

  /** Sends an encoded request and resolves with the raw response frame (size prefix removed). */
  async send<A extends Api>(
    api: A,
    version: number,
    body: RequestOf<A>,
    options: RequestOptions = {},
  ): Promise<Buffer> {
    this.assertOpen()
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs
    const signal = options.signal
    if (signal?.aborted) throw new AbortedError(`${api.name} request to ${this.broker}`, signal.reason)
    const deadline = Date.now() + timeoutMs
    // Wait behind earlier waiters too, so requests go out in the order they were made.
    if (this.paused || this.waitingForSlot.length > 0 || this.inFlight >= this.maxInFlight) {
      await this.waitTurn(this.waitingForSlot, api, deadline, timeoutMs, signal)
    } else this.inFlight++
    return this.transmit(api, version, body, deadline, timeoutMs, signal)
  }

  /** A SASL request: written at once, past the gate that holds other requests during a re-authentication. */
  private async sendNow<A extends Api>(
    api: A,
    version: number,
    body: RequestOf<A>,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<ResponseOf<A>> {
    this.assertOpen()
    if (signal?.aborted) throw new AbortedError(`${api.name} request to ${this.broker}`, signal.reason)
    this.inFlight++
    const frame = await this.transmit(api, version, body, Date.now() + timeoutMs, timeoutMs, signal)
    return decodeResponse(api, version, frame)
  }

  /** Writes a request whose in-flight slot is already counted, and resolves with its response frame. */
  private transmit<A extends Api>(
    api: A,
    version: number,
    body: RequestOf<A>,
    deadline: number,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<Buffer> {
    let frame: Uint8Array[]
    let correlationId: number
    try {
      this.assertOpen()
      correlationId = this.takeCorrelationId()
      // A bad request body fails here without touching the connection.
      frame = encodeRequestChunks(api, version, correlationId, this.clientId, body)
    } catch (err) {
      if (!this.closed) this.releaseSlot()
      return Promise.reject(err)
    }
    return new Promise<Buffer>((resolve, reject) => {
      const entry: Pending = { api, version, resolve, reject, timer: undefined, abandoned: false, cleanup: undefined }
      const abandon = (err: Error) => {
        if (entry.abandoned) return
        entry.abandoned = true
        entry.cleanup?.()
        this.releaseSlot()
        reject(err)
      }
      const remaining = Math.max(0, deadline - Date.now())
      entry.timer = setTimeout(() => abandon(new RequestTimeoutError(api.name, this.broker, timeoutMs)), remaining)
      if (signal) {
        const onAbort = () => abandon(new AbortedError(`${api.name} request to ${this.broker}`, signal.reason))
        signal.addEventListener('abort', onAbort, { once: true })
        entry.cleanup = () => {
          clearTimeout(entry.timer)
          signal.removeEventListener('abort', onAbort)
        }
      } else {
        entry.cleanup = () => clearTimeout(entry.timer)
      }
      this.pending.set(correlationId, entry)
      this.write(frame)
    })
  }

  /** Requests awaiting their response. */
  get inFlightCount(): number {
    return this.inFlight
  }

  get isClosed(): boolean {
    return this.closed
  }

  /** Closes the connection; requests still waiting are rejected with a ConnectionError. */
  async close(): Promise<void> {
    if (this.closed && this.socket.destroyed) return
    const closedEvent = new Promise<void>((resolve) => {
      if (this.socket.destroyed) resolve()
      else this.socket.once('close', () => resolve())
    })
    this.fail(new ConnectionError('connection closed by the client', this.broker))
    await closedEvent
  }

  /** Closes at once (same as close() without waiting for the socket). */
  destroy(err?: Error): void {
    this.fail(err ?? new ConnectionError('connection closed by the client', this.broker))
  }

  private assertOpen(): void {
    if (this.closed) {
      throw this.closedWith ?? new ConnectionError('connection is closed', this.broker)
    }
  }

  private takeCorrelationId(): number {
    // Correlation ids are int32; wrap before 2^31 and skip ids still awaiting (or abandoned by) a response.
    let id = this.nextCorrelationId
    while (this.pending.has(id)) id = id >= MAX_CORRELATION_ID ? 0 : id + 1
    this.nextCorrelationId = id >= MAX_CORRELATION_ID ? 0 : id + 1
    return id
  }

  /**
   * Waits in `queue` until `pump()` lets the request go (for the slot queue, with its slot already counted), or its
   * own deadline or signal ends the wait.
   */
  private waitTurn(
    queue: Waiter[],
    api: Api,
    deadline: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
      }
      const waiter: Waiter = {
        go: () => {
          done()
          resolve()
        },
        reject: (err) => {
          done()
          reject(err)
        },
      }
      const leave = (err: Error) => {
        const i = queue.indexOf(waiter)
        if (i >= 0) queue.splice(i, 1)
        waiter.reject(err)
      }
      const onAbort = () => leave(new AbortedError(`${api.name} request to ${this.broker}`, signal?.reason))
      const timer = setTimeout(
        () => leave(new RequestTimeoutError(api.name, this.broker, timeoutMs)),
        Math.max(0, deadline - Date.now()),
      )
      signal?.addEventListener('abort', onAbort, { once: true })
      queue.push(waiter)
    })
  }

  /** Lets waiting requests go: all of them past the gate, and as many as there are free in-flight slots. */
  private pump(): void {
    if (this.paused || this.closed) return
    for (const waiter of this.waitingForGate.splice(0)) waiter.go()
    while (this.waitingForSlot.length > 0 && this.inFlight < this.maxInFlight) {
      this.inFlight++
      this.waitingForSlot.shift()!.go()
    }
  }

  private releaseSlot(): void {
    this.inFlight--
    if (!this.paused) this.pump()
    else if (this.inFlight === 0 && this.drained) {
      const drained = this.drained
      this.drained = undefined
      drained()
    }
  }

  /** Writes a frame's buffers; those written in the same tick go out together (cork → one writev). */
  private write(frame: readonly Uint8Array[], cb?: (err?: Error | null) => void): void {
    if (!this.corked) {
      this.corked = true
      this.socket.cork()
      process.nextTick(() => {
        this.corked = false
        this.socket.uncork()
      })
    }
    const last = frame.length - 1
    for (let i = 0; i < last; i++) this.socket.write(frame[i]!)
    this.socket.write(frame[last]!, cb)
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk)
    this.buffered += chunk.length
    while (!this.closed) {
      if (this.frameSize < 0) {
        if (this.buffered < 4) return
        const size = this.readSize()
        if (size < 4 || size > this.maxResponseBytes) {
          this.fail(
            new ProtocolError(
              size < 4
                ? `response frame of ${size} bytes is too small for a header (broker ${this.broker})`
                : `response frame of ${size} bytes exceeds maxResponseBytes ${this.maxResponseBytes} (broker ${this.broker})`,
            ),
          )
          return
        }
        this.frameSize = size
      }
      if (this.buffered < this.frameSize) return
      const frame = this.take(this.frameSize)
      this.frameSize = -1
      this.dispatch(frame)
    }
  }

  private readSize(): number {
    const first = this.chunks[0]!
    if (first.length - this.head >= 4) {
      const size = first.readInt32BE(this.head)
      this.consume(4)
      return size
    }
    return this.take(4).readInt32BE(0)
  }

  private consume(n: number): void {
    this.buffered -= n
    while (n > 0) {
      const first = this.chunks[0]!
      const left = first.length - this.head
      if (n < left) {
        this.head += n
        return
      }
      n -= left
      this.chunks.shift()
      this.head = 0
    }
  }

  /** The next `n` buffered bytes: a view when they sit in one chunk, otherwise one copy. */
  private take(n: number): Buffer {
    const first = this.chunks[0]!
    if (first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n)
      this.consume(n)
      return out
    }
    const out = Buffer.allocUnsafe(n)
    let filled = 0
    while (filled < n) {
      const c = this.chunks[0]!
      const count = Math.min(c.length - this.head, n - filled)
      c.copy(out, filled, this.head, this.head + count)
      filled += count
      this.consume(count)
    }
    return out
  }

  private dispatch(frame: Buffer): void {
    const correlationId = new Reader(frame).int32('CorrelationId')
    const entry = this.pending.get(correlationId)
    if (!entry) {
      // Kafka answers in order on a connection; an id we never sent means the stream is out of step.
      this.fail(new ProtocolError(`response with unknown correlation id ${correlationId} from ${this.broker}`))
      return
    }
    this.pending.delete(correlationId)
    if (entry.abandoned) return
    entry.abandoned = true
    entry.cleanup?.()
    this.releaseSlot()
    entry.resolve(frame)
  }

  private fail(err: Error): void {
    if (this.closed) return
    this.closed = true
    this.closedWith = err
    clearTimeout(this.reauthTimer)
    this.reauthTimer = undefined
    for (const entry of this.pending.values()) {
      if (entry.abandoned) continue
      entry.abandoned = true
      entry.cleanup?.()
      entry.reject(err)
    }
    this.pending.clear()
    this.inFlight = 0
    for (const waiter of this.waitingForSlot.splice(0)) waiter.reject(err)
    for (const waiter of this.waitingForGate.splice(0)) waiter.reject(err)
    const drained = this.drained
    this.drained = undefined
    drained?.()
    this.chunks = []
    this.buffered = 0
    this.socket.destroy()
    this.emit('close', err)
  }
}

function validate(o: ConnectionOptions): void {
  if (typeof o.host !== 'string' || o.host.length === 0) throw new ConfigError('host must be a non-empty string')
  if (!Number.isInteger(o.port) || o.port <= 0 || o.port > 65535) throw new ConfigError(`invalid port: ${o.port}`)
  for (const k of ['connectTimeoutMs', 'requestTimeoutMs', 'maxInFlight', 'maxResponseBytes'] as const) {
    const v = o[k]
    if (v !== undefined && (!Number.isFinite(v) || v <= 0))
      throw new ConfigError(`${k} must be a positive number, got ${v}`)
  }
  if (o.sasl !== undefined) {
    // SASL versions come from the broker's ApiVersions answer.
    if (o.handshake === false) throw new ConfigError('sasl needs the ApiVersions handshake; drop handshake: false')
    validateSaslOptions(o.sasl)
  }
}

/** Milliseconds left until `deadline`, at least 1 so a late step still fails through its own timeout. */
function remaining(deadline: number): number {
  return Math.max(1, deadline - Date.now())
}

/**
 * When to re-authenticate a session of `sessionLifetimeMs` (KIP-368): at a random point between 85% and 95% of it,
 * as Kafka's SaslClientAuthenticator does. `random` is in [0, 1).
 */
export function reauthenticationDelayMs(sessionLifetimeMs: number, random: number = Math.random()): number {
  return Math.floor(sessionLifetimeMs * (0.85 + 0.1 * random))
}
