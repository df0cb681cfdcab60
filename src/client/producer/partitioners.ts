/**
 * Kafka's murmur2, bit for bit as the Java client's `Utils.murmur2`: the 32-bit MurmurHash2 of Austin Appleby with
 * Kafka's seed 0x9747b28c, returning a signed 32-bit integer. Keyed records must land where the Java client puts them,
 * so this is the one function here that may never change.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length
  const m = 0x5bd1e995
  let h = (0x9747b28c ^ length) | 0
  const length4 = length >>> 2
  for (let i = 0; i < length4; i++) {
    const i4 = i << 2
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24)
    k = Math.imul(k, m)
    k ^= k >>> 24
    k = Math.imul(k, m)
    h = Math.imul(h, m) ^ k
  }
  // The tail, as Java's fall-through switch: up to three bytes, then one multiply.
  const rest = length & 3
  if (rest > 0) {
    const tail = length & ~3
    if (rest === 3) h ^= data[tail + 2]! << 16
    if (rest >= 2) h ^= data[tail + 1]! << 8
    h ^= data[tail]!
    h = Math.imul(h, m)
  }
  h ^= h >>> 13
  h = Math.imul(h, m)
  h ^= h >>> 15
  return h | 0
}

/** Java's `Utils.toPositive`: clears the sign bit (not `Math.abs`, which would map -2^31 to itself). */
export function toPositive(n: number): number {
  return n & 0x7fffffff
}

/** The partition the Java client's default partitioner gives a key: `toPositive(murmur2(key)) % partitionCount`. */
export function partitionForKey(key: Uint8Array, partitionCount: number): number {
  return toPositive(murmur2(key)) % partitionCount
}

/** What the sticky partitioner needs to know about a topic's partitions when it moves on. */
export interface PartitionLoad {
  readonly count: number
  /** The partition has a leader (records sent there now can go out). */
  available(partition: number): boolean
  /** Batches waiting to be sent to the partition: the adaptive choice favours short queues. */
  queued(partition: number): number
}

/**
 * The sticky partition of one topic for records without a key (KIP-480, and KIP-794's uniform sticky partitioner):
 * records stick to one partition, so they fill batches, until about `batchBytes` bytes have gone to it; then a new
 * partition is picked at random among those with a leader, weighted towards partitions with fewer batches queued
 * (the Java client's adaptive partitioning). Switching waits for a batch boundary unless twice `batchBytes` went
 * by, so batches are not cut short by the switch.
 */
export class StickyPartition {
  private partition = -1
  private produced = 0

  constructor(
    private readonly batchBytes: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The partition for the next record without a key. */
  current(load: PartitionLoad): number {
    if (this.partition < 0 || this.partition >= load.count) this.partition = this.next(load)
    return this.partition
  }

  /** Records that `bytes` were appended to the sticky partition; `newBatch` when that opened a new batch. */
  appended(bytes: number, newBatch: boolean, load: PartitionLoad): void {
    this.produced += bytes
    if (this.produced >= 2 * this.batchBytes || (this.produced >= this.batchBytes && newBatch)) {
      this.produced = 0
      this.partition = this.next(load)
    }
  }

  private next(load: PartitionLoad): number {
    const n = load.count
    if (n <= 1) return 0
    // Weights: (longest queue + 1 - this queue) over partitions with a leader, as Java's cumulative frequency table.
    let maxQueue = 0
    let available = 0
    for (let p = 0; p < n; p++) {
      if (!load.available(p)) continue
      available++
      const q = load.queued(p)
      if (q > maxQueue) maxQueue = q
    }
    if (available === 0) return Math.floor(this.random() * n)
    let total = 0
    for (let p = 0; p < n; p++) if (load.available(p)) total += maxQueue + 1 - load.queued(p)
    let pick = this.random() * total
    for (let p = 0; p < n; p++) {
      if (!load.available(p)) continue
      pick -= maxQueue + 1 - load.queued(p)
      if (pick < 0) return p
    }
    for (let p = n - 1; p >= 0; p--) if (load.available(p)) return p
    return 0
  }
}
