import { describe, expect, test } from 'vitest'
import type { EncodableResponseOf } from '../../../../src/protocol/api.js'
import { Produce, type ProduceRequest } from '../../../../src/protocol/apis/produce.js'
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
const BATCH = Buffer.from('0000000000000000000000490000000002', 'hex') // stands in for a record batch: opaque here

const hex = (s: string) => s.replace(/\s+/g, '')

function requestRoundTrip(version: number, body: ProduceRequest) {
  const frame = encodeRequest(Produce, version, 7, 'skiff', body)
  expect(frame.readInt32BE(0)).toBe(frame.length - 4)
  const { header, body: decoded } = decodeRequest(Produce, frame.subarray(4))
  expect(header).toEqual({ apiKey: 0, apiVersion: version, correlationId: 7, clientId: 'skiff' })
  return decoded
}

function responseRoundTrip(version: number, body: EncodableResponseOf<typeof Produce>) {
  return decodeResponse(Produce, version, encodeResponse(Produce, version, 7, body).subarray(4))
}

function responseBody(version: number, body: EncodableResponseOf<typeof Produce>) {
  return encodeResponse(Produce, version, 0, body).subarray(Produce.isFlexible(version) ? 9 : 8)
}

const PARTITION_RESPONSE_DEFAULTS = {
  logAppendTimeMs: -1n,
  logStartOffset: -1n,
  recordErrors: [],
  errorMessage: null,
  currentLeader: { leaderId: -1, leaderEpoch: -1 },
}

describe('Produce requests', () => {
  test('v3, the 4.x minimum: an idempotent producer writes to two partitions of a topic by name', () => {
    const body = {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30_000,
      topicData: [
        {
          name: 'orders',
          partitionData: [
            { index: 0, records: BATCH },
            { index: 1, records: BATCH },
          ],
        },
      ],
    }
    expect(requestRoundTrip(3, body)).toEqual({
      ...body,
      topicData: [{ ...body.topicData[0], topicId: ZERO_UUID }],
    })
  })

  test('v9, the first flexible version: a transactional producer with acks=1', () => {
    const body = {
      transactionalId: 'payments-tx-1',
      acks: 1,
      timeoutMs: 30_000,
      topicData: [
        { name: 'payments', partitionData: [{ index: 4, records: BATCH }] },
        { name: 'audit', partitionData: [{ index: 0, records: null }] },
      ],
    }
    expect(requestRoundTrip(9, body)).toEqual({
      ...body,
      topicData: body.topicData.map((t) => ({ ...t, topicId: ZERO_UUID })),
    })
  })

  test('v13, the maximum: topics by id, the name left out', () => {
    const body = {
      transactionalId: 'payments-tx-1',
      acks: -1,
      timeoutMs: 30_000,
      topicData: [{ topicId: TOPIC_ID, partitionData: [{ index: 0, records: BATCH }] }],
    }
    expect(requestRoundTrip(13, body)).toEqual({
      ...body,
      topicData: [{ ...body.topicData[0], name: '' }],
    })
  })

  const small = {
    acks: 1,
    timeoutMs: 1000,
    topicData: [{ name: 't', topicId: TOPIC_ID, partitionData: [{ index: 0, records: null }] }],
  }

  test('v8 uses classic encodings, v9 compact ones with tagged-field sections', () => {
    expect(encodeRequestBody(Produce, 8, small).toString('hex')).toBe(
      hex('ffff 0001 000003e8 00000001 0001 74 00000001 00000000 ffffffff'),
    )
    expect(encodeRequestBody(Produce, 9, small).toString('hex')).toBe(
      hex('00 0001 000003e8 02 0274 02 00000000 00 00 00 00'),
    )
  })

  test('v12 names the topic and v13 identifies it by its 16-byte id (KIP-516)', () => {
    expect(encodeRequestBody(Produce, 12, small).toString('hex')).toBe(
      hex('00 0001 000003e8 02 0274 02 00000000 00 00 00 00'),
    )
    expect(encodeRequestBody(Produce, 13, small).toString('hex')).toBe(
      hex(`00 0001 000003e8 02 ${TOPIC_ID_HEX} 02 00000000 00 00 00 00`),
    )
  })
})

describe('Produce responses', () => {
  test('v3: base offsets and the log append time, by topic name', () => {
    const decoded = responseRoundTrip(3, {
      responses: [
        {
          name: 'orders',
          partitionResponses: [
            { index: 0, errorCode: 0, baseOffset: 1200n, logAppendTimeMs: -1n },
            { index: 1, errorCode: 0, baseOffset: 88n, logAppendTimeMs: 1_767_225_600_000n },
          ],
        },
      ],
      throttleTimeMs: 0,
    })
    expect(decoded).toEqual({
      responses: [
        {
          name: 'orders',
          topicId: ZERO_UUID,
          partitionResponses: [
            { ...PARTITION_RESPONSE_DEFAULTS, index: 0, errorCode: 0, baseOffset: 1200n },
            {
              ...PARTITION_RESPONSE_DEFAULTS,
              index: 1,
              errorCode: 0,
              baseOffset: 88n,
              logAppendTimeMs: 1_767_225_600_000n,
            },
          ],
        },
      ],
      throttleTimeMs: 0,
      nodeEndpoints: [],
    })
  })

  test('v9: a batch dropped for one bad record carries its index and message (KIP-467)', () => {
    const body = {
      responses: [
        {
          name: 'payments',
          partitionResponses: [
            {
              index: 4,
              errorCode: 87, // INVALID_RECORD
              baseOffset: -1n,
              logAppendTimeMs: -1n,
              logStartOffset: 0n,
              recordErrors: [
                { batchIndex: 2, batchIndexErrorMessage: 'Compacted topic cannot accept message without key' },
              ],
              errorMessage: 'One or more records have been rejected',
            },
          ],
        },
      ],
      throttleTimeMs: 12,
    }
    expect(responseRoundTrip(9, body)).toEqual({
      responses: [
        {
          ...body.responses[0],
          topicId: ZERO_UUID,
          partitionResponses: [{ ...PARTITION_RESPONSE_DEFAULTS, ...body.responses[0]!.partitionResponses[0] }],
        },
      ],
      throttleTimeMs: 12,
      nodeEndpoints: [],
    })
  })

  test('v13: by topic id, NOT_LEADER_OR_FOLLOWER with the new leader and its endpoint (KIP-951)', () => {
    const body = {
      responses: [
        {
          name: '',
          topicId: TOPIC_ID,
          partitionResponses: [
            {
              index: 0,
              errorCode: 6,
              baseOffset: -1n,
              logAppendTimeMs: -1n,
              logStartOffset: -1n,
              recordErrors: [],
              errorMessage: null,
              currentLeader: { leaderId: 2, leaderEpoch: 5 },
            },
          ],
        },
      ],
      throttleTimeMs: 0,
      nodeEndpoints: [{ nodeId: 2, host: 'broker-2.kafka', port: 9092, rack: null }],
    }
    expect(responseRoundTrip(13, body)).toEqual(body)
  })

  test('v10 tags the new leader (partition tag 0) and the node endpoints (response tag 0)', () => {
    const bytes = hex(`
      02
        0274 02
          00000000 0006 ffffffffffffffff ffffffffffffffff ffffffffffffffff 01 00
          01 00 09 00000002 00000005 00
        00
      00000000
      01 00 0e 02 00000002 03 6232 00002384 00 00`)
    const partition = {
      index: 0,
      errorCode: 6,
      baseOffset: -1n,
      currentLeader: { leaderId: 2, leaderEpoch: 5 },
    }
    const body = {
      responses: [{ name: 't', partitionResponses: [partition] }],
      nodeEndpoints: [{ nodeId: 2, host: 'b2', port: 9092 }],
    }
    expect(responseBody(10, body).toString('hex')).toBe(bytes)
    const decoded = decodeResponseBody(Produce, 10, Buffer.from(bytes, 'hex'))
    expect(responseBody(10, decoded).toString('hex')).toBe(bytes)
    expect(decoded).toEqual({
      responses: [
        { name: 't', topicId: ZERO_UUID, partitionResponses: [{ ...PARTITION_RESPONSE_DEFAULTS, ...partition }] },
      ],
      throttleTimeMs: 0,
      nodeEndpoints: [{ nodeId: 2, host: 'b2', port: 9092, rack: null }],
    })
    // v9 has neither field, and neither is ignorable: a v9 response cannot carry a leader hint at all.
    expect(() => responseBody(9, body)).toThrow(UnsupportedVersionError)
    const { currentLeader: _, ...withoutLeader } = partition
    expect(responseBody(9, { responses: [{ name: 't', partitionResponses: [withoutLeader] }] }).toString('hex')).toBe(
      hex('02 0274 02 00000000 0006 ffffffffffffffff ffffffffffffffff ffffffffffffffff 01 00 00 00 00000000 00'),
    )
  })
})
