/**
 * The README's streaming example (`npm run example:stream`): a stream with three lanes on a local Kafka.
 *
 * 1. A bulk re-import of 20,000 orders is written to the batch lane, then live orders arrive on the realtime lane
 *    (one every 10 ms), one of them poisoned.
 * 2. A lane-aware StreamProcessor handles both: live orders first, the re-import with the capacity left over; the
 *    poisoned order goes to the dlq lane with headers saying why.
 * 3. `lag()` shows where the group stands, in records and in wall-clock time.
 *
 * Uses a broker at SKIFF_BOOTSTRAP when set, else starts one with the test harness (`skiff/testing`).
 */
import {
  Admin,
  type ConsumerRecord,
  LaneProducer,
  lag,
  laneOf,
  Producer,
  StreamProcessor,
  streamLanes,
} from '../src/index.js'
import { startKafka } from '../src/testing/index.js'

const out = (s = '') => process.stdout.write(`${s}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const kafka = process.env.SKIFF_BOOTSTRAP ? undefined : await startKafka({ brokers: 1 })
const bootstrap = process.env.SKIFF_BOOTSTRAP ?? kafka!.bootstrap
const stream = `orders-${Date.now().toString(36)}`
const lanes = streamLanes(stream) // { realtime: stream, batch: `${stream}.batch`, dlq: `${stream}.dlq` }
try {
  const admin = new Admin({ bootstrap })
  for (const c of await admin.createTopics(Object.values(lanes).map((name) => ({ name, partitions: 2 }))))
    if (c.error) throw c.error
  await admin.close()

  const producer = new Producer({ bootstrap, lingerMs: 5 })
  const orders = new LaneProducer(producer, lanes)
  const reimport = Array.from({ length: 20_000 }, (_, i) => ({
    key: `customer-${i % 500}`,
    value: JSON.stringify({ order: i, total: (i % 97) + 0.5, imported: true }),
  }))
  await orders.send('batch', reimport)
  out(`${reimport.length} orders written to the batch lane (${lanes.batch})`)

  const latencies: number[] = []
  const handled = { realtime: 0, batch: 0 }
  const processor = new StreamProcessor({
    consumer: { client: { bootstrap }, groupId: `${stream}-billing`, resetPolicy: 'earliest', maxWaitMs: 100 },
    lanes, // reads realtime first, batch with the spare capacity; failures go to the dlq lane
    ordering: 'key',
    concurrency: 32,
    retries: 2,
    retryBackoffMs: 10,
    commitIntervalMs: 500,
    deserialize: (record) => JSON.parse(String(record.value)) as { order: number; total: number; poison?: boolean },
    handler: async (record: ConsumerRecord, { value }) => {
      const order = value as { order: number; poison?: boolean }
      if (order.poison) throw new Error(`order ${order.order} cannot be billed`)
      await sleep(1 + Math.random()) // the work: a call to the billing service
      const lane = laneOf(lanes, record.topic) as 'realtime' | 'batch'
      handled[lane]++
      if (lane === 'realtime') latencies.push(Date.now() - record.timestamp)
    },
  })
  const deadLetters: string[] = []
  processor.on('dead-letter', (c) => deadLetters.push(`${c.topic}[${c.partition}]@${c.offset} → ${c.dlqTopic}`))
  const running = processor.run()
  // Live orders start once the processor is in its group and busy with the re-import.
  const joined = Date.now() + 30_000
  while (handled.batch === 0 && Date.now() < joined) await sleep(20)

  for (let i = 0; i < 200; i++) {
    const order = { order: 100_000 + i, total: 12.5, ...(i === 100 ? { poison: true } : {}) }
    await orders.send('realtime', [{ key: `customer-${i % 50}`, value: JSON.stringify(order) }])
    await sleep(10)
  }
  const deadline = Date.now() + 60_000
  while ((handled.batch < reimport.length || handled.realtime < 199) && Date.now() < deadline) await sleep(50)
  await processor.close()
  await running
  await producer.close()

  latencies.sort((a, b) => a - b)
  const p99 = latencies[Math.floor(latencies.length * 0.99)]
  out(`handled: ${handled.realtime} live orders (p99 ${p99} ms from produce to billed), ${handled.batch} re-imported`)
  out(`dead-lettered: ${deadLetters.join(', ')}`)

  const l = await lag(`${stream}-billing`, { bootstrap })
  out(`lag of ${l.group}: ${l.totalLag} records, oldest unprocessed ${l.maxTimeLagMs ?? 0} ms old`)
  for (const p of l.partitions) out(`  ${p.topic}[${p.partition}] committed ${p.committed} of ${p.end}, lag ${p.lag}`)
  if (handled.realtime !== 199 || handled.batch !== reimport.length || deadLetters.length !== 1 || l.totalLag !== 0)
    throw new Error('the example did not finish as expected')
} finally {
  await kafka?.stop()
}
