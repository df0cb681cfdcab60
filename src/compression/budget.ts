import { SkiffError } from '../errors.js'

/** The three numbers that bound decompression. Every one is documented with its default. */
export interface DecompressionBudgetOptions {
  /**
   * One record's encoded size. A larger record is refused (RecordTooLargeError) before it is assembled.
   * Default 64 MiB — above the broker's largest sensible `max.message.bytes`.
   */
  maxRecordBytes?: number
  /**
   * The total expansion of one batch: the bomb defence. Decompression stops as soon as a batch produces more
   * (DecompressionBudgetExceededError), without ever having allocated the rest. Default 128 MiB;
   * `Infinity` turns it off.
   */
  maxBatchDecompressedBytes?: number
  /**
   * Decompressed bytes held at once by a fetch pipeline, decoder windows included. Reaching it never throws:
   * decoding (and fetching) waits until the application has drained records. Default 64 MiB.
   */
  bufferBytes?: number
}

export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024
export const DEFAULT_MAX_BATCH_DECOMPRESSED_BYTES = 128 * 1024 * 1024
export const DEFAULT_BUFFER_BYTES = 64 * 1024 * 1024

/** A wait for budget that was cancelled by its AbortSignal. */
export class BudgetWaitAbortedError extends SkiffError {
  override name = 'BudgetWaitAbortedError'
}

interface Waiter {
  bytes: number
  resolve: () => void
}

/**
 * Accounting for decompressed bytes held at once. Decoders `acquire` before producing a chunk and the consumer
 * `release`s once it has finished with the records made from it. A request larger than the whole budget is let
 * through when nothing else is held, so one huge chunk can never deadlock a pipeline.
 */
export class DecompressionBudget {
  readonly maxRecordBytes: number
  readonly maxBatchDecompressedBytes: number
  readonly bufferBytes: number
  private heldBytes = 0
  private peak = 0
  private readonly waiters: Waiter[] = []

  constructor(options: DecompressionBudgetOptions = {}) {
    this.maxRecordBytes = positive('maxRecordBytes', options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES)
    this.maxBatchDecompressedBytes = positive(
      'maxBatchDecompressedBytes',
      options.maxBatchDecompressedBytes ?? DEFAULT_MAX_BATCH_DECOMPRESSED_BYTES,
    )
    this.bufferBytes = positive('bufferBytes', options.bufferBytes ?? DEFAULT_BUFFER_BYTES)
  }

  /** Bytes currently held. */
  get held(): number {
    return this.heldBytes
  }

  /** The most ever held at once. */
  get peakHeld(): number {
    return this.peak
  }

  /** Takes `bytes` if they fit now (or nothing else is held). */
  tryAcquire(bytes: number): boolean {
    if (this.waiters.length > 0 || !this.fits(bytes)) return false
    this.take(bytes)
    return true
  }

  /** Waits until `bytes` fit, then takes them. Rejects only if `signal` aborts. */
  acquire(bytes: number, signal?: AbortSignal): Promise<void> {
    if (this.tryAcquire(bytes)) return Promise.resolve()
    if (signal?.aborted)
      return Promise.reject(
        new BudgetWaitAbortedError('waiting for decompression budget was aborted', { cause: signal.reason }),
      )
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        bytes,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        },
      }
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter)
        if (i >= 0) this.waiters.splice(i, 1)
        reject(new BudgetWaitAbortedError('waiting for decompression budget was aborted', { cause: signal?.reason }))
        this.wake()
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiters.push(waiter)
    })
  }

  /** Gives back bytes taken with acquire/tryAcquire, waking waiters in order. */
  release(bytes: number): void {
    this.heldBytes -= bytes
    if (this.heldBytes < 0) this.heldBytes = 0
    this.wake()
  }

  private fits(bytes: number): boolean {
    return this.heldBytes === 0 || this.heldBytes + bytes <= this.bufferBytes
  }

  private take(bytes: number): void {
    this.heldBytes += bytes
    if (this.heldBytes > this.peak) this.peak = this.heldBytes
  }

  private wake(): void {
    while (this.waiters.length > 0 && this.fits(this.waiters[0]!.bytes)) {
      const w = this.waiters.shift()!
      this.take(w.bytes)
      w.resolve()
    }
  }
}

function positive(name: string, v: number): number {
  if (!(v > 0)) throw new RangeError(`${name} must be a positive number (or Infinity), got ${v}`)
  return v
}
