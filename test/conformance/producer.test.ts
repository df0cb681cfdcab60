import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Cluster } from '../../src/client/cluster/cluster.js'
import type { Connection } from '../../src/client/connection.js'
import { AbortedError } from '../../src/client/errors.js'
import {
  BufferFullError,
  DeliveryTimeoutError,
  MetadataTimeoutError,
  Producer,
  ProducerClosedError,
  type ProducerOptions,
  partitionForKey,
  type RecordMetadata,
  RecordTooLargeToSendError,
} from '../../src/client/producer/index.js'
import { DeleteTopics } from '../../src/protocol/apis/delete-topics.js'
import { DescribeProducers } from '../../src/protocol/apis/describe-producers.js'
import { Metadata } from '../../src/protocol/apis/metadata.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { KafkaError } from '../../src/protocol/kafka-error.js'
import { fetchBatches, fetchRecords } from '../helpers/fetch.js'
import { javaPartitions } from '../helpers/java-partitions.js'
import { connectTestBroker, testKafka } from '../helpers/kafka.js'
import { kcatAvailable, kcatConsume } from '../helpers/kcat.js'
import { batch, createTopic, errName, eventually, listOffset, produce, sampleRecords } from '../helpers/protocol.js'

const bootstrap = testKafka().bootstrap
const java = javaPartitions(testKafka().version)

/** Waits for `n` callbacks of `produce`. */
function collector() {
  const results: Array<{ err: Error | null; meta?: RecordMetadata; i: number }> = []
  let wake: (() => void) | undefined
  let want = Number.POSITIVE_INFINITY
  return {
    results,
    callback: (i: number) => (err: Error | null, meta?: RecordMetadata) => {
      results.push({ err, meta, i })
      if (results.length >= want) wake?.()
    },
    wait(n: number) {
      want = n
      return results.length >= n ? Promise.resolve() : new Promise<void>((r) => (wake = r))
    },
  }
}

describe(`the producer against Kafka ${testKafka().version}`, () => {
  let conn: Connection
  const producers: Producer[] = []
  const open = (o: Partial<ProducerOptions> = {}) => {
    const p = new Producer({ bootstrap, clientId: 'skiff-producer-test', ...o } as ProducerOptions)
    producers.push(p)
    return p
  }
  beforeAll(async () => {
    conn = await connectTestBroker()
  })
  async function deleteTopic(name: string) {
    await conn.request(DeleteTopics, { topics: [{ name }], topicNames: [name], timeoutMs: 10_000 })
    const md = await eventually(
      () => conn.request(Metadata, { topics: [{ name }], allowAutoTopicCreation: false }),
      (m) => m.topics[0]!.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    )
    expect(errName(md.topics[0]!.errorCode)).toBe('UNKNOWN_TOPIC_OR_PARTITION')
  }
  afterAll(async () => {
    await Promise.all(producers.map((p) => p.close({ timeoutMs: 2000 })))
    await conn?.close()
  })

  test('send resolves each record with its partition, offset and timestamp, and Fetch reads back exactly those records', async () => {
    const topic = await createTopic(conn, { prefix: 'send', partitions: 3 })
    const p = open()
    const t0 = Date.now() - 10_000
    const messages = Array.from({ length: 30 }, (_, i) => ({
      key: i % 5 === 0 ? null : `key-${i}`,
      value: i % 7 === 3 ? null : Buffer.from(`value ${i} ✓`),
      headers:
        i % 2 === 0 ? { idx: String(i), empty: null } : [['dup', 'a'] as const, ['dup', Buffer.from('b')] as const],
      timestamp: i % 3 === 0 ? undefined : t0 + i,
      partition: i % 10 === 9 ? 2 : undefined,
    }))
    const before = Date.now()
    const sent = await p.send({ topic: topic.name, messages })
    expect(sent).toHaveLength(30)
    for (const [i, m] of messages.entries()) {
      const r = sent[i]!
      expect(r.topic).toBe(topic.name)
      if (m.partition !== undefined) expect(r.partition, `record ${i}`).toBe(m.partition)
      else if (m.key !== null) expect(r.partition, `record ${i}`).toBe(partitionForKey(Buffer.from(m.key), 3))
      if (m.timestamp !== undefined) expect(r.timestamp).toBe(m.timestamp)
      else expect(r.timestamp).toBeGreaterThanOrEqual(before)
    }
    const fetched = await Promise.all([0, 1, 2].map((partition) => fetchRecords(conn, topic.name, partition)))
    expect(fetched.flat()).toHaveLength(30)
    for (const [i, m] of messages.entries()) {
      const r = sent[i]!
      const f = fetched[r.partition]!.find((x) => x.offset === r.offset)
      expect(f, `record ${i} at ${r.partition}/${r.offset}`).toBeDefined()
      expect(f!.key?.toString() ?? null).toBe(m.key)
      expect(f!.value?.toString() ?? null).toBe(m.value?.toString() ?? null)
      expect(f!.timestamp).toBe(r.timestamp)
      expect(f!.headers.map((h) => [h.key, h.value?.toString() ?? null])).toEqual(
        i % 2 === 0
          ? [
              ['idx', String(i)],
              ['empty', null],
            ]
          : [
              ['dup', 'a'],
              ['dup', 'b'],
            ],
      )
    }
    // Within a partition, records keep the order they were given in.
    for (const part of [0, 1, 2]) {
      const order = sent.map((r, i) => ({ ...r, i })).filter((r) => r.partition === part)
      expect(order.map((r) => r.offset)).toEqual(order.map((_, k) => k))
    }
  })

  test('on a LogAppendTime topic the metadata carries the broker append time', async () => {
    const topic = await createTopic(conn, {
      prefix: 'append-time',
      configs: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }],
    })
    const p = open()
    const before = Date.now()
    const sent = await p.send({ topic: topic.name, messages: [{ value: 'a', timestamp: 1000 }, { value: 'b' }] })
    expect(sent[0]!.timestamp).toBeGreaterThanOrEqual(before - 1000)
    expect(sent[0]!.timestamp).not.toBe(1000)
    expect(sent[1]!.timestamp).toBe(sent[0]!.timestamp)
    const [f] = await fetchRecords(conn, topic.name, 0)
    expect(f!.timestamp).toBe(sent[0]!.timestamp)
  })

  test('produce() calls every callback once, offsets are consecutive per partition, and flush() waits for all', async () => {
    const topic = await createTopic(conn, { prefix: 'produce', partitions: 4 })
    const p = open({ lingerMs: 20 })
    const c = collector()
    const n = 20_000
    const value = Buffer.alloc(64, 'v')
    for (let i = 0; i < n; i++) {
      const ok = p.produce({ topic: topic.name, key: i % 2 === 0 ? null : `k${i % 50}`, value }, c.callback(i))
      if (!ok) await new Promise((r) => p.once('drain', r))
    }
    await p.flush()
    expect(c.results).toHaveLength(n)
    expect(c.results.filter((r) => r.err)).toEqual([])
    expect(new Set(c.results.map((r) => r.i)).size).toBe(n)
    const stats = p.stats()
    expect([stats.recordsSent, stats.recordsAcked, stats.recordsFailed, stats.bufferedBytes]).toEqual([n, n, 0, 0])
    for (let part = 0; part < 4; part++) {
      const offsets = c.results.filter((r) => r.meta!.partition === part).map((r) => r.meta!.offset)
      // Callbacks of one partition come in offset order.
      expect(offsets).toEqual(offsets.map((_, k) => k))
      expect((await listOffset(conn, topic.name, part, -1n)).offset).toBe(BigInt(offsets.length))
    }
  })

  const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
  test.skipIf(!kcatAvailable())(
    `every codec (${codecs.join(', ')}): kcat reads back the same keys, values, headers, timestamps and partitions`,
    async () => {
      const t0 = Date.now() - 3_600_000
      const messages = Array.from({ length: 120 }, (_, i) => ({
        key: i % 9 === 0 ? null : `ключ-${i % 40}`,
        value: i % 13 === 0 ? null : `{"n":${i},"text":"${'repeat '.repeat(i % 20)}","u":"üñí"}`,
        headers: i % 4 === 0 ? { trace: `t-${i}`, nil: null } : i % 4 === 1 ? { multi: ['x', 'y'] } : undefined,
        timestamp: t0 + i * 1000,
      }))
      for (const codec of codecs) {
        const topic = await createTopic(conn, { prefix: `codec-${codec}`, partitions: 3 })
        const p = open({ compression: codec, lingerMs: 10 })
        const sent = await p.send({ topic: topic.name, messages })
        for (const partition of [0, 1, 2]) {
          const read = kcatConsume(bootstrap, topic.name, partition)
          const mine = sent.map((r, i) => ({ r, m: messages[i]! })).filter((x) => x.r.partition === partition)
          expect(
            read.map((k) => k.offset),
            `${codec} [${partition}]`,
          ).toEqual(mine.map((x) => x.r.offset))
          for (const [j, k] of read.entries()) {
            const { m, r } = mine[j]!
            const what = `${codec} [${partition}] offset ${k.offset}`
            expect(k.key, what).toBe(m.key)
            expect(k.payload, what).toBe(m.value)
            expect(k.ts, what).toBe(m.timestamp)
            expect(r.timestamp, what).toBe(m.timestamp)
            const headers = m.headers
              ? Object.entries(m.headers).flatMap(([h, v]) => (Array.isArray(v) ? v.flatMap((x) => [h, x]) : [h, v]))
              : []
            expect(k.headers ?? [], what).toEqual(headers)
          }
        }
        const { batches } = await fetchBatches(conn, topic.name, sent[0]!.partition)
        expect(
          batches.every((b) => b.compression === codec),
          codec,
        ).toBe(true)
      }
    },
  )

  test('compression per topic overrides the producer default', async () => {
    const [a, b] = await Promise.all([
      createTopic(conn, { prefix: 'codec-default' }),
      createTopic(conn, { prefix: 'codec-override' }),
    ])
    const p = open({ compression: { default: 'lz4', topics: { [b.name]: 'zstd' } } })
    await p.send({ topic: a.name, messages: [{ value: 'x'.repeat(500) }] })
    await p.send({ topic: b.name, messages: [{ value: 'x'.repeat(500) }] })
    expect((await fetchBatches(conn, a.name, 0)).batches.map((x) => x.compression)).toEqual(['lz4'])
    expect((await fetchBatches(conn, b.name, 0)).batches.map((x) => x.compression)).toEqual(['zstd'])
  })

  test('acks 0, 1 and all: every record arrives; acks 0 knows no offsets', async () => {
    const topic = await createTopic(conn, { prefix: 'acks' })
    const all = await open({ acks: 'all' }).send({ topic: topic.name, messages: [{ value: 'all' }] })
    const one = await open({ acks: 1 }).send({ topic: topic.name, messages: [{ value: 'one' }] })
    const none = await open({ acks: 0 }).send({ topic: topic.name, messages: [{ value: 'zero' }, { value: 'zero2' }] })
    expect([all[0]!.offset, one[0]!.offset]).toEqual([0, 1])
    expect(none.map((r) => r.offset)).toEqual([-1, -1])
    let records = await fetchRecords(conn, topic.name, 0)
    for (let i = 0; records.length < 4 && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100))
      records = await fetchRecords(conn, topic.name, 0)
    }
    expect(records.map((r) => r.value?.toString())).toEqual(['all', 'one', 'zero', 'zero2'])
    const batches = (await fetchBatches(conn, topic.name, 0)).batches
    // Idempotence is on by default with acks all, off with acks 0/1 (as the Java client).
    expect(batches.map((b) => b.producerId >= 0n)).toEqual([true, false, false])
    expect(() => open({ acks: 1, idempotent: true })).toThrow(/acks 'all'/)
  })

  test.skipIf(java === null)(
    "keyed records land on the partition Kafka's Java producer chooses, and murmur2 matches Utils.murmur2",
    async () => {
      const keys: Uint8Array[] = [
        Buffer.alloc(0),
        ...Array.from({ length: 150 }, (_, i) => Buffer.from(`user-${i}`)),
        ...Array.from({ length: 50 }, (_, i) => Buffer.from(`ключ ${i} ✓`)),
        ...Array.from({ length: 50 }, (_, i) => randomBytes(1 + (i % 37))),
      ]
      const partitions = 7
      const [forJava, forUs] = await Promise.all([
        createTopic(conn, { prefix: 'java-keys', partitions }),
        createTopic(conn, { prefix: 'skiff-keys', partitions }),
      ])
      const javaHashes = java!.murmur2(keys)
      const { murmur2 } = await import('../../src/client/producer/partitioners.js')
      for (const k of keys)
        expect(murmur2(k), Buffer.from(k).toString('hex')).toBe(javaHashes.get(Buffer.from(k).toString('hex')))
      const javaPlaced = java!.produce(bootstrap, forJava.name, keys)
      expect(javaPlaced.size).toBe(new Set(keys.map((k) => Buffer.from(k).toString('hex'))).size)
      const p = open()
      const sent = await p.send({ topic: forUs.name, messages: keys.map((k) => ({ key: Buffer.from(k), value: 'v' })) })
      const mismatches = keys.filter((k, i) => sent[i]!.partition !== javaPlaced.get(Buffer.from(k).toString('hex')))
      expect(mismatches.map((k) => Buffer.from(k).toString('hex'))).toEqual([])
      expect(new Set(sent.map((r) => r.partition)).size).toBe(partitions)
    },
  )

  test('records without a key stick to one partition per batch and move on after about batchBytes (KIP-794)', async () => {
    const topic = await createTopic(conn, { prefix: 'sticky', partitions: 6 })
    const small = await open().send({
      topic: topic.name,
      messages: Array.from({ length: 200 }, (_, i) => ({ value: `v${i}` })),
    })
    expect(new Set(small.map((r) => r.partition)).size).toBe(1)
    // 400 records of ~1 KB with batchBytes 4 KiB: runs of a few records per partition, spread over the topic.
    const p = open({ batchBytes: 4096, lingerMs: 50 })
    const sent = await p.send({
      topic: topic.name,
      messages: Array.from({ length: 400 }, () => ({ value: Buffer.alloc(1000, 'x') })),
    })
    let switches = 0
    for (let i = 1; i < sent.length; i++) if (sent[i]!.partition !== sent[i - 1]!.partition) switches++
    expect(switches).toBeGreaterThan(40)
    expect(switches).toBeLessThan(200)
    expect(new Set(sent.map((r) => r.partition)).size).toBe(6)
  })

  test('a full buffer makes send wait, up to maxBlockMs (then BufferFullError) or until aborted, and resume when room comes', async () => {
    const topic = await createTopic(conn, { prefix: 'buffer' })
    // Records linger for a minute and batches are large: nothing leaves until flush, so the buffer fills.
    const p = open({ bufferBytes: 64 * 1024, lingerMs: 60_000, maxBlockMs: 400 })
    const value = Buffer.alloc(1000, 'b')
    const c = collector()
    let accepted = 0
    while (p.produce({ topic: topic.name, value }, c.callback(accepted))) accepted++
    expect(accepted).toBeGreaterThan(50)
    expect(p.stats().bufferWaiters).toBe(1)
    const t0 = Date.now()
    await expect(p.send({ topic: topic.name, messages: [{ value }] })).rejects.toBeInstanceOf(BufferFullError)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350)
    // The produce() that went over the limit timed out the same way, through its callback.
    await c.wait(1)
    expect(c.results[0]!.err).toBeInstanceOf(BufferFullError)
    expect(c.results[0]!.i).toBe(accepted)

    const ac = new AbortController()
    const aborted = p.send({ topic: topic.name, messages: [{ value }] }, { signal: ac.signal })
    ac.abort()
    await expect(aborted).rejects.toBeInstanceOf(AbortedError)

    // A send that waits goes through once the buffered records are acknowledged.
    const waiting = p.send({ topic: topic.name, messages: [{ value: 'late' }] })
    await p.flush()
    const [late] = await waiting
    expect(late!.offset).toBe(accepted)
    await c.wait(accepted + 1)
    expect(c.results.filter((r) => r.err === null)).toHaveLength(accepted)
  })

  test('a record that cannot be acknowledged within deliveryTimeoutMs fails with DeliveryTimeoutError carrying the last broker error', async () => {
    const topic = await createTopic(conn, { prefix: 'delivery-timeout' })
    const p = open({ deliveryTimeoutMs: 1500, retryBackoffMs: 50, retryBackoffMaxMs: 200 })
    await p.send({ topic: topic.name, messages: [{ value: 'first' }] })
    // The topic goes away under the producer: its cached leader refuses the records (retriable), then the metadata
    // has no leader at all, until the delivery timeout.
    await deleteTopic(topic.name)
    const t0 = Date.now()
    const err = await p.send({ topic: topic.name, messages: [{ value: 'x' }] }).catch((e) => e)
    const elapsed = Date.now() - t0
    expect(err).toBeInstanceOf(DeliveryTimeoutError)
    expect(err.message).toContain(`${topic.name}[0]`)
    expect(err.cause).toBeInstanceOf(KafkaError)
    expect(['UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_ID']).toContain(err.cause.errorName)
    expect(err.attempts).toBeGreaterThanOrEqual(1)
    expect(elapsed).toBeGreaterThanOrEqual(1400)
    expect(elapsed).toBeLessThan(5000)
    const stats = p.stats()
    expect(stats.retries).toBeGreaterThanOrEqual(1)
    expect(stats.metadataRefreshes).toBeGreaterThanOrEqual(1)
    expect(stats.bufferedBytes).toBe(0)
  })

  test('MESSAGE_TOO_LARGE fails only the record over the broker limit; records before and after it in the partition are written', async () => {
    const topic = await createTopic(conn, { prefix: 'too-large' })
    const p = open()
    const c = collector()
    const big = Buffer.alloc(1_500_000, 'L')
    for (let i = 0; i < 5; i++) p.produce({ topic: topic.name, value: `before-${i}` }, c.callback(i))
    p.produce({ topic: topic.name, value: big }, c.callback(5))
    for (let i = 6; i < 11; i++) p.produce({ topic: topic.name, value: `after-${i}` }, c.callback(i))
    await c.wait(11)
    const failed = c.results.filter((r) => r.err)
    expect(failed.map((r) => r.i)).toEqual([5])
    const err = failed[0]!.err as KafkaError
    expect(err).toBeInstanceOf(KafkaError)
    expect(err.errorName).toBe('MESSAGE_TOO_LARGE')
    expect(err.message).toContain(`${topic.name}[0]`)
    const ok = c.results.filter((r) => !r.err).sort((a, b) => a.i - b.i)
    expect(ok.map((r) => r.meta!.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    const values = (await fetchRecords(conn, topic.name, 0)).map((r) => r.value?.toString())
    expect(values).toEqual([0, 1, 2, 3, 4, 6, 7, 8, 9, 10].map((i) => (i < 5 ? `before-${i}` : `after-${i}`)))
    // The producer carries on on that partition.
    expect((await p.send({ topic: topic.name, messages: [{ value: 'next' }] }))[0]!.offset).toBe(10)
  })

  test('a batch over the topic max.message.bytes is split until only the record too large on its own fails', async () => {
    const topic = await createTopic(conn, {
      prefix: 'split',
      configs: [{ name: 'max.message.bytes', value: '3000' }],
    })
    const p = open({ compression: 'lz4', lingerMs: 50 })
    const c = collector()
    // Random (incompressible) values: 20 × 600 bytes in one batch, and one 5000-byte record in the middle.
    const values = Array.from({ length: 21 }, (_, i) => randomBytes(i === 10 ? 5000 : 600).toString('base64'))
    for (const [i, value] of values.entries()) p.produce({ topic: topic.name, value }, c.callback(i))
    await c.wait(21)
    expect(c.results.filter((r) => r.err).map((r) => [r.i, (r.err as KafkaError).errorName])).toEqual([
      [10, 'MESSAGE_TOO_LARGE'],
    ])
    const ok = c.results.filter((r) => !r.err).sort((a, b) => a.i - b.i)
    expect(ok.map((r) => r.meta!.offset)).toEqual(ok.map((_, k) => k))
    const read = kcatAvailable() ? kcatConsume(bootstrap, topic.name, 0).map((m) => m.payload) : undefined
    if (read) expect(read).toEqual(values.filter((_, i) => i !== 10))
    expect(p.stats().splits).toBeGreaterThanOrEqual(3)
  })

  test('records refused before sending: larger than maxRequestBytes, or for a topic that never appears', async () => {
    const p = open({ maxRequestBytes: 2048, maxBlockMs: 500 })
    const topic = await createTopic(conn, { prefix: 'refused' })
    const err = await p.send({ topic: topic.name, messages: [{ value: Buffer.alloc(4096) }] }).catch((e) => e)
    expect(err).toBeInstanceOf(RecordTooLargeToSendError)
    expect(err.limitName).toBe('maxRequestBytes')
    const t0 = Date.now()
    const missing = await p.send({ topic: `${topic.name}-missing`, messages: [{ value: 'x' }] }).catch((e) => e)
    expect(missing).toBeInstanceOf(MetadataTimeoutError)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450)
    const badPartition = await p.send({ topic: topic.name, messages: [{ value: 'x', partition: 5 }] }).catch((e) => e)
    expect(badPartition).toBeInstanceOf(KafkaError)
    expect(badPartition.errorName).toBe('UNKNOWN_TOPIC_OR_PARTITION')
    expect(p.stats().bufferedBytes).toBe(0)
  })

  test('close() sends what is buffered, then refuses new records; what cannot be delivered in time fails with ProducerClosedError', async () => {
    const topic = await createTopic(conn, { prefix: 'close' })
    const p = open({ lingerMs: 60_000 })
    const c = collector()
    for (let i = 0; i < 100; i++) p.produce({ topic: topic.name, value: `r${i}` }, c.callback(i))
    await p.close()
    expect(c.results).toHaveLength(100)
    expect(c.results.filter((r) => r.err)).toEqual([])
    expect(() => p.produce({ topic: topic.name, value: 'x' })).toThrow(ProducerClosedError)
    await expect(p.send({ topic: topic.name, messages: [{ value: 'x' }] })).rejects.toBeInstanceOf(ProducerClosedError)
    expect((await listOffset(conn, topic.name, 0, -1n)).offset).toBe(100n)

    const stuck = await createTopic(conn, { prefix: 'close-stuck' })
    const q = open({ retryBackoffMs: 20 })
    await q.send({ topic: stuck.name, messages: [{ value: 'first' }] })
    await deleteTopic(stuck.name)
    const d = collector()
    for (let i = 0; i < 10; i++) q.produce({ topic: stuck.name, value: `s${i}` }, d.callback(i))
    const t0 = Date.now()
    await q.close({ timeoutMs: 500 })
    expect(Date.now() - t0).toBeLessThan(3000)
    expect(d.results).toHaveLength(10)
    expect(d.results.every((r) => r.err instanceof ProducerClosedError)).toBe(true)
    expect(q.stats().bufferedBytes).toBe(0)
  })

  test('producers can share one Cluster (connections and metadata); closing a producer leaves a shared cluster open', async () => {
    const topic = await createTopic(conn, { prefix: 'shared' })
    const cluster = new Cluster({ bootstrap, clientId: 'skiff-shared' })
    try {
      const a = new Producer({ cluster })
      const b = new Producer({ cluster, acks: 1 })
      await Promise.all([
        a.send({ topic: topic.name, messages: [{ value: 'a' }] }),
        b.send({ topic: topic.name, messages: [{ value: 'b' }] }),
      ])
      await a.close()
      expect(cluster.isClosed).toBe(false)
      await b.send({ topic: topic.name, messages: [{ value: 'b2' }] })
      await b.close()
      expect(cluster.pool.openConnections().filter((c) => c.endsWith('/produce'))).toHaveLength(1)
      expect((await listOffset(conn, topic.name, 0, -1n)).offset).toBe(3n)
    } finally {
      await cluster.close()
    }
  })

  test('stream(): an object-mode Writable delivers a pipeline of records and finishes once all are acknowledged', async () => {
    const topic = await createTopic(conn, { prefix: 'stream', partitions: 2 })
    const p = open({ bufferBytes: 16 * 1024 })
    const n = 3000
    await pipeline(
      Readable.from(
        Array.from({ length: n }, (_, i) => ({ key: `k${i % 10}`, value: `stream-${i}-${'.'.repeat(40)}` })),
      ),
      p.stream({ topic: topic.name }),
    )
    const total =
      (await listOffset(conn, topic.name, 0, -1n)).offset + (await listOffset(conn, topic.name, 1, -1n)).offset
    expect(total).toBe(BigInt(n))
    expect(p.stats().bufferedBytes).toBe(0)
  })

  test('OUT_OF_ORDER_SEQUENCE_NUMBER for the next expected batch (the broker saw other writes under our id) is resolved by a new epoch (KIP-360)', async () => {
    const topic = await createTopic(conn, { prefix: 'out-of-order' })
    const p = open({ lingerMs: 0 })
    await p.send({ topic: topic.name, messages: [{ value: 'p-0' }, { value: 'p-1' }] })
    const { producerId, producerEpoch } = p.producerIdentity
    // Someone else writes 5 records with our producer id, taking sequences 2-6: the broker now expects 7, and the
    // producer's next batch (sequence 2) cannot be a retry either, as no batch 2-2 was ever written.
    const injected = await produce(
      conn,
      topic,
      0,
      batch(sampleRecords(5, 'other'), { producerId, producerEpoch, baseSequence: 2 }),
    )
    expect(errName(injected.errorCode)).toBe('NONE')
    const [r] = await p.send({ topic: topic.name, messages: [{ value: 'p-2' }] })
    expect(r!.offset).toBe(7)
    expect(p.stats()).toMatchObject({ epochBumps: 1, errors: { OUT_OF_ORDER_SEQUENCE_NUMBER: 1 } })
    expect(p.producerIdentity).toEqual({ producerId, producerEpoch: producerEpoch + 1 })
    const { batches } = await fetchBatches(conn, topic.name, 0)
    expect(batches.map((b) => [b.baseOffset, b.producerEpoch, b.baseSequence])).toEqual([
      [0, producerEpoch, 0],
      [2, producerEpoch, 2],
      [7, producerEpoch + 1, 0],
    ])
    // And it carries on under the new epoch.
    expect((await p.send({ topic: topic.name, messages: [{ value: 'p-3' }] }))[0]!.offset).toBe(8)
  })

  test('the idempotent producer gets a producer id and numbers its batches; the partition leader tracks it', async () => {
    const topic = await createTopic(conn, { prefix: 'idempotent' })
    const p = open({ lingerMs: 0 })
    for (let i = 0; i < 5; i++) await p.send({ topic: topic.name, messages: [{ value: `a${i}` }, { value: `b${i}` }] })
    const { producerId, producerEpoch } = p.producerIdentity
    expect(producerId).toBeGreaterThanOrEqual(0n)
    const { batches } = await fetchBatches(conn, topic.name, 0)
    expect(batches.map((b) => [b.producerId, b.producerEpoch, b.baseSequence])).toEqual(
      batches.map((_, i) => [producerId, producerEpoch, i * 2]),
    )
    const described = await conn.request(DescribeProducers, { topics: [{ name: topic.name, partitionIndexes: [0] }] })
    const state = described.topics[0]!.partitions[0]!
    expect(errName(state.errorCode)).toBe('NONE')
    expect(state.activeProducers).toEqual([expect.objectContaining({ producerId, producerEpoch, lastSequence: 9 })])
  })
})
