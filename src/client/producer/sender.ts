import { setTimeout as sleep } from 'node:timers/promises'
import { InitProducerId } from '../../protocol/apis/init-producer-id.js'
import type { ProduceResponse } from '../../protocol/apis/produce.js'
import { ErrorCode } from '../../protocol/error-codes.js'
import { KafkaError } from '../../protocol/kafka-error.js'
import { backoffMs } from '../cluster/backoff.js'
import type { Cluster } from '../cluster/cluster.js'
import type { Accumulator, PartitionQueue } from './accumulator.js'
import type { ProducerBatch } from './batch.js'
import { DeliveryTimeoutError, ProducerFatalError, ProducerFencedError } from './errors.js'
import type { Idempotence } from './idempotence.js'
import type { ResolvedProducerOptions } from './options.js'
import type { QueuedRecord } from './record.js'
import { type OutRequest, Sink } from './sink.js'
import { countError, type ProducerStats } from './stats.js'

type PartitionResponse = ProduceResponse['responses'][number]['partitionResponses'][number]

/** What the sender needs from a transactional producer. */
export interface TransactionHooks {
  readonly transactionalId: string
  /** Highest Produce version the transaction protocol in use allows (11 under transactions v1). */
  readonly produceMaxVersion: number
  /** May batches of `q` go out? (Transactions v1: only once AddPartitionsToTxn added it; this starts that.) */
  mayDrain(q: PartitionQueue): boolean
  /** A batch of `q` went out: the transaction has started. */
  sent(q: PartitionQueue): void
  /** A batch failed: the transaction can only be aborted now. `sequenced`: it had a sequence number. */
  batchFailed(err: Error, sequenced: boolean): void
}

export interface SenderContext {
  readonly cluster: Cluster
  readonly options: ResolvedProducerOptions
  readonly accumulator: Accumulator
  readonly idempotence: Idempotence | undefined
  readonly transactions: TransactionHooks | undefined
  readonly stats: ProducerStats
  /** A batch is done (acknowledged or failed): give its bytes back to the buffer. */
  released(b: ProducerBatch): void
  /** Something the producer cannot carry on after: fail everything. */
  fatal(err: Error): void
}

const FENCING = new Set<number>([ErrorCode.PRODUCER_FENCED, ErrorCode.INVALID_PRODUCER_EPOCH])

/**
 * Moves ready batches from the accumulator to the brokers: one pass (`run`) expires batches past their delivery
 * timeout, groups ready partitions by leader and lets each broker's {@link Sink} drain them; passes run when a batch
 * fills, when a linger or retry backoff ends, and when a response, a connection or fresh metadata arrives. It also
 * decides each batch's fate from its response: done, retried in order, or failed with a typed error.
 */
export class Sender {
  readonly accumulator: Accumulator
  readonly cluster: Cluster
  readonly stats: ProducerStats
  readonly requestTimeoutMs: number
  readonly maxRequestsInFlight: number
  readonly maxRequestBytes: number
  readonly acks: number
  private readonly maxOnWire: number
  private readonly sinks = new Map<number, Sink>()
  private timer: NodeJS.Timeout | undefined
  private timerAt = Number.POSITIVE_INFINITY
  private immediate: NodeJS.Immediate | undefined
  private readonly wantMetadata = new Set<string>()
  private refreshing = false
  private gettingId = false
  private stopped = false

  constructor(private readonly ctx: SenderContext) {
    const o = ctx.options
    this.accumulator = ctx.accumulator
    this.cluster = ctx.cluster
    this.stats = ctx.stats
    this.requestTimeoutMs = o.requestTimeoutMs ?? ctx.cluster.options.requestTimeoutMs
    // The connection queues requests beyond its own limit; staying within it keeps the sink's count honest.
    this.maxRequestsInFlight = Math.min(o.maxInFlight, ctx.cluster.options.maxInFlight)
    this.maxOnWire = o.idempotent ? Math.min(5, this.maxRequestsInFlight) : this.maxRequestsInFlight
    this.maxRequestBytes = o.maxRequestBytes
    this.acks = o.acks
  }

  get transactionalId(): string | null {
    return this.ctx.transactions?.transactionalId ?? null
  }

  get produceMaxVersion(): number {
    return this.ctx.transactions?.produceMaxVersion ?? Number.MAX_SAFE_INTEGER
  }

  topicIdOf(topic: string): string | undefined {
    return this.cluster.metadata.cached(topic)?.topicId
  }

  /** Runs a pass soon (once per turn of the event loop, however often asked). */
  wake(): void {
    if (this.stopped || this.immediate !== undefined) return
    this.immediate = setImmediate(() => {
      this.immediate = undefined
      this.run()
    })
  }

  /** Runs a pass at `at` (or earlier if something else wakes it). */
  wakeAt(at: number): void {
    if (this.stopped || at >= this.timerAt) return
    if (this.timer) clearTimeout(this.timer)
    this.timerAt = at
    this.timer = setTimeout(
      () => {
        this.timer = undefined
        this.timerAt = Number.POSITIVE_INFINITY
        this.run()
      },
      Math.max(0, at - Date.now()),
    )
  }

  /** Requests in flight, over every broker. */
  get requestsInFlight(): number {
    let n = 0
    for (const s of this.sinks.values()) n += s.requests
    return n
  }

  run(): void {
    if (this.stopped) return
    const acc = this.accumulator
    const now = Date.now()
    for (const b of acc.expired(now)) this.expire(b)
    let next = acc.nextDeadline()
    const idem = this.ctx.idempotence
    if (idem !== undefined && !idem.hasId) {
      if (acc.nonEmpty.size > 0 && !idem.transactional) this.getProducerId()
      this.wakeAt(next)
      return
    }
    let byNode: Map<number, PartitionQueue[]> | undefined
    for (const q of acc.nonEmpty) {
      if (!acc.isReady(q, now)) {
        const at = acc.readyAt(q)
        if (at < next) next = at
        continue
      }
      const leader = this.leaderOf(q)
      if (leader < 0) {
        this.wantMetadata.add(q.topic)
        continue
      }
      byNode ??= new Map()
      const list = byNode.get(leader)
      if (list === undefined) byNode.set(leader, [q])
      else list.push(q)
    }
    if (byNode !== undefined) for (const [node, qs] of byNode) this.sink(node).drain(qs, now)
    if (this.wantMetadata.size > 0) this.refreshMetadata()
    this.wakeAt(next)
  }

  private leaderOf(q: PartitionQueue): number {
    return this.cluster.metadata.cached(q.topic)?.partitions[q.partition]?.leader ?? -1
  }

  private sink(node: number): Sink {
    let s = this.sinks.get(node)
    if (s === undefined) {
      s = new Sink(node, this)
      this.sinks.set(node, s)
    }
    return s
  }

  /** May the head batch of `q` go out now? Assigns its sequence when idempotent. */
  mayDrain(q: PartitionQueue, head: ProducerBatch): boolean {
    const txn = this.ctx.transactions
    if (txn !== undefined && !txn.mayDrain(q)) return false
    const idem = this.ctx.idempotence
    if (idem !== undefined) return idem.prepare(q.sequences, head, q.onWire, this.maxOnWire)
    return q.onWire < this.maxOnWire
  }

  /** The head batch of `q` was taken into a request to `node`. */
  drained(q: PartitionQueue, b: ProducerBatch, node: number): void {
    q.onWire++
    b.inFlight = true
    b.attempts++
    this.stats.batchesSent++
    if (q.lastLeader >= 0 && q.lastLeader !== node) this.stats.leaderChanges++
    q.lastLeader = node
    this.ctx.transactions?.sent(q)
  }

  private landed(b: ProducerBatch): boolean {
    b.queue.onWire--
    b.inFlight = false
    return !b.done
  }

  /** Drops batches already failed from a request not yet written. */
  dropDone(batches: ProducerBatch[]): ProducerBatch[] {
    return batches.filter((b) => {
      if (!b.done) return true
      this.landed(b)
      return false
    })
  }

  /** acks=0: the request is written; that is all the producer will ever know. */
  writtenWithoutAck(batches: ProducerBatch[]): void {
    for (const b of batches) if (this.landed(b)) this.succeed(b, -1, -1)
    this.wake()
  }

  responded(node: number, req: OutRequest, res: ProduceResponse): void {
    const now = Date.now()
    const byKey = new Map<string, ProducerBatch>()
    for (let i = 0; i < req.batches.length; i++) {
      const b = req.batches[i]!
      byKey.set(`${req.keys[i]}\u0000${b.partition}`, b)
    }
    for (const t of res.responses) {
      const key = req.byId ? t.topicId : t.name
      for (const p of t.partitionResponses) {
        const k = `${key}\u0000${p.index}`
        const b = byKey.get(k)
        if (b === undefined) continue
        byKey.delete(k)
        if (this.landed(b)) this.partitionResult(node, b, p, now)
      }
    }
    if (byKey.size > 0) {
      // A partition the broker did not answer for: treat as a lost response (a retry is safe when idempotent).
      const err = KafkaError.fromCode(ErrorCode.NETWORK_EXCEPTION, {
        api: 'Produce',
        broker: node,
        errorMessage: 'the response did not mention the partition',
      })
      for (const b of byKey.values()) if (this.landed(b)) this.retry(b, err, now)
    }
    this.wake()
  }

  /** The request failed as a whole: disconnected, timed out, or never written. */
  requestFailed(_node: number, batches: ProducerBatch[], err: unknown): void {
    countError(this.stats, err)
    const now = Date.now()
    const retriable = (err as { retriable?: boolean })?.retriable === true
    for (const b of batches) {
      if (!this.landed(b)) continue
      this.wantMetadata.add(b.topic)
      if (retriable) this.retry(b, err, now)
      else this.fail(b, asError(err), 'unknown')
    }
    this.wake()
  }

  connectFailed(node: number, err: unknown): void {
    countError(this.stats, err)
    // The broker may be gone for good: its partitions' leaders are likely elsewhere now.
    for (const q of this.accumulator.nonEmpty) if (this.leaderOf(q) === node) this.wantMetadata.add(q.topic)
    this.refreshMetadata()
    this.wakeAt(Date.now() + this.ctx.options.retryBackoffMs)
  }

  encodeFailed(b: ProducerBatch, err: unknown): void {
    if (!this.landed(b)) return
    this.fail(b, asError(err), false)
  }

  private partitionResult(node: number, b: ProducerBatch, p: PartitionResponse, now: number): void {
    const code = p.errorCode
    if (code === ErrorCode.NONE) {
      this.succeed(b, Number(p.baseOffset), Number(p.logAppendTimeMs))
      return
    }
    // A retry of a batch the broker has, beyond the five it remembers the offsets of: written, offset unknown.
    if (code === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
      this.succeed(b, -1, -1)
      return
    }
    const err = KafkaError.fromCode(code, {
      api: 'Produce',
      broker: node,
      topic: b.topic,
      partition: b.partition,
      errorMessage: p.errorMessage,
    })
    countError(this.stats, err)
    const idem = this.ctx.idempotence
    const txn = this.ctx.transactions
    const seq = b.queue.sequences
    if (txn !== undefined && FENCING.has(code)) {
      const fenced = new ProducerFencedError(txn.transactionalId, b.producerId, b.producerEpoch, err)
      this.fail(b, fenced, 'unknown')
      this.ctx.fatal(fenced)
      return
    }
    if (code === ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED || code === ErrorCode.CLUSTER_AUTHORIZATION_FAILED) {
      this.fail(b, err, false)
      this.ctx.fatal(new ProducerFatalError(`the producer may not write: ${err.message}`, err))
      return
    }
    if (idem !== undefined) {
      if (code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER) {
        const verdict = idem.outOfOrder(seq, b)
        if (verdict === 'retry') {
          this.retry(b, err, now)
          return
        }
        if (txn === undefined) {
          idem.requestBump(seq)
          this.retry(b, err, now)
          return
        }
      } else if (code === ErrorCode.UNKNOWN_PRODUCER_ID || code === ErrorCode.INVALID_PRODUCER_EPOCH) {
        // The broker lost this producer's state (e.g. its records aged out): carry on under a new epoch (KIP-360).
        // Without a log start offset the broker was not sure (the partition was moving): just retry.
        if (txn === undefined) {
          if (code !== ErrorCode.UNKNOWN_PRODUCER_ID || p.logStartOffset >= 0n) idem.requestBump(seq)
          this.retry(b, err, now)
          return
        }
      }
    }
    if (err.refreshMetadata) {
      this.cluster.metadata.invalidate(b.topic)
      this.wantMetadata.add(b.topic)
    }
    if (err.retriable) {
      this.retry(b, err, now)
      return
    }
    // Several records over the topic's max.message.bytes together: split the batch and send the halves, as the Java
    // client does, so that only a record too large on its own fails.
    if (code === ErrorCode.MESSAGE_TOO_LARGE && b.recordCount > 1) {
      this.split(b, err)
      return
    }
    // Refused for good: the broker did not append the batch.
    const recordErrors = p.recordErrors ?? []
    if (recordErrors.length > 0) {
      const bad = new Map(recordErrors.map((r) => [r.batchIndex, r.batchIndexErrorMessage]))
      const list = [...bad.keys()].join(', ')
      this.fail(b, err, false, (i) =>
        KafkaError.fromCode(code, {
          api: 'Produce',
          broker: node,
          topic: b.topic,
          partition: b.partition,
          errorMessage: bad.has(i)
            ? (bad.get(i) ?? p.errorMessage ?? `record ${i} of the batch was refused`)
            : `not written: its batch was refused because of record(s) ${list}${p.errorMessage ? ` (${p.errorMessage})` : ''}`,
        }),
      )
      return
    }
    this.fail(b, err, false)
  }

  private split(b: ProducerBatch, err: KafkaError): void {
    const done = (records: QueuedRecord[]) => {
      if (b.done) return
      const parts = b.splitInTwo(records)
      this.ctx.idempotence?.replaced(b.queue.sequences, b, parts)
      this.stats.splits++
      for (const part of parts) this.accumulator.requeue(part)
      this.wake()
    }
    const failed = (e: unknown) => this.fail(b, new KafkaError(err.code, { ...err.context, cause: e }), false)
    try {
      const records = b.records_()
      if (records instanceof Promise) records.then(done, failed)
      else done(records)
    } catch (e) {
      failed(e)
    }
  }

  private succeed(b: ProducerBatch, baseOffset: number, logAppendTime: number): void {
    this.ctx.idempotence?.acked(b.queue.sequences, b)
    this.stats.recordsAcked += b.recordCount
    this.ctx.released(b)
    b.complete(baseOffset, logAppendTime)
  }

  /**
   * Fails a batch. `written`: whether the broker may have it (false: refused, so later sequences close the gap;
   * otherwise a new epoch will).
   */
  fail(b: ProducerBatch, err: Error, written: boolean | 'unknown', errorFor?: (i: number) => Error): void {
    if (b.done) return
    const idem = this.ctx.idempotence
    if (idem !== undefined && b.baseSequence >= 0) idem.failed(b.queue.sequences, b, written)
    this.ctx.transactions?.batchFailed(err, b.baseSequence >= 0)
    this.stats.recordsFailed += b.recordCount
    this.ctx.released(b)
    b.fail(err, errorFor)
  }

  private retry(b: ProducerBatch, err: unknown, now: number): void {
    if (now >= b.deadline) {
      this.expire(b, err)
      return
    }
    b.lastError = err
    b.retryAt = now + backoffMs(b.attempts - 1, this.ctx.options.retryBackoffMs, this.ctx.options.retryBackoffMaxMs)
    this.stats.retries++
    this.accumulator.requeue(b)
  }

  private expire(b: ProducerBatch, cause: unknown = b.lastError): void {
    const err = new DeliveryTimeoutError(
      {
        topic: b.topic,
        partition: b.partition,
        deliveryTimeoutMs: this.ctx.options.deliveryTimeoutMs,
        attempts: b.attempts,
      },
      cause,
    )
    this.fail(b, err, b.attempts > 0 ? 'unknown' : false)
  }

  private refreshMetadata(): void {
    if (this.refreshing || this.stopped) return
    this.refreshing = true
    const topics = [...this.wantMetadata]
    this.wantMetadata.clear()
    for (const t of topics) this.cluster.metadata.invalidate(t)
    this.stats.metadataRefreshes++
    this.cluster.metadata
      .refresh(topics)
      .catch((err) => countError(this.stats, err))
      .finally(() => {
        this.refreshing = false
        this.wake()
      })
  }

  /** InitProducerId for an idempotent, non-transactional producer: any broker answers, retried until it does. */
  private getProducerId(): void {
    if (this.gettingId) return
    this.gettingId = true
    const idem = this.ctx.idempotence!
    const o = this.ctx.options
    void (async () => {
      for (let attempt = 0; !this.stopped; attempt++) {
        try {
          const conn = await this.cluster.anyConnection('metadata')
          const res = await conn.request(
            InitProducerId,
            { transactionalId: null, transactionTimeoutMs: o.transactionTimeoutMs, producerId: -1n, producerEpoch: -1 },
            { timeoutMs: this.requestTimeoutMs },
          )
          if (res.errorCode === ErrorCode.NONE) {
            idem.setId(res.producerId, res.producerEpoch)
            this.stats.producerIds++
            break
          }
          const err = KafkaError.fromCode(res.errorCode, { api: 'InitProducerId', broker: conn.broker })
          countError(this.stats, err)
          if (!err.retriable) {
            this.ctx.fatal(new ProducerFatalError(`cannot get a producer id: ${err.message}`, err))
            break
          }
        } catch (err) {
          countError(this.stats, err)
          if (this.cluster.isClosed) break
        }
        await sleep(backoffMs(attempt, o.retryBackoffMs, o.retryBackoffMaxMs))
      }
      this.gettingId = false
      this.wake()
    })()
  }

  /** Every batch in a request (written or about to be). */
  inFlightBatches(): ProducerBatch[] {
    const out: ProducerBatch[] = []
    for (const s of this.sinks.values()) out.push(...s.batches())
    return out
  }

  stop(): void {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    if (this.immediate) clearImmediate(this.immediate)
    this.timer = undefined
    this.immediate = undefined
    this.timerAt = Number.POSITIVE_INFINITY
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}
