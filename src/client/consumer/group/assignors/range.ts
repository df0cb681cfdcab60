import type { TopicPartition } from '../../types.js'
import {
  type AssignorMember,
  type AssignorTopic,
  compareMembers,
  compareTopicPartitions,
  type GroupAssignment,
  type PartitionAssignor,
  subscribedTopics,
  useRackAwareAssignment,
} from './types.js'

/**
 * Kafka's RangeAssignor ("range", eager only): per topic, partitions in order are cut into contiguous ranges, one per
 * subscribed member in member order (static members by group.instance.id first, then by member id); the first
 * `partitions % members` members get one extra. Topics are independent, so a member gets the same range of every
 * topic with the same partition count (co-partitioning).
 *
 * Rack-aware (Kafka 3.5+, KIP-881) when members and replicas both have racks and some partition's replicas are not
 * on every rack: ranges are first filled with partitions on the member's rack (co-partitioned topics — same
 * members, same partition count — move together), then the rest as above, without breaking the per-topic balance.
 */
export class RangeAssignor implements PartitionAssignor {
  readonly name = 'range'
  readonly protocols = ['eager'] as const

  subscriptionUserData(): Buffer | null {
    return null
  }

  onAssignment(): void {}

  assign(members: readonly AssignorMember[], topics: ReadonlyMap<string, AssignorTopic>): GroupAssignment {
    const consumerRacks = new Map<string, string>()
    for (const m of members) if (m.rackId) consumerRacks.set(m.memberId, m.rackId)
    const states: TopicState[] = []
    for (const topic of subscribedTopics(members, topics).values()) {
      const subscribers = members.filter((m) => m.topics.includes(topic.name))
      states.push(new TopicState(topic, subscribers, consumerRacks))
    }
    const assignment: GroupAssignment = new Map(members.map((m) => [m.memberId, []]))
    const rackAware = states.some((s) => s.needsRackAwareAssignment)
    if (rackAware) assignWithRackMatching(states, assignment)
    for (const s of states) assignRanges(s, () => true, assignment)
    if (rackAware) for (const list of assignment.values()) list.sort(compareTopicPartitions)
    return assignment
  }
}

class TopicState {
  readonly topic: string
  /** Subscribed members in MemberInfo order, with their racks. */
  readonly consumers: Array<[string, string | undefined]>
  readonly consumerKey: string
  readonly needsRackAwareAssignment: boolean
  readonly partitionRacks: Map<number, Set<string>>
  /** In partition order, as Java's LinkedHashSet. */
  readonly unassigned: number[]
  private readonly numAssigned = new Map<string, number>()
  private readonly perConsumer: number
  private remainingWithExtra: number
  readonly numPartitions: number

  constructor(topic: AssignorTopic, subscribers: AssignorMember[], consumerRacks: Map<string, string>) {
    this.topic = topic.name
    const sorted = [...subscribers].sort(compareMembers)
    this.consumers = sorted.map((m) => [m.memberId, consumerRacks.get(m.memberId)])
    this.consumerKey = JSON.stringify(this.consumers)
    this.unassigned = topic.partitions.map((p) => p.partition)
    this.numPartitions = topic.partitions.length
    for (const [c] of this.consumers) this.numAssigned.set(c, 0)
    const n = this.consumers.length
    this.perConsumer = n === 0 ? 0 : Math.floor(topic.partitions.length / n)
    this.remainingWithExtra = n === 0 ? 0 : topic.partitions.length % n

    const allConsumerRacks = new Set<string>()
    for (const [, rack] of this.consumers) if (rack !== undefined) allConsumerRacks.add(rack)
    const allPartitionRacks = new Set<string>()
    this.partitionRacks = new Map()
    if (allConsumerRacks.size > 0) {
      for (const p of topic.partitions) {
        const racks = new Set(p.replicaRacks)
        this.partitionRacks.set(p.partition, racks)
        for (const r of racks) allPartitionRacks.add(r)
      }
    }
    this.needsRackAwareAssignment = useRackAwareAssignment(
      allConsumerRacks,
      allPartitionRacks,
      this.partitionRacks.values(),
    )
  }

  rackOf(consumer: string): string | undefined {
    return this.consumers.find(([c]) => c === consumer)?.[1]
  }

  racksMatch(consumer: string, partition: number): boolean {
    const rack = this.rackOf(consumer)
    const replicaRacks = this.partitionRacks.get(partition)
    return rack === undefined || replicaRacks?.has(rack) === true
  }

  maxAssignable(consumer: string): number {
    const max = this.perConsumer + (this.remainingWithExtra > 0 ? 1 : 0) - this.numAssigned.get(consumer)!
    return Math.max(0, max)
  }

  onAssigned(consumer: string, partitions: number[]): void {
    const n = this.numAssigned.get(consumer)! + partitions.length
    this.numAssigned.set(consumer, n)
    if (n > this.perConsumer) this.remainingWithExtra--
    for (const p of partitions) {
      const i = this.unassigned.indexOf(p)
      if (i >= 0) this.unassigned.splice(i, 1)
    }
  }
}

function assign(consumer: string, partitions: number[], state: TopicState, assignment: GroupAssignment): void {
  const list = assignment.get(consumer)!
  for (const p of partitions) list.push({ topic: state.topic, partition: p } satisfies TopicPartition)
  state.onAssigned(consumer, partitions)
}

function assignRanges(
  state: TopicState,
  mayAssign: (consumer: string, partition: number) => boolean,
  assignment: GroupAssignment,
): void {
  for (const [consumer] of state.consumers) {
    if (state.unassigned.length === 0) break
    const assignable = state.unassigned.filter((p) => mayAssign(consumer, p)).slice(0, state.maxAssignable(consumer))
    if (assignable.length === 0) continue
    assign(consumer, assignable, state, assignment)
  }
}

function assignWithRackMatching(states: TopicState[], assignment: GroupAssignment): void {
  // Topics with the same subscribers and partition count are co-partitioned: partition i of each goes to one member.
  const byConsumers = new Map<string, TopicState[]>()
  for (const s of states) {
    const group = byConsumers.get(s.consumerKey) ?? []
    group.push(s)
    byConsumers.set(s.consumerKey, group)
  }
  for (const group of byConsumers.values()) {
    const byCount = new Map<number, TopicState[]>()
    for (const s of group) {
      // Java groups by partitionRacks.size(), which is the partition count when racks are known and 0 when not.
      const key = s.partitionRacks.size
      const list = byCount.get(key) ?? []
      list.push(s)
      byCount.set(key, list)
    }
    for (const [numPartitions, coPartitioned] of byCount) {
      if (coPartitioned.length > 1) assignCoPartitionedWithRackMatching(numPartitions, coPartitioned, assignment)
      else {
        const state = coPartitioned[0]!
        if (state.needsRackAwareAssignment) assignRanges(state, (c, p) => state.racksMatch(c, p), assignment)
      }
    }
  }
}

function assignCoPartitionedWithRackMatching(
  numPartitions: number,
  states: TopicState[],
  assignment: GroupAssignment,
): void {
  const remaining = states[0]!.consumers.map(([c]) => c)
  for (let p = 0; p < numPartitions; p++) {
    const consumer = remaining.find((c) => states.every((s) => s.racksMatch(c, p) && s.maxAssignable(c) > 0))
    if (consumer === undefined) continue
    for (const s of states) assign(consumer, [p], s, assignment)
    if (states.every((s) => s.maxAssignable(consumer) <= 0)) {
      remaining.splice(remaining.indexOf(consumer), 1)
      if (remaining.length === 0) break
    }
  }
}
