import type { TopicPartition } from '../../types.js'
import { compareStrings, JavaHashOrder, javaHashMapOrder, javaTopicPartitionHash } from './java-order.js'
import {
  type AssignorMember,
  type AssignorTopic,
  compareTopicPartitions,
  type GroupAssignment,
  type PartitionAssignor,
  subscribedTopics,
  useRackAwareAssignment,
} from './types.js'

/**
 * Kafka's CooperativeStickyAssignor ("cooperative-sticky", KIP-429), a port of AbstractStickyAssignor: balanced
 * (member counts differ by at most one where subscriptions allow), sticky (a member keeps what it owned when that
 * does not break the balance), rack-aware (KIP-881), and cooperative — a partition that moves from one member to
 * another is left out of this assignment, so its owner revokes it first; the rebalance that follows (the owner
 * rejoins after revoking) hands it to its new member.
 *
 * Two builders, as in Kafka: the constrained one when every member subscribes to the same topics (quota filling),
 * the general one otherwise (the original sticky algorithm with reassignment passes). Both iterate Java HashMaps and
 * HashSets in places where the order decides the outcome; those orders are reproduced (./java-order.ts), so a Skiff
 * leader computes what a Java leader would from the same JoinGroup response.
 */
export class CooperativeStickyAssignor implements PartitionAssignor {
  readonly name = 'cooperative-sticky'
  readonly protocols = ['cooperative', 'eager'] as const
  /** The generation of the last assignment received, sent as user data (COOPERATIVE_STICKY_ASSIGNOR_USER_DATA_V0). */
  private generation = -1
  /** Kept across assignments, as AbstractStickyAssignor keeps it in the assignor instance. */
  private maxGeneration = -1

  subscriptionUserData(): Buffer {
    const b = Buffer.alloc(4)
    b.writeInt32BE(this.generation)
    return b
  }

  onAssignment(generationId: number): void {
    this.generation = generationId
  }

  assign(members: readonly AssignorMember[], topics: ReadonlyMap<string, AssignorTopic>): GroupAssignment {
    if (members.length === 0) return new Map()
    const byId = new Map(members.map((m) => [m.memberId, m]))
    // subscriptions: a HashMap<String, Subscription> filled in JoinGroup order (ConsumerCoordinator.onLeaderElected).
    const order = javaHashMapOrder(members.map((m) => m.memberId))
    const subscriptions = order.map((id) => byId.get(id)!)
    const { assignments, transferring } = this.assignPartitions(subscriptions, subscribedTopics(members, topics))
    const moving = transferring ?? computePartitionsTransferringOwnership(subscriptions, assignments)
    for (const [key, consumer] of moving) {
      const list = assignments.get(consumer)!
      const i = list.findIndex((tp) => tpKeyOf(tp) === key)
      if (i >= 0) list.splice(i, 1)
    }
    return new Map(members.map((m) => [m.memberId, assignments.get(m.memberId) ?? []]))
  }

  private assignPartitions(
    subscriptions: AssignorMember[],
    partitionsPerTopic: ReadonlyMap<string, AssignorTopic>,
  ): { assignments: Map<string, TopicPartition[]>; transferring: Map<string, string> | null } {
    const consumerToOwned = new Map<string, TopicPartition[]>()
    const multipleOwners = new Set<string>()
    const rackInfo = new RackInfo(partitionsPerTopic, subscriptions)
    if (this.allSubscriptionsEqual(partitionsPerTopic, subscriptions, consumerToOwned, multipleOwners)) {
      const builder = new ConstrainedAssignmentBuilder(partitionsPerTopic, rackInfo, consumerToOwned, multipleOwners)
      return { assignments: builder.build(), transferring: builder.partitionsTransferringOwnership }
    }
    const builder = new GeneralAssignmentBuilder(
      partitionsPerTopic,
      rackInfo,
      consumerToOwned,
      subscriptions,
      this.maxGeneration,
    )
    return { assignments: builder.build(), transferring: null }
  }

  /**
   * True iff every member subscribes to the same topics. Fills each member's still-valid owned partitions: a
   * partition two members claim goes to the one with the newer generation, or to neither when they claim it in
   * the same generation (then it is recorded in `multipleOwners`).
   */
  private allSubscriptionsEqual(
    partitionsPerTopic: ReadonlyMap<string, AssignorTopic>,
    subscriptions: AssignorMember[],
    consumerToOwned: Map<string, TopicPartition[]>,
    multipleOwners: Set<string>,
  ): boolean {
    let equal = true
    const subscribedTopics = new Set<string>()
    const previousOwner = new Map<string, string>()
    const byId = new Map(subscriptions.map((s) => [s.memberId, s]))
    for (const s of subscriptions) {
      const consumer = s.memberId
      if (subscribedTopics.size === 0) for (const t of s.topics) subscribedTopics.add(t)
      else if (equal && !(s.topics.length === subscribedTopics.size && s.topics.every((t) => subscribedTopics.has(t))))
        equal = false
      const data = memberData(s)
      const memberGeneration = data.generation ?? -1
      this.maxGeneration = Math.max(this.maxGeneration, memberGeneration)
      const owned: TopicPartition[] = []
      consumerToOwned.set(consumer, owned)
      for (const tp of data.partitions) {
        if (!partitionsPerTopic.has(tp.topic)) continue
        const key = tpKeyOf(tp)
        const other = previousOwner.get(key)
        if (other === undefined) {
          owned.push(tp)
          previousOwner.set(key, consumer)
          continue
        }
        // Kafka compares with the other member's subscription generation (not its user data).
        const otherGeneration = Math.max(-1, byId.get(other)!.generationId)
        if (memberGeneration === otherGeneration) {
          multipleOwners.add(key)
          removeFirst(consumerToOwned.get(other)!, key)
          previousOwner.set(key, consumer)
        } else if (memberGeneration > otherGeneration) {
          owned.push(tp)
          removeFirst(consumerToOwned.get(other)!, key)
          previousOwner.set(key, consumer)
        }
      }
    }
    return equal
  }
}

/** CooperativeStickyAssignor.memberData: the generation from the subscription (v2+), else from the user data. */
function memberData(s: AssignorMember): { partitions: TopicPartition[]; generation: number | undefined } {
  if (s.generationId >= 0) return { partitions: s.ownedPartitions, generation: s.generationId }
  if (s.userData === null) return { partitions: s.ownedPartitions, generation: undefined }
  const u = s.userData
  // A user data too short for its int32 counts as generation -1 (DEFAULT_GENERATION), as Kafka's catch does.
  const generation = u.length >= 4 ? Buffer.from(u.buffer, u.byteOffset, u.length).readInt32BE(0) : -1
  return { partitions: s.ownedPartitions, generation }
}

function computePartitionsTransferringOwnership(
  subscriptions: AssignorMember[],
  assignments: Map<string, TopicPartition[]>,
): Map<string, string> {
  const added = new Map<string, string>()
  const revoked = new Set<string>()
  const byId = new Map(subscriptions.map((s) => [s.memberId, s]))
  for (const [consumer, assigned] of assignments) {
    const owned = new Set(byId.get(consumer)!.ownedPartitions.map(tpKeyOf))
    const assignedSet = new Set(assigned.map(tpKeyOf))
    for (const tp of assigned) if (!owned.has(tpKeyOf(tp))) added.set(tpKeyOf(tp), consumer)
    for (const key of owned) if (!assignedSet.has(key)) revoked.add(key)
  }
  for (const key of [...added.keys()]) if (!revoked.has(key)) added.delete(key)
  return added
}

function tpKeyOf(tp: TopicPartition): string {
  return `${tp.topic}\u0000${tp.partition}`
}

function removeFirst(list: TopicPartition[], key: string): void {
  const i = list.findIndex((tp) => tpKeyOf(tp) === key)
  if (i >= 0) list.splice(i, 1)
}

function allTopicPartitions(
  partitionsPerTopic: ReadonlyMap<string, AssignorTopic>,
  sortedTopics: string[],
): TopicPartition[] {
  const out: TopicPartition[] = []
  for (const t of sortedTopics)
    for (const p of partitionsPerTopic.get(t)!.partitions) out.push({ topic: t, partition: p.partition })
  return out
}

/** Consumer and partition racks (AbstractStickyAssignor.RackInfo); empty maps when rack-aware assignment is off. */
class RackInfo {
  readonly consumerRacks = new Map<string, string>()
  readonly partitionRacks = new Map<string, Set<string>>()
  private readonly numConsumersByPartition = new Map<string, number>()

  constructor(partitionsPerTopic: ReadonlyMap<string, AssignorTopic>, subscriptions: AssignorMember[]) {
    const consumersByRack = new Map<string, string[]>()
    for (const s of subscriptions) {
      if (!s.rackId) continue
      const list = consumersByRack.get(s.rackId) ?? []
      list.push(s.memberId)
      consumersByRack.set(s.rackId, list)
    }
    const partitionRacks = new Map<string, Set<string>>()
    const allPartitionRacks = new Set<string>()
    if (consumersByRack.size > 0) {
      for (const topic of partitionsPerTopic.values()) {
        for (const p of topic.partitions) {
          const racks = new Set(p.replicaRacks)
          partitionRacks.set(tpKeyOf({ topic: topic.name, partition: p.partition }), racks)
          for (const r of racks) allPartitionRacks.add(r)
        }
      }
    }
    if (useRackAwareAssignment(new Set(consumersByRack.keys()), allPartitionRacks, partitionRacks.values())) {
      for (const [rack, consumers] of consumersByRack) for (const c of consumers) this.consumerRacks.set(c, rack)
      for (const [k, v] of partitionRacks) this.partitionRacks.set(k, v)
    }
    // Kafka computes these from every partition's racks whenever some consumer has a rack, rack-aware or not, and
    // then orders unassigned partitions by them (sortPartitionsByRackConsumers).
    for (const [key, racks] of partitionRacks) {
      let n = 0
      for (const r of racks) n += consumersByRack.get(r)?.length ?? 0
      this.numConsumersByPartition.set(key, n)
    }
  }

  racksMismatch(consumer: string, tp: TopicPartition): boolean {
    const rack = this.consumerRacks.get(consumer)
    if (rack === undefined) return false
    const replicaRacks = this.partitionRacks.get(tpKeyOf(tp))
    return replicaRacks === undefined || !replicaRacks.has(rack)
  }

  sortPartitionsByRackConsumers(partitions: TopicPartition[]): TopicPartition[] {
    if (this.numConsumersByPartition.size === 0) return partitions
    // A stable sort, as Java's List.sort.
    return [...partitions].sort(
      (a, b) =>
        (this.numConsumersByPartition.get(tpKeyOf(a)) ?? 0) - (this.numConsumersByPartition.get(tpKeyOf(b)) ?? 0),
    )
  }

  nextRackConsumer(tp: TopicPartition, consumers: string[], firstIndex: number): number {
    const racks = this.partitionRacks.get(tpKeyOf(tp))
    if (racks === undefined || racks.size === 0) return -1
    for (let i = 0; i < consumers.length; i++) {
      const index = (firstIndex + i) % consumers.length
      const rack = this.consumerRacks.get(consumers[index]!)
      if (rack !== undefined && racks.has(rack)) return index
    }
    return -1
  }
}

/** A java.util.Iterator over a list, with remove() of the element last returned. */
class ListIterator<T> {
  private cursor = 0
  private last = -1
  constructor(readonly list: T[]) {}
  hasNext(): boolean {
    return this.cursor < this.list.length
  }
  next(): T {
    this.last = this.cursor
    return this.list[this.cursor++]!
  }
  remove(): void {
    if (this.last < 0) throw new Error('sticky assignor: iterator.remove() without next()')
    this.list.splice(this.last, 1)
    this.cursor = this.last
    this.last = -1
  }
}

/**
 * All members subscribe to the same topics. 1) Each keeps up to its quota of what it owned (members that owned the
 * most keep maxQuota while members over minQuota are still needed); 2) when rack-aware, members under quota take
 * unassigned partitions on their rack; 3) the rest are dealt round-robin up to minQuota, then up to maxQuota.
 */
class ConstrainedAssignmentBuilder {
  /** Partitions given to a member other than the one that owned them (cooperative: left out this round). */
  readonly partitionsTransferringOwnership = new Map<string, string>()
  private readonly maybeRevoked = new Map<string, string>()
  private readonly unfilledUnderMin: string[] = []
  private unfilledExactlyMin: string[] = []
  private readonly minQuota: number
  private readonly maxQuota: number
  private readonly expectedOverMin: number
  private currentOverMin = 0
  private readonly assignment = new Map<string, TopicPartition[]>()
  private readonly assignedPartitions: TopicPartition[] = []

  constructor(
    private readonly partitionsPerTopic: ReadonlyMap<string, AssignorTopic>,
    private readonly rackInfo: RackInfo,
    private readonly currentAssignment: Map<string, TopicPartition[]>,
    private readonly multipleOwners: Set<string>,
  ) {
    let total = 0
    for (const t of partitionsPerTopic.values()) total += t.partitions.length
    const n = currentAssignment.size
    this.minQuota = Math.floor(total / n)
    this.maxQuota = Math.ceil(total / n)
    this.expectedOverMin = total % n
    for (const c of currentAssignment.keys()) this.assignment.set(c, [])
  }

  build(): Map<string, TopicPartition[]> {
    this.assignOwnedPartitions()
    let unassigned = this.unassignedPartitions()
    this.unfilledUnderMin.sort(compareStrings)
    this.unfilledExactlyMin.sort(compareStrings)
    unassigned = this.rackInfo.sortPartitionsByRackConsumers(unassigned)
    this.assignRackAwareRoundRobin(unassigned)
    this.assignRoundRobin(unassigned)
    this.verifyUnfilledMembers()
    return this.assignment
  }

  private assignOwnedPartitions(): void {
    for (const [consumer, ownedAll] of this.currentAssignment) {
      const owned = ownedAll
        .filter((tp) => {
          const mismatch = this.rackInfo.racksMismatch(consumer, tp)
          if (mismatch) this.maybeRevoked.set(tpKeyOf(tp), consumer)
          return !mismatch
        })
        .sort((a, b) => a.partition - b.partition || compareStrings(a.topic, b.topic))
      for (const key of this.multipleOwners) removeFirst(owned, key)
      const mine = this.assignment.get(consumer)!
      if (owned.length < this.minQuota) {
        mine.push(...owned)
        this.assignedPartitions.push(...owned)
        this.unfilledUnderMin.push(consumer)
      } else if (owned.length >= this.maxQuota && this.currentOverMin < this.expectedOverMin) {
        this.currentOverMin++
        if (this.currentOverMin === this.expectedOverMin) this.unfilledExactlyMin = []
        const keep = owned.slice(0, this.maxQuota)
        mine.push(...keep)
        this.assignedPartitions.push(...keep)
        for (const tp of owned.slice(this.maxQuota)) this.maybeRevoked.set(tpKeyOf(tp), consumer)
      } else {
        const keep = owned.slice(0, this.minQuota)
        mine.push(...keep)
        this.assignedPartitions.push(...keep)
        for (const tp of owned.slice(this.minQuota)) this.maybeRevoked.set(tpKeyOf(tp), consumer)
        if (this.currentOverMin < this.expectedOverMin) this.unfilledExactlyMin.push(consumer)
      }
    }
  }

  private assignRackAwareRoundRobin(unassigned: TopicPartition[]): void {
    if (this.rackInfo.consumerRacks.size === 0) return
    let nextUnfilled = 0
    const it = new ListIterator(unassigned)
    while (it.hasNext()) {
      const tp = it.next()
      let consumer: string | undefined
      let nextIndex = this.rackInfo.nextRackConsumer(tp, this.unfilledUnderMin, nextUnfilled)
      if (nextIndex >= 0) {
        consumer = this.unfilledUnderMin[nextIndex]!
        const count = this.assignment.get(consumer)!.length + 1
        if (count >= this.minQuota) {
          this.unfilledUnderMin.splice(this.unfilledUnderMin.indexOf(consumer), 1)
          if (count < this.maxQuota && this.currentOverMin < this.expectedOverMin)
            this.unfilledExactlyMin.push(consumer)
        } else nextIndex++
        nextUnfilled = this.unfilledUnderMin.length === 0 ? 0 : nextIndex % this.unfilledUnderMin.length
      } else if (this.unfilledExactlyMin.length > 0) {
        const first = this.rackInfo.nextRackConsumer(tp, this.unfilledExactlyMin, 0)
        if (first >= 0) {
          consumer = this.unfilledExactlyMin[first]!
          if (this.assignment.get(consumer)!.length + 1 === this.maxQuota) {
            this.unfilledExactlyMin.splice(first, 1)
            this.currentOverMin++
            if (this.currentOverMin === this.expectedOverMin) this.unfilledExactlyMin = []
          }
        }
      }
      if (consumer !== undefined) {
        this.assignNewPartition(tp, consumer)
        it.remove()
      }
    }
  }

  private assignRoundRobin(unassigned: TopicPartition[]): void {
    let it = new ListIterator(this.unfilledUnderMin)
    for (const tp of unassigned) {
      let consumer: string
      if (it.hasNext()) consumer = it.next()
      else if (this.unfilledUnderMin.length === 0 && this.unfilledExactlyMin.length === 0) {
        throw new Error('sticky assignor: no more unfilled consumers to be assigned')
      } else if (this.unfilledUnderMin.length === 0) {
        consumer = this.unfilledExactlyMin.shift()!
      } else {
        it = new ListIterator(this.unfilledUnderMin)
        consumer = it.next()
      }
      const count = this.assignNewPartition(tp, consumer)
      if (count === this.minQuota) {
        it.remove()
        this.unfilledExactlyMin.push(consumer)
      } else if (count === this.maxQuota) this.currentOverMin++
    }
  }

  private assignNewPartition(tp: TopicPartition, consumer: string): number {
    const list = this.assignment.get(consumer)!
    list.push(tp)
    const key = tpKeyOf(tp)
    const previous = this.maybeRevoked.get(key)
    if ((previous !== undefined && previous !== consumer) || this.multipleOwners.has(key)) {
      this.partitionsTransferringOwnership.set(key, consumer)
    }
    return list.length
  }

  private verifyUnfilledMembers(): void {
    if (this.unfilledUnderMin.length === 0) return
    if (this.currentOverMin !== this.expectedOverMin) {
      throw new Error('sticky assignor: fewer members over minQuota than expected, and no partitions left')
    }
    for (const m of this.unfilledUnderMin) {
      if (this.assignment.get(m)!.length !== this.minQuota)
        throw new Error(`sticky assignor: ${m} did not reach minQuota and no partitions are left`)
    }
  }

  /** All partitions (topics by name, partitions in order) minus those assigned: Kafka's two-pointer walk. */
  private unassignedPartitions(): TopicPartition[] {
    const sortedTopics = [...this.partitionsPerTopic.keys()].sort(compareStrings)
    if (this.assignedPartitions.length === 0) return allTopicPartitions(this.partitionsPerTopic, sortedTopics)
    const assigned = [...this.assignedPartitions].sort(compareTopicPartitions)
    const out: TopicPartition[] = []
    let addDirectly = false
    let i = 0
    let next = assigned[i++]!
    for (const topic of sortedTopics) {
      const count = this.partitionsPerTopic.get(topic)!.partitions.length
      for (let p = 0; p < count; p++) {
        if (addDirectly || !(next.topic === topic && next.partition === p)) out.push({ topic, partition: p })
        else if (i < assigned.length) next = assigned[i++]!
        else addDirectly = true
      }
    }
    return out
  }
}

/** A java.util.TreeSet<String> with a comparator over mutable state: callers remove before changing an element. */
class SortedConsumers {
  private items: string[] = []
  constructor(private readonly compare: (a: string, b: string) => number) {}
  add(c: string): void {
    let lo = 0
    let hi = this.items.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      const r = this.compare(this.items[mid]!, c)
      if (r === 0) return
      if (r < 0) lo = mid + 1
      else hi = mid
    }
    this.items.splice(lo, 0, c)
  }
  remove(c: string): void {
    let lo = 0
    let hi = this.items.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const r = this.compare(this.items[mid]!, c)
      if (r === 0) {
        this.items.splice(mid, 1)
        return
      }
      if (r < 0) lo = mid + 1
      else hi = mid - 1
    }
  }
  first(): string {
    return this.items[0]!
  }
  last(): string {
    return this.items[this.items.length - 1]!
  }
  /** A snapshot, for loops that stop at their first change. */
  values(): string[] {
    return [...this.items]
  }
}

interface ConsumerPair {
  src: string
  dst: string
}

/** Partition movements among consumers in one assignment run, to keep them sticky (no back-and-forth per topic). */
class PartitionMovements {
  private readonly byTopic = new Map<string, Map<string, { pair: ConsumerPair; set: JavaHashOrder<string> }>>()
  private readonly movements = new Map<string, ConsumerPair>()

  private removeRecord(key: string, topic: string): ConsumerPair {
    const pair = this.movements.get(key)!
    this.movements.delete(key)
    const forTopic = this.byTopic.get(topic)!
    const pk = pairKey(pair)
    const entry = forTopic.get(pk)!
    entry.set.delete(key)
    if (entry.set.size === 0) forTopic.delete(pk)
    if (forTopic.size === 0) this.byTopic.delete(topic)
    return pair
  }

  private addRecord(key: string, topic: string, pair: ConsumerPair): void {
    this.movements.set(key, pair)
    let forTopic = this.byTopic.get(topic)
    if (!forTopic) this.byTopic.set(topic, (forTopic = new Map()))
    const pk = pairKey(pair)
    let entry = forTopic.get(pk)
    if (!entry) forTopic.set(pk, (entry = { pair, set: new JavaHashOrder<string>(hashOfTpKey) }))
    entry.set.add(key)
  }

  movePartition(tp: TopicPartition, oldConsumer: string, newConsumer: string): void {
    const key = tpKeyOf(tp)
    if (this.movements.has(key)) {
      const existing = this.removeRecord(key, tp.topic)
      if (existing.src !== newConsumer) this.addRecord(key, tp.topic, { src: existing.src, dst: newConsumer })
    } else this.addRecord(key, tp.topic, { src: oldConsumer, dst: newConsumer })
  }

  actualPartitionToMove(tp: TopicPartition, oldConsumer: string, newConsumer: string): TopicPartition {
    const forTopic = this.byTopic.get(tp.topic)
    if (!forTopic) return tp
    const key = tpKeyOf(tp)
    const moved = this.movements.get(key)
    if (moved) oldConsumer = moved.src
    const reverse = forTopic.get(pairKey({ src: newConsumer, dst: oldConsumer }))
    if (!reverse) return tp
    return tpOfKey(reverse.set.first()!)
  }
}

function pairKey(p: ConsumerPair): string {
  return `${p.src}\u0000${p.dst}`
}

function tpOfKey(key: string): TopicPartition {
  const i = key.lastIndexOf('\u0000')
  return { topic: key.slice(0, i), partition: Number(key.slice(i + 1)) }
}

function hashOfTpKey(key: string): number {
  const tp = tpOfKey(key)
  return javaTopicPartitionHash(tp.topic, tp.partition)
}

/**
 * Subscriptions differ. Keep every valid owned partition, assign the rest one by one to the least loaded eligible
 * member, then move partitions from members with more to members with fewer until balanced (or revert when that
 * did not improve the balance score).
 */
class GeneralAssignmentBuilder {
  private readonly topic2AllPotentialConsumers = new Map<string, string[]>()
  private readonly consumer2AllPotentialTopics = new Map<string, string[]>()
  private readonly currentPartitionConsumer = new Map<string, string>()
  private sortedAllPartitions: TopicPartition[]
  private readonly sortedCurrentSubscriptions: SortedConsumers
  private revocationRequired = false
  private readonly partitionMovements = new PartitionMovements()
  private readonly totalPartitions: number
  private readonly byId: Map<string, AssignorMember>

  constructor(
    private readonly partitionsPerTopic: ReadonlyMap<string, AssignorTopic>,
    private readonly rackInfo: RackInfo,
    private readonly currentAssignment: Map<string, TopicPartition[]>,
    private readonly subscriptions: AssignorMember[],
    private readonly maxGeneration: number,
  ) {
    let total = 0
    for (const t of partitionsPerTopic.values()) total += t.partitions.length
    this.totalPartitions = total
    this.byId = new Map(subscriptions.map((s) => [s.memberId, s]))
    // HashMap<String, List<String>> over partitionsPerTopic's keys: only looked up and sorted, never iterated raw.
    for (const t of partitionsPerTopic.keys()) this.topic2AllPotentialConsumers.set(t, [])
    for (const s of subscriptions) {
      const topics: string[] = []
      this.consumer2AllPotentialTopics.set(s.memberId, topics)
      for (const t of s.topics) {
        if (!partitionsPerTopic.has(t)) continue
        topics.push(t)
        this.topic2AllPotentialConsumers.get(t)!.push(s.memberId)
      }
      if (!currentAssignment.has(s.memberId)) currentAssignment.set(s.memberId, [])
    }
    for (const [consumer, partitions] of currentAssignment)
      for (const tp of partitions) this.currentPartitionConsumer.set(tpKeyOf(tp), consumer)
    const t2c = this.topic2AllPotentialConsumers
    const sortedTopics = [...t2c.keys()].sort((a, b) => t2c.get(a)!.length - t2c.get(b)!.length || compareStrings(a, b))
    this.sortedAllPartitions = allTopicPartitions(partitionsPerTopic, sortedTopics)
    this.sortedCurrentSubscriptions = new SortedConsumers(
      (a, b) => currentAssignment.get(a)!.length - currentAssignment.get(b)!.length || compareStrings(a, b),
    )
  }

  build(): Map<string, TopicPartition[]> {
    const prevAssignment = new Map<string, { consumer: string; generation: number }>()
    this.prepopulateCurrentAssignments(prevAssignment)
    const assigned = this.assignOwnedPartitions()
    const unassigned = this.unassignedPartitions(assigned)
    for (const c of this.currentAssignment.keys()) this.sortedCurrentSubscriptions.add(c)
    this.balance(prevAssignment, unassigned)
    return this.currentAssignment
  }

  private prepopulateCurrentAssignments(prev: Map<string, { consumer: string; generation: number }>): void {
    for (const s of this.subscriptions) {
      const data = memberData(s)
      if (data.generation !== undefined && data.generation < this.maxGeneration) {
        updatePrevAssignment(prev, data.partitions, s.memberId, data.generation)
      } else if (data.generation === undefined && this.maxGeneration > -1) {
        updatePrevAssignment(prev, data.partitions, s.memberId, -1)
      }
    }
  }

  private assignOwnedPartitions(): TopicPartition[] {
    const assigned: TopicPartition[] = []
    for (const [consumer, partitions] of [...this.currentAssignment]) {
      const subscription = this.byId.get(consumer)
      if (!subscription) {
        for (const tp of partitions) this.currentPartitionConsumer.delete(tpKeyOf(tp))
        this.currentAssignment.delete(consumer)
        continue
      }
      const it = new ListIterator(partitions)
      while (it.hasNext()) {
        const tp = it.next()
        if (!this.topic2AllPotentialConsumers.has(tp.topic)) {
          it.remove()
          this.currentPartitionConsumer.delete(tpKeyOf(tp))
        } else if (!subscription.topics.includes(tp.topic) || this.rackInfo.racksMismatch(consumer, tp)) {
          it.remove()
          this.revocationRequired = true
        } else assigned.push(tp)
      }
    }
    return assigned
  }

  private unassignedPartitions(sortedAssigned: TopicPartition[]): TopicPartition[] {
    if (sortedAssigned.length === 0) return this.sortedAllPartitions
    const t2c = this.topic2AllPotentialConsumers
    sortedAssigned.sort(
      (a, b) =>
        t2c.get(a.topic)!.length - t2c.get(b.topic)!.length ||
        compareStrings(a.topic, b.topic) ||
        a.partition - b.partition,
    )
    const out: TopicPartition[] = []
    let addDirectly = false
    let i = 0
    let next = sortedAssigned[i++]!
    for (const tp of this.sortedAllPartitions) {
      if (addDirectly || !(next.topic === tp.topic && next.partition === tp.partition)) out.push(tp)
      else if (i < sortedAssigned.length) next = sortedAssigned[i++]!
      else addDirectly = true
    }
    return out
  }

  private maxAssignmentSize(topics: string[]): number {
    if (topics.length === this.partitionsPerTopic.size) return this.totalPartitions
    let n = 0
    for (const t of topics) n += this.partitionsPerTopic.get(t)!.partitions.length
    return n
  }

  private sizeOf(consumer: string): number {
    const list = this.currentAssignment.get(consumer)
    // Kafka would throw a NullPointerException here; it cannot happen for inputs the builder accepts.
    if (!list) throw new Error(`sticky assignor: ${consumer} has no current assignment`)
    return list.length
  }

  private isBalanced(): boolean {
    const min = this.sizeOf(this.sortedCurrentSubscriptions.first())
    const max = this.sizeOf(this.sortedCurrentSubscriptions.last())
    if (min >= max - 1) return true
    const allPartitions = new Map<string, string>()
    for (const [consumer, partitions] of this.currentAssignment)
      for (const tp of partitions) allPartitions.set(tpKeyOf(tp), consumer)
    for (const consumer of this.sortedCurrentSubscriptions.values()) {
      const mine = this.currentAssignment.get(consumer)!
      const count = mine.length
      const topics = this.consumer2AllPotentialTopics.get(consumer)!
      if (count === this.maxAssignmentSize(topics)) continue
      const mineKeys = new Set(mine.map(tpKeyOf))
      for (const topic of topics) {
        const n = this.partitionsPerTopic.get(topic)!.partitions.length
        for (let p = 0; p < n; p++) {
          const key = tpKeyOf({ topic, partition: p })
          if (mineKeys.has(key)) continue
          const other = allPartitions.get(key)
          if (other === undefined) throw new Error(`sticky assignor: ${topic}[${p}] is not assigned`)
          if (count + 1 < this.sizeOf(other)) return false
        }
      }
    }
    return true
  }

  private maybeAssignPartition(tp: TopicPartition, rackInfo: RackInfo | null): boolean {
    for (const consumer of this.sortedCurrentSubscriptions.values()) {
      if (
        this.consumer2AllPotentialTopics.get(consumer)!.includes(tp.topic) &&
        (rackInfo === null || !rackInfo.racksMismatch(consumer, tp))
      ) {
        this.sortedCurrentSubscriptions.remove(consumer)
        this.currentAssignment.get(consumer)!.push(tp)
        this.currentPartitionConsumer.set(tpKeyOf(tp), consumer)
        this.sortedCurrentSubscriptions.add(consumer)
        return true
      }
    }
    return false
  }

  private maybeAssign(partitions: TopicPartition[], rackInfo: RackInfo | null, removeAssigned: boolean): void {
    const it = new ListIterator(partitions)
    while (it.hasNext()) {
      const tp = it.next()
      if (this.topic2AllPotentialConsumers.get(tp.topic)!.length === 0) continue
      if (this.maybeAssignPartition(tp, rackInfo) && removeAssigned) it.remove()
    }
  }

  private canTopicParticipate(topic: string): boolean {
    return this.topic2AllPotentialConsumers.get(topic)!.length >= 2
  }

  private canConsumerParticipate(consumer: string): boolean {
    const current = this.currentAssignment.get(consumer)!
    const max = this.maxAssignmentSize(this.consumer2AllPotentialTopics.get(consumer)!)
    if (current.length < max) return true
    return current.some((tp) => this.canTopicParticipate(tp.topic))
  }

  private balance(prev: Map<string, { consumer: string; generation: number }>, unassigned: TopicPartition[]): void {
    const initializing = this.sizeOf(this.sortedCurrentSubscriptions.last()) === 0
    let toAssign = unassigned
    if (this.rackInfo.consumerRacks.size > 0) {
      toAssign = [...unassigned]
      this.maybeAssign(toAssign, this.rackInfo, true)
    }
    this.maybeAssign(toAssign, null, false)

    const fixed = new Set<string>()
    for (const topic of this.topic2AllPotentialConsumers.keys()) {
      if (this.canTopicParticipate(topic)) continue
      const n = this.partitionsPerTopic.get(topic)!.partitions.length
      for (let p = 0; p < n; p++) fixed.add(tpKeyOf({ topic, partition: p }))
    }
    removeAll(this.sortedAllPartitions, fixed)
    removeAll(unassigned, fixed)

    const fixedAssignments = new Map<string, TopicPartition[]>()
    for (const consumer of this.consumer2AllPotentialTopics.keys()) {
      if (this.canConsumerParticipate(consumer)) continue
      this.sortedCurrentSubscriptions.remove(consumer)
      fixedAssignments.set(consumer, this.currentAssignment.get(consumer)!)
      this.currentAssignment.delete(consumer)
    }

    const preBalance = new Map([...this.currentAssignment].map(([c, l]) => [c, [...l]]))
    const preBalancePartitionConsumers = new Map(this.currentPartitionConsumer)
    if (!this.revocationRequired) this.performReassignments(unassigned, prev)
    const performed = this.performReassignments(this.sortedAllPartitions, prev)
    if (!initializing && performed && balanceScore(this.currentAssignment) >= balanceScore(preBalance)) {
      this.currentAssignment.clear()
      for (const [c, l] of preBalance) this.currentAssignment.set(c, [...l])
      this.currentPartitionConsumer.clear()
      for (const [k, v] of preBalancePartitionConsumers) this.currentPartitionConsumer.set(k, v)
    }
    for (const [consumer, partitions] of fixedAssignments) {
      this.currentAssignment.set(consumer, partitions)
      this.sortedCurrentSubscriptions.add(consumer)
    }
  }

  private performReassignments(
    reassignable: TopicPartition[],
    prev: Map<string, { consumer: string; generation: number }>,
  ): boolean {
    let performed = false
    let modified: boolean
    do {
      modified = false
      for (let i = 0; i < reassignable.length && !this.isBalanced(); i++) {
        const tp = reassignable[i]!
        const key = tpKeyOf(tp)
        const consumer = this.currentPartitionConsumer.get(key)!
        const previous = prev.get(key)
        if (previous && this.sizeOf(consumer) > this.sizeOf(previous.consumer) + 1) {
          this.reassignPartitionTo(tp, previous.consumer)
          performed = modified = true
          continue
        }
        const consumerRack = this.rackInfo.consumerRacks.get(consumer)
        const partitionRacks = this.rackInfo.partitionRacks.get(key)
        let foundRackConsumer = false
        if (
          consumerRack !== undefined &&
          partitionRacks &&
          partitionRacks.size > 0 &&
          partitionRacks.has(consumerRack)
        ) {
          for (const other of this.topic2AllPotentialConsumers.get(tp.topic)!) {
            const otherRack = this.rackInfo.consumerRacks.get(other)
            if (otherRack === undefined || !partitionRacks.has(otherRack)) continue
            if (this.sizeOf(consumer) > this.sizeOf(other) + 1) {
              this.reassignPartition(tp)
              performed = modified = true
              foundRackConsumer = true
              break
            }
          }
        }
        if (!foundRackConsumer) {
          for (const other of this.topic2AllPotentialConsumers.get(tp.topic)!) {
            if (this.sizeOf(consumer) > this.sizeOf(other) + 1) {
              this.reassignPartition(tp)
              performed = modified = true
              break
            }
          }
        }
      }
    } while (modified)
    return performed
  }

  private reassignPartition(tp: TopicPartition): void {
    const newConsumer = this.sortedCurrentSubscriptions
      .values()
      .find((c) => this.consumer2AllPotentialTopics.get(c)!.includes(tp.topic))
    if (newConsumer === undefined) throw new Error(`sticky assignor: no consumer for ${tp.topic}[${tp.partition}]`)
    this.reassignPartitionTo(tp, newConsumer)
  }

  private reassignPartitionTo(tp: TopicPartition, newConsumer: string): void {
    const consumer = this.currentPartitionConsumer.get(tpKeyOf(tp))!
    const toMove = this.partitionMovements.actualPartitionToMove(tp, consumer, newConsumer)
    this.processPartitionMovement(toMove, newConsumer)
  }

  private processPartitionMovement(tp: TopicPartition, newConsumer: string): void {
    const key = tpKeyOf(tp)
    const oldConsumer = this.currentPartitionConsumer.get(key)!
    this.sortedCurrentSubscriptions.remove(oldConsumer)
    this.sortedCurrentSubscriptions.remove(newConsumer)
    this.partitionMovements.movePartition(tp, oldConsumer, newConsumer)
    removeFirst(this.currentAssignment.get(oldConsumer)!, key)
    this.currentAssignment.get(newConsumer)!.push(tp)
    this.currentPartitionConsumer.set(key, newConsumer)
    this.sortedCurrentSubscriptions.add(newConsumer)
    this.sortedCurrentSubscriptions.add(oldConsumer)
  }
}

function updatePrevAssignment(
  prev: Map<string, { consumer: string; generation: number }>,
  partitions: TopicPartition[],
  consumer: string,
  generation: number,
): void {
  for (const tp of partitions) {
    const key = tpKeyOf(tp)
    const existing = prev.get(key)
    if (!existing || generation > existing.generation) prev.set(key, { consumer, generation })
  }
}

function removeAll(list: TopicPartition[], keys: Set<string>): void {
  let w = 0
  for (const tp of list) if (!keys.has(tpKeyOf(tp))) list[w++] = tp
  list.length = w
}

function balanceScore(assignment: Map<string, TopicPartition[]>): number {
  const sizes = [...assignment.values()].map((l) => l.length)
  let score = 0
  for (let i = 0; i < sizes.length; i++)
    for (let j = i + 1; j < sizes.length; j++) score += Math.abs(sizes[i]! - sizes[j]!)
  return score
}
