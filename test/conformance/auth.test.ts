import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Connection, type ConnectionOptions } from '../../src/client/connection.js'
import { ConfigError, ConnectionError, SaslAuthenticationError } from '../../src/client/errors.js'
import type { OAuthBearerToken, SaslOptions } from '../../src/client/sasl/index.js'
import { Metadata } from '../../src/protocol/apis/metadata.js'
import { type KafkaCluster, type ListenerKind, startKafka } from '../../src/testing/index.js'
import { testKafka } from '../helpers/kafka.js'

/** KIP-368: the broker grants 4 s sessions, so a connection must re-authenticate about every 3.4–3.8 s. */
const REAUTH_MS = 4000
const USERS = [
  { username: 'skiff', password: 'skiff-secret' },
  { username: 'alice', password: 'alice!s3cret with spaces' },
]
/** The SASL_SSL listener leaves SCRAM-SHA-256 out, so asking for it there is refused with the list. */
const SASL_TLS_MECHANISMS = ['OAUTHBEARER', 'PLAIN', 'SCRAM-SHA-512']

/**
 * An unsecured JWS (`alg: none`, empty signature) as Kafka's OAuthBearerUnsecuredJws reads it: `sub` names the
 * principal, `exp` is required, `iat` may not be in the future. Kafka 3.9 decodes each part with java.util.Base64's
 * basic decoder and 4.x with the URL-safe one, so a `jti` is varied until both encodings agree (no `-` or `_`).
 */
function unsecuredJws(claims: { sub: string; iat: number; exp: number; scope?: string | string[] }): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const header = part({ alg: 'none' })
  for (let jti = 0; ; jti++) {
    const payload = part({ ...claims, jti: String(jti) })
    if (!/[-_]/.test(header + payload)) return `${header}.${payload}.`
  }
}

const nowSeconds = () => Date.now() / 1000
const validToken = (sub = 'skiff-oauth'): OAuthBearerToken => ({
  value: unsecuredJws({ sub, iat: nowSeconds(), exp: nowSeconds() + 3600, scope: ['produce', 'consume'] }),
  lifetimeMs: 3_600_000,
})

describe(`authentication built into Connection, against Kafka ${testKafka().version}`, () => {
  let kafka: KafkaCluster
  beforeAll(async () => {
    kafka = await startKafka({
      version: testKafka().version,
      listeners: ['sasl', 'tls', 'sasl_tls'],
      saslUsers: USERS,
      serverProperties: {
        'connections.max.reauth.ms': REAUTH_MS,
        'listener.name.client_sasl_tls.sasl.enabled.mechanisms': SASL_TLS_MECHANISMS.join(','),
      },
    })
  })
  afterAll(async () => {
    await kafka?.stop()
  })

  function options(kind: ListenerKind, sasl?: SaslOptions): ConnectionOptions {
    const [host, port] = kafka.listeners[kind]!.brokers[0]!.split(':')
    const secure = kind === 'tls' || kind === 'sasl_tls'
    return {
      host: host!,
      port: Number(port),
      clientId: 'skiff-auth-test',
      sasl,
      tls: secure ? { ca: kafka.tlsCa } : undefined,
    }
  }

  async function metadataWorks(conn: Connection, kind: ListenerKind) {
    const md = await conn.request(Metadata, { topics: [] })
    expect(md.clusterId).toBe(kafka.clusterId)
    expect(md.brokers.map((b) => `${b.host}:${b.port}`)).toEqual(kafka.listeners[kind]!.brokers)
  }

  /** Connecting fails with a SaslAuthenticationError, and quickly: a refused credential never hangs. */
  async function refused(opts: ConnectionOptions): Promise<SaslAuthenticationError> {
    const t0 = Date.now()
    const err = await Connection.connect({ ...opts, connectTimeoutMs: 20_000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SaslAuthenticationError)
    // Kafka delays the answer to a failed authentication by connection.failed.authentication.delay.ms (100 ms).
    expect(Date.now() - t0).toBeLessThan(3000)
    const e = err as SaslAuthenticationError
    expect(e.broker).toBe(`${opts.host}:${opts.port}`)
    expect(e.reauthentication).toBe(false)
    return e
  }

  test('PLAIN: the right password gives an authenticated connection; a wrong one is refused with the broker message', async () => {
    for (const user of USERS) {
      const conn = await Connection.connect(options('sasl', { mechanism: 'PLAIN', ...user }))
      await metadataWorks(conn, 'sasl')
      await conn.close()
    }
    const err = await refused(options('sasl', { mechanism: 'PLAIN', username: 'skiff', password: 'wrong' }))
    expect(err.mechanism).toBe('PLAIN')
    expect(err.errorMessage).toMatch(/Invalid username or password/)
    expect(err.message).toMatch(/^PLAIN authentication failed: SASL_AUTHENTICATION_FAILED: .*Invalid username/)
  })

  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
    test(`${mechanism}: both users authenticate; a wrong password and an unknown user are refused`, async () => {
      for (const user of USERS) {
        const conn = await Connection.connect(options('sasl', { mechanism, ...user }))
        await metadataWorks(conn, 'sasl')
        await conn.close()
      }
      const wrong = await refused(options('sasl', { mechanism, username: 'alice', password: 'skiff-secret' }))
      expect(wrong.mechanism).toBe(mechanism)
      expect(wrong.errorMessage).toMatch(/invalid credentials/i)
      const nobody = await refused(options('sasl', { mechanism, username: 'nobody', password: 'x' }))
      expect(nobody.message).toMatch(/SASL_AUTHENTICATION_FAILED/)
    })
  }

  test('OAUTHBEARER: an unsecured JWS from the provider authenticates; an expired one is refused as invalid_token', async () => {
    const calls: Array<{ broker: string; aborted: boolean }> = []
    const conn = await Connection.connect(
      options('sasl', {
        mechanism: 'OAUTHBEARER',
        token: async (ctx) => {
          calls.push({ broker: ctx.broker, aborted: ctx.signal?.aborted ?? true })
          // Extensions travel beside the token (KIP-342); the unsecured validator accepts any well-formed ones.
          return { ...validToken(), extensions: { traceId: 'skiff-42' } }
        },
      }),
    )
    await metadataWorks(conn, 'sasl')
    expect(calls).toEqual([{ broker: `${conn.broker}`, aborted: false }])
    await conn.close()

    const expired = await refused(
      options('sasl', {
        mechanism: 'OAUTHBEARER',
        token: () => ({
          value: unsecuredJws({ sub: 'skiff-oauth', iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 }),
        }),
      }),
    )
    expect(expired.mechanism).toBe('OAUTHBEARER')
    // The broker's RFC 7628 error JSON, sent back after our %x01.
    expect(expired.errorMessage).toMatch(/invalid_token/)

    const noSub = await refused(
      options('sasl', {
        mechanism: 'OAUTHBEARER',
        token: () => ({ value: unsecuredJws({ sub: '', iat: nowSeconds(), exp: nowSeconds() + 60 }) }),
      }),
    )
    expect(noSub.errorMessage).toMatch(/invalid_token/)

    // A provider that fails never reaches the broker's validator: the error is ours, with the provider's as cause.
    const boom = new Error('identity provider unreachable')
    const failed = await refused(options('sasl', { mechanism: 'OAUTHBEARER', token: () => Promise.reject(boom) }))
    expect(failed.message).toMatch(/token provider failed: identity provider unreachable/)
    expect(failed.cause).toBe(boom)
  })

  test('a mechanism the listener does not enable is refused with the list the broker offers; one Skiff does not know, before connecting', async () => {
    const err = await refused(options('sasl_tls', { mechanism: 'SCRAM-SHA-256', ...USERS[0]! }))
    expect(err.enabledMechanisms && [...err.enabledMechanisms].sort()).toEqual(SASL_TLS_MECHANISMS)
    expect(err.message).toMatch(/does not offer SCRAM-SHA-256; its enabled mechanisms are/)
    await expect(
      Connection.connect(options('sasl', { mechanism: 'GSSAPI' } as unknown as SaslOptions)),
    ).rejects.toThrow(ConfigError)
  })

  test('TLS trusting the test CA, and SASL over TLS (SASL_SSL) with PLAIN, SCRAM-SHA-512 and OAUTHBEARER', async () => {
    const plainTls = await Connection.connect(options('tls'))
    await metadataWorks(plainTls, 'tls')
    await plainTls.close()
    const user = USERS[1]!
    for (const sasl of [
      { mechanism: 'PLAIN', ...user },
      { mechanism: 'SCRAM-SHA-512', ...user },
      { mechanism: 'OAUTHBEARER', token: () => validToken() },
    ] satisfies SaslOptions[]) {
      const conn = await Connection.connect(options('sasl_tls', sasl))
      await metadataWorks(conn, 'sasl_tls')
      await conn.close()
    }
    await refused(options('sasl_tls', { mechanism: 'PLAIN', username: user.username, password: 'wrong' }))
  })

  describe.concurrent('re-authentication (KIP-368) with 4 s sessions', () => {
    /**
     * Keeps Metadata requests flowing, several pipelined at a time, every `everyMs`, until `stop` resolves or the
     * connection closes; resolves with how many succeeded and the errors of those that failed.
     */
    async function traffic(conn: Connection, untilMs: number, everyMs = 100, pipelined = 4) {
      let ok = 0
      const errors: unknown[] = []
      const inFlight = new Set<Promise<void>>()
      const end = Date.now() + untilMs
      while (Date.now() < end && !conn.isClosed) {
        for (let i = 0; i < pipelined; i++) {
          const p: Promise<void> = conn
            .request(Metadata, { topics: [] }, { timeoutMs: 5000 })
            .then(
              () => void ok++,
              (err: unknown) => void errors.push(err),
            )
            .finally(() => inFlight.delete(p))
          inFlight.add(p)
        }
        await sleep(everyMs)
      }
      await Promise.all(inFlight)
      return { ok, errors }
    }

    test('connections stay usable past several session lifetimes under continuous pipelined traffic, for every mechanism', async () => {
      let tokens = 0
      const mechanisms: Array<[ListenerKind, SaslOptions]> = [
        ['sasl', { mechanism: 'PLAIN', ...USERS[0]! }],
        ['sasl', { mechanism: 'SCRAM-SHA-256', ...USERS[1]! }],
        ['sasl_tls', { mechanism: 'SCRAM-SHA-512', ...USERS[0]! }],
        [
          'sasl_tls',
          {
            mechanism: 'OAUTHBEARER',
            token: () => {
              tokens++
              return validToken()
            },
          },
        ],
      ]
      const conns = await Promise.all(mechanisms.map(([kind, sasl]) => Connection.connect(options(kind, sasl))))
      const events = conns.map(() => 0)
      for (const [i, c] of conns.entries()) c.on('reauthenticated', () => void events[i]!++)
      const results = await Promise.all(conns.map((c) => traffic(c, 10_500)))
      for (const [i, conn] of conns.entries()) {
        const what = mechanisms[i]![1].mechanism
        expect(results[i]!.errors, what).toEqual([])
        expect(results[i]!.ok, what).toBeGreaterThan(300)
        expect(conn.reauthentications, what).toBeGreaterThanOrEqual(2)
        expect(events[i], what).toBe(conn.reauthentications)
        expect(conn.isClosed, what).toBe(false)
      }
      // The provider is asked again for every re-authentication.
      expect(tokens).toBe(1 + conns[3]!.reauthentications)
      await Promise.all(conns.map((c) => c.close()))
    })

    test('without re-authentication the broker drops the connection once its session has expired', async () => {
      const conn = await Connection.connect(options('sasl', { mechanism: 'PLAIN', ...USERS[0]! }))
      // Switch our re-authentication off, as a client without KIP-368 would be.
      clearTimeout((conn as unknown as { reauthTimer: NodeJS.Timeout }).reauthTimer)
      await sleep(REAUTH_MS + 500)
      await expect(conn.request(Metadata, { topics: [] })).rejects.toBeInstanceOf(ConnectionError)
      expect(conn.isClosed).toBe(true)
    })

    test('a failed re-authentication closes the connection with a typed error that the waiting requests get too', async () => {
      let calls = 0
      const conn = await Connection.connect(
        options('sasl', {
          mechanism: 'OAUTHBEARER',
          token: async () => {
            if (calls++ === 0) return validToken()
            await sleep(300) // requests keep arriving meanwhile, and wait
            throw new Error('refresh token revoked')
          },
        }),
      )
      const closed = new Promise<Error>((resolve) => conn.once('close', resolve))
      const { ok, errors } = await traffic(conn, 8000, 50, 2)
      const err = await closed
      expect(err).toBeInstanceOf(SaslAuthenticationError)
      expect(err).toMatchObject({ mechanism: 'OAUTHBEARER', reauthentication: true, broker: conn.broker })
      expect(err.message).toMatch(
        /^OAUTHBEARER re-authentication failed: the token provider failed: refresh token revoked/,
      )
      expect(ok).toBeGreaterThan(50)
      // The requests made during the failed attempt waited, then failed with the same error; none hung.
      expect(errors.length).toBeGreaterThan(0)
      for (const e of errors) expect(e).toBe(err)
      expect(conn.isClosed).toBe(true)
      expect(conn.reauthentications).toBe(0)
    })

    test('a re-authentication the broker refuses (an expired token) closes the connection with its message', async () => {
      let calls = 0
      const conn = await Connection.connect(
        options('sasl_tls', {
          mechanism: 'OAUTHBEARER',
          token: () =>
            calls++ === 0
              ? validToken()
              : { value: unsecuredJws({ sub: 'skiff-oauth', iat: nowSeconds() - 120, exp: nowSeconds() - 60 }) },
        }),
      )
      const closed = new Promise<Error>((resolve) => conn.once('close', resolve))
      const { ok } = await traffic(conn, 8000, 100, 2)
      const err = (await closed) as SaslAuthenticationError
      expect(err).toBeInstanceOf(SaslAuthenticationError)
      expect(err.reauthentication).toBe(true)
      expect(err.errorMessage).toMatch(/invalid_token/)
      expect(ok).toBeGreaterThan(20)
      expect(calls).toBe(2)
    })
  })
})
