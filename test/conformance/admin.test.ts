import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Connection } from '../../src/client/connection.js'
import { CreatePartitions } from '../../src/protocol/apis/create-partitions.js'
import { DescribeCluster } from '../../src/protocol/apis/describe-cluster.js'
import { DescribeConfigs } from '../../src/protocol/apis/describe-configs.js'
import { IncrementalAlterConfigs } from '../../src/protocol/apis/incremental-alter-configs.js'
import { Metadata } from '../../src/protocol/apis/metadata.js'
import { connectTestBroker, testKafka, uniqueTopic } from '../helpers/kafka.js'
import { createTopic, errName, eventually, versionsBoth } from '../helpers/protocol.js'

/** DescribeConfigs / IncrementalAlterConfigs resource types. */
const TOPIC = 2
const BROKER = 4
/** DescribeConfigsResponse ConfigSource values. */
const Source = { TOPIC_CONFIG: 1, STATIC_BROKER_CONFIG: 4, DEFAULT_CONFIG: 5 } as const
/** DescribeConfigsResponse ConfigType values (v3+). */
const ConfigType = { STRING: 2, INT: 3, LONG: 5, LIST: 7 } as const
/** IncrementalAlterConfigs operations. */
const Op = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const
const NOT_REQUESTED = -2147483648

describe(`admin APIs against Kafka ${testKafka().version}`, () => {
  let conn: Connection
  beforeAll(async () => {
    conn = await connectTestBroker()
  })
  afterAll(async () => {
    await conn?.close()
  })

  const partitionCount = async (name: string) => {
    const md = await conn.request(Metadata, { topics: [{ name }], allowAutoTopicCreation: false })
    return md.topics[0]!.partitions.length
  }
  /** One topic's configs by name, as DescribeConfigs at version `v` reports them. */
  const topicConfigs = async (name: string, keys: string[] | null, v?: number, extra = {}) => {
    const res = await conn.request(
      DescribeConfigs,
      { resources: [{ resourceType: TOPIC, resourceName: name, configurationKeys: keys }], ...extra },
      { version: v },
    )
    expect(res.results).toHaveLength(1)
    const r = res.results[0]!
    expect([errName(r.errorCode), r.resourceType, r.resourceName], `DescribeConfigs v${v ?? 'max'}`).toEqual([
      'NONE',
      TOPIC,
      name,
    ])
    return new Map(r.configs.map((c) => [c.name, c]))
  }

  test('every CreatePartitions version adds partitions that Metadata then shows; validateOnly and bad counts change nothing', async () => {
    const topic = await createTopic(conn, { prefix: 'partitions' })
    let count = 1
    for (const v of versionsBoth(conn, CreatePartitions)) {
      const what = `CreatePartitions v${v}`
      const grow = (to: number, validateOnly = false, assignments: Array<{ brokerIds: number[] }> | null = null) =>
        conn
          .request(
            CreatePartitions,
            { topics: [{ name: topic.name, count: to, assignments }], timeoutMs: 10_000, validateOnly },
            { version: v },
          )
          .then((r) => {
            expect(
              r.results.map((x) => x.name),
              what,
            ).toEqual([topic.name])
            return r.results[0]!
          })

      const dry = await grow(count + 1, true)
      expect([errName(dry.errorCode), dry.errorMessage], `${what} validateOnly`).toEqual(['NONE', null])
      expect(await partitionCount(topic.name), `${what} validateOnly`).toBe(count)

      // Odd versions place the new partition explicitly (on broker 1), even ones let the controller choose.
      const ok = await grow(count + 1, false, v % 2 === 1 ? [{ brokerIds: [1] }] : null)
      expect(errName(ok.errorCode), what).toBe('NONE')
      count++
      expect(
        await eventually(
          () => partitionCount(topic.name),
          (n) => n === count,
        ),
        what,
      ).toBe(count)

      // The count is the new total, which can only grow.
      const same = await grow(count)
      expect(errName(same.errorCode), what).toBe('INVALID_PARTITIONS')
      expect(same.errorMessage, what).toMatch(/\d/)
      expect(errName((await grow(count - 1)).errorCode), what).toBe('INVALID_PARTITIONS')
    }
    const ghost = await conn.request(CreatePartitions, {
      topics: [{ name: uniqueTopic('ghost'), count: 2, assignments: null }],
      timeoutMs: 10_000,
      validateOnly: false,
    })
    expect(errName(ghost.results[0]!.errorCode)).toBe('UNKNOWN_TOPIC_OR_PARTITION')
  })

  test('every DescribeConfigs version describes topic and broker configs: values, sources, synonyms (v1+), types and docs (v3+)', async () => {
    const topic = await createTopic(conn, { prefix: 'configs', configs: [{ name: 'retention.ms', value: '3600000' }] })
    for (const v of versionsBoth(conn, DescribeConfigs)) {
      const what = `DescribeConfigs v${v}`
      const configs = await topicConfigs(topic.name, ['retention.ms', 'cleanup.policy'], v, {
        includeSynonyms: true,
        includeDocumentation: v >= 3,
      })
      expect([...configs.keys()].sort(), what).toEqual(['cleanup.policy', 'retention.ms'])
      const retention = configs.get('retention.ms')!
      const cleanup = configs.get('cleanup.policy')!
      expect([retention.value, retention.readOnly, retention.isSensitive], what).toEqual(['3600000', false, false])
      expect(cleanup.value, what).toBe('delete')
      expect([retention.configSource, cleanup.configSource], what).toEqual([Source.TOPIC_CONFIG, Source.DEFAULT_CONFIG])
      // Synonyms, highest precedence first: the topic override itself; for a config at its default, the broker
      // config it defaults to.
      expect(retention.synonyms[0], what).toEqual({
        name: 'retention.ms',
        value: '3600000',
        source: Source.TOPIC_CONFIG,
      })
      expect(cleanup.synonyms, what).toEqual([
        { name: 'log.cleanup.policy', value: 'delete', source: Source.DEFAULT_CONFIG },
      ])
      if (v >= 3) {
        expect([retention.configType, cleanup.configType], what).toEqual([ConfigType.LONG, ConfigType.LIST])
        expect(retention.documentation, what).toMatch(/retain/i)
      }
      // Without includeSynonyms / includeDocumentation the broker leaves them out.
      const plain = (await topicConfigs(topic.name, ['retention.ms'], v)).get('retention.ms')!
      expect(plain.synonyms, what).toEqual([])
      if (v >= 3) expect(plain.documentation, what).toBeNull()
      // null keys: every topic config.
      const all = await topicConfigs(topic.name, null, v)
      expect(all.size, what).toBeGreaterThan(20)
      expect(all.get('min.insync.replicas')?.value, what).toBe('1')

      // The broker resource is named by node id; the harness set num.io.threads in server.properties.
      const broker = await conn.request(
        DescribeConfigs,
        {
          resources: [
            { resourceType: BROKER, resourceName: '1', configurationKeys: ['num.io.threads', 'log.retention.hours'] },
          ],
          includeSynonyms: true,
        },
        { version: v },
      )
      const b = broker.results[0]!
      expect([errName(b.errorCode), b.resourceType, b.resourceName], what).toEqual(['NONE', BROKER, '1'])
      const byName = new Map(b.configs.map((c) => [c.name, c]))
      expect([byName.get('num.io.threads')?.value, byName.get('num.io.threads')?.configSource], what).toEqual([
        '4',
        Source.STATIC_BROKER_CONFIG,
      ])
      expect([byName.get('log.retention.hours')?.value, byName.get('log.retention.hours')?.configSource], what).toEqual(
        ['168', Source.DEFAULT_CONFIG],
      )
      if (v >= 3) expect(byName.get('num.io.threads')?.configType, what).toBe(ConfigType.INT)
    }
    const ghost = await conn.request(DescribeConfigs, {
      resources: [{ resourceType: TOPIC, resourceName: uniqueTopic('ghost'), configurationKeys: null }],
    })
    expect(errName(ghost.results[0]!.errorCode)).toBe('UNKNOWN_TOPIC_OR_PARTITION')
  })

  test('every IncrementalAlterConfigs version sets, appends to, subtracts from and deletes topic configs, seen through DescribeConfigs', async () => {
    const topic = await createTopic(conn, { prefix: 'alter' })
    for (const v of versionsBoth(conn, IncrementalAlterConfigs)) {
      const what = `IncrementalAlterConfigs v${v}`
      const alter = (
        configs: Array<{ name: string; configOperation: number; value: string | null }>,
        validateOnly = false,
      ) =>
        conn
          .request(
            IncrementalAlterConfigs,
            { resources: [{ resourceType: TOPIC, resourceName: topic.name, configs }], validateOnly },
            { version: v },
          )
          .then((r) => {
            expect(
              r.responses.map((x) => [x.resourceType, x.resourceName]),
              what,
            ).toEqual([[TOPIC, topic.name]])
            return r.responses[0]!
          })
      const current = async () => {
        const c = await topicConfigs(topic.name, ['retention.ms', 'cleanup.policy'])
        return {
          retention: [c.get('retention.ms')!.value, c.get('retention.ms')!.configSource],
          cleanup: c.get('cleanup.policy')!.value,
        }
      }
      const value = String(1_000_000 + v)

      const dry = await alter([{ name: 'retention.ms', configOperation: Op.SET, value }], true)
      expect(errName(dry.errorCode), `${what} validateOnly`).toBe('NONE')
      expect((await current()).retention, `${what} validateOnly`).toEqual(['604800000', Source.DEFAULT_CONFIG])

      const set = await alter([
        { name: 'retention.ms', configOperation: Op.SET, value },
        { name: 'cleanup.policy', configOperation: Op.APPEND, value: 'compact' },
      ])
      expect([errName(set.errorCode), set.errorMessage], what).toEqual(['NONE', null])
      expect(await eventually(current, (c) => c.retention[0] === value), what).toEqual({
        retention: [value, Source.TOPIC_CONFIG],
        cleanup: 'delete,compact',
      })

      const back = await alter([
        { name: 'retention.ms', configOperation: Op.DELETE, value: null },
        { name: 'cleanup.policy', configOperation: Op.SUBTRACT, value: 'compact' },
      ])
      expect(errName(back.errorCode), what).toBe('NONE')
      expect(await eventually(current, (c) => c.retention[0] === '604800000'), what).toEqual({
        retention: ['604800000', Source.DEFAULT_CONFIG],
        cleanup: 'delete',
      })

      const bad = await alter([{ name: 'retention.ms', configOperation: Op.SET, value: 'forever' }])
      expect(errName(bad.errorCode), what).toBe('INVALID_CONFIG')
      expect(bad.errorMessage, what).toMatch(/retention\.ms/)
    }
    const ghost = await conn.request(IncrementalAlterConfigs, {
      resources: [
        {
          resourceType: TOPIC,
          resourceName: uniqueTopic('ghost'),
          configs: [{ name: 'retention.ms', configOperation: Op.SET, value: '1' }],
        },
      ],
      validateOnly: false,
    })
    expect(errName(ghost.responses[0]!.errorCode)).toBe('UNKNOWN_TOPIC_OR_PARTITION')
  })

  test('every DescribeCluster version describes the cluster; v1+ names the endpoint type, v2 can include fenced brokers', async () => {
    const [, port] = conn.broker.split(':')
    for (const v of versionsBoth(conn, DescribeCluster)) {
      const what = `DescribeCluster v${v}`
      const res = await conn.request(
        DescribeCluster,
        { includeClusterAuthorizedOperations: false, endpointType: 1, includeFencedBrokers: v >= 2 },
        { version: v },
      )
      expect([errName(res.errorCode), res.errorMessage, res.clusterId], what).toEqual([
        'NONE',
        null,
        testKafka().clusterId,
      ])
      expect(res.controllerId, what).toBe(1)
      // The brokers' endpoints on the listener this request came in on.
      expect(res.brokers, what).toEqual([
        { brokerId: 1, host: '127.0.0.1', port: Number(port), rack: null, isFenced: false },
      ])
      expect(res.clusterAuthorizedOperations, what).toBe(NOT_REQUESTED)
      if (v >= 1) {
        expect(res.endpointType, what).toBe(1)
        // Controllers are described by controllers only (KIP-919); a broker refuses.
        const controllers = await conn.request(
          DescribeCluster,
          { includeClusterAuthorizedOperations: false, endpointType: 2, includeFencedBrokers: false },
          { version: v },
        )
        expect(errName(controllers.errorCode), what).toBe('MISMATCHED_ENDPOINT_TYPE')
      }
      const withOps = await conn.request(DescribeCluster, { includeClusterAuthorizedOperations: true }, { version: v })
      expect(withOps.clusterAuthorizedOperations, what).not.toBe(NOT_REQUESTED)
    }
  })
})
