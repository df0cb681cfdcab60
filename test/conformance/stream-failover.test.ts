import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Admin } from '../../src/client/admin/index.js'
import { Consumer } from '../../src/client/consumer/index.js'
import { Producer } from '../../src/client/producer/index.js'
import { publishStreamTarget, StreamResolver, type StreamTarget } from '../../src/stream/resolver.js'
import { StreamConsumer } from '../../src/stream/stream-consumer.js'
import { StreamProducer } from '../../src/stream/stream-producer.js'
import { type KafkaCluster, startKafka } from '../../src/testing/index.js'
import { testKafka, uniqueTopic } from '../helpers/kafka.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** A ~100-byte value carrying the record's id. */
const value = (id: number) => `${String(id).padStart(8, '0')}:${'x'.repeat(91)}`
const idOf = (v: Buffer | null) => Number(v!.toString().slice(0, 8))

describe(`logical streams with live failover between two clusters (Kafka ${testKafka().version})`, () => {
  const shared = testKafka().bootstrap
  let extra: KafkaCluster
  const admins: Admin[] = []

  beforeAll(async () => {
    extra = await startKafka({ version: testKafka().version, brokers: 1 })
  })
  afterAll(async () => {
    for (const a of admins) await a.close().catch(() => {})
    await extra?.stop()
  })

  async function topicOn(bootstrap: string, prefix: string, partitions = 3, configs?: Record<string, string>) {
    const admin = new Admin({ bootstrap })
    admins.push(admin)
    const name = uniqueTopic(prefix)
    const [created] = await admin.createTopics([{ name, partitions, configs }])
    if (created!.error) throw created!.error
    return name
  }

  test('a stream switched to another cluster during a 100k-record produce/consume delivers every record once', async () => {
    const total = 100_000
    const from: StreamTarget = { bootstrap: shared, topic: await topicOn(shared, 'failover-a') }
    const to: StreamTarget = { bootstrap: extra.bootstrap, topic: await topicOn(extra.bootstrap, 'failover-b') }
    const resolver = StreamResolver.fromMap({ orders: from })
    const producer = new StreamProducer({ resolver, producer: { lingerMs: 5 } })
    const groupId = uniqueTopic('failover-group')
    const consumer = new StreamConsumer({
      resolver,
      stream: 'orders',
      groupId,
      drainGraceMs: 500,
    })
    const seen = new Uint8Array(total)
    let delivered = 0
    let duplicates = 0
    const perTarget = new Map<string, number>()
    const reading = (async () => {
      for await (const { target, record } of consumer) {
        const id = idOf(record.value)
        if (seen[id]) duplicates++
        seen[id] = 1
        delivered++
        perTarget.set(target.topic, (perTarget.get(target.topic) ?? 0) + 1)
        if (delivered - duplicates === total) break
      }
    })()

    const batch = 500
    const started = Date.now()
    let acked = 0
    const inflight: Promise<unknown>[] = []
    for (let i = 0; i < total; i += batch) {
      if (i === total / 2) resolver.update('orders', to) // while sends are in flight and the consumer reads
      const messages = Array.from({ length: batch }, (_, j) => ({ key: `k${(i + j) % 97}`, value: value(i + j) }))
      inflight.push(producer.send('orders', messages).then(() => (acked += batch)))
      if (inflight.length >= 20) await inflight.shift()
    }
    await Promise.all(inflight)
    await producer.close()
    const timeout = sleep(40_000).then(() => consumer.close())
    await Promise.race([reading, timeout])
    consumer.close()
    await reading
    const elapsed = Date.now() - started
    console.log(
      `failover: ${acked} acknowledged, ${delivered} delivered (${duplicates} duplicates), per topic ` +
        `${JSON.stringify(Object.fromEntries(perTarget))}, ${consumer.switches} switch, ${elapsed} ms`,
    )
    expect(acked).toBe(total)
    expect(duplicates).toBe(0)
    expect(delivered).toBe(total)
    expect(consumer.switches).toBe(1)
    expect(perTarget.get(from.topic)).toBeGreaterThan(0)
    expect(perTarget.get(to.topic)).toBeGreaterThan(0)
    // The old topic was committed to its end before the consumer moved on.
    const oldAdmin = admins[0]!
    const ends = await oldAdmin.listOffsets(
      [0, 1, 2].map((partition) => ({ topic: from.topic, partition, spec: 'latest' as const })),
    )
    const committed = (await oldAdmin.listGroupOffsets(groupId)).filter((o) => o.topic === from.topic)
    for (const e of ends) {
      const c = committed.find((o) => o.partition === e.partition)
      expect(Number((c as { offset: number | bigint }).offset)).toBe(Number((e as { offset: bigint }).offset))
    }
  })

  test('two members of a group share the stream; one leaves at the switch without draining, the other takes its partitions over and drains them before moving on', async () => {
    const warmMax = 4000
    const total = 42_000
    let warm = 0
    const from: StreamTarget = { bootstrap: shared, topic: await topicOn(shared, 'failover-group-a', 4) }
    const to: StreamTarget = {
      bootstrap: extra.bootstrap,
      topic: await topicOn(extra.bootstrap, 'failover-group-b', 4),
    }
    const resolver = StreamResolver.fromMap({ orders: from })
    const producer = new StreamProducer({ resolver, producer: { lingerMs: 5 } })
    const groupId = uniqueTopic('failover-members')
    const members = [0, 1].map(
      () =>
        new StreamConsumer({
          resolver,
          stream: 'orders',
          groupId,
          drainGraceMs: 300,
          consumer: { group: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 300 } },
        }),
    )
    const seen = new Uint8Array(total)
    const byMember = [0, 0]
    let distinct = 0
    let duplicatesAfterWarmup = 0
    const readers = members.map(async (m, i) => {
      for await (const { record } of m) {
        const id = idOf(record.value)
        if (seen[id]) {
          if (id >= warm) duplicatesAfterWarmup++
        } else distinct++
        seen[id] = 1
        byMember[i]!++
        if (distinct === total) break
      }
    })
    const send = async (fromId: number, toId: number) => {
      const inflight: Promise<unknown>[] = []
      for (let i = fromId; i < toId; i += 500) {
        if (i === 23_000) {
          resolver.update('orders', to) // the switch, while sends are in flight
          members[1]!.close() // …and the second member goes away before draining anything
        }
        const n = Math.min(500, toId - i)
        inflight.push(
          producer.send(
            'orders',
            Array.from({ length: n }, (_, j) => ({ key: `k${(i + j) % 97}`, value: value(i + j) })),
          ),
        )
        if (inflight.length >= 20) await inflight.shift()
      }
      await Promise.all(inflight)
    }
    // Warm-up: records until both members are in the group and reading (records read twice while the group forms
    // are not counted), then everything sent so far read.
    const deadline = Date.now() + 30_000
    while ((byMember[0] === 0 || byMember[1] === 0) && warm < warmMax && Date.now() < deadline) {
      await send(warm, warm + 500)
      warm += 500
      const settle = Date.now() + 2000
      while ((byMember[0] === 0 || byMember[1] === 0) && Date.now() < settle) await sleep(20)
    }
    while (distinct < warm && Date.now() < deadline) await sleep(20)
    expect(byMember[0]).toBeGreaterThan(0)
    expect(byMember[1]).toBeGreaterThan(0)
    const secondBefore = byMember[1]!
    await send(warm, total)
    await producer.close()
    await Promise.race([readers[0], sleep(60_000)])
    members[0]!.close()
    await Promise.all(readers)
    console.log(
      `failover, 2 members: ${distinct} of ${total} delivered, ${duplicatesAfterWarmup} duplicates after the warm-up, ` +
        `member 1 read ${byMember[0]}, member 2 read ${byMember[1]} (${secondBefore} in the warm-up) and left at the switch; ` +
        `member 1 switches ${members[0]!.switches}`,
    )
    expect(distinct).toBe(total)
    expect(duplicatesAfterWarmup).toBe(0)
    expect(members[0]!.switches).toBe(1)
  })

  test('a watching resolver hears of an update written to the compacted control topic', async () => {
    const control = await topicOn(shared, 'control', 1, { 'cleanup.policy': 'compact' })
    const writer = new Producer({ bootstrap: shared, lingerMs: 0 })
    try {
      const first: StreamTarget = { bootstrap: shared, topic: 'orders-v1' }
      await publishStreamTarget(writer, control, 'orders', first)
      const resolver = await StreamResolver.watch({ bootstrap: shared, topic: control, timeoutMs: 20_000 })
      try {
        expect(resolver.resolve('orders')).toEqual(first)
        const changes: unknown[] = []
        resolver.on('change', (c) => changes.push(c))
        const second: StreamTarget = { bootstrap: extra.bootstrap, topic: 'orders-v2', mirror: first }
        await publishStreamTarget(writer, control, 'orders', second)
        await resolver.waitFor('orders', (t) => t?.topic === 'orders-v2', { timeoutMs: 10_000 })
        expect(resolver.resolve('orders')).toEqual(second)
        await publishStreamTarget(writer, control, 'orders', null)
        await resolver.waitFor('orders', (t) => t === undefined, { timeoutMs: 10_000 })
        expect(changes).toHaveLength(2)
      } finally {
        await resolver.close()
      }
    } finally {
      await writer.close()
    }
  })

  // Last: it kills the extra cluster's broker.
  test('with duplicate writes on, killing the primary cluster loses no acknowledged record: the mirror has each', async () => {
    const primary = { bootstrap: extra.bootstrap, topic: await topicOn(extra.bootstrap, 'mirror-primary') }
    const mirror = { bootstrap: shared, topic: await topicOn(shared, 'mirror-secondary') }
    const resolver = StreamResolver.fromMap({ payments: { ...primary, mirror } })
    const producer = new StreamProducer({
      resolver,
      producer: { lingerMs: 2, deliveryTimeoutMs: 5000, requestTimeoutMs: 2000 },
      closeTimeoutMs: 5000,
    })
    const acked: number[] = []
    let failed = 0
    let next = 0
    const batch = 100
    let killed = false
    const sender = async () => {
      while (!killed && next < 40_000) {
        const ids = Array.from({ length: batch }, (_, j) => next + j)
        next += batch
        try {
          await producer.send(
            'payments',
            ids.map((id) => ({ key: String(id % 13), value: value(id) })),
          )
          acked.push(...ids)
        } catch {
          failed += batch
        }
      }
    }
    const senders = Array.from({ length: 4 }, sender)
    while (acked.length < 10_000) await sleep(20)
    await extra.killBroker(1)
    killed = true
    await Promise.race([Promise.allSettled(senders), sleep(15_000)])
    await Promise.race([producer.close(), sleep(6000)])

    const admin = new Admin({ bootstrap: shared })
    admins.push(admin)
    const ends = await admin.listOffsets(
      [0, 1, 2].map((partition) => ({ topic: mirror.topic, partition, spec: 'latest' as const })),
    )
    const remaining = new Map(
      ends.map((e) => [e.partition, Number((e as { offset: bigint }).offset)] as const).filter(([, end]) => end > 0),
    )
    const onMirror = new Set<number>()
    const reader = new Consumer({ client: { bootstrap: shared }, maxWaitMs: 100 })
    await reader.assign([0, 1, 2].map((partition) => ({ topic: mirror.topic, partition, offset: 'earliest' as const })))
    const deadline = Date.now() + 20_000
    if (remaining.size > 0)
      for await (const r of reader) {
        onMirror.add(idOf(r.value))
        if (r.offset + 1 >= remaining.get(r.partition)!) remaining.delete(r.partition)
        if (remaining.size === 0 || Date.now() > deadline) break
      }
    await reader.close()
    const missing = acked.filter((id) => !onMirror.has(id))
    console.log(
      `mirror: ${acked.length} acknowledged before/after the kill, ${failed} failed, ${onMirror.size} on the mirror, ` +
        `${missing.length} acknowledged missing`,
    )
    expect(acked.length).toBeGreaterThanOrEqual(10_000)
    expect(missing).toEqual([])
  })
})
