import { describe, expect, test } from 'vitest'
import { DeleteRecords } from '../../../../src/protocol/apis/delete-records.js'
import { hex, receiveResponse, requestHex, sendRequest } from './wire.js'

const request = {
  topics: [
    {
      name: 'clicks',
      partitions: [
        { partitionIndex: 0, offset: 1200n },
        { partitionIndex: 1, offset: -1n },
      ],
    },
  ],
  timeoutMs: 30000,
}

const response = {
  throttleTimeMs: 0,
  topics: [
    {
      name: 'clicks',
      partitions: [
        { partitionIndex: 0, lowWatermark: 1200n, errorCode: 0 },
        { partitionIndex: 1, lowWatermark: 0n, errorCode: 3 },
      ],
    },
  ],
}

describe('DeleteRecords', () => {
  test.each([0, 2])('v%i round-trips', (v) => {
    expect(sendRequest(DeleteRecords, v, request)).toEqual(request)
    expect(receiveResponse(DeleteRecords, v, response)).toEqual(response)
  })

  test('v1 is classic and v2 compact', () => {
    const small = { topics: [{ name: 't', partitions: [{ partitionIndex: 2, offset: -1n }] }], timeoutMs: 1000 }
    expect(requestHex(DeleteRecords, 1, small)).toBe(
      hex('00000001 0001 74 00000001 00000002 ffffffffffffffff 000003e8'),
    )
    expect(requestHex(DeleteRecords, 2, small)).toBe(hex('02 02 74 02 00000002 ffffffffffffffff 00 00 000003e8 00'))
  })
})
