import { describe, expect, test } from 'vitest'
import { SaslHandshake } from '../../../../src/protocol/apis/sasl-handshake.js'
import { encodeRequest } from '../../../../src/protocol/frame.js'
import { hex, receiveResponse, requestHex, responseHex, sendRequest } from './wire.js'

describe('SaslHandshake', () => {
  test('v0 and v1 round-trip', () => {
    for (const v of [0, 1]) {
      expect(sendRequest(SaslHandshake, v, { mechanism: 'SCRAM-SHA-512' })).toEqual({ mechanism: 'SCRAM-SHA-512' })
      const response = { errorCode: 33, mechanisms: ['PLAIN', 'SCRAM-SHA-256'] }
      expect(receiveResponse(SaslHandshake, v, response)).toEqual(response)
    }
  })

  test('is never flexible: v1 uses request header v1 and int16 string lengths', () => {
    expect(SaslHandshake.isFlexible(1)).toBe(false)
    expect(requestHex(SaslHandshake, 1, { mechanism: 'PLAIN' })).toBe(hex('0005 504c41494e'))
    // size, api key 17, version 1, correlation id 7, client id "c" and no tag section
    expect(encodeRequest(SaslHandshake, 1, 7, 'c', { mechanism: 'PLAIN' }).toString('hex')).toBe(
      hex('00000012 0011 0001 00000007 0001 63 0005 504c41494e'),
    )
    expect(responseHex(SaslHandshake, 1, { errorCode: 0, mechanisms: ['PLAIN'] })).toBe(
      hex('0000 00000001 0005 504c41494e'),
    )
  })
})
