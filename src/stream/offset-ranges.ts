/**
 * Completed offsets of one partition, as the processor sees them: everything below `base` is done, and above it a
 * sorted list of disjoint, non-adjacent half-open ranges `[start, end)` of offsets done out of order.
 *
 * The number of ranges is bounded by the number of unfinished records below the highest done one (each gap holds at
 * least one), which the processor keeps small; inserts are a binary search plus a splice.
 */
export class OffsetRanges {
  private lowest: number
  /** Range starts and ends, parallel and sorted; every start is above `lowest` and above the previous end. */
  private readonly starts: number[] = []
  private readonly ends: number[] = []
  private changes = 0

  /**
   * @param base the lowest offset not done (for a partition read from a committed offset: that offset)
   * @param done ranges already done above it (e.g. decoded from commit metadata), in any order
   */
  constructor(base: number, done: Iterable<readonly [number, number]> = []) {
    if (!Number.isSafeInteger(base) || base < 0)
      throw new RangeError(`base must be a non-negative integer, got ${base}`)
    this.lowest = base
    for (const [from, to] of done) this.markDone(from, to)
  }

  /** The lowest offset not done: what a commit stores as the Kafka offset. */
  get base(): number {
    return this.lowest
  }

  /** How many ranges lie above the base. */
  get count(): number {
    return this.starts.length
  }

  /** Incremented by every change, so that derived values (an encoding) can be cached. */
  get version(): number {
    return this.changes
  }

  /** The end of the last done range, or the base when there is none: the span a bitset would have to cover. */
  get highest(): number {
    return this.ends.length > 0 ? this.ends[this.ends.length - 1]! : this.lowest
  }

  /** Marks one offset done. */
  done(offset: number): void {
    this.markDone(offset, offset + 1)
  }

  /** Marks `[from, to)` done; parts already done or below the base are ignored. */
  markDone(from: number, to: number): void {
    if (!(Number.isSafeInteger(from) && Number.isSafeInteger(to))) throw new RangeError(`bad range ${from}..${to}`)
    if (from < this.lowest) from = this.lowest
    if (to <= from) return
    this.changes++
    if (from === this.lowest) {
      this.lowest = to
      // Absorb every range the new base reaches.
      let n = 0
      while (n < this.starts.length && this.starts[n]! <= this.lowest) {
        if (this.ends[n]! > this.lowest) this.lowest = this.ends[n]!
        n++
      }
      if (n > 0) {
        this.starts.splice(0, n)
        this.ends.splice(0, n)
      }
      return
    }
    // The first range that ends at or after `from` (it may touch or overlap the new one).
    let i = this.firstEndingAtOrAfter(from)
    let j = i
    let start = from
    let end = to
    while (j < this.starts.length && this.starts[j]! <= end) {
      if (this.starts[j]! < start) start = this.starts[j]!
      if (this.ends[j]! > end) end = this.ends[j]!
      j++
    }
    if (i === j) {
      this.starts.splice(i, 0, start)
      this.ends.splice(i, 0, end)
      return
    }
    this.starts[i] = start
    this.ends[i] = end
    i++
    if (j > i) {
      this.starts.splice(i, j - i)
      this.ends.splice(i, j - i)
    }
  }

  /** True when this offset is done. */
  isDone(offset: number): boolean {
    return this.doneUntil(offset) > offset
  }

  /** When `offset` is done, the end of the done range holding it (the next offset not done); else `offset`. */
  doneUntil(offset: number): number {
    if (offset < this.lowest) return this.lowest
    const i = this.firstEndingAtOrAfter(offset + 1)
    if (i < this.starts.length && this.starts[i]! <= offset) return this.ends[i]!
    return offset
  }

  /**
   * A copy that forgets what is done at or above `offset` (for a reader that moved back there and will deliver those
   * offsets again, possibly as other records); what is done below it is kept.
   */
  truncatedAt(offset: number): OffsetRanges {
    const kept: Array<[number, number]> = []
    for (let i = 0; i < this.starts.length && this.starts[i]! < offset; i++)
      kept.push([this.starts[i]!, Math.min(this.ends[i]!, offset)])
    return new OffsetRanges(Math.min(this.lowest, offset), kept)
  }

  /** The done ranges above the base, as `[start, end)` pairs in ascending order. */
  ranges(): Array<[number, number]> {
    return this.starts.map((s, i) => [s, this.ends[i]!])
  }

  /** Index of the first range whose end is ≥ `offset` (ends are sorted). */
  private firstEndingAtOrAfter(offset: number): number {
    let lo = 0
    let hi = this.ends.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.ends[mid]! < offset) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
