import { describe, expect, test } from 'vitest'
import { SaslAuthenticate } from '../../../../src/protocol/apis/sasl-authenticate.js'
import { hex, receiveResponse, requestHex, responseHex, sendRequest } from './wire.js'

// A SCRAM client-first message and server-first reply, as the mechanism would produce them.
const clientFirst = Buffer.from('n,,n=alice,r=fyko+d2lbbFgONRv9qkxdawL')
const serverFirst = Buffer.from('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096')

describe('SaslAuthenticate', () => {
  test('v0 round-trips; there is no session lifetime before v1', () => {
    expect(sendRequest(SaslAuthenticate, 0, { authBytes: clientFirst })).toEqual({ authBytes: clientFirst })
    const response = receiveResponse(SaslAuthenticate, 0, {
      errorCode: 0,
      errorMessage: null,
      authBytes: serverFirst,
      sessionLifetimeMs: 3_600_000n,
    })
    expect(response).toEqual({ errorCode: 0, errorMessage: null, authBytes: serverFirst, sessionLifetimeMs: 0n })
  })

  test('v2 round-trips the session lifetime that asks for re-authentication (KIP-368)', () => {
    expect(sendRequest(SaslAuthenticate, 2, { authBytes: clientFirst })).toEqual({ authBytes: clientFirst })
    const response = { errorCode: 0, errorMessage: null, authBytes: serverFirst, sessionLifetimeMs: 3_600_000n }
    expect(receiveResponse(SaslAuthenticate, 2, response)).toEqual(response)
    const failed = {
      errorCode: 58,
      errorMessage: 'Authentication failed: Invalid username or password',
      authBytes: Buffer.alloc(0),
      sessionLifetimeMs: 0n,
    }
    expect(receiveResponse(SaslAuthenticate, 2, failed)).toEqual(failed)
  })

  test('bytes take an int32 length at v1 and a uvarint at v2', () => {
    expect(requestHex(SaslAuthenticate, 1, { authBytes: Buffer.from('hi') })).toBe(hex('00000002 6869'))
    expect(requestHex(SaslAuthenticate, 2, { authBytes: Buffer.from('hi') })).toBe(hex('03 6869 00'))
    const ok = { errorCode: 0, errorMessage: null, authBytes: Buffer.alloc(0), sessionLifetimeMs: 1000n }
    expect(responseHex(SaslAuthenticate, 1, ok)).toBe(hex('0000 ffff 00000000 00000000000003e8'))
    expect(responseHex(SaslAuthenticate, 2, ok)).toBe(hex('0000 00 01 00000000000003e8 00'))
  })
})
