import { EventEmitter } from 'node:events'
import { Admin } from '../admin/admin.js'
import type { Cluster } from '../cluster/cluster.js'
import { GroupMember, type GroupMemberOptions, type RebalanceHooks } from './group/member.js'
import { type TopicPartition, tpKey } from './types.js'

/** What the consumer needs from its group: positions to start from, commits, and (when managed) assignments. */
export interface Membership extends EventEmitter {
  /** True when the group assigns partitions (subscribe); false for commits only (assign with a groupId). */
  readonly managed: boolean
  start(signal?: AbortSignal): Promise<void>
  commit(
    offsets: ReadonlyArray<TopicPartition & { offset: number; leaderEpoch?: number; metadata?: string }>,
    options?: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<void>
  fetchCommitted(
    partitions: readonly TopicPartition[],
    options?: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<Map<string, { offset: number; leaderEpoch: number; metadata: string | null } | null>>
  leave(options?: { timeoutMs?: number }): Promise<void>
}

/** A managed group member when there are rebalance hooks; otherwise commits as a standalone (generation -1) client. */
export function createMembership(
  cluster: Cluster,
  options: GroupMemberOptions,
  hooks: RebalanceHooks | undefined,
): Membership {
  if (!hooks) return new StandaloneOffsets(cluster, options.groupId)
  const member = new GroupMember(cluster, options, hooks) as GroupMember & { managed: boolean }
  member.managed = true
  return member as unknown as Membership
}

/**
 * Offsets of a group used without group management (manual assignment): committed as Kafka's Java consumer does
 * for `assign()` — generation -1, no member id — which the coordinator accepts while the group has no members.
 */
class StandaloneOffsets extends EventEmitter implements Membership {
  readonly managed = false
  private readonly admin: Admin

  constructor(
    cluster: Cluster,
    private readonly groupId: string,
  ) {
    super()
    this.admin = new Admin({ cluster })
  }

  async start(): Promise<void> {}

  async commit(
    offsets: ReadonlyArray<TopicPartition & { offset: number; leaderEpoch?: number; metadata?: string }>,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<void> {
    const results = await this.admin.alterGroupOffsets(this.groupId, offsets, options)
    const failed = results.find((r) => r.error)
    if (failed?.error) throw failed.error
  }

  async fetchCommitted(
    partitions: readonly TopicPartition[],
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ) {
    const wanted = new Set(partitions.map((p) => tpKey(p.topic, p.partition)))
    const topics = [...new Set(partitions.map((p) => p.topic))]
    const out = new Map<string, { offset: number; leaderEpoch: number; metadata: string | null } | null>()
    for (const o of await this.admin.listGroupOffsets(this.groupId, { ...options, topics })) {
      const key = tpKey(o.topic, o.partition)
      if (!wanted.has(key)) continue
      if (o.error) throw o.error
      out.set(
        key,
        o.offset < 0n ? null : { offset: Number(o.offset), leaderEpoch: o.leaderEpoch, metadata: o.metadata },
      )
    }
    return out
  }

  async leave(): Promise<void> {}
}
