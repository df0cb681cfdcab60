import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Connection } from '../../src/client/connection.js'
import {
  Producer,
  ProducerFencedError,
  type ProducerOptions,
  TransactionAbortedError,
  TransactionStateError,
} from '../../src/client/producer/index.js'
import { DescribeTransactions } from '../../src/protocol/apis/describe-transactions.js'
import { OffsetFetch } from '../../src/protocol/apis/offset-fetch.js'
import { fetchBatches } from '../helpers/fetch.js'
import { connectTestBroker, testKafka } from '../helpers/kafka.js'
import { kcatAvailable, kcatConsume } from '../helpers/kcat.js'
import {
  createTopic,
  errName,
  eventually,
  groupCoordinatorReady,
  note,
  type TestTopic,
  transactionCoordinatorReady,
} from '../helpers/protocol.js'

const bootstrap = testKafka().bootstrap
const uniqueId = (prefix: string) => `skiff-${prefix}-${randomBytes(5).toString('hex')}`

/** Values kcat reads from a partition, with read_committed or read_uncommitted. */
function kcatValues(topic: string, partition: number, committed: boolean): string[] {
  return kcatConsume(bootstrap, topic, partition, [
    '-X',
    `isolation.level=${committed ? 'read_committed' : 'read_uncommitted'}`,
  ]).map((m) => m.payload ?? '')
}

describe.skipIf(!kcatAvailable())(`transactional producer against Kafka ${testKafka().version}`, () => {
  let conn: Connection
  let transactionVersion = 0
  const producers: Producer[] = []
  const open = (o: Partial<ProducerOptions> = {}) => {
    const p = new Producer({
      bootstrap,
      clientId: 'skiff-txn-test',
      transactionalId: uniqueId('txn'),
      ...o,
    } as ProducerOptions)
    producers.push(p)
    return p
  }
  beforeAll(async () => {
    conn = await connectTestBroker()
    transactionVersion = conn.finalizedFeatures.get('transaction.version') ?? 0
    note(`transactional producer: finalized transaction.version = ${transactionVersion}`)
    await groupCoordinatorReady(conn)
    await transactionCoordinatorReady(conn)
  })
  afterAll(async () => {
    await Promise.all(producers.map((p) => p.close({ timeoutMs: 2000 }).catch(() => {})))
    await conn?.close()
  })

  /** Waits until every transaction of `transactionalId` is complete (markers written). */
  async function settled(transactionalId: string) {
    const s = await eventually(
      () => conn.request(DescribeTransactions, { transactionalIds: [transactionalId] }),
      (r) => ['CompleteCommit', 'CompleteAbort', 'Empty'].includes(r.transactionStates[0]!.transactionState),
    )
    return s.transactionStates[0]!
  }

  async function readBoth(topic: TestTopic, partition: number, expectCommitted: number) {
    const committed = await eventually(
      async () => kcatValues(topic.name, partition, true),
      (v) => v.length >= expectCommitted,
    )
    return { committed, uncommitted: kcatValues(topic.name, partition, false) }
  }

  test('committed records are visible to a read_committed reader, aborted ones never are (the flow the cluster speaks)', async () => {
    const topic = await createTopic(conn, { prefix: 'txn-visible', partitions: 2 })
    const p = open()
    const epochs: number[] = []
    const rounds = [
      { tag: 'c1', commit: true },
      { tag: 'a1', commit: false },
      { tag: 'c2', commit: true },
      { tag: 'a2', commit: false },
    ]
    for (const { tag, commit } of rounds) {
      const tx = await p.transaction()
      expect(tx.usesTransactionsV2).toBe(transactionVersion >= 2)
      // Records to both partitions, through the transaction and through the producer (the same thing inside one).
      await tx.send({ topic: topic.name, messages: [0, 1, 2].map((i) => ({ value: `${tag}-${i}`, partition: 0 })) })
      await p.send({ topic: topic.name, messages: [{ value: `${tag}-p1`, partition: 1 }] })
      if (commit) await tx.commit()
      else await tx.abort()
      epochs.push(p.producerIdentity.producerEpoch)
    }
    const { transactionalId } = p.options
    await settled(transactionalId!)
    const zero = await readBoth(topic, 0, 6)
    expect(zero.committed).toEqual(['c1-0', 'c1-1', 'c1-2', 'c2-0', 'c2-1', 'c2-2'])
    expect(zero.uncommitted).toEqual(rounds.flatMap(({ tag }) => [0, 1, 2].map((i) => `${tag}-${i}`)))
    const one = await readBoth(topic, 1, 2)
    expect(one.committed).toEqual(['c1-p1', 'c2-p1'])
    expect(one.uncommitted).toEqual(['c1-p1', 'a1-p1', 'c2-p1', 'a2-p1'])

    // The batches are transactional, and each transaction's data is followed by its marker.
    const { batches } = await fetchBatches(conn, topic.name, 0)
    expect(batches.map((b) => [b.isTransactional, b.isControl, b.controlRecord()?.type ?? null])).toEqual(
      rounds.flatMap(({ commit }) => [
        [true, false, null],
        [true, true, commit ? 'commit' : 'abort'],
      ]),
    )
    if (transactionVersion >= 2) {
      // Transactions v2: EndTxn v5 bumps the epoch at every end; the producer writes with the new one.
      expect(epochs).toEqual([1, 2, 3, 4].map((i) => epochs[0]! - 1 + i))
      const data = batches.filter((b) => !b.isControl)
      expect(data.map((b) => b.producerEpoch)).toEqual([0, 1, 2, 3].map((i) => data[0]!.producerEpoch + i))
      // Each new epoch starts its sequences at 0.
      expect(data.map((b) => b.baseSequence)).toEqual([0, 0, 0, 0])
    } else {
      // Transactions v1: one epoch throughout, and sequences carry on from transaction to transaction.
      expect(new Set(epochs).size).toBe(1)
      expect(batches.filter((b) => !b.isControl).map((b) => b.baseSequence)).toEqual([0, 3, 6, 9])
    }
  })

  test('many records over several partitions commit atomically', async () => {
    const topic = await createTopic(conn, { prefix: 'txn-many', partitions: 4 })
    const p = open({ lingerMs: 10, compression: 'lz4' })
    const tx = await p.transaction()
    const n = 4000
    const sent = await tx.send({
      topic: topic.name,
      messages: Array.from({ length: n }, (_, i) => ({ key: `k${i % 97}`, value: `m${i}` })),
    })
    await tx.commit()
    await settled(p.options.transactionalId!)
    let total = 0
    for (let part = 0; part < 4; part++) {
      const expected = sent.filter((r) => r.partition === part).length
      const read = await eventually(
        async () => kcatValues(topic.name, part, true),
        (v) => v.length >= expected,
      )
      expect(read).toHaveLength(expected)
      total += read.length
    }
    expect(total).toBe(n)
  })

  test('sendOffsets commits the group offset with the transaction, and an aborted transaction commits none', async () => {
    const input = await createTopic(conn, { prefix: 'txn-in' })
    const output = await createTopic(conn, { prefix: 'txn-out' })
    const p = open()
    const groupId = uniqueId('txn-group')
    const committedOffset = async () => {
      const res = await eventually(
        () =>
          conn.request(OffsetFetch, {
            groups: [{ groupId, topics: [{ name: input.name, topicId: input.topicId, partitionIndexes: [0] }] }],
            requireStable: true,
          }),
        (r) => errName(r.groups[0]!.topics[0]?.partitions[0]?.errorCode ?? 0) !== 'UNSTABLE_OFFSET_COMMIT',
      )
      const part = res.groups[0]!.topics[0]!.partitions[0]!
      return { offset: part.committedOffset, metadata: part.metadata, error: errName(part.errorCode) }
    }

    const tx = await p.transaction()
    await tx.send({ topic: output.name, messages: [{ value: 'derived-1' }] })
    await tx.sendOffsets({ groupId, offsets: [{ topic: input.name, partition: 0, offset: 42, metadata: 'first' }] })
    await tx.commit()
    await settled(p.options.transactionalId!)
    expect(await committedOffset()).toEqual({ offset: 42n, metadata: 'first', error: 'NONE' })

    const aborted = await p.transaction()
    await aborted.send({ topic: output.name, messages: [{ value: 'derived-2' }] })
    await aborted.sendOffsets({ groupId, offsets: [{ topic: input.name, partition: 0, offset: 99n }] })
    await aborted.abort()
    await settled(p.options.transactionalId!)
    expect(await committedOffset()).toEqual({ offset: 42n, metadata: 'first', error: 'NONE' })
    expect((await readBoth(output, 0, 1)).committed).toEqual(['derived-1'])
  })

  test('a second producer with the same transactionalId fences the first: ProducerFencedError, and it refuses further work', async () => {
    const topic = await createTopic(conn, { prefix: 'txn-fenced' })
    const transactionalId = uniqueId('txn-zombie')
    const zombie = open({ transactionalId })
    const tx = await zombie.transaction()
    await tx.send({ topic: topic.name, messages: [{ value: 'zombie-1' }] })

    const successor = open({ transactionalId })
    const next = await successor.transaction()
    expect(successor.producerIdentity.producerId).toBe(zombie.producerIdentity.producerId)
    expect(successor.producerIdentity.producerEpoch).toBeGreaterThan(zombie.producerIdentity.producerEpoch)

    const commit = await tx.commit().catch((e) => e)
    expect(commit).toBeInstanceOf(ProducerFencedError)
    expect(commit.transactionalId).toBe(transactionalId)
    await expect(zombie.transaction()).rejects.toBeInstanceOf(ProducerFencedError)
    expect(() => zombie.produce({ topic: topic.name, value: 'x' })).toThrow(ProducerFencedError)

    await next.send({ topic: topic.name, messages: [{ value: 'successor-1' }] })
    await next.commit()
    await settled(transactionalId)
    expect((await readBoth(topic, 0, 1)).committed).toEqual(['successor-1'])
  })

  test('a transactional producer sends only inside a transaction, one transaction at a time', async () => {
    const topic = await createTopic(conn, { prefix: 'txn-state' })
    const p = open()
    expect(() => p.produce({ topic: topic.name, value: 'x' })).toThrow(TransactionStateError)
    await expect(p.send({ topic: topic.name, messages: [{ value: 'x' }] })).rejects.toBeInstanceOf(
      TransactionStateError,
    )
    const tx = await p.transaction()
    await expect(p.transaction()).rejects.toBeInstanceOf(TransactionStateError)
    await tx.send({ topic: topic.name, messages: [{ value: 'in' }] })
    await tx.commit()
    expect(() => tx.produce({ topic: topic.name, value: 'late' })).toThrow(TransactionStateError)
    await expect(tx.commit()).rejects.toBeInstanceOf(TransactionStateError)
    // An abort drops what is still waiting to be sent.
    const dropped = await p.transaction()
    const outcome = new Promise<Error | null>((resolve) =>
      dropped.produce({ topic: topic.name, value: 'never' }, (err) => resolve(err)),
    )
    await dropped.abort()
    expect(await outcome).toBeInstanceOf(TransactionAbortedError)
    // An empty transaction commits without a word to the coordinator.
    const empty = await p.transaction()
    await empty.commit()
    // Closing a producer with a transaction open aborts it.
    const closing = open()
    const open_ = await closing.transaction()
    await open_.send({ topic: topic.name, messages: [{ value: 'closed-before-commit' }] })
    await closing.close()
    expect((await settled(closing.options.transactionalId!)).transactionState).toBe('CompleteAbort')
    expect((await readBoth(topic, 0, 1)).committed).toEqual(['in'])
    const plain = new Producer({ bootstrap })
    await expect(plain.transaction()).rejects.toBeInstanceOf(TransactionStateError)
    await plain.close()
  })
})
