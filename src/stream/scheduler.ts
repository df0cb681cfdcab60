/**
 * Which work a {@link StreamProcessor} starts next when a handler slot frees up.
 *
 * Work comes in two priorities: `realtime` (the live data of a stream) and `batch` (a batch lane, a backfill cursor
 * catching up). Realtime goes first; batch gets the capacity realtime leaves spare, weighted so that a steady trickle
 * of realtime records does not starve it either, and never the last `reserve` slots — a realtime record arriving
 * while a backfill fills every slot starts without waiting for one to free up.
 */
export type Priority = 'realtime' | 'batch'

/** How a processor shares its handler slots between realtime and batch work. */
export interface PriorityOptions {
  /**
   * Relative share of starts when both priorities have records waiting. Default `{ realtime: 4, batch: 1 }`:
   * batch gets one start in five while realtime is busy, and every free slot (but the reserve) when it is not.
   * `batch: 0` runs batch work only when no realtime record is waiting.
   */
  weights?: { realtime: number; batch: number }
  /** Handler slots batch work never takes, kept for realtime records. Default ⌈concurrency / 8⌉ (0 for 1). */
  realtimeReserve?: number
  /**
   * Share of the processor's `maxBuffered` that batch work may hold (queued or running) before its partitions stop
   * fetching, so a backlog can never fill the buffer realtime records are taken into. Default 0.5.
   */
  batchBufferShare?: number
}

export interface ResolvedPriority {
  realtimeWeight: number
  batchWeight: number
  /** Most batch records running at once. */
  batchSlots: number
  /** Most batch records held at once. */
  batchBuffer: number
}

export function resolvePriority(
  options: PriorityOptions | undefined,
  concurrency: number,
  maxBuffered: number,
  invalid: (message: string) => Error,
): ResolvedPriority {
  const w = options?.weights ?? { realtime: 4, batch: 1 }
  if (!Number.isSafeInteger(w.realtime) || w.realtime < 1 || !Number.isSafeInteger(w.batch) || w.batch < 0)
    throw invalid(`priority weights must be integers, realtime ≥ 1 and batch ≥ 0, got ${JSON.stringify(w)}`)
  // A processor of one slot keeps none back: batch work must be able to run at all.
  const reserve = options?.realtimeReserve ?? Math.min(Math.ceil(concurrency / 8), concurrency - 1)
  if (!Number.isSafeInteger(reserve) || reserve < 0 || reserve >= concurrency)
    throw invalid(`realtimeReserve must be an integer from 0 to concurrency − 1 (${concurrency - 1}), got ${reserve}`)
  const share = options?.batchBufferShare ?? 0.5
  if (!(share > 0 && share < 1)) throw invalid(`batchBufferShare must be between 0 and 1, got ${share}`)
  return {
    realtimeWeight: w.realtime,
    batchWeight: w.batch,
    batchSlots: concurrency - reserve,
    batchBuffer: Math.max(1, Math.floor(maxBuffered * share)),
  }
}

/** A FIFO with O(1) shift that skips, lazily, items no longer wanted. */
export class LazyQueue<T> {
  private items: T[] = []
  private head = 0

  constructor(private readonly wanted: (item: T) => boolean) {}

  push(item: T): void {
    this.items.push(item)
  }

  shift(): T | undefined {
    while (this.head < this.items.length) {
      const item = this.items[this.head++]!
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head)
        this.head = 0
      }
      if (this.wanted(item)) return item
    }
    return undefined
  }

  clear(): void {
    this.items = []
    this.head = 0
  }
}

/**
 * Sources (a partition's cursor) with records ready to start, in turn order within each priority. The processor
 * takes one source at a time, starts one of its records and puts it back at the end of its turn order.
 */
export class PriorityScheduler<S> {
  private readonly ready = { realtime: new Set<S>(), batch: new Set<S>() }
  /** Records running per priority. */
  readonly running = { realtime: 0, batch: 0 }
  private turn = 0

  constructor(private readonly config: ResolvedPriority) {}

  add(source: S, priority: Priority): void {
    this.ready[priority].add(source)
  }

  delete(source: S): void {
    this.ready.realtime.delete(source)
    this.ready.batch.delete(source)
  }

  clear(): void {
    this.ready.realtime.clear()
    this.ready.batch.clear()
  }

  /** The next source to start a record of (taken out of its turn order), or undefined when none may start. */
  next(): S | undefined {
    const realtime = this.ready.realtime.size > 0
    const batch = this.ready.batch.size > 0 && this.running.batch < this.config.batchSlots
    let pick: Priority | undefined
    if (realtime && batch) {
      const { realtimeWeight, batchWeight } = this.config
      this.turn = (this.turn + 1) % (realtimeWeight + batchWeight)
      pick = this.turn < realtimeWeight ? 'realtime' : 'batch'
    } else if (realtime) pick = 'realtime'
    else if (batch) pick = 'batch'
    if (!pick) return undefined
    const set = this.ready[pick]
    const source = set.values().next().value as S
    set.delete(source)
    return source
  }
}
