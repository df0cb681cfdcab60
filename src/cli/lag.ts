// `skiff lag`: how far behind a consumer group is, per partition, in records and in time. Time lag is the age of
// the oldest record the group has not consumed: from the StreamProcessor's commit metadata where it committed (the
// timestamp of its oldest unfinished record), otherwise from a one-record fetch at the committed offset.
import { Admin, type Cluster } from '../index.js'
import { type GroupLag, lag } from '../stream/lag.js'
import type { CliContext } from './context.js'
import { CliError, EXIT, type ExitCode, UsageError } from './errors.js'
import { COMMON_FLAGS, CONNECTION_FLAGS, CONNECTION_HELP, openCluster, parseFlags, resolveConnection } from './flags.js'
import { formatCount, formatDuration, table } from './format.js'

export const LAG_HELP = `Usage: skiff lag -b HOST:PORT -g GROUP [options]

A consumer group's lag per partition: committed offset, end offset, records behind, and time lag (the age of the
oldest record not yet consumed; 0 when caught up). For a group committed by Skiff's StreamProcessor both come from
its commit metadata: records done above the committed offset are not counted, and the age is that of the oldest
unfinished record (marked * in the table); otherwise the age is that of the record at the committed offset.

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

export type { GroupLag, PartitionLag } from '../stream/lag.js'

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

/**
 * Measures a group's lag with the streaming layer's `lag()`: time lag from the StreamProcessor's commit metadata
 * (the oldest unfinished record's timestamp) where it committed, otherwise from the record at the committed offset.
 */
export async function groupLag(
  cluster: Cluster,
  group: string,
  onlyTopics: readonly string[] | undefined,
  timeoutMs: number | undefined,
): Promise<GroupLag> {
  const result = await lag(group, new Admin({ cluster, defaultTimeoutMs: timeoutMs ?? 30_000 }), {
    topics: onlyTopics,
    timeoutMs: timeoutMs ?? 30_000,
    recordTimeoutMs: Math.min(timeoutMs ?? 10_000, 10_000),
  })
  if (result.partitions.length === 0) {
    const { state } = result
    if (state === 'Dead' || state === 'Unknown')
      throw new CliError(`group ${group} does not exist (no members and no committed offsets)`, EXIT.runtime)
    throw new CliError(`group ${group} (${state}) has no committed offsets yet`, EXIT.runtime)
  }
  return result
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
      r.timeLagMs === null
        ? r.lag === null
          ? '-'
          : '?'
        : r.timeLagMs === 0
          ? '0'
          : `${formatDuration(r.timeLagMs)}${r.timeLagSource === 'metadata' ? '*' : ''}`,
      r.owner ?? '-',
    ])
  const total = `total lag ${formatCount(lag.totalLag)} record${lag.totalLag === 1 ? '' : 's'}${
    lag.maxTimeLagMs ? `; oldest unconsumed record is ${formatDuration(lag.maxTimeLagMs)} old` : ''
  }`
  const marked = lag.partitions.some((r) => r.timeLagSource === 'metadata' && r.timeLagMs)
  const legend = marked ? "\n* the oldest unfinished record's age, from the stream processor's commit metadata" : ''
  return `${head}\n${table(rows, new Set([1, 2, 3, 4, 5]))}\n${total}${legend}`
}
