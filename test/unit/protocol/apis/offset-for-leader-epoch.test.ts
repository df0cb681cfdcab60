import { describe, expect, test } from 'vitest'
import type { EncodableResponseOf } from '../../../../src/protocol/api.js'
import {
  OffsetForLeaderEpoch,
  type OffsetForLeaderEpochRequest,
} from '../../../../src/protocol/apis/offset-for-leader-epoch.js'
import {
  decodeRequest,
  decodeResponse,
  decodeResponseBody,
  encodeRequest,
  encodeRequestBody,
  encodeResponse,
} from '../../../../src/protocol/frame.js'

const hex = (s: string) => s.replace(/\s+/g, '')

function requestRoundTrip(version: number, body: OffsetForLeaderEpochRequest) {
  const frame = encodeRequest(OffsetForLeaderEpoch, version, 31, 'skiff', body)
  const { header, body: decoded } = decodeRequest(OffsetForLeaderEpoch, frame.subarray(4))
  expect(header).toEqual({ apiKey: 23, apiVersion: version, correlationId: 31, clientId: 'skiff' })
  return decoded
}

function responseRoundTrip(version: number, body: EncodableResponseOf<typeof OffsetForLeaderEpoch>) {
  return decodeResponse(
    OffsetForLeaderEpoch,
    version,
    encodeResponse(OffsetForLeaderEpoch, version, 31, body).subarray(4),
  )
}

describe('OffsetForLeaderEpoch requests', () => {
  test('v2, the 4.x minimum: a consumer validates its position; there is no replica id yet', () => {
    const body = {
      topics: [
        {
          topic: 'orders',
          partitions: [
            { partition: 0, currentLeaderEpoch: 8, leaderEpoch: 7 },
            { partition: 1, currentLeaderEpoch: 8, leaderEpoch: 8 },
          ],
        },
      ],
    }
    expect(requestRoundTrip(2, body)).toEqual({ ...body, replicaId: -2 })
  })

  test('v3: a consumer sends replica id -1', () => {
    const body = {
      replicaId: -1,
      topics: [{ topic: 'orders', partitions: [{ partition: 0, currentLeaderEpoch: 8, leaderEpoch: 7 }] }],
    }
    expect(requestRoundTrip(3, body)).toEqual(body)
  })

  test('v4, the maximum and first flexible version', () => {
    const body = {
      replicaId: -1,
      topics: [
        { topic: 'orders', partitions: [{ partition: 0, currentLeaderEpoch: 8, leaderEpoch: 7 }] },
        { topic: 'payments', partitions: [{ partition: 3, currentLeaderEpoch: -1, leaderEpoch: 2 }] },
      ],
    }
    expect(requestRoundTrip(4, body)).toEqual(body)
  })

  test('v3 puts the replica id first; v2 leaves it out (it is ignorable)', () => {
    const body = {
      replicaId: -1,
      topics: [{ topic: 't', partitions: [{ partition: 0, currentLeaderEpoch: 5, leaderEpoch: 4 }] }],
    }
    const rest = '00000001 0001 74 00000001 00000000 00000005 00000004'
    expect(encodeRequestBody(OffsetForLeaderEpoch, 2, body).toString('hex')).toBe(hex(rest))
    expect(encodeRequestBody(OffsetForLeaderEpoch, 3, body).toString('hex')).toBe(hex(`ffffffff ${rest}`))
    expect(encodeRequestBody(OffsetForLeaderEpoch, 4, body).toString('hex')).toBe(
      hex('ffffffff 02 0274 02 00000000 00000005 00000004 00 00 00'),
    )
  })
})

describe('OffsetForLeaderEpoch responses', () => {
  test('v2: the end offset of the asked epoch, and the epoch it belongs to', () => {
    const body = {
      throttleTimeMs: 0,
      topics: [
        {
          topic: 'orders',
          partitions: [
            { errorCode: 0, partition: 0, leaderEpoch: 7, endOffset: 4990n },
            { errorCode: 74, partition: 1, leaderEpoch: -1, endOffset: -1n }, // FENCED_LEADER_EPOCH
          ],
        },
      ],
    }
    expect(responseRoundTrip(2, body)).toEqual(body)
  })

  test('v3', () => {
    const body = {
      throttleTimeMs: 5,
      topics: [{ topic: 'orders', partitions: [{ errorCode: 0, partition: 0, leaderEpoch: 7, endOffset: 4990n }] }],
    }
    expect(responseRoundTrip(3, body)).toEqual(body)
  })

  test('v4, the maximum', () => {
    const body = {
      throttleTimeMs: 0,
      topics: [{ topic: 'orders', partitions: [{ errorCode: 0, partition: 0, leaderEpoch: 8, endOffset: 5100n }] }],
    }
    expect(responseRoundTrip(4, body)).toEqual(body)
  })

  test('a v4 response body decodes from hand-written bytes', () => {
    const bytes = hex('00000000 02 0274 02 0000 00000000 00000007 000000000000137e 00 00 00')
    expect(decodeResponseBody(OffsetForLeaderEpoch, 4, Buffer.from(bytes, 'hex'))).toEqual({
      throttleTimeMs: 0,
      topics: [{ topic: 't', partitions: [{ errorCode: 0, partition: 0, leaderEpoch: 7, endOffset: 4990n }] }],
    })
  })
})
