/**
 * The README's first command. Starts a local Kafka with the test harness, writes a realistic sample — JSON log events
 * from a few services, in gzip, lz4 and zstd, plus one zstd batch of verbose debug output that expands past a small
 * decompression budget — and then uses the `skiff` CLI on it as a person would, each command a child process:
 *
 * 1. `skiff fetch` with a 1 MiB budget and --skip-oversized: records on stdout, the oversized batch reported on
 *    stderr with its offsets, and the fetch carries on past it;
 * 2. the same without --skip-oversized: exit 1 and a message that says what to do;
 * 3. a consumer group that has read everything older than five minutes (`skiff fetch -g ... --until @time`);
 * 4. `skiff lag` for that group: records behind, and how old the oldest unread record is.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { Admin, type Message, Producer } from '../src/index.js'
import { startKafka } from '../src/testing/index.js'

const root = join(import.meta.dirname, '..')
const SERVICES = ['checkout', 'search', 'payments'] as const
const ROUTES = ['/api/cart', '/api/search', '/api/pay', '/api/orders/:id', '/healthz'] as const
const out = (s = '') => process.stdout.write(`${s}\n`)
const dim = (s: string) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[2m${s}\x1b[0m` : s)
const bold = (s: string) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[1m${s}\x1b[0m` : s)

const t0 = Date.now()
out('Starting a local Apache Kafka (KRaft, one broker) with the test harness...')
const kafka = await startKafka({ brokers: 1 })
out(
  `Kafka ${kafka.version} is up at ${kafka.bootstrap} (${kafka.provider}, ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
)
out()

const topic = 'app-logs'
const b = kafka.bootstrap
try {
  const admin = new Admin({ bootstrap: b })
  const [created] = await admin.createTopics([{ name: topic, partitions: 3 }])
  if (created?.error) throw created.error
  await admin.close()

  // --- a sample: 15 minutes of log events, one partition per codec ------------------------------------------------
  const now = Date.now()
  const start = now - 15 * 60_000
  const perPartition = 600
  const codecs = ['gzip', 'lz4', 'zstd'] as const
  out(`Producing JSON log events to ${topic} (3 partitions), timestamps spread over the last 15 minutes:`)
  const events = (partition: number) =>
    Array.from({ length: perPartition }, (_, i) =>
      logEvent(start + Math.floor(((i + 0.5) * 15 * 60_000) / perPartition), partition),
    )
  for (const [partition, codec] of codecs.entries()) {
    if (partition === 0) continue
    const producer = new Producer({ bootstrap: b, compression: codec, lingerMs: 20 })
    const metas = await producer.send({ topic, messages: events(partition) })
    await producer.close()
    out(
      `  partition ${partition}: ${perPartition} events, ${codec.padEnd(4)} offsets ${metas[0]!.offset}..${metas.at(-1)!.offset}`,
    )
  }
  // Partition 0 (gzip) has a burst of debug output ten minutes ago: one lingering zstd batch of 6,000 verbose,
  // highly compressible records — a few KiB on the wire that expand to several MiB, the shape of a decompression
  // bomb, if a mild one.
  const gzip = new Producer({ bootstrap: b, compression: 'gzip', lingerMs: 20 })
  const p0 = events(0)
  const tenMinutesAgo = now - 10 * 60_000
  const before = p0.filter((m) => (m.timestamp as number) < tenMinutesAgo)
  const afterBurst = p0.filter((m) => (m.timestamp as number) >= tenMinutesAgo)
  const m1 = await gzip.send({ topic, messages: before })
  const burst = new Producer({ bootstrap: b, compression: 'zstd', lingerMs: 500, batchBytes: 16 * 1024 * 1024 })
  const dump = Array.from({ length: 6000 }, (_, i) => debugEvent(tenMinutesAgo + Math.floor(i / 100), i))
  const dumpMetas = await burst.send({ topic, messages: dump })
  await burst.close()
  const m2 = await gzip.send({ topic, messages: afterBurst })
  await gzip.close()
  const dumpBytes = dump.reduce((sum, m) => sum + String(m.value).length, 0)
  const dumpFirst = dumpMetas[0]!.offset
  out(
    `  partition 0: ${perPartition} events, gzip offsets ${m1[0]!.offset}..${m1.at(-1)!.offset} and ${m2[0]!.offset}..${m2.at(-1)!.offset}`,
  )
  out(
    `               between them one zstd batch of ${dump.length.toLocaleString('en-US')} debug records (${(dumpBytes / 2 ** 20).toFixed(1)} MiB of JSON), offsets ${dumpFirst}..${dumpMetas.at(-1)!.offset}`,
  )
  out()

  // --- the CLI, as a user runs it ----------------------------------------------------------------------------------
  await skiff(
    'Read partition 0 with a 1 MiB decompression budget: the debug batch is skipped and reported, the rest printed',
    [
      'fetch',
      '-b',
      b,
      '-t',
      topic,
      '-p',
      '0',
      '--value',
      'json',
      '--max-decompressed-bytes',
      '1MiB',
      '--skip-oversized',
    ],
    { head: 3, tail: 2 },
  )
  await skiff(
    'The same without --skip-oversized: the fetch stops at that batch, with a message that says what to do',
    [
      'fetch',
      '-b',
      b,
      '-t',
      topic,
      '-p',
      '0',
      '-o',
      String(dumpFirst - 5),
      '-f',
      'text',
      '--max-decompressed-bytes',
      '1MiB',
    ],
    { head: 12, tail: 0 },
  )
  const fiveMinutesAgo = new Date(now - 5 * 60_000).toISOString()
  await skiff(
    'A consumer group "log-indexer" reads everything older than five minutes, and commits where it stopped',
    [
      'fetch',
      '-b',
      b,
      '-t',
      topic,
      '-g',
      'log-indexer',
      '--until',
      `@${fiveMinutesAgo}`,
      '-f',
      'text',
      '--max-decompressed-bytes',
      '1MiB',
      '--skip-oversized',
    ],
    { head: 2, tail: 1 },
  )
  await skiff(
    'How far behind is it? Records, and the age of the oldest record it has not read',
    ['lag', '-b', b, '-g', 'log-indexer'],
    {
      head: 20,
      tail: 0,
    },
  )
} finally {
  await kafka.stop()
  out(`Broker stopped. Total ${((Date.now() - t0) / 1000).toFixed(1)} s`)
}

/** Runs `skiff <args>` in a child process and shows its stdout (the first and last lines), stderr and exit code. */
async function skiff(title: string, args: string[], show: { head: number; tail: number }): Promise<void> {
  out(bold(`# ${title}`))
  out(`$ skiff ${args.map((a) => (/[\s"@]/.test(a) && !a.startsWith('@') ? JSON.stringify(a) : a)).join(' ')}`)
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/index.ts'), ...args], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  const lines = stdout.split('\n').filter((l) => l !== '')
  const shown =
    lines.length <= show.head + show.tail + 1
      ? lines
      : [
          ...lines.slice(0, show.head),
          dim(`... ${(lines.length - show.head - show.tail).toLocaleString('en-US')} more lines ...`),
          ...lines.slice(lines.length - show.tail),
        ]
  for (const l of shown) out(l.length > 160 ? `${l.slice(0, 157)}...` : l)
  for (const l of stderr.split('\n').filter((x) => x !== '')) out(`${dim('stderr:')} ${l}`)
  out(dim(`(exit ${code}; ${lines.length.toLocaleString('en-US')} line${lines.length === 1 ? '' : 's'} on stdout)`))
  out()
}

function logEvent(ts: number, partition: number): Message {
  const service = SERVICES[partition % SERVICES.length]!
  const r = Math.random()
  const status = r < 0.9 ? 200 : r < 0.97 ? 404 : 500
  const level = status === 500 ? 'error' : status === 404 ? 'warn' : 'info'
  const route = ROUTES[Math.floor(Math.random() * ROUTES.length)]!
  const latency = Math.round(5 + Math.random() ** 3 * 900)
  const event = {
    ts: new Date(ts).toISOString(),
    level,
    service,
    route,
    status,
    latency_ms: latency,
    trace_id: randomBytes(8).toString('hex'),
    user_id: `u-${1000 + Math.floor(Math.random() * 9000)}`,
    msg: status === 500 ? 'upstream timed out' : status === 404 ? 'not found' : 'request served',
  }
  return {
    key: service,
    value: JSON.stringify(event),
    headers: { 'content-type': 'application/json' },
    partition,
    timestamp: ts,
  }
}

function debugEvent(ts: number, i: number): Message {
  const event = {
    ts: new Date(ts).toISOString(),
    level: 'debug',
    service: 'checkout',
    msg: 'cache state dump',
    seq: i,
    state: 'entry=ok;'.repeat(100),
  }
  return { key: 'checkout', value: JSON.stringify(event), partition: 0, timestamp: ts }
}
