import type { ResponseOf } from '../../protocol/api.js'
import { ConsumerGroupDescribe } from '../../protocol/apis/consumer-group-describe.js'
import { decodeAssignment, decodeSubscription } from '../../protocol/apis/consumer-protocol.js'
import { DeleteGroups } from '../../protocol/apis/delete-groups.js'
import { DescribeGroups } from '../../protocol/apis/describe-groups.js'
import { ListGroups } from '../../protocol/apis/list-groups.js'
import { OffsetCommit } from '../../protocol/apis/offset-commit.js'
import { OffsetDelete } from '../../protocol/apis/offset-delete.js'
import { OffsetFetch } from '../../protocol/apis/offset-fetch.js'
import { ErrorCode } from '../../protocol/error-codes.js'
import { UnsupportedVersionError } from '../../protocol/errors.js'
import { KafkaError, type KafkaErrorContext } from '../../protocol/kafka-error.js'
import { ConfigError } from '../errors.js'
import type { AdminConnection, Call } from './call.js'
import { fanOut, groupRoutes } from './fan-out.js'
import { byTopic, checkPartition, tpKey } from './records.js'
import { firstDuplicate, routeToCoordinators } from './routing.js'
import type { AdminRuntime, Target } from './runtime.js'
import {
  type AclOperation,
  type AdminCallOptions,
  type BrokerFailure,
  decodeAuthorizedOperations,
  type Outcome,
  type TopicPartition,
} from './types.js'

// --- listing ---------------------------------------------------------------------------------------------------

/** Options of `listGroups`. */
export interface ListGroupsOptions extends AdminCallOptions {
  /** Only groups in these states, e.g. `['Stable', 'Empty']` (ListGroups v4+, KIP-518). Default all. */
  states?: readonly string[]
  /** Only groups of these types: `classic`, `consumer`, `share`, `streams` (ListGroups v5+, KIP-848). Default all. */
  types?: readonly string[]
}

/** A group as ListGroups reports it. */
export interface ListedGroup {
  groupId: string
  /** The classic protocol type (`consumer`, `connect`, ...); `consumer` for consumer-type groups; may be empty. */
  protocolType: string
  /** The group's state (ListGroups v4+). */
  state?: string
  /** `classic`, `consumer`, `share` or `streams` (ListGroups v5+). */
  type?: string
  /** Node id of the group's coordinator (the broker that listed it). */
  coordinator: number
}

/** Every broker's groups; brokers that could not list theirs are in `errors`, the others' groups still listed. */
export interface GroupListing {
  /** Ordered by group id. */
  groups: ListedGroup[]
  errors: BrokerFailure[]
}

/**
 * Lists groups: every broker is asked for the groups it coordinates (ListGroups), in parallel. A broker still
 * loading its share of `__consumer_offsets` (COORDINATOR_LOAD_IN_PROGRESS) is asked again until the timeout.
 */
export async function listGroups(rt: AdminRuntime, options: ListGroupsOptions = {}): Promise<GroupListing> {
  const states = options.states ?? []
  const types = options.types ?? []
  const call = rt.call('listGroups', options)
  try {
    const brokers = await rt.brokers(call)
    type Answer = { broker: number; groups: ListedGroup[]; error?: undefined } | BrokerFailure
    const answers = await fanOut<number, Answer>(
      rt,
      call,
      brokers.map((b) => b.nodeId),
      {
        route: async (ids) => ({ routes: groupRoutes(ids.map((id) => [id, rt.broker(id)])) }),
        send: async (conn, ids) => {
          const broker = ids[0]!
          const version = conn.versionFor(ListGroups)
          if ((states.length > 0 && version < 4) || (types.length > 0 && version < 5)) {
            const errorMessage = `filtering by ${states.length > 0 && version < 4 ? 'state needs ListGroups v4+' : 'type needs ListGroups v5+'}; the broker speaks up to v${version}`
            const error = KafkaError.fromCode(ErrorCode.UNSUPPORTED_VERSION, {
              api: 'ListGroups',
              broker,
              errorMessage,
            })
            return new Map([[broker, { broker, error }]])
          }
          const res = await call.request(
            conn,
            ListGroups,
            {
              ...(version >= 4 ? { statesFilter: [...states] } : {}),
              ...(version >= 5 ? { typesFilter: [...types] } : {}),
            },
            version,
          )
          if (res.errorCode) throw KafkaError.fromCode(res.errorCode, { api: 'ListGroups', broker })
          const groups = res.groups.map(
            (g): ListedGroup => ({
              groupId: g.groupId,
              protocolType: g.protocolType,
              ...(version >= 4 ? { state: g.groupState } : {}),
              ...(version >= 5 ? { type: g.groupType } : {}),
              coordinator: broker,
            }),
          )
          return new Map([[broker, { broker, groups }]])
        },
        fail: (broker, error) => ({ broker, error }),
      },
    )
    const groups: ListedGroup[] = []
    const errors: BrokerFailure[] = []
    for (const a of answers) {
      if (a.error) errors.push({ broker: a.broker, error: a.error })
      else groups.push(...(a as { groups: ListedGroup[] }).groups)
    }
    groups.sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0))
    return { groups, errors }
  } finally {
    call.finish()
  }
}

// --- describing ------------------------------------------------------------------------------------------------

/** Partitions of one topic assigned to a member. */
export interface AssignedPartitions {
  topic: string
  /** Consumer-type groups name the topic id too. */
  topicId?: string
  partitions: number[]
}

/** A member of a group. */
export interface GroupMember {
  memberId: string
  /** The static member's `group.instance.id` (KIP-345), or null. */
  instanceId: string | null
  clientId: string
  clientHost: string
  /**
   * The partitions the member owns now. Classic groups: decoded from the consumer protocol assignment, so empty for
   * other protocol types and while the group is rebalancing (the coordinator only reports it when Stable).
   */
  assignment: AssignedPartitions[]
  /** Consumer-type groups: the assignment the member is being moved to (equal to `assignment` once reconciled). */
  targetAssignment?: AssignedPartitions[]
  /** The topics the member subscribes to (classic consumer protocol: from its JoinGroup metadata). */
  subscribedTopics?: string[]
  /** Consumer-type groups: the member's subscription regex (KIP-848), if any. */
  subscribedTopicRegex?: string | null
  /** The member's rack, when it sent one. */
  rackId?: string | null
  /** Consumer-type groups: the member's epoch. */
  memberEpoch?: number
  /** Consumer-type groups (ConsumerGroupDescribe v1+): `classic` for a classic member of a consumer group (KIP-1099). */
  memberType?: 'classic' | 'consumer'
  /** Classic groups: the member's JoinGroup metadata for the chosen protocol, as sent (only while Stable). */
  protocolMetadata?: Buffer
  /** Classic groups: the member's SyncGroup assignment bytes, as the leader sent them (only while Stable). */
  protocolAssignment?: Buffer
}

/** Options of `describeGroups`. */
export interface DescribeGroupsOptions extends AdminCallOptions {
  /** Also report what the caller may do with each group (KIP-430). Default false. */
  includeAuthorizedOperations?: boolean
}

/**
 * A described group, or why it could not be described (GROUP_ID_NOT_FOUND for a group that does not exist, on
 * every broker version).
 */
export type GroupDescription = Outcome<
  { groupId: string },
  {
    /** `classic` (JoinGroup/SyncGroup) or `consumer` (the KIP-848 protocol, described with ConsumerGroupDescribe). */
    type: 'classic' | 'consumer'
    /**
     * Kafka's state name. Classic: Empty, PreparingRebalance, CompletingRebalance, Stable, Dead. Consumer: Empty,
     * Assigning, Reconciling, Stable, Dead.
     */
    state: string
    /** Classic: the protocol type (`consumer`, `connect`, ...). Consumer-type groups: `consumer`. */
    protocolType: string
    /** Classic: the chosen protocol (the assignor, e.g. `range`; only while Stable). Consumer: the server assignor. */
    assignor: string
    /** Node id of the group's coordinator. */
    coordinator: number
    /** Consumer-type groups: the group epoch and the epoch of its target assignment. */
    groupEpoch?: number
    assignmentEpoch?: number
    members: GroupMember[]
    /** Present when asked for with `includeAuthorizedOperations`. */
    authorizedOperations?: AclOperation[]
  }
>

/**
 * Describes groups at their coordinators. Each coordinator is asked with DescribeGroups; a group that is not a
 * classic group there (GROUP_ID_NOT_FOUND, or Dead before DescribeGroups v6) is then asked for with
 * ConsumerGroupDescribe where the broker offers it, since the classic API does not describe KIP-848 groups.
 */
export async function describeGroups(
  rt: AdminRuntime,
  groupIds: readonly string[],
  options: DescribeGroupsOptions = {},
): Promise<GroupDescription[]> {
  checkGroupIds('describeGroups', groupIds)
  const ops = options.includeAuthorizedOperations ?? false
  const call = rt.call('describeGroups', options)
  try {
    return await fanOut(rt, call, [...new Set(groupIds)], {
      route: (ids) => routeToCoordinators(rt, 'group', ids, (id) => id, call),
      send: (conn, ids, c, target) => describeAt(conn, ids, c, target, ops),
      fail: (groupId, error) => ({ groupId, error }),
    })
  } finally {
    call.finish()
  }
}

async function describeAt(
  conn: AdminConnection,
  ids: readonly string[],
  call: Call,
  target: Target,
  ops: boolean,
): Promise<Map<string, GroupDescription>> {
  const out = new Map<string, GroupDescription>()
  const version = conn.versionFor(DescribeGroups)
  const res = await call.request(
    conn,
    DescribeGroups,
    { groups: [...ids], ...(version >= 3 ? { includeAuthorizedOperations: ops } : {}) },
    version,
  )
  // Groups DescribeGroups does not know: unknown, or not classic (KIP-848 consumer groups, Kafka 4.x).
  const notClassic = new Map<string, KafkaError>()
  // The coordinator answers per __consumer_offsets partition, not in request order: match by id.
  for (const g of res.groups) {
    if (!ids.includes(g.groupId)) continue
    const context = { api: 'DescribeGroups', broker: conn.broker, group: g.groupId, errorMessage: g.errorMessage }
    const dead = g.errorCode === ErrorCode.NONE && g.groupState === 'Dead' && g.members.length === 0
    if (g.errorCode === ErrorCode.GROUP_ID_NOT_FOUND || (dead && g.protocolType === '')) {
      notClassic.set(
        g.groupId,
        KafkaError.fromCode(ErrorCode.GROUP_ID_NOT_FOUND, {
          ...context,
          errorMessage: g.errorMessage ?? `group ${g.groupId} does not exist`,
        }),
      )
    } else if (g.errorCode !== ErrorCode.NONE) {
      out.set(g.groupId, { groupId: g.groupId, error: KafkaError.fromCode(g.errorCode, context) })
    } else out.set(g.groupId, classicGroup(g, target.nodeId))
  }
  if (notClassic.size > 0 && offersConsumerGroupDescribe(conn)) {
    const res2 = await call.request(conn, ConsumerGroupDescribe, {
      groupIds: [...notClassic.keys()],
      includeAuthorizedOperations: ops,
    })
    for (const g of res2.groups) {
      if (!notClassic.has(g.groupId)) continue
      if (g.errorCode === ErrorCode.NONE) out.set(g.groupId, consumerGroup(g, target.nodeId))
      // A broker with KIP-848 off refuses the API per group: the group is simply unknown.
      else if (g.errorCode === ErrorCode.GROUP_ID_NOT_FOUND || g.errorCode === ErrorCode.UNSUPPORTED_VERSION) continue
      else {
        const context = {
          api: 'ConsumerGroupDescribe',
          broker: conn.broker,
          group: g.groupId,
          errorMessage: g.errorMessage,
        }
        out.set(g.groupId, { groupId: g.groupId, error: KafkaError.fromCode(g.errorCode, context) })
      }
    }
  }
  for (const [groupId, error] of notClassic) if (!out.has(groupId)) out.set(groupId, { groupId, error })
  return out
}

/**
 * Whether the broker can have consumer-type groups to describe: it offers ConsumerGroupDescribe and the KIP-848
 * protocol is enabled (`group.version` ≥ 1). Kafka 3.9 offers the API with `group.version` 0 and then answers
 * UNSUPPORTED_VERSION for every group, so it is not asked.
 */
function offersConsumerGroupDescribe(conn: AdminConnection): boolean {
  const range = conn.apiVersions.get(ConsumerGroupDescribe.key)
  const enabled = (conn.finalizedFeatures.get('group.version') ?? 0) >= 1
  return enabled && range !== undefined && range.max >= ConsumerGroupDescribe.versions.min
}

type DescribedClassic = ResponseOf<typeof DescribeGroups>['groups'][number]
type DescribedConsumer = ResponseOf<typeof ConsumerGroupDescribe>['groups'][number]

/** Maps a DescribeGroups group, decoding the consumer protocol's subscription and assignment where it is used. */
export function classicGroup(g: DescribedClassic, coordinator: number): GroupDescription {
  const consumer = g.protocolType === 'consumer'
  const members = g.members.map((m): GroupMember => {
    const member: GroupMember = {
      memberId: m.memberId,
      instanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      assignment: [],
    }
    if (m.memberMetadata.length > 0) member.protocolMetadata = Buffer.from(m.memberMetadata)
    if (m.memberAssignment.length > 0) member.protocolAssignment = Buffer.from(m.memberAssignment)
    if (consumer) {
      // Other clients' bytes may not parse; then the raw bytes are all there is.
      const assignment = attempt(() => decodeAssignment(Buffer.from(m.memberAssignment)).value)
      if (assignment && m.memberAssignment.length > 0)
        member.assignment = assignment.assignedPartitions.map((t) => ({ topic: t.topic, partitions: t.partitions }))
      const subscription = attempt(() => decodeSubscription(Buffer.from(m.memberMetadata)).value)
      if (subscription && m.memberMetadata.length > 0) {
        member.subscribedTopics = subscription.topics
        if (subscription.rackId !== null) member.rackId = subscription.rackId
      }
    }
    return member
  })
  const ops = decodeAuthorizedOperations(g.authorizedOperations)
  return {
    groupId: g.groupId,
    type: 'classic',
    state: g.groupState,
    protocolType: g.protocolType,
    assignor: g.protocolData,
    coordinator,
    members,
    ...(ops ? { authorizedOperations: ops } : {}),
  }
}

/** Maps a ConsumerGroupDescribe group (KIP-848). */
export function consumerGroup(g: DescribedConsumer, coordinator: number): GroupDescription {
  const partitions = (a: DescribedConsumer['members'][number]['assignment']) =>
    a.topicPartitions.map((t) => ({ topic: t.topicName, topicId: t.topicId, partitions: t.partitions }))
  const members = g.members.map(
    (m): GroupMember => ({
      memberId: m.memberId,
      instanceId: m.instanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      assignment: partitions(m.assignment),
      targetAssignment: partitions(m.targetAssignment),
      subscribedTopics: m.subscribedTopicNames,
      subscribedTopicRegex: m.subscribedTopicRegex,
      rackId: m.rackId,
      memberEpoch: m.memberEpoch,
      ...(m.memberType === 0
        ? { memberType: 'classic' as const }
        : m.memberType === 1
          ? { memberType: 'consumer' as const }
          : {}),
    }),
  )
  const ops = decodeAuthorizedOperations(g.authorizedOperations)
  return {
    groupId: g.groupId,
    type: 'consumer',
    state: g.groupState,
    protocolType: 'consumer',
    assignor: g.assignorName,
    coordinator,
    groupEpoch: g.groupEpoch,
    assignmentEpoch: g.assignmentEpoch,
    members,
    ...(ops ? { authorizedOperations: ops } : {}),
  }
}

function attempt<T>(f: () => T): T | undefined {
  try {
    return f()
  } catch {
    return undefined
  }
}

// --- deleting --------------------------------------------------------------------------------------------------

/** A deleted group, or why not (NON_EMPTY_GROUP while it has members, GROUP_ID_NOT_FOUND). */
export type DeletedGroup = Outcome<{ groupId: string }>

/** Deletes groups and their committed offsets (DeleteGroups), at each group's coordinator. */
export async function deleteGroups(
  rt: AdminRuntime,
  groupIds: readonly string[],
  options: AdminCallOptions = {},
): Promise<DeletedGroup[]> {
  checkGroupIds('deleteGroups', groupIds)
  const call = rt.call('deleteGroups', options)
  try {
    return await fanOut(rt, call, [...new Set(groupIds)], {
      route: (ids) => routeToCoordinators(rt, 'group', ids, (id) => id, call),
      send: async (conn, ids) => {
        const res = await call.request(conn, DeleteGroups, { groupsNames: [...ids] })
        const out = new Map<string, DeletedGroup>()
        for (const r of res.results) {
          if (!ids.includes(r.groupId)) continue
          const context = { api: 'DeleteGroups', broker: conn.broker, group: r.groupId, errorMessage: r.errorMessage }
          out.set(
            r.groupId,
            r.errorCode === ErrorCode.NONE
              ? { groupId: r.groupId }
              : { groupId: r.groupId, error: KafkaError.fromCode(r.errorCode, context) },
          )
        }
        return out
      },
      fail: (groupId, error) => ({ groupId, error }),
    })
  } finally {
    call.finish()
  }
}

// --- committed offsets -----------------------------------------------------------------------------------------

/** Options of `listGroupOffsets`. */
export interface ListGroupOffsetsOptions extends AdminCallOptions {
  /** Only these topics; default every topic the group has committed offsets for. */
  topics?: readonly string[]
  /**
   * Wait out pending transactional offset commits (KIP-447): the coordinator answers UNSTABLE_OFFSET_COMMIT, which
   * is retried until the timeout. Default false (pending commits are not shown).
   */
  requireStable?: boolean
}

/** A committed offset, or the error for that partition. */
export type GroupOffset = Outcome<
  TopicPartition,
  {
    /** The next offset the group will consume. */
    offset: bigint
    /** The leader epoch committed with it; -1 if none. */
    leaderEpoch: number
    /** The metadata string committed with it. */
    metadata: string | null
  }
>

// OffsetFetch and OffsetCommit v10 name topics only by id (KIP-848); v9 is enough for an admin and names them.
const OFFSETS_MAX_VERSION = 9

/**
 * The group's committed offsets (OffsetFetch at the coordinator), ordered by topic and partition. A group that
 * does not exist has none (an empty list).
 */
export async function listGroupOffsets(
  rt: AdminRuntime,
  groupId: string,
  options: ListGroupOffsetsOptions = {},
): Promise<GroupOffset[]> {
  checkGroupIds('listGroupOffsets', [groupId])
  const only = options.topics ? new Set(options.topics) : undefined
  return rt.run('listGroupOffsets', options, async (call) => {
    const conn = await (await rt.coordinator('group', groupId, call)).connect(call)
    const version = Math.min(conn.versionFor(OffsetFetch), OFFSETS_MAX_VERSION)
    if (version < 2) throw new UnsupportedVersionError(`listing every committed offset needs OffsetFetch v2+`)
    const context: KafkaErrorContext = { api: 'OffsetFetch', broker: conn.broker, group: groupId }
    const requireStable = options.requireStable ?? false
    let errorCode: number
    let topics: Array<{
      name: string
      partitions: Array<{
        partitionIndex: number
        committedOffset: bigint
        committedLeaderEpoch: number
        metadata: string | null
        errorCode: number
      }>
    }>
    if (version >= 8) {
      const res = await call.request(conn, OffsetFetch, { groups: [{ groupId, topics: null }], requireStable }, version)
      const g = res.groups.find((x) => x.groupId === groupId)
      if (!g) throw KafkaError.fromCode(ErrorCode.UNKNOWN_SERVER_ERROR, { ...context, errorMessage: 'group missing' })
      errorCode = g.errorCode
      topics = g.topics
    } else {
      const res = await call.request(conn, OffsetFetch, { groupId, topics: null, requireStable }, version)
      errorCode = res.errorCode
      topics = res.topics
    }
    if (errorCode !== ErrorCode.NONE) throw KafkaError.fromCode(errorCode, context)
    const out: GroupOffset[] = []
    for (const t of topics) {
      if (only && !only.has(t.name)) continue
      for (const p of t.partitions) {
        const id = { topic: t.name, partition: p.partitionIndex }
        if (p.errorCode === ErrorCode.NONE) {
          out.push({ ...id, offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata: p.metadata })
          continue
        }
        const error = KafkaError.fromCode(p.errorCode, { ...context, ...id })
        // Coordinator trouble and pending transactional commits concern the whole request: try it again.
        if (error.retriable) throw error
        out.push({ ...id, error })
      }
    }
    return out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
  })
}

/** An offset to commit for a group. */
export interface GroupOffsetToCommit extends TopicPartition {
  /** The next offset the group should consume. */
  offset: bigint | number
  /** The leader epoch of the record before `offset`, if known (KIP-320). */
  leaderEpoch?: number
  metadata?: string | null
}

/** A partition whose offset was committed, or why not. */
export type CommittedGroupOffset = Outcome<TopicPartition>

/**
 * Sets a group's committed offsets (OffsetCommit as an admin: generation -1, no member id), as Kafka's tools reset
 * offsets. The coordinator accepts this only while the group has no active members; otherwise each partition
 * reports UNKNOWN_MEMBER_ID (classic groups) or the like. Results in the order given.
 */
export async function alterGroupOffsets(
  rt: AdminRuntime,
  groupId: string,
  offsets: readonly GroupOffsetToCommit[],
  options: AdminCallOptions = {},
): Promise<CommittedGroupOffset[]> {
  checkGroupIds('alterGroupOffsets', [groupId])
  for (const o of offsets) {
    checkPartition('alterGroupOffsets', o)
    if (typeof o.offset === 'bigint' ? o.offset < 0n : !Number.isInteger(o.offset) || o.offset < 0)
      throw new ConfigError(`alterGroupOffsets: ${tpKey(o)}: offset must be a non-negative integer, got ${o.offset}`)
  }
  const dup = firstDuplicate(offsets, tpKey)
  if (dup !== undefined) throw new ConfigError(`alterGroupOffsets: ${dup} is listed twice`)
  return rt.run('alterGroupOffsets', options, async (call) => {
    const conn = await (await rt.coordinator('group', groupId, call)).connect(call)
    const version = Math.min(conn.versionFor(OffsetCommit), OFFSETS_MAX_VERSION)
    const res = await call.request(
      conn,
      OffsetCommit,
      {
        groupId,
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        topics: byTopic(offsets).map(([name, ps]) => ({
          name,
          partitions: ps.map((p) => ({
            partitionIndex: p.partition,
            committedOffset: BigInt(p.offset),
            committedLeaderEpoch: p.leaderEpoch ?? -1,
            committedMetadata: p.metadata ?? null,
          })),
        })),
      },
      version,
    )
    const context: KafkaErrorContext = { api: 'OffsetCommit', broker: conn.broker, group: groupId }
    const answers = new Map<string, number>()
    for (const t of res.topics)
      for (const p of t.partitions) answers.set(tpKey({ topic: t.name, partition: p.partitionIndex }), p.errorCode)
    return offsets.map((o): CommittedGroupOffset => {
      const id = { topic: o.topic, partition: o.partition }
      const code = answers.get(tpKey(o)) ?? ErrorCode.UNKNOWN_SERVER_ERROR
      if (code === ErrorCode.NONE) return id
      const error = KafkaError.fromCode(code, {
        ...context,
        ...id,
        ...(ACTIVE_GROUP_CODES.has(code)
          ? { errorMessage: `group ${groupId} has active members; its offsets can be altered only while it is empty` }
          : {}),
      })
      // Coordinator moves and loads concern the whole group: retry the request.
      if (error.findCoordinator || code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) throw error
      return { ...id, error }
    })
  })
}

/** What a coordinator answers an admin commit for a group with active members. */
const ACTIVE_GROUP_CODES = new Set<number>([
  ErrorCode.UNKNOWN_MEMBER_ID,
  ErrorCode.ILLEGAL_GENERATION,
  ErrorCode.REBALANCE_IN_PROGRESS,
])

/** A partition whose committed offset was deleted, or why not (e.g. GROUP_SUBSCRIBED_TO_TOPIC). */
export type DeletedGroupOffset = Outcome<TopicPartition>

/**
 * Deletes a group's committed offsets for some partitions (OffsetDelete, KIP-496). Refused per partition while an
 * active member subscribes to the topic (GROUP_SUBSCRIBED_TO_TOPIC). A group-level refusal (GROUP_ID_NOT_FOUND,
 * NON_EMPTY_GROUP) rejects the call. Results in the order given.
 */
export async function deleteGroupOffsets(
  rt: AdminRuntime,
  groupId: string,
  partitions: readonly TopicPartition[],
  options: AdminCallOptions = {},
): Promise<DeletedGroupOffset[]> {
  checkGroupIds('deleteGroupOffsets', [groupId])
  for (const p of partitions) checkPartition('deleteGroupOffsets', p)
  const dup = firstDuplicate(partitions, tpKey)
  if (dup !== undefined) throw new ConfigError(`deleteGroupOffsets: ${dup} is listed twice`)
  return rt.run('deleteGroupOffsets', options, async (call) => {
    const conn = await (await rt.coordinator('group', groupId, call)).connect(call)
    const res = await call.request(conn, OffsetDelete, {
      groupId,
      topics: byTopic(partitions).map(([name, ps]) => ({
        name,
        partitions: ps.map((p) => ({ partitionIndex: p.partition })),
      })),
    })
    const context: KafkaErrorContext = { api: 'OffsetDelete', broker: conn.broker, group: groupId }
    if (res.errorCode !== ErrorCode.NONE) throw KafkaError.fromCode(res.errorCode, context)
    const answers = new Map<string, number>()
    for (const t of res.topics)
      for (const p of t.partitions) answers.set(tpKey({ topic: t.name, partition: p.partitionIndex }), p.errorCode)
    return partitions.map((p): DeletedGroupOffset => {
      const id = { topic: p.topic, partition: p.partition }
      const code = answers.get(tpKey(p)) ?? ErrorCode.UNKNOWN_SERVER_ERROR
      return code === ErrorCode.NONE ? id : { ...id, error: KafkaError.fromCode(code, { ...context, ...id }) }
    })
  })
}

function checkGroupIds(operation: string, ids: readonly string[]): void {
  for (const id of ids)
    if (typeof id !== 'string' || id === '')
      throw new ConfigError(`${operation}: a group id must be a non-empty string`)
}
