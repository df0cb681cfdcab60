import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, test } from 'vitest'
import { Connection, type ConnectionOptions, reauthenticationDelayMs } from '../../../src/client/connection.js'
import {
  AbortedError,
  ConfigError,
  ConnectionError,
  RequestTimeoutError,
  SaslAuthenticationError,
} from '../../../src/client/errors.js'
import type { SaslOptions } from '../../../src/client/sasl/index.js'
import { ApiVersions } from '../../../src/protocol/apis/api-versions.js'
import { ALL_APIS } from '../../../src/protocol/apis/index.js'
import { Metadata } from '../../../src/protocol/apis/metadata.js'
import { SaslAuthenticate, type SaslAuthenticateResponse } from '../../../src/protocol/apis/sasl-authenticate.js'
import { SaslHandshake } from '../../../src/protocol/apis/sasl-handshake.js'
import { decodeRequest, decodeRequestHeader, encodeResponse } from '../../../src/protocol/frame.js'

/**
 * Authentication and KIP-368 re-authentication inside Connection, against a scripted broker that speaks ApiVersions,
 * SaslHandshake, SaslAuthenticate and Metadata and logs what it receives and answers, so tests can check what went
 * on the wire in which order. What a real broker accepts is tested in test/conformance/auth.test.ts.
 */

interface AuthStep {
  /** The client message. */
  authBytes: Buffer
  /** 1 for the first authentication on the connection, 2 for the first re-authentication... */
  authentication: number
  /** 1 for the first SaslAuthenticate of this authentication. */
  round: number
}

interface Script {
  mechanisms?: string[]
  /** The answer to a SaslAuthenticate. Default: success, empty bytes, no session lifetime. */
  authenticate?: (step: AuthStep) => Partial<SaslAuthenticateResponse> | Promise<Partial<SaslAuthenticateResponse>>
  /** How long Metadata answers take, by the request's first topic. */
  metadataDelayMs?: number | ((topic: string) => number)
}

const flexibleOf = (key: number, version: number) => ALL_APIS.find((a) => a.key === key)?.isFlexible(version) ?? false
const servers: net.Server[] = []

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
})

/** What a request frame is, for the log. */
function received(frame: Buffer): string {
  const { apiKey } = decodeRequestHeader(frame, flexibleOf).header
  if (apiKey === SaslHandshake.key) return `SaslHandshake(${decodeRequest(SaslHandshake, frame).body.mechanism})`
  if (apiKey === Metadata.key) return `Metadata(${decodeRequest(Metadata, frame).body.topics?.[0]?.name ?? ''})`
  return ALL_APIS.find((a) => a.key === apiKey)?.name ?? `api ${apiKey}`
}

async function saslBroker(script: Script = {}) {
  /** `<-Name` when a request arrives, `->Name` when its answer is written; Metadata carries its first topic. */
  const log: string[] = []
  const authBytes: Buffer[] = []
  const server = net.createServer((socket) => {
    let buf = Buffer.alloc(0)
    let authentication = 0
    let round = 0
    // Like a broker, one request at a time per connection: answers go out in order.
    let queue = Promise.resolve()
    const answer = (label: string, frame: Buffer) => {
      log.push(`->${label}`)
      if (!socket.destroyed) socket.write(frame)
    }
    const handle = async (frame: Buffer) => {
      const { header } = decodeRequestHeader(frame, flexibleOf)
      const { apiVersion: v, correlationId: id } = header
      switch (header.apiKey) {
        case ApiVersions.key: {
          const apiKeys = [ApiVersions, SaslHandshake, SaslAuthenticate, Metadata].map((a) => ({
            apiKey: a.key,
            minVersion: a.versions.min,
            maxVersion: a.versions.max,
          }))
          answer('ApiVersions', encodeResponse(ApiVersions, v, id, { errorCode: 0, apiKeys, throttleTimeMs: 0 }))
          return
        }
        case SaslHandshake.key: {
          const { mechanism } = decodeRequest(SaslHandshake, frame).body
          authentication++
          round = 0
          const mechanisms = script.mechanisms ?? ['PLAIN', 'SCRAM-SHA-512', 'OAUTHBEARER']
          const errorCode = mechanisms.includes(mechanism) ? 0 : 33
          answer('SaslHandshake', encodeResponse(SaslHandshake, v, id, { errorCode, mechanisms }))
          if (errorCode !== 0) socket.end()
          return
        }
        case SaslAuthenticate.key: {
          const body = decodeRequest(SaslAuthenticate, frame).body
          authBytes.push(Buffer.from(body.authBytes))
          const res = await (script.authenticate ?? (() => ({})))({
            authBytes: Buffer.from(body.authBytes),
            authentication,
            round: ++round,
          })
          const full = { errorCode: 0, errorMessage: '', authBytes: Buffer.alloc(0), sessionLifetimeMs: 0n, ...res }
          answer('SaslAuthenticate', encodeResponse(SaslAuthenticate, v, id, full))
          if (full.errorCode !== 0) socket.end()
          return
        }
        case Metadata.key: {
          const name = decodeRequest(Metadata, frame).body.topics?.[0]?.name ?? ''
          if (name === 'no-reply') return
          const delay = script.metadataDelayMs
          const ms = typeof delay === 'function' ? delay(name) : (delay ?? 0)
          if (ms > 0) await sleep(ms)
          const body = { brokers: [], clusterId: name, controllerId: -1, topics: [] }
          answer(`Metadata(${name})`, encodeResponse(Metadata, v, id, body))
          return
        }
        default:
          socket.destroy()
      }
    }
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d])
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const frame = buf.subarray(4, 4 + buf.readInt32BE(0))
        buf = buf.subarray(4 + frame.length)
        log.push(`<-${received(frame)}`)
        queue = queue.then(() => handle(frame))
      }
    })
    socket.on('error', () => {})
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  const connect = (sasl: SaslOptions, extra: Partial<ConnectionOptions> = {}) =>
    Connection.connect({ host: '127.0.0.1', port, sasl, ...extra })
  return { port, log, authBytes, connect }
}

const PLAIN: SaslOptions = { mechanism: 'PLAIN', username: 'alice', password: 'secret' }
const metadata = (conn: Connection, tag: string, timeoutMs?: number) =>
  conn.request(Metadata, { topics: [{ name: tag }] }, { timeoutMs }).then((md) => md.clusterId ?? '')
/** Private state the tests look at. */
const internals = (conn: Connection) => conn as unknown as { reauthTimer: NodeJS.Timeout | undefined }

describe('authentication on connect', () => {
  test('ApiVersions, then SaslHandshake and SaslAuthenticate, all before the connection is handed out', async () => {
    const broker = await saslBroker()
    const conn = await broker.connect(PLAIN)
    expect(broker.log).toEqual([
      '<-ApiVersions',
      '->ApiVersions',
      '<-SaslHandshake(PLAIN)',
      '->SaslHandshake',
      '<-SaslAuthenticate',
      '->SaslAuthenticate',
    ])
    expect(broker.authBytes).toEqual([Buffer.from('\0alice\0secret')])
    expect(await metadata(conn, 'after')).toBe('after')
    // No session lifetime: nothing to renew, no timer.
    expect(internals(conn).reauthTimer).toBeUndefined()
    await conn.close()
  })

  test('a mechanism the broker does not enable is refused with the list it offers', async () => {
    const broker = await saslBroker({ mechanisms: ['GSSAPI', 'PLAIN'] })
    const err = await broker
      .connect({ mechanism: 'SCRAM-SHA-512', username: 'a', password: 'b' })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SaslAuthenticationError)
    expect(err).toMatchObject({ mechanism: 'SCRAM-SHA-512', enabledMechanisms: ['GSSAPI', 'PLAIN'] })
    expect((err as Error).message).toBe(
      `SCRAM-SHA-512 authentication failed: the broker does not offer SCRAM-SHA-512; its enabled mechanisms are GSSAPI, PLAIN (broker 127.0.0.1:${broker.port})`,
    )
  })

  test('SASL_AUTHENTICATION_FAILED fails the connect at once with the broker message', async () => {
    const broker = await saslBroker({
      authenticate: () => ({ errorCode: 58, errorMessage: 'Authentication failed: Invalid username or password' }),
    })
    const err = await broker.connect(PLAIN).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SaslAuthenticationError)
    expect(err).toMatchObject({
      errorMessage: 'Authentication failed: Invalid username or password',
      broker: `127.0.0.1:${broker.port}`,
      reauthentication: false,
    })
    expect((err as Error).message).toMatch(/^PLAIN authentication failed: SASL_AUTHENTICATION_FAILED: Authentication/)
  })

  test('OAUTHBEARER: a refused token is acknowledged with %x01, and the broker error that follows is reported', async () => {
    const broker = await saslBroker({
      authenticate: ({ round }) =>
        round === 1
          ? { authBytes: Buffer.from('{"status":"invalid_token"}') }
          : { errorCode: 58, errorMessage: '{"status":"invalid_token"}' },
    })
    const err = await broker
      .connect({ mechanism: 'OAUTHBEARER', token: () => ({ value: 'e30.e30.' }) })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SaslAuthenticationError)
    expect((err as SaslAuthenticationError).errorMessage).toBe('{"status":"invalid_token"}')
    expect(broker.authBytes.map((b) => b.toString('latin1'))).toEqual(['n,,\x01auth=Bearer e30.e30.\x01\x01', '\x01'])
  })

  test('a SCRAM server whose signature does not verify fails the connect (mutual authentication)', async () => {
    const broker = await saslBroker({
      authenticate: ({ authBytes, round }) => {
        if (round === 2) return { authBytes: Buffer.from(`v=${Buffer.alloc(64, 7).toString('base64')}`) }
        const nonce = /r=([^,]+)/.exec(authBytes.toString())![1]
        return { authBytes: Buffer.from(`r=${nonce}server,s=${Buffer.from('salt').toString('base64')},i=4096`) }
      },
    })
    const err = await broker
      .connect({ mechanism: 'SCRAM-SHA-512', username: 'alice', password: 'pw' })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SaslAuthenticationError)
    expect((err as Error).message).toMatch(/server signature does not match.*\(broker 127\.0\.0\.1:\d+\)$/)
  })

  test('a token provider that never answers is bounded by connectTimeoutMs, and is told to give up', async () => {
    const broker = await saslBroker()
    let signal: AbortSignal | undefined
    const t0 = Date.now()
    const err = await broker
      .connect(
        {
          mechanism: 'OAUTHBEARER',
          token: (ctx) => {
            signal = ctx.signal
            return new Promise(() => {})
          },
        },
        { connectTimeoutMs: 300 },
      )
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect((err as Error).message).toMatch(/SASL authentication did not finish within \d+ ms/)
    expect(Date.now() - t0).toBeLessThan(1500)
    expect(signal?.aborted).toBe(true)
  })

  test('the caller’s AbortSignal aborts authentication', async () => {
    const broker = await saslBroker({ authenticate: () => sleep(5000).then(() => ({})) })
    const ac = new AbortController()
    setTimeout(() => ac.abort(new Error('shutting down')), 100)
    const err = await broker.connect(PLAIN, { signal: ac.signal }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AbortedError)
  })

  test('options SASL cannot work with are refused before connecting', async () => {
    const broker = await saslBroker()
    await expect(broker.connect(PLAIN, { handshake: false })).rejects.toThrow(ConfigError)
    await expect(broker.connect({ mechanism: 'PLAIN', username: '', password: 'x' })).rejects.toThrow(ConfigError)
    await expect(broker.connect({ mechanism: 'OAUTHBEARER' } as unknown as SaslOptions)).rejects.toThrow(
      /needs a token provider/,
    )
    await expect(broker.connect({ mechanism: 'KERBEROS' } as unknown as SaslOptions)).rejects.toThrow(
      /unknown SASL mechanism "KERBEROS"; Skiff speaks PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER/,
    )
    expect(broker.log).toEqual([])
  })
})

describe('re-authentication (KIP-368)', () => {
  test('is scheduled between 85% and 95% of the session lifetime', () => {
    expect(reauthenticationDelayMs(10_000, 0)).toBe(8500)
    expect(reauthenticationDelayMs(10_000, 0.5)).toBe(9000)
    expect(reauthenticationDelayMs(10_000, 0.999999)).toBe(9499)
    for (let i = 0; i < 100; i++) {
      const d = reauthenticationDelayMs(4000)
      expect(d).toBeGreaterThanOrEqual(3400)
      expect(d).toBeLessThan(3800)
    }
  })

  test('runs SaslHandshake and SaslAuthenticate again with a fresh token, repeatedly, on an unref()ed timer', async () => {
    const broker = await saslBroker({ authenticate: () => ({ sessionLifetimeMs: 300n }) })
    let tokens = 0
    const conn = await broker.connect({
      mechanism: 'OAUTHBEARER',
      token: () => ({ value: `token${++tokens}` }),
    })
    expect(internals(conn).reauthTimer?.hasRef()).toBe(false)
    const events: number[] = []
    conn.on('reauthenticated', (n: number) => events.push(n))
    const t0 = Date.now()
    await new Promise<void>((resolve) => conn.on('reauthenticated', (n: number) => n === 3 && resolve()))
    // Three renewals of a 300 ms session take 3 x 255..285 ms.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(3 * 255 - 20)
    expect(events).toEqual([1, 2, 3])
    expect(conn.reauthentications).toBe(3)
    expect(broker.authBytes.map((b) => b.toString().split('\x01')[1])).toEqual([
      'auth=Bearer token1',
      'auth=Bearer token2',
      'auth=Bearer token3',
      'auth=Bearer token4',
    ])
    expect(broker.log.filter((l) => l.startsWith('<-Sasl'))).toEqual(
      Array.from({ length: 4 }, () => ['<-SaslHandshake(OAUTHBEARER)', '<-SaslAuthenticate']).flat(),
    )
    await conn.close()
    expect(internals(conn).reauthTimer).toBeUndefined()
  })

  test('a credential that expires before the session is renewed before it expires', async () => {
    const broker = await saslBroker({ authenticate: () => ({ sessionLifetimeMs: 60_000n }) })
    const conn = await broker.connect({ mechanism: 'OAUTHBEARER', token: () => ({ value: 't', lifetimeMs: 200 }) })
    const t0 = Date.now()
    await new Promise((resolve) => conn.once('reauthenticated', resolve))
    expect(Date.now() - t0).toBeLessThan(1000)
    await conn.close()
  })

  test('holds new requests while in-flight ones finish and the exchange runs, then sends them in order', async () => {
    let reauthStarted = false
    const broker = await saslBroker({
      metadataDelayMs: 5,
      authenticate: async ({ authentication }) => {
        if (authentication > 1) {
          reauthStarted = true
          await sleep(150) // a slow exchange: requests pile up meanwhile
        }
        return { sessionLifetimeMs: 400n }
      },
    })
    const conn = await broker.connect(PLAIN, { maxInFlight: 3 })
    const sent: string[] = []
    const answers: Array<Promise<string>> = []
    const deadline = Date.now() + 1000
    for (let i = 0; Date.now() < deadline; i++) {
      for (let j = 0; j < 3; j++) {
        const tag = `r${i}.${j}`
        sent.push(tag)
        answers.push(metadata(conn, tag))
      }
      await sleep(40)
    }
    expect(await Promise.all(answers)).toEqual(sent)
    expect(reauthStarted).toBe(true)
    expect(conn.reauthentications).toBeGreaterThanOrEqual(1)

    // Requests reached the broker in the order they were made, none was lost or duplicated.
    expect(broker.log.filter((l) => l.startsWith('<-Metadata')).map((l) => l.slice(11, -1))).toEqual(sent)
    // Each re-authentication began with nothing in flight, and nothing else was sent until it was over.
    const log = broker.log.slice(6)
    for (let at = log.indexOf('<-SaslHandshake(PLAIN)'); at >= 0; at = log.indexOf('<-SaslHandshake(PLAIN)', at + 1)) {
      const before = log.slice(0, at)
      const asked = before.filter((l) => l.startsWith('<-Metadata')).length
      const answered = before.filter((l) => l.startsWith('->Metadata')).length
      expect(answered, `at log entry ${at}`).toBe(asked)
      expect(log.slice(at, at + 4)).toEqual([
        '<-SaslHandshake(PLAIN)',
        '->SaslHandshake',
        '<-SaslAuthenticate',
        '->SaslAuthenticate',
      ])
    }
    await conn.close()
  })

  test('waits for the responses in flight before starting, and sends what was asked meanwhile after it', async () => {
    const broker = await saslBroker({
      metadataDelayMs: (topic) => (topic === 'slow' ? 300 : 0),
      authenticate: ({ authentication }) => ({ sessionLifetimeMs: authentication === 1 ? 100n : 0n }),
    })
    const conn = await broker.connect(PLAIN)
    const slow = metadata(conn, 'slow')
    await sleep(150) // the re-authentication is due, and waits for 'slow'
    const queued = metadata(conn, 'queued')
    expect(await Promise.all([slow, queued])).toEqual(['slow', 'queued'])
    expect(conn.reauthentications).toBe(1)
    expect(broker.log.slice(6)).toEqual([
      '<-Metadata(slow)',
      '->Metadata(slow)',
      '<-SaslHandshake(PLAIN)',
      '->SaslHandshake',
      '<-SaslAuthenticate',
      '->SaslAuthenticate',
      '<-Metadata(queued)',
      '->Metadata(queued)',
    ])
    await conn.close()
  })

  test('a request held during a slow re-authentication still times out on its own, and the connection lives on', async () => {
    const broker = await saslBroker({
      authenticate: async ({ authentication }) => {
        if (authentication === 2) await sleep(1000)
        return { sessionLifetimeMs: authentication === 1 ? 100n : 0n }
      },
    })
    const conn = await broker.connect(PLAIN)
    await sleep(110) // the re-authentication is under way
    const t0 = Date.now()
    const err = await metadata(conn, 'late', 100).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RequestTimeoutError)
    // Not held until the re-authentication ends, 1 s later.
    expect(Date.now() - t0).toBeLessThan(600)
    // The held request never reached the broker.
    await new Promise((resolve) => conn.once('reauthenticated', resolve))
    expect(await metadata(conn, 'next')).toBe('next')
    expect(broker.log.filter((l) => l.startsWith('<-Metadata'))).toEqual(['<-Metadata(next)'])
    await conn.close()
  })

  test('requests without a response (acks=0) also wait for the re-authentication to finish', async () => {
    const broker = await saslBroker({
      authenticate: async ({ authentication }) => {
        if (authentication === 2) await sleep(150)
        return { sessionLifetimeMs: authentication === 1 ? 100n : 0n }
      },
    })
    const conn = await broker.connect(PLAIN)
    await sleep(110)
    await conn.requestNoResponse(Metadata, { topics: [{ name: 'no-reply' }] })
    await sleep(50)
    expect(broker.log.slice(6)).toEqual([
      '<-SaslHandshake(PLAIN)',
      '->SaslHandshake',
      '<-SaslAuthenticate',
      '->SaslAuthenticate',
      '<-Metadata(no-reply)',
    ])
    await conn.close()
  })

  test('a refused re-authentication closes the connection with a SaslAuthenticationError that waiting requests get', async () => {
    const broker = await saslBroker({
      authenticate: async ({ authentication }) => {
        if (authentication === 1) return { sessionLifetimeMs: 200n }
        await sleep(100)
        return { errorCode: 58, errorMessage: 'Authentication failed: credentials revoked' }
      },
    })
    const conn = await broker.connect(PLAIN)
    const closed = new Promise<Error>((resolve) => conn.once('close', resolve))
    await sleep(200)
    const waiting = [metadata(conn, 'a'), metadata(conn, 'b')].map((p) => p.catch((e: unknown) => e))
    const gate = conn.requestNoResponse(Metadata, { topics: [{ name: 'no-reply' }] }).catch((e: unknown) => e)
    const err = await closed
    expect(err).toBeInstanceOf(SaslAuthenticationError)
    expect(err).toMatchObject({ reauthentication: true, errorMessage: 'Authentication failed: credentials revoked' })
    expect(err.message).toMatch(/^PLAIN re-authentication failed: SASL_AUTHENTICATION_FAILED/)
    expect(await Promise.all([...waiting, gate])).toEqual([err, err, err])
    expect(conn.isClosed).toBe(true)
    expect(internals(conn).reauthTimer).toBeUndefined()
    await expect(metadata(conn, 'after')).rejects.toBe(err)
  })

  test('a re-authentication that outlasts connectTimeoutMs closes the connection with a typed error', async () => {
    const broker = await saslBroker({
      authenticate: async ({ authentication }) => {
        if (authentication === 2) await sleep(2000)
        return { sessionLifetimeMs: 100n }
      },
    })
    const conn = await broker.connect(PLAIN, { connectTimeoutMs: 500 })
    const err = await new Promise<Error>((resolve) => conn.once('close', resolve))
    expect(err).toBeInstanceOf(SaslAuthenticationError)
    expect(err.message).toMatch(/re-authentication failed: SaslAuthenticate request to .* timed out/)
    expect((err as SaslAuthenticationError).cause).toBeInstanceOf(RequestTimeoutError)
  })

  test('closing the connection cancels the pending re-authentication', async () => {
    const broker = await saslBroker({ authenticate: () => ({ sessionLifetimeMs: 200n }) })
    const conn = await broker.connect(PLAIN)
    expect(internals(conn).reauthTimer).toBeDefined()
    await conn.close()
    expect(internals(conn).reauthTimer).toBeUndefined()
    await sleep(250)
    expect(broker.log.filter((l) => l.startsWith('<-SaslHandshake'))).toHaveLength(1)
  })
})
