import { createHash, createHmac, pbkdf2Sync } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { ConfigError, SaslAuthenticationError } from '../../../src/client/errors.js'
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
