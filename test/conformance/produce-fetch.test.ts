import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Connection } from '../../src/client/connection.js'
import { DeleteRecords } from '../../src/protocol/apis/delete-records.js'
import { DescribeProducers } from '../../src/protocol/apis/describe-producers.js'
import { Fetch, type FetchRequest } from '../../src/protocol/apis/fetch.js'
import { InitProducerId } from '../../src/protocol/apis/init-producer-id.js'
import { ListOffsets } from '../../src/protocol/apis/list-offsets.js'
import { OffsetForLeaderEpoch } from '../../src/protocol/apis/offset-for-leader-epoch.js'
import { Produce } from '../../src/protocol/apis/produce.js'
import { type RecordBatch, readRecordSet } from '../../src/protocol/records/index.js'
import { connectTestBroker, testKafka } from '../helpers/kafka.js'
import {
  batch,
  createTopic,
  errName,
  eventually,
  fetchPartition,
  listOffset,
  note,
  produce,
  retryOn,
  sampleRecords,
  versionsBetween,
  versionsBoth,
} from '../helpers/protocol.js'

/** The v2 batches of a fetched record set (the test only ever writes v2). */
function batchesOf(records: Buffer | null): RecordBatch[] {
  const set = readRecordSet(records)
  expect(set.partialBytes).toBe(0)
  return set.batches as RecordBatch[]
}

/**
 * A batch as the broker stores it is the batch the producer sent with two fields filled in: baseOffset and
 * partitionLeaderEpoch. Everything from the magic byte on (CRC, attributes, timestamps, producer fields, records)
 * is untouched for an uncompressed v2 batch, so the CRC the producer computed still holds.
 */
function expectSameBatch(fetched: RecordBatch, sent: Buffer, baseOffset: number, leaderEpoch: number, what: string) {
  expect(fetched.baseOffset, `${what}: baseOffset`).toBe(baseOffset)
  expect(fetched.partitionLeaderEpoch, `${what}: partitionLeaderEpoch`).toBe(leaderEpoch)
  expect(fetched.bytes.length, `${what}: size`).toBe(sent.length)
  expect(fetched.bytes.subarray(8, 12).equals(sent.subarray(8, 12)), `${what}: batchLength`).toBe(true)
  expect(fetched.bytes.subarray(16).equals(sent.subarray(16)), `${what}: bytes from magic on`).toBe(true)
  expect(fetched.crcMatches(), `${what}: CRC`).toBe(true)
}

describe(`Produce, Fetch, ListOffsets, OffsetForLeaderEpoch, DeleteRecords, InitProducerId against Kafka ${testKafka().version}`, () => {
  let conn: Connection
  beforeAll(async () => {
    conn = await connectTestBroker()
  })
  afterAll(async () => {
    await conn?.close()
  })

  test('every Produce version appends with acks 1 and -1, the broker assigning consecutive base offsets', async () => {
    const topic = await createTopic(conn, { prefix: 'produce' })
    let next = 0
    const versions = versionsBoth(conn, Produce)
    expect(versions[0]).toBe(3)
    for (const v of versions) {
      for (const acks of [1, -1]) {
        const what = `Produce v${v} acks=${acks}`
        const p = await produce(conn, topic, 0, batch(sampleRecords(3, `v${v}`)), { version: v, acks })
        expect(errName(p.errorCode), what).toBe('NONE')
        expect(p.baseOffset, what).toBe(BigInt(next))
        // CreateTime topic: no broker timestamp.
        expect(p.logAppendTimeMs, what).toBe(-1n)
        if (v >= 5) expect(p.logStartOffset, what).toBe(0n)
        if (v >= 8) expect(p.recordErrors, what).toEqual([])
        if (v >= 8) expect(p.errorMessage, what).toBeNull()
        next += 3
      }
    }
    expect((await listOffset(conn, topic.name, 0, -1n)).offset).toBe(BigInt(next))

    // acks=0: the broker sends no response at all; the records still arrive.
    await conn.requestNoResponse(Produce, {
      transactionalId: null,
      acks: 0,
      timeoutMs: 10_000,
      topicData: [
        { name: topic.name, topicId: topic.topicId, partitionData: [{ index: 0, records: batch(sampleRecords(2)) }] },
      ],
    })
    const latest = await eventually(
      () => listOffset(conn, topic.name, 0, -1n),
      (p) => p.offset === BigInt(next + 2),
    )
    expect(latest.offset).toBe(BigInt(next + 2))
  })

  test('a LogAppendTime topic stamps the batch with the broker time and says so in the Produce response', async () => {
    const topic = await createTopic(conn, {
      prefix: 'append-time',
      configs: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }],
    })
    const before = Date.now()
    const p = await produce(conn, topic, 0, batch(sampleRecords(2), { timestamp: 1_000_000 }))
    expect(errName(p.errorCode)).toBe('NONE')
    expect(Number(p.logAppendTimeMs)).toBeGreaterThanOrEqual(before - 1000)
    const [b] = batchesOf((await fetchPartition(conn, topic, 0, 0n)).records)
    expect(b!.logAppendTime).toBe(true)
    expect(b!.maxTimestamp).toBe(Number(p.logAppendTimeMs))
    expect(b!.crcMatches()).toBe(true)
    expect(b!.records().map((r) => r.timestamp)).toEqual([b!.maxTimestamp, b!.maxTimestamp])
  })

  test('the broker refuses a batch with a bad CRC, an unknown partition and (v13+) an unknown topic id', async () => {
    const topic = await createTopic(conn, { prefix: 'produce-bad' })
    const corrupt = batch(sampleRecords(2))
    corrupt[corrupt.length - 1]! ^= 0xff
    expect(errName((await produce(conn, topic, 0, corrupt)).errorCode)).toBe('CORRUPT_MESSAGE')
    expect(errName((await produce(conn, topic, 7, batch(sampleRecords(1)))).errorCode)).toBe(
      'UNKNOWN_TOPIC_OR_PARTITION',
    )
    expect((await listOffset(conn, topic.name, 0, -1n)).offset).toBe(0n)
    if (conn.versionFor(Produce) >= 13) {
      const ghost = { name: topic.name, topicId: randomBytes(16).toString('base64url') }
      const p = await produce(conn, ghost, 0, batch(sampleRecords(1)))
      expect(errName(p.errorCode)).toBe('UNKNOWN_TOPIC_ID')
    } else note(`Produce v${conn.versionFor(Produce)}: no topic ids (v13+), UNKNOWN_TOPIC_ID not applicable`)
  })

  test('every Fetch version returns the batches exactly as produced, but for baseOffset and partitionLeaderEpoch', async () => {
    const topic = await createTopic(conn, { prefix: 'fetch' })
    const t0 = Date.now() - 60_000
    const sent = [
      batch(sampleRecords(3, 'a', [t0, t0 + 10, t0 + 5])),
      batch([
        { key: null, value: null },
        { key: Buffer.alloc(0), value: Buffer.from('after a null') },
      ]),
    ]
    for (const b of sent) expect(errName((await produce(conn, topic, 0, b)).errorCode)).toBe('NONE')
    const epoch = topic.leaderEpochs[0]!

    const versions = versionsBoth(conn, Fetch)
    expect(versions[0]).toBe(4)
    for (const v of versions) {
      const what = `Fetch v${v}`
      const p = await fetchPartition(conn, topic, 0, 0n, { version: v })
      expect(p.partitionIndex, what).toBe(0)
      expect(errName(p.errorCode), what).toBe('NONE')
      expect(p.highWatermark, what).toBe(5n)
      expect(p.lastStableOffset, what).toBe(5n)
      if (v >= 5) expect(p.logStartOffset, what).toBe(0n)
      // read_uncommitted: no aborted transaction list at all (null, not empty).
      expect(p.abortedTransactions, what).toBeNull()
      if (v >= 11) expect(p.preferredReadReplica, what).toBe(-1)
      const batches = batchesOf(p.records)
      expect(batches, what).toHaveLength(2)
      expectSameBatch(batches[0]!, sent[0]!, 0, epoch, `${what} batch 0`)
      expectSameBatch(batches[1]!, sent[1]!, 3, epoch, `${what} batch 1`)
      const records = batches.flatMap((b) => b.records())
      expect(
        records.map((r) => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value?.toString() ?? null]),
        what,
      ).toEqual([
        [0, t0, 'a-key-0', 'a-value-0-'],
        [1, t0 + 10, 'a-key-1', `a-value-1-${'x'.repeat(7)}`],
        [2, t0 + 5, 'a-key-2', `a-value-2-${'x'.repeat(14)}`],
        [3, records[3]!.timestamp, null, null],
        [4, records[3]!.timestamp, '', 'after a null'],
      ])
      expect(records[2]!.headers.map((h) => [h.key, h.value?.toString()])).toEqual([['idx', '2']])
    }
  })

  test('a fetch from inside a batch returns the whole batch; size limits cut the record set mid-batch', async () => {
    const topic = await createTopic(conn, { prefix: 'fetch-limits' })
    const first = batch(sampleRecords(4, 'first'))
    const second = batch(sampleRecords(4, 'second'))
    await produce(conn, topic, 0, first)
    await produce(conn, topic, 0, second)

    // Offsets 1-3 live in the batch at 0: the broker returns it from its start; the consumer skips what it read.
    const mid = batchesOf((await fetchPartition(conn, topic, 0, 2n)).records)
    expect(mid.map((b) => b.baseOffset)).toEqual([0, 4])

    // A limit below the first batch still returns that batch whole (KIP-74), and nothing more.
    const tiny = readRecordSet((await fetchPartition(conn, topic, 0, 0n, { partitionMaxBytes: 10 })).records)
    expect(tiny.batches.map((b) => b.baseOffset)).toEqual([0])
    expect(tiny.partialBytes).toBe(0)

    // Past the first batch, the broker copies bytes up to the limit: the second batch arrives cut short.
    const cut = readRecordSet(
      (await fetchPartition(conn, topic, 0, 0n, { partitionMaxBytes: first.length + 20 })).records,
    )
    expect(cut.batches.map((b) => b.baseOffset)).toEqual([0])
    expect(cut.partialBytes).toBe(20)

    const beyond = await fetchPartition(conn, topic, 0, 99n)
    expect(errName(beyond.errorCode)).toBe('OFFSET_OUT_OF_RANGE')
    // With an error the broker sends no offsets at all: the client learns the range from ListOffsets.
    expect([beyond.highWatermark, beyond.records?.length]).toEqual([-1n, 0])
  })

  test('Fetch v13+ addresses topics by id, and an unknown id is UNKNOWN_TOPIC_ID', async () => {
    const versions = versionsBetween(conn, Fetch, 13)
    if (versions.length === 0) {
      note('Fetch v13+ (topic ids) not offered')
      return
    }
    const topic = await createTopic(conn, { prefix: 'fetch-id' })
    await produce(conn, topic, 0, batch(sampleRecords(1)))
    for (const v of versions) {
      // The name is not even sent from v13: the id alone finds the topic.
      const p = await fetchPartition(conn, { name: '', topicId: topic.topicId }, 0, 0n, { version: v })
      expect(batchesOf(p.records), `Fetch v${v}`).toHaveLength(1)
      const ghost = await fetchPartition(conn, { name: '', topicId: randomBytes(16).toString('base64url') }, 0, 0n, {
        version: v,
      })
      expect(errName(ghost.errorCode), `Fetch v${v}`).toBe('UNKNOWN_TOPIC_ID')
    }
  })

  test('an incremental fetch session returns only changed partitions, honours forgotten topics and checks its epoch', async () => {
    const topic = await createTopic(conn, { prefix: 'fetch-session', partitions: 2 })
    await produce(conn, topic, 0, batch(sampleRecords(1, 'p0')))
    await produce(conn, topic, 1, batch(sampleRecords(1, 'p1')))
    // Sessions arrived in v7 (KIP-227); v12 is the first flexible version, v13 the first by topic id.
    const versions = [...new Set([7, 12, 13, conn.versionFor(Fetch)])].filter((v) =>
      versionsBoth(conn, Fetch).includes(v),
    )
    for (const v of versions) {
      const what = `Fetch v${v} session`
      const request = (
        sessionId: number,
        sessionEpoch: number,
        partitions: Array<[number, bigint]>,
        forgotten: number[] = [],
      ): FetchRequest => ({
        maxWaitMs: 200,
        minBytes: 1,
        sessionId,
        sessionEpoch,
        topics:
          partitions.length === 0
            ? []
            : [
                {
                  topic: topic.name,
                  topicId: topic.topicId,
                  partitions: partitions.map(([partition, fetchOffset]) => ({
                    partition,
                    fetchOffset,
                    partitionMaxBytes: 1 << 20,
                  })),
                },
              ],
        forgottenTopicsData:
          forgotten.length === 0 ? [] : [{ topic: topic.name, topicId: topic.topicId, partitions: forgotten }],
      })
      const partitionsOf = (res: { responses: Array<{ partitions: Array<{ partitionIndex: number }> }> }) =>
        res.responses.flatMap((t) => t.partitions.map((p) => p.partitionIndex)).sort()
      // The current ends of the two partitions (each run of the loop adds records).
      const ends = [
        (await listOffset(conn, topic.name, 0, -1n)).offset,
        (await listOffset(conn, topic.name, 1, -1n)).offset,
      ]

      // A full fetch with epoch 0 opens a session.
      const full = await conn.request(
        Fetch,
        request(0, 0, [
          [0, ends[0]! - 1n],
          [1, ends[1]! - 1n],
        ]),
        { version: v },
      )
      expect(errName(full.errorCode), what).toBe('NONE')
      expect(full.sessionId, what).toBeGreaterThan(0)
      expect(partitionsOf(full), what).toEqual([0, 1])
      const sessionId = full.sessionId

      // New data on partition 1 only. The next fetch moves both positions; partition 0 has nothing new and its
      // high watermark did not change, so the broker leaves it out.
      await produce(conn, topic, 1, batch(sampleRecords(1, 'more')))
      const inc = await conn.request(
        Fetch,
        request(sessionId, 1, [
          [0, ends[0]!],
          [1, ends[1]!],
        ]),
        { version: v },
      )
      expect(errName(inc.errorCode), what).toBe('NONE')
      expect(inc.sessionId, what).toBe(sessionId)
      expect(partitionsOf(inc), what).toEqual([1])
      const got = batchesOf(inc.responses[0]!.partitions[0]!.records)
      expect(
        got.map((b) => b.baseOffset),
        what,
      ).toEqual([Number(ends[1])])

      // Forget partition 0; then data on it does not come back in the session.
      const forget = await conn.request(Fetch, request(sessionId, 2, [[1, ends[1]! + 1n]], [0]), { version: v })
      expect(errName(forget.errorCode), what).toBe('NONE')
      expect(partitionsOf(forget), what).toEqual([])
      await produce(conn, topic, 0, batch(sampleRecords(1, 'unseen')))
      const after = await conn.request(Fetch, request(sessionId, 3, []), { version: v })
      expect(errName(after.errorCode), what).toBe('NONE')
      expect(partitionsOf(after), what).toEqual([])

      // A wrong epoch is refused at the top level; an unknown session id too.
      const stale = await conn.request(Fetch, request(sessionId, 9, []), { version: v })
      expect(errName(stale.errorCode), what).toBe('INVALID_FETCH_SESSION_EPOCH')
      expect(stale.responses, what).toEqual([])
      const unknown = await conn.request(Fetch, request(sessionId + 1_000_000, 1, []), { version: v })
      expect(errName(unknown.errorCode), what).toBe('FETCH_SESSION_ID_NOT_FOUND')

      // Epoch -1 closes the session (a sessionless fetch); the id is gone afterwards.
      const close = await conn.request(Fetch, request(sessionId, -1, [[1, 0n]]), { version: v })
      expect(errName(close.errorCode), what).toBe('NONE')
      expect(close.sessionId, what).toBe(0)
      const gone = await conn.request(Fetch, request(sessionId, 4, []), { version: v })
      expect(errName(gone.errorCode), what).toBe('FETCH_SESSION_ID_NOT_FOUND')
    }
  })

  test('ListOffsets finds earliest, latest, the first offset at a timestamp and (v7+) the max timestamp', async () => {
    const topic = await createTopic(conn, { prefix: 'list-offsets' })
    const t0 = Date.now() - 60_000
    // Offsets 0-2 in one batch with the largest timestamp in the middle, offset 3 alone.
    await produce(conn, topic, 0, batch(sampleRecords(3, 'a', [t0, t0 + 5000, t0 + 2000])))
    await produce(conn, topic, 0, batch(sampleRecords(1, 'b', [t0 + 3000])))
    const epoch = topic.leaderEpochs[0]!
    for (const v of versionsBoth(conn, ListOffsets)) {
      const what = (s: string) => `ListOffsets v${v} ${s}`
      const at = (ts: bigint, isolationLevel: 0 | 1 = 0) =>
        listOffset(conn, topic.name, 0, ts, { version: v, isolationLevel })
      const earliest = await at(-2n)
      expect(errName(earliest.errorCode), what('earliest')).toBe('NONE')
      expect([earliest.offset, earliest.timestamp], what('earliest')).toEqual([0n, -1n])
      const latest = await at(-1n)
      expect([latest.offset, latest.timestamp], what('latest')).toEqual([4n, -1n])
      if (v >= 4) expect(latest.leaderEpoch, what('latest')).toBe(epoch)
      if (v >= 2) expect((await at(-1n, 1)).offset, what('latest read_committed')).toBe(4n)
      // The first record whose timestamp is at or after the target, searching in offset order.
      const exact = await at(BigInt(t0))
      expect([exact.offset, exact.timestamp], what('t0')).toEqual([0n, BigInt(t0)])
      const next = await at(BigInt(t0 + 1))
      expect([next.offset, next.timestamp], what('t0+1')).toEqual([1n, BigInt(t0 + 5000)])
      if (v >= 4) expect(next.leaderEpoch, what('t0+1')).toBe(epoch)
      const none = await at(BigInt(t0 + 6000))
      expect(errName(none.errorCode), what('after every record')).toBe('NONE')
      expect([none.offset, none.timestamp], what('after every record')).toEqual([-1n, -1n])
      if (v >= 7) {
        // KIP-734: the record with the largest timestamp, not the last one.
        const max = await at(-3n)
        expect([max.offset, max.timestamp], what('max timestamp')).toEqual([1n, BigInt(t0 + 5000)])
      }
    }
    const missing = await listOffset(conn, topic.name, 5, -1n)
    expect(errName(missing.errorCode)).toBe('UNKNOWN_TOPIC_OR_PARTITION')
  })

  test('OffsetForLeaderEpoch answers where an epoch ends and fences a leader epoch from the future', async () => {
    const topic = await createTopic(conn, { prefix: 'epoch' })
    await produce(conn, topic, 0, batch(sampleRecords(3)))
    await produce(conn, topic, 0, batch(sampleRecords(2)))
    const epoch = topic.leaderEpochs[0]!
    const ask = (v: number, partition: number, leaderEpoch: number, currentLeaderEpoch: number) =>
      conn
        .request(
          OffsetForLeaderEpoch,
          {
            replicaId: -1,
            topics: [{ topic: topic.name, partitions: [{ partition, leaderEpoch, currentLeaderEpoch }] }],
          },
          { version: v },
        )
        .then((r) => {
          expect(r.topics[0]!.topic).toBe(topic.name)
          return r.topics[0]!.partitions[0]!
        })
    for (const v of versionsBoth(conn, OffsetForLeaderEpoch)) {
      const what = `OffsetForLeaderEpoch v${v}`
      const current = await ask(v, 0, epoch, epoch)
      expect(errName(current.errorCode), what).toBe('NONE')
      expect([current.partition, current.leaderEpoch, current.endOffset], what).toEqual([0, epoch, 5n])
      // An epoch the log never had past the current one: undefined epoch and offset.
      const future = await ask(v, 0, epoch + 1, -1)
      expect(errName(future.errorCode), what).toBe('NONE')
      expect([future.leaderEpoch, future.endOffset], what).toEqual([-1, -1n])
      // A client that believes in a newer leader epoch than the broker's is told the broker is behind.
      const ahead = await ask(v, 0, epoch, epoch + 1)
      expect(errName(ahead.errorCode), what).toBe('UNKNOWN_LEADER_EPOCH')
      expect(errName((await ask(v, 3, epoch, -1)).errorCode), what).toBe('UNKNOWN_TOPIC_OR_PARTITION')
    }
    if (epoch === 0)
      note('OffsetForLeaderEpoch: the leader epoch is 0 on a fresh topic, so FENCED_LEADER_EPOCH is not provoked')
  })

  test('DeleteRecords moves the log start offset, seen by ListOffsets earliest and Fetch', async () => {
    const topic = await createTopic(conn, { prefix: 'delete-records' })
    for (let i = 0; i < 5; i++) await produce(conn, topic, 0, batch(sampleRecords(2, `b${i}`)))
    const del = (v: number, offset: bigint, partition = 0) =>
      conn
        .request(
          DeleteRecords,
          { topics: [{ name: topic.name, partitions: [{ partitionIndex: partition, offset }] }], timeoutMs: 10_000 },
          { version: v },
        )
        .then((r) => {
          expect(r.topics[0]!.name).toBe(topic.name)
          return r.topics[0]!.partitions[0]!
        })
    let start = 0n
    for (const v of versionsBoth(conn, DeleteRecords)) {
      const what = `DeleteRecords v${v}`
      // Deleting up to an offset inside a batch is allowed: the log start offset need not be a batch boundary.
      start += 3n
      const r = await del(v, start)
      expect(errName(r.errorCode), what).toBe('NONE')
      expect(r.lowWatermark, what).toBe(start)
      expect((await listOffset(conn, topic.name, 0, -2n)).offset, what).toBe(start)
      const f = await fetchPartition(conn, topic, 0, start)
      expect(f.logStartOffset, what).toBe(start)
      expect(batchesOf(f.records)[0]!.lastOffset, what).toBeGreaterThanOrEqual(Number(start))
      const before = await fetchPartition(conn, topic, 0, start - 1n)
      expect(errName(before.errorCode), what).toBe('OFFSET_OUT_OF_RANGE')
    }
    // -1: everything up to the high watermark.
    const all = await del(conn.versionFor(DeleteRecords), -1n)
    expect([errName(all.errorCode), all.lowWatermark]).toEqual(['NONE', 10n])
    expect((await listOffset(conn, topic.name, 0, -2n)).offset).toBe(10n)
    expect((await listOffset(conn, topic.name, 0, -1n)).offset).toBe(10n)
    expect(errName((await del(conn.versionFor(DeleteRecords), 11n)).errorCode)).toBe('OFFSET_OUT_OF_RANGE')
    expect(errName((await del(conn.versionFor(DeleteRecords), 0n, 4)).errorCode)).toBe('UNKNOWN_TOPIC_OR_PARTITION')
  })

  test('every InitProducerId version gives an idempotent producer a fresh id at epoch 0', async () => {
    const ids = new Set<bigint>()
    for (const v of versionsBoth(conn, InitProducerId)) {
      // A fresh KRaft broker answers COORDINATOR_LOAD_IN_PROGRESS until the controller has given it a block of
      // producer ids; a client retries.
      const r = await retryOn(
        () => conn.request(InitProducerId, { transactionalId: null, transactionTimeoutMs: 60_000 }, { version: v }),
        (x) => x.errorCode,
      )
      expect(errName(r.errorCode), `InitProducerId v${v}`).toBe('NONE')
      expect(r.producerId, `InitProducerId v${v}`).toBeGreaterThanOrEqual(0n)
      expect(r.producerEpoch, `InitProducerId v${v}`).toBe(0)
      ids.add(r.producerId)
    }
    expect(ids.size).toBe(versionsBoth(conn, InitProducerId).length)
  })

  test('an idempotent producer: sequences are checked, and a resent batch is answered with its first offset', async () => {
    const topic = await createTopic(conn, { prefix: 'idempotent' })
    const init = await retryOn(
      () => conn.request(InitProducerId, { transactionalId: null, transactionTimeoutMs: 60_000 }),
      (x) => x.errorCode,
    )
    expect(errName(init.errorCode)).toBe('NONE')
    const { producerId, producerEpoch } = init
    let sequence = 0
    let offset = 0n
    for (const v of versionsBoth(conn, Produce)) {
      const what = `Produce v${v} idempotent`
      const b = batch(sampleRecords(3, `v${v}`), { producerId, producerEpoch, baseSequence: sequence })
      const first = await produce(conn, topic, 0, b, { version: v })
      expect(errName(first.errorCode), what).toBe('NONE')
      expect(first.baseOffset, what).toBe(offset)
      // The same batch again (a retry after a lost response): not appended twice, answered with the first offset.
      const again = await produce(conn, topic, 0, b, { version: v })
      expect(errName(again.errorCode), `${what} retry`).toBe('NONE')
      expect(again.baseOffset, `${what} retry`).toBe(offset)
      sequence += 3
      offset += 3n
    }
    expect((await listOffset(conn, topic.name, 0, -1n)).offset).toBe(offset)

    // A gap in the sequence is refused and nothing is appended.
    const gap = batch(sampleRecords(1), { producerId, producerEpoch, baseSequence: sequence + 5 })
    expect(errName((await produce(conn, topic, 0, gap)).errorCode)).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER')
    expect((await listOffset(conn, topic.name, 0, -1n)).offset).toBe(offset)

    // The fetched batches carry the producer fields as written.
    const batches = batchesOf((await fetchPartition(conn, topic, 0, 0n)).records)
    expect(batches.map((b) => [b.producerId, b.producerEpoch, b.baseSequence])).toEqual(
      batches.map((_, i) => [producerId, producerEpoch, i * 3]),
    )

    // The partition leader reports the producer's state (KIP-664).
    const described = await conn.request(DescribeProducers, {
      topics: [{ name: topic.name, partitionIndexes: [0] }],
    })
    const state = described.topics[0]!.partitions[0]!
    expect(errName(state.errorCode)).toBe('NONE')
    expect(state.activeProducers).toEqual([
      expect.objectContaining({ producerId, producerEpoch, lastSequence: sequence - 1, currentTxnStartOffset: -1n }),
    ])
  })
})
