import { EventEmitter } from 'node:events'
import { Cluster } from '../cluster/cluster.js'
import { AbortedError } from '../errors.js'
import { Accumulator } from './accumulator.js'
import { type DeliveryCallback, FlushGroup, SendGroup } from './delivery.js'
import { ProducerClosedError, TransactionAbortableError, TransactionStateError } from './errors.js'
import { Idempotence } from './idempotence.js'
import { Intake, type PendingRecord } from './intake.js'
import { BufferMemory } from './memory.js'
import { type ProducerOptions, type ResolvedProducerOptions, resolveProducerOptions } from './options.js'
import { type Message, type ProducerRecord, type QueuedRecord, type RecordMetadata, toQueuedRecord } from './record.js'
import { Sender } from './sender.js'
import { emptyStats, type ProducerStats } from './stats.js'
import { ProducerStream, type ProducerStreamOptions } from './stream.js'
import { Transaction, type TransactionContext, TransactionManager } from './transactions.js'

/** What `send` takes: one topic and its messages. */
export interface SendInput {
  topic: string
  messages: readonly Message[]
}

export interface SendOptions {
  /**
   * Stops waiting for buffer room or metadata: records not yet accepted fail with AbortedError. Records already
   * accepted are delivered regardless.
   */
  signal?: AbortSignal
}

/**
 * A Kafka producer: batches records per partition, compresses them, sends them to partition leaders with
 * idempotence on by default, and retries what can be retried without duplicating or reordering.
 *
 * ```ts
 * const producer = new Producer({ bootstrap: 'localhost:9092' })
 * const [meta] = await producer.send({ topic: 'orders', messages: [{ key: 'o-1', value: '{"total": 12}' }] })
 * producer.produce({ topic: 'clicks', value: 'x' }, (err, meta) => {})   // fire and forget, for throughput
 * await producer.close()
 * ```
 *
 * Events: `drain` after `produce` returned false (the buffer was full) and room came back; `fatal` (err) when the
 * producer can no longer work (fenced, or refused a producer id): every record not yet acknowledged fails with `err`.
 */
export class Producer extends EventEmitter {
  readonly cluster: Cluster
  readonly options: ResolvedProducerOptions
  private readonly ownsCluster: boolean
  private readonly accumulator: Accumulator
  private readonly memory: BufferMemory
  private readonly sender: Sender
  private readonly idempotence: Idempotence | undefined
  private readonly txn: TransactionManager | undefined
  private readonly counters: ProducerStats = emptyStats()
  private readonly intake: Intake
  private state: 'open' | 'closing' | 'closed' = 'open'
  private fatalError: Error | undefined
  private closing: Promise<void> | undefined
  private readonly metadataTimer: NodeJS.Timeout

  constructor(options: ProducerOptions) {
    super()
    this.options = resolveProducerOptions(options)
    if ('cluster' in options && options.cluster) {
      this.cluster = options.cluster
      this.ownsCluster = false
    } else {
      this.cluster = new Cluster(options as ConstructorParameters<typeof Cluster>[0])
      this.ownsCluster = true
    }
    const o = this.options
    this.accumulator = new Accumulator({
      lingerMs: o.lingerMs,
      batchBytes: o.batchBytes,
      deliveryTimeoutMs: o.deliveryTimeoutMs,
      transactional: o.transactionalId !== null,
      codecFor: (topic) => o.compression.topics.get(topic) ?? o.compression.default,
    })
    this.memory = new BufferMemory(o.bufferBytes, () => this.emit('drain'))
    this.idempotence = o.idempotent ? new Idempotence(o.transactionalId !== null) : undefined
    if (o.transactionalId !== null) {
      const self = this
      const ctx: TransactionContext = {
        cluster: this.cluster,
        options: o,
        idempotence: this.idempotence!,
        stats: this.counters,
        flush: () => this.flush(),
        abandonQueued: (errorFor) => this.abandonQueued(errorFor),
        wake: () => this.sender.wake(),
        fatal: (err) => this.fatal(err),
        get fatalError() {
          return self.fatalError
        },
      }
      this.txn = new TransactionManager(o.transactionalId, ctx)
    }
    this.sender = new Sender({
      cluster: this.cluster,
      options: o,
      accumulator: this.accumulator,
      idempotence: this.idempotence,
      transactions: this.txn,
      stats: this.counters,
      released: (b) => this.memory.release(b.charged),
      fatal: (err) => this.fatal(err),
    })
    this.intake = new Intake(o, this.cluster, this.accumulator, this.memory, this.sender, this.counters, () =>
      this.refusal(),
    )
    // Leaders move and partitions get added without any error telling us: look again every metadataMaxAgeMs.
    this.metadataTimer = setInterval(() => {
      const topics = this.accumulator.topicNames()
      if (topics.length > 0) this.cluster.metadata.refresh(topics).catch(() => {})
    }, this.cluster.options.metadataMaxAgeMs)
    this.metadataTimer.unref()
  }

  /**
   * Sends records to one topic and resolves with where each was written, in order. Waits (up to `maxBlockMs`, or
   * until `signal` aborts) when the buffer is full or the topic's metadata is not yet known. Rejects with the first
   * record's error if any record fails (the others are still delivered); use `produce` for per-record outcomes.
   */
  async send(input: SendInput, options: SendOptions = {}): Promise<RecordMetadata[]> {
    this.assertCanProduce()
    const { topic, messages } = input
    if (typeof topic !== 'string' || topic.length === 0) throw new TypeError('send needs a topic')
    if (!Array.isArray(messages)) throw new TypeError('send needs messages: an array')
    const n = messages.length
    if (n === 0) return []
    const signal = options.signal
    if (signal?.aborted) throw new AbortedError(`send to ${topic}`, signal.reason)
    const now = Date.now()
    const records = new Array<QueuedRecord>(n)
    for (let i = 0; i < n; i++) records[i] = toQueuedRecord(messages[i]!, now)
    const group = new SendGroup<PendingRecord>(n)
    try {
      for (let i = 0; i < n; i++) this.intake.accept(topic, messages[i]!, records[i]!, group, i, group)
    } catch (err) {
      // A custom partitioner threw: this call fails, and the records already accepted settle unheard.
      group.promise.catch(() => {})
      throw err
    }
    if (signal && group.pending) {
      const onAbort = () => {
        for (const p of group.pending ?? []) {
          if (p.settled) continue
          p.cancelled = true
          this.intake.failPending(p, new AbortedError(`send to ${topic}`, signal.reason))
        }
      }
      signal.addEventListener('abort', onAbort, { once: true })
      group.onDone = () => signal.removeEventListener('abort', onAbort)
    }
    return group.promise
  }

  /**
   * Hands one record over without waiting: `callback` (if any) is called once it is acknowledged or has failed.
   * Returns false when the buffer is full: the record is queued all the same, but wait for the `drain` event before
   * producing more. Throws (synchronously) when the producer cannot take records: closed, fenced, or a
   * transactional producer outside a transaction.
   */
  produce(record: ProducerRecord, callback?: DeliveryCallback): boolean {
    this.assertCanProduce()
    const topic = record.topic
    if (typeof topic !== 'string' || topic.length === 0) throw new TypeError('a record needs a topic')
    return this.intake.accept(topic, record, toQueuedRecord(record, Date.now()), callback, 0, undefined)
  }

  /** `produce` with the topic given apart (for streams). */
  _produceTo(topic: string, message: Message, callback?: DeliveryCallback): boolean {
    this.assertCanProduce()
    if (typeof topic !== 'string' || topic.length === 0) throw new TypeError('a record needs a topic')
    return this.intake.accept(topic, message, toQueuedRecord(message, Date.now()), callback, 0, undefined)
  }

  /** A Writable (object mode) of records (`{ topic?, key, value, ... }`) for pipelines; backpressure from the buffer. */
  stream(options: ProducerStreamOptions = {}): ProducerStream {
    return new ProducerStream(this, options)
  }

  /** Sends everything buffered now (ignoring `lingerMs`) and waits until all of it is acknowledged or failed. */
  async flush(): Promise<void> {
    const g = new FlushGroup()
    for (const q of this.accumulator.nonEmpty) for (const b of q.batches) g.add(b)
    for (const b of this.sender.inFlightBatches()) g.add(b)
    for (const p of this.intake.pending()) g.add(p)
    this.accumulator.flushing++
    this.sender.wake()
    g.done()
    try {
      await g.promise
    } finally {
      this.accumulator.flushing--
    }
  }

  /**
   * Starts a transaction (the first call also registers the transactional id, fencing older producers with it).
   * Everything sent until `commit()` or `abort()` belongs to it.
   */
  async transaction(): Promise<Transaction> {
    this.assertOpen()
    const txn = this.txn
    if (txn === undefined) throw new TransactionStateError('transactions need a producer with a transactionalId')
    await txn.begin()
    return new Transaction(this, txn, txn.generation)
  }

  /**
   * Sends what is buffered, waits up to `timeoutMs` (default `deliveryTimeoutMs`) for it to be acknowledged, fails
   * whatever is left with ProducerClosedError, and closes the connections (unless the cluster was shared). An open
   * transaction is aborted.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closing ??= this.shutdown(options.timeoutMs ?? this.options.deliveryTimeoutMs)
    return this.closing
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  /** Counters and current queue state. */
  stats(): ProducerStats {
    const s = this.counters
    let queued = 0
    for (const q of this.accumulator.nonEmpty) queued += q.batches.length
    return {
      ...s,
      errors: { ...s.errors },
      epochBumps: s.epochBumps + (this.idempotence?.bumps ?? 0),
      inFlightRequests: this.sender.requestsInFlight,
      queuedBatches: queued,
      bufferedBytes: this.memory.used,
      bufferWaiters: this.memory.waiting,
    }
  }

  /** The producer id and epoch in use (-1 before the first InitProducerId or when not idempotent). */
  get producerIdentity(): { producerId: bigint; producerEpoch: number } {
    return { producerId: this.idempotence?.producerId ?? -1n, producerEpoch: this.idempotence?.epoch ?? -1 }
  }

  // ---- intake -------------------------------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.fatalError) throw this.fatalError
    if (this.state !== 'open') throw new ProducerClosedError()
  }

  private assertCanProduce(): void {
    this.assertOpen()
    const txn = this.txn
    if (txn !== undefined && !txn.acceptsRecords) {
      const failed = txn.abortableError
      if (failed !== undefined && txn.state === 'in-transaction')
        throw new TransactionAbortableError(`the transaction failed (${failed.message}); abort it`, failed)
      throw new TransactionStateError(
        txn.state === 'committing' || txn.state === 'aborting'
          ? `cannot send while the transaction is ${txn.state}`
          : 'a transactional producer sends inside a transaction: call transaction() first',
      )
    }
  }

  /** Why records not yet in a batch can no longer get there, if they cannot. */
  private refusal(): Error | undefined {
    if (this.fatalError) return this.fatalError
    if (this.state === 'closed') return new ProducerClosedError('the producer closed before the record was sent')
    return undefined
  }

  /** Fails every record not yet sent: queued batches, and records waiting for room or metadata. */
  private abandonQueued(errorFor: (topic: string) => Error): void {
    for (const b of this.accumulator.drainAll())
      this.sender.fail(b, errorFor(b.topic), b.attempts > 0 ? 'unknown' : false)
    this.intake.abandon(errorFor)
  }

  /** Fails everything: the producer cannot go on (fenced, or refused a producer id). */
  private fatal(err: Error): void {
    if (this.fatalError) return
    this.fatalError = err
    this.abandonQueued(() => err)
    for (const b of this.sender.inFlightBatches()) this.sender.fail(b, err, 'unknown')
    this.emit('fatal', err)
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    this.state = 'closing'
    if (this.txn?.state === 'in-transaction' && !this.fatalError) {
      try {
        await withTimeout(this.txn.end(false), timeoutMs)
      } catch {}
    }
    try {
      await withTimeout(this.flush(), Math.max(0, deadline - Date.now()))
    } catch {}
    const err = new ProducerClosedError('the producer closed before the record was acknowledged')
    this.abandonQueued(() => err)
    for (const b of this.sender.inFlightBatches()) this.sender.fail(b, err, 'unknown')
    this.sender.stop()
    clearInterval(this.metadataTimer)
    this.state = 'closed'
    if (this.ownsCluster) await this.cluster.close()
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}
