import {
  type ConsumerSubscription,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from '../../../protocol/apis/consumer-protocol.js'
import { Heartbeat } from '../../../protocol/apis/heartbeat.js'
import { JoinGroup, type JoinGroupResponse } from '../../../protocol/apis/join-group.js'
import { LeaveGroup } from '../../../protocol/apis/leave-group.js'
import { SyncGroup } from '../../../protocol/apis/sync-group.js'
import { ErrorCode, errorByCode } from '../../../protocol/error-codes.js'
import { KafkaError } from '../../../protocol/kafka-error.js'
import { raceAbort } from '../../abort.js'
import { backoffMs } from '../../cluster/backoff.js'
import type { Cluster } from '../../cluster/cluster.js'
import { AbortedError } from '../../errors.js'
import { type TopicPartition, tpKey } from '../types.js'
import type { AssignorMember, PartitionAssignor, RebalanceProtocol } from './assignors/types.js'
import { type GroupCoordinator, pause, RETRY_BACKOFF_MAX_MS, RETRY_BACKOFF_MS } from './coordinator.js'
import { CommitFailedError, GroupMemberStateError, GroupTimeoutError, RebalanceInProgressError } from './errors.js'
import { type OffsetToCommit, sendOffsetCommit } from './offsets.js'
import {
  groupByTopic,
  MemberBase,
  minus,
  type RebalanceHooks,
  type ResolvedGroupOptions,
  sortPartitions,
} from './shared.js'

/**
 * Where a classic member is in its lifecycle (AbstractCoordinator.MemberState, plus the end states):
 * `unjoined` — no valid generation; `joining` — JoinGroup in flight (PREPARING_REBALANCE); `syncing` — SyncGroup
 * in flight (COMPLETING_REBALANCE); `stable` — member of a generation (including while it prepares to rejoin).
 */
type Phase = 'unjoined' | 'joining' | 'syncing' | 'stable' | 'left'

/** Membership errors of JoinGroup/SyncGroup after which the member rejoins at once (no backoff). */
const REJOIN_AT_ONCE = new Set<number>([
  ErrorCode.UNKNOWN_MEMBER_ID,
  ErrorCode.ILLEGAL_GENERATION,
  ErrorCode.REBALANCE_IN_PROGRESS,
  ErrorCode.MEMBER_ID_REQUIRED,
])

/**
 * A member of a classic consumer group (JoinGroup / SyncGroup / Heartbeat / LeaveGroup), following Kafka's
 * AbstractCoordinator and ConsumerCoordinator: the leader runs the client-side assignor; the eager protocol revokes
 * everything before rejoining, the cooperative one (when every configured assignor supports it, KIP-429) revokes
 * only what moves and rejoins once more so the freed partitions can be handed out; a reset generation (unknown
 * member, illegal generation) means the partitions were lost.
 *
 * Heartbeats run on their own unref'd timer, so they keep flowing while hooks or the application are busy
 * (awaiting); they pause only while a JoinGroup is in flight, as Java's heartbeat thread does.
 */
export class ClassicMember extends MemberBase {
  readonly protocol = 'classic' as const
  /** COOPERATIVE when every configured assignor supports it (ConsumerCoordinator's protocol selection). */
  readonly rebalanceProtocol: RebalanceProtocol
  private phase: Phase = 'unjoined'
  private _memberId = ''
  private _generationId = -1
  private protocolName: string | null = null
  private owned: TopicPartition[] = []
  private rejoinNeeded = true
  private rejoinReason = 'initial join'
  private needsJoinPrepare = true
  private isLeader = false
  /** The leader watches the partition counts it assigned from (ConsumerCoordinator.assignmentSnapshot). */
  private assignmentSnapshot: Map<string, number> | null = null
  private joinedSubscription: string[] = []
  private wake: (() => void) | undefined
  private heartbeatTimer: NodeJS.Timeout | undefined
  private metadataTimer: NodeJS.Timeout | undefined
  private heartbeatInFlight = false
  private loop: Promise<void> | undefined
  /** leave() has begun: no more rejoining, but hooks may still commit. */
  private leaving = false
  /** Aborts requests in flight when the member stops. */
  private readonly lifetime = new AbortController()

  constructor(cluster: Cluster, coordinator: GroupCoordinator, options: ResolvedGroupOptions, hooks: RebalanceHooks) {
    super(cluster, coordinator, options, hooks)
    this.rebalanceProtocol = options.assignors.every((a) => a.protocols.includes('cooperative'))
      ? 'cooperative'
      : 'eager'
  }

  get memberId(): string {
    return this._memberId
  }

  get generationId(): number {
    return this._generationId
  }

  assignment(): TopicPartition[] {
    return [...this.owned]
  }

  /** Joins; resolves once the first assignment was applied (hooks called). */
  async start(signal?: AbortSignal): Promise<void> {
    this.assertUsable('start')
    if (!this.loop) {
      this.loop = this.run()
      this.scheduleHeartbeat(this.options.heartbeatIntervalMs!)
      this.scheduleMetadataCheck()
    }
    return raceAbort(this.firstAssignment.promise, signal, `joining group ${this.options.groupId}`)
  }

  // --- the rebalance loop --------------------------------------------------------------------------------------

  private async run(): Promise<void> {
    while (!this.closed && !this.leaving && !this.fatal) {
      if (!this.rejoinNeeded) {
        await new Promise<void>((resolve) => {
          this.wake = resolve
        })
        this.wake = undefined
        continue
      }
      try {
        await this.joinGroupIfNeeded()
      } catch (err) {
        if (this.closed || this.leaving) return
        this.fail(err instanceof Error ? err : new Error(String(err)))
        // The partitions cannot be kept by a member that is out: they are lost.
        const lost = this.owned
        this.owned = []
        await this.runHook('lost', lost)
        return
      }
    }
  }

  requestRejoin(reason: string): void {
    if (!this.rejoinNeeded) {
      this.rejoinNeeded = true
      this.rejoinReason = reason
    }
    this.wake?.()
  }

  /** JoinGroup or SyncGroup in flight (or between their retries). */
  private rebalancing(): boolean {
    return this.phase === 'joining' || this.phase === 'syncing'
  }

  private generationReset(): boolean {
    return this._generationId < 0 || this._memberId === ''
  }

  /** Resets the generation after a membership error; the member id survives ILLEGAL_GENERATION (it is still valid). */
  private resetGeneration(code: number): void {
    this._generationId = -1
    this.protocolName = null
    if (code !== ErrorCode.ILLEGAL_GENERATION) this._memberId = ''
    this.phase = 'unjoined'
    this.requestRejoin(`${errorByCode(code).name}`)
  }

  private async joinGroupIfNeeded(): Promise<void> {
    let immediate = 0
    for (let attempt = 0; this.rejoinNeeded && !this.closed && !this.leaving; ) {
      // A reset generation means another member may own our partitions already: they are lost, not revoked.
      if (this.generationReset() && this.owned.length > 0) {
        const lost = this.owned
        this.owned = []
        await this.runHook('lost', lost)
      }
      if (this.needsJoinPrepare) {
        this.needsJoinPrepare = false
        this.emitRebalance({ phase: 'started', reason: this.rejoinReason })
        await this.onJoinPrepare()
      }
      if (this.closed || this.leaving) return
      let assignment: Buffer
      try {
        assignment = await this.joinAndSync()
      } catch (err) {
        if (this.closed || this.leaving) return
        this.rejoinNeeded = true
        // Membership errors rejoin at once, as Java does; a coordinator that keeps answering them is backed off.
        if (err instanceof KafkaError && REJOIN_AT_ONCE.has(err.code) && immediate++ < 3) continue
        if (!(err instanceof KafkaError && REJOIN_AT_ONCE.has(err.code)) && !this.coordinator.noteFailure(err))
          throw err
        await pause(backoffMs(attempt++, RETRY_BACKOFF_MS, RETRY_BACKOFF_MAX_MS), this.lifetime.signal).catch(() => {})
        continue
      }
      attempt = 0
      immediate = 0
      await this.onJoinComplete(assignment)
      this.needsJoinPrepare = true
      if (!this.firstAssignment.settled) this.firstAssignment.resolve()
    }
  }

  /** ConsumerCoordinator.onJoinPrepare: eager revokes everything; cooperative only topics no longer subscribed. */
  private async onJoinPrepare(): Promise<void> {
    if (this.generationReset() || this.owned.length === 0) {
      this.isLeader = false
      return
    }
    let revoked: TopicPartition[]
    if (this.rebalanceProtocol === 'eager') revoked = this.owned
    else {
      const topics = new Set(await this.subscribedTopics(this.lifetime.signal).catch(() => this.joinedSubscription))
      revoked = this.owned.filter((p) => !topics.has(p.topic))
    }
    // The partitions stay ours (commits allowed) until the hook has run.
    await this.runHook('revoked', revoked)
    this.owned = minus(this.owned, revoked)
    this.isLeader = false
  }

  /** One JoinGroup + SyncGroup round. Resolves with this member's assignment bytes; rejects with what went wrong. */
  private async joinAndSync(): Promise<Buffer> {
    const o = this.options
    const signal = this.lifetime.signal
    const conn = await this.coordinator.connection(signal)
    const topics = await this.subscribedTopics(signal)
    this.joinedSubscription = topics
    const owned = groupByTopic(this.owned)
    const protocols = o.assignors.map((a) => ({
      name: a.name,
      metadata: encodeSubscription(3, {
        topics,
        userData: a.subscriptionUserData(),
        ownedPartitions: owned,
        generationId: this._generationId,
        rackId: o.rackId,
      }),
    }))
    const sent = { generationId: this._generationId, memberId: this._memberId }
    // The coordinator holds a JoinGroup until every member has rejoined, up to the rebalance timeout (Java waits
    // rebalance.timeout.ms + 5 s for it).
    const joinTimeout = Math.max(this.cluster.options.requestTimeoutMs, o.rebalanceTimeoutMs + 5000)
    this.phase = 'joining'
    const join = await conn.request(
      JoinGroup,
      {
        groupId: o.groupId,
        sessionTimeoutMs: o.sessionTimeoutMs,
        rebalanceTimeoutMs: o.rebalanceTimeoutMs,
        memberId: this._memberId,
        groupInstanceId: o.groupInstanceId,
        protocolType: 'consumer',
        protocols,
        reason: this.rejoinReason,
      },
      { timeoutMs: joinTimeout, signal },
    )
    const context = { api: 'JoinGroup', broker: conn.broker, group: o.groupId, memberId: this._memberId || undefined }
    if (join.errorCode !== ErrorCode.NONE) {
      this.phase = this.generationReset() ? 'unjoined' : 'joining'
      const err = KafkaError.fromCode(join.errorCode, context)
      if (join.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        // KIP-394: join again with the member id the coordinator gave.
        this._memberId = join.memberId
        this._generationId = -1
      } else if (join.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
        if (this.generationUnchanged(sent)) this.resetGeneration(join.errorCode)
      }
      throw err
    }
    if (join.protocolType !== null && join.protocolType !== 'consumer') {
      throw KafkaError.fromCode(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, {
        ...context,
        errorMessage: `the group's protocol type is ${join.protocolType}, not consumer`,
      })
    }
    this._memberId = join.memberId
    this._generationId = join.generationId
    this.protocolName = join.protocolName
    this.phase = 'syncing'
    const assignments = join.leader === join.memberId ? await this.onLeaderElected(join) : []
    const sync = await (await this.coordinator.connection(signal)).request(
      SyncGroup,
      {
        groupId: o.groupId,
        generationId: this._generationId,
        memberId: this._memberId,
        groupInstanceId: o.groupInstanceId,
        protocolType: 'consumer',
        protocolName: this.protocolName,
        assignments,
      },
      { timeoutMs: joinTimeout, signal },
    )
    const synced = { generationId: this._generationId, memberId: this._memberId }
    if (sync.errorCode !== ErrorCode.NONE) {
      const err = KafkaError.fromCode(sync.errorCode, { ...context, api: 'SyncGroup', memberId: this._memberId })
      if (sync.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || sync.errorCode === ErrorCode.ILLEGAL_GENERATION) {
        if (this.generationUnchanged(synced)) this.resetGeneration(sync.errorCode)
      } else if (this.phase === 'syncing') this.phase = 'joining'
      throw err
    }
    if (
      (sync.protocolType !== null && sync.protocolType !== 'consumer') ||
      (sync.protocolName !== null && sync.protocolName !== this.protocolName)
    ) {
      throw KafkaError.fromCode(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, {
        ...context,
        api: 'SyncGroup',
        errorMessage: `SyncGroup answered protocol ${sync.protocolType}/${sync.protocolName}, JoinGroup chose consumer/${this.protocolName}`,
      })
    }
    if (this.phase !== 'syncing' || this.generationReset()) {
      // A heartbeat reset the generation while SyncGroup was in flight: this round failed, rejoin.
      throw KafkaError.fromCode(ErrorCode.ILLEGAL_GENERATION, { ...context, api: 'SyncGroup' })
    }
    this.phase = 'stable'
    this.rejoinNeeded = false
    return Buffer.from(sync.assignment)
  }

  private generationUnchanged(sent: { generationId: number; memberId: string }): boolean {
    return sent.generationId === this._generationId && sent.memberId === this._memberId
  }

  /** ConsumerCoordinator.onLeaderElected: run the chosen assignor over every member's subscription. */
  private async onLeaderElected(join: JoinGroupResponse): Promise<Array<{ memberId: string; assignment: Buffer }>> {
    const assignor = this.options.assignors.find((a) => a.name === join.protocolName)
    if (!assignor) {
      throw KafkaError.fromCode(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, {
        api: 'JoinGroup',
        group: this.options.groupId,
        errorMessage: `the coordinator chose assignor ${join.protocolName}, which this member did not offer`,
      })
    }
    const members: AssignorMember[] = join.members.map((m) => {
      const sub: ConsumerSubscription = decodeSubscription(Buffer.from(m.metadata)).value
      return {
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        topics: sub.topics,
        ownedPartitions: sub.ownedPartitions.flatMap((t) =>
          t.partitions.map((partition) => ({ topic: t.topic, partition })),
        ),
        generationId: sub.generationId,
        userData: sub.userData,
        rackId: sub.rackId,
      }
    })
    const allTopics = [...new Set(members.flatMap((m) => m.topics))].sort()
    this.isLeader = true
    const metadata = await this.topicMetadata(allTopics, this.lifetime.signal)
    this.assignmentSnapshot = new Map(allTopics.map((t) => [t, metadata.get(t)?.partitions.length ?? 0]))
    // KIP-814: a static leader that rejoined keeps the group's assignment; the coordinator hands out the old one.
    if (join.skipAssignment) return []
    const assignment = assignor.assign(members, metadata)
    if (this.rebalanceProtocol === 'cooperative' && assignor.name !== 'cooperative-sticky') {
      validateCooperativeAssignment(members, assignment)
    }
    return members.map((m) => ({
      memberId: m.memberId,
      assignment: encodeAssignment(3, {
        assignedPartitions: groupByTopic(assignment.get(m.memberId) ?? []),
        userData: null,
      }),
    }))
  }

  /** ConsumerCoordinator.onJoinComplete: apply the assignment; cooperative revokes what moved and rejoins. */
  private async onJoinComplete(bytes: Buffer): Promise<void> {
    if (!this.isLeader) this.assignmentSnapshot = null
    let assigned: TopicPartition[]
    try {
      if (bytes.length < 2) throw new Error(`the assignment is ${bytes.length} bytes`)
      const decoded = decodeAssignment(bytes).value
      assigned = sortPartitions(
        decoded.assignedPartitions.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition }))),
      )
    } catch (err) {
      this.report(
        new Error(`group ${this.options.groupId}: unreadable assignment from SyncGroup; rejoining`, { cause: err }),
      )
      this.requestRejoin('unreadable assignment')
      return
    }
    this.options.assignors.find((a) => a.name === this.protocolName)?.onAssignment(this._generationId)
    const unsubscribed = assigned.filter((p) => !this.subscribes(p.topic))
    if (unsubscribed.length > 0) {
      this.requestRejoin('received assignment does not match the current subscription')
      return
    }
    const added = minus(assigned, this.owned)
    if (this.rebalanceProtocol === 'cooperative') {
      const revoked = minus(this.owned, assigned)
      if (revoked.length > 0) {
        await this.runHook('revoked', revoked)
        this.owned = minus(this.owned, revoked)
        // Revoked partitions are not anyone's until we rejoin and say we gave them up.
        this.requestRejoin('need to revoke partitions and re-join')
      }
    }
    this.owned = assigned
    await this.runHook('assigned', added)
    this.emitRebalance({ phase: 'completed', assignment: this.assignment() })
  }

  // --- heartbeats ----------------------------------------------------------------------------------------------

  private scheduleHeartbeat(delayMs: number): void {
    if (this.closed || this.fatal) return
    clearTimeout(this.heartbeatTimer)
    this.heartbeatTimer = setTimeout(() => void this.heartbeat(), delayMs)
    this.heartbeatTimer.unref()
  }

  /** Java sends heartbeats in STABLE and COMPLETING_REBALANCE, never while a JoinGroup is in flight. */
  private shouldHeartbeat(): boolean {
    return (this.phase === 'stable' || this.phase === 'syncing') && !this.generationReset()
  }

  private async heartbeat(): Promise<void> {
    const interval = this.options.heartbeatIntervalMs!
    if (this.closed || this.fatal) return
    if (!this.shouldHeartbeat() || this.heartbeatInFlight) return this.scheduleHeartbeat(interval)
    this.heartbeatInFlight = true
    const sent = { generationId: this._generationId, memberId: this._memberId }
    let next = interval
    try {
      const conn = await this.coordinator.connection(this.lifetime.signal)
      const res = await conn.request(
        Heartbeat,
        {
          groupId: this.options.groupId,
          generationId: sent.generationId,
          memberId: sent.memberId,
          groupInstanceId: this.options.groupInstanceId,
        },
        {
          timeoutMs: Math.min(this.cluster.options.requestTimeoutMs, this.options.sessionTimeoutMs),
          signal: this.lifetime.signal,
        },
      )
      next = this.onHeartbeat(res.errorCode, sent, conn.broker)
    } catch (err) {
      if (this.closed) return
      this.coordinator.noteFailure(err)
      next = RETRY_BACKOFF_MS
    } finally {
      this.heartbeatInFlight = false
    }
    this.scheduleHeartbeat(next)
  }

  /** AbstractCoordinator.HeartbeatResponseHandler. Returns the delay to the next heartbeat. */
  private onHeartbeat(code: number, sent: { generationId: number; memberId: string }, broker: string): number {
    const interval = this.options.heartbeatIntervalMs!
    switch (code) {
      case ErrorCode.NONE:
        return interval
      case ErrorCode.REBALANCE_IN_PROGRESS:
        // During SyncGroup this is expected and ignored.
        if (this.phase === 'stable') this.requestRejoin('group is rebalancing')
        return interval
      case ErrorCode.COORDINATOR_NOT_AVAILABLE:
      case ErrorCode.NOT_COORDINATOR:
        this.coordinator.markUnknown()
        return RETRY_BACKOFF_MS
      case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
        return RETRY_BACKOFF_MS
      case ErrorCode.ILLEGAL_GENERATION:
      case ErrorCode.UNKNOWN_MEMBER_ID:
        // A heartbeat of an older generation may come back after a rejoin: only the current one counts.
        if (this.generationUnchanged(sent)) this.resetGeneration(code)
        return interval
      case ErrorCode.FENCED_INSTANCE_ID:
      case ErrorCode.GROUP_AUTHORIZATION_FAILED:
        if (code === ErrorCode.GROUP_AUTHORIZATION_FAILED || this.generationUnchanged(sent)) {
          this.failAndLose(
            KafkaError.fromCode(code, {
              api: 'Heartbeat',
              broker,
              group: this.options.groupId,
              memberId: sent.memberId,
            }),
          )
        }
        return interval
      default:
        this.report(
          KafkaError.fromCode(code, { api: 'Heartbeat', broker, group: this.options.groupId, memberId: sent.memberId }),
        )
        return interval
    }
  }

  private failAndLose(err: Error): void {
    const lost = this.owned
    this.owned = []
    this.fail(err)
    void this.runHook('lost', lost)
  }

  /**
   * Re-checks the subscription against metadata (Java does on every metadata refresh): a pattern that now matches
   * other topics, or — on the leader — a subscribed topic whose partition count changed, triggers a rebalance.
   * Runs every metadataMaxAgeMs; the consumer may call it sooner.
   */
  async checkMetadata(signal?: AbortSignal): Promise<void> {
    if (this.closed || this.leaving || this.fatal || this.phase !== 'stable') return
    if (!Array.isArray(this.options.topics)) {
      const topics = await this.subscribedTopics(signal)
      if (topics.join('\u0000') !== this.joinedSubscription.join('\u0000')) {
        this.requestRejoin('subscribed topics changed')
        return
      }
    }
    const snapshot = this.assignmentSnapshot
    if (this.isLeader && snapshot) {
      const now = await this.topicMetadata([...snapshot.keys()], signal)
      for (const [t, n] of snapshot) {
        if ((now.get(t)?.partitions.length ?? 0) !== n) {
          this.requestRejoin(`partitions of ${t} changed`)
          return
        }
      }
    }
  }

  private scheduleMetadataCheck(): void {
    if (this.closed || this.fatal) return
    this.metadataTimer = setTimeout(() => {
      this.checkMetadata(this.lifetime.signal)
        .catch((err) => {
          if (!this.closed) this.report(err)
        })
        .finally(() => this.scheduleMetadataCheck())
    }, this.cluster.options.metadataMaxAgeMs)
    this.metadataTimer.unref()
  }

  // --- offsets -------------------------------------------------------------------------------------------------

  /**
   * Commits with this member's generation, as Kafka's ConsumerCoordinator: refused with RebalanceInProgressError
   * while a rebalance is under way (JoinGroup/SyncGroup in flight, or REBALANCE_IN_PROGRESS), CommitFailedError
   * once the generation is gone (ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID: the partitions may be someone else's);
   * retriable errors (coordinator loading or moved, connection lost) are retried until the timeout.
   */
  async commit(
    offsets: readonly OffsetToCommit[],
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<void> {
    this.assertUsable('commit')
    let pending = dedupe(offsets)
    if (pending.length === 0) return
    const groupId = this.options.groupId
    const timeoutMs = options.timeoutMs ?? 60_000
    const deadline = Date.now() + timeoutMs
    const partitions = () => pending.map((p) => ({ topic: p.topic, partition: p.partition }))
    for (let attempt = 0; ; attempt++) {
      if (options.signal?.aborted) throw new AbortedError(`commit to group ${groupId}`, options.signal.reason)
      if (this.fatal) throw this.fatal
      if (this.rebalancing()) throw new RebalanceInProgressError(groupId, partitions())
      if (this.generationReset() || this.closed) {
        throw new CommitFailedError(groupId, partitions(), 'this member is not part of an active group', {
          memberId: this._memberId,
          generation: this._generationId,
        })
      }
      const sent = { generationId: this._generationId, memberId: this._memberId }
      let last: unknown
      try {
        const conn = await this.coordinator.connection(options.signal)
        const codes = await sendOffsetCommit(
          conn,
          this.cluster,
          groupId,
          {
            generationIdOrMemberEpoch: sent.generationId,
            memberId: sent.memberId,
            groupInstanceId: this.options.groupInstanceId,
          },
          pending,
          {
            timeoutMs: Math.min(this.cluster.options.requestTimeoutMs, Math.max(1, deadline - Date.now())),
            signal: options.signal,
          },
        )
        const retry: OffsetToCommit[] = []
        for (const o of pending) {
          const code = codes.get(tpKey(o.topic, o.partition))!
          if (code === ErrorCode.NONE) continue
          const context = {
            api: 'OffsetCommit',
            broker: conn.broker,
            group: groupId,
            topic: o.topic,
            partition: o.partition,
          }
          switch (code) {
            case ErrorCode.REBALANCE_IN_PROGRESS:
              this.requestRejoin('offset commit failed since group is already rebalancing')
              throw new RebalanceInProgressError(groupId, partitions())
            case ErrorCode.UNKNOWN_MEMBER_ID:
            case ErrorCode.ILLEGAL_GENERATION:
              if (!this.generationUnchanged(sent) && this.rebalancing())
                throw new RebalanceInProgressError(groupId, partitions())
              if (this.generationUnchanged(sent)) this.resetGeneration(code)
              throw new CommitFailedError(groupId, partitions(), errorByCode(code).name, sent)
            case ErrorCode.FENCED_INSTANCE_ID: {
              const err = KafkaError.fromCode(code, context)
              this.failAndLose(err)
              throw err
            }
          }
          const err = KafkaError.fromCode(code, context)
          if (!err.retriable) throw err
          if (err.findCoordinator) this.coordinator.markUnknown()
          last = err
          retry.push(o)
        }
        pending = retry
        if (pending.length === 0) return
      } catch (err) {
        if (err instanceof AbortedError || !this.coordinator.noteFailure(err)) throw err
        last = err
      }
      const wait = backoffMs(attempt, RETRY_BACKOFF_MS, RETRY_BACKOFF_MAX_MS)
      if (Date.now() + wait >= deadline) throw new GroupTimeoutError('commit', groupId, timeoutMs, last)
      await pause(wait, options.signal)
    }
  }

  // --- leaving -------------------------------------------------------------------------------------------------

  /**
   * Leaves the group: revokes the partitions (the hook commits), then sends LeaveGroup so the group rebalances at
   * once. A static member (groupInstanceId) does not send LeaveGroup, as Kafka's Java consumer does not: its
   * partitions wait for it until the session timeout, so a restart within it changes nothing for the others.
   */
  async leave(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.closed || this.leaving) return
    const timeoutMs = options.timeoutMs ?? 30_000
    const deadline = AbortSignal.timeout(timeoutMs)
    this.leaving = true
    this.wake?.()
    const owned = this.owned
    if (owned.length > 0) {
      // As ConsumerCoordinator.onLeavePrepare: lost when out of the group or mid-rebalance, else revoked.
      const hook = this.generationReset() || this.rebalancing() ? 'lost' : 'revoked'
      // Heartbeats keep the membership alive while the hook commits.
      await Promise.race([this.runHook(hook, owned), new Promise((r) => deadline.addEventListener('abort', r))])
      this.owned = []
    }
    const inRebalance = this.rebalancing()
    const memberId = this._memberId
    this.stop()
    if (this.options.groupInstanceId === null && memberId !== '') {
      // A JoinGroup held by the coordinator would hold our LeaveGroup behind it on the same connection.
      if (inRebalance) this.coordinator.dropConnection()
      await this.sendLeaveGroup(memberId, deadline).catch((err) => this.report(err))
    }
    this._generationId = -1
    this._memberId = ''
    this.phase = 'left'
  }

  private async sendLeaveGroup(memberId: string, signal: AbortSignal): Promise<void> {
    const o = this.options
    await this.coordinator.retrying('LeaveGroup', 5000, signal, async (conn) => {
      const v = conn.versionFor(LeaveGroup)
      const res = await conn.request(
        LeaveGroup,
        v >= 3
          ? {
              groupId: o.groupId,
              members: [{ memberId, groupInstanceId: o.groupInstanceId, reason: 'the consumer is leaving the group' }],
            }
          : { groupId: o.groupId, memberId },
        { signal, timeoutMs: this.cluster.options.requestTimeoutMs },
      )
      const code = res.errorCode || (res.members?.[0]?.errorCode ?? 0)
      // UNKNOWN_MEMBER_ID: already gone (session expired); nothing to do.
      if (code !== ErrorCode.NONE && code !== ErrorCode.UNKNOWN_MEMBER_ID) {
        throw KafkaError.fromCode(code, { api: 'LeaveGroup', broker: conn.broker, group: o.groupId, memberId })
      }
    })
  }

  protected stop(): void {
    this.closed = true
    clearTimeout(this.heartbeatTimer)
    clearTimeout(this.metadataTimer)
    this.lifetime.abort(new AbortedError(`member of group ${this.options.groupId}`))
    this.wake?.()
    if (!this.firstAssignment.settled) {
      this.firstAssignment.reject(new GroupMemberStateError(`left group ${this.options.groupId} before an assignment`))
    }
  }

  /** Stops at once: no hooks, no LeaveGroup, the group connection dropped (as if the process had died). */
  destroy(): void {
    this.stop()
    this.coordinator.dropConnection()
  }
}

/** ConsumerCoordinator.validateCooperativeAssignment: no partition may go to a member while another still owns it. */
function validateCooperativeAssignment(members: AssignorMember[], assignment: Map<string, TopicPartition[]>): void {
  const added = new Set<string>()
  const revoked = new Set<string>()
  for (const m of members) {
    const got = assignment.get(m.memberId) ?? []
    for (const p of minus(got, m.ownedPartitions)) added.add(tpKey(p.topic, p.partition))
    for (const p of minus(m.ownedPartitions, got)) revoked.add(tpKey(p.topic, p.partition))
  }
  for (const k of added) {
    if (revoked.has(k)) throw new Error('an assignor supporting the COOPERATIVE protocol reassigned an owned partition')
  }
}

function dedupe(offsets: readonly OffsetToCommit[]): OffsetToCommit[] {
  const m = new Map<string, OffsetToCommit>()
  for (const o of offsets) m.set(tpKey(o.topic, o.partition), o)
  return [...m.values()]
}

export type { PartitionAssignor }
