import { describe, expect, test } from 'vitest'
import { Admin } from '../../src/client/admin/index.js'
import { Consumer, type ConsumerRecord } from '../../src/client/consumer/index.js'
import { DLQ_HEADERS } from '../../src/stream/dead-letter.js'
import { laneOf, streamLanes } from '../../src/stream/lanes.js'
import { StreamProcessor } from '../../src/stream/processor.js'
import { StreamResolver } from '../../src/stream/resolver.js'
import { StreamProducer } from '../../src/stream/stream-producer.js'
import { testKafka, uniqueTopic } from '../helpers/kafka.js'
import { expectRealtimeUnharmed, runLanesScenario } from '../helpers/lanes-scenario.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe(`lanes (Kafka ${testKafka().version})`, () => {
  const bootstrap = testKafka().bootstrap

  test('a producer picks the lane per send; a lane-aware processor reads realtime and batch, and what fails goes to the dlq lane', async () => {
    const name = uniqueTopic('orders')
    const lanes = streamLanes(name)
    const admin = new Admin({ bootstrap })
    try {
      for (const c of await admin.createTopics(Object.values(lanes).map((t) => ({ name: t, partitions: 1 }))))
        if (c.error) throw c.error
    } finally {
      await admin.close()
    }
    const resolver = StreamResolver.fromMap({ orders: { bootstrap, topic: name } })
    const producer = new StreamProducer({ resolver })
    const sent = await Promise.all([
      producer.send('orders', [{ key: 'r1', value: 'live 1' }]),
      producer.send(
        'orders',
        [
          { key: 'b1', value: 'bulk 1' },
          { key: 'b2', value: 'poison' },
        ],
        { lane: 'batch' },
      ),
      producer.send('orders', [{ key: 'r2', value: 'live 2' }], { lane: 'realtime' }),
    ])
    await producer.close()
    expect(sent.map((s) => s.primary.map((m) => m.topic))).toEqual([[name], [lanes.batch, lanes.batch], [name]])

    const handled: string[] = []
    const p = new StreamProcessor({
      consumer: { client: { bootstrap }, groupId: uniqueTopic('group'), resetPolicy: 'earliest', maxWaitMs: 50 },
      lanes,
      retries: 1,
      retryBackoffMs: 5,
      commitIntervalMs: 100,
      handler: (r) => {
        if (r.value!.toString() === 'poison') throw new Error('cannot bill it')
        handled.push(`${laneOf(lanes, r.topic)}:${r.key}`)
      },
    })
    const running = p.run()
    const deadline = Date.now() + 30_000
    while ((handled.length < 3 || p.stats().deadLettered < 1) && Date.now() < deadline) await sleep(20)
    await p.close()
    await running
    expect(handled.sort()).toEqual(['batch:b1', 'realtime:r1', 'realtime:r2'])

    const reader = new Consumer({ client: { bootstrap }, maxWaitMs: 50 })
    const copies: ConsumerRecord[] = []
    try {
      await reader.assign([{ topic: lanes.dlq, partition: 0, offset: 'earliest' }])
      for await (const r of reader) {
        copies.push(r)
        break
      }
    } finally {
      await reader.close()
    }
    const headers = Object.fromEntries(copies[0]!.headers.map((h) => [h.key, h.value?.toString()]))
    expect(copies[0]!.value!.toString()).toBe('poison')
    expect(headers).toMatchObject({
      [DLQ_HEADERS.reason]: 'handler',
      [DLQ_HEADERS.topic]: lanes.batch,
      [DLQ_HEADERS.offset]: '1',
      [DLQ_HEADERS.errorMessage]: expect.stringContaining('cannot bill it'),
    })
  })

  test('a batch-lane backfill of 100k records does not raise realtime p99 beyond the bound (the heavy suite: 1M, and a control without lanes)', async () => {
    const r = await runLanesScenario({ bootstrap, batchRecords: 100_000, timeoutMs: 90_000 })
    process.stderr.write(`[stream] lanes, 100k batch records: ${JSON.stringify(r)}\n`)
    expectRealtimeUnharmed(r, 100_000, 300)
  })
})
