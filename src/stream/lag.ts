// A consumer group's lag in records and in wall-clock time. It lives in the streaming layer because it reads this
// layer's commit metadata: when a StreamProcessor committed, the metadata carries the timestamp of the oldest
// unfinished record and the ranges done above the committed offset, so neither needs a fetch to be known.
import { Admin, type AdminOptions, type GroupOffset } from '../client/admin/index.js'
import { Consumer } from '../client/consumer/index.js'
import { decodeCommitMetadata } from './commit-metadata.js'

/** One partition's lag. Null where it is not known (no committed offset, or no record to date it in time). */
export interface PartitionLag {
  topic: string
  partition: number
  /** The group's committed offset (the lowest offset not done), or null when it has none. */
  committed: number | null
  /** The partition's end offset (high watermark); -1 when it could not be read. */
  end: number
  /**
   * Records not yet consumed: end − committed, less the records the commit metadata says are done above the
   * committed offset (a StreamProcessor's completed ranges).
   */
  lag: number | null
  /** now − timestamp of the oldest unconsumed record; 0 when caught up. */
  timeLagMs: number | null
  /** The timestamp (ms since the epoch) time lag was measured from. */
  oldestUnconsumedTimestamp: number | null
  /**
   * Where that timestamp came from: `metadata` (the oldest unfinished record's timestamp a StreamProcessor stored
   * with its last commit — so, for a live processor, as of up to one commit interval ago), `record` (the record at
   * the committed offset, fetched), `caught-up` (nothing to consume).
   */
  timeLagSource: 'metadata' | 'record' | 'caught-up' | null
  /** Records above the committed offset already done, from the commit metadata. */
  doneAbove: number
  /** The member that owns the partition now (client id and host), if the group is stable and has members. */
  owner: string | null
}

export interface GroupLag {
  group: string
  state: string
  type: string | null
  members: number
  totalLag: number
  maxTimeLagMs: number | null
  partitions: PartitionLag[]
}

export interface LagOptions {
  /** Only these topics; default every topic the group has committed offsets for or is assigned. */
  topics?: readonly string[]
  /** Bound of the admin calls. Default 30 000. */
  timeoutMs?: number
  /** Bound of the fetch dating partitions without Skiff metadata; partitions not dated by then get null. Default 10 000. */
  recordTimeoutMs?: number
  /** The clock time lag is measured against. Default Date.now. */
  now?: () => number
}

/**
 * Measures a group's lag per partition: committed offset, end offset, records behind, and time lag — now minus
 * the timestamp of the oldest unconsumed record, taken from the `sk1:` commit metadata when a StreamProcessor
 * committed, otherwise from the record at the committed offset (one small bounded fetch per such partition).
 *
 * `admin` is an Admin to use (left open) or the options to build one (closed before returning).
 */
export async function lag(group: string, admin: Admin | AdminOptions, options: LagOptions = {}): Promise<GroupLag> {
  const owned = !(admin instanceof Admin)
  const client = admin instanceof Admin ? admin : new Admin(admin)
  try {
    return await measure(client, group, options)
  } finally {
    if (owned) await client.close()
  }
}

async function measure(admin: Admin, group: string, options: LagOptions): Promise<GroupLag> {
  const timeoutMs = options.timeoutMs ?? 30_000
  const now = options.now ?? Date.now
  const onlyTopics = options.topics
  const [description] = await admin.describeGroups([group], { timeoutMs })
  const committed = await admin.listGroupOffsets(group, onlyTopics ? { topics: onlyTopics, timeoutMs } : { timeoutMs })
  const failed = committed.find((o) => o.error)
  if (failed?.error) throw failed.error
  const ok = committed.filter((o): o is Extract<GroupOffset, { offset: bigint }> => !o.error)
  const owners = new Map<string, string>()
  let state = 'Unknown'
  let type: string | null = null
  let members = 0
  if (description && !description.error) {
    state = description.state
    type = description.type
    members = description.members.length
    for (const m of description.members)
      for (const a of m.assignment)
        for (const p of a.partitions) owners.set(`${a.topic}:${p}`, `${m.clientId}@${m.clientHost.replace(/^\//, '')}`)
  }
  const topics = new Set(onlyTopics ?? ok.map((o) => o.topic))
  for (const key of owners.keys()) if (!onlyTopics) topics.add(key.slice(0, key.lastIndexOf(':')))
  const result: GroupLag = { group, state, type, members, totalLag: 0, maxTimeLagMs: null, partitions: [] }
  if (topics.size === 0) return result

  // Every partition of the group's topics, committed to or not.
  const described = await admin.describeTopics([...topics], { timeoutMs })
  const partitions: Array<{ topic: string; partition: number }> = []
  for (const t of described) {
    if (t.error) {
      if (onlyTopics) throw t.error
      continue // a deleted topic the group still has offsets for
    }
    for (const p of t.partitions) partitions.push({ topic: t.name, partition: p.partition })
  }
  const ends = await admin.listOffsets(
    partitions.map((p) => ({ ...p, spec: 'latest' as const })),
    { timeoutMs },
  )
  const endOf = new Map(ends.map((e) => [`${e.topic}:${e.partition}`, e.error ? -1 : Number(e.offset)]))
  const committedOf = new Map(ok.map((o) => [`${o.topic}:${o.partition}`, o]))

  const undated: PartitionLag[] = []
  for (const { topic, partition } of partitions) {
    const key = `${topic}:${partition}`
    const end = endOf.get(key) ?? -1
    const o = committedOf.get(key)
    const c = o && o.offset >= 0n ? Number(o.offset) : undefined
    const row: PartitionLag = {
      topic,
      partition,
      committed: c ?? null,
      end,
      lag: null,
      timeLagMs: null,
      oldestUnconsumedTimestamp: null,
      timeLagSource: null,
      doneAbove: 0,
      owner: owners.get(key) ?? null,
    }
    result.partitions.push(row)
    if (c === undefined || end < 0) continue
    if (c >= end) {
      row.lag = 0
      row.timeLagMs = 0
      row.timeLagSource = 'caught-up'
      continue
    }
    const decoded = decodeCommitMetadata(o!.metadata, c)
    if (decoded.kind === 'ranges') {
      for (const [from, to] of decoded.ranges) row.doneAbove += Math.max(0, Math.min(to, end) - from)
    }
    row.lag = Math.max(0, end - c - row.doneAbove)
    if (decoded.kind === 'ranges' && decoded.oldestUnfinishedTimestamp !== undefined) {
      row.oldestUnconsumedTimestamp = decoded.oldestUnfinishedTimestamp
      row.timeLagSource = 'metadata'
    } else undated.push(row)
  }

  if (undated.length > 0) {
    const stamps = await oldestUnconsumed(
      admin,
      undated.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.committed!, end: r.end })),
      options.recordTimeoutMs ?? 10_000,
    )
    for (const r of undated) {
      const ts = stamps.get(`${r.topic}:${r.partition}`)
      if (ts === 'none') {
        // Only transaction markers (or aborted records) lie between the committed offset and the end.
        r.timeLagMs = 0
        r.timeLagSource = 'caught-up'
      } else if (ts !== undefined) {
        r.oldestUnconsumedTimestamp = ts
        r.timeLagSource = 'record'
      }
    }
  }
  const at = now()
  for (const r of result.partitions) {
    if (r.oldestUnconsumedTimestamp !== null) r.timeLagMs = Math.max(0, at - r.oldestUnconsumedTimestamp)
  }
  result.partitions.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
  const times = result.partitions.map((r) => r.timeLagMs).filter((t): t is number => t !== null)
  result.totalLag = result.partitions.reduce((s, r) => s + (r.lag ?? 0), 0)
  result.maxTimeLagMs = times.length > 0 ? Math.max(...times) : null
  return result
}

/**
 * The timestamp of the first record at or after each committed offset, read with one small fetch per partition
 * ('none' when nothing but transaction markers lies between it and the end; missing when it could not be read in
 * time).
 */
async function oldestUnconsumed(
  admin: Admin,
  partitions: Array<{ topic: string; partition: number; offset: number; end: number }>,
  timeoutMs: number,
): Promise<Map<string, number | 'none'>> {
  const out = new Map<string, number | 'none'>()
  const consumer = new Consumer({
    cluster: admin.cluster,
    resetPolicy: 'earliest',
    // A bomb at the committed offset is not what lag is about: skip it and date the next batch.
    badBatchPolicy: 'skip',
    partitionMaxBytes: 64 * 1024,
    maxBytes: 1024 * 1024,
    maxWaitMs: 100,
  })
  const pending = new Map(partitions.map((p) => [`${p.topic}:${p.partition}`, p]))
  const settle = () => {
    for (const [key, p] of pending) {
      if (consumer.position(p) >= p.end) {
        out.set(key, 'none')
        pending.delete(key)
      }
    }
    if (pending.size === 0) void consumer.close()
  }
  const timer = setTimeout(() => void consumer.close(), timeoutMs)
  const watchdog = setInterval(settle, 100)
  try {
    await consumer.assign(partitions.map(({ topic, partition, offset }) => ({ topic, partition, offset })))
    for await (const batch of consumer.batches()) {
      const key = `${batch.topic}:${batch.partition}`
      const first = batch.messages[0]
      if (first && pending.has(key)) {
        out.set(key, first.timestamp)
        pending.delete(key)
        consumer.pause([batch])
      }
      if (pending.size === 0) break
    }
  } finally {
    clearTimeout(timer)
    clearInterval(watchdog)
    await consumer.close()
  }
  return out
}
