/**
 * Java's iteration orders, for assignors whose result depends on them. Kafka's sticky assignor walks `HashMap`s and
 * `HashSet`s (member ids, topic-partitions) and takes the first entry it meets, so a leader that iterated in any
 * other order would hand out a different — equally valid, but different — assignment than a Java leader given the
 * same subscriptions. Mixed groups agree only if both compute the same thing, so the order is reproduced here.
 */

/** `java.lang.String.hashCode()`: s[0]·31^(n-1) + … + s[n-1] over UTF-16 code units, in int32 arithmetic. */
export function javaStringHash(s: string): number {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0
  return h
}

/** `org.apache.kafka.common.TopicPartition.hashCode()`: 31·(31 + partition) + topic.hashCode(). */
export function javaTopicPartitionHash(topic: string, partition: number): number {
  return (Math.imul(31, (31 + partition) | 0) + javaStringHash(topic)) | 0
}

const TREEIFY_THRESHOLD = 8
const MIN_TREEIFY_CAPACITY = 64

/**
 * The iteration order of a `java.util.HashMap` (or `HashSet`, which is one) as keys are put and removed: buckets in
 * index order (`(h ^ h>>>16) & (capacity-1)`), each bucket in insertion order (a resize splits a bucket in two and
 * keeps the relative order). The capacity starts at 16, doubles when the size passes 0.75 of it, and also doubles
 * when a bucket reaches 9 entries while the table is under 64 (HashMap.treeifyBin). A bucket that would be turned
 * into a tree instead (9 colliding keys in a table of 64 or more) is not modelled; with real member ids and
 * partitions that does not happen.
 */
export class JavaHashOrder<K> {
  private capacity: number
  private entries: Array<{ key: K; hash: number }> = []
  private readonly index = new Map<K, number>()

  constructor(
    private readonly hashOf: (key: K) => number,
    initialCapacity = 16,
  ) {
    this.capacity = initialCapacity
  }

  get size(): number {
    return this.index.size
  }

  has(key: K): boolean {
    return this.index.has(key)
  }

  add(key: K): void {
    if (this.index.has(key)) return
    const h = this.hashOf(key)
    const hash = h ^ (h >>> 16)
    const bucket = hash & (this.capacity - 1)
    let inBucket = 0
    for (const e of this.entries) if ((e.hash & (this.capacity - 1)) === bucket) inBucket++
    this.index.set(key, this.entries.length)
    this.entries.push({ key, hash })
    if (inBucket + 1 > TREEIFY_THRESHOLD && this.capacity < MIN_TREEIFY_CAPACITY) this.capacity *= 2
    if (this.index.size > this.capacity * 0.75) this.capacity *= 2
  }

  delete(key: K): void {
    if (!this.index.has(key)) return
    this.entries = this.entries.filter((e) => e.key !== key)
    this.index.clear()
    for (const [i, e] of this.entries.entries()) this.index.set(e.key, i)
  }

  /** The keys in the order Java would iterate them. */
  keys(): K[] {
    const mask = this.capacity - 1
    return this.entries
      .map((e, i) => ({ key: e.key, bucket: e.hash & mask, i }))
      .sort((a, b) => a.bucket - b.bucket || a.i - b.i)
      .map((e) => e.key)
  }

  first(): K | undefined {
    return this.keys()[0]
  }
}

/** The order a HashMap<String, …> built by putting `keys` in turn (default capacity) iterates them. */
export function javaHashMapOrder(keys: readonly string[]): string[] {
  const order = new JavaHashOrder<string>(javaStringHash)
  for (const k of keys) order.add(k)
  return order.keys()
}

/** `String.compareTo`: UTF-16 code unit order, which is also JavaScript's `<` on strings. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
