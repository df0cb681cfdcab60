import { describe, expect, test } from 'vitest'
import type { EncodableResponseOf } from '../../../../src/protocol/api.js'
import { Fetch, type FetchRequest } from '../../../../src/protocol/apis/fetch.js'
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
const BATCH = Buffer.from('00000000000004b00000003affffffff02', 'hex') // stands in for a record batch: opaque here

const hex = (s: string) => s.replace(/\s+/g, '')

function requestRoundTrip(version: number, body: FetchRequest) {
  const frame = encodeRequest(Fetch, version, 42, 'skiff', body)
  expect(frame.readInt32BE(0)).toBe(frame.length - 4)
  const { header, body: decoded } = decodeRequest(Fetch, frame.subarray(4))
  expect(header).toEqual({ apiKey: 1, apiVersion: version, correlationId: 42, clientId: 'skiff' })
  return decoded
}

function responseRoundTrip(version: number, body: EncodableResponseOf<typeof Fetch>) {
  return decodeResponse(Fetch, version, encodeResponse(Fetch, version, 42, body).subarray(4))
}

/** A response body's bytes: past the size, the correlation id and (flexible versions) the header's tags. */
function responseBody(version: number, body: EncodableResponseOf<typeof Fetch>) {
  return encodeResponse(Fetch, version, 0, body).subarray(Fetch.isFlexible(version) ? 9 : 8)
}

const PARTITION_DEFAULTS = {
  currentLeaderEpoch: -1,
  lastFetchedEpoch: -1,
  logStartOffset: -1n,
  replicaDirectoryId: ZERO_UUID,
  highWatermark: 9223372036854775807n,
}

const PARTITION_DATA_DEFAULTS = {
  lastStableOffset: -1n,
  logStartOffset: -1n,
  divergingEpoch: { epoch: -1, endOffset: -1n },
  currentLeader: { leaderId: -1, leaderEpoch: -1 },
  snapshotId: { endOffset: -1n, epoch: -1 },
  abortedTransactions: [],
  preferredReadReplica: -1,
}

describe('Fetch requests', () => {
  test('v4, the 4.x minimum: a read_committed consumer fetch by topic name, without sessions or epochs', () => {
    const decoded = requestRoundTrip(4, {
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 52_428_800,
      isolationLevel: 1,
      topics: [
        {
          topic: 'orders',
          partitions: [
            { partition: 0, fetchOffset: 1200n, partitionMaxBytes: 1_048_576 },
            { partition: 3, fetchOffset: 0n, partitionMaxBytes: 1_048_576 },
          ],
        },
      ],
    })
    expect(decoded).toEqual({
      clusterId: null,
      replicaId: -1,
      replicaState: { replicaId: -1, replicaEpoch: -1n },
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 52_428_800,
      isolationLevel: 1,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: 'orders',
          topicId: ZERO_UUID,
          partitions: [
            { ...PARTITION_DEFAULTS, partition: 0, fetchOffset: 1200n, partitionMaxBytes: 1_048_576 },
            { ...PARTITION_DEFAULTS, partition: 3, fetchOffset: 0n, partitionMaxBytes: 1_048_576 },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    })
  })

  test('v12, the first flexible version: an incremental session fetch with epochs, forgotten topics and a rack', () => {
    const body = {
      clusterId: null,
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 52_428_800,
      isolationLevel: 0,
      sessionId: 918_273,
      sessionEpoch: 4,
      topics: [
        {
          topic: 'orders',
          partitions: [
            {
              partition: 1,
              currentLeaderEpoch: 7,
              fetchOffset: 5000n,
              lastFetchedEpoch: 6,
              logStartOffset: -1n,
              partitionMaxBytes: 1_048_576,
            },
          ],
        },
      ],
      forgottenTopicsData: [{ topic: 'payments', partitions: [0, 2] }],
      rackId: 'eu-west-1a',
    }
    expect(requestRoundTrip(12, body)).toEqual({
      ...body,
      replicaState: { replicaId: -1, replicaEpoch: -1n },
      topics: [
        {
          topic: 'orders',
          topicId: ZERO_UUID,
          partitions: [{ ...PARTITION_DEFAULTS, ...body.topics[0]!.partitions[0] }],
        },
      ],
      forgottenTopicsData: [{ topic: 'payments', topicId: ZERO_UUID, partitions: [0, 2] }],
    })
  })

  test('v18, the maximum: a follower fetch by topic id with every tagged field set', () => {
    const body = {
      clusterId: 'MkU3OEVBNTcwNTJENDM2Qg',
      replicaState: { replicaId: 2, replicaEpoch: 31n },
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 10_485_760,
      isolationLevel: 0,
      sessionId: 12,
      sessionEpoch: 99,
      topics: [
        {
          topicId: TOPIC_ID,
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: 7,
              fetchOffset: 5000n,
              lastFetchedEpoch: 7,
              logStartOffset: 100n,
              partitionMaxBytes: 1_048_576,
              replicaDirectoryId: 'ZGlyZWN0b3J5LWlkLTAxMg',
              highWatermark: 4990n,
            },
          ],
        },
      ],
      forgottenTopicsData: [{ topicId: 'EBESExQVFhcYGRobHB0eHw', partitions: [4] }],
      rackId: '',
    }
    expect(requestRoundTrip(18, body)).toEqual({
      ...body,
      replicaId: -1,
      topics: [{ ...body.topics[0], topic: '' }],
      forgottenTopicsData: [{ ...body.forgottenTopicsData[0], topic: '' }],
    })
  })

  const small = {
    maxWaitMs: 500,
    minBytes: 1,
    topics: [
      { topic: 't', topicId: TOPIC_ID, partitions: [{ partition: 0, fetchOffset: 5n, partitionMaxBytes: 1_048_576 }] },
    ],
  }
  const fetchHead = 'ffffffff 000001f4 00000001 7fffffff 00 00000000 ffffffff 02'
  const fetchPartition = '02 00000000 ffffffff 0000000000000005 ffffffff ffffffffffffffff 00100000 00'
  const fetchTail = '00 01 01 00'

  test('v12 names the topic (compact string) and v13 identifies it by its 16-byte id (KIP-516)', () => {
    expect(encodeRequestBody(Fetch, 12, small).toString('hex')).toBe(
      hex(`${fetchHead} 0274 ${fetchPartition} ${fetchTail}`),
    )
    expect(encodeRequestBody(Fetch, 13, small).toString('hex')).toBe(
      hex(`${fetchHead} ${TOPIC_ID_HEX} ${fetchPartition} ${fetchTail}`),
    )
  })

  test('v15 drops the replicaId field: a follower sends it in the tagged replicaState (tag 1) instead (KIP-903)', () => {
    const follower = { ...small, replicaState: { replicaId: 3, replicaEpoch: 7n } }
    const head15 = '000001f4 00000001 7fffffff 00 00000000 ffffffff 02'
    const tagged = '01 01 0d 00000003 0000000000000007 00'
    expect(encodeRequestBody(Fetch, 15, follower).toString('hex')).toBe(
      hex(`${head15} ${TOPIC_ID_HEX} ${fetchPartition} 00 01 01 ${tagged}`),
    )
    // A consumer's replicaState is the default struct, which (as in Kafka) is not written at all.
    const consumer = { ...small, replicaState: { replicaId: -1, replicaEpoch: -1n } }
    expect(encodeRequestBody(Fetch, 15, consumer).toString('hex')).toBe(
      hex(`${head15} ${TOPIC_ID_HEX} ${fetchPartition} 00 01 01 00`),
    )
    expect(() => encodeRequestBody(Fetch, 15, { ...small, replicaId: 3 })).toThrow(UnsupportedVersionError)
    expect(() => encodeRequestBody(Fetch, 14, follower)).toThrow(UnsupportedVersionError)
  })
})

describe('Fetch responses', () => {
  test('v4: records with an aborted transaction, by topic name', () => {
    const decoded = responseRoundTrip(4, {
      throttleTimeMs: 0,
      responses: [
        {
          topic: 'orders',
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 1300n,
              lastStableOffset: 1250n,
              abortedTransactions: [{ producerId: 4000n, firstOffset: 1210n }],
              records: BATCH,
            },
          ],
        },
      ],
    })
    expect(decoded).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [
        {
          topic: 'orders',
          topicId: ZERO_UUID,
          partitions: [
            {
              ...PARTITION_DATA_DEFAULTS,
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 1300n,
              lastStableOffset: 1250n,
              abortedTransactions: [{ producerId: 4000n, firstOffset: 1210n }],
              records: BATCH,
            },
          ],
        },
      ],
      nodeEndpoints: [],
    })
  })

  test('v12: a diverging epoch, a new leader and a preferred read replica in a session', () => {
    const body = {
      throttleTimeMs: 5,
      errorCode: 0,
      sessionId: 918_273,
      responses: [
        {
          topic: 'orders',
          partitions: [
            {
              ...PARTITION_DATA_DEFAULTS,
              partitionIndex: 1,
              errorCode: 0,
              highWatermark: 5100n,
              lastStableOffset: 5100n,
              logStartOffset: 0n,
              divergingEpoch: { epoch: 6, endOffset: 4990n },
              abortedTransactions: null,
              preferredReadReplica: 3,
              records: null,
            },
            {
              ...PARTITION_DATA_DEFAULTS,
              partitionIndex: 2,
              errorCode: 6, // NOT_LEADER_OR_FOLLOWER
              highWatermark: -1n,
              currentLeader: { leaderId: 4, leaderEpoch: 9 },
              abortedTransactions: null,
              records: null,
            },
          ],
        },
      ],
    }
    expect(responseRoundTrip(12, body)).toEqual({
      ...body,
      responses: [{ ...body.responses[0], topicId: ZERO_UUID }],
      nodeEndpoints: [],
    })
  })

  test('v18: by topic id, with a snapshot id and the new leaders’ endpoints', () => {
    const body = {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [
        {
          topic: '',
          topicId: TOPIC_ID,
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 74, // FENCED_LEADER_EPOCH
              highWatermark: 800n,
              lastStableOffset: 800n,
              logStartOffset: 10n,
              divergingEpoch: { epoch: 3, endOffset: 790n },
              currentLeader: { leaderId: 1, leaderEpoch: 4 },
              snapshotId: { endOffset: 700n, epoch: 2 },
              abortedTransactions: [],
              preferredReadReplica: -1,
              records: BATCH,
            },
          ],
        },
      ],
      nodeEndpoints: [{ nodeId: 1, host: 'broker-1.kafka', port: 9092, rack: 'eu-west-1b' }],
    }
    expect(responseRoundTrip(18, body)).toEqual(body)
  })

  test('v12 tags the new leader of a partition (tag 1) and omits the untouched diverging epoch and snapshot', () => {
    const bytes = hex(`
      00000000 0000 00000000 02
        0274 02
          00000000 0006 ffffffffffffffff ffffffffffffffff ffffffffffffffff 00 ffffffff 00
          01 01 09 00000002 00000005 00
        00
      00`)
    const partition = {
      partitionIndex: 0,
      errorCode: 6,
      highWatermark: -1n,
      currentLeader: { leaderId: 2, leaderEpoch: 5 },
      abortedTransactions: null,
      records: null,
    }
    const body = { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: [{ topic: 't', partitions: [partition] }] }
    expect(responseBody(12, body).toString('hex')).toBe(bytes)
    const decoded = decodeResponseBody(Fetch, 12, Buffer.from(bytes, 'hex'))
    expect(decoded.responses[0]!.partitions[0]).toEqual({ ...PARTITION_DATA_DEFAULTS, ...partition })
    // Decoded, the absent tags read as default structs; like Kafka, encoding leaves default structs out again.
    expect(responseBody(12, decoded).toString('hex')).toBe(bytes)
  })

  test('v13 answers with the topic id where v12 had the name', () => {
    const body = {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [{ topic: 't', topicId: TOPIC_ID, partitions: [] }],
    }
    expect(responseBody(12, body).toString('hex')).toBe(hex('00000000 0000 00000000 02 0274 01 00 00'))
    expect(responseBody(13, body).toString('hex')).toBe(hex(`00000000 0000 00000000 02 ${TOPIC_ID_HEX} 01 00 00`))
  })
})
