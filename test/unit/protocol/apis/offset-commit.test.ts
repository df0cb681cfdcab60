import { describe, expect, test } from 'vitest'
import type { EncodableResponseOf } from '../../../../src/protocol/api.js'
import { OffsetCommit, type OffsetCommitRequest } from '../../../../src/protocol/apis/offset-commit.js'
import {
  decodeRequest,
  decodeResponse,
  decodeResponseBody,
  encodeRequest,
  encodeRequestBody,
  encodeResponse,
} from '../../../../src/protocol/frame.js'
import { ZERO_UUID } from '../../../../src/protocol/uuid.js'

const TOPIC_ID = 'AAECAwQFBgcICQoLDA0ODw' // bytes 00 01 02 ... 0f
const TOPIC_ID_HEX = '000102030405060708090a0b0c0d0e0f'

const hex = (s: string) => s.replace(/\s+/g, '')

function requestRoundTrip(version: number, body: OffsetCommitRequest) {
  const frame = encodeRequest(OffsetCommit, version, 11, 'skiff', body)
  const { header, body: decoded } = decodeRequest(OffsetCommit, frame.subarray(4))
  expect(header).toEqual({ apiKey: 8, apiVersion: version, correlationId: 11, clientId: 'skiff' })
  return decoded
}

function responseRoundTrip(version: number, body: EncodableResponseOf<typeof OffsetCommit>) {
  return decodeResponse(OffsetCommit, version, encodeResponse(OffsetCommit, version, 11, body).subarray(4))
}

describe('OffsetCommit requests', () => {
  test('v2, the 4.x minimum: a group member commits with a retention time', () => {
    const decoded = requestRoundTrip(2, {
      groupId: 'billing',
      generationIdOrMemberEpoch: 3,
      memberId: 'consumer-1-6f1c',
      retentionTimeMs: 86_400_000n,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 1201n, committedMetadata: '' }] }],
    })
    expect(decoded).toEqual({
      groupId: 'billing',
      generationIdOrMemberEpoch: 3,
      memberId: 'consumer-1-6f1c',
      groupInstanceId: null,
      retentionTimeMs: 86_400_000n,
      topics: [
        {
          name: 'orders',
          topicId: ZERO_UUID,
          partitions: [{ partitionIndex: 0, committedOffset: 1201n, committedLeaderEpoch: -1, committedMetadata: '' }],
        },
      ],
    })
  })

  test('v8, the first flexible version: a static member commits with leader epochs, retention gone', () => {
    const body = {
      groupId: 'billing',
      generationIdOrMemberEpoch: 12,
      memberId: 'consumer-1-6f1c',
      groupInstanceId: 'billing-host-1',
      topics: [
        {
          name: 'orders',
          partitions: [
            { partitionIndex: 0, committedOffset: 1201n, committedLeaderEpoch: 7, committedMetadata: null },
            { partitionIndex: 1, committedOffset: 88n, committedLeaderEpoch: 7, committedMetadata: 'host-1' },
          ],
        },
      ],
    }
    expect(requestRoundTrip(8, body)).toEqual({
      ...body,
      retentionTimeMs: -1n,
      topics: [{ ...body.topics[0], topicId: ZERO_UUID }],
    })
  })

  test('v10, the maximum: a consumer-protocol member commits by topic id with its member epoch', () => {
    const body = {
      groupId: 'billing',
      generationIdOrMemberEpoch: 21,
      memberId: 'XK4Q1m5oTbq0yJQ9nI1jzw',
      groupInstanceId: null,
      topics: [
        {
          topicId: TOPIC_ID,
          partitions: [{ partitionIndex: 2, committedOffset: 5000n, committedLeaderEpoch: 3, committedMetadata: '' }],
        },
      ],
    }
    expect(requestRoundTrip(10, body)).toEqual({
      ...body,
      retentionTimeMs: -1n,
      topics: [{ ...body.topics[0], name: '' }],
    })
  })

  test('v9 names the topic and v10 identifies it by its 16-byte id', () => {
    const body = {
      groupId: 'g',
      generationIdOrMemberEpoch: 1,
      memberId: 'm',
      topics: [
        {
          name: 't',
          topicId: TOPIC_ID,
          partitions: [{ partitionIndex: 0, committedOffset: 5n, committedMetadata: null }],
        },
      ],
    }
    const partition = '02 00000000 0000000000000005 ffffffff 00 00'
    expect(encodeRequestBody(OffsetCommit, 9, body).toString('hex')).toBe(
      hex(`0267 00000001 026d 00 02 0274 ${partition} 00 00`),
    )
    expect(encodeRequestBody(OffsetCommit, 10, body).toString('hex')).toBe(
      hex(`0267 00000001 026d 00 02 ${TOPIC_ID_HEX} ${partition} 00 00`),
    )
  })

  test('v4 carries the retention time between the member id and the topics; v5 drops it', () => {
    const body = { groupId: 'g', generationIdOrMemberEpoch: 1, memberId: 'm', retentionTimeMs: 1000n, topics: [] }
    expect(encodeRequestBody(OffsetCommit, 4, body).toString('hex')).toBe(
      hex('0001 67 00000001 0001 6d 00000000000003e8 00000000'),
    )
    expect(encodeRequestBody(OffsetCommit, 5, body).toString('hex')).toBe(hex('0001 67 00000001 0001 6d 00000000'))
  })
})

describe('OffsetCommit responses', () => {
  test('v2: per-partition errors, no throttle time yet', () => {
    const decoded = responseRoundTrip(2, {
      topics: [
        {
          name: 'orders',
          partitions: [
            { partitionIndex: 0, errorCode: 0 },
            { partitionIndex: 1, errorCode: 22 }, // ILLEGAL_GENERATION
          ],
        },
      ],
    })
    expect(decoded).toEqual({
      throttleTimeMs: 0,
      topics: [
        {
          name: 'orders',
          topicId: ZERO_UUID,
          partitions: [
            { partitionIndex: 0, errorCode: 0 },
            { partitionIndex: 1, errorCode: 22 },
          ],
        },
      ],
    })
  })

  test('v8: throttled, by topic name', () => {
    const body = {
      throttleTimeMs: 10,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0 }] }],
    }
    expect(responseRoundTrip(8, body)).toEqual({ ...body, topics: [{ ...body.topics[0], topicId: ZERO_UUID }] })
  })

  test('v10: by topic id, a stale member epoch', () => {
    const body = {
      throttleTimeMs: 0,
      topics: [{ name: '', topicId: TOPIC_ID, partitions: [{ partitionIndex: 2, errorCode: 113 }] }], // STALE_MEMBER_EPOCH
    }
    expect(responseRoundTrip(10, body)).toEqual(body)
  })

  test('a v10 response body decodes from hand-written bytes', () => {
    const bytes = hex(`00000000 02 ${TOPIC_ID_HEX} 02 00000002 0071 00 00 00`)
    expect(decodeResponseBody(OffsetCommit, 10, Buffer.from(bytes, 'hex'))).toEqual({
      throttleTimeMs: 0,
      topics: [{ name: '', topicId: TOPIC_ID, partitions: [{ partitionIndex: 2, errorCode: 113 }] }],
    })
  })
})
