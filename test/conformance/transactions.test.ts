import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Connection } from '../../src/client/connection.js'
import { AddOffsetsToTxn } from '../../src/protocol/apis/add-offsets-to-txn.js'
import { AddPartitionsToTxn } from '../../src/protocol/apis/add-partitions-to-txn.js'
import { DescribeProducers } from '../../src/protocol/apis/describe-producers.js'
import { DescribeTransactions } from '../../src/protocol/apis/describe-transactions.js'
import { EndTxn } from '../../src/protocol/apis/end-txn.js'
import { InitProducerId } from '../../src/protocol/apis/init-producer-id.js'
import { ListTransactions } from '../../src/protocol/apis/list-transactions.js'
import { OffsetFetch } from '../../src/protocol/apis/offset-fetch.js'
import { Produce } from '../../src/protocol/apis/produce.js'
import { TxnOffsetCommit } from '../../src/protocol/apis/txn-offset-commit.js'
import { type RecordBatch, readRecordSet } from '../../src/protocol/records/index.js'
import { connectTestBroker, testKafka } from '../helpers/kafka.js'
import {
  batch,
  createTopic,
  errName,
  eventually,
  fetchPartition,
  findCoordinator,
  groupCoordinatorReady,
  listOffset,
  note,
  produce,
  retryOn,
  sampleRecords,
  type TestTopic,
  transactionCoordinatorReady,
  versionsBetween,
  versionsBoth,
} from '../helpers/protocol.js'

const uniqueId = (prefix: string) => `skiff-${prefix}-${randomBytes(5).toString('hex')}`

/**
 * Transactions v1 is what Kafka 3.x speaks and what older clients speak to 4.x: partitions and groups join a
 * transaction through AddPartitionsToTxn / AddOffsetsToTxn, and Produce stays at v11 or below, EndTxn and
 * TxnOffsetCommit at v4 or below (the Java client's limits when transactions v2 is off).
 */
const TV1 = { produceMax: 11, endTxnMax: 4, txnOffsetCommitMax: 4 }

interface Producer {
  transactionalId: string
  producerId: bigint
  producerEpoch: number
}

async function initTransactional(
  conn: Connection,
  transactionalId: string,
  options: { version?: number; producerId?: bigint; producerEpoch?: number } = {},
) {
  return retryOn(
    () =>
      conn.request(
        InitProducerId,
        {
          transactionalId,
          transactionTimeoutMs: 60_000,
          producerId: options.producerId ?? -1n,
          producerEpoch: options.producerEpoch ?? -1,
        },
        { version: options.version },
      ),
    (r) => r.errorCode,
  )
}

async function newProducer(conn: Connection, prefix: string, version?: number): Promise<Producer> {
  const transactionalId = uniqueId(prefix)
  await findCoordinator(conn, transactionalId, 1)
  const init = await initTransactional(conn, transactionalId, { version })
  expect(errName(init.errorCode), `InitProducerId v${version ?? conn.versionFor(InitProducerId)}`).toBe('NONE')
  return { transactionalId, producerId: init.producerId, producerEpoch: init.producerEpoch }
}

async function addPartitions(conn: Connection, p: Producer, topic: TestTopic, partitions: number[], version?: number) {
  const v = version ?? conn.versionFor(AddPartitionsToTxn)
  const res = await retryOn(
    () =>
      conn.request(
        AddPartitionsToTxn,
        {
          v3AndBelowTransactionalId: p.transactionalId,
          v3AndBelowProducerId: p.producerId,
          v3AndBelowProducerEpoch: p.producerEpoch,
          v3AndBelowTopics: [{ name: topic.name, partitions }],
        },
        { version: v },
      ),
    (r) => r.resultsByTopicV3AndBelow[0]?.resultsByPartition[0]?.partitionErrorCode ?? 0,
  )
  return res.resultsByTopicV3AndBelow.flatMap((t) =>
    t.resultsByPartition.map((r) => [t.name, r.partitionIndex, errName(r.partitionErrorCode)]),
  )
}

async function endTxn(conn: Connection, p: Producer, committed: boolean, version?: number) {
  return retryOn(
    () =>
      conn.request(
        EndTxn,
        { transactionalId: p.transactionalId, producerId: p.producerId, producerEpoch: p.producerEpoch, committed },
        { version },
      ),
    (r) => r.errorCode,
  )
}

async function describeTxn(conn: Connection, transactionalId: string) {
  const res = await conn.request(DescribeTransactions, { transactionalIds: [transactionalId] })
  expect(res.transactionStates.map((s) => s.transactionalId)).toEqual([transactionalId])
  return res.transactionStates[0]!
}

/** Waits for the coordinator to finish writing the markers (PrepareCommit → CompleteCommit). */
async function completed(conn: Connection, transactionalId: string, committed: boolean) {
  const want = committed ? 'CompleteCommit' : 'CompleteAbort'
  const s = await eventually(
    () => describeTxn(conn, transactionalId),
    (x) => x.transactionState === want,
  )
  expect(s.transactionState).toBe(want)
  return s
}

const transactionalBatch = (p: Producer, tag: string, baseSequence = 0, count = 3) =>
  batch(sampleRecords(count, tag), {
    transactional: true,
    producerId: p.producerId,
    producerEpoch: p.producerEpoch,
    baseSequence,
  })

function v2Batches(records: Buffer | null): RecordBatch[] {
  return readRecordSet(records).batches as RecordBatch[]
}

describe(`transactions against Kafka ${testKafka().version}`, () => {
  let conn: Connection
  let transactionVersion: number
  beforeAll(async () => {
    conn = await connectTestBroker()
    transactionVersion = conn.finalizedFeatures.get('transaction.version') ?? 0
    note(`finalized transaction.version = ${transactionVersion}`)
    await groupCoordinatorReady(conn)
    await transactionCoordinatorReady(conn)
  })
  afterAll(async () => {
    await conn?.close()
  })

  test('every InitProducerId version: a transactional id keeps its producer id, each init bumps the epoch and fences the previous', async () => {
    for (const v of versionsBoth(conn, InitProducerId)) {
      const what = `InitProducerId v${v}`
      const first = await newProducer(conn, `init-v${v}`, v)
      expect(first.producerId, what).toBeGreaterThanOrEqual(0n)
      expect(first.producerEpoch, what).toBe(0)
      // v3+ (KIP-360) may name the current producer id and epoch; older versions cannot.
      const current = v >= 3 ? { producerId: first.producerId, producerEpoch: first.producerEpoch } : {}
      const second = await initTransactional(conn, first.transactionalId, { version: v, ...current })
      expect([errName(second.errorCode), second.producerId, second.producerEpoch], what).toEqual([
        'NONE',
        first.producerId,
        1,
      ])
      if (v >= 3) {
        // Naming the epoch just bumped from is a retry of that InitProducerId (its answer was lost): the same answer.
        const retry = await initTransactional(conn, first.transactionalId, { version: v, ...current })
        expect([errName(retry.errorCode), retry.producerId, retry.producerEpoch], `${what} retry`).toEqual([
          'NONE',
          first.producerId,
          1,
        ])
        const third = await initTransactional(conn, first.transactionalId, {
          version: v,
          producerId: first.producerId,
          producerEpoch: 1,
        })
        expect([errName(third.errorCode), third.producerEpoch], what).toEqual(['NONE', 2])
        // An epoch older than that: this producer has been fenced by a newer instance.
        const stale = await initTransactional(conn, first.transactionalId, { version: v, ...current })
        expect(errName(stale.errorCode), `${what} stale`).toBe(v >= 4 ? 'PRODUCER_FENCED' : 'INVALID_PRODUCER_EPOCH')
      }
    }
  })

  test('transactions v1: AddPartitionsToTxn at every client version (0-3), transactional Produce, EndTxn commit and abort', async () => {
    const adds = versionsBoth(conn, AddPartitionsToTxn)
    const ends = versionsBetween(conn, EndTxn, 0, TV1.endTxnMax)
    const produces = versionsBetween(conn, Produce, 3, TV1.produceMax)
    const lists = versionsBoth(conn, ListTransactions)
    const rounds = Math.max(adds.length, ends.length)
    const topic = await createTopic(conn, { prefix: 'txn-v1', partitions: rounds })
    for (let i = 0; i < rounds; i++) {
      const [addV, endV, produceV, listV] = [
        adds[i % adds.length]!,
        ends[i % ends.length]!,
        produces[i % produces.length]!,
        lists[i % lists.length]!,
      ]
      const committed = i % 2 === 0
      const what = `AddPartitionsToTxn v${addV} / Produce v${produceV} / EndTxn v${endV} ${committed ? 'commit' : 'abort'}`
      const partition = i
      const p = await newProducer(conn, `txn-v1-${i}`)

      expect(await addPartitions(conn, p, topic, [partition], addV), what).toEqual([[topic.name, partition, 'NONE']])
      const ongoing = await describeTxn(conn, p.transactionalId)
      expect(errName(ongoing.errorCode), what).toBe('NONE')
      expect(
        [ongoing.transactionState, ongoing.producerId, ongoing.producerEpoch, ongoing.transactionTimeoutMs],
        what,
      ).toEqual(['Ongoing', p.producerId, p.producerEpoch, 60_000])
      expect(ongoing.topics, what).toEqual([{ topic: topic.name, partitions: [partition] }])
      expect(Number(ongoing.transactionStartTimeMs), what).toBeGreaterThan(Date.now() - 60_000)

      const listed = await conn.request(
        ListTransactions,
        { stateFilters: ['Ongoing'], producerIdFilters: [p.producerId] },
        { version: listV },
      )
      expect(errName(listed.errorCode), `ListTransactions v${listV}`).toBe('NONE')
      expect(listed.transactionStates, `ListTransactions v${listV}`).toEqual([
        { transactionalId: p.transactionalId, producerId: p.producerId, transactionState: 'Ongoing' },
      ])

      const sent = transactionalBatch(p, `txn${i}`)
      const appended = await produce(conn, topic, partition, sent, {
        version: produceV,
        transactionalId: p.transactionalId,
      })
      expect([errName(appended.errorCode), appended.baseOffset], what).toEqual(['NONE', 0n])

      // Until the transaction ends, read_committed stops at its first offset (the last stable offset).
      expect((await listOffset(conn, topic.name, partition, -1n, { isolationLevel: 0 })).offset, what).toBe(3n)
      expect((await listOffset(conn, topic.name, partition, -1n, { isolationLevel: 1 })).offset, what).toBe(0n)
      const pending = await fetchPartition(conn, topic, partition, 0n, { isolationLevel: 1 })
      expect([pending.highWatermark, pending.lastStableOffset, pending.records?.length ?? 0], what).toEqual([3n, 0n, 0])
      const producers = await conn.request(DescribeProducers, {
        topics: [{ name: topic.name, partitionIndexes: [partition] }],
      })
      expect(producers.topics[0]!.partitions[0]!.activeProducers, what).toEqual([
        expect.objectContaining({
          producerId: p.producerId,
          producerEpoch: p.producerEpoch,
          lastSequence: 2,
          currentTxnStartOffset: 0n,
        }),
      ])

      const end = await endTxn(conn, p, committed, endV)
      expect(errName(end.errorCode), what).toBe('NONE')
      const done = await completed(conn, p.transactionalId, committed)
      expect(done.topics, what).toEqual([])

      // read_committed: the data batch, then the coordinator's marker in a control batch; an aborted transaction
      // is listed so the consumer can drop its records.
      const after = await eventually(
        () => fetchPartition(conn, topic, partition, 0n, { isolationLevel: 1 }),
        (f) => f.lastStableOffset === 4n,
      )
      expect([after.highWatermark, after.lastStableOffset], what).toEqual([4n, 4n])
      const [data, marker] = v2Batches(after.records)
      expect([data!.baseOffset, data!.isTransactional, data!.isControl, data!.producerId], what).toEqual([
        0,
        true,
        false,
        p.producerId,
      ])
      expect(data!.bytes.subarray(16).equals(sent.subarray(16)), what).toBe(true)
      expect([marker!.baseOffset, marker!.isTransactional, marker!.isControl, marker!.producerId], what).toEqual([
        3,
        true,
        true,
        p.producerId,
      ])
      expect(marker!.crcMatches(), what).toBe(true)
      const control = marker!.controlRecord()!
      expect([control.type, control.offset], what).toEqual([committed ? 'commit' : 'abort', 3])
      expect(control.coordinatorEpoch, what).toBeGreaterThanOrEqual(0)
      if (committed) expect(after.abortedTransactions ?? [], what).toEqual([])
      else expect(after.abortedTransactions, what).toEqual([{ producerId: p.producerId, firstOffset: 0n }])
      // read_uncommitted gets no aborted list at all.
      expect((await fetchPartition(conn, topic, partition, 0n)).abortedTransactions, what).toBeNull()
      expect((await listOffset(conn, topic.name, partition, -1n, { isolationLevel: 1 })).offset, what).toBe(4n)
      const idle = await conn.request(DescribeProducers, {
        topics: [{ name: topic.name, partitionIndexes: [partition] }],
      })
      expect(idle.topics[0]!.partitions[0]!.activeProducers[0]!.currentTxnStartOffset, what).toBe(-1n)
    }
  })

  test('a transactional Produce (v3-v11) to a partition never added to the transaction is refused (KIP-890 verification)', async () => {
    const topic = await createTopic(conn, { prefix: 'txn-unadded', partitions: 2 })
    const seen: string[] = []
    for (const v of versionsBetween(conn, Produce, 3, TV1.produceMax)) {
      const p = await newProducer(conn, `txn-unadded-v${v}`)
      expect(await addPartitions(conn, p, topic, [0])).toEqual([[topic.name, 0, 'NONE']])
      const res = await produce(conn, topic, 1, transactionalBatch(p, 'stray'), {
        version: v,
        transactionalId: p.transactionalId,
      })
      seen.push(`v${v} ${errName(res.errorCode)}`)
      // Produce v11 added TRANSACTION_ABORTABLE; older versions get the error they know.
      expect(errName(res.errorCode), `Produce v${v}`).toBe(v >= 11 ? 'TRANSACTION_ABORTABLE' : 'INVALID_TXN_STATE')
      // The transaction can still be aborted.
      const end = await endTxn(conn, p, false, Math.min(conn.versionFor(EndTxn), TV1.endTxnMax))
      expect(errName(end.errorCode), `Produce v${v}`).toBe('NONE')
    }
    note(`Produce to a partition outside the transaction: ${seen.join(', ')}`)
    expect((await listOffset(conn, topic.name, 1, -1n)).offset).toBe(0n)
  })

  test('transactions v1: AddOffsetsToTxn and TxnOffsetCommit at every version; offsets appear only when the transaction commits', async () => {
    const addOffsets = versionsBoth(conn, AddOffsetsToTxn)
    const commits = versionsBetween(conn, TxnOffsetCommit, 0, TV1.txnOffsetCommitMax)
    const rounds = Math.max(addOffsets.length, commits.length)
    const topic = await createTopic(conn, { prefix: 'txn-offsets' })
    const endV = Math.min(conn.versionFor(EndTxn), TV1.endTxnMax)
    const fetchV = conn.versionFor(OffsetFetch)
    const committedOffset = async (groupId: string, requireStable = false) => {
      const res = await conn.request(
        OffsetFetch,
        fetchV >= 8
          ? {
              groups: [{ groupId, topics: [{ name: topic.name, topicId: topic.topicId, partitionIndexes: [0] }] }],
              requireStable,
            }
          : { groupId, topics: [{ name: topic.name, partitionIndexes: [0] }], requireStable },
      )
      const p = fetchV >= 8 ? res.groups[0]!.topics[0]!.partitions[0]! : res.topics[0]!.partitions[0]!
      return { offset: p.committedOffset, metadata: p.metadata, error: errName(p.errorCode) }
    }
    for (let i = 0; i < rounds; i++) {
      const [addV, commitV] = [addOffsets[i % addOffsets.length]!, commits[i % commits.length]!]
      const committed = i % 2 === 0
      const what = `AddOffsetsToTxn v${addV} / TxnOffsetCommit v${commitV} ${committed ? 'commit' : 'abort'}`
      const groupId = uniqueId('txn-group')
      const p = await newProducer(conn, `txn-offsets-${i}`)
      expect(await addPartitions(conn, p, topic, [0]), what).toEqual([[topic.name, 0, 'NONE']])
      const appended = await produce(conn, topic, 0, transactionalBatch(p, `o${i}`), {
        version: Math.min(conn.versionFor(Produce), TV1.produceMax),
        transactionalId: p.transactionalId,
      })
      expect(errName(appended.errorCode), what).toBe('NONE')

      const added = await retryOn(
        () =>
          conn.request(
            AddOffsetsToTxn,
            { transactionalId: p.transactionalId, producerId: p.producerId, producerEpoch: p.producerEpoch, groupId },
            { version: addV },
          ),
        (r) => r.errorCode,
      )
      expect(errName(added.errorCode), what).toBe('NONE')
      // The offsets go to the group's coordinator, which learns of the transaction's end through its markers.
      await findCoordinator(conn, groupId, 0)
      const offset = BigInt(40 + i)
      const res = await conn.request(
        TxnOffsetCommit,
        {
          transactionalId: p.transactionalId,
          groupId,
          producerId: p.producerId,
          producerEpoch: p.producerEpoch,
          topics: [
            {
              name: topic.name,
              topicId: topic.topicId,
              partitions: [{ partitionIndex: 0, committedOffset: offset, committedMetadata: `txn ${i}` }],
            },
          ],
        },
        { version: commitV },
      )
      expect(
        res.topics.map((t) => [t.name, t.partitions.map((x) => [x.partitionIndex, errName(x.errorCode)])]),
        what,
      ).toEqual([[topic.name, [[0, 'NONE']]]])

      // Pending: invisible to a plain OffsetFetch; with requireStable (v7+) the coordinator says to retry.
      expect((await committedOffset(groupId)).offset, what).toBe(-1n)
      if (fetchV >= 7) expect((await committedOffset(groupId, true)).error, what).toBe('UNSTABLE_OFFSET_COMMIT')

      expect(errName((await endTxn(conn, p, committed, endV)).errorCode), what).toBe('NONE')
      await completed(conn, p.transactionalId, committed)
      const final = await eventually(
        () => committedOffset(groupId, fetchV >= 7),
        (x) => x.error === 'NONE',
      )
      expect(final, what).toEqual(
        committed ? { offset, metadata: `txn ${i}`, error: 'NONE' } : { offset: -1n, metadata: '', error: 'NONE' },
      )
    }
  })

  test('transactions v2 (KIP-890): Produce v12+ and TxnOffsetCommit v5+ join the transaction themselves, EndTxn v5 bumps the epoch', async () => {
    const produceV = conn.versionFor(Produce)
    const endV = conn.versionFor(EndTxn)
    const commitVersions = versionsBetween(conn, TxnOffsetCommit, 5)
    if (transactionVersion < 2 || produceV < 12 || endV < 5 || commitVersions.length === 0) {
      note(
        `transactions v2 not applicable: transaction.version=${transactionVersion}, Produce v${produceV}, EndTxn v${endV}, TxnOffsetCommit v${conn.versionFor(TxnOffsetCommit)}`,
      )
      return
    }
    const topic = await createTopic(conn, { prefix: 'txn-v2' })
    const groupId = uniqueId('txn-v2-group')
    await findCoordinator(conn, groupId, 0)
    let p = await newProducer(conn, 'txn-v2')
    const firstEpoch = p.producerEpoch
    const rounds = [
      { committed: true, commitV: commitVersions[0]! },
      { committed: false, commitV: commitVersions.at(-1)! },
    ]
    let offset = 0n
    for (const [i, { committed, commitV }] of rounds.entries()) {
      const what = `Produce v${produceV} / TxnOffsetCommit v${commitV} / EndTxn v${endV} ${committed ? 'commit' : 'abort'}`
      // No AddPartitionsToTxn: the partition leader adds the partition while verifying the produce.
      const appended = await produce(conn, topic, 0, transactionalBatch(p, `v2-${i}`), {
        transactionalId: p.transactionalId,
      })
      expect([errName(appended.errorCode), appended.baseOffset], what).toEqual(['NONE', offset])
      const ongoing = await describeTxn(conn, p.transactionalId)
      expect([ongoing.transactionState, ongoing.topics], what).toEqual([
        'Ongoing',
        [{ topic: topic.name, partitions: [0] }],
      ])

      // No AddOffsetsToTxn either.
      const res = await conn.request(
        TxnOffsetCommit,
        {
          transactionalId: p.transactionalId,
          groupId,
          producerId: p.producerId,
          producerEpoch: p.producerEpoch,
          topics: [
            {
              name: topic.name,
              topicId: topic.topicId,
              partitions: [{ partitionIndex: 0, committedOffset: 100n + BigInt(i), committedMetadata: `v2 ${i}` }],
            },
          ],
        },
        { version: commitV },
      )
      const t = res.topics[0]!
      if (commitV >= 6) expect(t.topicId, what).toBe(topic.topicId)
      else expect(t.name, what).toBe(topic.name)
      expect(
        t.partitions.map((x) => [x.partitionIndex, errName(x.errorCode)]),
        what,
      ).toEqual([[0, 'NONE']])

      const end = await endTxn(conn, p, committed, endV)
      expect(errName(end.errorCode), what).toBe('NONE')
      // v5: every end of a transaction bumps the epoch, and the producer carries on with the new one.
      expect([end.producerId, end.producerEpoch], what).toEqual([p.producerId, p.producerEpoch + 1])
      await completed(conn, p.transactionalId, committed)
      const stale = await produce(conn, topic, 0, transactionalBatch(p, 'stale'), {
        transactionalId: p.transactionalId,
      })
      expect(errName(stale.errorCode), `${what}: produce with the pre-bump epoch`).toBe('INVALID_PRODUCER_EPOCH')
      p = { ...p, producerEpoch: end.producerEpoch }
      offset += 4n
    }
    expect(p.producerEpoch).toBe(firstEpoch + 2)

    const f = await eventually(
      () => fetchPartition(conn, topic, 0, 0n, { isolationLevel: 1 }),
      (x) => x.lastStableOffset === 8n,
    )
    const batches = v2Batches(f.records)
    expect(batches.map((b) => [b.baseOffset, b.isControl, b.controlRecord()?.type ?? null])).toEqual([
      [0, false, null],
      [3, true, 'commit'],
      [4, false, null],
      [7, true, 'abort'],
    ])
    expect(f.abortedTransactions).toEqual([{ producerId: p.producerId, firstOffset: 4n }])
    const fetched = await conn.request(OffsetFetch, {
      groups: [{ groupId, topics: [{ name: topic.name, topicId: topic.topicId, partitionIndexes: [0] }] }],
      requireStable: true,
    })
    expect(fetched.groups[0]!.topics[0]!.partitions[0]).toMatchObject({
      committedOffset: 100n,
      metadata: 'v2 0',
      errorCode: 0,
    })
  })

  test('DescribeTransactions and ListTransactions: unknown ids, unknown states, duration (v1+) and id pattern (v2+) filters', async () => {
    const missing = await describeTxn(conn, uniqueId('never-used'))
    expect(errName(missing.errorCode)).toBe('TRANSACTIONAL_ID_NOT_FOUND')
    const topic = await createTopic(conn, { prefix: 'txn-list' })
    const p = await newProducer(conn, 'txn-list')
    expect(await addPartitions(conn, p, topic, [0])).toEqual([[topic.name, 0, 'NONE']])
    const mine = { transactionalId: p.transactionalId, producerId: p.producerId, transactionState: 'Ongoing' }
    for (const v of versionsBoth(conn, ListTransactions)) {
      const what = `ListTransactions v${v}`
      const list = (body: Partial<Parameters<typeof conn.request<typeof ListTransactions>>[1]>) =>
        conn.request(ListTransactions, { stateFilters: [], producerIdFilters: [], ...body }, { version: v })
      const unknownState = await list({ stateFilters: ['Ongoing', 'Bogus'] })
      expect(errName(unknownState.errorCode), what).toBe('NONE')
      expect(unknownState.unknownStateFilters, what).toEqual(['Bogus'])
      expect(unknownState.transactionStates, what).toContainEqual(mine)
      expect((await list({ stateFilters: ['CompleteCommit'] })).transactionStates, what).not.toContainEqual(mine)
      if (v >= 1) {
        // Only transactions open longer than the filter: ours is seconds old.
        expect((await list({ durationFilter: 3_600_000n })).transactionStates, what).not.toContainEqual(mine)
        expect((await list({ durationFilter: 0n })).transactionStates, what).toContainEqual(mine)
      }
      if (v >= 2) {
        const byPattern = await list({ transactionalIdPattern: `${p.transactionalId.slice(0, -4)}.*` })
        expect(byPattern.transactionStates, what).toEqual([mine])
      }
    }
    if (conn.versionFor(ListTransactions) < 2)
      note(`ListTransactions v${conn.versionFor(ListTransactions)}: no transactionalIdPattern (v2+)`)
    expect(errName((await endTxn(conn, p, false, Math.min(conn.versionFor(EndTxn), TV1.endTxnMax))).errorCode)).toBe(
      'NONE',
    )
  })
})
