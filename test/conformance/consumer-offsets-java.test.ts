import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Admin } from '../../src/client/admin/admin.js'
import type { Connection } from '../../src/client/connection.js'
import { Consumer } from '../../src/client/consumer/consumer.js'
import { Producer } from '../../src/client/producer/index.js'
import { committedOffsets, consumerProtocolSupported } from '../helpers/consumer.js'
import { compileJava, kafkaClientsClasspath } from '../helpers/java-assignors.js'
import { connectTestBroker, testKafka } from '../helpers/kafka.js'
import { createTopic, groupCoordinatorReady, note, type TestTopic } from '../helpers/protocol.js'

const run = promisify(execFile)
const bootstrap = testKafka().bootstrap

/**
 * Committed offsets are the contract between consumers of a group, whatever client they run: what Skiff commits, a
 * Java KafkaConsumer of the same group starts from, and the other way round — metadata and leader epochs included.
 */
describe(`offsets shared with a Java KafkaConsumer (Kafka ${testKafka().version})`, () => {
  const classpath = kafkaClientsClasspath(testKafka().version)
  const classes =
    classpath && compileJava(join(import.meta.dirname, '../fixtures/consumer/JavaOffsetsConsumer.java'), classpath)
  let conn: Connection
  let admin: Admin
  let producer: Producer
  beforeAll(async () => {
    conn = await connectTestBroker()
    await groupCoordinatorReady(conn)
    admin = new Admin({ bootstrap })
    producer = new Producer({ bootstrap, lingerMs: 0, compression: 'none' })
  })
  afterAll(async () => {
    await producer?.close()
    await admin?.close()
    await conn?.close()
  })

  /** Records `from..to-1` of every partition, keyed `p<partition>-<index>`; several batches per partition. */
  async function produce(topic: TestTopic, from: number, to: number) {
    for (let p = 0; p < topic.partitions; p++) {
      for (let i = from; i < to; i += 50) {
        const n = Math.min(50, to - i)
        await producer.send({
          topic: topic.name,
          messages: Array.from({ length: n }, (_, j) => ({ partition: p, key: `p${p}-${i + j}`, value: `v${i + j}` })),
        })
      }
    }
  }

  /** Runs JavaOffsetsConsumer to completion and parses what it printed. */
  async function javaTakesOver(groupId: string, topic: string, protocol: 'classic' | 'consumer') {
    const { stdout } = await run(
      'java',
      ['-cp', `${classpath}:${classes}`, 'JavaOffsetsConsumer', bootstrap, groupId, topic, protocol],
      {
        timeout: 90_000,
      },
    )
    const lines = stdout.trim().split('\n')
    const fields = (kind: string) => lines.filter((l) => l.startsWith(`${kind} `)).map((l) => l.split(' ').slice(1))
    return {
      lines,
      committed: new Map(
        fields('committed').map(([p, offset, epoch, metadata]) => [Number(p), { offset, epoch, metadata }]),
      ),
      first: new Map(fields('first').map(([p, offset]) => [Number(p), Number(offset)])),
      read: Number(fields('read')[0]?.[0]),
      commit: new Map(fields('commit').map(([p, offset, epoch]) => [Number(p), { offset: Number(offset), epoch }])),
    }
  }

  const skiff = (groupId: string, protocol: 'classic' | 'consumer') =>
    new Consumer({
      client: { bootstrap },
      groupId,
      groupProtocol: protocol,
      resetPolicy: 'earliest',
      maxWaitMs: 100,
      group: protocol === 'classic' ? { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 500 } : {},
    })

  for (const protocol of ['classic', 'consumer'] as const) {
    test(`${protocol} group: Skiff commits after N records, Java starts exactly there and commits the end, Skiff resumes from Java's offsets`, async (ctx) => {
      if (!classes) {
        note('java/javac or the kafka-clients jar missing: offset interop with Java not tested')
        return ctx.skip()
      }
      if (protocol === 'consumer' && !consumerProtocolSupported(conn)) {
        note('KIP-848 groups are off: the consumer-protocol offset interop is not tested')
        return ctx.skip()
      }
      const topic = await createTopic(conn, { prefix: `offsets-java-${protocol}`, partitions: 3 })
      const groupId = `skiff-offsets-java-${protocol}-${randomBytes(4).toString('hex')}`
      await produce(topic, 0, 200)

      // 1. Skiff reads 250 of the 600 records and stops; breaking out of the loop commits what was finished.
      const first = skiff(groupId, protocol)
      await first.subscribe([topic.name])
      const next = new Map<number, number>()
      let n = 0
      for await (const m of first) {
        expect(m.offset).toBe(next.get(m.partition) ?? 0)
        next.set(m.partition, m.offset + 1)
        if (++n === 250) break
      }
      const byPartition = [0, 1, 2].map((p) => next.get(p) ?? 0)
      expect(byPartition.reduce((a, b) => a + b, 0)).toBe(250)
      const afterSkiff = await committedOffsets(admin, groupId, topic.name)
      for (const p of [0, 1, 2]) expect(afterSkiff.get(p)?.offset ?? 0).toBe(byPartition[p])

      // 2. Java sees Skiff's commits (no leader epoch, empty metadata), starts at each one, reads to the end, commits.
      const java = await javaTakesOver(groupId, topic.name, protocol)
      expect(java.lines.at(-1)).toBe('closed')
      for (const p of [0, 1, 2]) {
        const c = java.committed.get(p)!
        if (byPartition[p]! > 0) expect(c).toEqual({ offset: String(byPartition[p]), epoch: '-', metadata: '-' })
        else expect(c).toEqual({ offset: '-', epoch: '-', metadata: '-' })
        if (byPartition[p]! < 200) expect(java.first.get(p)).toBe(byPartition[p])
        else expect(java.first.has(p)).toBe(false)
        expect(java.commit.get(p)!.offset).toBe(200)
        expect(java.commit.get(p)!.epoch).toMatch(/^\d+$/)
      }
      expect(java.read).toBe(600 - 250)

      // Java's commits as OffsetFetch returns them: its metadata, and the leader epoch of the last record it read.
      const afterJava = await committedOffsets(admin, groupId, topic.name)
      for (const p of [0, 1, 2]) {
        expect(afterJava.get(p)).toEqual({
          offset: 200,
          leaderEpoch: Number(java.commit.get(p)!.epoch),
          metadata: `java-${p}`,
        })
      }

      // 3. More records arrive; a Skiff member of the group starts at Java's offsets and reads only the new ones.
      await produce(topic, 200, 250)
      const second = skiff(groupId, protocol)
      const assigned: number[][] = []
      second.on('assigned', (ps: Array<{ partition: number }>) => assigned.push(ps.map((x) => x.partition).sort()))
      await second.subscribe([topic.name])
      const seen = new Map<number, number[]>()
      let m2 = 0
      for await (const m of second) {
        seen.set(m.partition, [...(seen.get(m.partition) ?? []), m.offset])
        expect(m.key!.toString()).toBe(`p${m.partition}-${m.offset}`)
        if (++m2 === 150) break
      }
      expect(assigned).toEqual([[0, 1, 2]])
      for (const p of [0, 1, 2]) expect(seen.get(p)).toEqual(Array.from({ length: 50 }, (_, i) => 200 + i))
      const end = await committedOffsets(admin, groupId, topic.name)
      for (const p of [0, 1, 2]) expect(end.get(p)?.offset).toBe(250)
    })
  }
})
