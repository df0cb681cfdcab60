import { EventEmitter } from 'node:events'
import { ErrorCode } from '../../protocol/error-codes.js'
import { KafkaError } from '../../protocol/kafka-error.js'
import { Admin } from '../admin/admin.js'
import type { Cluster } from '../cluster/cluster.js'
import { GroupCoordinator } from './group/coordinator.js'
import { GroupMember, type GroupMemberOptions, type RebalanceHooks } from './group/member.js'
import { sendOffsetFetch } from './group/offsets.js'
import { type TopicPartition, tpKey } from './types.js'

/** What the consumer needs from its group: positions to start from, commits, and (when managed) assignments. */
export interface Membership extends EventEmitter {
  /** True when the group assigns partitions (subscribe); false for commits only (assign with a groupId). */
  readonly managed: boolean
  /** Left, or stopped by a fatal error (reported as 'error'). */
  readonly stopped: boolean
  start(signal?: AbortSignal): Promise<void>
  commit(
    offsets: ReadonlyArray<TopicPartition & { offset: number; leaderEpoch?: number; metadata?: string }>,
    options?: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<void>
  /** `requireStable` waits out pending transactional offset commits (KIP-447), as read_committed readers must. */
  fetchCommitted(
    partitions: readonly TopicPartition[],
    options?: { signal?: AbortSignal; timeoutMs?: number; requireStable?: boolean },
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
  readonly stopped = false
  private readonly admin: Admin
  private readonly coordinator: GroupCoordinator

  constructor(
    private readonly cluster: Cluster,
    private readonly groupId: string,
  ) {
    super()
    this.admin = new Admin({ cluster })
    this.coordinator = new GroupCoordinator(cluster, groupId)
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

  /**
   * Asks for exactly these partitions (not the group's whole list): only then does the coordinator check them for
   * pending transactional commits under `requireStable`, including partitions with nothing committed yet.
   */
  async fetchCommitted(
    partitions: readonly TopicPartition[],
    options: { signal?: AbortSignal; timeoutMs?: number; requireStable?: boolean } = {},
  ) {
    const out = new Map<string, { offset: number; leaderEpoch: number; metadata: string | null } | null>()
    if (partitions.length === 0) return out
    const requestTimeoutMs = this.cluster.options.requestTimeoutMs
    return this.coordinator.retrying('fetchCommitted', options.timeoutMs ?? 60_000, options.signal, async (conn) => {
      const answer = await sendOffsetFetch(
        conn,
        this.cluster,
        this.groupId,
        { memberId: null, memberEpoch: -1 },
        partitions,
        {
          timeoutMs: requestTimeoutMs,
          signal: options.signal,
          requireStable: options.requireStable,
        },
      )
      const context = { api: 'OffsetFetch', broker: conn.broker, group: this.groupId }
      if (answer.errorCode !== ErrorCode.NONE) throw KafkaError.fromCode(answer.errorCode, context)
      for (const p of partitions) {
        const key = tpKey(p.topic, p.partition)
        const got = answer.partitions.get(key)
        const code = got ? got.errorCode : ErrorCode.UNKNOWN_SERVER_ERROR
        // Retriable ones (UNSTABLE_OFFSET_COMMIT, a coordinator loading or moving) are retried by `retrying`.
        if (code !== ErrorCode.NONE || !got) throw KafkaError.fromCode(code, { ...context, ...p })
        out.set(
          key,
          got.offset < 0 ? null : { offset: got.offset, leaderEpoch: got.leaderEpoch, metadata: got.metadata },
        )
      }
      return out
    })
  }

  async leave(): Promise<void> {}
}
