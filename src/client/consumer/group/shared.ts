import { EventEmitter } from 'node:events'
import { SkiffError } from '../../../errors.js'
import { Metadata } from '../../../protocol/apis/metadata.js'
import { ErrorCode } from '../../../protocol/error-codes.js'
import { KafkaError } from '../../../protocol/kafka-error.js'
import type { Cluster } from '../../cluster/cluster.js'
import { type TopicPartition, tpKey } from '../types.js'
import type { AssignorTopic, PartitionAssignor } from './assignors/types.js'
import type { GroupCoordinator } from './coordinator.js'
import { GroupMemberStateError } from './errors.js'
import { type CommittedOffset, sendOffsetFetch } from './offsets.js'

/** The rebalance hooks the consumer gives a member (see GroupMember). */
export interface RebalanceHooks {
  /** New partitions are ours; the consumer starts fetching them (it asks fetchCommitted for positions). */
  assigned(partitions: TopicPartition[]): Promise<void>
  /**
   * Partitions are being taken away in an orderly rebalance: the consumer stops fetching and commits what the
   * application finished. Must finish before the member acks the revocation.
   */
  revoked(partitions: TopicPartition[]): Promise<void>
  /** Partitions were lost (session expired, fenced): no commit is possible for them. */
  lost(partitions: TopicPartition[]): Promise<void>
}

/** Options after defaults, shared by both protocols. */
export interface ResolvedGroupOptions {
  groupId: string
  topics: string[] | RegExp
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  /** Classic: the configured interval. KIP-848: an override of the broker's, or undefined. */
  heartbeatIntervalMs: number | undefined
  groupInstanceId: string | null
  assignors: PartitionAssignor[]
  serverAssignor: string | null
  rackId: string | null
}

/** Emitted as 'rebalance' when a rebalance starts for this member and when it has applied the result. */
export interface RebalanceEvent {
  phase: 'started' | 'completed'
  protocol: 'classic' | 'consumer'
  /** Why the member is rebalancing (started), e.g. "group is rebalancing", "new target assignment". */
  reason?: string
  memberId: string
  /** The classic generation id or the KIP-848 member epoch. */
  generationId: number
  /** The member's partitions after the rebalance (completed). */
  assignment?: TopicPartition[]
}

/** A rebalance hook threw. The member carries on (it still acks / rejoins); the error is reported as 'error'. */
export class RebalanceHookError extends SkiffError {
  override name = 'RebalanceHookError'
  constructor(
    readonly hook: 'assigned' | 'revoked' | 'lost',
    readonly partitions: readonly TopicPartition[],
    cause: unknown,
  ) {
    super(
      `the ${hook} rebalance hook failed for ${partitions.length} partition(s): ${(cause as Error)?.message ?? cause}`,
      { cause },
    )
  }
}

export function sortPartitions(list: Iterable<TopicPartition>): TopicPartition[] {
  return [...list].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
}

/** `a` minus `b`, sorted. */
export function minus(a: readonly TopicPartition[], b: readonly TopicPartition[]): TopicPartition[] {
  const drop = new Set(b.map((p) => tpKey(p.topic, p.partition)))
  return sortPartitions(a.filter((p) => !drop.has(tpKey(p.topic, p.partition))))
}

/** Partitions grouped by topic, topics in first-appearance order (the consumer protocol's TopicPartition lists). */
export function groupByTopic(list: readonly TopicPartition[]): Array<{ topic: string; partitions: number[] }> {
  const out = new Map<string, number[]>()
  for (const p of list) {
    const l = out.get(p.topic)
    if (l) l.push(p.partition)
    else out.set(p.topic, [p.partition])
  }
  return [...out].map(([topic, partitions]) => ({ topic, partitions }))
}

/** One resolved promise for "the first assignment was applied" (start()), rejectable by a fatal error. */
export class Deferred<T = void> {
  readonly promise: Promise<T>
  resolve!: (v: T) => void
  reject!: (e: unknown) => void
  settled = false
  constructor() {
    this.promise = new Promise<T>((res, rej) => {
      this.resolve = (v) => {
        this.settled = true
        res(v)
      }
      this.reject = (e) => {
        this.settled = true
        rej(e)
      }
    })
    // A start() nobody awaits must not crash the process with an unhandled rejection.
    this.promise.catch(() => {})
  }
}

/**
 * What both protocol implementations share: hooks run one at a time (never overlapping, as Java runs them on the
 * application thread), events, fatal errors, OffsetFetch, and resolving the subscription against metadata.
 */
export abstract class MemberBase extends EventEmitter {
  protected fatal: Error | undefined
  protected closed = false
  protected readonly firstAssignment = new Deferred()
  private hookChain: Promise<void> = Promise.resolve()

  constructor(
    readonly cluster: Cluster,
    readonly coordinator: GroupCoordinator,
    readonly options: ResolvedGroupOptions,
    protected readonly hooks: RebalanceHooks,
  ) {
    super()
  }

  abstract readonly protocol: 'classic' | 'consumer'

  /** Left, destroyed or failed: it takes no further part in the group. */
  get stopped(): boolean {
    return this.closed || this.fatal !== undefined
  }
  abstract get memberId(): string
  abstract get generationId(): number

  /** Reports a non-fatal problem as 'error' when someone listens (an unheard 'error' event would throw). */
  protected report(err: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', err)
  }

  /** The member cannot continue: reject start(), report, and stop. */
  protected fail(err: Error): void {
    if (this.fatal) return
    this.fatal = err
    this.firstAssignment.reject(err)
    this.report(err)
    this.stop()
  }

  /** Stops timers and loops (no requests, no hooks). */
  protected abstract stop(): void

  protected assertUsable(operation: string): void {
    if (this.fatal) throw this.fatal
    if (this.closed)
      throw new GroupMemberStateError(`${operation}: the member of group ${this.options.groupId} has left`)
  }

  /** Runs a hook after any hook still running; emits its event first; a throwing hook is reported, not fatal. */
  protected runHook(hook: 'assigned' | 'revoked' | 'lost', partitions: TopicPartition[]): Promise<void> {
    if (partitions.length === 0) return this.hookChain
    const run = async () => {
      this.emit(hook, partitions)
      try {
        await this.hooks[hook](partitions)
      } catch (err) {
        this.report(new RebalanceHookError(hook, partitions, err))
      }
    }
    const next = this.hookChain.then(run)
    this.hookChain = next
    return next
  }

  protected emitRebalance(event: Omit<RebalanceEvent, 'protocol' | 'memberId' | 'generationId'>): void {
    this.emit('rebalance', {
      protocol: this.protocol,
      memberId: this.memberId,
      generationId: this.generationId,
      ...event,
    } satisfies RebalanceEvent)
  }

  /** Whether a topic belongs to the subscription (a listed name, or a name the pattern matches). */
  protected subscribes(topic: string): boolean {
    const t = this.options.topics
    if (Array.isArray(t)) return t.includes(topic)
    t.lastIndex = 0
    return t.test(topic)
  }

  /**
   * The subscribed topic names: the list, or for a pattern the names of every non-internal topic of the cluster
   * that it matches (as Java's consumer with exclude.internal.topics=true), sorted.
   */
  protected async subscribedTopics(signal?: AbortSignal): Promise<string[]> {
    const t = this.options.topics
    if (Array.isArray(t)) return [...new Set(t)].sort()
    const conn = await this.cluster.anyConnection('metadata', signal)
    const res = await conn.request(Metadata, { topics: null, allowAutoTopicCreation: false }, { signal })
    return res.topics
      .filter((x) => x.errorCode === ErrorCode.NONE && x.name !== null && !x.isInternal && this.subscribes(x.name))
      .map((x) => x.name!)
      .sort()
  }

  /** Partitions and replica racks of these topics from fresh metadata; topics that do not exist are left out. */
  protected async topicMetadata(topics: readonly string[], signal?: AbortSignal): Promise<Map<string, AssignorTopic>> {
    const md = this.cluster.metadata
    if (topics.length > 0) await md.refresh(topics, signal)
    const out = new Map<string, AssignorTopic>()
    for (const name of topics) {
      const info = md.cached(name)
      if (!info) continue
      const partitions = info.partitions
        .filter((p) => p !== undefined)
        .map((p) => ({
          partition: p.partition,
          replicaRacks: p.replicas.map((id) => md.broker(id)?.rack).filter((r): r is string => typeof r === 'string'),
        }))
      if (partitions.length > 0) out.set(name, { name, partitions })
    }
    return out
  }

  /**
   * Committed offsets of `partitions` (null where the group has none), retrying retriable errors (the coordinator
   * loading or moving, UNSTABLE_OFFSET_COMMIT under requireStable) until the timeout. Sent without member identity:
   * reading offsets needs no membership, so a rebalance cannot fail it.
   */
  async fetchCommitted(
    partitions: readonly TopicPartition[],
    options: { signal?: AbortSignal; timeoutMs?: number; requireStable?: boolean } = {},
  ): Promise<Map<string, CommittedOffset | null>> {
    this.assertUsable('fetchCommitted')
    const out = new Map<string, CommittedOffset | null>()
    if (partitions.length === 0) return out
    const timeoutMs = options.timeoutMs ?? 60_000
    const requestTimeoutMs = this.cluster.options.requestTimeoutMs
    const groupId = this.options.groupId
    return this.coordinator.retrying('fetchCommitted', timeoutMs, options.signal, async (conn) => {
      const answer = await sendOffsetFetch(
        conn,
        this.cluster,
        groupId,
        { memberId: null, memberEpoch: -1 },
        partitions,
        { timeoutMs: requestTimeoutMs, signal: options.signal, requireStable: options.requireStable },
      )
      if (answer.errorCode !== ErrorCode.NONE)
        throw KafkaError.fromCode(answer.errorCode, { api: 'OffsetFetch', broker: conn.broker, group: groupId })
      for (const p of partitions) {
        const key = tpKey(p.topic, p.partition)
        const got = answer.partitions.get(key)
        if (!got) {
          throw KafkaError.fromCode(ErrorCode.UNKNOWN_SERVER_ERROR, {
            api: 'OffsetFetch',
            group: groupId,
            topic: p.topic,
            partition: p.partition,
            errorMessage: 'the response left this partition out',
          })
        }
        if (got.errorCode !== ErrorCode.NONE) {
          throw KafkaError.fromCode(got.errorCode, {
            api: 'OffsetFetch',
            broker: conn.broker,
            group: groupId,
            topic: p.topic,
            partition: p.partition,
          })
        }
        out.set(
          key,
          got.offset < 0 ? null : { offset: got.offset, leaderEpoch: got.leaderEpoch, metadata: got.metadata },
        )
      }
      return out
    })
  }
}
