import type { AssignorMember, AssignorTopic, GroupAssignment, PartitionAssignor } from './types.js'
import { compareMembers } from './types.js'

/**
 * Kafka's RoundRobinAssignor ("roundrobin", eager only): every partition of every subscribed topic, topics in name
 * order and partitions in order, dealt in turn to the members (static members by group.instance.id first, then by
 * member id), skipping members not subscribed to the partition's topic. With identical subscriptions the counts
 * differ by at most one.
 */
export class RoundRobinAssignor implements PartitionAssignor {
  readonly name = 'roundrobin'
  readonly protocols = ['eager'] as const

  subscriptionUserData(): Buffer | null {
    return null
  }

  onAssignment(): void {}

  assign(members: readonly AssignorMember[], topics: ReadonlyMap<string, AssignorTopic>): GroupAssignment {
    const assignment: GroupAssignment = new Map(members.map((m) => [m.memberId, []]))
    const ring = [...members].sort(compareMembers)
    if (ring.length === 0) return assignment
    const subscribed = new Set<string>()
    for (const m of members) for (const t of m.topics) subscribed.add(t)
    let next = 0
    for (const topic of [...subscribed].sort()) {
      const info = topics.get(topic)
      if (!info) continue
      for (const p of info.partitions) {
        // Some member subscribes to `topic`, so this ends.
        while (!ring[next % ring.length]!.topics.includes(topic)) next++
        assignment.get(ring[next % ring.length]!.memberId)!.push({ topic, partition: p.partition })
        next++
      }
    }
    return assignment
  }
}
