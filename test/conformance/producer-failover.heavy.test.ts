import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Connection } from '../../src/client/connection.js'
import { Producer, type ProducerStats } from '../../src/client/producer/index.js'
import { CreateTopics } from '../../src/protocol/apis/create-topics.js'
import { Metadata } from '../../src/protocol/apis/metadata.js'
import { type KafkaCluster, startKafka } from '../../src/testing/index.js'
import { testKafka, uniqueTopic } from '../helpers/kafka.js'
import { kcatAvailable, kcatConsume } from '../helpers/kcat.js'

const TOTAL = 100_000
const PARTITIONS = 3

async function connectTo(addr: string) {
  const [host, port] = addr.split(':')
  return Connection.connect({ host: host!, port: Number(port), connectTimeoutMs: 3000, requestTimeoutMs: 5000 })
}

/** Partition metadata from any running broker. */
async function partitions(kafka: KafkaCluster, topic: string) {
  for (const b of kafka.brokers.filter((x) => x.running)) {
    try {
      const c = await connectTo(`127.0.0.1:${b.ports.plaintext}`)
      try {
        const md = await c.request(Metadata, { topics: [{ name: topic }], allowAutoTopicCreation: false })
        const t = md.topics[0]!
        if (t.errorCode === 0) return t.partitions
      } finally {
        await c.close()
      }
    } catch {}
  }
  return undefined
}

const brief = (s: ProducerStats) =>
  `acked ${s.recordsAcked}, requests in flight ${s.inFlightRequests}, batches queued ${s.queuedBatches}, retries ${s.retries}, leader changes ${s.leaderChanges}, metadata refreshes ${s.metadataRefreshes}, ` +
  `epoch bumps ${s.epochBumps}, errors ${JSON.stringify(s.errors)}`

describe.skipIf(!kcatAvailable())(
  `an idempotent producer through a leader crash (3 brokers, Kafka ${testKafka().version})`,
  () => {
    let kafka: KafkaCluster
    beforeAll(async () => {
      const t0 = Date.now()
      kafka = await startKafka({ version: testKafka().version, brokers: 3 })
      process.stderr.write(`[skiff] 3-broker cluster started in ${Date.now() - t0} ms\n`)
    })
    afterAll(async () => {
      await kafka?.stop()
    })

    test('kill -9 of the leader mid-send of 100k records (acks all): every acknowledged record is in the log exactly once', async () => {
      const topic = uniqueTopic('failover-produce')
      const admin = await connectTo(kafka.listeners.plaintext!.brokers[0]!)
      const created = await admin.request(CreateTopics, {
        topics: [
          {
            name: topic,
            numPartitions: PARTITIONS,
            replicationFactor: 3,
            configs: [{ name: 'min.insync.replicas', value: '2' }],
          },
        ],
        timeoutMs: 30_000,
      })
      expect(created.topics[0]!.errorCode).toBe(0)
      await admin.close()
      for (let i = 0; ; i++) {
        const ps = await partitions(kafka, topic)
        if (ps && ps.length === PARTITIONS && ps.every((p) => p.leaderId > 0 && p.isrNodes.length === 3)) break
        if (i > 150) throw new Error('topic never fully replicated')
        await sleep(200)
      }
      const victim = (await partitions(kafka, topic))!.find((p) => p.partitionIndex === 0)!.leaderId

      const producer = new Producer({
        bootstrap: kafka.bootstrap,
        clientId: 'skiff-failover',
        compression: 'lz4',
        lingerMs: 5,
        batchBytes: 16 * 1024,
        requestTimeoutMs: 10_000,
        deliveryTimeoutMs: 120_000,
      })
      // Per record: 0 pending, 1 acknowledged, 2 failed.
      const status = new Uint8Array(TOTAL)
      let acked = 0
      let failed = 0
      let killedAt = 0
      let ackedBeforeKill = 0
      const failures = new Map<string, number>()
      const onDelivery = (i: number) => (err: Error | null) => {
        if (err) {
          status[i] = 2
          failed++
          failures.set(err.name, (failures.get(err.name) ?? 0) + 1)
        } else {
          status[i] = 1
          acked++
        }
      }

      // Paced: ~20k records/s, so the send spans seconds and the kill lands in the middle of it.
      const started = Date.now()
      let statsAtKill: ProducerStats | undefined
      const killer = (async () => {
        while (acked < TOTAL * 0.25) await sleep(5)
        ackedBeforeKill = acked
        statsAtKill = producer.stats()
        killedAt = Date.now()
        await kafka.killBroker(victim)
        process.stderr.write(
          `[skiff] killed broker ${victim} (leader of partition 0) after ${killedAt - started} ms with ${ackedBeforeKill} acknowledged\n`,
        )
      })()
      for (let i = 0; i < TOTAL; i++) {
        const value = `rec-${String(i).padStart(6, '0')}-${'p'.repeat(80)}`
        if (!producer.produce({ topic, key: `key-${i % 997}`, value }, onDelivery(i)))
          await new Promise((r) => producer.once('drain', r))
        if (i % 200 === 199) await sleep(10)
      }
      await killer
      await producer.flush()
      const finishedAt = Date.now()
      const stats = producer.stats()
      await producer.close()
      const ackedAfterKill = acked - ackedBeforeKill

      // Read the whole log back (the victim is down; kcat finds the new leaders).
      const counts = new Uint16Array(TOTAL)
      let found = 0
      let foreign = 0
      for (let p = 0; p < PARTITIONS; p++) {
        for (const m of kcatConsume(kafka.bootstrap, topic, p)) {
          const id = /^rec-(\d{6})-/.exec(m.payload ?? '')
          if (!id) {
            foreign++
            continue
          }
          counts[Number(id[1])]!++
          found++
        }
      }
      let duplicates = 0
      let missing = 0
      let failedButWritten = 0
      for (let i = 0; i < TOTAL; i++) {
        if (counts[i]! > 1) duplicates += counts[i]! - 1
        if (status[i] === 1 && counts[i] === 0) missing++
        if (status[i] === 2 && counts[i]! > 0) failedButWritten++
      }
      const pending = TOTAL - acked - failed
      process.stderr.write(
        `[skiff] failover: sent ${TOTAL}, acknowledged ${acked} (${ackedBeforeKill} before the kill, ${ackedAfterKill} after), ` +
          `failed ${failed} ${JSON.stringify(Object.fromEntries(failures))}, found ${found}, duplicates ${duplicates}, ` +
          `missing ${missing}, failed-but-written ${failedButWritten}; ${finishedAt - started} ms\n` +
          `[skiff] at the kill: ${brief(statsAtKill!)}\n[skiff] at the end: ${brief(stats)}\n`,
      )
      expect(foreign).toBe(0)
      expect(pending).toBe(0)
      expect(duplicates).toBe(0)
      expect(missing).toBe(0)
      // The kill landed mid-flight: records were acknowledged before and after it, and the producer had to retry and
      // follow the partition to its new leader.
      expect(ackedBeforeKill).toBeGreaterThan(0)
      expect(ackedAfterKill).toBeGreaterThan(0)
      expect(stats.retries).toBeGreaterThan(0)
      expect(stats.leaderChanges).toBeGreaterThan(0)
      expect(stats.retries).toBeGreaterThan(statsAtKill!.retries)
      // With 120 s of delivery timeout, a 3 s broker failover loses nothing.
      expect(acked).toBe(TOTAL)
      expect(found).toBe(TOTAL)
    })
  },
)
