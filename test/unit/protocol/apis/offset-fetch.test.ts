import { describe, expect, test } from 'vitest'
import type { EncodableResponseOf } from '../../../../src/protocol/api.js'
import { OffsetFetch, type OffsetFetchRequest } from '../../../../src/protocol/apis/offset-fetch.js'
import { UnsupportedVersionError } from '../../../../src/protocol/errors.js'
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

function requestRoundTrip(version: number, body: OffsetFetchRequest) {
  const frame = encodeRequest(OffsetFetch, version, 5, 'skiff', body)
  const { header, body: decoded } = decodeRequest(OffsetFetch, frame.subarray(4))
  expect(header).toEqual({ apiKey: 9, apiVersion: version, correlationId: 5, clientId: 'skiff' })
  return decoded
}

function responseRoundTrip(version: number, body: EncodableResponseOf<typeof OffsetFetch>) {
  return decodeResponse(OffsetFetch, version, encodeResponse(OffsetFetch, version, 5, body).subarray(4))
}

describe('OffsetFetch requests', () => {
  test('v1, the 4.x minimum: one group, named partitions', () => {
    const body = { groupId: 'billing', topics: [{ name: 'orders', partitionIndexes: [0, 1, 2] }] }
    expect(requestRoundTrip(1, body)).toEqual({ ...body, groups: [], requireStable: false })
  })

  test('v7, the last single-group version: every partition (null topics), stable offsets only', () => {
    const body = { groupId: 'billing', topics: null, requireStable: true }
    expect(requestRoundTrip(7, body)).toEqual({ ...body, groups: [] })
  })

  test('v8, the first batched version: two groups, one asking for everything', () => {
    const body = {
      groups: [
        { groupId: 'billing', topics: [{ name: 'orders', partitionIndexes: [0, 1] }] },
        { groupId: 'audit', topics: null },
      ],
      requireStable: true,
    }
    expect(requestRoundTrip(8, body)).toEqual({
      groupId: '',
      topics: [],
      groups: [
        {
          groupId: 'billing',
          memberId: null,
          memberEpoch: -1,
          topics: [{ name: 'orders', topicId: ZERO_UUID, partitionIndexes: [0, 1] }],
        },
        { groupId: 'audit', memberId: null, memberEpoch: -1, topics: null },
      ],
      requireStable: true,
    })
  })

  test('v10, the maximum: a consumer-protocol member asks by topic id', () => {
    const body = {
      groups: [
        {
          groupId: 'billing',
          memberId: 'XK4Q1m5oTbq0yJQ9nI1jzw',
          memberEpoch: 21,
          topics: [{ topicId: TOPIC_ID, partitionIndexes: [0, 1] }],
        },
      ],
      requireStable: true,
    }
    expect(requestRoundTrip(10, body)).toEqual({
      groupId: '',
      topics: [],
      groups: [{ ...body.groups[0], topics: [{ name: '', topicId: TOPIC_ID, partitionIndexes: [0, 1] }] }],
      requireStable: true,
    })
  })

  test('v1 cannot ask for every partition; v2 sends null topics as length -1', () => {
    expect(() => encodeRequestBody(OffsetFetch, 1, { groupId: 'g', topics: null })).toThrow(TypeError)
    expect(encodeRequestBody(OffsetFetch, 2, { groupId: 'g', topics: null }).toString('hex')).toBe(
      hex('0001 67 ffffffff'),
    )
  })

  test('v8 moves everything into groups; v10 names topics by id', () => {
    expect(
      encodeRequestBody(OffsetFetch, 8, { groups: [{ groupId: 'g', topics: null }], requireStable: true }).toString(
        'hex',
      ),
    ).toBe(hex('02 0267 00 00 01 00'))
    const v10 = {
      groups: [
        { groupId: 'g', memberId: 'm', memberEpoch: 3, topics: [{ topicId: TOPIC_ID, partitionIndexes: [0, 1] }] },
      ],
    }
    expect(encodeRequestBody(OffsetFetch, 10, v10).toString('hex')).toBe(
      hex(`02 0267 026d 00000003 02 ${TOPIC_ID_HEX} 03 00000000 00000001 00 00 00 00`),
    )
    // A single-group request has no place in v8+.
    expect(() => encodeRequestBody(OffsetFetch, 8, { groupId: 'g', groups: [] })).toThrow(UnsupportedVersionError)
  })
})

describe('OffsetFetch responses', () => {
  test('v1: committed offsets with metadata, no top-level error or throttle time yet', () => {
    const decoded = responseRoundTrip(1, {
      topics: [
        {
          name: 'orders',
          partitions: [
            { partitionIndex: 0, committedOffset: 1201n, metadata: '', errorCode: 0 },
            { partitionIndex: 1, committedOffset: -1n, metadata: null, errorCode: 0 },
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
            { partitionIndex: 0, committedOffset: 1201n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
            { partitionIndex: 1, committedOffset: -1n, committedLeaderEpoch: -1, metadata: null, errorCode: 0 },
          ],
        },
      ],
      errorCode: 0,
      groups: [],
    })
  })

  test('v7: leader epochs, a pending transactional commit, and a top-level error code', () => {
    const body = {
      throttleTimeMs: 0,
      topics: [
        {
          name: 'orders',
          partitions: [
            { partitionIndex: 0, committedOffset: 1201n, committedLeaderEpoch: 7, metadata: '', errorCode: 0 },
            { partitionIndex: 1, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: 88 }, // UNSTABLE_OFFSET_COMMIT
          ],
        },
      ],
      errorCode: 0,
    }
    expect(responseRoundTrip(7, body)).toEqual({ ...body, groups: [] })
  })

  test('v10: per-group answers by topic id, and a group-level error', () => {
    const body = {
      throttleTimeMs: 0,
      groups: [
        {
          groupId: 'billing',
          topics: [
            {
              name: '',
              topicId: TOPIC_ID,
              partitions: [
                { partitionIndex: 0, committedOffset: 5000n, committedLeaderEpoch: 3, metadata: '', errorCode: 0 },
              ],
            },
          ],
          errorCode: 0,
        },
        { groupId: 'audit', topics: [], errorCode: 16 }, // NOT_COORDINATOR
      ],
    }
    expect(responseRoundTrip(10, body)).toEqual({ ...body, topics: [], errorCode: 0 })
  })

  test('a v8 response body decodes from hand-written bytes', () => {
    const bytes = hex(`
      00000000 02
        0267 02
          0274 02 00000000 000000000000002a ffffffff 01 0000 00
          00
        0000 00
      00`)
    expect(decodeResponseBody(OffsetFetch, 8, Buffer.from(bytes, 'hex'))).toEqual({
      throttleTimeMs: 0,
      topics: [],
      errorCode: 0,
      groups: [
        {
          groupId: 'g',
          topics: [
            {
              name: 't',
              topicId: ZERO_UUID,
              partitions: [
                { partitionIndex: 0, committedOffset: 42n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
              ],
            },
          ],
          errorCode: 0,
        },
      ],
    })
  })
})
