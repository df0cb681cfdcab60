import { AddOffsetsToTxn } from '../../protocol/apis/add-offsets-to-txn.js'
import { AddPartitionsToTxn } from '../../protocol/apis/add-partitions-to-txn.js'
import { EndTxn } from '../../protocol/apis/end-txn.js'
import { InitProducerId } from '../../protocol/apis/init-producer-id.js'
import { Produce } from '../../protocol/apis/produce.js'
import { TxnOffsetCommit, type TxnOffsetCommitRequest } from '../../protocol/apis/txn-offset-commit.js'
import { ErrorCode } from '../../protocol/error-codes.js'
import { KafkaError } from '../../protocol/kafka-error.js'
import type { Cluster } from '../cluster/cluster.js'
import type { PartitionQueue } from './accumulator.js'
import { Coordinator, CoordinatorType } from './coordinator.js'
import type { DeliveryCallback } from './delivery.js'
import {
  ProducerFatalError,
  ProducerFencedError,
  TransactionAbortableError,
  TransactionAbortedError,
  TransactionStateError,
} from './errors.js'
import type { Idempotence } from './idempotence.js'
import type { ResolvedProducerOptions } from './options.js'
import type { Producer, SendInput, SendOptions } from './producer.js'
import type { ProducerRecord, RecordMetadata } from './record.js'
import type { TransactionHooks } from './sender.js'
import type { ProducerStats } from './stats.js'

/** Offsets to commit as part of a transaction (consume-transform-produce). */
export interface TransactionOffsets {
  groupId: string
  offsets: ReadonlyArray<{ topic: string; partition: number; offset: number | bigint; metadata?: string | null }>
  /**
   * The consumer's group membership, so the group coordinator can fence a zombie consumer (KIP-447): its generation
   * (classic protocol) or member epoch (consumer protocol), member id and static instance id.
   */
  groupMetadata?: { generationId?: number; memberId?: string; groupInstanceId?: string | null }
}

/** What the transaction manager needs from its producer. */
export interface TransactionContext {
  readonly cluster: Cluster
  readonly options: ResolvedProducerOptions
  readonly idempotence: Idempotence
  readonly stats: ProducerStats
  /** Waits until every record handed to the producer so far is acknowledged or failed. */
  flush(): Promise<void>
  /** Fails every record not yet sent (queued or waiting for room) with `errorFor(topic)`. */
  abandonQueued(errorFor: (topic: string) => Error): void
  wake(): void
  fatal(err: Error): void
  readonly fatalError: Error | undefined
}

type State = 'uninitialized' | 'ready' | 'in-transaction' | 'committing' | 'aborting'

const FENCING = new Set<number>([ErrorCode.PRODUCER_FENCED, ErrorCode.INVALID_PRODUCER_EPOCH])
/** The Java client's versions when transactions v2 is off: v12+ / v5+ mean "transactions v2" to a 4.x broker. */
const V1_MAX = { produce: 11, endTxn: 4, txnOffsetCommit: 4 }

/**
 * One transactional id's transactions (KIP-98), in either protocol:
 * - transactions v2 (KIP-890, `transaction.version` ≥ 2, the default of a new 4.x cluster): Produce v12+ and
 *   TxnOffsetCommit v5+ add partitions and groups to the transaction themselves, and EndTxn v5 bumps the epoch at
 *   every transaction end, which the producer adopts;
 * - transactions v1 (3.x, or 4.x at `transaction.version` 1): AddPartitionsToTxn (v≤3) before the first batch to a
 *   partition, AddOffsetsToTxn before TxnOffsetCommit (v≤4), Produce at v≤11, EndTxn at v≤4.
 *
 * Fencing (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH) is fatal: the producer fails with {@link ProducerFencedError}.
 */
export class TransactionManager implements TransactionHooks {
  state: State = 'uninitialized'
  /** Bumped at each transaction begin, so a finished transaction's handle can tell it is stale. */
  generation = 0
  private v2 = false
  private readonly coordinator: Coordinator
  private readonly groups = new Map<string, Coordinator>()
  /** Something was sent (records or offsets): the transaction must be ended with EndTxn. */
  private started = false
  private abortable: Error | undefined
  /** Transactions v1: a batch with a sequence failed, so the epoch must be bumped before the next transaction. */
  private bumpEpoch = false
  private readonly added = new Set<PartitionQueue>()
  private readonly toAdd = new Set<PartitionQueue>()
  private adding = false
  private initializing: Promise<void> | undefined

  constructor(
    readonly transactionalId: string,
    private readonly ctx: TransactionContext,
  ) {
    const o = ctx.options
    this.coordinator = new Coordinator(ctx.cluster, transactionalId, CoordinatorType.transaction, {
      baseMs: 20,
      maxMs: o.retryBackoffMaxMs,
    })
  }

  /** True under transactions v2 (KIP-890). */
  get usesV2(): boolean {
    return this.v2
  }

  get produceMaxVersion(): number {
    return this.v2 ? Number.MAX_SAFE_INTEGER : V1_MAX.produce
  }

  /** Records may be added now. */
  get acceptsRecords(): boolean {
    return this.state === 'in-transaction' && this.abortable === undefined
  }

  /** Why the open transaction can only abort, if it can. */
  get abortableError(): Error | undefined {
    return this.abortable
  }

  private deadline(): number {
    return Date.now() + this.ctx.options.maxBlockMs
  }

  /** The first InitProducerId (Java's `initTransactions`), once; it fences older instances of this id. */
  async init(): Promise<void> {
    if (this.state !== 'uninitialized') return
    this.initializing ??= this.initProducerId(false).finally(() => {
      this.initializing = undefined
    })
    await this.initializing
    this.state = 'ready'
  }

  /** Starts a transaction. */
  async begin(): Promise<void> {
    this.throwIfFatal()
    await this.init()
    if (this.state !== 'ready')
      throw new TransactionStateError(`cannot begin a transaction: one is ${this.state.replace('-', ' ')}`)
    // Which protocol: the cluster's finalized transaction.version, and the versions that speak it.
    const conn = await this.ctx.cluster.anyConnection('metadata')
    const tv = conn.finalizedFeatures.get('transaction.version') ?? 0
    this.v2 = tv >= 2 && conn.versionFor(Produce) >= 12 && conn.versionFor(EndTxn) >= 5
    this.state = 'in-transaction'
    this.generation++
  }

  mayDrain(q: PartitionQueue): boolean {
    if (this.abortable !== undefined) return false
    if (this.v2 || q.inTransaction) return true
    this.toAdd.add(q)
    void this.addPartitions()
    return false
  }

  sent(_q: PartitionQueue): void {
    this.started = true
  }

  batchFailed(err: Error, sequenced: boolean): void {
    if (this.state === 'uninitialized' || this.state === 'ready') return
    if (sequenced) this.bumpEpoch = true
    if (this.state === 'aborting') return
    this.setAbortable(err)
  }

  private setAbortable(err: Error): void {
    if (this.abortable !== undefined) return
    this.abortable = err
    // Nothing more of this transaction will be sent: fail what is still queued.
    this.ctx.abandonQueued(
      () => new TransactionAbortableError(`the transaction failed (${err.message}); abort it`, err),
    )
  }

  private throwIfFatal(): void {
    if (this.ctx.fatalError) throw this.ctx.fatalError
  }

  private fenced(err: unknown): ProducerFencedError {
    const idem = this.ctx.idempotence
    const fenced = new ProducerFencedError(this.transactionalId, idem.producerId, idem.epoch, err)
    this.ctx.fatal(fenced)
    return fenced
  }

  /** Transactions v1: AddPartitionsToTxn for the partitions waiting to be added, one request at a time. */
  private async addPartitions(): Promise<void> {
    if (this.adding || this.toAdd.size === 0) return
    this.adding = true
    const qs = [...this.toAdd]
    this.toAdd.clear()
    const idem = this.ctx.idempotence
    const topics = new Map<string, number[]>()
    for (const q of qs) {
      const list = topics.get(q.topic)
      if (list) list.push(q.partition)
      else topics.set(q.topic, [q.partition])
    }
    const firstError = (r: {
      resultsByTopicV3AndBelow: { resultsByPartition: { partitionErrorCode: number }[] }[]
    }) => {
      for (const t of r.resultsByTopicV3AndBelow)
        for (const p of t.resultsByPartition)
          if (p.partitionErrorCode !== 0 && p.partitionErrorCode !== ErrorCode.OPERATION_NOT_ATTEMPTED)
            return p.partitionErrorCode
      return 0
    }
    try {
      const res = await this.coordinator.call(
        (conn) =>
          conn.request(
            AddPartitionsToTxn,
            {
              v3AndBelowTransactionalId: this.transactionalId,
              v3AndBelowProducerId: idem.producerId,
              v3AndBelowProducerEpoch: idem.epoch,
              v3AndBelowTopics: [...topics].map(([name, partitions]) => ({ name, partitions })),
            },
            { version: Math.min(conn.versionFor(AddPartitionsToTxn), 3) },
          ),
        firstError,
        this.deadline(),
      )
      const code = firstError(res)
      if (code === 0) {
        // The coordinator now has partitions in the transaction: it must be ended even if no batch gets out.
        this.started = true
        for (const q of qs) {
          q.inTransaction = true
          this.added.add(q)
        }
      } else {
        const t = res.resultsByTopicV3AndBelow.find((x) =>
          x.resultsByPartition.some((p) => p.partitionErrorCode === code),
        )
        const err = KafkaError.fromCode(code, {
          api: 'AddPartitionsToTxn',
          transactionalId: this.transactionalId,
          topic: t?.name,
          partition: t?.resultsByPartition.find((p) => p.partitionErrorCode === code)?.partitionIndex,
        })
        if (FENCING.has(code)) this.fenced(err)
        else this.setAbortable(err)
      }
    } catch (err) {
      this.setAbortable(err instanceof Error ? err : new Error(String(err)))
    } finally {
      this.adding = false
      if (this.toAdd.size > 0 && this.abortable === undefined) void this.addPartitions()
      this.ctx.wake()
    }
  }

  /** Commits consumed offsets as part of the transaction (AddOffsetsToTxn + TxnOffsetCommit, or v2's TxnOffsetCommit alone). */
  async sendOffsets(input: TransactionOffsets): Promise<void> {
    this.throwIfFatal()
    if (this.state !== 'in-transaction') throw new TransactionStateError('sendOffsets needs an open transaction')
    if (this.abortable) throw new TransactionAbortableError('the transaction failed; abort it', this.abortable)
    const idem = this.ctx.idempotence
    const deadline = this.deadline()
    const { groupId } = input
    try {
      if (!this.v2) {
        const added = await this.coordinator.call(
          (conn) =>
            conn.request(AddOffsetsToTxn, {
              transactionalId: this.transactionalId,
              producerId: idem.producerId,
              producerEpoch: idem.epoch,
              groupId,
            }),
          (r) => r.errorCode,
          deadline,
        )
        if (added.errorCode !== 0)
          throw KafkaError.fromCode(added.errorCode, {
            api: 'AddOffsetsToTxn',
            transactionalId: this.transactionalId,
            group: groupId,
          })
      }
      this.started = true
      let group = this.groups.get(groupId)
      if (!group) {
        group = new Coordinator(this.ctx.cluster, groupId, CoordinatorType.group, {
          baseMs: 20,
          maxMs: this.ctx.options.retryBackoffMaxMs,
        })
        this.groups.set(groupId, group)
      }
      const byTopic = new Map<string, TxnOffsetCommitRequest['topics'][number]['partitions'][number][]>()
      for (const o of input.offsets) {
        let list = byTopic.get(o.topic)
        if (!list) byTopic.set(o.topic, (list = []))
        list.push({
          partitionIndex: o.partition,
          committedOffset: BigInt(o.offset),
          committedMetadata: o.metadata ?? '',
        })
      }
      const ids = new Map<string, string>()
      for (const t of byTopic.keys()) ids.set(t, (await this.ctx.cluster.metadata.topic(t)).topicId)
      const m = input.groupMetadata ?? {}
      const firstError = (r: { topics: { partitions: { errorCode: number }[] }[] }) => {
        for (const t of r.topics) for (const p of t.partitions) if (p.errorCode !== 0) return p.errorCode
        return 0
      }
      const res = await group.call(
        (conn) =>
          conn.request(
            TxnOffsetCommit,
            {
              transactionalId: this.transactionalId,
              groupId,
              producerId: idem.producerId,
              producerEpoch: idem.epoch,
              generationIdOrMemberEpoch: m.generationId ?? -1,
              memberId: m.memberId ?? '',
              groupInstanceId: m.groupInstanceId ?? null,
              topics: [...byTopic].map(([name, partitions]) => ({ name, topicId: ids.get(name), partitions })),
            },
            {
              version: this.v2
                ? conn.versionFor(TxnOffsetCommit)
                : Math.min(conn.versionFor(TxnOffsetCommit), V1_MAX.txnOffsetCommit),
            },
          ),
        firstError,
        deadline,
      )
      const code = firstError(res)
      if (code !== 0) throw KafkaError.fromCode(code, { api: 'TxnOffsetCommit', group: groupId })
    } catch (err) {
      if (err instanceof KafkaError && FENCING.has(err.code)) throw this.fenced(err)
      if (err instanceof ProducerFencedError || err instanceof ProducerFatalError) throw err
      const e = err instanceof Error ? err : new Error(String(err))
      this.setAbortable(e)
      throw new TransactionAbortableError(`sendOffsets for group ${groupId} failed: ${e.message}; abort`, e)
    }
  }

  /** Commits (after every record is acknowledged) or aborts (dropping what is not yet sent) the transaction. */
  async end(commit: boolean): Promise<void> {
    this.throwIfFatal()
    if (this.state !== 'in-transaction')
      throw new TransactionStateError(
        `cannot ${commit ? 'commit' : 'abort'}: ${this.state === 'ready' || this.state === 'uninitialized' ? 'no transaction is open' : `the transaction is already ${this.state}`}`,
      )
    if (commit && this.abortable)
      throw new TransactionAbortableError(
        `the transaction cannot commit (${this.abortable.message}); abort it`,
        this.abortable,
      )
    this.state = commit ? 'committing' : 'aborting'
    try {
      if (!commit) this.ctx.abandonQueued((topic) => new TransactionAbortedError(topic))
      await this.ctx.flush()
      this.throwIfFatal()
      if (commit && this.abortable)
        throw new TransactionAbortableError(
          `the transaction cannot commit (${this.abortable.message}); abort it`,
          this.abortable,
        )
      if (this.started) await this.endTxn(commit)
      if (!this.v2 && this.bumpEpoch) await this.initProducerId(true)
      this.reset()
      this.state = 'ready'
    } catch (err) {
      if (this.ctx.fatalError) throw this.ctx.fatalError
      if (commit && !this.abortable) this.abortable = err instanceof Error ? err : new Error(String(err))
      this.state = 'in-transaction'
      throw err
    }
  }

  private reset(): void {
    for (const q of this.added) q.inTransaction = false
    this.added.clear()
    this.toAdd.clear()
    this.started = false
    this.abortable = undefined
    this.bumpEpoch = false
  }

  private async endTxn(commit: boolean): Promise<void> {
    const idem = this.ctx.idempotence
    const res = await this.coordinator.call(
      (conn) =>
        conn.request(
          EndTxn,
          {
            transactionalId: this.transactionalId,
            producerId: idem.producerId,
            producerEpoch: idem.epoch,
            committed: commit,
          },
          { version: this.v2 ? conn.versionFor(EndTxn) : Math.min(conn.versionFor(EndTxn), V1_MAX.endTxn) },
        ),
      (r) => r.errorCode,
      this.deadline(),
    )
    if (res.errorCode !== 0) {
      const err = KafkaError.fromCode(res.errorCode, { api: 'EndTxn', transactionalId: this.transactionalId })
      if (FENCING.has(res.errorCode)) throw this.fenced(err)
      throw err
    }
    // EndTxn v5 (transactions v2): the coordinator bumped the epoch; every later batch must carry the new one.
    if (this.v2 && res.producerId >= 0n && res.producerEpoch >= 0) {
      idem.setId(res.producerId, res.producerEpoch)
      this.ctx.stats.epochBumps++
    }
  }

  /** InitProducerId at the coordinator: a fresh start, or (KIP-360) a bump of the current epoch. */
  private async initProducerId(bump: boolean): Promise<void> {
    const idem = this.ctx.idempotence
    const res = await this.coordinator.call(
      (conn) =>
        conn.request(InitProducerId, {
          transactionalId: this.transactionalId,
          transactionTimeoutMs: this.ctx.options.transactionTimeoutMs,
          producerId: bump ? idem.producerId : -1n,
          producerEpoch: bump ? idem.epoch : -1,
        }),
      (r) => r.errorCode,
      this.deadline(),
    )
    if (res.errorCode !== 0) {
      const err = KafkaError.fromCode(res.errorCode, { api: 'InitProducerId', transactionalId: this.transactionalId })
      if (FENCING.has(res.errorCode)) throw this.fenced(err)
      throw err
    }
    idem.setId(res.producerId, res.producerEpoch)
    this.ctx.stats.producerIds++
  }
}

/**
 * One transaction of a transactional producer: what is sent through it (or through the producer) until `commit`
 * is written atomically, or not at all after `abort`. A read_committed consumer sees it only once committed.
 */
export class Transaction {
  constructor(
    private readonly producer: Producer,
    private readonly txn: TransactionManager,
    private readonly generation: number,
  ) {}

  private check(): void {
    if (this.txn.generation !== this.generation || this.txn.state === 'ready')
      throw new TransactionStateError('this transaction has ended')
  }

  /** As {@link Producer.send}, inside the transaction. */
  async send(input: SendInput, options?: SendOptions): Promise<RecordMetadata[]> {
    this.check()
    return this.producer.send(input, options)
  }

  /** As {@link Producer.produce}, inside the transaction. */
  produce(record: ProducerRecord, callback?: DeliveryCallback): boolean {
    this.check()
    return this.producer.produce(record, callback)
  }

  /** Commits consumed offsets for a group atomically with the transaction's records. */
  async sendOffsets(offsets: TransactionOffsets): Promise<void> {
    this.check()
    return this.txn.sendOffsets(offsets)
  }

  /** Waits for every record to be acknowledged, then commits. Throws TransactionAbortableError if one failed. */
  async commit(): Promise<void> {
    this.check()
    return this.txn.end(true)
  }

  /** Drops what is not yet sent, waits for what is in flight, then aborts. */
  async abort(): Promise<void> {
    this.check()
    return this.txn.end(false)
  }

  /** True under transactions v2 (KIP-890). */
  get usesTransactionsV2(): boolean {
    return this.txn.usesV2
  }
}
