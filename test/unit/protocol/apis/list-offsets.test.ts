import { describe, expect, test } from 'vitest'
import type { EncodableResponseOf } from '../../../../src/protocol/api.js'
import { ListOffsets, type ListOffsetsRequest } from '../../../../src/protocol/apis/list-offsets.js'
import { UnsupportedVersionError } from '../../../../src/protocol/errors.js'
import {
  decodeRequest,
  decodeResponse,
  decodeResponseBody,
  encodeRequest,
  encodeRequestBody,
  encodeResponse,
} from '../../../../src/protocol/frame.js'

const hex = (s: string) => s.replace(/\s+/g, '')

function requestRoundTrip(version: number, body: ListOffsetsRequest) {
  const frame = encodeRequest(ListOffsets, version, 3, 'skiff', body)
  const { header, body: decoded } = decodeRequest(ListOffsets, frame.subarray(4))
  expect(header).toEqual({ apiKey: 2, apiVersion: version, correlationId: 3, clientId: 'skiff' })
  return decoded
}

function responseRoundTrip(version: number, body: EncodableResponseOf<typeof ListOffsets>) {
  return decodeResponse(ListOffsets, version, encodeResponse(ListOffsets, version, 3, body).subarray(4))
}

describe('ListOffsets requests', () => {
  test('v1, the 4.x minimum: earliest and latest offsets of two partitions', () => {
    const decoded = requestRoundTrip(1, {
      replicaId: -1,
      topics: [
        {
          name: 'orders',
          partitions: [
            { partitionIndex: 0, timestamp: -2n },
            { partitionIndex: 1, timestamp: -1n },
          ],
        },
      ],
    })
    expect(decoded).toEqual({
      replicaId: -1,
      isolationLevel: 0,
      topics: [
        {
          name: 'orders',
          partitions: [
            { partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -2n },
            { partitionIndex: 1, currentLeaderEpoch: -1, timestamp: -1n },
          ],
        },
      ],
      timeoutMs: 0,
    })
  })

  test('v6, the first flexible version: read_committed, fenced by the leader epoch, by timestamp', () => {
    const body = {
      replicaId: -1,
      isolationLevel: 1,
      topics: [
        { name: 'orders', partitions: [{ partitionIndex: 0, currentLeaderEpoch: 7, timestamp: 1_767_225_600_000n }] },
      ],
    }
    expect(requestRoundTrip(6, body)).toEqual({ ...body, timeoutMs: 0 })
  })

  test('v11, the maximum: max timestamp and earliest pending upload, with a remote-storage timeout', () => {
    const body = {
      replicaId: -1,
      isolationLevel: 0,
      topics: [
        {
          name: 'orders',
          partitions: [
            { partitionIndex: 0, currentLeaderEpoch: 7, timestamp: -3n },
            { partitionIndex: 1, currentLeaderEpoch: 7, timestamp: -6n },
          ],
        },
      ],
      timeoutMs: 30_000,
    }
    expect(requestRoundTrip(11, body)).toEqual(body)
  })

  test('v1 has neither isolation level nor leader epoch; v4 has both', () => {
    const body = {
      replicaId: -1,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, currentLeaderEpoch: 7, timestamp: -1n }] }],
    }
    // The leader epoch is ignorable: v1 simply leaves it out.
    expect(encodeRequestBody(ListOffsets, 1, body).toString('hex')).toBe(
      hex('ffffffff 00000001 0001 74 00000001 00000000 ffffffffffffffff'),
    )
    expect(encodeRequestBody(ListOffsets, 4, body).toString('hex')).toBe(
      hex('ffffffff 00 00000001 0001 74 00000001 00000000 00000007 ffffffffffffffff'),
    )
    // read_committed is not: v1 cannot express it.
    expect(() => encodeRequestBody(ListOffsets, 1, { ...body, isolationLevel: 1 })).toThrow(UnsupportedVersionError)
  })
})

describe('ListOffsets responses', () => {
  test('v1: the offset and its timestamp, no leader epoch', () => {
    const decoded = responseRoundTrip(1, {
      topics: [
        {
          name: 'orders',
          partitions: [
            { partitionIndex: 0, errorCode: 0, timestamp: -1n, offset: 0n },
            { partitionIndex: 1, errorCode: 0, timestamp: -1n, offset: 1300n },
          ],
        },
      ],
    })
    expect(decoded).toEqual({
      throttleTimeMs: 0,
      topics: [
        {
          name: 'orders',
          partitions: [
            { partitionIndex: 0, errorCode: 0, timestamp: -1n, offset: 0n, leaderEpoch: -1 },
            { partitionIndex: 1, errorCode: 0, timestamp: -1n, offset: 1300n, leaderEpoch: -1 },
          ],
        },
      ],
    })
  })

  test('v6: an offset found by timestamp, with its leader epoch', () => {
    const body = {
      throttleTimeMs: 0,
      topics: [
        {
          name: 'orders',
          partitions: [
            { partitionIndex: 0, errorCode: 0, timestamp: 1_767_225_600_012n, offset: 880n, leaderEpoch: 7 },
          ],
        },
      ],
    }
    expect(responseRoundTrip(6, body)).toEqual(body)
  })

  test('v11: an error for one partition and no match for a future timestamp in another', () => {
    const body = {
      throttleTimeMs: 20,
      topics: [
        {
          name: 'orders',
          partitions: [
            { partitionIndex: 0, errorCode: 74, timestamp: -1n, offset: -1n, leaderEpoch: -1 }, // FENCED_LEADER_EPOCH
            { partitionIndex: 1, errorCode: 0, timestamp: -1n, offset: -1n, leaderEpoch: 7 },
          ],
        },
      ],
    }
    expect(responseRoundTrip(11, body)).toEqual(body)
  })

  test('v2 adds the throttle time in front; v6 switches to compact encodings', () => {
    const v2 = '00000005 00000001 0001 74 00000001 00000000 0000 ffffffffffffffff 000000000000002a'
    expect(decodeResponseBody(ListOffsets, 2, Buffer.from(hex(v2), 'hex'))).toEqual({
      throttleTimeMs: 5,
      topics: [
        { name: 't', partitions: [{ partitionIndex: 0, errorCode: 0, timestamp: -1n, offset: 42n, leaderEpoch: -1 }] },
      ],
    })
    const v6 = '00000005 02 0274 02 00000000 0000 ffffffffffffffff 000000000000002a 00000003 00 00 00'
    expect(decodeResponseBody(ListOffsets, 6, Buffer.from(hex(v6), 'hex'))).toEqual({
      throttleTimeMs: 5,
      topics: [
        { name: 't', partitions: [{ partitionIndex: 0, errorCode: 0, timestamp: -1n, offset: 42n, leaderEpoch: 3 }] },
      ],
    })
  })
})
