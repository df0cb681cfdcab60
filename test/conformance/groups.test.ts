import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Connection } from '../../src/client/connection.js'
import { ConsumerGroupDescribe } from '../../src/protocol/apis/consumer-group-describe.js'
import {
  ConsumerGroupHeartbeat,
  type ConsumerGroupHeartbeatRequest,
} from '../../src/protocol/apis/consumer-group-heartbeat.js'
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from '../../src/protocol/apis/consumer-protocol.js'
import { DeleteGroups } from '../../src/protocol/apis/delete-groups.js'
import { DescribeGroups } from '../../src/protocol/apis/describe-groups.js'
import { FindCoordinator } from '../../src/protocol/apis/find-coordinator.js'
import { Heartbeat } from '../../src/protocol/apis/heartbeat.js'
import { JoinGroup } from '../../src/protocol/apis/join-group.js'
import { LeaveGroup } from '../../src/protocol/apis/leave-group.js'
import { ListGroups } from '../../src/protocol/apis/list-groups.js'
import { OffsetCommit } from '../../src/protocol/apis/offset-commit.js'
import { OffsetDelete } from '../../src/protocol/apis/offset-delete.js'
import { OffsetFetch } from '../../src/protocol/apis/offset-fetch.js'
import { SyncGroup } from '../../src/protocol/apis/sync-group.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'
import { connectTestBroker, testKafka } from '../helpers/kafka.js'
import {
  createTopic,
  errName,
  eventually,
  groupCoordinatorReady,
  note,
  type TestTopic,
  transactionCoordinatorReady,
  versionsBetween,
  versionsBoth,
} from '../helpers/protocol.js'

const uniqueGroup = (prefix = 'group') => `skiff-${prefix}-${randomBytes(5).toString('hex')}`

/** A consumer's JoinGroup metadata: it subscribes to `topics`. */
const subscription = (topics: string[]) =>
  encodeSubscription(3, { topics, userData: null, ownedPartitions: [], generationId: -1, rackId: null })

interface Joined {
  memberId: string
  generationId: number
  leader: string
  protocolName: string | null
  members: Array<{ memberId: string; groupInstanceId: string | null; metadata: Buffer }>
  /** Whether the coordinator first answered MEMBER_ID_REQUIRED (KIP-394). */
  neededMemberId: boolean
}

/**
 * Joins a classic group as a consumer offering `range` then `roundrobin`. A dynamic member's first join at v4+ is
 * answered MEMBER_ID_REQUIRED with the id to join with; the helper joins again with it, as a consumer does.
 */
async function join(
  conn: Connection,
  groupId: string,
  metadata: Buffer,
  options: { version?: number; memberId?: string; groupInstanceId?: string | null } = {},
): Promise<Joined> {
  const version = options.version ?? conn.versionFor(JoinGroup)
  const send = (memberId: string) =>
    conn.request(
      JoinGroup,
      {
        groupId,
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        memberId,
        groupInstanceId: options.groupInstanceId ?? null,
        protocolType: 'consumer',
        protocols: [
          { name: 'range', metadata },
          { name: 'roundrobin', metadata },
        ],
        reason: 'conformance test',
      },
      { version, timeoutMs: 20_000 },
    )
  let res = await send(options.memberId ?? '')
  let neededMemberId = false
  if (res.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
    neededMemberId = true
    expect(res.memberId, `JoinGroup v${version}: MEMBER_ID_REQUIRED carries the id`).not.toBe('')
    expect(res.generationId).toBe(-1)
    res = await send(res.memberId)
  }
  expect(errName(res.errorCode), `JoinGroup v${version}`).toBe('NONE')
  if (version >= 7) expect(res.protocolType, `JoinGroup v${version}`).toBe('consumer')
  if (version >= 9) expect(res.skipAssignment, `JoinGroup v${version}`).toBe(false)
  return { ...res, neededMemberId }
}

async function sync(
  conn: Connection,
  groupId: string,
  joined: Pick<Joined, 'memberId' | 'generationId'>,
  assignments: Array<{ memberId: string; assignment: Buffer }>,
  options: { version?: number; groupInstanceId?: string | null } = {},
) {
  const version = options.version ?? conn.versionFor(SyncGroup)
  const res = await conn.request(
    SyncGroup,
    {
      groupId,
      generationId: joined.generationId,
      memberId: joined.memberId,
      groupInstanceId: options.groupInstanceId ?? null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments,
    },
    { version, timeoutMs: 20_000 },
  )
  expect(errName(res.errorCode), `SyncGroup v${version}`).toBe('NONE')
  if (version >= 5) expect([res.protocolType, res.protocolName], `SyncGroup v${version}`).toEqual(['consumer', 'range'])
  return res.assignment
}

const heartbeat = (
  conn: Connection,
  groupId: string,
  joined: Pick<Joined, 'memberId' | 'generationId'>,
  version?: number,
) =>
  conn
    .request(Heartbeat, { groupId, generationId: joined.generationId, memberId: joined.memberId }, { version })
    .then((r) => errName(r.errorCode))

async function leave(
  conn: Connection,
  groupId: string,
  memberId: string,
  options: { version?: number; groupInstanceId?: string } = {},
) {
  const version = options.version ?? conn.versionFor(LeaveGroup)
  const res = await conn.request(
    LeaveGroup,
    version >= 3
      ? { groupId, members: [{ memberId, groupInstanceId: options.groupInstanceId ?? null, reason: 'done' }] }
      : { groupId, memberId },
    { version },
  )
  expect(errName(res.errorCode), `LeaveGroup v${version}`).toBe('NONE')
  if (version >= 3) {
    expect(res.members, `LeaveGroup v${version}`).toEqual([
      { memberId, groupInstanceId: options.groupInstanceId ?? null, errorCode: 0 },
    ])
  }
}

/** Commits one offset as a standalone consumer (generation -1, no member) unless a member is given. */
async function commit(
  conn: Connection,
  groupId: string,
  topic: TestTopic,
  partition: number,
  offset: bigint,
  options: {
    version?: number
    metadata?: string | null
    leaderEpoch?: number
    generation?: number
    memberId?: string
  } = {},
) {
  const version = options.version ?? conn.versionFor(OffsetCommit)
  const res = await conn.request(
    OffsetCommit,
    {
      groupId,
      generationIdOrMemberEpoch: options.generation ?? -1,
      memberId: options.memberId ?? '',
      topics: [
        {
          name: topic.name,
          topicId: topic.topicId,
          partitions: [
            {
              partitionIndex: partition,
              committedOffset: offset,
              committedLeaderEpoch: options.leaderEpoch ?? -1,
              committedMetadata: options.metadata ?? null,
            },
          ],
        },
      ],
    },
    { version },
  )
  expect(res.topics, `OffsetCommit v${version}`).toHaveLength(1)
  if (version >= 10) expect(res.topics[0]!.topicId).toBe(topic.topicId)
  else expect(res.topics[0]!.name).toBe(topic.name)
  expect(res.topics[0]!.partitions.map((p) => p.partitionIndex)).toEqual([partition])
  return errName(res.topics[0]!.partitions[0]!.errorCode)
}

interface FetchedOffset {
  partition: number
  offset: bigint
  leaderEpoch: number
  metadata: string | null
  error: string
}

/** OffsetFetch of one group's partitions of `topic` (null: every committed partition), in either request shape. */
async function fetchOffsets(
  conn: Connection,
  groupId: string,
  topic: TestTopic,
  partitions: number[] | null,
  options: { version?: number; requireStable?: boolean } = {},
): Promise<{ error: string; partitions: FetchedOffset[] }> {
  const version = options.version ?? conn.versionFor(OffsetFetch)
  const requireStable = options.requireStable ?? false
  const norm = (p: {
    partitionIndex: number
    committedOffset: bigint
    committedLeaderEpoch: number
    metadata: string | null
    errorCode: number
  }) => ({
    partition: p.partitionIndex,
    offset: p.committedOffset,
    leaderEpoch: p.committedLeaderEpoch,
    metadata: p.metadata,
    error: errName(p.errorCode),
  })
  if (version < 8) {
    const res = await conn.request(
      OffsetFetch,
      {
        groupId,
        topics: partitions === null ? null : [{ name: topic.name, partitionIndexes: partitions }],
        requireStable,
      },
      { version },
    )
    const t = res.topics.find((x) => x.name === topic.name)
    return { error: errName(res.errorCode), partitions: (t?.partitions ?? []).map(norm) }
  }
  const res = await conn.request(
    OffsetFetch,
    {
      groups: [
        {
          groupId,
          topics:
            partitions === null ? null : [{ name: topic.name, topicId: topic.topicId, partitionIndexes: partitions }],
        },
      ],
      requireStable,
    },
    { version },
  )
  expect(res.groups.map((g) => g.groupId)).toEqual([groupId])
  const g = res.groups[0]!
  const t = g.topics.find((x) => (version >= 10 ? x.topicId === topic.topicId : x.name === topic.name))
  return { error: errName(g.errorCode), partitions: (t?.partitions ?? []).map(norm) }
}

describe(`consumer groups against Kafka ${testKafka().version}`, () => {
  let conn: Connection
  let topic: TestTopic
  beforeAll(async () => {
    conn = await connectTestBroker()
    topic = await createTopic(conn, { prefix: 'groups', partitions: 3 })
    await groupCoordinatorReady(conn)
    await transactionCoordinatorReady(conn)
  })
  afterAll(async () => {
    await conn?.close()
  })

  test('FindCoordinator: every version finds the group and transaction coordinators; v4+ answers several keys at once', async () => {
    for (const v of versionsBoth(conn, FindCoordinator)) {
      const what = `FindCoordinator v${v}`
      const [a, b] = [uniqueGroup(), uniqueGroup()]
      if (v < 4) {
        const res = await conn.request(FindCoordinator, { key: a }, { version: v })
        expect(errName(res.errorCode), what).toBe('NONE')
        expect(`${res.host}:${res.port}`, what).toBe(conn.broker)
        expect(res.nodeId, what).toBeGreaterThanOrEqual(0)
        expect(res.coordinators, what).toEqual([])
        // keyType arrived in v1: 1 asks for a transactional id's coordinator.
        if (v >= 1) {
          const txn = await conn.request(FindCoordinator, { key: a, keyType: 1 }, { version: v })
          expect([errName(txn.errorCode), `${txn.host}:${txn.port}`], `${what} transaction`).toEqual([
            'NONE',
            conn.broker,
          ])
        }
      } else {
        for (const keyType of [0, 1]) {
          const res = await conn.request(FindCoordinator, { keyType, coordinatorKeys: [a, b] }, { version: v })
          expect(
            res.coordinators.map((c) => [c.key, errName(c.errorCode), `${c.host}:${c.port}`]),
            `${what} keyType ${keyType}`,
          ).toEqual([
            [a, 'NONE', conn.broker],
            [b, 'NONE', conn.broker],
          ])
        }
      }
    }
  })

  test('every JoinGroup version joins (v4+ after MEMBER_ID_REQUIRED), then SyncGroup, Heartbeat, LeaveGroup at every version', async () => {
    const joins = versionsBoth(conn, JoinGroup)
    const syncs = versionsBoth(conn, SyncGroup)
    const heartbeats = versionsBoth(conn, Heartbeat)
    const leaves = versionsBoth(conn, LeaveGroup)
    const metadata = subscription([topic.name])
    for (const [i, v] of joins.entries()) {
      const [syncV, hbV, leaveV] = [
        syncs[i % syncs.length]!,
        heartbeats[i % heartbeats.length]!,
        leaves[i % leaves.length]!,
      ]
      const what = `JoinGroup v${v} / SyncGroup v${syncV} / Heartbeat v${hbV} / LeaveGroup v${leaveV}`
      const groupId = uniqueGroup(`join-v${v}`)
      const joined = await join(conn, groupId, metadata, { version: v })
      expect(joined.neededMemberId, what).toBe(v >= 4)
      expect(joined.generationId, what).toBe(1)
      expect(joined.leader, what).toBe(joined.memberId)
      expect(joined.protocolName, what).toBe('range')
      // The leader gets every member's metadata for the chosen protocol, as sent.
      expect(
        joined.members.map((m) => [m.memberId, m.groupInstanceId, Buffer.from(m.metadata)]),
        what,
      ).toEqual([[joined.memberId, null, metadata]])
      expect(decodeSubscription(Buffer.from(joined.members[0]!.metadata)).value.topics, what).toEqual([topic.name])

      const assignmentVersion = i % 4
      const assignment = encodeAssignment(assignmentVersion, {
        assignedPartitions: [{ topic: topic.name, partitions: [0, 1, 2] }],
        userData: Buffer.from(`v${v}`),
      })
      const got = await sync(conn, groupId, joined, [{ memberId: joined.memberId, assignment }], { version: syncV })
      expect(Buffer.from(got).equals(assignment), what).toBe(true)
      expect(decodeAssignment(Buffer.from(got)), what).toEqual({
        version: assignmentVersion,
        value: { assignedPartitions: [{ topic: topic.name, partitions: [0, 1, 2] }], userData: Buffer.from(`v${v}`) },
      })

      expect(await heartbeat(conn, groupId, joined, hbV), what).toBe('NONE')
      await leave(conn, groupId, joined.memberId, { version: leaveV })
      expect(await heartbeat(conn, groupId, joined, hbV), what).toBe('UNKNOWN_MEMBER_ID')
    }
  })

  test('a second member joining makes the first see REBALANCE_IN_PROGRESS; both rejoin and each gets its own assignment', async () => {
    const groupId = uniqueGroup('rebalance')
    const metadata = subscription([topic.name])
    const connB = await connectTestBroker({ clientId: 'skiff-test-b' })
    try {
      const a1 = await join(conn, groupId, metadata)
      const only = encodeAssignment(0, { assignedPartitions: [{ topic: topic.name, partitions: [0, 1, 2] }] })
      await sync(conn, groupId, a1, [{ memberId: a1.memberId, assignment: only }])
      expect(await heartbeat(conn, groupId, a1)).toBe('NONE')

      // B's join is held by the coordinator until A rejoins (or the rebalance timeout passes).
      const bJoin = join(connB, groupId, metadata)
      const seen = await eventually(
        () => heartbeat(conn, groupId, a1),
        (e) => e !== 'NONE',
      )
      expect(seen).toBe('REBALANCE_IN_PROGRESS')
      const [a2, b2] = await Promise.all([join(conn, groupId, metadata, { memberId: a1.memberId }), bJoin])
      expect(a2.generationId).toBe(a1.generationId + 1)
      expect(b2.generationId).toBe(a2.generationId)
      expect(b2.leader).toBe(a2.leader)
      // Only the leader learns the members; it is A, which led before.
      expect(a2.leader).toBe(a1.memberId)
      expect(a2.members.map((m) => m.memberId).sort()).toEqual([a1.memberId, b2.memberId].sort())
      expect(b2.members).toEqual([])

      const forA = encodeAssignment(1, { assignedPartitions: [{ topic: topic.name, partitions: [0, 1] }] })
      const forB = encodeAssignment(1, { assignedPartitions: [{ topic: topic.name, partitions: [2] }] })
      // The follower's SyncGroup waits for the leader's.
      const bSync = sync(connB, groupId, b2, [])
      const aGot = await sync(conn, groupId, a2, [
        { memberId: a2.memberId, assignment: forA },
        { memberId: b2.memberId, assignment: forB },
      ])
      const bGot = await bSync
      expect(decodeAssignment(Buffer.from(aGot)).value.assignedPartitions).toEqual([
        { topic: topic.name, partitions: [0, 1] },
      ])
      expect(decodeAssignment(Buffer.from(bGot)).value.assignedPartitions).toEqual([
        { topic: topic.name, partitions: [2] },
      ])
      expect(await heartbeat(conn, groupId, a2)).toBe('NONE')
      expect(await heartbeat(connB, groupId, b2)).toBe('NONE')
      // A heartbeat from the previous generation is refused.
      expect(await heartbeat(conn, groupId, a1)).toBe('ILLEGAL_GENERATION')

      const described = await conn.request(DescribeGroups, { groups: [groupId] })
      const g = described.groups[0]!
      expect([g.groupState, g.protocolType, g.protocolData]).toEqual(['Stable', 'consumer', 'range'])
      expect(
        g.members
          .map((m) => [
            m.memberId,
            m.clientId,
            Buffer.from(m.memberAssignment).equals(m.memberId === a2.memberId ? forA : forB),
          ])
          .sort(),
      ).toEqual(
        [
          [a2.memberId, 'skiff-test', true],
          [b2.memberId, 'skiff-test-b', true],
        ].sort(),
      )

      // B leaves: A is told to rejoin, and then leads a group of one.
      await leave(connB, groupId, b2.memberId)
      expect(await heartbeat(conn, groupId, a2)).toBe('REBALANCE_IN_PROGRESS')
      const a3 = await join(conn, groupId, metadata, { memberId: a2.memberId })
      expect(a3.generationId).toBe(a2.generationId + 1)
      expect(a3.members.map((m) => m.memberId)).toEqual([a2.memberId])
      await leave(conn, groupId, a3.memberId)
      const empty = await conn.request(DescribeGroups, { groups: [groupId] })
      expect([empty.groups[0]!.groupState, empty.groups[0]!.members]).toEqual(['Empty', []])
    } finally {
      await connB.close()
    }
  })

  test('every OffsetCommit and OffsetFetch version round-trips offset, leader epoch and metadata', async () => {
    const groupId = uniqueGroup('offsets')
    const commits = versionsBoth(conn, OffsetCommit)
    const fetches = versionsBoth(conn, OffsetFetch)
    // What the group holds after each commit, by partition.
    const held = new Map<number, { offset: bigint; leaderEpoch: number; metadata: string }>()
    for (const [i, v] of commits.entries()) {
      const partition = i % 3
      const offset = BigInt(100 + v)
      const leaderEpoch = v >= 6 ? 7 : -1
      const metadata = `committed at v${v} ✓`
      expect(
        await commit(conn, groupId, topic, partition, offset, { version: v, metadata, leaderEpoch }),
        `OffsetCommit v${v}`,
      ).toBe('NONE')
      held.set(partition, { offset, leaderEpoch, metadata })
      const fv = fetches[i % fetches.length]!
      const got = await fetchOffsets(conn, groupId, topic, [partition], { version: fv })
      expect(got.error, `OffsetFetch v${fv}`).toBe('NONE')
      expect(got.partitions, `OffsetCommit v${v} then OffsetFetch v${fv}`).toEqual([
        { partition, offset, leaderEpoch: fv >= 5 ? leaderEpoch : -1, metadata, error: 'NONE' },
      ])
    }
    // Every OffsetFetch version sees all three partitions; v2+ may ask for "every committed partition" with null.
    for (const fv of fetches) {
      const expected = [0, 1, 2].map((p) => {
        const h = held.get(p)
        return h
          ? {
              partition: p,
              offset: h.offset,
              leaderEpoch: fv >= 5 ? h.leaderEpoch : -1,
              metadata: h.metadata,
              error: 'NONE',
            }
          : { partition: p, offset: -1n, leaderEpoch: -1, metadata: '', error: 'NONE' }
      })
      const explicit = await fetchOffsets(conn, groupId, topic, [0, 1, 2], { version: fv })
      expect(explicit.partitions, `OffsetFetch v${fv}`).toEqual(expected)
      if (fv >= 2) {
        const all = await fetchOffsets(conn, groupId, topic, null, { version: fv })
        expect(
          all.partitions.sort((a, b) => a.partition - b.partition),
          `OffsetFetch v${fv} all`,
        ).toEqual(expected.filter((e) => held.has(e.partition)))
      }
    }
  })

  test('OffsetFetch v8+ answers for several groups in one request, each with its own offsets', async () => {
    const versions = versionsBetween(conn, OffsetFetch, 8)
    if (versions.length === 0) return note('OffsetFetch v8+ (several groups, KIP-709) not offered')
    const [g1, g2, g3] = [uniqueGroup('multi'), uniqueGroup('multi'), uniqueGroup('never')]
    expect(await commit(conn, g1, topic, 0, 11n, { metadata: 'one' })).toBe('NONE')
    expect(await commit(conn, g2, topic, 0, 22n, { metadata: 'two' })).toBe('NONE')
    for (const v of versions) {
      const res = await conn.request(
        OffsetFetch,
        {
          groups: [g1, g2, g3].map((groupId) => ({
            groupId,
            topics: [{ name: topic.name, topicId: topic.topicId, partitionIndexes: [0] }],
          })),
        },
        { version: v },
      )
      expect(
        res.groups.map((g) => [
          g.groupId,
          errName(g.errorCode),
          g.topics[0]?.partitions.map((p) => [p.committedOffset, p.metadata]),
        ]),
        `OffsetFetch v${v}`,
      ).toEqual([
        [g1, 'NONE', [[11n, 'one']]],
        [g2, 'NONE', [[22n, 'two']]],
        // A group that never committed: no error, offset -1.
        [g3, 'NONE', [[-1n, '']]],
      ])
    }
  })

  test('OffsetCommit checks membership: a stale generation is ILLEGAL_GENERATION, a stranger UNKNOWN_MEMBER_ID', async () => {
    const groupId = uniqueGroup('fenced-commit')
    const joined = await join(conn, groupId, subscription([topic.name]))
    await sync(conn, groupId, joined, [
      {
        memberId: joined.memberId,
        assignment: encodeAssignment(0, { assignedPartitions: [{ topic: topic.name, partitions: [0] }] }),
      },
    ])
    const member = { generation: joined.generationId, memberId: joined.memberId }
    expect(await commit(conn, groupId, topic, 0, 5n, member)).toBe('NONE')
    expect(await commit(conn, groupId, topic, 0, 6n, { ...member, generation: joined.generationId + 1 })).toBe(
      'ILLEGAL_GENERATION',
    )
    expect(await commit(conn, groupId, topic, 0, 6n, { ...member, memberId: 'not-a-member' })).toBe('UNKNOWN_MEMBER_ID')
    expect((await fetchOffsets(conn, groupId, topic, [0])).partitions[0]!.offset).toBe(5n)
    await leave(conn, groupId, joined.memberId)
  })

  test('every DescribeGroups version describes a stable group; an unknown group is Dead (v0-5) or GROUP_ID_NOT_FOUND (v6)', async () => {
    const groupId = uniqueGroup('describe')
    const metadata = subscription([topic.name])
    // A static member (KIP-345), so DescribeGroups v4+ has a group instance id to report.
    const instance = 'instance-1'
    const joined = await join(conn, groupId, metadata, { groupInstanceId: instance })
    expect(joined.neededMemberId).toBe(false)
    const assignment = encodeAssignment(0, { assignedPartitions: [{ topic: topic.name, partitions: [0, 1, 2] }] })
    await sync(conn, groupId, joined, [{ memberId: joined.memberId, assignment }], { groupInstanceId: instance })
    for (const v of versionsBoth(conn, DescribeGroups)) {
      const what = `DescribeGroups v${v}`
      const unknownId = uniqueGroup('unknown')
      const res = await conn.request(
        DescribeGroups,
        { groups: [unknownId, groupId], includeAuthorizedOperations: v >= 3 },
        { version: v },
      )
      // The answer is not in request order (the coordinator answers per __consumer_offsets partition): match by id.
      expect(res.groups.map((x) => x.groupId).sort(), what).toEqual([groupId, unknownId].sort())
      const g = res.groups.find((x) => x.groupId === groupId)!
      const unknown = res.groups.find((x) => x.groupId === unknownId)!
      expect([g.groupId, errName(g.errorCode), g.groupState, g.protocolType, g.protocolData], what).toEqual([
        groupId,
        'NONE',
        'Stable',
        'consumer',
        'range',
      ])
      expect(g.members, what).toHaveLength(1)
      const m = g.members[0]!
      expect([m.memberId, m.clientId, m.groupInstanceId], what).toEqual([
        joined.memberId,
        'skiff-test',
        v >= 4 ? instance : null,
      ])
      expect(m.clientHost, what).toContain('127.0.0.1')
      expect(Buffer.from(m.memberMetadata).equals(metadata), `${what} metadata`).toBe(true)
      expect(Buffer.from(m.memberAssignment).equals(assignment), `${what} assignment`).toBe(true)
      // No authorizer on the test broker: asked for, the operations come back as a bit set; not asked, INT32_MIN.
      if (v >= 3) expect(g.authorizedOperations, what).not.toBe(-2147483648)
      if (v >= 6) {
        expect(errName(unknown.errorCode), what).toBe('GROUP_ID_NOT_FOUND')
        expect(unknown.errorMessage, what).toMatch(/not found|does not exist/i)
      } else {
        expect([errName(unknown.errorCode), unknown.groupState, unknown.members], what).toEqual(['NONE', 'Dead', []])
      }
    }
    await leave(conn, groupId, joined.memberId, { groupInstanceId: instance })
  })

  test('every ListGroups version lists a group; v4+ filters by state, v5 by type', async () => {
    const groupId = uniqueGroup('list')
    const joined = await join(conn, groupId, subscription([topic.name]))
    await sync(conn, groupId, joined, [
      { memberId: joined.memberId, assignment: encodeAssignment(0, { assignedPartitions: [] }) },
    ])
    const listed = async (v: number, statesFilter: string[] = [], typesFilter: string[] = []) => {
      const res = await conn.request(ListGroups, { statesFilter, typesFilter }, { version: v })
      expect(errName(res.errorCode), `ListGroups v${v}`).toBe('NONE')
      return res.groups.find((g) => g.groupId === groupId)
    }
    for (const v of versionsBoth(conn, ListGroups)) {
      const what = `ListGroups v${v}`
      const g = await listed(v)
      expect(g?.protocolType, what).toBe('consumer')
      if (v >= 4) {
        expect(g?.groupState, what).toBe('Stable')
        expect(await listed(v, ['Stable']), `${what} Stable`).toBeDefined()
        expect(await listed(v, ['Empty', 'Dead']), `${what} Empty/Dead`).toBeUndefined()
      }
      if (v >= 5) {
        expect(g?.groupType, what).toBe('classic')
        expect(await listed(v, [], ['classic']), `${what} classic`).toBeDefined()
        expect(await listed(v, [], ['consumer']), `${what} consumer`).toBeUndefined()
      }
    }
    await leave(conn, groupId, joined.memberId)
    expect((await listed(conn.versionFor(ListGroups)))?.groupState ?? 'Empty').toBe('Empty')
  })

  test('every DeleteGroups version: NON_EMPTY_GROUP while a member is in, NONE when empty, then GROUP_ID_NOT_FOUND', async () => {
    for (const v of versionsBoth(conn, DeleteGroups)) {
      const what = `DeleteGroups v${v}`
      const groupId = uniqueGroup(`delete-v${v}`)
      const joined = await join(conn, groupId, subscription([topic.name]))
      await sync(conn, groupId, joined, [
        { memberId: joined.memberId, assignment: encodeAssignment(0, { assignedPartitions: [] }) },
      ])
      expect(
        await commit(conn, groupId, topic, 0, 3n, { generation: joined.generationId, memberId: joined.memberId }),
      ).toBe('NONE')
      const del = () =>
        conn.request(DeleteGroups, { groupsNames: [groupId] }, { version: v }).then((r) => {
          expect(r.results.map((x) => x.groupId)).toEqual([groupId])
          return r.results[0]!
        })
      const busy = await del()
      expect(errName(busy.errorCode), what).toBe('NON_EMPTY_GROUP')
      // v3 added the field, but the broker leaves it null for NON_EMPTY_GROUP.
      if (v >= 3) expect(busy.errorMessage, what).toBeNull()
      await leave(conn, groupId, joined.memberId)
      const ok = await del()
      expect(errName(ok.errorCode), what).toBe('NONE')
      if (v >= 3) expect(ok.errorMessage, what).toBeNull()
      expect(errName((await del()).errorCode), what).toBe('GROUP_ID_NOT_FOUND')
      // The committed offsets went with the group.
      expect((await fetchOffsets(conn, groupId, topic, [0])).partitions[0]!.offset, what).toBe(-1n)
    }
  })

  test('OffsetDelete removes one partition of an empty group, and refuses a topic an active member subscribes to', async () => {
    const groupId = uniqueGroup('offset-delete')
    for (const p of [0, 1]) expect(await commit(conn, groupId, topic, p, 9n, { metadata: 'm' })).toBe('NONE')
    const del = (g: string, partitions: number[]) =>
      conn.request(OffsetDelete, {
        groupId: g,
        topics: [{ name: topic.name, partitions: partitions.map((partitionIndex) => ({ partitionIndex })) }],
      })
    const res = await del(groupId, [0])
    expect(errName(res.errorCode)).toBe('NONE')
    expect(res.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, errName(p.errorCode)])])).toEqual([
      [topic.name, [[0, 'NONE']]],
    ])
    expect((await fetchOffsets(conn, groupId, topic, [0, 1])).partitions.map((p) => p.offset)).toEqual([-1n, 9n])

    // The coordinator reads the subscription out of the member's JoinGroup metadata (our ConsumerProtocolSubscription).
    const joined = await join(conn, groupId, subscription([topic.name]))
    await sync(conn, groupId, joined, [
      { memberId: joined.memberId, assignment: encodeAssignment(0, { assignedPartitions: [] }) },
    ])
    const subscribed = await del(groupId, [1])
    expect(errName(subscribed.errorCode)).toBe('NONE')
    expect(errName(subscribed.topics[0]!.partitions[0]!.errorCode)).toBe('GROUP_SUBSCRIBED_TO_TOPIC')
    expect((await fetchOffsets(conn, groupId, topic, [1])).partitions[0]!.offset).toBe(9n)
    await leave(conn, groupId, joined.memberId)

    expect(errName((await del(uniqueGroup('no-such-group'), [0])).errorCode)).toBe('GROUP_ID_NOT_FOUND')
  })

  test('KIP-848: ConsumerGroupHeartbeat joins at epoch 0, receives the assignment, leaves at epoch -1; ConsumerGroupDescribe shows it', async () => {
    const heartbeats = versionsBoth(conn, ConsumerGroupHeartbeat)
    const describes = versionsBoth(conn, ConsumerGroupDescribe)
    if (heartbeats.length === 0 || describes.length === 0) {
      return note('ConsumerGroupHeartbeat / ConsumerGroupDescribe not offered (KIP-848 consumer groups disabled)')
    }
    for (const [i, v] of heartbeats.entries()) {
      const dv = describes[i % describes.length]!
      const what = `ConsumerGroupHeartbeat v${v} / ConsumerGroupDescribe v${dv}`
      const groupId = uniqueGroup(`kip848-v${v}`)
      const hb = (body: ConsumerGroupHeartbeatRequest) => conn.request(ConsumerGroupHeartbeat, body, { version: v })
      // v1+: the member picks its own id (KIP-1082); v0: the coordinator assigns it.
      const ownId = v >= 1 ? randomBytes(16).toString('base64url') : ''
      const first = await hb({
        groupId,
        memberId: ownId,
        memberEpoch: 0,
        rebalanceTimeoutMs: 10_000,
        subscribedTopicNames: [topic.name],
        topicPartitions: [],
      })
      const groupVersion = conn.finalizedFeatures.get('group.version') ?? 0
      if (first.errorCode === ErrorCode.UNSUPPORTED_VERSION) {
        // Kafka 3.9 lists the API in ApiVersions, but without the group.version feature (KIP-848 in preview there,
        // off by default) it refuses every heartbeat: advertised is not the same as usable.
        expect(groupVersion, what).toBe(0)
        note(
          `${what}: advertised, but answered UNSUPPORTED_VERSION (group.version feature ${groupVersion}); not testable`,
        )
        return
      }
      expect(groupVersion, what).toBeGreaterThanOrEqual(1)
      expect(errName(first.errorCode), `${what}: ${first.errorMessage}`).toBe('NONE')
      const memberId = first.memberId!
      if (v >= 1) expect(memberId, what).toBe(ownId)
      else expect(memberId, what).not.toBe('')
      expect(first.memberEpoch, what).toBeGreaterThanOrEqual(1)
      expect(first.heartbeatIntervalMs, what).toBeGreaterThan(0)

      // Heartbeat until the assignment covers the topic's three partitions, acknowledging what we own each time.
      let epoch = first.memberEpoch
      let owned = first.assignment?.topicPartitions ?? []
      for (let n = 0; n < 50 && owned.flatMap((t) => t.partitions).length < 3; n++) {
        await sleep(100)
        const r = await hb({ groupId, memberId, memberEpoch: epoch, topicPartitions: owned })
        expect(errName(r.errorCode), what).toBe('NONE')
        epoch = r.memberEpoch
        if (r.assignment) owned = r.assignment.topicPartitions
      }
      expect(
        owned.map((t) => [t.topicId, [...t.partitions].sort()]),
        what,
      ).toEqual([[topic.topicId, [0, 1, 2]]])

      const describe = () =>
        conn.request(
          ConsumerGroupDescribe,
          { groupIds: [groupId], includeAuthorizedOperations: false },
          { version: dv },
        )
      const stable = await eventually(describe, (d) => d.groups[0]!.groupState === 'Stable')
      const g = stable.groups[0]!
      expect([errName(g.errorCode), g.groupId, g.groupState], what).toEqual(['NONE', groupId, 'Stable'])
      expect(g.groupEpoch, what).toBeGreaterThanOrEqual(1)
      expect(g.assignmentEpoch, what).toBe(g.groupEpoch)
      expect(g.assignorName, what).toBeTruthy()
      expect(g.members, what).toHaveLength(1)
      const m = g.members[0]!
      expect([m.memberId, m.memberEpoch, m.clientId, m.subscribedTopicNames], what).toEqual([
        memberId,
        epoch,
        'skiff-test',
        [topic.name],
      ])
      expect(
        m.assignment.topicPartitions.map((t) => [t.topicId, t.topicName, [...t.partitions].sort()]),
        what,
      ).toEqual([[topic.topicId, topic.name, [0, 1, 2]]])
      expect(m.targetAssignment, what).toEqual(m.assignment)
      if (dv >= 1) expect(m.memberType, what).toBe(1)

      // The member epoch fences commits too (OffsetCommit v9+).
      const commitV = versionsBetween(conn, OffsetCommit, 9).at(-1)
      if (commitV !== undefined) {
        expect(await commit(conn, groupId, topic, 0, 4n, { version: commitV, generation: epoch, memberId }), what).toBe(
          'NONE',
        )
        expect(
          await commit(conn, groupId, topic, 0, 5n, { version: commitV, generation: epoch + 1, memberId }),
          what,
        ).toBe('STALE_MEMBER_EPOCH')
      } else note('OffsetCommit v9+ not offered: member-epoch commits not checked')

      // A heartbeat from an epoch the coordinator never gave is fenced; an unknown member is unknown.
      const fenced = await hb({ groupId, memberId, memberEpoch: epoch + 10, topicPartitions: owned })
      expect(errName(fenced.errorCode), what).toBe('FENCED_MEMBER_EPOCH')
      const stranger = await hb({
        groupId,
        memberId: randomBytes(16).toString('base64url'),
        memberEpoch: 3,
        topicPartitions: [],
      })
      expect(errName(stranger.errorCode), what).toBe('UNKNOWN_MEMBER_ID')

      // A consumer group shows up in ListGroups v5 as type `consumer`.
      if (conn.versionFor(ListGroups) >= 5) {
        const listed = await conn.request(ListGroups, { statesFilter: [], typesFilter: ['consumer'] })
        expect(listed.groups.find((x) => x.groupId === groupId)?.groupType, what).toBe('consumer')
      }

      const left = await hb({ groupId, memberId, memberEpoch: -1 })
      expect([errName(left.errorCode), left.memberEpoch], what).toEqual(['NONE', -1])
      const empty = (await describe()).groups[0]!
      expect([empty.groupState, empty.members], what).toEqual(['Empty', []])
      const unknown = await conn.request(
        ConsumerGroupDescribe,
        { groupIds: [uniqueGroup('nope')], includeAuthorizedOperations: false },
        { version: dv },
      )
      expect(errName(unknown.groups[0]!.errorCode), what).toBe('GROUP_ID_NOT_FOUND')
    }
  })
})
