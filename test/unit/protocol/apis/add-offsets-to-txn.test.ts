import { describe, expect, test } from 'vitest'
import { AddOffsetsToTxn } from '../../../../src/protocol/apis/add-offsets-to-txn.js'
import { hex, receiveResponse, requestHex, responseHex, sendRequest } from './wire.js'

const request = { transactionalId: 'payments-tx-0', producerId: 4001n, producerEpoch: 3, groupId: 'payments-enricher' }

describe('AddOffsetsToTxn', () => {
  test.each([0, 4])('v%i round-trips', (v) => {
    expect(sendRequest(AddOffsetsToTxn, v, request)).toEqual(request)
    // 120 = TRANSACTION_ABORTABLE, which v4 may return (KIP-890)
    const response = { throttleTimeMs: 5, errorCode: v >= 4 ? 120 : 0 }
    expect(receiveResponse(AddOffsetsToTxn, v, response)).toEqual(response)
  })

  test('v2 is classic and v3 compact', () => {
    const small = { transactionalId: 'x', producerId: 2n, producerEpoch: 1, groupId: 'g' }
    expect(requestHex(AddOffsetsToTxn, 2, small)).toBe(hex('0001 78 0000000000000002 0001 0001 67'))
    expect(requestHex(AddOffsetsToTxn, 3, small)).toBe(hex('02 78 0000000000000002 0001 02 67 00'))
    expect(responseHex(AddOffsetsToTxn, 2, { throttleTimeMs: 0, errorCode: 0 })).toBe(hex('00000000 0000'))
    expect(responseHex(AddOffsetsToTxn, 3, { throttleTimeMs: 0, errorCode: 0 })).toBe(hex('00000000 0000 00'))
  })
})
