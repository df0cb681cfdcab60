import { describe, expect, test } from 'vitest'
import { DescribeTransactions } from '../../../../src/protocol/apis/describe-transactions.js'
import { hex, receiveResponse, requestHex, responseHex, sendRequest } from './wire.js'

describe('DescribeTransactions', () => {
  test('v0 round-trips an ongoing transaction and an unknown id', () => {
    const request = { transactionalIds: ['payments-tx-0', 'nope'] }
    expect(sendRequest(DescribeTransactions, 0, request)).toEqual(request)
    const response = {
      throttleTimeMs: 0,
      transactionStates: [
        {
          errorCode: 0,
          transactionalId: 'payments-tx-0',
          transactionState: 'Ongoing',
          transactionTimeoutMs: 60000,
          transactionStartTimeMs: 1_767_225_600_000n,
          producerId: 4001n,
          producerEpoch: 3,
          topics: [
            { topic: 'payments', partitions: [0, 4] },
            { topic: '__consumer_offsets', partitions: [17] },
          ],
        },
        {
          // 105 = TRANSACTIONAL_ID_NOT_FOUND
          errorCode: 105,
          transactionalId: 'nope',
          transactionState: '',
          transactionTimeoutMs: 0,
          transactionStartTimeMs: -1n,
          producerId: -1n,
          producerEpoch: -1,
          topics: [],
        },
      ],
    }
    expect(receiveResponse(DescribeTransactions, 0, response)).toEqual(response)
  })

  test('is flexible from v0', () => {
    expect(requestHex(DescribeTransactions, 0, { transactionalIds: ['x'] })).toBe(hex('02 02 78 00'))
    const state = {
      errorCode: 0,
      transactionalId: 'x',
      transactionState: 'Empty',
      transactionTimeoutMs: 1,
      transactionStartTimeMs: -1n,
      producerId: 2n,
      producerEpoch: 0,
      topics: [{ topic: 't', partitions: [] }],
    }
    expect(responseHex(DescribeTransactions, 0, { throttleTimeMs: 0, transactionStates: [state] })).toBe(
      hex(`00000000 02
           0000 02 78 06 456d707479 00000001 ffffffffffffffff 0000000000000002 0000 02 02 74 01 00 00
           00`),
    )
  })
})
