import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Admin } from '../../src/client/admin/index.js'
import type { Connection } from '../../src/client/connection.js'
import { Consumer, type ConsumerRecord } from '../../src/client/consumer/index.js'
import { Producer } from '../../src/client/producer/index.js'
import { Produce } from '../../src/protocol/apis/produce.js'
import { errorByCode } from '../../src/protocol/error-codes.js'
import { type DeadLetterCopy, DLQ_HEADERS } from '../../src/stream/dead-letter.js'
import { StreamProcessor } from '../../src/stream/processor.js'
import { MiB } from '../helpers/bomb-scenario.js'
import { bombBatch, recordCount } from '../helpers/bombs.js'
import { connectTestBroker, testKafka, uniqueTopic } from '../helpers/kafka.js'
import { createTopic, type TestTopic } from '../helpers/protocol.js'
import { committedProgress } from '../helpers/stream.js'

/**
 * The dead-letter lane of the stream processor against a real broker: a record whose handler always fails, one
 * that cannot be deserialised, and a zstd bomb (64 MiB of zeros in a few KB, over an 8 MiB decompression limit)
 * each end up in `<topic>.dlq` with headers saying where they came from and why; everything else is handled, and
 * the group's commit ends past all of it.
 */
describe(`the dead-letter lane (Kafka ${testKafka().version})`, () => {
  const bootstrap = testKafka().bootstrap
  const limit = 8 * MiB
  const plan = { totalBytes: 64 * MiB, valueBytes: MiB - 64 }
  const bomb = bombBatch('zstd', plan)
  let conn: Connection
  let topic: TestTopic
  let bombAt: { baseOffset: number; lastOffset: number }
  let end: number
  const admin = new Admin({ bootstrap })

  beforeAll(async () => {
    conn = await connectTestBroker()
    const configs = [
      // Keep the bomb as written: the broker would otherwise recompress (and materialise) it.
      { name: 'compression.type', value: 'producer' },
      { name: 'max.message.bytes', value: String(bomb.length + MiB) },
    ]
    topic = await createTopic(conn, { prefix: 'dlq', configs })
    const [dlq] = await admin.createTopics([
      { name: `${topic.name}.dlq`, partitions: 1, configs: { 'max.message.bytes': String(bomb.length + MiB) } },
    ])
    if (dlq!.error) throw dlq!.error
    const producer = new Producer({ bootstrap, compression: 'lz4' })
    const values = (tag: string) =>
      Array.from({ length: 10 }, (_, i) => ({
        key: `${tag}-${i}`,
        value:
          tag === 'before' && i === 3
            ? JSON.stringify({ poison: true })
            : tag === 'after' && i === 6
              ? 'not json {'
              : JSON.stringify({ tag, i }),
        headers: { origin: `${tag}-${i}` },
      }))
    try {
      await producer.send({ topic: topic.name, messages: values('before') })
      for (let attempt = 0; ; attempt++) {
        const res = await conn.request(Produce, {
          acks: -1,
          timeoutMs: 30_000,
          topicData: [{ name: topic.name, topicId: topic.topicId, partitionData: [{ index: 0, records: bomb }] }],
        })
        const p = res.responses[0]!.partitionResponses[0]!
        if (errorByCode(p.errorCode).retriable && attempt < 50) {
          await sleep(100)
          continue
        }
        expect(p.errorCode, p.errorMessage ?? '').toBe(0)
        const baseOffset = Number(p.baseOffset)
        bombAt = { baseOffset, lastOffset: baseOffset + recordCount(plan) - 1 }
        break
      }
      await producer.send({ topic: topic.name, messages: values('after') })
    } finally {
      await producer.close()
    }
    end = bombAt.lastOffset + 11
  })
  afterAll(async () => {
    await conn?.close()
    await admin.close()
  })

  test('a poisoned record, an undeserialisable one and a zstd bomb go to <topic>.dlq with their headers; the rest flows', async () => {
    const groupId = uniqueTopic('dlq-group')
    const handled: string[] = []
    const copies: DeadLetterCopy[] = []
    const p = new StreamProcessor({
      consumer: {
        client: { bootstrap },
        groupId,
        resetPolicy: 'earliest',
        maxWaitMs: 100,
        decompression: { maxBatchDecompressedBytes: limit },
      },
      topics: [topic.name],
      commitIntervalMs: 100,
      retries: 2,
      retryBackoffMs: 10,
      deserialize: (r) => JSON.parse(r.value!.toString()),
      handler: (r, { value }) => {
        if ((value as { poison?: boolean }).poison) throw new TypeError('cannot bill a poisoned order')
        handled.push(r.key!.toString())
      },
      deadLetter: {},
    })
    p.on('dead-letter', (c: DeadLetterCopy) => copies.push(c))
    const running = p.run()
    const deadline = Date.now() + 60_000
    while ((handled.length < 18 || copies.length < 3) && Date.now() < deadline) await sleep(20)
    await p.close()
    await running
    expect(handled.sort()).toEqual(
      [...Array.from({ length: 10 }, (_, i) => `before-${i}`), ...Array.from({ length: 10 }, (_, i) => `after-${i}`)]
        .filter((k) => k !== 'before-3' && k !== 'after-6')
        .sort(),
    )
    expect(p.stats()).toMatchObject({ deadLettered: 3, handled: 18, failures: 3 })
    expect(copies.map((c) => [c.reason, c.offset, c.lastOffset]).sort()).toEqual(
      [
        ['batch', bombAt.baseOffset, bombAt.lastOffset],
        ['deserialize', bombAt.lastOffset + 7, bombAt.lastOffset + 7],
        ['handler', 3, 3],
      ].sort(),
    )
    // Everything, the bomb included, is done: the commit is at the end with nothing left above it.
    const progress = await committedProgress(bootstrap, groupId, topic.name)
    expect(progress.get(0)).toMatchObject({ offset: end, ranges: 0 })

    // The lane itself, read back with a plain consumer.
    const reader = new Consumer({ client: { bootstrap }, maxWaitMs: 100 })
    const lane: ConsumerRecord[] = []
    try {
      await reader.assign([{ topic: `${topic.name}.dlq`, partition: 0, offset: 'earliest' }])
      for await (const r of reader) {
        lane.push(r)
        if (lane.length === 3) break
      }
    } finally {
      await reader.close()
    }
    const headersOf = (r: ConsumerRecord) =>
      Object.fromEntries(r.headers.map((h) => [h.key, h.value?.toString() ?? null])) as Record<string, string>
    const byReason = new Map(lane.map((r) => [headersOf(r)[DLQ_HEADERS.reason], r]))

    const poisoned = byReason.get('handler')!
    expect(poisoned.key?.toString()).toBe('before-3')
    expect(poisoned.value?.toString()).toBe(JSON.stringify({ poison: true }))
    expect(headersOf(poisoned)).toMatchObject({
      origin: 'before-3',
      [DLQ_HEADERS.topic]: topic.name,
      [DLQ_HEADERS.partition]: '0',
      [DLQ_HEADERS.offset]: '3',
      [DLQ_HEADERS.attempts]: '3',
      [DLQ_HEADERS.errorClass]: 'HandlerFailedError',
    })
    expect(Number(headersOf(poisoned)[DLQ_HEADERS.timestamp])).toBeGreaterThan(Date.now() - 120_000)
    expect(headersOf(poisoned)[DLQ_HEADERS.errorMessage]).toContain('TypeError: cannot bill a poisoned order')

    const garbled = byReason.get('deserialize')!
    expect(garbled.value?.toString()).toBe('not json {')
    expect(headersOf(garbled)).toMatchObject({
      [DLQ_HEADERS.topic]: topic.name,
      [DLQ_HEADERS.offset]: String(bombAt.lastOffset + 7),
      [DLQ_HEADERS.errorClass]: 'DeserializationError',
    })
    expect(headersOf(garbled)[DLQ_HEADERS.errorMessage]).toContain('SyntaxError')

    // The bomb travels as it was fetched: still compressed, its bytes from the attributes on as written.
    const batch = byReason.get('batch')!
    expect(batch.key).toBeNull()
    expect(batch.value!.length).toBe(bomb.length)
    expect(batch.value!.subarray(21).equals(bomb.subarray(21))).toBe(true)
    expect(batch.value!.readBigInt64BE(0)).toBe(BigInt(bombAt.baseOffset))
    expect(headersOf(batch)).toEqual({
      [DLQ_HEADERS.reason]: 'batch',
      [DLQ_HEADERS.topic]: topic.name,
      [DLQ_HEADERS.partition]: '0',
      [DLQ_HEADERS.baseOffset]: String(bombAt.baseOffset),
      [DLQ_HEADERS.lastOffset]: String(bombAt.lastOffset),
      [DLQ_HEADERS.codec]: 'zstd',
      [DLQ_HEADERS.limitBytes]: String(limit),
      [DLQ_HEADERS.errorClass]: 'DecompressionBudgetExceededError',
      [DLQ_HEADERS.errorMessage]: expect.stringContaining('expands past maxBatchDecompressedBytes'),
    })
    console.log(
      `dlq: ${handled.length} handled, ${lane.length} copies (bomb ${bomb.length} bytes compressed, ${plan.totalBytes / MiB} MiB of records), committed ${progress.get(0)!.offset}`,
    )
  })

  test('a dead-letter copy that cannot be written stops the processor with the record unfinished: the commit stays below it', async () => {
    const source = uniqueTopic('dlq-src')
    const [created] = await admin.createTopics([{ name: source, partitions: 1 }])
    if (created!.error) throw created!.error
    const producer = new Producer({ bootstrap })
    await producer.send({
      topic: source,
      messages: Array.from({ length: 10 }, (_, i) => ({ value: i === 3 ? 'poison' : `ok ${i}` })),
    })
    await producer.close()
    const groupId = uniqueTopic('dlq-group')
    const handled: number[] = []
    const p = new StreamProcessor({
      consumer: { client: { bootstrap }, groupId, resetPolicy: 'earliest', maxWaitMs: 100 },
      topics: [source],
      commitIntervalMs: 100,
      retries: 1,
      retryBackoffMs: 10,
      handler: (r) => {
        if (r.value?.toString() === 'poison') throw new Error('poison')
        handled.push(r.offset)
      },
      // Not a legal topic name: the broker refuses the copy.
      deadLetter: { topic: 'no such lane!', producer: { bootstrap, maxBlockMs: 3000, deliveryTimeoutMs: 3000 } },
    })
    const started = Date.now()
    const outcome = await p.run().then(
      () => 'resolved',
      (err: Error) => err.name,
    )
    console.log(`dlq refused: run() settled as ${outcome} after ${Date.now() - started} ms`)
    expect(outcome).not.toBe('resolved')
    expect(p.stats().deadLettered).toBe(0)
    expect(handled).toEqual([0, 1, 2])
    const progress = await committedProgress(bootstrap, groupId, source)
    expect(progress.get(0)?.offset).toBe(3)
  })
})
