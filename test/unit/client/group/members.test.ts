import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, test } from 'vitest'
import { GroupMember, type GroupMemberOptions } from '../../../../src/client/consumer/group/member.js'
import type { TopicPartition } from '../../../../src/client/consumer/types.js'
import { ConsumerGroupHeartbeat } from '../../../../src/protocol/apis/consumer-group-heartbeat.js'
import { encodeAssignment } from '../../../../src/protocol/apis/consumer-protocol.js'
import { FindCoordinator } from '../../../../src/protocol/apis/find-coordinator.js'
import { Heartbeat } from '../../../../src/protocol/apis/heartbeat.js'
import { JoinGroup } from '../../../../src/protocol/apis/join-group.js'
import { LeaveGroup } from '../../../../src/protocol/apis/leave-group.js'
import { OffsetCommit } from '../../../../src/protocol/apis/offset-commit.js'
import { SyncGroup } from '../../../../src/protocol/apis/sync-group.js'
import { ErrorCode } from '../../../../src/protocol/error-codes.js'
import { type FakeBroker, type FakeCluster, fakeCluster } from '../admin/fake-cluster.js'

/**
 * The member state machines against a scripted coordinator: what a single real broker will not do on demand (hold a
 * JoinGroup, answer ILLEGAL_GENERATION, fence a member). Real-broker behaviour is tested in
 * test/conformance/groups-member.test.ts.
 */

const TOPIC = 't'
const TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAQ'
const fmt = (ps: readonly TopicPartition[]) => ps.map((p) => `${p.topic}:${p.partition}`)

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await sleep(5)
  }
}

class Gate {
  private release: (() => void) | undefined
  private gate: Promise<void> | undefined
  close(): void {
    this.gate = new Promise((r) => {
      this.release = r
    })
  }
  open(): void {
    this.release?.()
    this.gate = undefined
  }
  wait(): Promise<void> {
    return this.gate ?? Promise.resolve()
  }
}

function findCoordinatorOn(b: FakeBroker): void {
  b.on(FindCoordinator, (body, v) =>
    v >= 4
      ? {
          coordinators: body.coordinatorKeys.map((key) => ({
            key,
            nodeId: b.nodeId,
            host: '127.0.0.1',
            port: b.port,
            errorCode: 0,
            errorMessage: null,
          })),
        }
      : { errorCode: 0, errorMessage: null, nodeId: b.nodeId, host: '127.0.0.1', port: b.port },
  )
}

const hookLog = () => {
  const calls: Array<[string, string[]]> = []
  const hooks = {
    assigned: async (ps: TopicPartition[]) => void calls.push(['assigned', fmt(ps)]),
    revoked: async (ps: TopicPartition[]) => void calls.push(['revoked', fmt(ps)]),
    lost: async (ps: TopicPartition[]) => void calls.push(['lost', fmt(ps)]),
  }
  return { calls, hooks }
}

let cleanup: Array<() => void> = []
afterEach(() => {
  for (const c of cleanup) c()
  cleanup = []
})

/** A one-member classic group on a scripted coordinator; the member leads and assigns all 4 partitions. */
function classicGroup(options: Partial<GroupMemberOptions> = {}) {
  const fake: FakeCluster = fakeCluster(1, { topics: new Map([[TOPIC, { topicId: TOPIC_ID, leaders: [1, 1, 1, 1] }]]) })
  const b = fake.brokers[0]!
  findCoordinatorOn(b)
  const script = {
    generation: 0,
    joinGate: new Gate(),
    joinCodes: [] as number[],
    /** Answers to the next heartbeats, then NONE. */
    heartbeatCodes: [] as number[],
    commitCode: 0 as number,
  }
  b.on(JoinGroup, async (body) => {
    if (body.memberId === '' && body.groupInstanceId === null) {
      return {
        errorCode: ErrorCode.MEMBER_ID_REQUIRED,
        memberId: 'member-1',
        leader: '',
        protocolName: null,
        members: [],
      }
    }
    await script.joinGate.wait()
    const code = script.joinCodes.shift()
    if (code) return { errorCode: code, memberId: body.memberId, leader: '', protocolName: null, members: [] }
    script.generation++
    // A static member is given its id at once (no MEMBER_ID_REQUIRED).
    const memberId = body.memberId || 'member-static'
    return {
      errorCode: 0,
      generationId: script.generation,
      protocolType: 'consumer',
      protocolName: body.protocols[0]!.name,
      leader: memberId,
      memberId,
      members: [{ memberId, groupInstanceId: body.groupInstanceId, metadata: body.protocols[0]!.metadata }],
    }
  })
  b.on(SyncGroup, (body) => ({
    errorCode: 0,
    protocolType: 'consumer',
    protocolName: body.protocolName,
    assignment:
      body.assignments.find((a) => a.memberId === body.memberId)?.assignment ??
      encodeAssignment(0, { assignedPartitions: [] }),
  }))
  b.on(Heartbeat, () => ({ errorCode: script.heartbeatCodes.shift() ?? 0 }))
  b.on(OffsetCommit, (body) => ({
    topics: body.topics.map((t) => ({
      name: t.name,
      topicId: t.topicId,
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: script.commitCode })),
    })),
  }))
  b.on(LeaveGroup, (body) => ({
    errorCode: 0,
    members: (body.members ?? []).map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      errorCode: 0,
    })),
  }))
  const { calls, hooks } = hookLog()
  const member = new GroupMember(
    fake.cluster,
    { groupId: 'g', topics: [TOPIC], sessionTimeoutMs: 1000, heartbeatIntervalMs: 20, ...options },
    hooks,
  )
  cleanup.push(() => void member.leave({ timeoutMs: 100 }).catch(() => {}))
  return { fake, b, script, member, calls }
}

const ALL = ['t:0', 't:1', 't:2', 't:3']
const offsets = (partitions: number[]) => partitions.map((partition) => ({ topic: TOPIC, partition, offset: 5 }))

describe('classic member', () => {
  test('joins after MEMBER_ID_REQUIRED with the id it was given, leads, and assigns itself everything', async () => {
    const g = classicGroup()
    await g.member.start()
    expect(g.member.memberId).toBe('member-1')
    expect(g.member.generationId).toBe(1)
    expect(g.calls).toEqual([['assigned', ALL]])
    expect(g.fake.requests('JoinGroup').map((r) => r.body.memberId)).toEqual(['', 'member-1'])
  })

  test('a second active member on the same Cluster is refused: they would block each other on the group connection', async () => {
    const g = classicGroup()
    await g.member.start()
    const { hooks } = hookLog()
    const other = new GroupMember(g.fake.cluster, { groupId: 'other', topics: [TOPIC] }, hooks)
    await expect(other.start()).rejects.toMatchObject({ name: 'ConfigError' })
    await g.member.leave()
    await other.leave()
  })

  test('the protocol is eager unless every assignor offered supports cooperative (as Kafka decides)', async () => {
    const eager = classicGroup({ assignors: ['range', 'cooperative-sticky'] })
    const coop = classicGroup({ assignors: ['cooperative-sticky'] })
    const protocolOf = (m: GroupMember) =>
      (m as unknown as { impl: { rebalanceProtocol: string } }).impl.rebalanceProtocol
    expect([protocolOf(eager.member), protocolOf(coop.member)]).toEqual(['eager', 'cooperative'])
  })

  test('a commit while the coordinator holds the JoinGroup is refused with RebalanceInProgressError, and works after', async () => {
    const g = classicGroup()
    await g.member.start()
    g.script.joinGate.close()
    g.script.heartbeatCodes = [ErrorCode.REBALANCE_IN_PROGRESS]
    await until('the member rejoins', () => g.fake.requests('JoinGroup').length === 3)
    // Eager: everything was revoked before the JoinGroup went out.
    expect(g.calls.at(-1)).toEqual(['revoked', ALL])
    await expect(g.member.commit(offsets([0]))).rejects.toMatchObject({
      name: 'RebalanceInProgressError',
      retriable: true,
    })
    g.script.joinGate.open()
    await until('the rebalance completes', () => g.member.generationId === 2 && g.member.assignment().length === 4)
    await g.member.commit(offsets([0]))
    expect(g.fake.requests('OffsetCommit').at(-1)!.body.generationIdOrMemberEpoch).toBe(2)
  })

  test('REBALANCE_IN_PROGRESS on a commit: RebalanceInProgressError, and the member rejoins', async () => {
    const g = classicGroup()
    await g.member.start()
    g.script.commitCode = ErrorCode.REBALANCE_IN_PROGRESS
    await expect(g.member.commit(offsets([1]))).rejects.toMatchObject({ name: 'RebalanceInProgressError' })
    await until('the member rejoined', () => g.member.generationId === 2)
  })

  test('ILLEGAL_GENERATION on a commit: CommitFailedError, the partitions are lost, and the member rejoins keeping its id', async () => {
    const g = classicGroup()
    await g.member.start()
    g.script.commitCode = ErrorCode.ILLEGAL_GENERATION
    await expect(g.member.commit(offsets([1, 2]))).rejects.toMatchObject({
      name: 'CommitFailedError',
      retriable: false,
    })
    await until('the member rejoined', () => g.member.generationId === 2)
    expect(g.calls).toEqual([
      ['assigned', ALL],
      ['lost', ALL],
      ['assigned', ALL],
    ])
    // ILLEGAL_GENERATION keeps the member id (it is still valid); the rejoin used it.
    expect(g.fake.requests('JoinGroup').at(-1)!.body.memberId).toBe('member-1')
  })

  test('UNKNOWN_MEMBER_ID on a heartbeat: the partitions are lost, not revoked, and the member joins afresh', async () => {
    const g = classicGroup()
    await g.member.start()
    g.script.heartbeatCodes = [ErrorCode.UNKNOWN_MEMBER_ID]
    await until('the member rejoined', () => g.member.generationId === 2)
    expect(g.calls.map(([h]) => h)).toEqual(['assigned', 'lost', 'assigned'])
    // Without a member id: MEMBER_ID_REQUIRED again.
    expect(g.fake.requests('JoinGroup').map((r) => r.body.memberId)).toEqual(['', 'member-1', '', 'member-1'])
  })

  test('COORDINATOR_LOAD_IN_PROGRESS and NOT_COORDINATOR on JoinGroup are retried, looking the coordinator up again', async () => {
    const g = classicGroup()
    g.script.joinCodes = [ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.NOT_COORDINATOR]
    await g.member.start()
    expect(g.fake.requests('JoinGroup').length).toBe(4)
    expect(g.fake.requests('FindCoordinator').length).toBe(2)
    expect(g.calls).toEqual([['assigned', ALL]])
  })

  test('FENCED_INSTANCE_ID on a heartbeat is fatal: the partitions are lost and the error reported', async () => {
    const g = classicGroup({ groupInstanceId: 'static-1' })
    const errors: Error[] = []
    g.member.on('error', (e: Error) => errors.push(e))
    await g.member.start()
    g.script.heartbeatCodes = [ErrorCode.FENCED_INSTANCE_ID]
    await until('the member failed', () => errors.length === 1)
    expect(errors[0]).toMatchObject({ name: 'KafkaError', errorName: 'FENCED_INSTANCE_ID' })
    await until('the partitions were lost', () => g.calls.length === 2)
    expect(g.calls.at(-1)).toEqual(['lost', ALL])
    await expect(g.member.commit(offsets([0]))).rejects.toMatchObject({ errorName: 'FENCED_INSTANCE_ID' })
  })

  test('leave revokes (the hook commits) and then sends LeaveGroup; a static member sends none', async () => {
    const dynamic = classicGroup()
    await dynamic.member.start()
    await dynamic.member.leave()
    expect(dynamic.calls.at(-1)).toEqual(['revoked', ALL])
    expect(dynamic.fake.requests('LeaveGroup').map((r) => r.body.members)).toEqual([
      [{ memberId: 'member-1', groupInstanceId: null, reason: 'the consumer is leaving the group' }],
    ])
    const statik = classicGroup({ groupInstanceId: 'static-1' })
    await statik.member.start()
    await statik.member.leave()
    expect(statik.calls.at(-1)).toEqual(['revoked', ALL])
    expect(statik.fake.requests('LeaveGroup')).toEqual([])
  })
})

/** A one-member KIP-848 group on a scripted coordinator; each answer is scripted by the test. */
function consumerGroup() {
  const fake = fakeCluster(1, { topics: new Map([[TOPIC, { topicId: TOPIC_ID, leaders: [1, 1, 1, 1] }]]) })
  const b = fake.brokers[0]!
  b.finalizedFeatures.set('group.version', 1)
  findCoordinatorOn(b)
  const script = {
    epoch: 0,
    assignment: [0, 1, 2, 3] as number[] | null,
    heartbeatCode: 0 as number,
    commitCodes: [] as number[],
  }
  b.on(ConsumerGroupHeartbeat, (body) => {
    if (body.memberEpoch < 0)
      return {
        errorCode: 0,
        memberId: body.memberId,
        memberEpoch: body.memberEpoch,
        heartbeatIntervalMs: 20,
        throttleTimeMs: 0,
      }
    if (script.heartbeatCode) {
      const code = script.heartbeatCode
      script.heartbeatCode = 0
      return { errorCode: code, memberEpoch: -1, heartbeatIntervalMs: 0, throttleTimeMs: 0 }
    }
    if (body.memberEpoch === 0) script.epoch++
    const assignment = script.assignment
    script.assignment = null
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      memberId: body.memberId,
      memberEpoch: script.epoch,
      heartbeatIntervalMs: 20,
      assignment: assignment ? { topicPartitions: [{ topicId: TOPIC_ID, partitions: assignment }] } : null,
    }
  })
  b.on(OffsetCommit, (body) => ({
    topics: body.topics.map((t) => ({
      name: t.name,
      topicId: t.topicId,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        errorCode: script.commitCodes.shift() ?? 0,
      })),
    })),
  }))
  const { calls, hooks } = hookLog()
  const member = new GroupMember(fake.cluster, { groupId: 'g', protocol: 'consumer', topics: [TOPIC] }, hooks)
  cleanup.push(() => void member.leave({ timeoutMs: 100 }).catch(() => {}))
  return { fake, script, member, calls }
}

describe('consumer-protocol member (KIP-848)', () => {
  test('joins at epoch 0 with every field, then heartbeats carry only what changed (the new assignment, once)', async () => {
    const g = consumerGroup()
    await g.member.start()
    expect(g.calls).toEqual([['assigned', ALL]])
    await until('a few heartbeats', () => g.fake.requests('ConsumerGroupHeartbeat').length >= 4)
    const [join, ack, steady] = g.fake.requests('ConsumerGroupHeartbeat').map((r) => r.body)
    expect(join).toMatchObject({
      memberEpoch: 0,
      subscribedTopicNames: [TOPIC],
      rebalanceTimeoutMs: 300_000,
      topicPartitions: [],
    })
    expect(join.memberId).toHaveLength(22)
    expect(ack).toMatchObject({
      memberId: join.memberId,
      memberEpoch: 1,
      subscribedTopicNames: null,
      rebalanceTimeoutMs: -1,
    })
    expect(ack.topicPartitions).toEqual([{ topicId: TOPIC_ID, partitions: [0, 1, 2, 3] }])
    expect(steady).toMatchObject({ memberEpoch: 1, subscribedTopicNames: null, topicPartitions: null })
  })

  test('a new target revokes what moved (the hook runs while the partitions are still ours), then acknowledges', async () => {
    const g = consumerGroup()
    await g.member.start()
    let ownedDuringRevoke: string[] = []
    g.member.on('revoked', () => {
      ownedDuringRevoke = fmt(g.member.assignment())
    })
    g.script.epoch = 2
    g.script.assignment = [0, 1]
    await until('the revocation is acknowledged', () =>
      g.fake.requests('ConsumerGroupHeartbeat').some((r) => r.body.topicPartitions?.[0]?.partitions.length === 2),
    )
    expect(g.calls).toEqual([
      ['assigned', ALL],
      ['revoked', ['t:2', 't:3']],
    ])
    expect(ownedDuringRevoke).toEqual(ALL)
    expect(fmt(g.member.assignment())).toEqual(['t:0', 't:1'])
    expect(g.member.generationId).toBe(2)
  })

  test('FENCED_MEMBER_EPOCH: the partitions are lost, and the member rejoins at epoch 0 with the same id', async () => {
    const g = consumerGroup()
    await g.member.start()
    const id = g.member.memberId
    g.script.heartbeatCode = ErrorCode.FENCED_MEMBER_EPOCH
    g.script.assignment = [0, 1, 2, 3]
    await until('reassigned', () => g.calls.length === 3)
    expect(g.calls.map(([h]) => h)).toEqual(['assigned', 'lost', 'assigned'])
    const rejoin = g.fake.requests('ConsumerGroupHeartbeat').find((r, i) => i > 0 && r.body.memberEpoch === 0)!.body
    expect(rejoin).toMatchObject({ memberId: id, subscribedTopicNames: [TOPIC], topicPartitions: [] })
    expect(g.member.generationId).toBe(2)
  })

  test('STALE_MEMBER_EPOCH on a commit of partitions no longer ours fails it (CommitFailedError) instead of retrying', async () => {
    const g = consumerGroup()
    await g.member.start()
    g.script.commitCodes = [ErrorCode.STALE_MEMBER_EPOCH]
    const err = await g.member.commit([{ topic: 'other', partition: 0, offset: 1 }]).catch((e) => e)
    expect(err).toMatchObject({ name: 'CommitFailedError', partitions: [{ topic: 'other', partition: 0 }] })
    expect(g.fake.requests('OffsetCommit').length).toBe(1)
  })

  test('UNKNOWN_MEMBER_ID on a commit fails it with CommitFailedError; a retriable error is retried', async () => {
    const g = consumerGroup()
    await g.member.start()
    g.script.commitCodes = [ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.UNKNOWN_MEMBER_ID]
    await expect(g.member.commit(offsets([0]))).rejects.toMatchObject({ name: 'CommitFailedError' })
    expect(g.fake.requests('OffsetCommit').length).toBe(2)
  })

  test('leaving revokes, then heartbeats epoch -1', async () => {
    const g = consumerGroup()
    await g.member.start()
    await g.member.leave()
    expect(g.calls.at(-1)).toEqual(['revoked', ALL])
    expect(g.fake.requests('ConsumerGroupHeartbeat').at(-1)!.body.memberEpoch).toBe(-1)
  })
})
