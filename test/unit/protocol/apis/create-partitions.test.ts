import { describe, expect, test } from 'vitest'
import { CreatePartitions } from '../../../../src/protocol/apis/create-partitions.js'
import { hex, receiveResponse, requestHex, sendRequest } from './wire.js'

const request = {
  topics: [
    { name: 'orders', count: 12, assignments: null },
    { name: 'audit', count: 3, assignments: [{ brokerIds: [1, 2] }] },
  ],
  timeoutMs: 30000,
  validateOnly: false,
}

const response = {
  throttleTimeMs: 0,
  results: [
    { name: 'orders', errorCode: 0, errorMessage: null },
    {
      name: 'audit',
      errorCode: 37,
      errorMessage: 'Topic currently has 3 partitions, which is equal to the requested 3.',
    },
  ],
}

describe('CreatePartitions', () => {
  test.each([0, 3])('v%i round-trips', (v) => {
    expect(sendRequest(CreatePartitions, v, request)).toEqual(request)
    expect(receiveResponse(CreatePartitions, v, response)).toEqual(response)
  })

  test('v1 is classic and v2 compact, null assignments included', () => {
    const small = { topics: [{ name: 't', count: 2, assignments: null }], timeoutMs: 1, validateOnly: true }
    expect(requestHex(CreatePartitions, 1, small)).toBe(hex('00000001 0001 74 00000002 ffffffff 00000001 01'))
    expect(requestHex(CreatePartitions, 2, small)).toBe(hex('02 02 74 00000002 00 00 00000001 01 00'))
  })
})
