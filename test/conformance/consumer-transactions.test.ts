import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Connection } from '../../src/client/connection.js'
import { Consumer } from '../../src/client/consumer/consumer.js'
import { Producer, type ProducerOptions, type RecordMetadata } from '../../src/client/producer/index.js'
import { connectTestBroker, testKafka } from '../helpers/kafka.js'
import { createTopic, groupCoordinatorReady, type TestTopic, transactionCoordinatorReady } from '../helpers/protocol.js'

const bootstrap = testKafka().bootstrap

/** A data record as the producer saw it written, and whether a read_committed reader may ever see it. */
interface Written {
  partition: number
  offset: number
  value: string
  visible: boolean
}

/**
 * read_committed through the Consumer API over a log where transactions of several producers interleave on the same
 * partitions with each other and with non-transactional records: exactly the committed and the non-transactional
 * records come out, in offset order, never past an open transaction; read_uncommitted delivers every data record;
 * the transaction markers (control records) never come out of either.
 */
describe(`the consumer over transactions (Kafka ${testKafka().version})`, () => {
  let conn: Connection
  const producers: Producer[] = []
  const open = (o: Partial<ProducerOptions> = {}) => {
    const p = new Producer({ bootstrap, lingerMs: 0, ...o } as ProducerOptions)
    producers.push(p)
    return p
  }
  beforeAll(async () => {
    conn = await connectTestBroker()
    await groupCoordinatorReady(conn)
    await transactionCoordinatorReady(conn)
  })
  afterAll(async () => {
    await Promise.all(producers.map((p) => p.close({ timeoutMs: 5000 }).catch(() => {})))
    await conn?.close()
  })

  const reader = (isolation: 'read_committed' | 'read_uncommitted') =>
    new Consumer({
      client: { bootstrap },
      isolation,
      resetPolicy: 'earliest',
      maxWaitMs: 50,
      // Small fetches: transactions span several Fetch responses, each with its own list of aborted transactions.
      partitionMaxBytes: 2048,
    })

  /**
   * Reads from one iterator of `c` until `count` messages came (in the order delivered), then waits `quietMs` to see
   * that no more come. A next() still pending then is kept for the following read, so no message is lost.
   */
  function drain(c: Consumer) {
    const it = c[Symbol.asyncIterator]()
    let pending: ReturnType<typeof it.next> | undefined
    // The pending next() is let go only by the read that takes its result: one that resolves after a read gave up
    // waiting (e.g. while the test commits a transaction) is handed to the next read, not dropped.
    const take = async (ms: number) => {
      pending ??= it.next()
      const r = await Promise.race([pending, sleep(ms).then(() => null)])
      if (r !== null) pending = undefined
      return r
    }
    return async (count: number, quietMs: number) => {
      const got: Array<{ partition: number; offset: number; value: string }> = []
      const deadline = Date.now() + 30_000
      while (got.length < count) {
        const r = await take(Math.max(1, deadline - Date.now()))
        if (!r || r.done) break
        got.push({ partition: r.value.partition, offset: r.value.offset, value: r.value.value!.toString() })
      }
      const extra = await take(quietMs)
      return { got, extra: extra && !extra.done ? extra.value : null }
    }
  }

  const expected = (written: Written[], p: number, filter: (w: Written) => boolean) =>
    written
      .filter((w) => w.partition === p && filter(w))
      .sort((a, b) => a.offset - b.offset)
      .map((w) => ({ partition: w.partition, offset: w.offset, value: w.value }))

  test('read_committed delivers exactly the committed and non-transactional records of interleaved transactions; read_uncommitted every data record', async () => {
    const topic: TestTopic = await createTopic(conn, { prefix: 'consumer-txn', partitions: 2 })
    const id = randomBytes(4).toString('hex')
    const a = open({ transactionalId: `skiff-consumer-txn-a-${id}`, compression: 'lz4' })
    const b = open({ transactionalId: `skiff-consumer-txn-b-${id}` })
    const plain = open({ compression: 'gzip' })
    const written: Written[] = []
    const record = (visible: boolean) => (ms: RecordMetadata[], values: string[]) =>
      ms.forEach((m, i) => {
        written.push({ partition: m.partition, offset: m.offset, value: values[i]!, visible })
      })
    const send = async (
      p: Producer | { send: Producer['send'] },
      tag: string,
      n: number,
      visible: boolean,
    ): Promise<void> => {
      await Promise.all(
        [0, 1].map(async (partition) => {
          const values = Array.from({ length: n }, (_, i) => `${tag}-p${partition}-${i}`)
          const ms = await p.send({
            topic: topic.name,
            messages: values.map((value) => ({ partition, value: `${value} ${'·'.repeat(40)}` })),
          })
          record(visible)(
            ms,
            values.map((v) => `${v} ${'·'.repeat(40)}`),
          )
        }),
      )
    }

    // Six rounds: A and B each run a transaction over both partitions at the same time, writing in turns, with
    // non-transactional records between; one of them commits and the other aborts, alternately.
    for (let round = 0; round < 6; round++) {
      const aCommits = round % 2 === 0
      const ta = await a.transaction()
      const tb = await b.transaction()
      await send(ta, `a${round}.1`, 15, aCommits)
      await send(plain, `plain${round}.1`, 3, true)
      await send(tb, `b${round}.1`, 15, !aCommits)
      await send(ta, `a${round}.2`, 15, aCommits)
      await send(tb, `b${round}.2`, 15, !aCommits)
      await send(plain, `plain${round}.2`, 3, true)
      await Promise.all([aCommits ? ta.commit() : ta.abort(), aCommits ? tb.abort() : tb.commit()])
    }
    // A transaction left open: nothing after its first record is stable yet, not even the plain records after it.
    const c = open({ transactionalId: `skiff-consumer-txn-c-${id}` })
    const tc = await c.transaction()
    const beforeOpen = written.length
    await send(tc, 'open', 5, true)
    await send(plain, 'after-open', 3, true)
    const stable = written.slice(0, beforeOpen)
    const visibleBefore = stable.filter((w) => w.visible).length

    const committedReader = reader('read_committed')
    await committedReader.assign([0, 1].map((partition) => ({ topic: topic.name, partition })))
    const readCommitted = drain(committedReader)
    const first = await readCommitted(visibleBefore, 1000)
    expect(first.extra).toBeNull()
    for (const p of [0, 1]) {
      expect(first.got.filter((m) => m.partition === p)).toEqual(expected(stable, p, (w) => w.visible))
    }

    // read_uncommitted sees every data record, open transaction included, and no control record: the offsets it
    // delivers are exactly the data records' offsets (each marker took an offset of its own).
    const uncommittedReader = reader('read_uncommitted')
    await uncommittedReader.assign([0, 1].map((partition) => ({ topic: topic.name, partition })))
    const all = await drain(uncommittedReader)(written.length, 500)
    expect(all.extra).toBeNull()
    for (const p of [0, 1]) {
      const mine = all.got.filter((m) => m.partition === p)
      expect(mine).toEqual(expected(written, p, () => true))
      const last = mine.at(-1)!.offset
      // There are gaps: 6 rounds × 2 markers per partition.
      expect(last + 1 - mine.length).toBe(12)
    }
    await uncommittedReader.close()

    // Once the open transaction commits, the read_committed reader carries on past it.
    await tc.commit()
    const rest = written.slice(beforeOpen)
    const second = await readCommitted(rest.length, 500)
    expect(second.extra).toBeNull()
    for (const p of [0, 1]) {
      expect(second.got.filter((m) => m.partition === p)).toEqual(expected(rest, p, () => true))
    }
    await committedReader.close()
  })

  for (const how of ['assign', 'subscribe'] as const) {
    test(`a read_committed consumer (${how}) does not start from a group offset an open transaction is about to commit (KIP-447)`, async () => {
      const topic = await createTopic(conn, { prefix: 'consumer-txn-offsets' })
      const plain = open()
      await plain.send({ topic: topic.name, messages: Array.from({ length: 100 }, (_, i) => ({ value: `m${i}` })) })
      const groupId = `skiff-consumer-txn-group-${randomBytes(4).toString('hex')}`
      const p = open({ transactionalId: `skiff-consumer-txn-offsets-${randomBytes(4).toString('hex')}` })
      const tx = await p.transaction()
      await tx.send({ topic: topic.name, messages: [{ value: 'derived' }] })
      await tx.sendOffsets({ groupId, offsets: [{ topic: topic.name, partition: 0, offset: 42 }] })

      // The offset is pending in the open transaction: the reader's start waits for it instead of taking the
      // earliest offset.
      const c = new Consumer({ client: { bootstrap }, groupId, isolation: 'read_committed', resetPolicy: 'earliest' })
      let started = false
      const starting = how === 'assign' ? c.assign([{ topic: topic.name, partition: 0 }]) : c.subscribe([topic.name])
      const assigning = starting.then(() => {
        started = true
      })
      await sleep(1500)
      expect(started).toBe(false)
      await tx.commit()
      await assigning
      const first = await c[Symbol.asyncIterator]().next()
      expect(first.value!.offset).toBe(42)
      await c.close()
    })
  }
})
