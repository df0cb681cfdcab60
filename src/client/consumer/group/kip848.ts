import { randomBytes } from 'node:crypto'
import {
  ConsumerGroupHeartbeat,
  type ConsumerGroupHeartbeatRequest,
  type ConsumerGroupHeartbeatResponse,
} from '../../../protocol/apis/consumer-group-heartbeat.js'
import { ErrorCode, errorByCode } from '../../../protocol/error-codes.js'
import { KafkaError } from '../../../protocol/kafka-error.js'
import { raceAbort } from '../../abort.js'
import { backoffMs } from '../../cluster/backoff.js'
import type { Cluster } from '../../cluster/cluster.js'
import { AbortedError } from '../../errors.js'
import { type TopicPartition, tpKey } from '../types.js'
import { type GroupCoordinator, pause, RETRY_BACKOFF_MAX_MS, RETRY_BACKOFF_MS } from './coordinator.js'
import {
  CommitFailedError,
  GroupMemberStateError,
  GroupTimeoutError,
  RebalanceInProgressError,
  UnsupportedGroupProtocolError,
} from './errors.js'
import { type OffsetToCommit, sendOffsetCommit } from './offsets.js'
import { MemberBase, minus, type RebalanceHooks, type ResolvedGroupOptions, sortPartitions } from './shared.js'

/**
 * Kafka's MemberState of the consumer protocol: `joining` (epoch 0 heartbeats until an assignment), `reconciling`
 * (revoke → commit → assign running), `acknowledging` (the next heartbeat reports the new assignment), `stable`,
 * `fenced` (releasing the partitions as lost before rejoining), `leaving`, `left`.
 */
type State = 'unsubscribed' | 'joining' | 'stable' | 'reconciling' | 'acknowledging' | 'fenced' | 'leaving' | 'left'

interface OwnedPartition extends TopicPartition {
  topicId: string
}

/** The member epochs a leaving member sends: -1 leaves for good, -2 (static members) leaves to come back (KIP-848). */
const LEAVE_EPOCH = -1
const STATIC_LEAVE_EPOCH = -2

/** Heartbeat errors after which the member cannot continue (AbstractHeartbeatRequestManager). */
const FATAL = new Set<number>([
  ErrorCode.GROUP_AUTHORIZATION_FAILED,
  ErrorCode.INVALID_REQUEST,
  ErrorCode.GROUP_MAX_SIZE_REACHED,
  ErrorCode.UNSUPPORTED_ASSIGNOR,
  ErrorCode.UNRELEASED_INSTANCE_ID,
  ErrorCode.FENCED_INSTANCE_ID,
  ErrorCode.INVALID_REGULAR_EXPRESSION,
  ErrorCode.TOPIC_AUTHORIZATION_FAILED,
])

/** Kafka's Uuid.randomUuid().toString(): 16 random bytes as 22 base64url characters, never starting with '-'. */
function randomMemberId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

/**
 * A member of a consumer-protocol group (KIP-848, Kafka 4.0+): ConsumerGroupHeartbeat carries everything. The
 * coordinator computes the assignment (server-side assignors `uniform`, `range`) and bumps the member epoch; the
 * member reconciles each new target — revoked partitions first (the hook commits), then the added ones — and
 * acknowledges by reporting what it owns in its next heartbeat. FENCED_MEMBER_EPOCH and UNKNOWN_MEMBER_ID mean the
 * partitions are lost: the member releases them and rejoins with epoch 0 (and the same member id).
 *
 * Heartbeats run on their own unref'd timer at the broker's interval (or at once when joining, acknowledging or
 * leaving), whatever the hooks and the application are doing.
 */
export class ConsumerMember extends MemberBase {
  readonly protocol = 'consumer' as const
  private _memberId = ''
  private epoch = 0
  private state: State = 'unsubscribed'
  private intervalMs: number
  private owned: OwnedPartition[] = []
  /** Partitions in a revoked hook right now: still ours (commits for them are valid) until it returns. */
  private revoking: TopicPartition[] = []
  /** The latest target from the coordinator: topic id → partitions. */
  private target: Map<string, number[]> | null = null
  /** Bumped whenever `owned` changes, so the next heartbeat reports it (Java's LocalAssignment epoch). */
  private localEpoch = 0
  /** Bumped on each (re)join, so a reconciliation of an older membership stops. */
  private joins = 0
  private sent: {
    rebalanceTimeoutMs: number
    topics: string | null
    regex: string | null
    serverAssignor: string | null
    localEpoch: number
  } | null = null
  private version = 0
  private heartbeatTimer: NodeJS.Timeout | undefined
  private heartbeatInFlight: Promise<void> | undefined
  private failedHeartbeats = 0
  private reconciling = false
  private reconcileAgain = false
  private leaving = false
  private started = false
  private readonly lifetime = new AbortController()
  private readonly heartbeatWaiters = new Set<() => void>()

  constructor(cluster: Cluster, coordinator: GroupCoordinator, options: ResolvedGroupOptions, hooks: RebalanceHooks) {
    super(cluster, coordinator, options, hooks)
    this.intervalMs = options.heartbeatIntervalMs ?? 0
  }

  get memberId(): string {
    return this._memberId
  }

  get generationId(): number {
    return this.epoch
  }

  assignment(): TopicPartition[] {
    return sortPartitions(this.owned.map(({ topic, partition }) => ({ topic, partition })))
  }

  async start(signal?: AbortSignal): Promise<void> {
    this.assertUsable('start')
    if (!this.started) {
      this.started = true
      void this.begin()
    }
    return raceAbort(this.firstAssignment.promise, signal, `joining group ${this.options.groupId}`)
  }

  /** Checks that the coordinator speaks the consumer protocol, then starts heartbeating at epoch 0. */
  private async begin(): Promise<void> {
    const groupId = this.options.groupId
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        const conn = await this.coordinator.connection(this.lifetime.signal)
        if (!conn.apiVersions.has(ConsumerGroupHeartbeat.key)) {
          return this.fail(
            new UnsupportedGroupProtocolError(groupId, `${conn.broker} does not offer ConsumerGroupHeartbeat`),
          )
        }
        // Kafka 3.9 lists ConsumerGroupHeartbeat but refuses it while the group.version feature is 0.
        const groupVersion = conn.finalizedFeatures.get('group.version') ?? 0
        if (groupVersion < 1) {
          return this.fail(
            new UnsupportedGroupProtocolError(groupId, `the cluster's group.version feature is ${groupVersion}`),
          )
        }
        this.version = conn.versionFor(ConsumerGroupHeartbeat)
        if (!Array.isArray(this.options.topics) && this.version < 1) {
          return this.fail(
            new UnsupportedGroupProtocolError(
              groupId,
              'a pattern subscription needs ConsumerGroupHeartbeat v1 (Kafka 4.0+)',
            ),
          )
        }
        // v1+: the member names itself (KIP-1082); v0: the coordinator does.
        this._memberId = this.version >= 1 ? randomMemberId() : ''
        this.transitionToJoining()
        return
      } catch (err) {
        if (this.closed) return
        if (!this.coordinator.noteFailure(err)) return this.fail(err as Error)
        await pause(backoffMs(attempt, RETRY_BACKOFF_MS, RETRY_BACKOFF_MAX_MS), this.lifetime.signal).catch(() => {})
      }
    }
  }

  private transitionToJoining(): void {
    this.joins++
    this.epoch = 0
    this.state = 'joining'
    this.sent = null
    this.target = null
    this.heartbeatSoon(0)
  }

  // --- heartbeats ----------------------------------------------------------------------------------------------

  private heartbeatSoon(delayMs: number): void {
    if (this.closed || this.fatal) return
    clearTimeout(this.heartbeatTimer)
    this.heartbeatTimer = setTimeout(() => void this.heartbeat(), delayMs)
    this.heartbeatTimer.unref()
  }

  private heartbeat(): Promise<void> {
    if (this.closed || this.fatal || this.heartbeatInFlight) return this.heartbeatInFlight ?? Promise.resolve()
    const s = this.state
    if (s === 'unsubscribed' || s === 'fenced' || s === 'leaving' || s === 'left') return Promise.resolve()
    this.heartbeatInFlight = this.sendHeartbeat().finally(() => {
      this.heartbeatInFlight = undefined
      for (const w of this.heartbeatWaiters) w()
      this.heartbeatWaiters.clear()
    })
    return this.heartbeatInFlight
  }

  /** ConsumerHeartbeatRequestManager.HeartbeatState: all fields when joining, afterwards only what changed. */
  private buildRequest(): ConsumerGroupHeartbeatRequest {
    const o = this.options
    const all = this.state === 'joining' || this.sent === null
    const prev = this.sent
    const topics = Array.isArray(o.topics) ? [...new Set(o.topics)].sort() : null
    const regex = Array.isArray(o.topics) ? null : o.topics.source
    const topicsKey = topics ? topics.join('\u0000') : null
    const req: ConsumerGroupHeartbeatRequest = {
      groupId: o.groupId,
      memberId: this._memberId,
      memberEpoch: this.epoch,
      instanceId: o.groupInstanceId,
      rackId: all ? o.rackId : null,
      rebalanceTimeoutMs: all || prev?.rebalanceTimeoutMs !== o.rebalanceTimeoutMs ? o.rebalanceTimeoutMs : -1,
      subscribedTopicNames: topics && (all || prev?.topics !== topicsKey) ? topics : null,
      subscribedTopicRegex: regex !== null && (all || prev?.regex !== regex) ? regex : null,
      serverAssignor:
        o.serverAssignor !== null && (all || prev?.serverAssignor !== o.serverAssignor) ? o.serverAssignor : null,
      topicPartitions:
        all || prev?.localEpoch !== this.localEpoch
          ? [...groupById(this.owned)].map(([topicId, partitions]) => ({ topicId, partitions }))
          : null,
    }
    this.sent = {
      rebalanceTimeoutMs: o.rebalanceTimeoutMs,
      topics: topicsKey,
      regex,
      serverAssignor: o.serverAssignor,
      localEpoch: this.localEpoch,
    }
    return req
  }

  private async sendHeartbeat(): Promise<void> {
    const request = this.buildRequest()
    // AbstractMembershipManager.onHeartbeatRequestGenerated: an acknowledgement is done once it is sent.
    if (this.state === 'acknowledging') {
      this.state = this.targetReconciled() ? 'stable' : 'reconciling'
      if (this.state === 'reconciling') void this.reconcile()
    }
    let next: number
    try {
      const conn = await this.coordinator.connection(this.lifetime.signal)
      const res = await conn.request(ConsumerGroupHeartbeat, request, {
        version: this.version,
        timeoutMs: this.cluster.options.requestTimeoutMs,
        signal: this.lifetime.signal,
      })
      next = this.onResponse(res, conn.broker)
    } catch (err) {
      if (this.closed) return
      this.sent = null
      this.coordinator.noteFailure(err)
      next = backoffMs(this.failedHeartbeats++, RETRY_BACKOFF_MS, RETRY_BACKOFF_MAX_MS)
    }
    this.heartbeatSoon(next)
  }

  /** Handles a heartbeat answer; returns the delay to the next heartbeat. */
  private onResponse(res: ConsumerGroupHeartbeatResponse, broker: string): number {
    const code = res.errorCode
    if (code === ErrorCode.NONE) {
      this.failedHeartbeats = 0
      if (this.state === 'fenced' || this.state === 'leaving') return this.intervalMs
      if (res.memberId) this._memberId = res.memberId
      this.epoch = res.memberEpoch
      this.intervalMs = this.options.heartbeatIntervalMs ?? res.heartbeatIntervalMs
      // While leaving (its hooks running) the member takes no new assignment.
      if (res.assignment && !this.leaving) {
        const target = new Map<string, number[]>()
        for (const t of res.assignment.topicPartitions) {
          target.set(
            t.topicId,
            [...new Set([...(target.get(t.topicId) ?? []), ...t.partitions])].sort((a, b) => a - b),
          )
        }
        this.target = target
        if (!this.targetReconciled()) {
          if (this.state !== 'reconciling') this.emitRebalance({ phase: 'started', reason: 'new target assignment' })
          this.state = 'reconciling'
          void this.reconcile()
        } else if (this.state === 'joining' || this.state === 'reconciling') {
          this.state = 'stable'
          this.completed()
        }
      }
      // Joining: heartbeat again at once until the coordinator gives an assignment (shouldHeartbeatNow).
      return this.state === 'joining' ? 0 : this.intervalMs
    }
    this.sent = null
    const context = { api: 'ConsumerGroupHeartbeat', broker, group: this.options.groupId, memberId: this._memberId }
    const backoff = backoffMs(this.failedHeartbeats++, RETRY_BACKOFF_MS, RETRY_BACKOFF_MAX_MS)
    switch (code) {
      case ErrorCode.NOT_COORDINATOR:
      case ErrorCode.COORDINATOR_NOT_AVAILABLE:
        this.coordinator.markUnknown()
        return 0
      case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
        return backoff
      case ErrorCode.FENCED_MEMBER_EPOCH:
      case ErrorCode.UNKNOWN_MEMBER_ID:
        this.transitionToFenced(errorByCode(code).name)
        return 0
      case ErrorCode.UNSUPPORTED_VERSION:
        this.failAndLose(
          new UnsupportedGroupProtocolError(
            this.options.groupId,
            `the coordinator answered UNSUPPORTED_VERSION: ${res.errorMessage ?? ''}`,
          ),
        )
        return backoff
      default: {
        const err = KafkaError.fromCode(code, { ...context, errorMessage: res.errorMessage })
        if (FATAL.has(code) || !err.retriable) this.failAndLose(err)
        return backoff
      }
    }
  }

  /** Fenced or unknown: the partitions are lost; release them, then rejoin with epoch 0 and the same member id. */
  private transitionToFenced(reason: string): void {
    if (this.leaving || this.state === 'left' || this.state === 'fenced') return
    this.state = 'fenced'
    this.epoch = 0
    this.joins++
    this.sent = null
    const lost = this.assignment()
    this.owned = []
    this.localEpoch++
    this.emitRebalance({ phase: 'started', reason })
    void this.runHook('lost', lost).then(() => {
      if (this.state === 'fenced' && !this.closed && !this.leaving) this.transitionToJoining()
    })
  }

  private failAndLose(err: Error): void {
    const lost = this.assignment()
    this.owned = []
    this.fail(err)
    void this.runHook('lost', lost)
  }

  // --- reconciliation ------------------------------------------------------------------------------------------

  private targetReconciled(): boolean {
    const target = this.target
    if (!target) return true
    const owned = groupById(this.owned)
    if (owned.size !== target.size) return false
    for (const [id, parts] of target) {
      const mine = owned.get(id)
      if (!mine || mine.length !== parts.length || mine.some((p, i) => p !== parts[i])) return false
    }
    return true
  }

  private completed(): void {
    this.emitRebalance({ phase: 'completed', assignment: this.assignment() })
    if (!this.firstAssignment.settled) this.firstAssignment.resolve()
  }

  /**
   * AbstractMembershipManager.maybeReconcile: resolve topic ids to names (refreshing metadata for unknown ones; a
   * topic still unknown waits for a later round), revoke what is no longer assigned (the hook commits while the
   * partitions are still ours), take what was added, then acknowledge with the next heartbeat.
   */
  private async reconcile(): Promise<void> {
    if (this.reconciling) {
      this.reconcileAgain = true
      return
    }
    this.reconciling = true
    try {
      while (this.state === 'reconciling' && !this.closed && !this.leaving && !this.targetReconciled()) {
        const joins = this.joins
        const target = this.target!
        const resolved = await this.resolve(target)
        if (this.joins !== joins || this.state !== 'reconciling' || this.leaving) return
        const assigned = sortPartitions(resolved)
        const current = this.assignment()
        const revoked = minus(current, assigned)
        const added = minus(assigned, current)
        if (revoked.length > 0) {
          this.revoking = revoked
          await this.runHook('revoked', revoked)
          this.revoking = []
          // Once revoked they are gone, even if this round is abandoned.
          const gone = new Set(revoked.map((p) => tpKey(p.topic, p.partition)))
          this.owned = this.owned.filter((p) => !gone.has(tpKey(p.topic, p.partition)))
          this.localEpoch++
        }
        if (this.joins !== joins || this.state !== 'reconciling' || this.leaving) return
        this.owned = resolved
        this.localEpoch++
        await this.runHook('assigned', added)
        if (this.joins !== joins || this.state !== 'reconciling' || this.leaving) return
        this.state = 'acknowledging'
        this.completed()
        this.heartbeatSoon(0)
        if (resolved.length < [...target.values()].reduce((n, l) => n + l.length, 0)) {
          // Some topic ids are not in the metadata yet: try again after a pause.
          await pause(500, this.lifetime.signal, false).catch(() => {})
        }
      }
    } finally {
      this.reconciling = false
      if (this.reconcileAgain) {
        this.reconcileAgain = false
        if (this.state === 'reconciling') void this.reconcile()
      }
    }
  }

  /** Target partitions whose topic ids the metadata knows (refreshing it once for unknown ones). */
  private async resolve(target: Map<string, number[]>): Promise<OwnedPartition[]> {
    const md = this.cluster.metadata
    const known = new Map<string, string>()
    for (const p of this.owned) known.set(p.topicId, p.topic)
    const nameOf = (id: string) => md.topicNameOf(id) ?? known.get(id)
    const unknown = [...target.keys()].filter((id) => nameOf(id) === undefined)
    if (unknown.length > 0) {
      const topics = Array.isArray(this.options.topics) ? this.options.topics : null
      await md.refresh(topics, this.lifetime.signal).catch(() => {})
    }
    const out: OwnedPartition[] = []
    for (const [topicId, partitions] of target) {
      const topic = nameOf(topicId)
      if (topic === undefined) continue
      for (const partition of partitions) out.push({ topicId, topic, partition })
    }
    return out
  }

  // --- offsets -------------------------------------------------------------------------------------------------

  /**
   * Commits with the member epoch (OffsetCommit v9+). STALE_MEMBER_EPOCH — the epoch moved on since the commit
   * was sent — is retried with the new epoch while every partition in the commit is still this member's (owned, or
   * being revoked right now): the commit is still the owner's, so retrying neither skips nor replays records. For
   * partitions that are no longer ours it fails with CommitFailedError, as does UNKNOWN_MEMBER_ID.
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
      if (this.epoch <= 0 || this.state === 'fenced' || this.state === 'joining' || this.state === 'left') {
        throw new CommitFailedError(groupId, partitions(), 'this member is not part of the group', {
          memberId: this._memberId,
          generation: this.epoch,
        })
      }
      const sentEpoch = this.epoch
      let last: unknown
      try {
        const conn = await this.coordinator.connection(options.signal)
        const codes = await sendOffsetCommit(
          conn,
          this.cluster,
          groupId,
          {
            generationIdOrMemberEpoch: sentEpoch,
            memberId: this._memberId,
            groupInstanceId: this.options.groupInstanceId,
          },
          pending,
          {
            timeoutMs: Math.min(this.cluster.options.requestTimeoutMs, Math.max(1, deadline - Date.now())),
            signal: options.signal,
          },
        )
        const retry: OffsetToCommit[] = []
        let stale = false
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
            case ErrorCode.STALE_MEMBER_EPOCH:
              stale = true
              retry.push(o)
              continue
            case ErrorCode.UNKNOWN_MEMBER_ID:
            case ErrorCode.FENCED_MEMBER_EPOCH:
            case ErrorCode.ILLEGAL_GENERATION:
              throw new CommitFailedError(groupId, partitions(), errorByCode(code).name, {
                memberId: this._memberId,
                generation: sentEpoch,
              })
            case ErrorCode.REBALANCE_IN_PROGRESS:
              throw new RebalanceInProgressError(groupId, partitions())
          }
          const err = KafkaError.fromCode(code, context)
          if (!err.retriable) throw err
          if (err.findCoordinator) this.coordinator.markUnknown()
          last = err
          retry.push(o)
        }
        pending = retry
        if (pending.length === 0) return
        if (stale) {
          const mine = new Set([...this.owned, ...this.revoking].map((p) => tpKey(p.topic, p.partition)))
          const notMine = pending.filter((p) => !mine.has(tpKey(p.topic, p.partition)))
          if (notMine.length > 0) {
            throw new CommitFailedError(
              groupId,
              notMine,
              'STALE_MEMBER_EPOCH, and the partitions are no longer assigned',
              {
                memberId: this._memberId,
                generation: sentEpoch,
              },
            )
          }
          // Learn the current epoch from a heartbeat, then commit again with it.
          await this.epochAfter(sentEpoch, deadline, options.signal)
          last = KafkaError.fromCode(ErrorCode.STALE_MEMBER_EPOCH, { api: 'OffsetCommit', group: groupId })
          if (this.epoch !== sentEpoch) continue
        }
      } catch (err) {
        if (err instanceof AbortedError || !this.coordinator.noteFailure(err)) throw err
        last = err
      }
      const wait = backoffMs(attempt, RETRY_BACKOFF_MS, RETRY_BACKOFF_MAX_MS)
      if (Date.now() + wait >= deadline) throw new GroupTimeoutError('commit', groupId, timeoutMs, last)
      await pause(wait, options.signal)
    }
  }

  /** Waits until the member epoch differs from `epoch` (a heartbeat is sent now to learn it), or the deadline. */
  private async epochAfter(epoch: number, deadline: number, signal?: AbortSignal): Promise<void> {
    for (let n = 0; n < 5 && this.epoch === epoch && !this.closed && Date.now() < deadline; n++) {
      const answered = new Promise<void>((resolve) => this.heartbeatWaiters.add(resolve))
      if (!this.heartbeatInFlight) {
        // With every field, owned partitions included: the coordinator accepts a heartbeat from the previous
        // epoch only with them (a subset of the assignment), and answers with the current epoch.
        this.sent = null
        void this.heartbeat()
      }
      const timer = pause(Math.max(1, deadline - Date.now()), signal, false).catch(() => {})
      await Promise.race([answered, timer])
      if (signal?.aborted) throw new AbortedError('commit', signal.reason)
    }
  }

  // --- leaving -------------------------------------------------------------------------------------------------

  /**
   * Leaves: the partitions are revoked (the hook commits) — or lost when the member is not in the group — and a
   * heartbeat with epoch -1 (or -2 for a static member, which may come back within the session timeout and get
   * its partitions again) tells the coordinator.
   */
  async leave(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.closed || this.leaving) return
    const timeoutMs = options.timeoutMs ?? 30_000
    const deadline = AbortSignal.timeout(timeoutMs)
    this.leaving = true
    const owned = this.assignment()
    if (owned.length > 0) {
      const hook = this.epoch > 0 && this.state !== 'fenced' ? 'revoked' : 'lost'
      await Promise.race([this.runHook(hook, owned), new Promise((r) => deadline.addEventListener('abort', r))])
    }
    this.owned = []
    const inGroup =
      this.epoch > 0 || this.state === 'reconciling' || this.state === 'acknowledging' || this.state === 'stable'
    const memberId = this._memberId
    this.state = 'leaving'
    clearTimeout(this.heartbeatTimer)
    await Promise.race([this.heartbeatInFlight, new Promise((r) => deadline.addEventListener('abort', r))])
    if (inGroup && memberId !== '') {
      const epoch = this.options.groupInstanceId === null ? LEAVE_EPOCH : STATIC_LEAVE_EPOCH
      await this.coordinator
        .retrying('leaving the group', Math.min(timeoutMs, 5000), deadline, async (conn) => {
          const res = await conn.request(
            ConsumerGroupHeartbeat,
            { groupId: this.options.groupId, memberId, memberEpoch: epoch, instanceId: this.options.groupInstanceId },
            { version: this.version, timeoutMs: this.cluster.options.requestTimeoutMs, signal: deadline },
          )
          const code = res.errorCode
          if (
            code !== ErrorCode.NONE &&
            code !== ErrorCode.UNKNOWN_MEMBER_ID &&
            code !== ErrorCode.FENCED_MEMBER_EPOCH
          ) {
            throw KafkaError.fromCode(code, {
              api: 'ConsumerGroupHeartbeat',
              broker: conn.broker,
              group: this.options.groupId,
            })
          }
        })
        .catch((err) => this.report(err))
    }
    this.stop()
    this.state = 'left'
    this.epoch = epochAfterLeaving(this.options.groupInstanceId)
  }

  protected stop(): void {
    this.closed = true
    clearTimeout(this.heartbeatTimer)
    this.lifetime.abort(new AbortedError(`member of group ${this.options.groupId}`))
    for (const w of this.heartbeatWaiters) w()
    if (!this.firstAssignment.settled) {
      this.firstAssignment.reject(new GroupMemberStateError(`left group ${this.options.groupId} before an assignment`))
    }
  }

  /** Stops at once: no hooks, no leave heartbeat, the group connection dropped (as if the process had died). */
  destroy(): void {
    this.stop()
    this.coordinator.dropConnection()
  }

  /** Nothing to do: the coordinator resolves subscriptions (and patterns) itself. */
  async checkMetadata(): Promise<void> {}
}

function epochAfterLeaving(groupInstanceId: string | null): number {
  return groupInstanceId === null ? LEAVE_EPOCH : STATIC_LEAVE_EPOCH
}

function groupById(owned: readonly OwnedPartition[]): Map<string, number[]> {
  const out = new Map<string, number[]>()
  for (const p of owned) {
    const l = out.get(p.topicId)
    if (l) l.push(p.partition)
    else out.set(p.topicId, [p.partition])
  }
  for (const l of out.values()) l.sort((a, b) => a - b)
  return out
}

function dedupe(offsets: readonly OffsetToCommit[]): OffsetToCommit[] {
  const m = new Map<string, OffsetToCommit>()
  for (const o of offsets) m.set(tpKey(o.topic, o.partition), o)
  return [...m.values()]
}
