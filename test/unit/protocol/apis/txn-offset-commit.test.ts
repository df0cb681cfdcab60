import { describe, expect, test } from 'vitest'
import { TxnOffsetCommit } from '../../../../src/protocol/apis/txn-offset-commit.js'
import { UnsupportedVersionError } from '../../../../src/protocol/errors.js'
import { ZERO_UUID } from '../../../../src/protocol/uuid.js'
import { hex, receiveResponse, requestHex, sendRequest } from './wire.js'

const CLICKS_ID = 'x7Yb3Q9pRmKzL2vN8wJ4tA'

describe('TxnOffsetCommit', () => {
  test('v0 commits by topic name, without group membership or leader epochs', () => {
    const request = {
      transactionalId: 'enricher-tx-2',
      groupId: 'enricher',
      producerId: 77n,
      producerEpoch: 1,
      topics: [
        {
          name: 'clicks',
          partitions: [
            { partitionIndex: 0, committedOffset: 981n, committedMetadata: null },
            { partitionIndex: 1, committedOffset: 12n, committedMetadata: 'batch-17' },
          ],
        },
      ],
    }
    expect(sendRequest(TxnOffsetCommit, 0, request)).toEqual({
      ...request,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [
        {
          name: 'clicks',
          topicId: ZERO_UUID,
          partitions: request.topics[0]!.partitions.map((p) => ({ ...p, committedLeaderEpoch: -1 })),
        },
      ],
    })
    const response = {
      throttleTimeMs: 0,
      topics: [{ name: 'clicks', partitions: [{ partitionIndex: 0, errorCode: 0 }] }],
    }
    expect(receiveResponse(TxnOffsetCommit, 0, response)).toEqual({
      throttleTimeMs: 0,
      topics: [{ name: 'clicks', topicId: ZERO_UUID, partitions: [{ partitionIndex: 0, errorCode: 0 }] }],
    })
  })

  test('v6 commits by topic id (KIP-1319) with the member epoch of a consumer-protocol member', () => {
    const request = {
      transactionalId: 'enricher-tx-2',
      groupId: 'enricher',
      producerId: 77n,
      producerEpoch: 1,
      generationIdOrMemberEpoch: 14,
      memberId: 'Sc3QmXq9T0uUYy1V6oHq2g',
      groupInstanceId: 'enricher-2',
      topics: [
        {
          topicId: CLICKS_ID,
          partitions: [{ partitionIndex: 3, committedOffset: 9000n, committedLeaderEpoch: 5, committedMetadata: '' }],
        },
      ],
    }
    expect(sendRequest(TxnOffsetCommit, 6, request)).toEqual({
      ...request,
      topics: [{ ...request.topics[0], name: '' }],
    })
    const response = {
      throttleTimeMs: 0,
      topics: [{ name: '', topicId: CLICKS_ID, partitions: [{ partitionIndex: 3, errorCode: 113 }] }],
    }
    expect(receiveResponse(TxnOffsetCommit, 6, response)).toEqual(response)
  })

  test('group membership cannot be sent before v3', () => {
    const request = { transactionalId: 't', groupId: 'g', producerId: 1n, producerEpoch: 0, memberId: 'm', topics: [] }
    expect(() => sendRequest(TxnOffsetCommit, 2, request)).toThrow(UnsupportedVersionError)
  })

  test('v2 is classic and v3 compact, with the v3 membership fields at their defaults', () => {
    const small = {
      transactionalId: 'x',
      groupId: 'g',
      producerId: 1n,
      producerEpoch: 0,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 5n, committedMetadata: null }] }],
    }
    expect(requestHex(TxnOffsetCommit, 2, small)).toBe(
      hex(`0001 78  0001 67  0000000000000001  0000
           00000001 0001 74 00000001 00000000 0000000000000005 ffffffff ffff`),
    )
    expect(requestHex(TxnOffsetCommit, 3, small)).toBe(
      hex(`02 78  02 67  0000000000000001  0000  ffffffff  01  00
           02 02 74 02 00000000 0000000000000005 ffffffff 00 00 00 00`),
    )
  })
})
