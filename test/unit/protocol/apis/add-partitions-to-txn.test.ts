import { describe, expect, test } from 'vitest'
import { AddPartitionsToTxn } from '../../../../src/protocol/apis/add-partitions-to-txn.js'
import { UnsupportedVersionError } from '../../../../src/protocol/errors.js'
import { formatRange } from '../../../../src/protocol/versions.js'
import { hex, receiveResponse, requestHex, sendRequest } from './wire.js'

const request = {
  v3AndBelowTransactionalId: 'payments-tx-0',
  v3AndBelowProducerId: 4001n,
  v3AndBelowProducerEpoch: 3,
  v3AndBelowTopics: [
    { name: 'payments', partitions: [0, 4] },
    { name: 'audit', partitions: [1] },
  ],
}

const response = {
  throttleTimeMs: 0,
  resultsByTopicV3AndBelow: [
    {
      name: 'payments',
      resultsByPartition: [
        { partitionIndex: 0, partitionErrorCode: 0 },
        { partitionIndex: 4, partitionErrorCode: 0 },
      ],
    },
    { name: 'audit', resultsByPartition: [{ partitionIndex: 1, partitionErrorCode: 29 }] },
  ],
}

describe('AddPartitionsToTxn', () => {
  test('the client speaks v0-3 only: v4+ are broker-to-broker (KIP-890)', () => {
    expect(formatRange(AddPartitionsToTxn.versions)).toBe('0-3')
  })

  test.each([0, 3])('v%i round-trips the single-transaction form', (v) => {
    expect(sendRequest(AddPartitionsToTxn, v, request)).toEqual({ transactions: [], ...request })
    expect(receiveResponse(AddPartitionsToTxn, v, response)).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      resultsByTransaction: [],
      resultsByTopicV3AndBelow: response.resultsByTopicV3AndBelow,
    })
  })

  test('the batched v4 form cannot be sent at a client version', () => {
    const batched = {
      ...request,
      transactions: [{ transactionalId: 'a', producerId: 1n, producerEpoch: 0, verifyOnly: true, topics: [] }],
    }
    expect(() => sendRequest(AddPartitionsToTxn, 3, batched)).toThrow(UnsupportedVersionError)
  })

  test('v2 is classic and v3 compact', () => {
    const small = {
      v3AndBelowTransactionalId: 'x',
      v3AndBelowProducerId: 1n,
      v3AndBelowProducerEpoch: 0,
      v3AndBelowTopics: [{ name: 't', partitions: [5] }],
    }
    expect(requestHex(AddPartitionsToTxn, 2, small)).toBe(
      hex('0001 78 0000000000000001 0000 00000001 0001 74 00000001 00000005'),
    )
    expect(requestHex(AddPartitionsToTxn, 3, small)).toBe(hex('02 78 0000000000000001 0000 02 02 74 02 00000005 00 00'))
  })
})
