import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Connection } from '../../src/client/connection.js'
import { CreateTopics } from '../../src/protocol/apis/create-topics.js'
import { DeleteTopics } from '../../src/protocol/apis/delete-topics.js'
import { Metadata } from '../../src/protocol/apis/metadata.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { ZERO_UUID } from '../../src/protocol/uuid.js'
import { connectTestBroker, testKafka, uniqueTopic } from '../helpers/kafka.js'

function versionsBoth(conn: Connection, api: { key: number; versions: { min: number; max: number } }): number[] {
  const b = conn.apiVersions.get(api.key)!
  const out: number[] = []
  for (let v = Math.max(b.min, api.versions.min); v <= Math.min(b.max, api.versions.max); v++) out.push(v)
  return out
}

/**
 * Metadata for one topic. A just-created topic takes a moment to reach the broker's metadata cache, so when it is
 * expected to exist, UNKNOWN_TOPIC_OR_PARTITION and LEADER_NOT_AVAILABLE are retried for a few seconds.
 */
async function topicMetadata(conn: Connection, name: string, options: { version?: number; exists?: boolean } = {}) {
  const { version, exists = true } = options
  // Metadata v0-3 cannot ask the broker not to auto-create (the field arrived in v4); the topic exists anyway.
  const request =
    version !== undefined && version < 4
      ? { topics: [{ name }] }
      : { topics: [{ name }], allowAutoTopicCreation: false }
  for (let i = 0; ; i++) {
    const md = await conn.request(Metadata, request, { version })
    const t = md.topics.find((x) => x.name === name)!
    const settling =
      t.errorCode === ErrorCode.LEADER_NOT_AVAILABLE ||
      (exists && t.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) ||
      t.partitions.some((p) => p.leaderId < 0)
    if (!settling || i > 50) return { md, topic: t }
    await sleep(100)
  }
}

describe(`topics against Kafka ${testKafka().version}`, () => {
  let conn: Connection
  beforeAll(async () => {
    conn = await connectTestBroker()
  })
  afterAll(async () => {
    await conn?.close()
  })

  test('create a topic with 3 partitions, see it in Metadata, delete it', async () => {
    const name = uniqueTopic()
    const created = await conn.request(CreateTopics, {
      topics: [{ name, numPartitions: 3, replicationFactor: 1, configs: [{ name: 'retention.ms', value: '3600000' }] }],
      timeoutMs: 30_000,
    })
    expect(created.topics).toHaveLength(1)
    expect(created.topics[0]).toMatchObject({ name, errorCode: 0, numPartitions: 3, replicationFactor: 1 })
    const retention = created.topics[0]!.configs?.find((c) => c.name === 'retention.ms')
    expect(retention?.value).toBe('3600000')

    const { md, topic } = await topicMetadata(conn, name)
    expect(md.clusterId).toBe(testKafka().clusterId)
    expect(topic.errorCode).toBe(0)
    expect(topic.topicId).not.toBe(ZERO_UUID)
    expect(topic.partitions.map((p) => p.partitionIndex).sort()).toEqual([0, 1, 2])
    const brokerIds = md.brokers.map((b) => b.nodeId)
    for (const p of topic.partitions) {
      expect(p.errorCode).toBe(0)
      expect(brokerIds).toContain(p.leaderId)
      expect(p.replicaNodes).toEqual([p.leaderId])
      expect(p.isrNodes).toEqual([p.leaderId])
      expect(p.leaderEpoch).toBeGreaterThanOrEqual(0)
    }

    const deleted = await conn.request(DeleteTopics, {
      topics: [{ name, topicId: ZERO_UUID }],
      topicNames: [name],
      timeoutMs: 30_000,
    })
    expect(deleted.responses).toHaveLength(1)
    expect(deleted.responses[0]).toMatchObject({ name, errorCode: 0 })
    let after = await conn.request(Metadata, { topics: [{ name }], allowAutoTopicCreation: false })
    for (let i = 0; i < 50 && after.topics[0]!.errorCode === 0; i++) {
      await sleep(100)
      after = await conn.request(Metadata, { topics: [{ name }], allowAutoTopicCreation: false })
    }
    expect(after.topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
  })

  test('creating an existing topic answers TOPIC_ALREADY_EXISTS; validateOnly creates nothing', async () => {
    const name = uniqueTopic()
    const spec = { name, numPartitions: 1, replicationFactor: 1 }
    const dry = await conn.request(CreateTopics, { topics: [spec], timeoutMs: 10_000, validateOnly: true })
    expect(dry.topics[0]!.errorCode).toBe(0)
    const { topic: absent } = await topicMetadata(conn, name, { exists: false })
    expect(absent.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
    expect((await conn.request(CreateTopics, { topics: [spec], timeoutMs: 10_000 })).topics[0]!.errorCode).toBe(0)
    const again = await conn.request(CreateTopics, { topics: [spec], timeoutMs: 10_000 })
    expect(again.topics[0]!.errorCode).toBe(ErrorCode.TOPIC_ALREADY_EXISTS)
    expect(again.topics[0]!.errorMessage).toMatch(/already exists/)
    await conn.request(DeleteTopics, { topics: [{ name }], topicNames: [name], timeoutMs: 10_000 })
  })

  test('every CreateTopics, Metadata and DeleteTopics version both sides speak works against the broker', async () => {
    const seen: string[] = []
    for (const v of versionsBoth(conn, CreateTopics)) {
      const name = uniqueTopic(`v${v}`)
      const res = await conn.request(
        CreateTopics,
        { topics: [{ name, numPartitions: 2, replicationFactor: 1 }], timeoutMs: 10_000 },
        { version: v },
      )
      expect(res.topics[0], `CreateTopics v${v}`).toMatchObject({ name, errorCode: 0 })
      if (v >= 5) expect(res.topics[0]!.numPartitions, `CreateTopics v${v}`).toBe(2)
      if (v >= 7) expect(res.topics[0]!.topicId).not.toBe(ZERO_UUID)
      seen.push(name)
    }
    for (const v of versionsBoth(conn, Metadata)) {
      const { topic, md } = await topicMetadata(conn, seen[0]!, { version: v })
      expect(topic.errorCode, `Metadata v${v}`).toBe(0)
      expect(topic.partitions, `Metadata v${v}`).toHaveLength(2)
      expect(md.brokers.length, `Metadata v${v}`).toBeGreaterThan(0)
      if (v >= 2) expect(md.clusterId, `Metadata v${v}`).toBe(testKafka().clusterId)
      if (v >= 10) expect(topic.topicId, `Metadata v${v}`).not.toBe(ZERO_UUID)
    }
    const deleteVersions = versionsBoth(conn, DeleteTopics)
    for (const [i, name] of seen.entries()) {
      const v = deleteVersions[i % deleteVersions.length]!
      let request: Parameters<typeof conn.request<typeof DeleteTopics>>[1] = { topicNames: [name], timeoutMs: 10_000 }
      if (v >= 6) {
        // v6 deletes by topic id (KIP-516)
        const { topic } = await topicMetadata(conn, name)
        request = { topics: [{ name: null, topicId: topic.topicId }], timeoutMs: 10_000 }
      }
      const res = await conn.request(DeleteTopics, request, { version: v })
      expect(res.responses[0]!.errorCode, `DeleteTopics v${v}`).toBe(0)
      if (v < 6) expect(res.responses[0]!.name).toBe(name)
    }
  })
})
