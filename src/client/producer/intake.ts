import { setTimeout as sleep } from 'node:timers/promises'
import { ErrorCode } from '../../protocol/error-codes.js'
import { KafkaError } from '../../protocol/kafka-error.js'
import { backoffMs } from '../cluster/backoff.js'
import type { Cluster } from '../cluster/cluster.js'
import type { TopicInfo } from '../cluster/metadata.js'
import { type Accumulator, Appended } from './accumulator.js'
import { type DeliveryTarget, deliver, type FlushWaiter, SendGroup } from './delivery.js'
import { BufferFullError, MetadataTimeoutError, RecordTooLargeToSendError } from './errors.js'
import type { BufferMemory, MemoryWaiter } from './memory.js'
import type { ResolvedProducerOptions } from './options.js'
import { partitionForKey } from './partitioners.js'
import { bufferCharge, type Message, type QueuedRecord } from './record.js'
import type { Sender } from './sender.js'
import type { ProducerStats } from './stats.js'

/** A record not yet in a batch: waiting for buffer room, or for its topic's metadata. */
export class PendingRecord implements MemoryWaiter {
  cancelled = false
  reserved = false
  settled = false
  flushWaiters: FlushWaiter[] | undefined

  constructor(
    private readonly intake: Intake,
    readonly topic: string,
    readonly message: Message,
    readonly record: QueuedRecord,
    readonly target: DeliveryTarget,
    readonly index: number,
    readonly bytes: number,
    readonly deadline: number,
  ) {}

  granted(): void {
    this.reserved = true
    try {
      this.intake.route(this.topic, this.message, this.record, this.target, this.index, this.bytes, this)
    } catch (err) {
      this.intake.failPending(this, err instanceof Error ? err : new Error(String(err)))
    }
  }

  expired(): void {
    this.intake.failPending(
      this,
      this.intake.refusal() ??
        new BufferFullError(this.topic, this.bytes, this.intake.options.bufferBytes, this.intake.options.maxBlockMs),
    )
  }
}

interface TopicWait {
  entries: PendingRecord[]
  /** Refresh before placing (a record named a partition the cached metadata does not have). */
  refresh: boolean
}

/**
 * The way into the accumulator: reserves buffer room for each record (queueing it, first come first served, while
 * the buffer is full), waits for its topic's metadata when the producer has none, picks its partition, and appends
 * it to that partition's open batch, waking the sender when a batch is full or starts to linger.
 */
export class Intake {
  private readonly topicWaits = new Map<string, TopicWait>()

  constructor(
    readonly options: ResolvedProducerOptions,
    private readonly cluster: Cluster,
    private readonly accumulator: Accumulator,
    private readonly memory: BufferMemory,
    private readonly sender: Sender,
    private readonly stats: ProducerStats,
    /** Why records not yet in a batch can no longer get there (fenced, closed), if they cannot. */
    readonly refusal: () => Error | undefined,
  ) {}

  /** Records not yet in a batch: waiting for room or for metadata (for `flush`). */
  *pending(): IterableIterator<PendingRecord> {
    for (const w of this.memory.waiters()) yield w as PendingRecord
    for (const w of this.topicWaits.values()) for (const p of w.entries) if (!p.settled) yield p
  }

  /** Reserves buffer room for a record (or queues it for room) and passes it on. True when it went through at once. */
  accept(
    topic: string,
    message: Message,
    record: QueuedRecord,
    target: DeliveryTarget,
    index: number,
    group: SendGroup<PendingRecord> | undefined,
  ): boolean {
    const charge = bufferCharge(record)
    this.stats.recordsSent++
    const o = this.options
    const tooLarge =
      charge > o.maxRequestBytes
        ? new RecordTooLargeToSendError(topic, charge, 'maxRequestBytes', o.maxRequestBytes)
        : charge > o.bufferBytes
          ? new RecordTooLargeToSendError(topic, charge, 'bufferBytes', o.bufferBytes)
          : undefined
    if (tooLarge) {
      this.stats.recordsFailed++
      process.nextTick(deliver, target, index, tooLarge, undefined)
      return true
    }
    if (this.memory.tryReserve(charge)) {
      try {
        this.route(topic, message, record, target, index, charge, undefined)
      } catch (err) {
        // A custom partitioner threw: the record goes nowhere.
        this.memory.release(charge)
        this.stats.recordsFailed++
        throw err
      }
      return true
    }
    const p = new PendingRecord(this, topic, message, record, target, index, charge, Date.now() + o.maxBlockMs)
    if (group) (group.pending ??= []).push(p)
    this.memory.wait(p)
    return false
  }

  /** Picks the record's partition (waiting for the topic's metadata if needed) and appends it to its batch. */
  route(
    topic: string,
    message: Message,
    record: QueuedRecord,
    target: DeliveryTarget,
    index: number,
    charge: number,
    pending: PendingRecord | undefined,
  ): void {
    const wait = this.topicWaits.get(topic)
    const info = wait === undefined ? this.cluster.metadata.cached(topic) : undefined
    const partition = info === undefined ? -1 : this.partitionFor(topic, info, message, record)
    if (partition < 0) {
      const p =
        pending ??
        new PendingRecord(this, topic, message, record, target, index, charge, Date.now() + this.options.maxBlockMs)
      p.reserved = true
      if (target instanceof SendGroup && pending === undefined)
        ((target as SendGroup<PendingRecord>).pending ??= []).push(p)
      this.awaitTopic(topic, p, info !== undefined)
      return
    }
    const t = this.accumulator.topic(topic)
    t.info = info
    const now = Date.now()
    const flags = this.accumulator.append(t, partition, record, target, index, charge, now)
    if (this.usedSticky(message, record)) t.sticky.appended(charge, (flags & Appended.NEW_BATCH) !== 0, t)
    if (pending !== undefined) {
      pending.settled = true
      const waiters = pending.flushWaiters
      if (waiters !== undefined) {
        const q = t.queues[partition]!
        const batch = q.batches[q.batches.length - 1]!
        for (const w of waiters) {
          w.add(batch)
          w.done()
        }
      }
    }
    if ((flags & Appended.FULL) !== 0 || this.options.lingerMs === 0 || this.accumulator.flushing > 0)
      this.sender.wake()
    else if ((flags & Appended.NEW_BATCH) !== 0) this.sender.wakeAt(now + this.options.lingerMs)
  }

  private usedSticky(message: Message, record: QueuedRecord): boolean {
    const p = this.options.partitioner
    return message.partition === undefined && (p === 'sticky' || (p === 'default' && record.key === null))
  }

  /** The partition for a record, or -1 when the metadata does not (yet) have the one it names. */
  private partitionFor(topic: string, info: TopicInfo, message: Message, record: QueuedRecord): number {
    const count = info.partitions.length
    if (count === 0) return -1
    const explicit = message.partition
    if (explicit !== undefined) return Number.isInteger(explicit) && explicit >= 0 && explicit < count ? explicit : -1
    const p = this.options.partitioner
    if (typeof p === 'function') {
      const chosen = p(message, count, topic)
      if (!Number.isInteger(chosen) || chosen < 0 || chosen >= count)
        throw new RangeError(`the partitioner chose partition ${chosen} of ${topic}, which has ${count}`)
      return chosen
    }
    if (record.key !== null && p !== 'sticky') return partitionForKey(record.key, count)
    if (p === 'murmur2') return Math.floor(Math.random() * count)
    const t = this.accumulator.topic(topic)
    t.info = info
    return t.sticky.current(t)
  }

  private awaitTopic(topic: string, p: PendingRecord, refresh: boolean): void {
    const w = this.topicWaits.get(topic)
    if (w !== undefined) {
      w.entries.push(p)
      w.refresh ||= refresh
      return
    }
    const wait: TopicWait = { entries: [p], refresh }
    this.topicWaits.set(topic, wait)
    void this.fetchTopic(topic, wait)
  }

  /** Fetches a topic's metadata for the records waiting on it, until it comes or their `maxBlockMs` runs out. */
  private async fetchTopic(topic: string, w: TopicWait): Promise<void> {
    const o = this.options
    let last: unknown
    for (let attempt = 0; ; attempt++) {
      let info: TopicInfo | undefined
      try {
        if (w.refresh) {
          await this.cluster.metadata.refresh([topic])
          info = this.cluster.metadata.cached(topic)
          if (info === undefined) throw KafkaError.fromCode(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic })
        } else info = await this.cluster.metadata.topic(topic)
      } catch (err) {
        last = err
      }
      const refusal = this.refusal()
      if (refusal) {
        this.topicWaits.delete(topic)
        for (const p of w.entries) this.failPending(p, refusal)
        return
      }
      if (info !== undefined) {
        this.topicWaits.delete(topic)
        const count = info.partitions.length
        for (const p of w.entries) {
          if (p.settled) continue
          const explicit = p.message.partition
          if (explicit !== undefined && !(Number.isInteger(explicit) && explicit >= 0 && explicit < count)) {
            if (!w.refresh) {
              this.awaitTopic(topic, p, true)
              continue
            }
            this.failPending(
              p,
              KafkaError.fromCode(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, {
                topic,
                partition: explicit,
                errorMessage: `${topic} has ${count} partitions`,
              }),
            )
            continue
          }
          try {
            this.route(topic, p.message, p.record, p.target, p.index, p.bytes, p)
          } catch (err) {
            this.failPending(p, err instanceof Error ? err : new Error(String(err)))
          }
        }
        return
      }
      const now = Date.now()
      w.entries = w.entries.filter((p) => {
        if (p.settled) return false
        if (p.deadline > now) return true
        this.failPending(p, new MetadataTimeoutError(topic, p.message.partition, o.maxBlockMs, last))
        return false
      })
      if (w.entries.length === 0) {
        this.topicWaits.delete(topic)
        return
      }
      const wait = Math.min(backoffMs(attempt, o.retryBackoffMs, o.retryBackoffMaxMs), w.entries[0]!.deadline - now)
      await sleep(Math.max(1, wait))
    }
  }

  /** Fails a record that never reached a batch. */
  failPending(p: PendingRecord, err: Error): void {
    if (p.settled) return
    p.settled = true
    p.cancelled = true
    if (p.reserved) this.memory.release(p.bytes)
    this.stats.recordsFailed++
    deliver(p.target, p.index, err, undefined)
    const waiters = p.flushWaiters
    if (waiters !== undefined) for (const w of waiters) w.done()
  }

  /** Fails every record waiting for room or metadata. */
  abandon(errorFor: (topic: string) => Error): void {
    for (const p of [...this.pending()]) this.failPending(p, errorFor(p.topic))
  }
}
