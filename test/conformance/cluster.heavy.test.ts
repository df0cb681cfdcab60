import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Connection } from '../../src/client/connection.js'
import { CreateTopics } from '../../src/protocol/apis/create-topics.js'
import { Metadata } from '../../src/protocol/apis/metadata.js'
import { type KafkaCluster, startKafka } from '../../src/testing/index.js'
import { testKafka, uniqueTopic } from '../helpers/kafka.js'

const connectTo = (addr: string) => {
  const [host, port] = addr.split(':')
  return Connection.connect({ host: host!, port: Number(port), connectTimeoutMs: 3000, requestTimeoutMs: 5000 })
}

/** Polls `read` on any live broker until `done` holds, for at most `ms`. */
async function until<T>(kafka: KafkaCluster, read: (c: Connection) => Promise<T>, done: (v: T) => boolean, ms: number) {
  const deadline = Date.now() + ms
  let last: T | undefined
  while (Date.now() < deadline) {
    for (const b of kafka.brokers.filter((x) => x.running)) {
      try {
        const c = await connectTo(`127.0.0.1:${b.ports.plaintext}`)
        try {
          last = await read(c)
          if (done(last)) return last
        } finally {
          await c.close()
        }
      } catch {}
    }
    await sleep(200)
  }
  throw new Error(
    `condition not reached within ${ms} ms; last: ${JSON.stringify(last, (_, v) => (typeof v === 'bigint' ? `${v}` : v))}`,
  )
}

describe(`a 3-broker KRaft cluster of Kafka ${testKafka().version}`, () => {
  let kafka: KafkaCluster
  let startMs = 0
  beforeAll(async () => {
    const t0 = Date.now()
    kafka = await startKafka({ version: testKafka().version, brokers: 3 })
    startMs = Date.now() - t0
    process.stderr.write(`[skiff] 3-broker cluster started in ${startMs} ms\n`)
  })
  afterAll(async () => {
    await kafka?.stop()
  })

  test('starts with three brokers, each advertising its own port', async () => {
    expect(kafka.brokers.map((b) => b.nodeId)).toEqual([1, 2, 3])
    const conn = await connectTo(kafka.listeners.plaintext!.brokers[1]!)
    const md = await conn.request(Metadata, { topics: [] })
    expect(md.brokers.map((b) => `${b.host}:${b.port}`).sort()).toEqual([...kafka.listeners.plaintext!.brokers].sort())
    await conn.close()
  })

  test('killing a partition leader (-9) moves leadership; a restart brings the broker back into the ISR', async () => {
    const topic = uniqueTopic('failover')
    const conn = await connectTo(kafka.bootstrap.split(',')[0]!)
    const created = await conn.request(CreateTopics, {
      topics: [{ name: topic, numPartitions: 3, replicationFactor: 3 }],
    })
    expect(created.topics[0]!.errorCode).toBe(0)
    await conn.close()
    const partition0 = (c: Connection) =>
      c
        .request(Metadata, { topics: [{ name: topic }], allowAutoTopicCreation: false })
        .then((m) => m.topics[0]!.partitions.find((p) => p.partitionIndex === 0))
    const before = await until(kafka, partition0, (p) => !!p && p.leaderId > 0 && p.isrNodes.length === 3, 30_000)
    const victim = before!.leaderId

    const killedAt = Date.now()
    await kafka.killBroker(victim)
    expect(kafka.brokers.find((b) => b.nodeId === victim)!.running).toBe(false)
    const moved = await until(
      kafka,
      partition0,
      (p) => !!p && p.leaderId > 0 && p.leaderId !== victim && !p.isrNodes.includes(victim),
      30_000,
    )
    const failoverMs = Date.now() - killedAt
    expect(moved!.leaderEpoch).toBeGreaterThan(before!.leaderEpoch)
    process.stderr.write(
      `[skiff] leader ${victim} killed; partition 0 led by ${moved!.leaderId} after ${failoverMs} ms\n`,
    )

    const restartAt = Date.now()
    await kafka.restartBroker(victim)
    const back = await until(kafka, partition0, (p) => !!p && p.isrNodes.length === 3, 60_000)
    expect(back!.isrNodes.sort()).toEqual([1, 2, 3])
    process.stderr.write(`[skiff] broker ${victim} back in the ISR ${Date.now() - restartAt} ms after restart\n`)
  })

  test('a gracefully stopped broker restarts with its data', async () => {
    await kafka.stopBroker(2)
    expect(kafka.brokers[1]!.running).toBe(false)
    await kafka.restartBroker(2)
    expect(kafka.brokers[1]!.running).toBe(true)
    const conn = await connectTo(kafka.listeners.plaintext!.brokers[1]!)
    const md = await conn.request(Metadata, { topics: null })
    expect(md.topics.some((t) => t.name?.startsWith('failover'))).toBe(true)
    await conn.close()
  })
})
