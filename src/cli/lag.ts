// `skiff lag`: how far behind a consumer group is, per partition, in records and in time. Time lag is the age of
// the oldest record the group has not consumed: now minus the timestamp of the record at its committed offset,
// read with a one-record fetch per lagging partition.
import { Admin, type Cluster, Consumer, type GroupOffset } from '../index.js'
import type { CliContext } from './context.js'
import { CliError, EXIT, type ExitCode, UsageError } from './errors.js'
import { COMMON_FLAGS, CONNECTION_FLAGS, CONNECTION_HELP, openCluster, parseFlags, resolveConnection } from './flags.js'
import { formatCount, formatDuration, table } from './format.js'

export const LAG_HELP = `Usage: skiff lag -b HOST:PORT -g GROUP [options]

A consumer group's lag per partition: committed offset, end offset, records behind, and time lag (the age of the
oldest record not yet consumed: now minus the timestamp of the record at the committed offset; 0 when caught up).

Options:
  -g, --group GROUP      the consumer group (required)
  -t, --topic TOPIC      only this topic (repeatable); default every topic the group has committed offsets for
  --json                 one JSON document instead of the table
${CONNECTION_HELP}

Examples:
  skiff lag -b localhost:9092 -g billing
  skiff lag -b localhost:9092 -g billing -t orders --json | jq '.partitions[] | select(.lag > 1000)'`

const LAG_FLAGS = {
  ...CONNECTION_FLAGS,
  ...COMMON_FLAGS,
  group: { type: 'string', short: 'g' },
  topic: { type: 'string', short: 't', multiple: true },
  json: { type: 'boolean' },
} as const

/** One partition's lag. Null where it is not known (no committed offset, or no record to date it). */
export interface PartitionLag {
  topic: string
  partition: number
  committed: number | null
  end: number
  lag: number | null
  timeLagMs: number | null
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

export async function lagCommand(args: readonly string[], ctx: CliContext): Promise<ExitCode> {
  const { values } = parseFlags(args, LAG_FLAGS)
  if (values.help) {
    ctx.stdout.write(`${LAG_HELP}\n`)
    return EXIT.ok
  }
  if (!values.group) throw new UsageError('lag needs a group: -g GROUP')
  const conn = resolveConnection(values, ctx.env)
  const cluster = await openCluster(conn)
  try {
    const lag = await groupLag(cluster, values.group, values.topic, conn.timeoutMs)
    ctx.stdout.write(values.json ? `${JSON.stringify(lag, null, 2)}\n` : `${renderLag(lag)}\n`)
    return EXIT.ok
  } finally {
    await cluster.close().catch(() => {})
  }
}

/** Measures a group's lag: committed offsets, end offsets, and the timestamps of the oldest unconsumed records. */
export async function groupLag(
  cluster: Cluster,
  group: string,
  onlyTopics: readonly string[] | undefined,
  timeoutMs: number | undefined,
): Promise<GroupLag> {
  const admin = new Admin({ cluster, defaultTimeoutMs: timeoutMs ?? 30_000 })
  const [description] = await admin.describeGroups([group])
  const committed = await admin.listGroupOffsets(group, onlyTopics ? { topics: onlyTopics } : {})
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
  if (topics.size === 0) {
    if (state === 'Dead' || state === 'Unknown')
      throw new CliError(`group ${group} does not exist (no members and no committed offsets)`, EXIT.runtime)
    throw new CliError(`group ${group} (${state}) has no committed offsets yet`, EXIT.runtime)
  }

  // Every partition of the group's topics, committed to or not.
  const described = await admin.describeTopics([...topics])
  const partitions: Array<{ topic: string; partition: number }> = []
  for (const t of described) {
    if (t.error) {
      if (onlyTopics) throw t.error
      continue // a deleted topic the group still has offsets for
    }
    for (const p of t.partitions) partitions.push({ topic: t.name, partition: p.partition })
  }
  const ends = await admin.listOffsets(partitions.map((p) => ({ ...p, spec: 'latest' as const })))
  const endOf = new Map(ends.map((e) => [`${e.topic}:${e.partition}`, e.error ? -1 : Number(e.offset)]))
  const committedOf = new Map(ok.map((o) => [`${o.topic}:${o.partition}`, Number(o.offset)]))

  const rows: PartitionLag[] = partitions.map(({ topic, partition }) => {
    const key = `${topic}:${partition}`
    const end = endOf.get(key) ?? -1
    const c = committedOf.get(key)
    const has = c !== undefined && c >= 0
    return {
      topic,
      partition,
      committed: has ? c : null,
      end,
      lag: has && end >= 0 ? Math.max(0, end - c) : null,
      timeLagMs: has && end >= 0 && c >= end ? 0 : null,
      owner: owners.get(key) ?? null,
    }
  })
  const lagging = rows.filter((r) => r.lag !== null && r.lag > 0)
  if (lagging.length > 0) {
    const stamps = await oldestUnconsumed(
      cluster,
      lagging.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.committed!, end: r.end })),
      Math.min(timeoutMs ?? 10_000, 10_000),
    )
    const now = Date.now()
    for (const r of lagging) {
      const ts = stamps.get(`${r.topic}:${r.partition}`)
      r.timeLagMs = ts === undefined ? null : ts === 'none' ? 0 : Math.max(0, now - ts)
    }
  }
  rows.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
  const times = rows.map((r) => r.timeLagMs).filter((t): t is number => t !== null)
  return {
    group,
    state,
    type,
    members,
    totalLag: rows.reduce((s, r) => s + (r.lag ?? 0), 0),
    maxTimeLagMs: times.length > 0 ? Math.max(...times) : null,
    partitions: rows,
  }
}

/**
 * The timestamp of the first record at or after each committed offset, read with one small fetch per partition
 * ('none' when only transaction markers lie between it and the end; missing when it could not be read in time).
 */
async function oldestUnconsumed(
  cluster: Cluster,
  partitions: Array<{ topic: string; partition: number; offset: number; end: number }>,
  timeoutMs: number,
): Promise<Map<string, number | 'none'>> {
  const out = new Map<string, number | 'none'>()
  const consumer = new Consumer({
    cluster,
    resetPolicy: 'earliest',
    // A bomb at the committed offset is not this command's business: skip it and date the next batch.
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

export function renderLag(lag: GroupLag): string {
  const head = `group ${lag.group}: ${lag.state}${lag.type ? ` (${lag.type})` : ''}, ${lag.members} member${lag.members === 1 ? '' : 's'}`
  const rows: string[][] = [['TOPIC', 'PARTITION', 'COMMITTED', 'END', 'LAG', 'TIME LAG', 'OWNER']]
  for (const r of lag.partitions)
    rows.push([
      r.topic,
      String(r.partition),
      r.committed === null ? '-' : String(r.committed),
      r.end < 0 ? '?' : String(r.end),
      r.lag === null ? '-' : formatCount(r.lag),
      r.timeLagMs === null ? (r.lag === null ? '-' : '?') : r.timeLagMs === 0 ? '0' : formatDuration(r.timeLagMs),
      r.owner ?? '-',
    ])
  const total = `total lag ${formatCount(lag.totalLag)} record${lag.totalLag === 1 ? '' : 's'}${
    lag.maxTimeLagMs ? `; oldest unconsumed record is ${formatDuration(lag.maxTimeLagMs)} old` : ''
  }`
  return `${head}\n${table(rows, new Set([1, 2, 3, 4, 5]))}\n${total}`
}
