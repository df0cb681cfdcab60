import { describe, expect, test } from 'vitest'
import { EndTxn } from '../../../../src/protocol/apis/end-txn.js'
import { hex, receiveResponse, requestHex, responseHex, sendRequest } from './wire.js'

const request = { transactionalId: 'payments-tx-0', producerId: 4001n, producerEpoch: 3, committed: true }

describe('EndTxn', () => {
  test('v0 round-trips; the response has no producer id or epoch', () => {
    expect(sendRequest(EndTxn, 0, request)).toEqual(request)
    expect(receiveResponse(EndTxn, 0, { throttleTimeMs: 0, errorCode: 0 })).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      producerId: -1n,
      producerEpoch: -1,
    })
  })

  test('v5 returns the bumped epoch the producer continues with (KIP-890 part 2)', () => {
    const abort = { ...request, committed: false }
    expect(sendRequest(EndTxn, 5, abort)).toEqual(abort)
    const response = { throttleTimeMs: 0, errorCode: 0, producerId: 4001n, producerEpoch: 4 }
    expect(receiveResponse(EndTxn, 5, response)).toEqual(response)
  })

  test('v2 is classic and v3 compact', () => {
    const small = { transactionalId: 'x', producerId: 1n, producerEpoch: 0, committed: false }
    expect(requestHex(EndTxn, 2, small)).toBe(hex('0001 78 0000000000000001 0000 00'))
    expect(requestHex(EndTxn, 3, small)).toBe(hex('02 78 0000000000000001 0000 00 00'))
    expect(responseHex(EndTxn, 5, { throttleTimeMs: 0, errorCode: 0, producerId: 1n, producerEpoch: 1 })).toBe(
      hex('00000000 0000 0000000000000001 0001 00'),
    )
  })
})
