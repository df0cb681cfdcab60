// `skiff topics list|describe|create|delete`: the topic chores, on the admin client.
import { Admin, type TopicDescription } from '../index.js'
import type { CliContext } from './context.js'
import { CliError, EXIT, type ExitCode, UsageError } from './errors.js'
import { COMMON_FLAGS, CONNECTION_FLAGS, CONNECTION_HELP, openCluster, parseFlags, resolveConnection } from './flags.js'
import { table } from './format.js'
import { parseCount, parseKeyValue } from './parse.js'

export const TOPICS_HELP = `Usage: skiff topics <list|describe|create|delete> -b HOST:PORT [TOPIC...] [options]

  list                         topics and their partition counts (--internal: include __consumer_offsets & co)
  describe TOPIC...            partitions (leader, replicas, ISR, earliest and end offsets) and non-default configs
  create TOPIC...              --partitions N (default: the broker's), --replication-factor N,
                               --topic-config k=v (repeatable), --if-not-exists
  delete TOPIC...              --if-exists

Topics are given as arguments or with -t (repeatable). --json prints JSON instead of tables.
${CONNECTION_HELP}

Examples:
  skiff topics list -b localhost:9092
  skiff topics create -b localhost:9092 orders --partitions 6 --topic-config retention.ms=86400000 --topic-config compression.type=zstd
  skiff topics describe -b localhost:9092 orders --json
  skiff topics delete -b localhost:9092 orders scratch-1 scratch-2`

const TOPICS_FLAGS = {
  ...CONNECTION_FLAGS,
  ...COMMON_FLAGS,
  topic: { type: 'string', short: 't', multiple: true },
  json: { type: 'boolean' },
  internal: { type: 'boolean' },
  partitions: { type: 'string' },
  'replication-factor': { type: 'string', short: 'r' },
  'topic-config': { type: 'string', multiple: true },
  'if-not-exists': { type: 'boolean' },
  'if-exists': { type: 'boolean' },
} as const

const ACTIONS = ['list', 'describe', 'create', 'delete'] as const

export async function topicsCommand(args: readonly string[], ctx: CliContext): Promise<ExitCode> {
  const { values, positionals } = parseFlags(args, TOPICS_FLAGS, { positionals: true })
  if (values.help) {
    ctx.stdout.write(`${TOPICS_HELP}\n`)
    return EXIT.ok
  }
  const [action, ...names] = positionals
  if (action === undefined) throw new UsageError(`topics needs an action: ${ACTIONS.join(', ')}`)
  if (!(ACTIONS as readonly string[]).includes(action))
    throw new UsageError(`unknown topics action ${JSON.stringify(action)}: use ${ACTIONS.join(', ')}`)
  const topics = [...names, ...(values.topic ?? [])]
  if (action !== 'list' && topics.length === 0) throw new UsageError(`topics ${action} needs at least one topic`)
  const configs: Record<string, string> = {}
  for (const c of values['topic-config'] ?? []) {
    const [k, v] = parseKeyValue(c, '--topic-config')
    configs[k] = v
  }
  const partitions =
    values.partitions === undefined ? undefined : parseCount(values.partitions, '--partitions', { min: 1 })
  const rf =
    values['replication-factor'] === undefined
      ? undefined
      : parseCount(values['replication-factor'], '--replication-factor', { min: 1 })
  if (action !== 'create' && (partitions !== undefined || rf !== undefined || values['topic-config'] !== undefined))
    throw new UsageError('--partitions, --replication-factor and --topic-config only go with topics create')

  const conn = resolveConnection(values, ctx.env)
  const cluster = await openCluster(conn)
  const admin = new Admin({ cluster, defaultTimeoutMs: conn.timeoutMs ?? 60_000 })
  const json = values.json === true
  const out = (text: string) => ctx.stdout.write(`${text}\n`)
  try {
    switch (action) {
      case 'list': {
        const list = await admin.listTopics({ internal: values.internal === true })
        list.sort((a, b) => (a.name < b.name ? -1 : 1))
        if (json)
          out(JSON.stringify(list.map((t) => ({ name: t.name, partitions: t.partitions, internal: t.internal }))))
        else if (list.length === 0) ctx.info('no topics')
        else out(table([['TOPIC', 'PARTITIONS'], ...list.map((t) => [t.name, String(t.partitions)])], new Set([1])))
        return EXIT.ok
      }
      case 'describe': {
        const described = await describe(admin, topics)
        if (json) out(JSON.stringify(described, null, 2))
        else out(described.map(renderTopic).join('\n\n'))
        return EXIT.ok
      }
      case 'create': {
        const created = await admin.createTopics(
          topics.map((name) => ({ name, partitions, replicationFactor: rf, configs })),
        )
        let code: ExitCode = EXIT.ok
        for (const t of created) {
          if (!t.error)
            ctx.info(`created topic ${t.name} (${t.partitions} partitions, replication ${t.replicationFactor})`)
          else if (t.error.errorName === 'TOPIC_ALREADY_EXISTS' && values['if-not-exists'])
            ctx.info(`topic ${t.name} already exists`)
          else {
            ctx.warn(`could not create ${t.name}: ${t.error.errorName}: ${t.error.errorMessage ?? t.error.message}`)
            code = t.error.errorName.endsWith('AUTHORIZATION_FAILED') ? EXIT.connection : EXIT.runtime
          }
        }
        return code
      }
      case 'delete': {
        const deleted = await admin.deleteTopics(topics)
        let code: ExitCode = EXIT.ok
        for (const [i, t] of deleted.entries()) {
          const name = t.name ?? topics[i]
          if (!t.error) ctx.info(`deleted topic ${name}`)
          else if (t.error.errorName === 'UNKNOWN_TOPIC_OR_PARTITION' && values['if-exists'])
            ctx.info(`topic ${name} does not exist`)
          else {
            ctx.warn(
              `could not delete ${name}: ${t.error.errorName === 'UNKNOWN_TOPIC_OR_PARTITION' ? 'it does not exist' : t.error.message}`,
            )
            code = t.error.errorName.endsWith('AUTHORIZATION_FAILED') ? EXIT.connection : EXIT.runtime
          }
        }
        return code
      }
    }
    return EXIT.usage
  } finally {
    await admin.close()
    await cluster.close().catch(() => {})
  }
}

interface DescribedTopic {
  name: string
  topicId: string
  internal: boolean
  partitions: Array<{
    partition: number
    leader: number | null
    replicas: number[]
    isr: number[]
    earliest: number | null
    end: number | null
  }>
  /** Configs set on the topic or inherited from non-default broker settings. */
  configs: Record<string, string | null>
}

async function describe(admin: Admin, names: string[]): Promise<DescribedTopic[]> {
  const described = await admin.describeTopics(names)
  const missing = described.find((t) => t.error)
  if (missing?.error) {
    if (missing.error.errorName === 'UNKNOWN_TOPIC_OR_PARTITION')
      throw new CliError(`topic ${missing.name} does not exist (UNKNOWN_TOPIC_OR_PARTITION)`, EXIT.runtime)
    throw missing.error
  }
  const ok = described as Array<Extract<TopicDescription, { topicId: string }>>
  const queries = ok.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partition })))
  const [earliest, latest, configs] = await Promise.all([
    admin.listOffsets(queries.map((q) => ({ ...q, spec: 'earliest' as const }))),
    admin.listOffsets(queries.map((q) => ({ ...q, spec: 'latest' as const }))),
    admin.describeConfigs(ok.map((t) => ({ type: 'topic' as const, name: t.name }))),
  ])
  const offsets = new Map<string, { earliest: number | null; end: number | null }>()
  for (const [i, q] of queries.entries()) {
    const e = earliest[i]!
    const l = latest[i]!
    offsets.set(`${q.topic}:${q.partition}`, {
      earliest: e.error ? null : Number(e.offset),
      end: l.error ? null : Number(l.offset),
    })
  }
  return ok.map((t, i) => {
    const c = configs[i]!
    const set: Record<string, string | null> = {}
    if (!c.error) for (const e of c.configs) if (!e.isDefault && e.source !== 'static-broker') set[e.name] = e.value
    return {
      name: t.name,
      topicId: t.topicId,
      internal: t.internal,
      partitions: t.partitions.map((p) => ({
        partition: p.partition,
        leader: p.leader,
        replicas: p.replicas,
        isr: p.isr,
        ...offsets.get(`${t.name}:${p.partition}`)!,
      })),
      configs: set,
    }
  })
}

function renderTopic(t: DescribedTopic): string {
  const rf = t.partitions[0]?.replicas.length ?? 0
  const lines = [
    `topic ${t.name}  id ${t.topicId}  ${t.partitions.length} partitions  replication ${rf}${t.internal ? '  (internal)' : ''}`,
  ]
  const cfg = Object.entries(t.configs)
  lines.push(
    cfg.length === 0
      ? 'configs: (defaults)'
      : `configs: ${cfg.map(([k, v]) => `${k}=${v ?? '(sensitive)'}`).join(', ')}`,
  )
  const rows = [['PARTITION', 'LEADER', 'REPLICAS', 'ISR', 'EARLIEST', 'END']]
  for (const p of t.partitions) {
    rows.push([
      String(p.partition),
      p.leader === null ? 'none' : String(p.leader),
      p.replicas.join(','),
      p.isr.join(','),
      p.earliest === null ? '?' : String(p.earliest),
      p.end === null ? '?' : String(p.end),
    ])
  }
  lines.push(table(rows, new Set([0, 1, 4, 5])))
  return lines.join('\n')
}
