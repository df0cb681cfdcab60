import { createHash, createHmac, pbkdf2Sync } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { ConfigError, SaslAuthenticationError } from '../../../src/client/errors.js'
import { createSaslMechanism, type SaslOptions } from '../../../src/client/sasl/index.js'
import { OAuthBearerSaslMechanism, oauthBearerInitialResponse } from '../../../src/client/sasl/oauthbearer.js'
import { plainAuthBytes } from '../../../src/client/sasl/plain.js'
import { escapeSaslName, hi, ScramClient, scramKeys } from '../../../src/client/sasl/scram.js'

// RFC 7677 §3: SCRAM-SHA-256 for user "user", password "pencil".
const RFC7677 = {
  clientNonce: 'rOprNGfwEbeRWgbNEkqO',
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal:
    'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
}

const rfcClient = () =>
  new ScramClient({ mechanism: 'SCRAM-SHA-256', username: 'user', password: 'pencil', nonce: RFC7677.clientNonce })

/** What a SCRAM server checks, done independently of ScramClient: H(ClientProof XOR ClientSignature) == StoredKey. */
function serverAccepts(
  digest: 'sha256' | 'sha512',
  password: string,
  salt: Buffer,
  i: number,
  authMessage: string,
  proof: Buffer,
) {
  const salted = pbkdf2Sync(password, salt, i, digest === 'sha256' ? 32 : 64, digest)
  const storedKey = createHash(digest).update(createHmac(digest, salted).update('Client Key').digest()).digest()
  const signature = createHmac(digest, storedKey).update(authMessage).digest()
  const clientKey = Buffer.from(proof.map((b, k) => b ^ signature[k]!))
  const serverSignature = createHmac(digest, createHmac(digest, salted).update('Server Key').digest())
    .update(authMessage)
    .digest()
  return { ok: createHash(digest).update(clientKey).digest().equals(storedKey), serverSignature }
}

describe('SCRAM client', () => {
  test('reproduces the RFC 7677 SCRAM-SHA-256 exchange byte for byte and accepts its server signature', async () => {
    const client = rfcClient()
    expect(client.firstMessage().toString()).toBe(RFC7677.clientFirst)
    expect((await client.finalMessage(Buffer.from(RFC7677.serverFirst))).toString()).toBe(RFC7677.clientFinal)
    expect(() => client.verifyServerFinal(Buffer.from(RFC7677.serverFinal))).not.toThrow()
  })

  test('derives the RFC 7677 keys: Hi, ClientKey, StoredKey, ServerKey', async () => {
    const salted = await hi('sha256', Buffer.from('pencil'), Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'), 4096)
    expect(salted).toHaveLength(32)
    const keys = scramKeys('sha256', salted)
    expect(keys.storedKey).toEqual(createHash('sha256').update(keys.clientKey).digest())
    // ServerSignature = HMAC(ServerKey, AuthMessage) must be the RFC's v= value.
    const authMessage = `${RFC7677.clientFirst.slice(3)},${RFC7677.serverFirst},${RFC7677.clientFinal.split(',p=')[0]}`
    expect(createHmac('sha256', keys.serverKey).update(authMessage).digest('base64')).toBe(RFC7677.serverFinal.slice(2))
  })

  test('a SCRAM-SHA-512 proof is what a server holding the credential accepts, and its signature verifies', async () => {
    const salt = Buffer.from('0123456789abcdef')
    const client = new ScramClient({ mechanism: 'SCRAM-SHA-512', username: 'skiff', password: 'skiff-secret' })
    const first = client.firstMessage().toString()
    const clientNonce = /,r=([^,]+)/.exec(first)![1]!
    const serverFirst = `r=${clientNonce}srv,s=${salt.toString('base64')},i=4096`
    const final = (await client.finalMessage(Buffer.from(serverFirst))).toString()
    const [withoutProof, proof] = final.split(',p=') as [string, string]
    const server = serverAccepts(
      'sha512',
      'skiff-secret',
      salt,
      4096,
      `${first.slice(3)},${serverFirst},${withoutProof}`,
      Buffer.from(proof, 'base64'),
    )
    expect(server.ok).toBe(true)
    expect(() => client.verifyServerFinal(Buffer.from(`v=${server.serverSignature.toString('base64')}`))).not.toThrow()
  })

  test('a server signature computed without the credential is refused', async () => {
    const client = rfcClient()
    client.firstMessage()
    await client.finalMessage(Buffer.from(RFC7677.serverFirst))
    const forged = Buffer.from(RFC7677.serverFinal.slice(2), 'base64')
    forged[0]! ^= 1
    expect(() => client.verifyServerFinal(Buffer.from(`v=${forged.toString('base64')}`))).toThrow(
      /server signature does not match/,
    )
  })

  test('a server-final error (e=) is a SaslAuthenticationError naming the mechanism and the error', async () => {
    const client = rfcClient()
    client.firstMessage()
    await client.finalMessage(Buffer.from(RFC7677.serverFirst))
    const err = (() => {
      try {
        client.verifyServerFinal(Buffer.from('e=invalid-proof'))
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(SaslAuthenticationError)
    expect((err as Error).message).toBe('SCRAM-SHA-256 authentication failed: the server answered e=invalid-proof')
  })

  test.each([
    ['a nonce that does not extend ours', 'r=someoneElse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096', /does not extend/],
    ['the bare client nonce', `r=${RFC7677.clientNonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`, /does not extend/],
    ['too few iterations', `r=${RFC7677.clientNonce}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4095`, /outside 4096-16384/],
    ['too many iterations', `r=${RFC7677.clientNonce}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=16385`, /outside 4096-16384/],
    ['no salt', `r=${RFC7677.clientNonce}x,i=4096`, /malformed/],
    ['a mandatory extension', `m=ext,r=${RFC7677.clientNonce}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`, /mandatory/],
  ])('a server-first with %s is refused', async (_, serverFirst, message) => {
    const client = rfcClient()
    client.firstMessage()
    await expect(client.finalMessage(Buffer.from(serverFirst))).rejects.toThrow(message)
  })

  test('usernames escape = and , (RFC 5802 saslname); extensions follow the nonce', () => {
    expect(escapeSaslName('a=b,c')).toBe('a=3Db=2Cc')
    const client = new ScramClient({
      mechanism: 'SCRAM-SHA-512',
      username: 'a=b,c',
      password: 'x',
      nonce: 'abc',
      extensions: { tokenauth: 'true' },
    })
    expect(client.firstMessage().toString()).toBe('n,,n=a=3Db=2Cc,r=abc,tokenauth=true')
  })

  test('steps out of order and bad options are refused', async () => {
    const client = rfcClient()
    await expect(client.finalMessage(Buffer.from(RFC7677.serverFirst))).rejects.toThrow(/out of order/)
    expect(() => client.verifyServerFinal(Buffer.from(RFC7677.serverFinal))).toThrow(/out of order/)
    expect(
      () => new ScramClient({ mechanism: 'SCRAM-SHA-1' as 'SCRAM-SHA-256', username: 'u', password: 'p' }),
    ).toThrow(ConfigError)
    expect(() => new ScramClient({ mechanism: 'SCRAM-SHA-256', username: '', password: 'p' })).toThrow(ConfigError)
    expect(() => new ScramClient({ mechanism: 'SCRAM-SHA-256', username: 'u', password: 'p', nonce: 'a,b' })).toThrow(
      ConfigError,
    )
  })
})

describe('PLAIN', () => {
  test('is authzid NUL username NUL password, UTF-8 (RFC 4616)', () => {
    expect(plainAuthBytes({ username: 'skiff', password: 'skiff-secret' })).toEqual(
      Buffer.from('\0skiff\0skiff-secret'),
    )
    expect(plainAuthBytes({ username: 'ü', password: 'p', authorizationId: 'ü' })).toEqual(
      Buffer.from('ü\0ü\0p', 'utf8'),
    )
  })

  test('an empty username or password, or a NUL in a field, is a ConfigError', () => {
    expect(() => plainAuthBytes({ username: '', password: 'p' })).toThrow(ConfigError)
    expect(() => plainAuthBytes({ username: 'u', password: '' })).toThrow(ConfigError)
    expect(() => plainAuthBytes({ username: 'u\0v', password: 'p' })).toThrow(/username must not contain a NUL/)
  })
})

describe('OAUTHBEARER', () => {
  const context = () => ({ broker: '127.0.0.1:9092', signal: new AbortController().signal })

  test('the initial response is the RFC 7628 GS2 message Kafka writes: n,, then auth=Bearer and extensions, each ended by %x01', () => {
    expect(oauthBearerInitialResponse({ value: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.' }).toString('latin1')).toBe(
      'n,,\x01auth=Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.\x01\x01',
    )
    expect(
      oauthBearerInitialResponse({
        value: 'abc+/~_-.==',
        extensions: { logicalCluster: 'lkc-1', note: 'a b\tc' },
      }).toString('latin1'),
    ).toBe('n,,\x01auth=Bearer abc+/~_-.==\x01logicalCluster=lkc-1\x01note=a b\tc\x01\x01')
  })

  test.each([
    ['a token with a space', { value: 'a b' }, /not an RFC 6750 b64token/],
    ['a token with %x01', { value: 'a\x01auth=Bearer b' }, /not an RFC 6750 b64token/],
    ['a token with = inside', { value: 'a=b' }, /not an RFC 6750 b64token/],
    ['an empty token', { value: '' }, /returned no token value/],
    ['the reserved extension name auth', { value: 't', extensions: { auth: 'x' } }, /extension name "auth"/],
    ['an extension name with digits', { value: 't', extensions: { k1: 'x' } }, /extension name "k1"/],
    ['an extension value with %x01', { value: 't', extensions: { k: 'a\x01b' } }, /value for SASL extension k/],
    ['an empty extension value', { value: 't', extensions: { k: '' } }, /value for SASL extension k/],
  ])('%s is refused before it is sent', (_, token, message) => {
    expect(() => oauthBearerInitialResponse(token)).toThrow(SaslAuthenticationError)
    expect(() => oauthBearerInitialResponse(token)).toThrow(message)
  })

  test('the provider is asked with the broker and a signal; empty bytes from the server complete the exchange', async () => {
    const asked: unknown[] = []
    const ctx = context()
    const m = new OAuthBearerSaslMechanism(async (c) => {
      asked.push(c)
      return { value: 'tok', lifetimeMs: 60_000 }
    }, ctx)
    expect((await m.start()).toString()).toBe('n,,\x01auth=Bearer tok\x01\x01')
    expect(asked).toEqual([{ broker: ctx.broker, signal: ctx.signal }])
    expect(m.credentialLifetimeMs).toBe(60_000)
    expect(await m.next(Buffer.alloc(0))).toBeNull()
  })

  test('a server error JSON is answered with a lone %x01 (RFC 7628 §3.2.3), and kept for the error', async () => {
    const m = new OAuthBearerSaslMechanism(() => ({ value: 'tok' }), context())
    await m.start()
    const json = '{"status":"invalid_token","scope":"kafka"}'
    expect(await m.next(Buffer.from(json))).toEqual(Buffer.from([1]))
    expect(m.serverError).toBe(json)
    await expect(m.next(Buffer.alloc(0))).rejects.toThrow(`the broker refused the token: ${json}`)
  })

  test('a failing provider is a SaslAuthenticationError with the provider error as cause', async () => {
    const cause = new Error('IdP down')
    const m = new OAuthBearerSaslMechanism(() => Promise.reject(cause), context())
    const err = await m.start().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SaslAuthenticationError)
    expect((err as Error).message).toBe('OAUTHBEARER authentication failed: the token provider failed: IdP down')
    expect((err as Error).cause).toBe(cause)
  })
})

describe('SASL mechanism factory', () => {
  const ctx = { broker: 'b:1', signal: new AbortController().signal }

  test('gives a fresh mechanism per authentication, named as SaslHandshake needs', async () => {
    const plain = createSaslMechanism({ mechanism: 'PLAIN', username: 'u', password: 'p' }, ctx)
    expect(plain.name).toBe('PLAIN')
    expect(await plain.start()).toEqual(Buffer.from('\0u\0p'))
    expect(await plain.next(Buffer.alloc(0))).toBeNull()
    const scram = createSaslMechanism({ mechanism: 'SCRAM-SHA-512', username: 'u', password: 'p' }, ctx)
    const again = createSaslMechanism({ mechanism: 'SCRAM-SHA-512', username: 'u', password: 'p' }, ctx)
    expect(scram.name).toBe('SCRAM-SHA-512')
    // A new nonce each time.
    expect((await scram.start()).toString()).not.toBe((await again.start()).toString())
    expect(createSaslMechanism({ mechanism: 'OAUTHBEARER', token: () => ({ value: 't' }) }, ctx).name).toBe(
      'OAUTHBEARER',
    )
  })

  test('PLAIN refuses a challenge, which a PLAIN server never sends', async () => {
    const plain = createSaslMechanism({ mechanism: 'PLAIN', username: 'u', password: 'p' }, ctx)
    await plain.start()
    await expect(plain.next(Buffer.from('x'))).rejects.toThrow(SaslAuthenticationError)
  })

  test('unknown mechanisms and missing token providers are ConfigErrors', () => {
    expect(() => createSaslMechanism({ mechanism: 'GSSAPI' } as unknown as SaslOptions, ctx)).toThrow(ConfigError)
    expect(() => createSaslMechanism({ mechanism: 'OAUTHBEARER' } as unknown as SaslOptions, ctx)).toThrow(
      /token provider/,
    )
  })
})
