import { EventEmitter } from 'node:events'
import type { Cluster } from '../../cluster/cluster.js'
import { ConfigError } from '../../errors.js'
import type { TopicPartition } from '../types.js'
import { CooperativeStickyAssignor } from './assignors/cooperative-sticky.js'
import { RangeAssignor } from './assignors/range.js'
import { RoundRobinAssignor } from './assignors/roundrobin.js'
import type { PartitionAssignor } from './assignors/types.js'
import { ClassicMember } from './classic.js'
import { GroupCoordinator } from './coordinator.js'
import { GroupMemberStateError } from './errors.js'
import { ConsumerMember } from './kip848.js'
import type { CommittedOffset, OffsetToCommit } from './offsets.js'
import type { RebalanceHooks, ResolvedGroupOptions } from './shared.js'

export type { CommittedOffset, OffsetToCommit } from './offsets.js'
export type { RebalanceEvent, RebalanceHooks } from './shared.js'

export interface GroupMemberOptions {
  groupId: string
  /** 'classic' (default): JoinGroup/SyncGroup. 'consumer': KIP-848, Kafka 4.x with group.version ≥ 1. */
  protocol?: 'classic' | 'consumer'
  /**
   * The subscription. A RegExp is matched against the cluster's topic names (classic: by this client, re-checked
   * every metadataMaxAgeMs; KIP-848: sent as subscribedTopicRegex, which the broker evaluates as RE2/J).
   */
  topics: string[] | RegExp
  /** Classic only (KIP-848 uses the broker's group.consumer.session.timeout.ms). Default 45 000. */
  sessionTimeoutMs?: number
  /** How long the group waits for this member to rejoin / to revoke. Default 300 000. */
  rebalanceTimeoutMs?: number
  /** Classic only (KIP-848 uses the interval the broker sends). Default 3000; must be below sessionTimeoutMs. */
  heartbeatIntervalMs?: number
  /** Static membership (KIP-345): a restart within the session timeout gets the same partitions, no rebalance. */
  groupInstanceId?: string
  /**
   * Classic: the assignors offered, in preference order. Default ['range', 'cooperative-sticky'] as Kafka 3.x+.
   * The rebalance is cooperative (KIP-429: revoke only what moves) only when every one offered supports it, i.e.
   * ['cooperative-sticky']; otherwise eager (revoke everything, then rejoin), as Kafka's consumer decides.
   */
  assignors?: Array<'cooperative-sticky' | 'range' | 'roundrobin'>
  /** KIP-848: the server-side assignor ('uniform' or 'range'); default: the broker's. */
  serverAssignor?: string
  /** The client's rack, for rack-aware assignment (KIP-881). */
  rackId?: string
}

/** Clusters with an active member: two members on one Cluster would share (and block) the group connection. */
const active = new WeakMap<Cluster, GroupMember>()

function positive(name: string, v: number | undefined, def: number): number {
  if (v === undefined) return def
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ConfigError(`${name} must be a positive number`)
  return Math.floor(v)
}

function resolveOptions(o: GroupMemberOptions): ResolvedGroupOptions & { protocol: 'classic' | 'consumer' } {
  if (!o || typeof o.groupId !== 'string' || o.groupId.length === 0)
    throw new ConfigError('groupId must be a non-empty string')
  const protocol = o.protocol ?? 'classic'
  if (protocol !== 'classic' && protocol !== 'consumer')
    throw new ConfigError(`unknown group protocol ${String(protocol)}`)
  if (!(o.topics instanceof RegExp) && (!Array.isArray(o.topics) || o.topics.some((t) => typeof t !== 'string' || !t)))
    throw new ConfigError('topics must be an array of topic names or a RegExp')
  const sessionTimeoutMs = positive('sessionTimeoutMs', o.sessionTimeoutMs, 45_000)
  const rebalanceTimeoutMs = positive('rebalanceTimeoutMs', o.rebalanceTimeoutMs, 300_000)
  const heartbeatIntervalMs = positive('heartbeatIntervalMs', o.heartbeatIntervalMs, 3000)
  if (protocol === 'classic' && heartbeatIntervalMs >= sessionTimeoutMs)
    throw new ConfigError(
      `heartbeatIntervalMs (${heartbeatIntervalMs}) must be lower than sessionTimeoutMs (${sessionTimeoutMs})`,
    )
  const names = o.assignors ?? ['range', 'cooperative-sticky']
  if (names.length === 0 || new Set(names).size !== names.length)
    throw new ConfigError('assignors must be distinct and not empty')
  const assignors: PartitionAssignor[] = names.map((n) => {
    if (n === 'range') return new RangeAssignor()
    if (n === 'roundrobin') return new RoundRobinAssignor()
    if (n === 'cooperative-sticky') return new CooperativeStickyAssignor()
    throw new ConfigError(`unknown assignor ${String(n)} (range, roundrobin, cooperative-sticky)`)
  })
  return {
    protocol,
    groupId: o.groupId,
    topics: o.topics,
    sessionTimeoutMs,
    rebalanceTimeoutMs,
    heartbeatIntervalMs: protocol === 'classic' ? heartbeatIntervalMs : undefined,
    groupInstanceId: o.groupInstanceId ?? null,
    assignors,
    serverAssignor: o.serverAssignor ?? null,
    rackId: o.rackId ?? null,
  }
}

/**
 * One consumer's membership of a consumer group: joins, heartbeats, takes part in rebalances (calling the hooks),
 * commits and fetches offsets, leaves. The classic protocol (JoinGroup/SyncGroup/Heartbeat, client-side assignors
 * computing exactly what Kafka's Java assignors compute) or the consumer protocol (KIP-848).
 *
 * Heartbeats run on unref'd timers independent of record processing and of the hooks (which may take long: up to
 * the rebalance timeout); every wait has a timeout or an AbortSignal.
 *
 * Events:
 * - 'rebalance' (RebalanceEvent): `phase: 'started'` when a rebalance starts for this member, `'completed'` with
 *   the member's assignment once it has applied one;
 * - 'assigned' / 'revoked' / 'lost' (TopicPartition[]): just before the hook of that name runs;
 * - 'error' (Error): a fatal error (the member stopped; its partitions were reported lost), a hook that threw
 *   (RebalanceHookError), or a failed LeaveGroup. Only emitted when someone listens.
 *
 * One active GroupMember per Cluster: a JoinGroup is held by the coordinator until the rebalance completes, and a
 * broker answers one connection's requests in order, so members sharing the group connection would block each
 * other.
 */
export class GroupMember extends EventEmitter {
  private readonly impl: ClassicMember | ConsumerMember
  private started = false

  constructor(
    private readonly cluster: Cluster,
    options: GroupMemberOptions,
    hooks: RebalanceHooks,
  ) {
    super()
    const resolved = resolveOptions(options)
    for (const h of ['assigned', 'revoked', 'lost'] as const) {
      if (typeof hooks?.[h] !== 'function') throw new ConfigError(`hooks.${h} must be a function`)
    }
    const coordinator = new GroupCoordinator(cluster, resolved.groupId)
    this.impl =
      resolved.protocol === 'classic'
        ? new ClassicMember(cluster, coordinator, resolved, hooks)
        : new ConsumerMember(cluster, coordinator, resolved, hooks)
    for (const ev of ['rebalance', 'assigned', 'revoked', 'lost'] as const) {
      this.impl.on(ev, (...args: unknown[]) => this.emit(ev, ...args))
    }
    this.impl.on('error', (err: unknown) => {
      if (this.listenerCount('error') > 0) this.emit('error', err)
    })
  }

  /** 'classic' or 'consumer' (KIP-848). */
  get protocol(): 'classic' | 'consumer' {
    return this.impl.protocol
  }

  get memberId(): string {
    return this.impl.memberId
  }

  /** Left, destroyed, or stopped by a fatal error (fenced, not authorized...): it takes no further part in the group. */
  get stopped(): boolean {
    return this.impl.stopped
  }

  /** The classic generation id, or the KIP-848 member epoch. */
  get generationId(): number {
    return this.impl.generationId
  }

  /** Joins; resolves once the first assignment was applied (hooks called). Aborting stops waiting, not the member. */
  start(signal?: AbortSignal): Promise<void> {
    if (!this.started) {
      const other = active.get(this.cluster)
      if (other && other !== this && !other.impl.stopped) {
        return Promise.reject(
          new ConfigError(
            'another GroupMember is active on this Cluster; give each member its own Cluster (they would share one ' +
              'group connection, where a held JoinGroup blocks everything behind it)',
          ),
        )
      }
      active.set(this.cluster, this)
      this.started = true
    }
    return this.impl.start(signal)
  }

  /** The partitions this member owns now (during a revoked hook, still including those being revoked). */
  assignment(): TopicPartition[] {
    return this.impl.assignment()
  }

  /**
   * Commits offsets (the next offset to read) as this member. Retries retriable errors until `timeoutMs` (default
   * 60 000, then GroupTimeoutError). Classic: RebalanceInProgressError during a rebalance (commit again once it
   * completes), CommitFailedError when the generation is gone. KIP-848: STALE_MEMBER_EPOCH is retried with the new
   * epoch while the partitions are still this member's, else CommitFailedError.
   */
  commit(
    offsets: ReadonlyArray<OffsetToCommit>,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<void> {
    if (!this.started) return Promise.reject(new GroupMemberStateError('commit() before start()'))
    return this.impl.commit(offsets, options)
  }

  /**
   * The group's committed offsets for `partitions`, keyed by `topic\u0000partition` (tpKey); null where nothing
   * is committed. `requireStable` (read_committed consumers) waits out pending transactional commits.
   */
  fetchCommitted(
    partitions: readonly TopicPartition[],
    options: { signal?: AbortSignal; timeoutMs?: number; requireStable?: boolean } = {},
  ): Promise<Map<string, CommittedOffset | null>> {
    return this.impl.fetchCommitted(partitions, options)
  }

  /**
   * Leaves the group: the revoked hook runs for the partitions owned (lost when the membership is already gone),
   * then LeaveGroup (classic, dynamic members) or a heartbeat with epoch -1 / -2 (KIP-848). A classic static member
   * sends no LeaveGroup (as Kafka's Java consumer): the group keeps its partitions for it until the session timeout.
   */
  async leave(options: { timeoutMs?: number } = {}): Promise<void> {
    try {
      await this.impl.leave(options)
    } finally {
      if (active.get(this.cluster) === this) active.delete(this.cluster)
    }
  }

  /**
   * Stops at once — no hooks, no LeaveGroup, the group connection dropped — as a crashed process would; the
   * coordinator notices after the session timeout. For tests and emergency shutdown.
   */
  destroy(): void {
    this.impl.destroy()
    if (active.get(this.cluster) === this) active.delete(this.cluster)
  }

  /**
   * Classic: re-checks a pattern subscription and (leader) the partition counts against fresh metadata, and
   * rebalances if they changed; also done every metadataMaxAgeMs. KIP-848: nothing (the broker does it).
   */
  checkMetadata(signal?: AbortSignal): Promise<void> {
    return this.impl.checkMetadata(signal)
  }
}
