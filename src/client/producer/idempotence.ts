import type { ProducerBatch } from './batch.js'

const MAX_SEQUENCE = 0x7fffffff
const MAX_EPOCH = 0x7fff

/**
 * `sequence + n`, wrapping past 2^31 - 1 to 0 as Kafka's `DefaultRecordBatch.incrementSequence` (and back, for a
 * negative `n`).
 */
export function incrementSequence(sequence: number, n: number): number {
  if (n < 0) return sequence + n >= 0 ? sequence + n : sequence + n + MAX_SEQUENCE + 1
  return sequence > MAX_SEQUENCE - n ? n - (MAX_SEQUENCE - sequence) - 1 : sequence + n
}

/**
 * One partition's sequence numbers (KIP-98): the producer id and epoch they belong to, the next to hand out, the
 * last the broker acknowledged, and the batches holding sequences not yet settled, in sequence order. A batch gets
 * its sequence when first drained and keeps it through retries, so the broker can drop a retry it already has.
 */
export class PartitionSequences {
  producerId = -1n
  epoch = -1
  next = 0
  lastAcked = -1
  readonly unacked: ProducerBatch[] = []
  /** An error left a gap in the sequence (or the broker lost the producer): only a new epoch resolves it. */
  needsBump = false
}

/** What to do with a batch a broker refused with a sequence error. */
export type SequenceVerdict = 'retry' | 'bump-and-retry'

/**
 * The idempotent producer's identity and sequence rules. The producer id comes from InitProducerId (lazily, before
 * the first send); the epoch is bumped locally when a partition's sequence can no longer continue (KIP-360, as the
 * Java client does for non-transactional producers: the broker accepts a higher epoch starting at sequence 0).
 *
 * Ordering rules, as Kafka requires of an idempotent producer:
 * - at most 5 batches of a partition in flight (the broker remembers the last 5 per producer for deduplication);
 * - a batch being retried is re-sent only once every batch before it has settled, so a retry can never overtake
 *   an earlier batch; newer batches of the partition queue behind it;
 * - a partition moves to a new epoch only once none of its batches of the old epoch is unsettled, except the
 *   partition whose gap caused the bump, whose unsettled batches are renumbered from 0 under the new epoch.
 */
export class Idempotence {
  producerId = -1n
  epoch = -1
  /** Local epoch bumps done (KIP-360). */
  bumps = 0
  /** Set when the epoch is exhausted: a new producer id is needed before anything else is sent. */
  needsNewId = false

  constructor(
    /** Transactional producers never bump locally: the coordinator owns their epoch. */
    readonly transactional: boolean,
  ) {}

  get hasId(): boolean {
    return this.producerId >= 0n && !this.needsNewId
  }

  /** Adopts an id and epoch (InitProducerId, or EndTxn v5's bump). Partitions follow once they are settled. */
  setId(producerId: bigint, epoch: number): void {
    this.producerId = producerId
    this.epoch = epoch
    this.needsNewId = false
  }

  /**
   * May `batch`, the head of its partition's queue, be sent now? Assigns the sequence on its first send.
   * `onWire` is the partition's batches awaiting a response.
   */
  prepare(seq: PartitionSequences, batch: ProducerBatch, onWire: number, maxOnWire: number): boolean {
    if (onWire >= maxOnWire || !this.hasId) return false
    if (seq.needsBump) {
      if (onWire > 0 || !this.bumpFor(seq)) return false
    }
    if (batch.baseSequence >= 0) return seq.unacked[0] === batch
    if (seq.producerId !== this.producerId || seq.epoch !== this.epoch) {
      if (seq.unacked.length > 0) return false
      seq.producerId = this.producerId
      seq.epoch = this.epoch
      seq.next = 0
      seq.lastAcked = -1
    }
    batch.setProducerState(this.producerId, this.epoch, seq.next)
    seq.next = incrementSequence(seq.next, batch.recordCount)
    seq.unacked.push(batch)
    return true
  }

  /** The broker has the batch (or already had it: a duplicate). */
  acked(seq: PartitionSequences, batch: ProducerBatch): void {
    if (!remove(seq.unacked, batch)) return
    if (batch.producerId !== seq.producerId || batch.producerEpoch !== seq.epoch) return
    if (batch.sentSequence !== batch.baseSequence) {
      // Acknowledged under a sequence since rewritten: the numbering of the batches after it is off.
      if (!this.transactional) seq.needsBump = true
      return
    }
    seq.lastAcked = incrementSequence(batch.baseSequence, batch.recordCount - 1)
  }

  /**
   * The batch failed for good. `written` says whether the broker may have it: `false` for a refusal (the batch
   * was never appended, so the batches after it move down to close the gap), `true` or `'unknown'` otherwise (a
   * gap, or a duplicate sequence, only a new epoch can settle).
   */
  failed(seq: PartitionSequences, batch: ProducerBatch, written: boolean | 'unknown'): void {
    const at = seq.unacked.indexOf(batch)
    if (at < 0) return
    seq.unacked.splice(at, 1)
    if (batch.producerId !== seq.producerId || batch.producerEpoch !== seq.epoch) return
    if (written !== false) {
      if (!this.transactional) seq.needsBump = true
      return
    }
    // As the Java client's adjustSequencesDueToFailedBatch: later batches take over the refused batch's numbers.
    const n = batch.recordCount
    for (let i = at; i < seq.unacked.length; i++) {
      const b = seq.unacked[i]!
      b.setProducerState(b.producerId, b.producerEpoch, incrementSequence(b.baseSequence, -n))
    }
    seq.next = incrementSequence(seq.next, -n)
  }

  /** A batch was split in `parts` that take over its sequence numbers (and its place among the unsettled). */
  replaced(seq: PartitionSequences, batch: ProducerBatch, parts: readonly ProducerBatch[]): void {
    const at = seq.unacked.indexOf(batch)
    if (at >= 0) seq.unacked.splice(at, 1, ...parts)
  }

  /**
   * OUT_OF_ORDER_SEQUENCE_NUMBER: a retry when an earlier batch is unsettled or the attempt carried a sequence since
   * rewritten (the broker is waiting for another batch first); otherwise the broker has lost track of this producer
   * and only a new epoch helps.
   */
  outOfOrder(seq: PartitionSequences, batch: ProducerBatch): SequenceVerdict {
    if (batch.sentSequence !== batch.baseSequence) return 'retry'
    if (seq.unacked[0] !== batch) return 'retry'
    return 'bump-and-retry'
  }

  /** Flags a partition for a new epoch (idempotent producers only). */
  requestBump(seq: PartitionSequences): void {
    if (!this.transactional) seq.needsBump = true
  }

  /**
   * Bumps the epoch (unless this partition's numbering is already older than the current epoch) and renumbers the
   * partition's unsettled batches from 0. False when a new producer id is needed first.
   */
  private bumpFor(seq: PartitionSequences): boolean {
    if (seq.producerId === this.producerId && seq.epoch === this.epoch) {
      if (this.epoch >= MAX_EPOCH) {
        this.needsNewId = true
        return false
      }
      this.epoch++
      this.bumps++
    }
    seq.producerId = this.producerId
    seq.epoch = this.epoch
    seq.lastAcked = -1
    let next = 0
    for (const b of seq.unacked) {
      b.setProducerState(this.producerId, this.epoch, next)
      next = incrementSequence(next, b.recordCount)
    }
    seq.next = next
    seq.needsBump = false
    return true
  }
}

function remove<T>(list: T[], item: T): boolean {
  const i = list.indexOf(item)
  if (i < 0) return false
  list.splice(i, 1)
  return true
}
