import type { TopicInfo } from '../cluster/metadata.js'
import { ProducerBatch } from './batch.js'
import type { DeliveryTarget } from './delivery.js'
import { PartitionSequences } from './idempotence.js'
import type { CompressionOption } from './options.js'
import { type PartitionLoad, StickyPartition } from './partitioners.js'
import type { QueuedRecord } from './record.js'

/** One partition's queue of batches, oldest first, and its send state. */
export class PartitionQueue {
  readonly batches: ProducerBatch[] = []
  /** The newest batch while it still takes records. */
  open: ProducerBatch | undefined
  /** Batches of this partition in requests awaiting a response. */
  onWire = 0
  readonly sequences = new PartitionSequences()
  /** The broker the last batch went to (to count leader changes). */
  lastLeader = -1
  /** Transactions v1: AddPartitionsToTxn has added the partition to the current transaction. */
  inTransaction = false

  constructor(
    readonly topicState: TopicQueues,
    readonly partition: number,
  ) {}

  get topic(): string {
    return this.topicState.name
  }
}

/** A topic's partition queues, its sticky partition, and its codec. */
export class TopicQueues implements PartitionLoad {
  readonly queues: PartitionQueue[] = []
  readonly sticky: StickyPartition
  /** The topic's metadata as last seen by the producer (partition count, leaders). */
  info: TopicInfo | undefined

  constructor(
    readonly name: string,
    readonly codec: CompressionOption,
    batchBytes: number,
  ) {
    this.sticky = new StickyPartition(batchBytes)
  }

  queue(partition: number): PartitionQueue {
    return (this.queues[partition] ??= new PartitionQueue(this, partition))
  }

  get count(): number {
    return this.info?.partitions.length ?? 0
  }

  available(partition: number): boolean {
    return (this.info?.partitions[partition]?.leader ?? -1) >= 0
  }

  queued(partition: number): number {
    return this.queues[partition]?.batches.length ?? 0
  }
}

export interface AccumulatorSettings {
  lingerMs: number
  batchBytes: number
  deliveryTimeoutMs: number
  transactional: boolean
  codecFor(topic: string): CompressionOption
}

/** `append` outcome bits. */
export const Appended = {
  /** The record opened a new batch (its linger starts now). */
  NEW_BATCH: 1,
  /** The batch it went into is now full: send it. */
  FULL: 2,
} as const

/**
 * Records waiting to be sent, in one batch queue per partition: `append` adds to the open batch of a partition (or
 * opens one), cutting at `batchBytes`; a queue's head batch is ready once full, once it has waited `lingerMs`, while
 * a flush is under way, or, for a retry, once its backoff has passed. Retries go back to the queue in order.
 */
export class Accumulator {
  private readonly topics = new Map<string, TopicQueues>()
  /** Partitions with batches queued. */
  readonly nonEmpty = new Set<PartitionQueue>()
  /** Flushes under way: every batch counts as ready while any is. */
  flushing = 0
  private order = 0

  constructor(private readonly s: AccumulatorSettings) {}

  topic(name: string): TopicQueues {
    let t = this.topics.get(name)
    if (!t) {
      t = new TopicQueues(name, this.s.codecFor(name), this.s.batchBytes)
      this.topics.set(name, t)
    }
    return t
  }

  /** Topics produced to so far. */
  topicNames(): string[] {
    return [...this.topics.keys()]
  }

  /** Every partition queue created so far. */
  *queues(): IterableIterator<PartitionQueue> {
    for (const t of this.topics.values()) for (const q of t.queues) if (q) yield q
  }

  /** Appends a record; returns {@link Appended} bits. */
  append(
    t: TopicQueues,
    partition: number,
    r: QueuedRecord,
    target: DeliveryTarget,
    index: number,
    charge: number,
    now: number,
  ): number {
    const q = t.queues[partition] ?? t.queue(partition)
    const max = this.s.batchBytes
    let b = q.open
    let flags = 0
    if (b === undefined || b.tryAppend(r, target, index, charge, max) === 0) {
      if (b !== undefined) {
        b.closed = true
        flags |= Appended.FULL
      }
      b = new ProducerBatch(q, t.codec, this.s.transactional, now, this.s.deliveryTimeoutMs)
      b.order = this.order++
      b.tryAppend(r, target, index, charge, max)
      q.batches.push(b)
      q.open = b
      this.nonEmpty.add(q)
      flags |= Appended.NEW_BATCH
    }
    if (b.sizeBytes >= max) {
      b.closed = true
      q.open = undefined
      flags |= Appended.FULL
    }
    return flags
  }

  /** Is the head batch of `q` ready to send at `now`? */
  isReady(q: PartitionQueue, now: number): boolean {
    const head = q.batches[0]
    if (head === undefined) return false
    if (head.attempts > 0) return now >= head.retryAt
    return head.closed || this.flushing > 0 || now - head.createdAt >= this.s.lingerMs
  }

  /** When the head batch of `q` becomes ready (0: now). */
  readyAt(q: PartitionQueue): number {
    const head = q.batches[0]
    if (head === undefined) return Number.POSITIVE_INFINITY
    if (head.attempts > 0) return head.retryAt
    return head.closed || this.flushing > 0 ? 0 : head.createdAt + this.s.lingerMs
  }

  /** Takes the head batch of `q` for sending. */
  take(q: PartitionQueue): ProducerBatch {
    const b = q.batches.shift()!
    if (q.open === b) q.open = undefined
    b.closed = true
    if (q.batches.length === 0) this.nonEmpty.delete(q)
    return b
  }

  /** Puts a batch back for a retry, in creation (hence sequence) order. */
  requeue(b: ProducerBatch): void {
    const q = b.queue
    let i = 0
    while (i < q.batches.length && q.batches[i]!.order < b.order) i++
    q.batches.splice(i, 0, b)
    this.nonEmpty.add(q)
  }

  /** Removes and returns the queued batches whose delivery deadline has passed. */
  expired(now: number): ProducerBatch[] {
    let out: ProducerBatch[] | undefined
    for (const q of this.nonEmpty) {
      while (q.batches.length > 0 && q.batches[0]!.deadline <= now) (out ??= []).push(this.take(q))
    }
    return out ?? []
  }

  /** Removes and returns every queued batch (abort, close, fatal error). */
  drainAll(): ProducerBatch[] {
    const out: ProducerBatch[] = []
    for (const q of [...this.nonEmpty]) while (q.batches.length > 0) out.push(this.take(q))
    return out
  }

  /** The earliest delivery deadline among queued batches. */
  nextDeadline(): number {
    let at = Number.POSITIVE_INFINITY
    for (const q of this.nonEmpty) {
      const d = q.batches[0]!.deadline
      if (d < at) at = d
    }
    return at
  }
}
