import { setTimeout as sleep } from 'node:timers/promises'
import { FindCoordinator } from '../../protocol/apis/find-coordinator.js'
import { ErrorCode, errorByCode } from '../../protocol/error-codes.js'
import { KafkaError } from '../../protocol/kafka-error.js'
import { backoffMs } from '../cluster/backoff.js'
import type { Cluster } from '../cluster/cluster.js'
import type { Connection } from '../connection.js'
import { AbortedError } from '../errors.js'

/** FindCoordinator key types. */
export const CoordinatorType = { group: 0, transaction: 1 } as const

/**
 * The coordinator of one group or transactional id: found with FindCoordinator, and requests to it retried while the
 * answer is retriable — COORDINATOR_LOAD_IN_PROGRESS and CONCURRENT_TRANSACTIONS after a short backoff,
 * NOT_COORDINATOR and COORDINATOR_NOT_AVAILABLE (and lost connections) after looking the coordinator up again.
 */
export class Coordinator {
  nodeId = -1

  constructor(
    private readonly cluster: Cluster,
    readonly key: string,
    readonly keyType: 0 | 1,
    private readonly backoff: { baseMs: number; maxMs: number },
  ) {}

  private async find(signal?: AbortSignal): Promise<number> {
    const conn = await this.cluster.anyConnection('metadata', signal)
    const v4 = conn.versionFor(FindCoordinator) >= 4
    const res = await conn.request(
      FindCoordinator,
      v4 ? { keyType: this.keyType, coordinatorKeys: [this.key] } : { key: this.key, keyType: this.keyType },
      { signal },
    )
    const c = v4
      ? res.coordinators[0]
      : { errorCode: res.errorCode, nodeId: res.nodeId, errorMessage: res.errorMessage ?? null }
    if (!c) throw KafkaError.fromCode(ErrorCode.COORDINATOR_NOT_AVAILABLE, { api: 'FindCoordinator' })
    if (c.errorCode !== ErrorCode.NONE)
      throw KafkaError.fromCode(c.errorCode, {
        api: 'FindCoordinator',
        broker: conn.broker,
        errorMessage: c.errorMessage,
        ...(this.keyType === 0 ? { group: this.key } : { transactionalId: this.key }),
      })
    return c.nodeId
  }

  /**
   * Sends a request to the coordinator until its answer (`errorOf`) is not retriable, or `deadline` passes (then
   * the last error is thrown). Answers with other errors are returned for the caller to judge.
   */
  async call<T>(
    send: (conn: Connection) => Promise<T>,
    errorOf: (response: T) => number,
    deadline: number,
    signal?: AbortSignal,
  ): Promise<T> {
    let last: unknown
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw new AbortedError(`request to the coordinator of ${this.key}`, signal.reason)
      try {
        if (this.nodeId < 0) this.nodeId = await this.find(signal)
        const conn = await this.cluster.connectionTo(this.nodeId, 'group', signal)
        const res = await send(conn)
        const code = errorOf(res)
        if (code === ErrorCode.NONE) return res
        const info = errorByCode(code)
        if (!info.retriable) return res
        if (info.findCoordinator) this.nodeId = -1
        last = KafkaError.fromCode(code, { broker: this.nodeId })
      } catch (err) {
        if (err instanceof AbortedError || !(err as { retriable?: boolean })?.retriable) throw err
        if ((err as KafkaError).code === undefined || (err as KafkaError).findCoordinator) this.nodeId = -1
        last = err
      }
      const wait = backoffMs(attempt, this.backoff.baseMs, this.backoff.maxMs)
      if (Date.now() + wait > deadline) throw last
      await sleep(wait, undefined, { signal }).catch(() => {})
    }
  }
}
