/** Something waiting for buffer room. */
export interface MemoryWaiter {
  readonly bytes: number
  /** `Date.now()` after which the waiter fails. Waiters are queued in deadline order (one `maxBlockMs` for all). */
  readonly deadline: number
  /** Set when the waiter gave up (its send was aborted): the queue skips it. */
  cancelled: boolean
  /** The bytes are reserved; the waiter now holds them. */
  granted(): void
  /** The deadline passed first. */
  expired(): void
}

/**
 * The producer's `bufferBytes`: bytes of records accepted and not yet acknowledged. Room is handed out first come,
 * first served: while anyone waits, newcomers queue behind them, so records keep the order they were produced in.
 */
export class BufferMemory {
  used = 0
  private readonly queue: MemoryWaiter[] = []
  private head = 0
  private timer: NodeJS.Timeout | undefined
  private timerAt = Number.POSITIVE_INFINITY

  constructor(
    readonly limit: number,
    /** Called when the last waiter has been served, so writers told to back off may resume. */
    private readonly onRoom: () => void = () => {},
  ) {}

  /** Waiters in the queue (cancelled ones included until they reach its head). */
  get waiting(): number {
    return this.queue.length - this.head
  }

  /** The waiters still queued, first come first. */
  *waiters(): IterableIterator<MemoryWaiter> {
    for (let i = this.head; i < this.queue.length; i++) if (!this.queue[i]!.cancelled) yield this.queue[i]!
  }

  /** Reserves `bytes` now if there is room and no one is waiting. */
  tryReserve(bytes: number): boolean {
    if (this.head < this.queue.length || this.used + bytes > this.limit) return false
    this.used += bytes
    return true
  }

  /** Queues a waiter (call after `tryReserve` failed). */
  wait(w: MemoryWaiter): void {
    this.queue.push(w)
    this.arm()
  }

  release(bytes: number): void {
    this.used -= bytes
    if (this.head < this.queue.length) this.pump()
  }

  /** Serves waiters in order while there is room. */
  pump(expired = false): void {
    let served = expired
    while (this.head < this.queue.length) {
      const w = this.queue[this.head]!
      if (w.cancelled) {
        this.shift()
        continue
      }
      if (this.used + w.bytes > this.limit) break
      this.used += w.bytes
      this.shift()
      served = true
      w.granted()
    }
    if (this.head >= this.queue.length) {
      this.disarm()
      if (served) this.onRoom()
    } else this.arm()
  }

  /** Fails every waiter (closing, fenced). */
  failAll(): void {
    const all = this.queue.splice(0).slice(this.head)
    this.head = 0
    this.disarm()
    for (let i = 0; i < all.length; i++) if (!all[i]!.cancelled) all[i]!.expired()
  }

  private shift(): void {
    this.head++
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head)
      this.head = 0
    }
  }

  private arm(): void {
    const first = this.queue[this.head]
    if (!first) return
    if (this.timer && this.timerAt <= first.deadline) return
    this.disarm()
    this.timerAt = first.deadline
    this.timer = setTimeout(() => this.expire(), Math.max(0, first.deadline - Date.now()))
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    this.timerAt = Number.POSITIVE_INFINITY
  }

  private expire(): void {
    this.timer = undefined
    this.timerAt = Number.POSITIVE_INFINITY
    const now = Date.now()
    while (this.head < this.queue.length) {
      const w = this.queue[this.head]!
      if (!w.cancelled && w.deadline > now) break
      this.shift()
      if (!w.cancelled) w.expired()
    }
    // Room may have come while the expired ones blocked the head.
    this.pump(true)
  }
}
