/**
 * Question: how long does `skiff fetch` take to read 1M records of 1 KiB to /dev/null as JSON lines, next to
 * `kcat -C -J -e` (C, librdkafka) on the same broker, in the same run? Target: ≤ 1.5× kcat's wall time.
 *
 * Method. One local broker (the harness, jvm provider); one topic, 1 partition by default, written once with Skiff's
 * producer (uncompressed, or `--codec=`): 16-byte keys, 1 KiB values of printable ASCII, no headers. Each client
 * then reads the whole partition from the beginning to the end offset taken at its start, output to /dev/null, as
 * a user would run it: `node dist/cli/index.js fetch -b B -t T` (the built CLI — run `npm run build` first, or let
 * this script build it; tsx's compile-on-load would count otherwise) and `kcat -b B -t T -C -J -e -o beginning -q`.
 * Runs alternate between the clients (kcat, skiff, kcat, skiff, ...) so background load lands on both alike; the
 * table shows the median and best wall time of `--runs` (default 3) each, plus user+system CPU seconds from
 * /usr/bin/time. Before timing, one run of each is piped through a line counter to check it printed every record.
 *
 *   npm run bench:cli                                 # 1M x 1 KiB, 3 runs each
 *   npx tsx bench/cli.ts --records=200000 --runs=5    # smaller
 *   npx tsx bench/cli.ts --bootstrap=127.0.0.1:9092   # an existing broker (the topic is created there)
 *   npx tsx bench/cli.ts --codec=lz4 --partitions=4
 */
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Admin, type CompressionOption, Producer } from '../src/index.js'
import { startKafka } from '../src/testing/index.js'

const arg = (name: string, def: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? def
const RECORDS = Number(arg('records', '1000000'))
const RUNS = Number(arg('runs', '3'))
const PARTITIONS = Number(arg('partitions', '1'))
const CODEC = arg('codec', 'none') as CompressionOption
const VALUE_BYTES = Number(arg('value-bytes', '1024'))
const root = join(import.meta.dirname, '..')
const cli = join(root, 'dist', 'cli', 'index.js')

if (!existsSync(cli) || process.argv.includes('--build')) {
  process.stderr.write('building dist/ (npm run build)...\n')
  spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' })
}
if (spawnSync('kcat', ['-V'], { stdio: 'ignore' }).status !== 0) {
  process.stderr.write('kcat is not installed (apt-get install kcat)\n')
  process.exit(1)
}

const given = arg('bootstrap', '')
const kafka = given ? undefined : await startKafka({ brokers: 1 })
const bootstrap = given || kafka!.bootstrap
const topic = `bench-cli-${randomBytes(4).toString('hex')}`
try {
  const admin = new Admin({ bootstrap })
  const [created] = await admin.createTopics([{ name: topic, partitions: PARTITIONS }])
  if (created?.error) throw created.error
  await admin.close()
  await fill()

  const clients: Array<{ name: string; cmd: string; args: string[] }> = [
    {
      name: 'kcat -C -J -e',
      cmd: 'kcat',
      args: ['-b', bootstrap, '-t', topic, '-C', '-J', '-e', '-o', 'beginning', '-q'],
    },
    { name: 'skiff fetch (node dist)', cmd: process.execPath, args: [cli, 'fetch', '-b', bootstrap, '-t', topic] },
  ]
  for (const c of clients) {
    const lines = await countLines(c.cmd, c.args)
    if (lines !== RECORDS) throw new Error(`${c.name} printed ${lines} lines, expected ${RECORDS}`)
  }
  process.stderr.write(
    `both clients printed all ${RECORDS.toLocaleString('en-US')} records; timing ${RUNS} runs each\n`,
  )
  const times = new Map(clients.map((c) => [c.name, [] as Array<{ wall: number; cpu: number }>]))
  for (let run = 0; run < RUNS; run++) {
    for (const c of run % 2 === 0 ? clients : [...clients].reverse()) {
      const t = await timed(c.cmd, c.args)
      times.get(c.name)!.push(t)
      process.stderr.write(`  run ${run + 1} ${c.name}: ${t.wall.toFixed(2)} s wall, ${t.cpu.toFixed(2)} s cpu\n`)
    }
  }
  const mb = (RECORDS * (VALUE_BYTES + 16)) / 1e6
  const kcatMedian = median(times.get(clients[0]!.name)!.map((t) => t.wall))
  const rows = clients.map((c) => {
    const ts = times.get(c.name)!
    const wall = median(ts.map((t) => t.wall))
    return [
      c.name,
      wall.toFixed(2),
      Math.min(...ts.map((t) => t.wall)).toFixed(2),
      median(ts.map((t) => t.cpu)).toFixed(2),
      Math.round(RECORDS / wall).toLocaleString('en-US'),
      Math.round(mb / wall).toLocaleString('en-US'),
      (wall / kcatMedian).toFixed(2),
    ]
  })
  const kcatVersion =
    /librdkafka [\d.]+/.exec(spawnSync('kcat', ['-V'], { encoding: 'utf8' }).stdout)?.[0] ?? 'librdkafka'
  const header = ['client', 'median s', 'best s', 'cpu s', 'records/s', 'MB/s', 'vs kcat']
  process.stdout.write(
    `\nfetch ${RECORDS.toLocaleString('en-US')} x ${VALUE_BYTES} B records (16 B keys, ${CODEC}), ${PARTITIONS} partition${PARTITIONS === 1 ? '' : 's'}, ` +
      `to /dev/null as JSON lines, ${RUNS} runs each, broker on 127.0.0.1\n` +
      `(node ${process.versions.node}, kafka ${kafka?.version ?? 'external'}, kcat ${kcatVersion}, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})\n`,
  )
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  for (const r of [header, ...rows])
    process.stdout.write(`${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}\n`)
  const ratio = Number(rows[1]![6])
  process.stdout.write(`\nskiff / kcat = ${ratio.toFixed(2)} (target ≤ 1.50): ${ratio <= 1.5 ? 'met' : 'NOT met'}\n`)
} finally {
  if (kafka) await kafka.stop()
  else {
    const admin = new Admin({ bootstrap })
    await admin.deleteTopics([topic]).catch(() => {})
    await admin.close()
  }
}

/** Writes the records with Skiff's producer: values of printable ASCII, so JSON output is the common escape-free case. */
async function fill(): Promise<void> {
  const t0 = Date.now()
  const producer = new Producer({ bootstrap, compression: CODEC, lingerMs: 20, acks: 1, idempotent: false })
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-_'
  const values = Array.from({ length: 64 }, () => {
    const b = randomBytes(VALUE_BYTES)
    for (let i = 0; i < b.length; i++) b[i] = alphabet.charCodeAt(b[i]! % alphabet.length)
    return b
  })
  let failed: Error | undefined
  for (let i = 0; i < RECORDS; i++) {
    const ok = producer.produce(
      {
        topic,
        key: `key-${String(i).padStart(12, '0')}`,
        value: values[i % values.length]!,
        partition: i % PARTITIONS,
      },
      (err) => {
        if (err) failed ??= err
      },
    )
    if (!ok) await new Promise((r) => producer.once('drain', r))
    if (failed) throw failed
  }
  await producer.flush()
  await producer.close()
  if (failed) throw failed
  process.stderr.write(
    `wrote ${RECORDS.toLocaleString('en-US')} records in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
  )
}

async function countLines(cmd: string, args: string[]): Promise<number> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  let n = 0
  child.stdout.on('data', (d: Buffer) => {
    for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) n++
  })
  const code = await new Promise<number | null>((r) => child.on('close', r))
  if (code !== 0) throw new Error(`${cmd} exited with ${code}`)
  return n
}

/** Wall time measured here; CPU (user + system) by /usr/bin/time. */
async function timed(cmd: string, args: string[]): Promise<{ wall: number; cpu: number }> {
  const timeFile = join(tmpdir(), `skiff-bench-time-${process.pid}`)
  const devNull = openSync('/dev/null', 'w')
  const t0 = process.hrtime.bigint()
  const child = spawn('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, cmd, ...args], {
    stdio: ['ignore', devNull, 'inherit'],
  })
  const code = await new Promise<number | null>((r) => child.on('close', r))
  const wall = Number(process.hrtime.bigint() - t0) / 1e9
  if (code !== 0) throw new Error(`${cmd} exited with ${code}`)
  const [user, sys] = readFileSync(timeFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number)
  rmSync(timeFile, { force: true })
  return { wall, cpu: user! + sys! }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
