import { afterEach, describe, expect, test } from 'vitest'
import { backoffMs } from '../../src/client/cluster/backoff.js'
import { Cluster } from '../../src/client/cluster/cluster.js'
import { ConfigError, ConnectionError } from '../../src/client/errors.js'
import { CreateTopics } from '../../src/protocol/apis/create-topics.js'
import { KafkaError } from '../../src/protocol/kafka-error.js'
import { freePorts } from '../../src/testing/ports.js'
import { describeTopic } from '../helpers/fetch.js'
import { testKafka, uniqueTopic } from '../helpers/kafka.js'

const clusters: Cluster[] = []
function cluster(options: Partial<ConstructorParameters<typeof Cluster>[0]> = {}) {
  const c = new Cluster({ bootstrap: testKafka().bootstrap, ...options })
  clusters.push(c)
  return c
}
afterEach(async () => {
  await Promise.all(clusters.splice(0).map((c) => c.close()))
})

async function createTopic(c: Cluster, partitions = 3) {
  const name = uniqueTopic('cluster')
  const conn = await c.anyConnection('admin')
  const res = await conn.request(CreateTopics, { topics: [{ name, numPartitions: partitions, replicationFactor: 1 }] })
  expect(res.topics[0]!.errorCode).toBe(0)
  await describeTopic(conn, name)
  return name
}

describe(`the cluster view (Kafka ${testKafka().version})`, () => {
  test('bootstrap fails over past dead addresses; with none alive, the error names every address tried', async () => {
    const [dead1, dead2] = await freePorts(2)
    const c = cluster({ bootstrap: [`127.0.0.1:${dead1}`, `127.0.0.1:${dead2}`, testKafka().bootstrap] })
    await c.metadata.refresh([])
    expect(c.metadata.clusterId).toBe(testKafka().clusterId)
    expect(c.metadata.brokers.size).toBeGreaterThan(0)

    const none = cluster({ bootstrap: `127.0.0.1:${dead1},127.0.0.1:${dead2}`, connectTimeoutMs: 2000 })
    const err = await none.metadata.refresh([]).catch((e) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect((err as Error).message).toMatch(
      new RegExp(`no broker answered \\(tried 2: .*${dead1}.*${dead2}|${dead2}.*${dead1}`),
    )
  })

  test('bad options are a ConfigError before any connection', () => {
    expect(() => new Cluster({ bootstrap: '' })).toThrow(ConfigError)
    expect(() => new Cluster({ bootstrap: 'localhost' })).toThrow(/not a broker address/)
    expect(() => new Cluster({ bootstrap: 'a:1', requestTimeoutMs: 0 })).toThrow(
      /requestTimeoutMs must be a positive number/,
    )
  })

  test('topic metadata carries ids, leaders and epochs; an unknown topic is a KafkaError', async () => {
    const c = cluster()
    const name = await createTopic(c)
    const info = await c.metadata.topic(name)
    expect(info.partitions).toHaveLength(3)
    expect(info.topicId).toHaveLength(22)
    for (const p of info.partitions) {
      expect(c.metadata.broker(p.leader)).toBeDefined()
      expect(p.leaderEpoch).toBeGreaterThanOrEqual(0)
    }
    expect(c.metadata.topicNameOf(info.topicId)).toBe(name)
    const err = await c.metadata.topic(uniqueTopic('absent')).catch((e) => e)
    expect(err).toBeInstanceOf(KafkaError)
    expect((err as KafkaError).errorName).toBe('UNKNOWN_TOPIC_OR_PARTITION')
  })

  test('concurrent refreshes share one request, and refreshes are spaced by the minimum interval', async () => {
    const c = cluster({ metadataMinRefreshIntervalMs: 50 })
    const name = await createTopic(c, 1)
    await c.metadata.topic(name)
    const before = c.metadata.refreshes
    await Promise.all(Array.from({ length: 20 }, () => c.metadata.refresh([name])))
    expect(c.metadata.refreshes - before).toBeLessThanOrEqual(2)
    const t0 = Date.now()
    const start = c.metadata.refreshes
    for (let i = 0; i < 6; i++) await c.metadata.refresh([name])
    expect(c.metadata.refreshes - start).toBe(6)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(5 * 50 - 10)
  })

  test('produce, fetch and group traffic get separate connections to the same leader; each is reused', async () => {
    const c = cluster()
    const name = await createTopic(c, 1)
    const a = await c.leaderOf(name, 0, 'produce')
    const b = await c.leaderOf(name, 0, 'fetch')
    const a2 = await c.leaderOf(name, 0, 'produce')
    expect(a.connection).not.toBe(b.connection)
    expect(a2.connection).toBe(a.connection)
    expect(a.leader).toBe(b.leader)
    expect(c.pool.openConnections().filter((k) => k.endsWith('/produce') || k.endsWith('/fetch'))).toHaveLength(2)
  })

  test('a dropped connection is replaced on next use', async () => {
    const c = cluster()
    const name = await createTopic(c, 1)
    const first = (await c.leaderOf(name, 0, 'produce')).connection
    first.destroy()
    const second = (await c.leaderOf(name, 0, 'produce')).connection
    expect(second).not.toBe(first)
    expect(second.isClosed).toBe(false)
  })

  test('after a failure a broker is retried only after an exponential, jittered backoff', async () => {
    const [dead] = await freePorts(1)
    const c = cluster({ bootstrap: `127.0.0.1:${dead}`, reconnectBackoffMs: 100, reconnectBackoffMaxMs: 2000 })
    const waits: number[] = []
    for (let i = 0; i < 4; i++) {
      await c.pool.get({ host: '127.0.0.1', port: dead! }, 'metadata').catch(() => {})
      waits.push(c.pool.waitFor({ host: '127.0.0.1', port: dead! }))
    }
    // 100, 200, 400, 800 (±20%)
    for (const [i, w] of waits.entries()) {
      expect(w).toBeGreaterThan(100 * 2 ** i * 0.7)
      expect(w).toBeLessThanOrEqual(100 * 2 ** i * 1.2 + 5)
    }
    expect(backoffMs(20, 100, 2000, () => 1)).toBe(2000)
  })

  test('a closed cluster refuses new work', async () => {
    const c = cluster()
    await c.close()
    await expect(c.anyConnection('admin')).rejects.toThrow(/closed/)
  })
})
