import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Connection } from '../../src/client/connection.js'
import { ConnectionError, SaslAuthenticationError } from '../../src/client/errors.js'
import { plainAuthBytes } from '../../src/client/sasl/plain.js'
import { ScramClient, type ScramMechanism } from '../../src/client/sasl/scram.js'
import { Metadata } from '../../src/protocol/apis/metadata.js'
import { SaslAuthenticate, type SaslAuthenticateResponse } from '../../src/protocol/apis/sasl-authenticate.js'
import { SaslHandshake } from '../../src/protocol/apis/sasl-handshake.js'
import { type KafkaCluster, startKafka } from '../../src/testing/index.js'
import { testKafka } from '../helpers/kafka.js'
import { errName, versionsBoth } from '../helpers/protocol.js'

const REAUTH_MS = 60_000
const MECHANISMS = ['OAUTHBEARER', 'PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']

/** Resolves when the broker closes the connection (it does after a failed authentication). */
const closed = (conn: Connection) =>
  new Promise<void>((resolve) => (conn.isClosed ? resolve() : conn.once('close', () => resolve())))

describe(`SASL against Kafka ${testKafka().version}`, () => {
  let kafka: KafkaCluster
  let user: { username: string; password: string }
  beforeAll(async () => {
    // KIP-368: with connections.max.reauth.ms set, the broker tells each client how long its session lasts.
    kafka = await startKafka({
      version: testKafka().version,
      listeners: ['sasl'],
      serverProperties: { 'connections.max.reauth.ms': REAUTH_MS },
    })
    user = kafka.saslUsers[0]!
  })
  afterAll(async () => {
    await kafka?.stop()
  })

  /** A connection to the SASL listener; its ApiVersions handshake is allowed before authentication. */
  const connect = () => {
    const [host, port] = kafka.listeners.sasl!.bootstrap.split(',')[0]!.split(':')
    return Connection.connect({ host: host!, port: Number(port), clientId: 'skiff-sasl-test' })
  }

  async function handshake(conn: Connection, mechanism: string, version = 1) {
    const res = await conn.request(SaslHandshake, { mechanism }, { version })
    expect([...res.mechanisms].sort(), `SaslHandshake v${version}`).toEqual(MECHANISMS)
    return errName(res.errorCode)
  }

  /** SCRAM: client-first, server-first, client-final, server-final, each token in a SaslAuthenticate at `version`. */
  async function scram(conn: Connection, mechanism: ScramMechanism, password: string, version: number) {
    expect(await handshake(conn, mechanism)).toBe('NONE')
    const client = new ScramClient({ mechanism, username: user.username, password })
    const first = await conn.request(SaslAuthenticate, { authBytes: client.firstMessage() }, { version })
    expect(errName(first.errorCode), `${mechanism} client-first: ${first.errorMessage}`).toBe('NONE')
    expect(Buffer.from(first.authBytes).toString()).toMatch(/^r=[^,]+,s=[^,]+,i=\d+$/)
    const final = await conn.request(
      SaslAuthenticate,
      { authBytes: await client.finalMessage(first.authBytes) },
      { version },
    )
    return { client, final }
  }

  const expectSession = (res: SaslAuthenticateResponse, version: number, what: string) => {
    // v0 has no session lifetime; from v1 the broker reports connections.max.reauth.ms (less the time spent).
    if (version >= 1) {
      expect(Number(res.sessionLifetimeMs), what).toBeGreaterThan(REAUTH_MS - 10_000)
      expect(Number(res.sessionLifetimeMs), what).toBeLessThanOrEqual(REAUTH_MS)
    } else expect(res.sessionLifetimeMs, what).toBe(0n)
  }

  const metadataWorks = async (conn: Connection, what: string) => {
    const md = await conn.request(Metadata, { topics: [] })
    expect(md.clusterId, what).toBe(kafka.clusterId)
    // The broker advertises its endpoint on the listener we came in on.
    expect(
      md.brokers.map((b) => `${b.host}:${b.port}`),
      what,
    ).toEqual([kafka.listeners.sasl!.brokers[0]])
  }

  test('SaslHandshake v0 and v1 list the enabled mechanisms; an unknown one is UNSUPPORTED_SASL_MECHANISM and the broker hangs up', async () => {
    const probe = await connect()
    const versions = versionsBoth(probe, SaslHandshake)
    await probe.close()
    expect(versions).toEqual([0, 1])
    for (const v of versions) {
      const ok = await connect()
      expect(await handshake(ok, 'PLAIN', v), `SaslHandshake v${v}`).toBe('NONE')
      await ok.close()
      const bad = await connect()
      expect(await handshake(bad, 'GSSAPI', v), `SaslHandshake v${v}`).toBe('UNSUPPORTED_SASL_MECHANISM')
      await closed(bad)
      expect(bad.isClosed).toBe(true)
    }
  })

  test('a request other than ApiVersions or SaslHandshake before authenticating makes the broker close the connection', async () => {
    const conn = await connect()
    await expect(conn.request(Metadata, { topics: [] })).rejects.toBeInstanceOf(ConnectionError)
    expect(conn.isClosed).toBe(true)
  })

  test('PLAIN at every SaslAuthenticate version: the right password opens a session, after which Metadata works', async () => {
    const probe = await connect()
    const versions = versionsBoth(probe, SaslAuthenticate)
    await probe.close()
    expect(versions).toEqual([0, 1, 2])
    for (const v of versions) {
      const what = `PLAIN SaslAuthenticate v${v}`
      const conn = await connect()
      expect(await handshake(conn, 'PLAIN')).toBe('NONE')
      const res = await conn.request(SaslAuthenticate, { authBytes: plainAuthBytes(user) }, { version: v })
      // The schema's errorMessage is nullable, but on success the broker sends an empty string.
      expect([errName(res.errorCode), res.errorMessage, res.authBytes.length], what).toEqual(['NONE', '', 0])
      expectSession(res, v, what)
      await metadataWorks(conn, what)
      await conn.close()
    }
  })

  test('PLAIN with a wrong password is SASL_AUTHENTICATION_FAILED with a message, and the connection is closed', async () => {
    for (const v of [0, 2]) {
      const what = `PLAIN SaslAuthenticate v${v}`
      const conn = await connect()
      expect(await handshake(conn, 'PLAIN')).toBe('NONE')
      const res = await conn.request(
        SaslAuthenticate,
        { authBytes: plainAuthBytes({ ...user, password: 'not-the-password' }) },
        { version: v },
      )
      expect(errName(res.errorCode), what).toBe('SASL_AUTHENTICATION_FAILED')
      expect(res.errorMessage, what).toMatch(/Invalid username or password/)
      await closed(conn)
    }
  })

  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
    test(`${mechanism} at every SaslAuthenticate version: both sides prove themselves, then Metadata works`, async () => {
      for (const v of [0, 1, 2]) {
        const what = `${mechanism} SaslAuthenticate v${v}`
        const conn = await connect()
        const { client, final } = await scram(conn, mechanism, user.password, v)
        expect([errName(final.errorCode), final.errorMessage], what).toEqual(['NONE', ''])
        // The broker's signature proves it holds our credential.
        expect(() => client.verifyServerFinal(final.authBytes), what).not.toThrow()
        expectSession(final, v, what)
        await metadataWorks(conn, what)
        await conn.close()
      }
    })

    test(`${mechanism} with a wrong password fails at the client proof; a forged server signature would be caught`, async () => {
      const conn = await connect()
      const { final } = await scram(conn, mechanism, 'not-the-password', 2)
      expect(errName(final.errorCode)).toBe('SASL_AUTHENTICATION_FAILED')
      expect(final.errorMessage).toMatch(/invalid credentials/i)
      await closed(conn)

      // The other direction: a server-final from someone without the credential (here: the real exchange's
      // signature replayed to a different exchange) does not verify.
      const a = await connect()
      const b = await connect()
      const first = await scram(a, mechanism, user.password, 2)
      const second = await scram(b, mechanism, user.password, 2)
      expect(() => second.client.verifyServerFinal(first.final.authBytes)).toThrow(SaslAuthenticationError)
      await Promise.all([a.close(), b.close()])
    })
  }

  test('SCRAM for a user without credentials is SASL_AUTHENTICATION_FAILED', async () => {
    const conn = await connect()
    expect(await handshake(conn, 'SCRAM-SHA-256')).toBe('NONE')
    const client = new ScramClient({ mechanism: 'SCRAM-SHA-256', username: 'nobody', password: 'x' })
    const first = await conn.request(SaslAuthenticate, { authBytes: client.firstMessage() })
    expect(errName(first.errorCode)).toBe('SASL_AUTHENTICATION_FAILED')
    expect(first.errorMessage).toMatch(/credentials|nobody/i)
    await closed(conn)
  })
})
