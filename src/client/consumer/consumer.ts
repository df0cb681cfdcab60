import { EventEmitter } from 'node:events'
import { Readable } from 'node:stream'
import { Cluster } from '../cluster/cluster.js'
import type { ClientOptions } from '../cluster/options.js'
import { ConfigError } from '../errors.js'
import { type FetchOptions, FetchPipeline } from './fetch-pipeline.js'
import type { GroupMemberOptions, RebalanceHooks } from './group/member.js'
import { createMembership, type Membership } from './membership.js'
import type { ConsumerRecord, MessageBatch, StartOffset, TopicPartition } from './types.js'
import { tpKey } from './types.js'

/** Options of a {@link Consumer}. */
export interface ConsumerOptions extends FetchOptions {
  /** Connect with these options, or share an existing cluster. */
  client?: ClientOptions
  cluster?: Cluster
  /** Joins this consumer group with `subscribe()`; with `assign()`, only names where offsets are committed. */
  groupId?: string
  /** 'classic' (JoinGroup/SyncGroup) or 'consumer' (KIP-848, Kafka 4.x). Default 'classic'. */
  groupProtocol?: 'classic' | 'consumer'
  /** Group tuning: session/rebalance timeouts, static membership (groupInstanceId), assignors. */
  group?: Omit<GroupMemberOptions, 'groupId' | 'protocol' | 'topics'>
  /** Commit what the application has finished with, every `autoCommitIntervalMs`. Default true with a group. */
  autoCommit?: boolean
  /** Default 5000. */
  autoCommitIntervalMs?: number
  /** Called when partitions become this consumer's (after their positions are set). */
  onAssigned?: (partitions: TopicPartition[]) => void | Promise<void>
  /** Called before partitions are taken away in an orderly rebalance, after their offsets were committed. */
  onRevoked?: (partitions: TopicPartition[]) => void | Promise<void>
  /** Called when partitions were lost (the membership expired): nothing could be committed for them. */
  onLost?: (partitions: TopicPartition[]) => void | Promise<void>
}

/** An offset to commit. `offset` is the next one to read (the last processed + 1), as Kafka stores it. */
export interface OffsetToCommit extends TopicPartition {
  offset: number
  metadata?: string
}

/**
 * A Kafka consumer: reads assigned or group-given partitions with bounded prefetch and hands records to the
 * application as fast as it takes them — never faster.
 *
 * ```ts
 * const consumer = new Consumer({ client: { bootstrap: 'localhost:9092' }, groupId: 'billing' })
 * await consumer.subscribe(['orders'])
 * for await (const message of consumer) {
 *   await handle(message)          // a slow body slows fetching; memory stays bounded
 * }
 * ```
 * Breaking out of the loop closes the consumer cleanly (commits what was finished, leaves the group).
 *
 * A message counts as finished — committable — once the loop asks for the next one (or breaks out after it). Its
 * partition's records still in hand when the partition is revoked, lost or seeked are dropped, and a message whose
 * body was still running then is never committed by this consumer: the partition's new owner reads it again.
 *
 * The loop throws what stops reading: a bad batch under the `fail` policy (that partition stops, the others go on;
 * see BadBatchPolicy), OffsetOutOfRangeError under reset 'none', or a fatal group error (fenced, not authorized:
 * the partitions are reported lost first).
 *
 * Events: 'assigned' / 'revoked' / 'lost' (partitions), 'skipped' (SkippedBatch, under the skip policy),
 * 'truncated' (the log was truncated under this reader), 'reset', 'commit' (offsets), 'error' (background
 * failures such as an auto-commit refused during a rebalance, or a failed leave; only emitted when listened to).
 */
export class Consumer extends EventEmitter implements AsyncIterable<ConsumerRecord> {
  readonly cluster: Cluster
  readonly pipeline: FetchPipeline
  private readonly ownsCluster: boolean
  private readonly options: ConsumerOptions
  private membership: Membership | undefined
  /** Next offset after what the application has finished with, per partition. */
  private readonly finished = new Map<string, OffsetToCommit>()
  /**
   * A token per partition, renewed whenever what was delivered of it stops counting: the partition was assigned
   * again, revoked, lost or seeked. Records delivered under an older token are neither handed out any more nor
   * marked finished, so a loop body that outlives a rebalance cannot commit over the partition's new owner.
   */
  private readonly tokens = new Map<string, number>()
  private lastToken = 0
  private readonly committed = new Map<string, number>()
  private autoCommitTimer: NodeJS.Timeout | undefined
  private closing: Promise<void> | undefined
  /** The fatal group error that stopped this consumer; the iterators throw it. */
  private failure: Error | undefined
  private readonly closeController = new AbortController()

  constructor(options: ConsumerOptions) {
    super()
    if (!options.cluster && !options.client) throw new ConfigError('a consumer needs `client` options or a `cluster`')
    this.options = options
    this.cluster = options.cluster ?? new Cluster(options.client!)
    this.ownsCluster = !options.cluster
    this.pipeline = new FetchPipeline(this.cluster, options)
    for (const event of ['skipped', 'truncated', 'reset'] as const) this.pipeline.on(event, (e) => this.emit(event, e))
    const interval = options.autoCommitIntervalMs ?? 5000
    if (!(interval > 0)) throw new ConfigError(`autoCommitIntervalMs must be positive, got ${interval}`)
  }

  /** Joins the consumer group (`groupId` required) and reads the partitions it assigns, for these topics. */
  async subscribe(topics: string[] | RegExp, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (!this.options.groupId)
      throw new ConfigError('subscribe() needs a groupId; use assign() to read without a group')
    if (this.membership) throw new ConfigError('already subscribed')
    const hooks: RebalanceHooks = {
      assigned: (partitions) => this.onAssigned(partitions),
      revoked: (partitions) => this.onRevoked(partitions),
      lost: (partitions) => this.onLost(partitions),
    }
    this.membership = createMembership(
      this.cluster,
      { ...this.options.group, groupId: this.options.groupId, protocol: this.options.groupProtocol, topics },
      hooks,
    )
    this.membership.on('error', (err) => {
      this.report(err)
      // A fatal one (fenced, not authorized...): the member stopped and its partitions were reported lost. The
      // application hears of it from its loop, as from Java's poll(), rather than waiting for records forever.
      if (this.membership?.stopped && !this.closing) {
        this.failure ??= err
        this.closeController.abort(err)
      }
    })
    this.startAutoCommit()
    await this.membership.start(options.signal)
  }

  /** Reads these partitions, without group management, from the given positions (default: committed, else reset). */
  async assign(partitions: ReadonlyArray<TopicPartition & { offset?: StartOffset }>): Promise<void> {
    if (this.membership?.managed) throw new ConfigError('assign() cannot be mixed with subscribe()')
    if (this.options.groupId && !this.membership) {
      this.membership = createMembership(this.cluster, { groupId: this.options.groupId, topics: [] }, undefined)
      this.startAutoCommit()
    }
    const withPositions = await this.startPositions(partitions)
    this.own(partitions)
    await this.pipeline.assign(withPositions)
  }

  /**
   * Stops reading partitions taken with `assign()` and drops what was fetched for them; records of them already
   * handed out no longer count as finished. Not for a subscription (the group decides its partitions).
   */
  unassign(partitions: readonly TopicPartition[]): void {
    if (this.membership?.managed) throw new ConfigError('unassign() cannot be mixed with subscribe()')
    this.disown(partitions)
    this.pipeline.unassign(partitions)
    for (const p of partitions) {
      this.finished.delete(tpKey(p.topic, p.partition))
      this.committed.delete(tpKey(p.topic, p.partition))
    }
  }

  assignment(): TopicPartition[] {
    return this.pipeline.assignment()
  }

  /** Moves a partition's position: the next record of it delivered is at `offset`, none fetched before. */
  seek(tp: TopicPartition, offset: StartOffset): void {
    this.pipeline.seek(tp, offset)
    this.own([tp])
  }

  pause(partitions: readonly TopicPartition[]): void {
    this.pipeline.pause(partitions)
  }

  resume(partitions: readonly TopicPartition[]): void {
    this.pipeline.resume(partitions)
  }

  position(tp: TopicPartition): number {
    return this.pipeline.position(tp)
  }

  /**
   * Commits offsets: the given ones, or — without arguments — what the application has finished with (the
   * message before the one it is on). Needs a groupId.
   */
  async commit(
    offsets?: readonly OffsetToCommit[],
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<void> {
    if (!this.membership) throw new ConfigError('commit() needs a groupId')
    // Copies: `finished` keeps moving while the commit is in flight, and what is remembered (and reported) as
    // committed must be what was sent, or a revocation would skip committing the records finished meanwhile.
    const toCommit = (
      offsets ?? [...this.finished.values()].filter((o) => this.committed.get(tpKey(o.topic, o.partition)) !== o.offset)
    ).map((o) => ({ ...o }))
    if (toCommit.length === 0) return
    await this.membership.commit(toCommit, options)
    for (const o of toCommit) this.committed.set(tpKey(o.topic, o.partition), o.offset)
    this.emit('commit', toCommit)
  }

  /** Messages, one at a time, with backpressure: the next fetch waits for the application. */
  [Symbol.asyncIterator](): AsyncIterator<ConsumerRecord> {
    let chunk: ConsumerRecord[] = []
    let index = 0
    let release: (() => void) | undefined
    let token = 0
    let last: ConsumerRecord | undefined
    const finish = () => {
      if (last) this.markFinished(last, token)
      last = undefined
    }
    const iterator: AsyncIterator<ConsumerRecord> = {
      next: async () => {
        finish()
        // The rest of a chunk whose partition was revoked, lost or seeked meanwhile is not ours to hand out.
        if (index < chunk.length && !this.owns(chunk[index]!, token)) index = chunk.length
        while (index >= chunk.length) {
          release?.()
          release = undefined
          const next = await this.nextChunk()
          if (!next) return { value: undefined, done: true }
          chunk = next.messages
          index = 0
          release = next.release
          token = next.token
        }
        last = chunk[index++]!
        return { value: last, done: false }
      },
      return: async () => {
        finish()
        release?.()
        await this.close()
        return { value: undefined, done: true }
      },
    }
    return iterator
  }

  /** Records a partition at a time, as decoded (one or more batches' worth), with backpressure. */
  batches(): AsyncIterable<MessageBatch> {
    return {
      [Symbol.asyncIterator]: () => {
        let previous: { batch: MessageBatch; release: () => void; token: number } | undefined
        const finish = () => {
          if (!previous) return
          const m = previous.batch.messages
          if (m.length > 0) this.markFinished(m[m.length - 1]!, previous.token)
          previous.release()
          previous = undefined
        }
        return {
          next: async () => {
            finish()
            const next = await this.nextChunk()
            if (!next) return { value: undefined, done: true }
            const batch: MessageBatch = {
              topic: next.topic,
              partition: next.partition,
              messages: next.messages,
              highWatermark: next.highWatermark,
              lastStableOffset: next.lastStableOffset,
            }
            previous = { batch, release: next.release, token: next.token }
            return { value: batch, done: false }
          },
          return: async () => {
            finish()
            await this.close()
            return { value: undefined, done: true }
          },
        }
      },
    }
  }

  /**
   * An object-mode Readable of messages, with backpressure (highWaterMark messages buffered). A message counts as
   * finished for commits once the stream has handed out the next one.
   */
  stream(options: { highWaterMark?: number } = {}): Readable {
    const iterator = this[Symbol.asyncIterator]()
    return new Readable({
      objectMode: true,
      highWaterMark: options.highWaterMark ?? 16,
      read() {
        iterator.next().then(
          (r) => this.push(r.done ? null : r.value),
          (err) => this.destroy(err),
        )
      },
      destroy(err, callback) {
        iterator.return!().then(
          () => callback(err),
          (e) => callback(err ?? e),
        )
      },
    })
  }

  /**
   * Stops: commits what was finished (with a group), leaves the group, closes the fetch sessions and, if the
   * consumer made it, the connections. Within `timeoutMs` (default 30 000); idempotent.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closing ??= this.doClose(options.timeoutMs ?? 30_000)
    return this.closing
  }

  private async doClose(timeoutMs: number): Promise<void> {
    clearInterval(this.autoCommitTimer)
    this.closeController.abort()
    const deadline = AbortSignal.timeout(timeoutMs)
    try {
      if (this.membership && this.options.autoCommit !== false) {
        await this.commit(undefined, { signal: deadline }).catch((err) => this.report(err))
      }
      await this.membership?.leave({ timeoutMs }).catch((err) => this.report(err))
    } finally {
      await this.pipeline.close()
      if (this.ownsCluster) await this.cluster.close()
    }
  }

  /** The next chunk of records of a partition this consumer owns, with the partition's token; null once closed. */
  private async nextChunk() {
    for (;;) {
      if (this.closing) return null
      if (this.failure) throw this.failure
      let chunk: Awaited<ReturnType<FetchPipeline['next']>>
      try {
        chunk = await this.pipeline.next({ signal: this.closeController.signal })
      } catch (err) {
        if (this.failure && !this.closing) throw this.failure
        if (this.closeController.signal.aborted) return null
        throw err
      }
      if (!chunk) return null
      const token = this.tokens.get(tpKey(chunk.topic, chunk.partition))
      if (token !== undefined) return { ...chunk, token }
      chunk.release()
    }
  }

  /** New tokens for these partitions: what was delivered of them before stops counting. */
  private own(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) this.tokens.set(tpKey(p.topic, p.partition), ++this.lastToken)
  }

  private disown(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) this.tokens.delete(tpKey(p.topic, p.partition))
  }

  private owns(m: ConsumerRecord, token: number): boolean {
    return this.tokens.get(tpKey(m.topic, m.partition)) === token
  }

  /**
   * Background failures (an auto-commit refused during a rebalance, a failed leave) go to 'error' listeners; with
   * none, they are dropped rather than thrown, which would crash the process from a timer.
   */
  private report(err: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', err)
  }

  private markFinished(m: ConsumerRecord, token: number): void {
    if (!this.owns(m, token)) return
    const key = tpKey(m.topic, m.partition)
    const f = this.finished.get(key)
    if (f) f.offset = m.offset + 1
    else this.finished.set(key, { topic: m.topic, partition: m.partition, offset: m.offset + 1 })
  }

  private startAutoCommit(): void {
    const enabled = this.options.autoCommit ?? this.options.groupId !== undefined
    if (!enabled || this.autoCommitTimer) return
    this.autoCommitTimer = setInterval(() => {
      this.commit().catch((err) => this.report(err))
    }, this.options.autoCommitIntervalMs ?? 5000)
    this.autoCommitTimer.unref()
  }

  /** Committed offsets where there are any, else the reset policy (or the explicit offset given). */
  private async startPositions(partitions: ReadonlyArray<TopicPartition & { offset?: StartOffset }>) {
    const unknown = partitions.filter((p) => p.offset === undefined)
    // A read_committed reader must not start from an offset a still-open transaction is about to replace (KIP-447):
    // the coordinator answers UNSTABLE_OFFSET_COMMIT until that transaction ends, and the lookup waits, as Java's.
    const requireStable = this.options.isolation === 'read_committed'
    const committed =
      this.membership && unknown.length > 0
        ? await this.membership.fetchCommitted(unknown, { requireStable })
        : new Map()
    return partitions.map((p) => {
      if (p.offset !== undefined) return p
      const c = committed.get(tpKey(p.topic, p.partition))
      if (c && c.offset >= 0) {
        this.committed.set(tpKey(p.topic, p.partition), c.offset)
        return { ...p, offset: c.offset }
      }
      return { topic: p.topic, partition: p.partition }
    })
  }

  private async onAssigned(partitions: TopicPartition[]): Promise<void> {
    const positions = await this.startPositions(partitions)
    this.own(partitions)
    await this.pipeline.assign(positions)
    this.emit('assigned', partitions)
    await this.options.onAssigned?.(partitions)
  }

  private async onRevoked(partitions: TopicPartition[]): Promise<void> {
    const keys = new Set(partitions.map((p) => tpKey(p.topic, p.partition)))
    // Stop handing out their records before committing: the application's loop runs on while the commit is in
    // flight, and whatever it read meanwhile would lie past the committed offset, to be read again by the next owner.
    this.disown(partitions)
    this.pipeline.unassign(partitions)
    if (this.options.autoCommit !== false) {
      const mine = [...this.finished.values()].filter((o) => keys.has(tpKey(o.topic, o.partition)))
      const pending = mine.filter((o) => this.committed.get(tpKey(o.topic, o.partition)) !== o.offset)
      if (pending.length > 0) await this.commit(pending).catch((err) => this.report(err))
    }
    for (const k of keys) {
      this.finished.delete(k)
      this.committed.delete(k)
    }
    this.emit('revoked', partitions)
    await this.options.onRevoked?.(partitions)
  }

  private async onLost(partitions: TopicPartition[]): Promise<void> {
    this.disown(partitions)
    this.pipeline.unassign(partitions)
    for (const p of partitions) {
      this.finished.delete(tpKey(p.topic, p.partition))
      this.committed.delete(tpKey(p.topic, p.partition))
    }
    this.emit('lost', partitions)
    await this.options.onLost?.(partitions)
  }
}
