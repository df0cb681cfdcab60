import type { TopicPartition } from '../../types.js'

/** One member as the leader sees it in the JoinGroup response: its ConsumerProtocolSubscription. */
export interface AssignorMember {
  memberId: string
  /** Static membership (KIP-345); members with one sort before those without. */
  groupInstanceId: string | null
  /** The topics it subscribes to. */
  topics: string[]
  /** What it owned when it joined (subscription v1+, KIP-429), in the order it listed them. */
  ownedPartitions: TopicPartition[]
  /** The generation its owned partitions date from (subscription v2+, KIP-792); -1 when absent. */
  generationId: number
  /** The assignor's own user data (cooperative-sticky: the generation, for v0/v1 subscriptions). */
  userData: Uint8Array | null
  /** The member's rack (subscription v3+, KIP-881), null or '' when none. */
  rackId: string | null
}

/** One partition of a subscribed topic: the racks of its replicas, for rack-aware assignment (KIP-881). */
export interface AssignorPartition {
  partition: number
  /** Racks of the partition's replicas (brokers without a rack omitted). */
  replicaRacks: readonly string[]
}

/** A subscribed topic that exists, with its partitions in partition order (never empty). */
export interface AssignorTopic {
  name: string
  partitions: readonly AssignorPartition[]
}

/** Member id → the partitions it gets. */
export type GroupAssignment = Map<string, TopicPartition[]>

/** The rebalance protocols an assignor supports (ConsumerPartitionAssignor.RebalanceProtocol). */
export type RebalanceProtocol = 'eager' | 'cooperative'

/**
 * A client-side partition assignor of the classic protocol, computing what the Java assignor of the same name
 * computes from the same input. `members` are in the order of the JoinGroup response (Java's assignors see them
 * through a HashMap built in that order, and the sticky assignor's result depends on its iteration order).
 */
export interface PartitionAssignor {
  readonly name: string
  readonly protocols: readonly RebalanceProtocol[]
  /** The user data this member puts in its subscription. */
  subscriptionUserData(): Buffer | null
  /** Called with each assignment this member receives (the sticky assignor remembers the generation). */
  onAssignment(generationId: number): void
  assign(members: readonly AssignorMember[], topics: ReadonlyMap<string, AssignorTopic>): GroupAssignment
}

/** Kafka's TopicPartitionComparator: by topic, then partition. */
export function compareTopicPartitions(a: TopicPartition, b: TopicPartition): number {
  if (a.topic === b.topic) return a.partition - b.partition
  return a.topic < b.topic ? -1 : 1
}

/**
 * AbstractPartitionAssignor.useRackAwareAssignment: only when some consumer has a rack that some replica has, and
 * the partitions are not all on the same set of racks (then rack matching changes nothing).
 */
export function useRackAwareAssignment(
  consumerRacks: ReadonlySet<string>,
  partitionRacks: ReadonlySet<string>,
  racksPerPartition: Iterable<ReadonlySet<string>>,
): boolean {
  if (consumerRacks.size === 0) return false
  let disjoint = true
  for (const r of consumerRacks) if (partitionRacks.has(r)) disjoint = false
  if (disjoint) return false
  for (const racks of racksPerPartition) {
    if (racks.size !== partitionRacks.size) return true
    for (const r of racks) if (!partitionRacks.has(r)) return true
  }
  return false
}

/** AbstractPartitionAssignor.MemberInfo ordering: static members by instance id first, then the rest by member id. */
export function compareMembers(
  a: { memberId: string; groupInstanceId: string | null },
  b: { memberId: string; groupInstanceId: string | null },
): number {
  if (a.groupInstanceId !== null && b.groupInstanceId !== null) return cmp(a.groupInstanceId, b.groupInstanceId)
  if (a.groupInstanceId !== null) return -1
  if (b.groupInstanceId !== null) return 1
  return cmp(a.memberId, b.memberId)
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * AbstractPartitionAssignor.assign: the assignor sees only topics some member subscribes to (and that exist with
 * at least one partition).
 */
export function subscribedTopics(
  members: readonly AssignorMember[],
  topics: ReadonlyMap<string, AssignorTopic>,
): Map<string, AssignorTopic> {
  const wanted = new Set<string>()
  for (const m of members) for (const t of m.topics) wanted.add(t)
  const out = new Map<string, AssignorTopic>()
  for (const [name, t] of topics) if (wanted.has(name) && t.partitions.length > 0) out.set(name, t)
  return out
}
