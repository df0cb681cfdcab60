import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Cluster } from '../../src/client/cluster/cluster.js'
import { Consumer } from '../../src/client/consumer/consumer.js'
import type { ConsumerRecord } from '../../src/client/consumer/types.js'
import { Produce } from '../../src/protocol/apis/produce.js'
import { encodeRecordBatchAsync } from '../../src/protocol/records/index.js'
import { describeTopic } from '../helpers/fetch.js'
import { testKafka, uniqueTopic } from '../helpers/kafka.js'
import { createTopic } from '../helpers/protocol.js'

/** The consumer API without group management: iteration styles, backpressure, commits with a groupId. */
describe(`the consumer, manual assignment (Kafka ${testKafka().version})`, () => {
  let cluster: Cluster
  beforeAll(() => {
    cluster = new Cluster({ bootstrap: testKafka().bootstrap })
  })
  afterAll(async () => {
    await cluster.close()
  })

  async function topicWith(partitions: number, perPartition: number) {
    const conn = await cluster.anyConnection('admin')
    const t = await createTopic(conn, { partitions })
    const { topicId } = await describeTopic(conn, t.name)
    for (let p = 0; p < partitions; p++) {
      for (let i = 0; i < perPartition; i += 1000) {
        const n = Math.min(1000, perPartition - i)
        const batch = await encodeRecordBatchAsync({
          compression: 'lz4',
          records: Array.from({ length: n }, (_, j) => ({
            key: Buffer.from(`p${p}-${i + j}`),
            value: Buffer.from(`value ${i + j} ${'•'.repeat(50)}`),
          })),
        })
        const leader = await cluster.leaderOf(t.name, p, 'produce')
        const res = await leader.connection.request(Produce, {
          acks: -1,
          timeoutMs: 10_000,
          topicData: [{ name: t.name, topicId, partitionData: [{ index: p, records: batch }] }],
        })
        expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(0)
      }
    }
    return t.name
  }

  const consumer = (extra: Partial<ConstructorParameters<typeof Consumer>[0]> = {}) =>
    new Consumer({ cluster, maxWaitMs: 100, resetPolicy: 'earliest', ...extra })

  test('for await delivers every message once, in order per partition; break closes the consumer', async () => {
    const topic = await topicWith(3, 2000)
    const c = consumer()
    await c.assign([0, 1, 2].map((partition) => ({ topic, partition })))
    const seen = new Map<number, number[]>()
    let n = 0
    for await (const m of c) {
      const list = seen.get(m.partition) ?? []
      list.push(m.offset)
      seen.set(m.partition, list)
      expect(m.key!.toString()).toBe(`p${m.partition}-${m.offset}`)
      if (++n === 6000) break
    }
    for (const p of [0, 1, 2]) expect(seen.get(p)).toEqual(Array.from({ length: 2000 }, (_, i) => i))
    // break → return() → close(): the pipeline is closed and iteration ends at once.
    const again = await c[Symbol.asyncIterator]().next()
    expect(again.done).toBe(true)
  })

  test('batches() hands out decoded chunks per partition; stream() is an object-mode Readable with backpressure', async () => {
    const topic = await topicWith(2, 1500)
    const c = consumer()
    await c.assign([0, 1].map((partition) => ({ topic, partition })))
    let total = 0
    for await (const batch of c.batches()) {
      expect(batch.messages.every((m) => m.partition === batch.partition)).toBe(true)
      expect(batch.highWatermark).toBe(1500)
      total += batch.messages.length
      if (total === 3000) break
    }
    expect(total).toBe(3000)

    const s = consumer()
    await s.assign([{ topic, partition: 0 }])
    const readable = s.stream({ highWaterMark: 8 })
    const got: ConsumerRecord[] = []
    for await (const m of readable) {
      got.push(m as ConsumerRecord)
      if (got.length === 1500) break
    }
    expect(got.map((m) => m.offset)).toEqual(Array.from({ length: 1500 }, (_, i) => i))
    expect(readable.destroyed).toBe(true)
  })

  test('with a groupId, commit() stores what was finished, and a new consumer starts there', async () => {
    const topic = await topicWith(1, 500)
    const groupId = uniqueTopic('standalone-group')
    const a = consumer({ groupId, autoCommit: false })
    await a.assign([{ topic, partition: 0 }])
    let n = 0
    const it = a[Symbol.asyncIterator]()
    for (;;) {
      const r = await it.next()
      if (r.done || ++n === 200) break
    }
    // The 200th message is being handled: only 199 are finished.
    await a.commit()
    await a.close()
    const b = consumer({ groupId, autoCommit: false })
    await b.assign([{ topic, partition: 0 }])
    const first = await b[Symbol.asyncIterator]().next()
    expect(first.value!.offset).toBe(199)
    await b.close()
  })

  test('a slow loop body slows fetching: buffered bytes stay within the budget', async () => {
    const topic = await topicWith(1, 20_000)
    const bufferBytes = 512 * 1024
    const c = consumer({ bufferBytes, partitionMaxBytes: 64 * 1024 })
    await c.assign([{ topic, partition: 0 }])
    let peakQueued = 0
    let n = 0
    for await (const m of c) {
      if (m.offset % 1000 === 0) await new Promise((r) => setTimeout(r, 20))
      const cursor = (c.pipeline as unknown as { cursors: Map<string, { queuedBytes: number }> }).cursors
        .values()
        .next().value!
      peakQueued = Math.max(peakQueued, cursor.queuedBytes)
      if (++n === 20_000) break
    }
    expect(peakQueued).toBeLessThanOrEqual(bufferBytes + 256 * 1024)
    expect(c.pipeline.budget.peakHeld).toBeLessThanOrEqual(bufferBytes)
  })
})

describe(`the consumer in a group (Kafka ${testKafka().version})`, () => {
  let cluster: Cluster
  beforeAll(() => {
    cluster = new Cluster({ bootstrap: testKafka().bootstrap })
  })
  afterAll(async () => {
    await cluster.close()
  })

  test('subscribe: three members share the partitions; commits carry over to the next member', async () => {
    const conn = await cluster.anyConnection('admin')
    const t = await createTopic(conn, { partitions: 6 })
    const { topicId } = await describeTopic(conn, t.name)
    for (let p = 0; p < 6; p++) {
      const batch = await encodeRecordBatchAsync({
        records: Array.from({ length: 100 }, (_, i) => ({
          key: Buffer.from(`${p}-${i}`),
          value: Buffer.from(`v${i}`),
        })),
      })
      const leader = await cluster.leaderOf(t.name, p, 'produce')
      await leader.connection.request(Produce, {
        acks: -1,
        timeoutMs: 10_000,
        topicData: [{ name: t.name, topicId, partitionData: [{ index: p, records: batch }] }],
      })
    }
    const groupId = uniqueTopic('group')
    const members = [0, 1, 2].map(
      () =>
        new Consumer({
          client: { bootstrap: testKafka().bootstrap },
          groupId,
          resetPolicy: 'earliest',
          maxWaitMs: 100,
          group: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, assignors: ['cooperative-sticky'] },
        }),
    )
    await Promise.all(members.map((m) => m.subscribe([t.name])))
    // Each reads what it is given; together they read everything exactly once. The one that reads the last
    // message breaks out (which finishes it and closes that member); the others are closed while they wait.
    const counts = new Map<string, number>()
    let total = 0
    let finishedLoop!: () => void
    const allRead = new Promise<void>((resolve) => {
      finishedLoop = resolve
    })
    const loops = members.map(async (c) => {
      for await (const m of c) {
        const key = `${m.partition}:${m.offset}`
        counts.set(key, (counts.get(key) ?? 0) + 1)
        if (++total >= 600) {
          finishedLoop()
          break
        }
      }
    })
    await Promise.race([allRead, new Promise((r) => setTimeout(r, 30_000))])
    const assignmentSizes = members.map((m) => m.assignment().length)
    await Promise.all(members.map((m) => m.close()))
    await Promise.all(loops)
    expect(counts.size).toBe(600)
    expect([...counts.values()].every((n) => n === 1)).toBe(true)
    expect(assignmentSizes.reduce((a, b) => a + b, 0)).toBe(6)
    // Everything was finished and committed: a new member of the group finds nothing left to read.
    const late = new Consumer({
      client: { bootstrap: testKafka().bootstrap },
      groupId,
      resetPolicy: 'earliest',
      maxWaitMs: 100,
    })
    await late.subscribe([t.name])
    const next = await Promise.race([
      late[Symbol.asyncIterator]().next(),
      new Promise<null>((res) => setTimeout(() => res(null), 2000)),
    ])
    expect(next).toBeNull()
    await late.close()
  })
})
