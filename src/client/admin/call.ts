import { setTimeout as sleep } from 'node:timers/promises'
import { SkiffError } from '../../errors.js'
import type { Api, RequestOf, ResponseOf } from '../../protocol/api.js'
import { backoffMs } from '../cluster/backoff.js'
import type { Connection } from '../connection.js'
import { AbortedError, ConfigError } from '../errors.js'
import { AdminTimeoutError } from './errors.js'
import type { AdminCallOptions } from './types.js'

/** The admin-wide settings a call starts from. */
export interface CallSettings {
  /** A call's timeout when it names none. */
  defaultTimeoutMs: number
  /** The cap of each request within a call (the client's `requestTimeoutMs`). */
  requestTimeoutMs: number
  /** First delay before a retry; doubles per retry, with jitter. */
  retryBackoffMs: number
  /** Cap of the retry delay. */
  retryBackoffMaxMs: number
}

/** The subset of a broker connection an admin call uses (so tests can stand in for a broker). */
export type AdminConnection = Pick<
  Connection,
  'broker' | 'apiVersions' | 'finalizedFeatures' | 'request' | 'versionFor'
>

/**
 * One admin call in progress: its deadline, the signal that stops its requests (the caller's signal or the
 * deadline, whichever comes first) and its retry backoff. Every request of the call goes through `request()`, so
 * none outlives the call.
 */
export class Call {
  readonly timeoutMs: number
  /** Aborted when the caller aborts or the deadline passes. */
  readonly signal: AbortSignal
  private readonly deadline: number
  private readonly controller = new AbortController()
  private readonly timer: NodeJS.Timeout
  private readonly detach: () => void
  private callerReason: unknown
  private callerAborted = false
  private timedOut = false
  private attempts = 0

  constructor(
    /** The admin method, for messages. */
    readonly operation: string,
    private readonly settings: CallSettings,
    options: AdminCallOptions = {},
  ) {
    const timeoutMs = options.timeoutMs ?? settings.defaultTimeoutMs
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0)
      throw new ConfigError(`${operation}: timeoutMs must be a positive number, got ${String(timeoutMs)}`)
    const caller = options.signal
    if (caller?.aborted) throw new AbortedError(operation, caller.reason)
    this.timeoutMs = timeoutMs
    this.deadline = Date.now() + timeoutMs
    this.signal = this.controller.signal
    this.timer = setTimeout(() => {
      this.timedOut = true
      this.controller.abort(new AdminTimeoutError(operation, timeoutMs))
    }, timeoutMs)
    if (caller) {
      const onAbort = () => {
        this.callerAborted = true
        this.callerReason = caller.reason
        this.controller.abort(caller.reason)
      }
      caller.addEventListener('abort', onAbort, { once: true })
      this.detach = () => caller.removeEventListener('abort', onAbort)
    } else this.detach = () => {}
  }

  /** The deadline has passed. */
  get expired(): boolean {
    return this.timedOut || Date.now() >= this.deadline
  }

  /** The caller aborted the call. */
  get aborted(): boolean {
    return this.callerAborted
  }

  /** Milliseconds left until the deadline. */
  get remainingMs(): number {
    return Math.max(0, this.deadline - Date.now())
  }

  /** The timeout of the next request: the client's request timeout, cut to what is left of the call. */
  requestTimeoutMs(): number {
    return Math.max(1, Math.min(this.settings.requestTimeoutMs, this.remainingMs))
  }

  /**
   * Throws when the call must stop: `AbortedError` if the caller aborted, `AdminTimeoutError` (with `lastError` as
   * its cause) if the deadline has passed.
   */
  checkpoint(lastError?: unknown): void {
    if (this.callerAborted) throw new AbortedError(this.operation, this.callerReason)
    if (this.expired) throw this.timeoutError(lastError)
  }

  timeoutError(lastError?: unknown): AdminTimeoutError {
    return new AdminTimeoutError(this.operation, this.timeoutMs, lastError)
  }

  /** Sends one request of this call, bounded by the call's deadline and signal. */
  request<A extends Api>(conn: AdminConnection, api: A, body: RequestOf<A>, version?: number): Promise<ResponseOf<A>> {
    this.checkpoint()
    return conn.request(api, body, { version, timeoutMs: this.requestTimeoutMs(), signal: this.signal })
  }

  /**
   * Waits for work shared with other callers (a metadata refresh other clients of the cluster may be waiting on
   * too), giving up when this call stops but leaving the work itself running: aborting it would fail the others.
   */
  wait<T>(shared: Promise<T>): Promise<T> {
    this.checkpoint()
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(this.signal.reason)
      this.signal.addEventListener('abort', onAbort, { once: true })
      shared.then(
        (v) => {
          this.signal.removeEventListener('abort', onAbort)
          resolve(v)
        },
        (e) => {
          this.signal.removeEventListener('abort', onAbort)
          reject(e)
        },
      )
    })
  }

  /** Waits before the next retry (exponential with jitter), never past the deadline; returns early on abort. */
  async backoff(): Promise<void> {
    const ms = Math.min(
      backoffMs(this.attempts++, this.settings.retryBackoffMs, this.settings.retryBackoffMaxMs),
      this.remainingMs,
    )
    if (ms > 0) await sleep(ms, undefined, { signal: this.signal }).catch(() => {})
  }

  /** Releases the call's timer and its hold on the caller's signal. */
  finish(): void {
    clearTimeout(this.timer)
    this.detach()
  }

  /**
   * The failure to report for `err` caught in this call: the call's own deadline or the caller's abort surface
   * from a request as an `AbortedError`, which says less than the failure before it (`previous`).
   */
  failureOf(err: unknown, previous: unknown): unknown {
    const ownStop = err instanceof AbortedError || err instanceof AdminTimeoutError
    return this.expired && !this.callerAborted && ownStop ? previous : err
  }
}

/** Whether retrying the same request may succeed: a retriable Kafka error, a dropped connection, a timeout. */
export function isRetriable(err: unknown): boolean {
  return err instanceof SkiffError && err.retriable
}

/**
 * Runs `attempt` until it succeeds, retrying retriable failures with backoff until the call's deadline.
 * `recover` runs before each retry (refresh metadata, forget a coordinator). Non-retriable failures are thrown as
 * they are; running out of time throws `AdminTimeoutError` with the last failure as its cause.
 */
export async function retrying<T>(call: Call, recover: (err: unknown) => void, attempt: () => Promise<T>): Promise<T> {
  let last: unknown
  for (;;) {
    try {
      return await attempt()
    } catch (err) {
      const failure = call.failureOf(err, last)
      call.checkpoint(failure)
      if (!isRetriable(failure)) throw failure
      last = failure
      recover(failure)
      await call.backoff()
      call.checkpoint(last)
    }
  }
}
