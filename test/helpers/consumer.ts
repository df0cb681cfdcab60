import { setTimeout as sleep } from 'node:timers/promises'
import type { Admin } from '../../src/client/admin/admin.js'
import type { Connection } from '../../src/client/connection.js'
import { ConsumerGroupHeartbeat } from '../../src/protocol/apis/consumer-group-heartbeat.js'

/** Polls `check` until it returns true; fails with `what` after `timeoutMs`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`)
    await sleep(25)
  }
}

/** What a group has committed for a topic, by partition (as OffsetFetch answers it, through the admin client). */
export async function committedOffsets(
  admin: Admin,
  groupId: string,
  topic: string,
): Promise<Map<number, { offset: number; leaderEpoch: number; metadata: string | null }>> {
  const out = new Map<number, { offset: number; leaderEpoch: number; metadata: string | null }>()
  for (const o of await admin.listGroupOffsets(groupId, { topics: [topic] })) {
    if (o.error) throw o.error
    if (o.offset >= 0n)
      out.set(o.partition, { offset: Number(o.offset), leaderEpoch: o.leaderEpoch, metadata: o.metadata })
  }
  return out
}

/** Whether the broker runs KIP-848 groups (Kafka 3.9 lists the API but refuses it while group.version is 0). */
export function consumerProtocolSupported(conn: Connection): boolean {
  return conn.apiVersions.has(ConsumerGroupHeartbeat.key) && (conn.finalizedFeatures.get('group.version') ?? 0) >= 1
}
