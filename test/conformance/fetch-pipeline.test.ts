import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { Cluster } from '../../src/client/cluster/cluster.js'
import { FetchPipeline } from '../../src/client/consumer/fetch-pipeline.js'
import type { ConsumerRecord } from '../../src/client/consumer/types.js'
import { Produce } from '../../src/protocol/apis/produce.js'
import { encodeRecordBatchAsync } from '../../src/protocol/records/index.js'
import { describeTopic } from '../helpers/fetch.js'
import { testKafka } from '../helpers/kafka.js'
import { createTopic } from '../helpers/protocol.js'

/** The fetch pipeline against a real broker: positions, sessions, bounded prefetch, seeks, several readers at once. */
describe(`the fetch pipeline (Kafka ${testKafka().version})`, () => {
  let cluster: Cluster
  const pipelines: FetchPipeline[] = []
  const reader = (options: ConstructorParameters<typeof FetchPipeline>[1] = {}) => {
    const p = new FetchPipeline(cluster, { maxWaitMs: 100, ...options })
    pipelines.push(p)
    return p
  }
  beforeAll(() => {
    cluster = new Cluster({ bootstrap: testKafka().bootstrap })
  })
  afterEach(async () => {
    await Promise.all(pipelines.splice(0).map((p) => p.close()))
  })
  afterAll(async () => {
    await cluster.close()
  })

  async function produce(
    topic: string,
    partition: number,
    count: number,
    compression: 'none' | 'lz4' | 'zstd' = 'none',
    from = 0,
  ) {
    const conn = await cluster.anyConnection('admin')
    const { topicId } = await describeTopic(conn, topic)
    for (let i = 0; i < count; i += 500) {
      const n = Math.min(500, count - i)
      const batch = await encodeRecordBatchAsync({
        compression,
        records: Array.from({ length: n }, (_, j) => ({
          key: Buffer.from(`k${from + i + j}`),
          value: Buffer.from(`v${from + i + j} ${'x'.repeat(200)}`),
        })),
      })
      const leader = await cluster.leaderOf(topic, partition, 'produce')
      const res = await leader.connection.request(Produce, {
        acks: -1,
        timeoutMs: 10_000,
        topicData: [{ name: topic, topicId, partitionData: [{ index: partition, records: batch }] }],
      })
      expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(0)
    }
  }

  async function drain(p: FetchPipeline, expected: number, timeoutMs = 20_000): Promise<ConsumerRecord[]> {
    const out: ConsumerRecord[] = []
    const deadline = Date.now() + timeoutMs
    while (out.length < expected && Date.now() < deadline) {
      const chunk = await p.next({ timeoutMs: 500 })
      if (!chunk) continue
      out.push(...chunk.messages)
      chunk.release()
    }
    return out
  }

  test('reads every partition from the earliest offset, in order, with topic and partition on each message', async () => {
    const conn = await cluster.anyConnection('admin')
    const t = await createTopic(conn, { partitions: 3 })
    await Promise.all([produce(t.name, 0, 1200), produce(t.name, 1, 700, 'lz4'), produce(t.name, 2, 300, 'zstd')])
    const p = reader()
    await p.assign([0, 1, 2].map((partition) => ({ topic: t.name, partition, offset: 'earliest' as const })))
    const got = await drain(p, 2200)
    expect(got).toHaveLength(2200)
    for (const partition of [0, 1, 2]) {
      const mine = got.filter((m) => m.partition === partition)
      expect(mine.map((m) => m.offset)).toEqual(mine.map((_, i) => i))
      expect(mine.every((m) => m.topic === t.name)).toBe(true)
    }
    expect(p.position({ topic: t.name, partition: 0 })).toBe(1200)
    expect(p.lag({ topic: t.name, partition: 0 })).toBe(0)
  })

  test('latest starts at the end; a timestamp starts at the first record at or after it; seek moves the position', async () => {
    const conn = await cluster.anyConnection('admin')
    const t = await createTopic(conn, { partitions: 1 })
    await produce(t.name, 0, 100)
    const p = reader()
    await p.assign([{ topic: t.name, partition: 0, offset: 'latest' }])
    expect(await p.next({ timeoutMs: 500 })).toBeNull()
    await produce(t.name, 0, 5, 'none', 100)
    const fresh = await drain(p, 5)
    expect(fresh.map((m) => m.offset)).toEqual([100, 101, 102, 103, 104])
    p.seek({ topic: t.name, partition: 0 }, 42)
    const again = await drain(p, 63)
    expect(again[0]!.offset).toBe(42)
    expect(again.at(-1)!.offset).toBe(104)
    const q = reader()
    await q.assign([{ topic: t.name, partition: 0, offset: { timestamp: Date.now() + 3_600_000 } }])
    expect(await q.next({ timeoutMs: 300 })).toBeNull()
    expect(q.position({ topic: t.name, partition: 0 })).toBe(105)
  })

  test('two readers of the same partition keep their own positions and sessions', async () => {
    const conn = await cluster.anyConnection('admin')
    const t = await createTopic(conn, { partitions: 1 })
    await produce(t.name, 0, 1000)
    const backfill = reader({ name: 'backfill' })
    const live = reader({ name: 'live' })
    await backfill.assign([{ topic: t.name, partition: 0, offset: 'earliest' }])
    await live.assign([{ topic: t.name, partition: 0, offset: 900 }])
    const [a, b] = await Promise.all([drain(backfill, 1000), drain(live, 100)])
    expect(a[0]!.offset).toBe(0)
    expect(a).toHaveLength(1000)
    expect(b[0]!.offset).toBe(900)
    expect(b).toHaveLength(100)
    expect(cluster.pool.openConnections().filter((k) => k.includes('/fetch:'))).toEqual(
      expect.arrayContaining([expect.stringContaining('fetch:backfill'), expect.stringContaining('fetch:live')]),
    )
  })

  test('prefetch is bounded in bytes: an unread partition stops being fetched at its share of the buffer', async () => {
    const conn = await cluster.anyConnection('admin')
    const t = await createTopic(conn, { partitions: 1 })
    await produce(t.name, 0, 20_000) // ~4.4 MiB
    const p = reader({ bufferBytes: 256 * 1024, partitionMaxBytes: 64 * 1024 })
    await p.assign([{ topic: t.name, partition: 0, offset: 'earliest' }])
    await new Promise((r) => setTimeout(r, 1500))
    const cursor = (p as unknown as { cursors: Map<string, { queuedBytes: number; fetchOffset: number }> }).cursors
      .values()
      .next().value!
    // One fetch may overshoot by a response; it never runs far ahead of the reader.
    expect(cursor.queuedBytes).toBeLessThanOrEqual(256 * 1024 + 128 * 1024)
    expect(cursor.fetchOffset).toBeLessThan(3000)
    const all = await drain(p, 20_000, 60_000)
    expect(all).toHaveLength(20_000)
  })

  test('pause stops delivery and fetching of a partition; resume continues where it was', async () => {
    const conn = await cluster.anyConnection('admin')
    const t = await createTopic(conn, { partitions: 2 })
    await Promise.all([produce(t.name, 0, 300), produce(t.name, 1, 300)])
    const p = reader()
    await p.assign([0, 1].map((partition) => ({ topic: t.name, partition, offset: 'earliest' as const })))
    p.pause([{ topic: t.name, partition: 1 }])
    const first = await drain(p, 300)
    expect(first.every((m) => m.partition === 0)).toBe(true)
    expect(await p.next({ timeoutMs: 300 })).toBeNull()
    p.resume([{ topic: t.name, partition: 1 }])
    const second = await drain(p, 300)
    expect(second.every((m) => m.partition === 1)).toBe(true)
    expect(second[0]!.offset).toBe(0)
  })

  test('an out-of-range position follows the reset policy, or fails under none', async () => {
    const conn = await cluster.anyConnection('admin')
    const t = await createTopic(conn, { partitions: 1 })
    await produce(t.name, 0, 10)
    const p = reader({ resetPolicy: 'earliest' })
    const resets: unknown[] = []
    p.on('reset', (r) => resets.push(r))
    await p.assign([{ topic: t.name, partition: 0, offset: 5000 }])
    const got = await drain(p, 10)
    expect(got.map((m) => m.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(resets).toEqual([{ topic: t.name, partition: 0, from: 5000, policy: 'earliest' }])

    const strict = reader({ resetPolicy: 'none' })
    await strict.assign([{ topic: t.name, partition: 0, offset: 5000 }])
    await expect(strict.next({ timeoutMs: 5000 })).rejects.toThrow(/offset 5000 is out of range/)
  })
})
