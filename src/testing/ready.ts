import { setTimeout as sleep } from 'node:timers/promises'
import { Connection } from '../client/connection.js'
import { Metadata } from '../protocol/apis/metadata.js'
import { HarnessError } from './errors.js'

export interface ReadinessTarget {
  host: string
  port: number
  nodeId: number
  /** Returns a reason when the broker process is known to have died (stops waiting at once). */
  failed?: () => string | undefined
}

/**
 * Waits until every target answers ApiVersions and its Metadata lists every expected node: only then can clients
 * use the cluster (a KRaft broker accepts connections before it has caught up with the metadata log and been
 * unfenced by the controller).
 */
export async function waitForBrokers(
  targets: ReadinessTarget[],
  expectedNodeIds: number[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let lastProblem = 'no attempt yet'
  const pending = new Set(targets)
  while (pending.size > 0) {
    for (const t of [...pending]) {
      const died = t.failed?.()
      if (died) throw new HarnessError(died)
      try {
        const conn = await Connection.connect({
          host: t.host,
          port: t.port,
          clientId: 'skiff-harness',
          connectTimeoutMs: 2000,
          requestTimeoutMs: 5000,
          signal,
        })
        try {
          const md = await conn.request(Metadata, { topics: [] })
          const seen = new Set(md.brokers.map((b) => b.nodeId))
          const missing = expectedNodeIds.filter((id) => !seen.has(id))
          if (missing.length === 0 && md.controllerId >= 0) pending.delete(t)
          else
            lastProblem = `broker ${t.nodeId} does not see node(s) ${missing.join(', ') || '(controller unknown)'} yet`
        } finally {
          await conn.close()
        }
      } catch (err) {
        if (signal?.aborted) throw err
        lastProblem = `broker ${t.nodeId} at ${t.host}:${t.port}: ${(err as Error).message}`
      }
    }
    if (pending.size === 0) return
    if (Date.now() > deadline) throw new HarnessError(`cluster not ready after ${timeoutMs} ms: ${lastProblem}`)
    await sleep(200, undefined, { signal })
  }
}
