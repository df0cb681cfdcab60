import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Admin } from '../../src/client/admin/admin.js'
import { AdminTimeoutError } from '../../src/client/admin/errors.js'
import { Cluster } from '../../src/client/cluster/cluster.js'
import type { Connection } from '../../src/client/connection.js'
import { AbortedError, ConfigError, ConnectionError } from '../../src/client/errors.js'
import { AddPartitionsToTxn } from '../../src/protocol/apis/add-partitions-to-txn.js'
import { ConsumerGroupHeartbeat } from '../../src/protocol/apis/consumer-group-heartbeat.js'
import { encodeAssignment, encodeSubscription } from '../../src/protocol/apis/consumer-protocol.js'
import { EndTxn } from '../../src/protocol/apis/end-txn.js'
import { InitProducerId } from '../../src/protocol/apis/init-producer-id.js'
import { JoinGroup } from '../../src/protocol/apis/join-group.js'
import { LeaveGroup } from '../../src/protocol/apis/leave-group.js'
import { Produce } from '../../src/protocol/apis/produce.js'
import { SyncGroup } from '../../src/protocol/apis/sync-group.js'
import { KafkaError } from '../../src/protocol/kafka-error.js'
import { freePorts } from '../../src/testing/ports.js'
import { describeTopic } from '../helpers/fetch.js'
import { connectTestBroker, testKafka, uniqueTopic } from '../helpers/kafka.js'
import { batch, errName, eventually, note, produce, retryOn, sampleRecords } from '../helpers/protocol.js'

const uniqueId = (prefix: string) => `skiff-admin-${prefix}-${randomBytes(5).toString('hex')}`
/** The error name of an item result, or 'NONE', so assertions read `expected 'NONE', got 'INVALID_CONFIG'`. */
const outcome = (r: { error?: KafkaError }) => r.error?.errorName ?? 'NONE'

describe(`the admin client against Kafka ${testKafka().version}`, () => {
  let admin: Admin
  let raw: Connection
  beforeAll(async () => {
    admin = new Admin({ bootstrap: testKafka().bootstrap, clientId: 'skiff-admin-test' })
    raw = await connectTestBroker()
  })
  afterAll(async () => {
    await admin?.close()
    await raw?.close()
  })

  /** Creates a topic through the admin client and waits until its leaders serve requests. */
  async function topic(partitions = 1, configs?: Record<string, string>) {
    const name = uniqueTopic('admin')
    const [created] = await admin.createTopics([{ name, partitions, replicationFactor: 1, configs }])
    expect(outcome(created!), `create ${name}`).toBe('NONE')
    await describeTopic(raw, name)
    return { name, topicId: created!.error ? '' : created!.topicId! }
  }

  test('createTopics applies configs and assignments; an existing topic fails alone; validateOnly creates nothing', async () => {
    const [a, b, dry] = [uniqueTopic('create-a'), uniqueTopic('create-b'), uniqueTopic('create-dry')]
    const first = await admin.createTopics([
      { name: a, partitions: 3, configs: { 'retention.ms': '3600000', 'cleanup.policy': 'compact' } },
    ])
    expect(first.map(outcome)).toEqual(['NONE'])
    const created = first[0]!
    if (created.error) throw created.error
    expect([created.name, created.partitions, created.replicationFactor]).toEqual([a, 3, 1])
    expect(created.topicId).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(created.configs.find((c) => c.name === 'retention.ms')).toMatchObject({ value: '3600000', source: 'topic' })

    const second = await admin.createTopics([
      { name: a, partitions: 1 },
      { name: b, assignments: [[1], [1]] },
    ])
    expect(second.map((r) => [r.name, outcome(r)])).toEqual([
      [a, 'TOPIC_ALREADY_EXISTS'],
      [b, 'NONE'],
    ])
    expect(second[0]!.error).toBeInstanceOf(KafkaError)
    expect(second[0]!.error!.message).toMatch(/already exists/)

    expect((await admin.createTopics([{ name: dry, partitions: 2 }], { validateOnly: true })).map(outcome)).toEqual([
      'NONE',
    ])
    const listed = (await admin.listTopics()).map((t) => t.name)
    expect(listed).toEqual(expect.arrayContaining([a, b]))
    expect(listed).not.toContain(dry)

    // The configs took effect: DescribeConfigs shows them as topic overrides, with synonyms and docs on request.
    const [configs] = await admin.describeConfigs(
      [{ type: 'topic', name: a, keys: ['retention.ms', 'cleanup.policy', 'compression.type'] }],
      { synonyms: true, documentation: true },
    )
    if (configs!.error) throw configs!.error
    const byName = new Map(configs!.configs.map((c) => [c.name, c]))
    expect(byName.get('retention.ms')).toMatchObject({
      value: '3600000',
      source: 'topic',
      isDefault: false,
      type: 'long',
    })
    expect(byName.get('retention.ms')!.synonyms![0]).toEqual({
      name: 'retention.ms',
      value: '3600000',
      source: 'topic',
    })
    expect(byName.get('retention.ms')!.documentation).toMatch(/retain/i)
    expect(byName.get('cleanup.policy')).toMatchObject({ value: 'compact', source: 'topic', type: 'list' })
    expect(byName.get('compression.type')).toMatchObject({ value: 'producer', source: 'default', isDefault: true })

    // describeTopics: every partition led by the single broker; an unknown topic fails alone.
    const ghost = uniqueTopic('ghost')
    const described = await admin.describeTopics([a, b, ghost], { includeAuthorizedOperations: true })
    expect(described.map((d) => [d.name, outcome(d)])).toEqual([
      [a, 'NONE'],
      [b, 'NONE'],
      [ghost, 'UNKNOWN_TOPIC_OR_PARTITION'],
    ])
    const da = described[0]!
    if (da.error) throw da.error
    expect(da.topicId).toBe(created.topicId)
    expect(da.internal).toBe(false)
    expect(da.partitions.map((p) => [p.partition, p.leader, p.replicas, p.isr, p.offline])).toEqual([
      [0, 1, [1], [1], []],
      [1, 1, [1], [1], []],
      [2, 1, [1], [1], []],
    ])
    // No authorizer on the test broker: everything is allowed.
    expect(da.authorizedOperations).toEqual(expect.arrayContaining(['read', 'write', 'describe', 'delete']))
    expect(described[1]!.error ? [] : described[1]!.partitions.map((p) => p.replicas)).toEqual([[1], [1]])
  })

  test('createPartitions grows one topic while refusing a count that does not grow another', async () => {
    const [a, b] = [await topic(1), await topic(2)]
    const dry = await admin.createPartitions([{ topic: a.name, count: 5 }], { validateOnly: true })
    expect(dry.map(outcome)).toEqual(['NONE'])
    const res = await admin.createPartitions([
      { topic: a.name, count: 3, assignments: [[1], [1]] },
      { topic: b.name, count: 2 },
      { topic: uniqueTopic('ghost'), count: 2 },
    ])
    expect(res.map((r) => [r.topic, outcome(r)])).toEqual([
      [a.name, 'NONE'],
      [b.name, 'INVALID_PARTITIONS'],
      [res[2]!.topic, 'UNKNOWN_TOPIC_OR_PARTITION'],
    ])
    const [da, db] = await admin.describeTopics([a.name, b.name])
    expect([da!.error ? -1 : da!.partitions.length, db!.error ? -1 : db!.partitions.length]).toEqual([3, 2])
  })

  test('incrementalAlterConfigs sets, appends, subtracts and deletes; a bad value or unknown topic fails alone', async () => {
    const [a, b] = [await topic(), await topic()]
    const ghost = uniqueTopic('ghost')
    const res = await admin.incrementalAlterConfigs([
      {
        type: 'topic',
        name: a.name,
        ops: [
          { key: 'retention.ms', op: 'set', value: '7200000' },
          { key: 'cleanup.policy', op: 'append', value: 'compact' },
        ],
      },
      { type: 'topic', name: b.name, ops: [{ key: 'retention.ms', op: 'set', value: 'forever' }] },
      { type: 'topic', name: ghost, ops: [{ key: 'retention.ms', op: 'set', value: '1' }] },
    ])
    expect(res.map((r) => [r.name, outcome(r)])).toEqual([
      [a.name, 'NONE'],
      [b.name, 'INVALID_CONFIG'],
      [ghost, 'UNKNOWN_TOPIC_OR_PARTITION'],
    ])
    expect(res[1]!.error!.errorMessage).toMatch(/retention\.ms/)
    const current = async () => {
      const [d] = await admin.describeConfigs([
        { type: 'topic', name: a.name, keys: ['retention.ms', 'cleanup.policy'] },
      ])
      if (d!.error) throw d!.error
      return Object.fromEntries(d!.configs.map((c) => [c.name, [c.value, c.source]]))
    }
    expect(await eventually(current, (c) => c['retention.ms']![0] === '7200000')).toEqual({
      'retention.ms': ['7200000', 'topic'],
      'cleanup.policy': ['delete,compact', 'topic'],
    })
    const back = await admin.incrementalAlterConfigs([
      {
        type: 'topic',
        name: a.name,
        ops: [
          { key: 'retention.ms', op: 'delete' },
          { key: 'cleanup.policy', op: 'subtract', value: 'compact' },
        ],
      },
    ])
    expect(back.map(outcome)).toEqual(['NONE'])
    expect(await eventually(current, (c) => c['retention.ms']![1] === 'default')).toEqual({
      'retention.ms': ['604800000', 'default'],
      'cleanup.policy': ['delete', 'topic'],
    })

    // Broker resources go to that broker: its static config, and a validate-only change it accepts.
    const [broker] = await admin.describeConfigs([{ type: 'broker', name: '1', keys: ['num.io.threads'] }])
    expect(broker!.error ? broker!.error.message : broker!.configs).toEqual([
      expect.objectContaining({ name: 'num.io.threads', value: '4', source: 'static-broker', type: 'int' }),
    ])
    const dry = await admin.incrementalAlterConfigs(
      [{ type: 'broker', name: '1', ops: [{ key: 'log.cleaner.backoff.ms', op: 'set', value: '20000' }] }],
      { validateOnly: true },
    )
    expect(dry.map(outcome)).toEqual(['NONE'])
    await expect(admin.describeConfigs([{ type: 'broker', name: 'one' }])).rejects.toThrow(ConfigError)
  })

  test('listOffsets finds earliest, latest, by timestamp and max-timestamp; deleteRecords moves earliest, per partition', async () => {
    const t = await topic(2)
    const base = Date.now() - 60_000
    // Partition 0: 10 records at base+0..9 s, in 5 batches; partition 1: 3 records.
    for (let i = 0; i < 5; i++) {
      const stamps = [base + 2 * i * 1000, base + (2 * i + 1) * 1000]
      expect(errName((await produce(raw, t, 0, batch(sampleRecords(2, `b${i}`, stamps)))).errorCode)).toBe('NONE')
    }
    expect(errName((await produce(raw, t, 1, batch(sampleRecords(3, 'p1')))).errorCode)).toBe('NONE')

    const ghost = uniqueTopic('ghost')
    const offsets = await admin.listOffsets([
      { topic: t.name, partition: 0, spec: 'earliest' },
      { topic: t.name, partition: 1, spec: 'latest' },
      { topic: ghost, partition: 0, spec: 'latest' },
      { topic: t.name, partition: 7, spec: 'latest' },
    ])
    expect(offsets.map((o) => [o.topic, o.partition, outcome(o), o.error ? null : o.offset])).toEqual([
      [t.name, 0, 'NONE', 0n],
      [t.name, 1, 'NONE', 3n],
      [ghost, 0, 'UNKNOWN_TOPIC_OR_PARTITION', null],
      [t.name, 7, 'UNKNOWN_TOPIC_OR_PARTITION', null],
    ])
    const at = async (spec: Parameters<Admin['listOffsets']>[0][number]['spec']) => {
      const [o] = await admin.listOffsets([{ topic: t.name, partition: 0, spec }], { isolation: 'read_committed' })
      if (o!.error) throw o!.error
      return [o!.offset, o!.timestamp]
    }
    expect(await at({ timestamp: base + 4500 })).toEqual([5n, BigInt(base + 5000)])
    expect(await at({ timestamp: new Date(base) })).toEqual([0n, BigInt(base)])
    expect((await at({ timestamp: Date.now() + 3_600_000 }))[0]).toBe(-1n)
    expect(await at('max-timestamp')).toEqual([9n, BigInt(base + 9000)])
    expect((await at('latest'))[0]).toBe(10n)

    const deleted = await admin.deleteRecords([
      { topic: t.name, partition: 0, beforeOffset: 4n },
      { topic: t.name, partition: 1, beforeOffset: -1 },
      { topic: ghost, partition: 0, beforeOffset: 1 },
    ])
    expect(deleted.map((d) => [d.partition, outcome(d), d.error ? null : d.lowWatermark])).toEqual([
      [0, 'NONE', 4n],
      [1, 'NONE', 3n],
      [0, 'UNKNOWN_TOPIC_OR_PARTITION', null],
    ])
    const earliest = await admin.listOffsets([
      { topic: t.name, partition: 0, spec: 'earliest' },
      { topic: t.name, partition: 1, spec: 'earliest' },
    ])
    expect(earliest.map((o) => (o.error ? o.error.errorName : o.offset))).toEqual([4n, 3n])
    const tooFar = await admin.deleteRecords([{ topic: t.name, partition: 0, beforeOffset: 11 }])
    expect(tooFar.map(outcome)).toEqual(['OFFSET_OUT_OF_RANGE'])
  })

  test('group offsets: alter, list, delete per partition; describe, list and delete the group', async () => {
    const t = await topic(3)
    const groupId = uniqueId('offsets')
    const altered = await admin.alterGroupOffsets(groupId, [
      { topic: t.name, partition: 0, offset: 10n, metadata: 'ten' },
      { topic: t.name, partition: 1, offset: 20, leaderEpoch: 0 },
      { topic: t.name, partition: 2, offset: 30 },
    ])
    expect(altered.map(outcome)).toEqual(['NONE', 'NONE', 'NONE'])
    const listed = await admin.listGroupOffsets(groupId)
    expect(listed.map((o) => [o.topic, o.partition, o.error ? o.error.errorName : [o.offset, o.metadata]])).toEqual([
      [t.name, 0, [10n, 'ten']],
      [t.name, 1, [20n, '']],
      [t.name, 2, [30n, '']],
    ])
    expect(listed[1]!.error ? null : listed[1]!.leaderEpoch).toBe(0)
    expect(await admin.listGroupOffsets(groupId, { topics: ['another-topic'] })).toEqual([])

    const removed = await admin.deleteGroupOffsets(groupId, [{ topic: t.name, partition: 0 }])
    expect(removed.map(outcome)).toEqual(['NONE'])
    expect((await admin.listGroupOffsets(groupId)).map((o) => o.partition)).toEqual([1, 2])

    // A group with committed offsets and no members: an Empty classic group.
    const unknown = uniqueId('never')
    const described = await admin.describeGroups([groupId, unknown])
    expect(described.map((d) => [d.groupId, outcome(d)])).toEqual([
      [groupId, 'NONE'],
      [unknown, 'GROUP_ID_NOT_FOUND'],
    ])
    const g = described[0]!
    if (g.error) throw g.error
    expect([g.type, g.state, g.members, g.coordinator]).toEqual(['classic', 'Empty', [], 1])

    const all = await admin.listGroups()
    expect(all.errors).toEqual([])
    expect(all.groups.find((x) => x.groupId === groupId)).toMatchObject({ groupId, state: 'Empty', coordinator: 1 })
    expect((await admin.listGroups({ states: ['Stable'] })).groups.map((x) => x.groupId)).not.toContain(groupId)

    const deleted = await admin.deleteGroups([groupId, unknown])
    expect(deleted.map((d) => [d.groupId, outcome(d)])).toEqual([
      [groupId, 'NONE'],
      [unknown, 'GROUP_ID_NOT_FOUND'],
    ])
    expect(await admin.listGroupOffsets(groupId)).toEqual([])
    await expect(admin.deleteGroupOffsets(unknown, [{ topic: t.name, partition: 0 }])).rejects.toMatchObject({
      errorName: 'GROUP_ID_NOT_FOUND',
    })
  })

  test('a classic consumer group: members with decoded assignments; active members block offset changes and deletion', async () => {
    const t = await topic(3)
    const groupId = uniqueId('classic')
    const metadata = encodeSubscription(3, {
      topics: [t.name],
      userData: null,
      ownedPartitions: [],
      generationId: -1,
      rackId: 'rack-a',
    })
    const joinBody = {
      groupId,
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata }],
    }
    let joined = await raw.request(JoinGroup, { ...joinBody, memberId: '' })
    if (errName(joined.errorCode) === 'MEMBER_ID_REQUIRED')
      joined = await raw.request(JoinGroup, { ...joinBody, memberId: joined.memberId })
    expect(errName(joined.errorCode)).toBe('NONE')
    const assignment = encodeAssignment(0, { assignedPartitions: [{ topic: t.name, partitions: [0, 1, 2] }] })
    const synced = await raw.request(SyncGroup, {
      groupId,
      generationId: joined.generationId,
      memberId: joined.memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [{ memberId: joined.memberId, assignment }],
    })
    expect(errName(synced.errorCode)).toBe('NONE')
    try {
      const [g] = await admin.describeGroups([groupId], { includeAuthorizedOperations: true })
      if (g!.error) throw g!.error
      expect([g!.type, g!.state, g!.protocolType, g!.assignor]).toEqual(['classic', 'Stable', 'consumer', 'range'])
      expect(g!.members).toEqual([
        expect.objectContaining({
          memberId: joined.memberId,
          clientId: 'skiff-test',
          assignment: [{ topic: t.name, partitions: [0, 1, 2] }],
          subscribedTopics: [t.name],
          rackId: 'rack-a',
          protocolAssignment: assignment,
        }),
      ])
      expect(g!.authorizedOperations).toEqual(expect.arrayContaining(['read', 'describe']))

      const listed = await admin.listGroups({ states: ['Stable'], types: ['classic'] })
      expect(listed.groups.find((x) => x.groupId === groupId)).toEqual({
        groupId,
        protocolType: 'consumer',
        state: 'Stable',
        type: 'classic',
        coordinator: 1,
      })
      const consumers = await admin.listGroups({ types: ['consumer'] })
      expect(consumers.groups.map((x) => x.groupId)).not.toContain(groupId)

      const altered = await admin.alterGroupOffsets(groupId, [{ topic: t.name, partition: 0, offset: 1 }])
      expect(altered.map(outcome)).toEqual(['UNKNOWN_MEMBER_ID'])
      expect(altered[0]!.error!.message).toMatch(/active members/)
      expect((await admin.deleteGroups([groupId])).map(outcome)).toEqual(['NON_EMPTY_GROUP'])
    } finally {
      await raw.request(LeaveGroup, { groupId, members: [{ memberId: joined.memberId, groupInstanceId: null }] })
    }
    expect((await admin.deleteGroups([groupId])).map(outcome)).toEqual(['NONE'])
  })

  test('a KIP-848 consumer group is described with ConsumerGroupDescribe', async () => {
    const groupVersion = raw.finalizedFeatures.get('group.version') ?? 0
    if (groupVersion < 1) return note(`group.version ${groupVersion}: no consumer-protocol groups to describe`)
    const t = await topic(2)
    const groupId = uniqueId('kip848')
    const memberId = randomBytes(16).toString('base64url')
    const hb = (body: Parameters<typeof raw.request<typeof ConsumerGroupHeartbeat>>[1]) =>
      raw.request(ConsumerGroupHeartbeat, body)
    const first = await hb({
      groupId,
      memberId,
      memberEpoch: 0,
      rebalanceTimeoutMs: 10_000,
      subscribedTopicNames: [t.name],
      topicPartitions: [],
    })
    expect(errName(first.errorCode)).toBe('NONE')
    let epoch = first.memberEpoch
    let owned = first.assignment?.topicPartitions ?? []
    for (let i = 0; i < 50 && owned.flatMap((x) => x.partitions).length < 2; i++) {
      await sleep(100)
      const r = await hb({ groupId, memberId, memberEpoch: epoch, topicPartitions: owned })
      epoch = r.memberEpoch
      if (r.assignment) owned = r.assignment.topicPartitions
    }
    await hb({ groupId, memberId, memberEpoch: epoch, topicPartitions: owned })
    try {
      const described = await eventually(
        () => admin.describeGroups([groupId]),
        ([g]) => !g!.error && g!.state === 'Stable',
      )
      const g = described[0]!
      if (g.error) throw g.error
      expect([g.type, g.state, g.protocolType, g.coordinator]).toEqual(['consumer', 'Stable', 'consumer', 1])
      expect(g.assignor).toBeTruthy()
      expect(g.groupEpoch).toBeGreaterThanOrEqual(1)
      expect(g.members).toHaveLength(1)
      const m = g.members[0]!
      expect([m.memberId, m.memberEpoch, m.subscribedTopics]).toEqual([memberId, epoch, [t.name]])
      expect(m.assignment.map((a) => [a.topic, a.topicId, [...a.partitions].sort()])).toEqual([
        [t.name, t.topicId, [0, 1]],
      ])
      expect(m.targetAssignment).toEqual(m.assignment)
      const listed = await admin.listGroups({ types: ['consumer'] })
      expect(listed.groups.find((x) => x.groupId === groupId)).toMatchObject({ type: 'consumer', state: 'Stable' })
    } finally {
      await hb({ groupId, memberId, memberEpoch: -1 })
    }
    // Empty now: offsets may be set as an admin, and the group deleted.
    const altered = await admin.alterGroupOffsets(groupId, [{ topic: t.name, partition: 1, offset: 2 }])
    expect(altered.map(outcome)).toEqual(['NONE'])
    expect((await admin.listGroupOffsets(groupId)).map((o) => [o.partition, o.error ? null : o.offset])).toEqual([
      [1, 2n],
    ])
    expect((await admin.deleteGroups([groupId])).map(outcome)).toEqual(['NONE'])
  })

  test('listTopics, then deleteTopics by name and by id; an unknown topic fails alone', async () => {
    const [a, b] = [await topic(), await topic()]
    const all = await admin.listTopics({ internal: true })
    const plain = await admin.listTopics()
    expect(plain.map((x) => x.name)).toEqual(expect.arrayContaining([a.name, b.name]))
    expect(plain.every((x) => !x.internal)).toBe(true)
    expect(all.filter((x) => x.internal).map((x) => x.name)).toContain('__consumer_offsets')
    expect(plain.find((x) => x.name === a.name)).toEqual({
      name: a.name,
      topicId: a.topicId,
      internal: false,
      partitions: 1,
    })

    const ghost = uniqueTopic('ghost')
    const deleted = await admin.deleteTopics([a.name, { topicId: b.topicId }, ghost])
    expect(deleted.map((d) => [d.name, outcome(d)])).toEqual([
      [a.name, 'NONE'],
      [b.name, 'NONE'],
      [ghost, 'UNKNOWN_TOPIC_OR_PARTITION'],
    ])
    expect(deleted[1]!.topicId).toBe(b.topicId)
    const names = await eventually(
      async () => (await admin.listTopics()).map((x) => x.name),
      (n) => !n.includes(a.name) && !n.includes(b.name),
    )
    expect(names).not.toContain(a.name)
    expect(names).not.toContain(b.name)
  })

  test('describeCluster and describeApiVersions describe the single broker', async () => {
    const [, port] = testKafka().bootstrap.split(',')[0]!.split(':')
    const cluster = await admin.describeCluster({ includeAuthorizedOperations: true })
    expect(cluster).toMatchObject({
      clusterId: testKafka().clusterId,
      controller: 1,
      brokers: [{ nodeId: 1, host: '127.0.0.1', port: Number(port), rack: null }],
    })
    expect(cluster.authorizedOperations).toEqual(expect.arrayContaining(['describe', 'alter']))
    const [versions] = await admin.describeApiVersions()
    if (versions!.error) throw versions!.error
    expect(versions!.broker).toBe(1)
    const metadata = versions!.apis.find((a) => a.name === 'Metadata')!
    expect(metadata.usable).toBe(Math.min(metadata.max, 13))
    expect(versions!.features['metadata.version']).toBeGreaterThan(0)
  })

  test('transactions: an open transaction is listed, described, and seen among the partition producers', async () => {
    const t = await topic(1)
    const transactionalId = uniqueId('txn')
    // The admin finds the transaction coordinator (creating __transaction_state on a fresh broker) and waits out
    // its loading: afterwards the id is simply unknown.
    const before = await admin.describeTransactions([transactionalId])
    expect(before.map(outcome)).toEqual(['TRANSACTIONAL_ID_NOT_FOUND'])
    const init = await retryOn(
      () =>
        raw.request(InitProducerId, {
          transactionalId,
          transactionTimeoutMs: 60_000,
          producerId: -1n,
          producerEpoch: -1,
        }),
      (r) => r.errorCode,
      [14, 15, 16, 51],
      30_000,
    )
    expect(errName(init.errorCode)).toBe('NONE')
    const p = { producerId: init.producerId, producerEpoch: init.producerEpoch }
    const added = await retryOn(
      () =>
        raw.request(
          AddPartitionsToTxn,
          {
            v3AndBelowTransactionalId: transactionalId,
            v3AndBelowProducerId: p.producerId,
            v3AndBelowProducerEpoch: p.producerEpoch,
            v3AndBelowTopics: [{ name: t.name, partitions: [0] }],
          },
          { version: Math.min(raw.versionFor(AddPartitionsToTxn), 3) },
        ),
      (r) => r.resultsByTopicV3AndBelow[0]?.resultsByPartition[0]?.partitionErrorCode ?? 0,
    )
    expect(errName(added.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode)).toBe('NONE')
    const records = batch(sampleRecords(2, 'txn'), { transactional: true, ...p, baseSequence: 0 })
    const appended = await produce(raw, t, 0, records, {
      version: Math.min(raw.versionFor(Produce), 11),
      transactionalId,
    })
    expect(errName(appended.errorCode)).toBe('NONE')
    try {
      const listed = await admin.listTransactions({ states: ['Ongoing', 'NoSuchState'], producerIds: [p.producerId] })
      expect(listed.errors).toEqual([])
      expect(listed.unknownStates).toEqual(['NoSuchState'])
      expect(listed.transactions).toEqual([
        { transactionalId, producerId: p.producerId, state: 'Ongoing', coordinator: 1 },
      ])
      const unknown = uniqueId('never')
      const described = await admin.describeTransactions([transactionalId, unknown])
      expect(described.map((d) => [d.transactionalId, outcome(d)])).toEqual([
        [transactionalId, 'NONE'],
        [unknown, 'TRANSACTIONAL_ID_NOT_FOUND'],
      ])
      expect(described[0]).toMatchObject({
        state: 'Ongoing',
        producerId: p.producerId,
        producerEpoch: p.producerEpoch,
        timeoutMs: 60_000,
        coordinator: 1,
        topics: [{ topic: t.name, partitions: [0] }],
      })
      const producers = await admin.describeProducers([
        { topic: t.name, partition: 0 },
        { topic: uniqueTopic('ghost'), partition: 0 },
      ])
      expect(producers.map(outcome)).toEqual(['NONE', 'UNKNOWN_TOPIC_OR_PARTITION'])
      expect(producers[0]!.error ? [] : producers[0]!.producers).toEqual([
        expect.objectContaining({ producerId: p.producerId, lastSequence: 1, currentTransactionStartOffset: 0n }),
      ])
    } finally {
      const ended = await retryOn(
        () =>
          raw.request(
            EndTxn,
            { transactionalId, ...p, committed: false },
            { version: Math.min(raw.versionFor(EndTxn), 4) },
          ),
        (r) => r.errorCode,
      )
      expect(errName(ended.errorCode)).toBe('NONE')
    }
  })

  test('whole-call failures: an unreachable cluster times out, an aborted call rejects, a shared cluster stays open', async () => {
    const [dead] = await freePorts(1)
    const lonely = new Admin({ bootstrap: `127.0.0.1:${dead}`, connectTimeoutMs: 200, reconnectBackoffMs: 50 })
    try {
      const err = await lonely.listTopics({ timeoutMs: 600 }).catch((e) => e)
      expect(err).toBeInstanceOf(AdminTimeoutError)
      expect(err.cause).toBeInstanceOf(ConnectionError)
      const many = await lonely.describeGroups(['a', 'b'], { timeoutMs: 600 }).catch((e) => e)
      expect(many).toBeInstanceOf(AdminTimeoutError)
    } finally {
      await lonely.close()
    }

    const controller = new AbortController()
    const pending = admin.describeGroups([uniqueId('aborted')], { signal: controller.signal })
    controller.abort(new Error('changed my mind'))
    await expect(pending).rejects.toBeInstanceOf(AbortedError)

    const cluster = new Cluster({ bootstrap: testKafka().bootstrap })
    const shared = new Admin({ cluster })
    expect((await shared.describeCluster()).clusterId).toBe(testKafka().clusterId)
    await shared.close()
    await expect(shared.listTopics()).rejects.toThrow(/closed/)
    expect(cluster.isClosed).toBe(false)
    await cluster.close()
  })
})
