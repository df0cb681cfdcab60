import { afterEach, describe, expect, test } from 'vitest'
import { Admin } from '../../../../src/client/admin/admin.js'
import { ConfigError } from '../../../../src/client/errors.js'
import { ConsumerGroupDescribe } from '../../../../src/protocol/apis/consumer-group-describe.js'
import { CreateTopics } from '../../../../src/protocol/apis/create-topics.js'
import { DeleteTopics } from '../../../../src/protocol/apis/delete-topics.js'
import { DescribeConfigs } from '../../../../src/protocol/apis/describe-configs.js'
import { DescribeGroups } from '../../../../src/protocol/apis/describe-groups.js'
import { FindCoordinator } from '../../../../src/protocol/apis/find-coordinator.js'
import { ListGroups } from '../../../../src/protocol/apis/list-groups.js'
import { ListOffsets } from '../../../../src/protocol/apis/list-offsets.js'
import { OffsetCommit } from '../../../../src/protocol/apis/offset-commit.js'
import { ErrorCode } from '../../../../src/protocol/error-codes.js'
import { type FakeCluster, fakeCluster } from './fake-cluster.js'

/** Routing, grouping and retries of the admin client, against scripted brokers (see fake-cluster.ts). */

const admins: Admin[] = []
afterEach(async () => {
  await Promise.all(admins.splice(0).map((a) => a.close()))
})
function adminOf(fake: FakeCluster): Admin {
  const admin = new Admin({ cluster: fake.cluster, retryBackoffMs: 1, retryBackoffMaxMs: 5 })
  admins.push(admin)
  return admin
}
const outcome = (r: { error?: { errorName: string } }) => r.error?.errorName ?? 'NONE'
/** A topic id (a UUID in Kafka's base64url form). */
const ID = (n: number) => Buffer.alloc(16, n).toString('base64url')

describe('admin routing and retries (scripted brokers)', () => {
  test('listOffsets asks each leader once for its partitions, and re-asks the new leader after NOT_LEADER_OR_FOLLOWER', async () => {
    const fake = fakeCluster(2, { topics: new Map([['t', { topicId: ID(1), leaders: [1, 2, 1, 2], leaderEpoch: 7 }]]) })
    const moved = { done: false }
    for (const b of fake.brokers) {
      b.on(ListOffsets, (body, _v, broker) => ({
        topics: body.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => {
            if (broker.nodeId === 1 && p.partitionIndex === 2 && !moved.done) {
              // The leader moved to broker 2 with a new epoch.
              moved.done = true
              fake.state.topics.set('t', { topicId: ID(1), leaders: [1, 2, 2, 2], leaderEpoch: 8 })
              return { partitionIndex: 2, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER }
            }
            return {
              partitionIndex: p.partitionIndex,
              errorCode: 0,
              offset: BigInt(100 * broker.nodeId + p.partitionIndex),
              timestamp: -1n,
              leaderEpoch: 7,
            }
          }),
        })),
      }))
    }
    const admin = adminOf(fake)
    const res = await admin.listOffsets([
      { topic: 't', partition: 0, spec: 'latest' },
      { topic: 't', partition: 1, spec: 'earliest' },
      { topic: 't', partition: 2, spec: 'latest' },
      { topic: 't', partition: 3, spec: { timestamp: 1234 } },
      { topic: 'ghost', partition: 0, spec: 'latest' },
      { topic: 't', partition: 9, spec: 'latest' },
    ])
    expect(res.map((r) => [r.topic, r.partition, r.error ? r.error.errorName : r.offset])).toEqual([
      ['t', 0, 100n],
      ['t', 1, 201n],
      ['t', 2, 202n],
      ['t', 3, 203n],
      ['ghost', 0, 'UNKNOWN_TOPIC_OR_PARTITION'],
      ['t', 9, 'UNKNOWN_TOPIC_OR_PARTITION'],
    ])
    const asked = fake
      .requests('ListOffsets')
      .map((r) => [
        r.broker,
        r.body.topics[0].partitions.map((p: any) => [p.partitionIndex, p.timestamp, p.currentLeaderEpoch]),
      ])
    expect(asked).toEqual([
      [
        1,
        [
          [0, -1n, 7],
          [2, -1n, 7],
        ],
      ],
      [
        2,
        [
          [1, -2n, 7],
          [3, 1234n, 7],
        ],
      ],
      // After refreshing metadata: the new leader, with the new epoch.
      [2, [[2, -1n, 8]]],
    ])
    expect(res[5]!.error!.message).toMatch(/t\[9\].*t has 4 partitions/)
  })

  test('describeGroups: one batched FindCoordinator, per-coordinator requests, load retries, re-finding a moved coordinator, KIP-848 fallback', async () => {
    const fake = fakeCluster(2)
    const coordinatorOf = new Map([
      ['g1', 1],
      ['g2', 1],
      ['g3', 2],
    ])
    for (const b of fake.brokers) {
      b.finalizedFeatures.set('group.version', 1)
      b.on(FindCoordinator, (body) => ({
        coordinators: body.coordinatorKeys.map((key) => {
          const node = coordinatorOf.get(key)!
          return { key, nodeId: node, host: '127.0.0.1', port: 19000 + node, errorCode: 0 }
        }),
      }))
    }
    let loads = 0
    const classic = (groupId: string) => ({
      groupId,
      errorCode: 0,
      groupState: 'Empty',
      protocolType: 'consumer',
      protocolData: '',
      members: [],
    })
    fake.brokers[0]!.on(DescribeGroups, (body) => ({
      // Answered in reverse order, as the coordinator answers per partition.
      groups: [...body.groups].reverse().map((groupId) => {
        if (groupId === 'g1' && loads++ === 0)
          return {
            groupId,
            errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
            groupState: '',
            protocolType: '',
            protocolData: '',
            members: [],
          }
        if (groupId === 'g3')
          return {
            groupId,
            errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
            errorMessage: 'Group g3 is not a classic group.',
            groupState: 'Dead',
            protocolType: '',
            protocolData: '',
            members: [],
          }
        return classic(groupId)
      }),
    }))
    fake.brokers[0]!.on(ConsumerGroupDescribe, (body) => ({
      throttleTimeMs: 0,
      groups: body.groupIds.map((groupId) => ({
        errorCode: 0,
        groupId,
        groupState: 'Stable',
        groupEpoch: 3,
        assignmentEpoch: 3,
        assignorName: 'uniform',
        members: [
          {
            memberId: 'm1',
            memberEpoch: 3,
            clientId: 'c',
            clientHost: '/127.0.0.1',
            subscribedTopicNames: ['t'],
            assignment: { topicPartitions: [{ topicId: ID(1), topicName: 't', partitions: [0, 1] }] },
            targetAssignment: { topicPartitions: [{ topicId: ID(1), topicName: 't', partitions: [0, 1] }] },
            memberType: 1,
          },
        ],
      })),
    }))
    fake.brokers[1]!.on(DescribeGroups, (body) => {
      // g3 has moved to broker 1.
      coordinatorOf.set('g3', 1)
      return {
        groups: body.groups.map((groupId) => ({
          groupId,
          errorCode: ErrorCode.NOT_COORDINATOR,
          groupState: '',
          protocolType: '',
          protocolData: '',
          members: [],
        })),
      }
    })
    const admin = adminOf(fake)
    const res = await admin.describeGroups(['g1', 'g2', 'g3'])
    expect(res.map((g) => [g.groupId, outcome(g), g.error ? null : [g.type, g.state, g.coordinator]])).toEqual([
      ['g1', 'NONE', ['classic', 'Empty', 1]],
      ['g2', 'NONE', ['classic', 'Empty', 1]],
      ['g3', 'NONE', ['consumer', 'Stable', 1]],
    ])
    const g3 = res[2]!
    if (g3.error) throw g3.error
    expect([g3.assignor, g3.groupEpoch, g3.members[0]!.memberType, g3.members[0]!.assignment]).toEqual([
      'uniform',
      3,
      'consumer',
      [{ topic: 't', topicId: ID(1), partitions: [0, 1] }],
    ])
    // FindCoordinator: once for all three (KIP-699 batching), then only for the group whose coordinator moved.
    expect(fake.requests('FindCoordinator').map((r) => [r.body.keyType, r.body.coordinatorKeys])).toEqual([
      [0, ['g1', 'g2', 'g3']],
      [0, ['g3']],
    ])
    expect(fake.requests('DescribeGroups').map((r) => [r.broker, [...r.body.groups].sort()])).toEqual([
      [1, ['g1', 'g2']],
      [2, ['g3']],
      [1, ['g1', 'g3']],
    ])
    expect(fake.requests('ConsumerGroupDescribe').map((r) => r.body.groupIds)).toEqual([['g3']])
  })

  test('createTopics retries only the topic answered NOT_CONTROLLER, at the new controller; TOPIC_ALREADY_EXISTS is final', async () => {
    const fake = fakeCluster(2, { controllerId: 1 })
    fake.brokers[0]!.on(CreateTopics, (body) => {
      fake.state.controllerId = 2
      return {
        topics: body.topics.map((t) => ({
          name: t.name,
          errorCode: t.name === 'dup' ? ErrorCode.TOPIC_ALREADY_EXISTS : ErrorCode.NOT_CONTROLLER,
          errorMessage: t.name === 'dup' ? "Topic 'dup' already exists." : null,
        })),
      }
    })
    fake.brokers[1]!.on(CreateTopics, (body) => ({
      topics: body.topics.map((t) => ({
        name: t.name,
        topicId: ID(2),
        errorCode: 0,
        numPartitions: t.numPartitions,
        replicationFactor: 3,
        configs: [],
      })),
    }))
    const admin = adminOf(fake)
    const res = await admin.createTopics(
      [
        { name: 'x', partitions: 6, configs: { 'retention.ms': '1000' } },
        { name: 'dup', partitions: 1 },
      ],
      { waitForLeaders: false },
    )
    expect(res).toEqual([
      { name: 'x', topicId: ID(2), partitions: 6, replicationFactor: 3, configs: [] },
      {
        name: 'dup',
        error: expect.objectContaining({
          errorName: 'TOPIC_ALREADY_EXISTS',
          errorMessage: "Topic 'dup' already exists.",
        }),
      },
    ])
    expect(fake.requests('CreateTopics').map((r) => [r.broker, r.body.topics.map((t: any) => t.name)])).toEqual([
      [1, ['x', 'dup']],
      [2, ['x']],
    ])
    const sent = fake.requests('CreateTopics')[1]!.body.topics[0]
    expect([sent.numPartitions, sent.replicationFactor, sent.configs]).toEqual([
      6,
      -1,
      [{ name: 'retention.ms', value: '1000' }],
    ])
    await expect(admin.createTopics([{ name: 'a' }, { name: 'a' }])).rejects.toThrow(ConfigError)
  })

  test("listGroups asks every broker; a broker that never answers is reported beside the others' groups", async () => {
    const fake = fakeCluster(2)
    fake.brokers[0]!.on(ListGroups, () => ({
      errorCode: 0,
      groups: [{ groupId: 'g1', protocolType: 'consumer', groupState: 'Stable', groupType: 'classic' }],
    }))
    const admin = adminOf(fake)
    await fake.cluster.metadata.refresh([])
    fake.brokers[1]!.down = true
    const res = await admin.listGroups({ timeoutMs: 200, states: ['Stable'] })
    expect(res.groups).toEqual([
      { groupId: 'g1', protocolType: 'consumer', state: 'Stable', type: 'classic', coordinator: 1 },
    ])
    expect(res.errors.map((e) => [e.broker, e.error.errorName])).toEqual([[2, 'NETWORK_EXCEPTION']])
    expect(fake.requests('ListGroups')[0]!.body).toEqual({ statesFilter: ['Stable'], typesFilter: [] })
  })

  test('alterGroupOffsets commits as an admin (generation -1, no member) at v9 at most, retrying a loading coordinator', async () => {
    const fake = fakeCluster(1)
    fake.brokers[0]!.on(FindCoordinator, (body) => ({
      coordinators: body.coordinatorKeys.map((key) => ({
        key,
        nodeId: 1,
        host: '127.0.0.1',
        port: 19001,
        errorCode: 0,
      })),
    }))
    let n = 0
    fake.brokers[0]!.on(OffsetCommit, (body) => {
      const code = n++ === 0 ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : 0
      return {
        topics: body.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partitionIndex,
            errorCode: p.partitionIndex === 5 ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : code,
          })),
        })),
      }
    })
    const admin = adminOf(fake)
    const res = await admin.alterGroupOffsets('g', [
      { topic: 't', partition: 0, offset: 5 },
      { topic: 't', partition: 5, offset: 1n },
    ])
    expect(res.map(outcome)).toEqual(['NONE', 'UNKNOWN_TOPIC_OR_PARTITION'])
    const sent = fake.requests('OffsetCommit')
    expect(sent).toHaveLength(2)
    expect(sent[1]!.version).toBe(9)
    expect([sent[1]!.body.generationIdOrMemberEpoch, sent[1]!.body.memberId]).toEqual([-1, ''])
    expect(sent[1]!.body.topics[0].partitions.map((p: any) => p.committedOffset)).toEqual([5n, 1n])
  })

  test('deleteTopics by id on a broker without DeleteTopics v6 names the topic from metadata', async () => {
    const fake = fakeCluster(1, { topics: new Map([['t', { topicId: ID(7), leaders: [1] }]]) })
    fake.brokers[0]!.apiVersions.set(DeleteTopics.key, { min: 1, max: 5 })
    fake.brokers[0]!.on(DeleteTopics, (body) => ({
      responses: body.topicNames.map((name) => ({ name, errorCode: 0 })),
    }))
    const admin = adminOf(fake)
    const res = await admin.deleteTopics([{ topicId: ID(7) }, { topicId: ID(8) }])
    expect(res).toEqual([
      { name: 't', topicId: ID(7) },
      { topicId: ID(8), error: expect.objectContaining({ errorName: 'UNKNOWN_TOPIC_ID' }) },
    ])
    expect(fake.requests('DeleteTopics').map((r) => [r.version, r.body.topicNames])).toEqual([[5, ['t']]])
  })

  test('describeConfigs sends a broker resource to that broker and the rest to any broker', async () => {
    const fake = fakeCluster(2)
    for (const b of fake.brokers) {
      b.on(DescribeConfigs, (body, _v, broker) => ({
        throttleTimeMs: 0,
        results: body.resources.map((r) => ({
          errorCode: r.resourceName === 'ghost' ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : 0,
          errorMessage: null,
          resourceType: r.resourceType,
          resourceName: r.resourceName,
          configs: [
            {
              name: 'k',
              value: `from ${broker.nodeId}`,
              readOnly: false,
              configSource: 4,
              isSensitive: false,
              configType: 3,
            },
          ],
        })),
      }))
    }
    const admin = adminOf(fake)
    await fake.cluster.metadata.refresh([])
    const res = await admin.describeConfigs([
      { type: 'broker', name: '2' },
      { type: 'topic', name: 't', keys: ['k'] },
      { type: 'topic', name: 'ghost' },
    ])
    expect(res.map((r) => (r.error ? r.error.errorName : r.configs[0]))).toEqual([
      {
        name: 'k',
        value: 'from 2',
        source: 'static-broker',
        isDefault: false,
        readOnly: false,
        sensitive: false,
        type: 'int',
      },
      expect.objectContaining({ value: expect.stringMatching(/^from [12]$/) }),
      'UNKNOWN_TOPIC_OR_PARTITION',
    ])
    const sent = fake.requests('DescribeConfigs')
    expect(sent.find((r) => r.body.resources[0].resourceType === 4)?.broker).toBe(2)
    expect(fake.requests('DescribeConfigs')).toHaveLength(2)
  })
})
