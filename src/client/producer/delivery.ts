import type { RecordMetadata } from './record.js'

/** A `produce` callback: called once per record, with the error or where the record was written. */
export type DeliveryCallback = (err: Error | null, metadata?: RecordMetadata) => void

/** Several records settled together (one `send` call): told each record's outcome by its index. */
export interface DeliveryGroup {
  settle(index: number, err: Error | null, metadata: RecordMetadata | undefined): void
}

/** Who hears about a record: nobody, a callback, or a group (with the record's index in `indexes`). */
export type DeliveryTarget = DeliveryCallback | DeliveryGroup | undefined

/** Something `flush()` waits for: told once per unit it was added to. */
export interface FlushWaiter {
  add(unit: { flushWaiters?: FlushWaiter[] }): void
  done(): void
}

/** Calls a target; an exception thrown by user code is rethrown outside the producer's bookkeeping. */
export function deliver(
  target: DeliveryTarget,
  index: number,
  err: Error | null,
  metadata: RecordMetadata | undefined,
): void {
  if (target === undefined) return
  try {
    if (typeof target === 'function') target(err, metadata)
    else target.settle(index, err, metadata)
  } catch (thrown) {
    process.nextTick(() => {
      throw thrown
    })
  }
}

/** The records of one `send` call: one promise for all of them. */
export class SendGroup<Pending = unknown> implements DeliveryGroup {
  readonly results: RecordMetadata[]
  private remaining: number
  private error: Error | undefined
  /** Its records still waiting for buffer room or metadata (so an abort can fail them). */
  pending: Pending[] | undefined
  readonly promise: Promise<RecordMetadata[]>
  private resolve!: (r: RecordMetadata[]) => void
  private reject!: (e: Error) => void
  onDone: (() => void) | undefined

  constructor(n: number) {
    this.results = new Array(n)
    this.remaining = n
    this.promise = new Promise((res, rej) => {
      this.resolve = res
      this.reject = rej
    })
  }

  settle(index: number, err: Error | null, metadata: RecordMetadata | undefined): void {
    if (err) this.error ??= err
    else this.results[index] = metadata!
    if (--this.remaining === 0) {
      this.onDone?.()
      if (this.error) this.reject(this.error)
      else this.resolve(this.results)
    }
  }
}

/** Waits for a set of batches and pending records. */
export class FlushGroup implements FlushWaiter {
  private remaining = 1
  private resolve!: () => void
  readonly promise = new Promise<void>((r) => {
    this.resolve = r
  })

  add(unit: { flushWaiters?: FlushWaiter[] }): void {
    if (unit.flushWaiters === undefined) unit.flushWaiters = [this]
    else if (unit.flushWaiters.includes(this)) return
    else unit.flushWaiters.push(this)
    this.remaining++
  }

  done(): void {
    if (--this.remaining === 0) this.resolve()
  }
}
