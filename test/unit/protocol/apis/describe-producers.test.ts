import { describe, expect, test } from 'vitest'
import { DescribeProducers } from '../../../../src/protocol/apis/describe-producers.js'
import { hex, receiveResponse, requestHex, responseHex, sendRequest } from './wire.js'

describe('DescribeProducers', () => {
  test('v0 round-trips, including a producer with an open transaction', () => {
    const request = { topics: [{ name: 'payments', partitionIndexes: [0, 1] }] }
    expect(sendRequest(DescribeProducers, 0, request)).toEqual(request)
    const response = {
      throttleTimeMs: 0,
      topics: [
        {
          name: 'payments',
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              errorMessage: null,
              activeProducers: [
                {
                  producerId: 4001n,
                  producerEpoch: 3,
                  lastSequence: 41,
                  lastTimestamp: 1_767_225_600_000n,
                  coordinatorEpoch: 2,
                  currentTxnStartOffset: 1200n,
                },
                {
                  producerId: 4002n,
                  producerEpoch: 0,
                  lastSequence: -1,
                  lastTimestamp: -1n,
                  coordinatorEpoch: -1,
                  currentTxnStartOffset: -1n,
                },
              ],
            },
            { partitionIndex: 1, errorCode: 6, errorMessage: 'not the leader', activeProducers: [] },
          ],
        },
      ],
    }
    expect(receiveResponse(DescribeProducers, 0, response)).toEqual(response)
  })

  test('is flexible from v0', () => {
    expect(requestHex(DescribeProducers, 0, { topics: [{ name: 't', partitionIndexes: [2] }] })).toBe(
      hex('02 02 74 02 00000002 00 00'),
    )
    expect(
      responseHex(DescribeProducers, 0, {
        throttleTimeMs: 0,
        topics: [{ name: 't', partitions: [{ partitionIndex: 0, errorCode: 0, activeProducers: [] }] }],
      }),
    ).toBe(hex('00000000 02 02 74 02 00000000 0000 00 01 00 00 00'))
  })
})
