import { setTimeout as sleep } from 'node:timers/promises'
import { FindCoordinator } from '../../../protocol/apis/find-coordinator.js'
import { ErrorCode } from '../../../protocol/error-codes.js'
import { KafkaError } from '../../../protocol/kafka-error.js'
import { raceAbort } from '../../abort.js'
import { backoffMs } from '../../cluster/backoff.js'
import type { Cluster } from '../../cluster/cluster.js'
import type { ConnectionKind } from '../../cluster/pool.js'
import type { Connection } from '../../connection.js'
import { AbortedError, ConnectionError, RequestTimeoutError } from '../../errors.js'
import { GroupTimeoutError } from './errors.js'

/** Kafka's retry.backoff.ms and retry.backoff.max.ms defaults. */
export const RETRY_BACKOFF_MS = 100
export const RETRY_BACKOFF_MAX_MS = 1000

/**
 * The coordinator of one consumer group: found with FindCoordinator (retrying COORDINATOR_NOT_AVAILABLE while
 * __consumer_offsets is created, and COORDINATOR_LOAD_IN_PROGRESS), remembered until a request says it moved
 * (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE) or its connection breaks, then looked up again.
 *
 * Group requests go over the pool's `group` connection to that broker. A broker answers the requests of one
 * connection in order, and a JoinGroup is held there until the rebalance completes, so two members of one group
 * must not share a Cluster (each GroupMember refuses to start on a Cluster another active member uses).
 */
export class GroupCoordinator {
  private node: { nodeId: number; host: string; port: number } | undefined
  private finding: Promise<{ nodeId: number; host: string; port: number }> | undefined
  /** The last connection handed out, so it can be dropped (a held JoinGroup would block what follows on it). */
  private last: Connection | undefined

  constructor(
    private readonly cluster: Cluster,
    readonly groupId: string,
    private readonly kind: ConnectionKind = 'group',
  ) {}

  /** The coordinator's node id, -1 while unknown. */
  get nodeId(): number {
    return this.node?.nodeId ?? -1
  }

  /** Forget the coordinator: the next request looks it up again. */
  markUnknown(): void {
    this.node = undefined
  }

  /** A connection to the coordinator, finding it first if needed. Throws retriable errors for the caller to retry. */
  async connection(signal?: AbortSignal): Promise<Connection> {
    if (!this.node) {
      // Concurrent callers share one lookup; it is not tied to any one caller's signal.
      this.finding ??= this.find().finally(() => {
        this.finding = undefined
      })
      this.node = await raceAbort(this.finding, signal, `finding the coordinator of group ${this.groupId}`)
    }
    const node = this.node
    try {
      const conn = await this.cluster.pool.get({ host: node.host, port: node.port }, this.kind, signal)
      if (conn.isClosed) throw new ConnectionError('connection closed', conn.broker)
      this.last = conn
      return conn
    } catch (err) {
      if (this.node === node) this.node = undefined
      throw err
    }
  }

  /** Closes the group connection at once (requests in flight fail); the next request opens a new one. */
  dropConnection(): void {
    this.last?.destroy()
    this.last = undefined
  }

  private async find(): Promise<{ nodeId: number; host: string; port: number }> {
    const conn = await this.cluster.anyConnection('metadata')
    const v4 = conn.versionFor(FindCoordinator) >= 4
    const res = await conn.request(
      FindCoordinator,
      v4 ? { keyType: 0, coordinatorKeys: [this.groupId] } : { key: this.groupId, keyType: 0 },
    )
    const c = v4
      ? res.coordinators[0]
      : { errorCode: res.errorCode, nodeId: res.nodeId, host: res.host, port: res.port, errorMessage: res.errorMessage }
    if (!c)
      throw KafkaError.fromCode(ErrorCode.COORDINATOR_NOT_AVAILABLE, { api: 'FindCoordinator', group: this.groupId })
    if (c.errorCode !== ErrorCode.NONE) {
      throw KafkaError.fromCode(c.errorCode, {
        api: 'FindCoordinator',
        broker: conn.broker,
        group: this.groupId,
        errorMessage: c.errorMessage ?? null,
      })
    }
    return { nodeId: c.nodeId, host: c.host, port: c.port }
  }

  /**
   * Learns from a failed attempt: a connection failure, a request timeout or a "coordinator moved" error code
   * forgets the coordinator. Returns whether the failure is worth retrying.
   */
  noteFailure(err: unknown): boolean {
    if (err instanceof KafkaError) {
      if (err.findCoordinator) this.markUnknown()
      return err.retriable
    }
    if (err instanceof ConnectionError || err instanceof RequestTimeoutError) {
      this.markUnknown()
      return true
    }
    return false
  }

  /**
   * Runs `attempt` until it succeeds, fails with a non-retriable error, the deadline passes (GroupTimeoutError
   * with the last failure) or the signal aborts. Retriable failures are retried after an exponential backoff.
   */
  async retrying<T>(
    operation: string,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    attempt: (conn: Connection) => Promise<T>,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (let n = 0; ; n++) {
      if (signal?.aborted) throw new AbortedError(`${operation} for group ${this.groupId}`, signal.reason)
      try {
        return await attempt(await this.connection(signal))
      } catch (err) {
        if (err instanceof AbortedError || !this.noteFailure(err)) throw err
        const wait = backoffMs(n, RETRY_BACKOFF_MS, RETRY_BACKOFF_MAX_MS)
        if (Date.now() + wait >= deadline) throw new GroupTimeoutError(operation, this.groupId, timeoutMs, err)
        await pause(wait, signal)
      }
    }
  }
}

/**
 * Waits `ms`; rejects with AbortedError when `signal` aborts. Retry backoffs keep the process alive (someone awaits
 * the operation); background timers (`ref: false`) do not.
 */
export async function pause(ms: number, signal?: AbortSignal, ref = true): Promise<void> {
  try {
    await sleep(ms, undefined, { ref, signal })
  } catch (err) {
    throw new AbortedError('waiting', signal?.reason ?? err)
  }
}
