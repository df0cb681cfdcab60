/**
 * Question: how many 1 KiB records per second does Skiff's producer get into a local broker, next to the Java
 * client (ProducerPerformance), kcat (librdkafka), @platformatic/kafka and kafkajs, without compression and with
 * lz4, at acks=1 and acks=all? (Issue 5, "Speed": target ≥ 0.8x Java, ≥ 1.5x @platformatic/kafka and kafkajs.)
 *
 *   npm run bench:produce                                  # 1M records per run, 4 cases (long: ~1 GB per run)
 *   npx tsx bench/produce.ts --records=200000              # a shorter run
 *   npx tsx bench/produce.ts --cases=lz4:1 --clients=skiff,java --runs=5
 *   npx tsx bench/produce.ts --records=200000 --cases=none:1 --clients=skiff --profile=/tmp/prof
 *
 * Options: --records=N (default 1 000 000), --runs=R measured rounds (default 3), --cases=codec:acks,... (none:1,
 * none:all, lz4:1, lz4:all), --clients=java,skiff,kcat,platformatic,kafkajs, --payload=json|same (see
 * payloadPool), --profile=DIR (one extra, untimed Skiff run per case under the V8 sampling profiler; the top
 * self-time functions are printed under the table), --no-build (reuse the Skiff bundle).
 *
 * Method. One broker (Kafka from Maven Central on the local JVM, 1 GiB heap) for the whole run. Every run produces
 * N records into a fresh topic of 1 partition, which is checked and deleted afterwards: its end offset must be N
 * (else the run fails, loudly), and the size of its log on disk shows whether the batches were compressed. Per
 * case, every client first does one warm-up run of N/5 records, then R rounds follow in which each client runs
 * once, a different one first each round, so load from elsewhere on this shared machine lands on all of them
 * alike. Cells are medians of the R runs.
 * - Node clients (Skiff, @platformatic/kafka, kafkajs) each live in their own child process for the whole bench
 *   (fresh JIT and heap per client) and time themselves with the monotonic clock from the first record handed over
 *   (the client connects and fetches metadata inside the timed span, as the Java tool does) until every record is
 *   acknowledged. Skiff runs as users get it: src/ bundled by tsup as dist/ is.
 * - Java: ProducerPerformance from the broker's Maven cache, one JVM per run, N records with N/5 warm-up records;
 *   its steady-state line (the last 4N/5 records, JIT warm) is the "java" row the ratios use; its whole-run line
 *   is shown below it.
 * - kcat: `kcat -P` reading N lines from a file; the whole process is timed (start-up included).
 * MB/s counts 10^6 bytes of record values. "cpu s" is the client's CPU time per run: the child process over the timed
 * span for Node clients, the whole process (/usr/bin/time) for kcat and Java (JVM start-up, JIT and warm-up records
 * included). The broker runs on the same 2 cores; a client that burns more CPU leaves less to the broker.
 */
import { once } from 'node:events'
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { KafkaCluster } from '../src/testing/index.js'
import {
  argValue,
  BROKER_HEAP_MB,
  BROKER_PROPERTIES,
  bundleSkiff,
  type ChildResult,
  fmtInt,
  fmtK,
  intArg,
  javaVersion,
  kcatVersion,
  listArg,
  loadSkiff,
  loadText,
  MB,
  measured,
  median,
  type NodeChild,
  packageVersion,
  payloadPool,
  runTool,
  type Skiff,
  serveChild,
  skiffRevision,
  spawnChild,
  startBroker,
  table,
  topicLogBytes,
  VALUE_BYTES,
  writePayloadFile,
} from './lib/broker-bench.js'

const require = createRequire(import.meta.url)

const CLIENTS = ['java', 'skiff', 'kcat', 'platformatic', 'kafkajs'] as const
type Client = (typeof CLIENTS)[number]
const NODE_CLIENTS: readonly Client[] = ['skiff', 'platformatic', 'kafkajs']
const LABEL: Record<Client, string> = {
  java: 'java ProducerPerformance',
  skiff: 'skiff',
  kcat: 'kcat',
  platformatic: '@platformatic/kafka',
  kafkajs: 'kafkajs',
}
const CASES = ['none:1', 'none:all', 'lz4:1', 'lz4:all'] as const
type CaseId = (typeof CASES)[number]
type Codec = 'none' | 'lz4'

/** Settings every client gets where it has them. */
const LINGER_MS = 5
const BATCH_BYTES = 1024 * 1024
/** The peers without a linger/batch accumulator send this many records per call, this many calls at once. */
const PEER_BATCH = 1000
const PEER_WINDOW = 5
const PARTITIONS = 1

interface ProduceOrder {
  bootstrap: string
  topic: string
  records: number
  codec: Codec
  acks: 1 | -1
  profile?: string
}

// ---------------------------------------------------------------------------------------------------------------
// Node clients (each in its own child process)

type Runner = (o: ProduceOrder) => Promise<ChildResult>

async function skiffRunner(pool: readonly Buffer[], bundle: string): Promise<Runner> {
  const skiff: Skiff = await loadSkiff(bundle)
  return (o) =>
    measured(async () => {
      const producer = new skiff.Producer({
        bootstrap: o.bootstrap,
        clientId: 'bench-skiff',
        acks: o.acks === -1 ? 'all' : 1,
        compression: o.codec,
        lingerMs: LINGER_MS,
        batchBytes: BATCH_BYTES,
      })
      let acked = 0
      let failed = 0
      let firstError: Error | undefined
      const done = (err: Error | null) => {
        if (err) {
          failed++
          firstError ??= err
        } else acked++
      }
      const { topic, records: n } = o
      const size = pool.length
      const t0 = performance.now()
      for (let i = 0; i < n; i++) {
        if (!producer.produce({ topic, value: pool[i % size]! }, done)) await once(producer, 'drain')
      }
      await producer.flush()
      const ms = performance.now() - t0
      const s = producer.stats()
      await producer.close()
      if (failed > 0 || acked !== n)
        throw new Error(`skiff: ${acked} of ${n} acknowledged, ${failed} failed: ${firstError}`)
      return {
        ms,
        records: acked,
        bytes: n * VALUE_BYTES,
        extra: {
          batches: s.batchesSent,
          requests: s.requests,
          retries: s.retries,
          idempotent: producer.options.idempotent,
        },
      }
    }, o.profile)
}

/** Sends records [0, n) in calls of `batch` records, `window` calls in flight at once. */
async function windowed(
  n: number,
  batch: number,
  window: number,
  send: (from: number, to: number) => Promise<unknown>,
) {
  let next = 0
  const lane = async () => {
    while (next < n) {
      const from = next
      next = Math.min(n, next + batch)
      await send(from, next)
    }
  }
  await Promise.all(Array.from({ length: window }, lane))
}

async function platformaticRunner(pool: readonly Buffer[]): Promise<Runner> {
  const { Producer } = await import('@platformatic/kafka')
  return (o) =>
    measured(async () => {
      const size = pool.length
      const t0 = performance.now()
      const producer = new Producer({
        clientId: 'bench-platformatic',
        bootstrapBrokers: [o.bootstrap],
        acks: o.acks,
        compression: o.codec,
      })
      let acked = 0
      await windowed(o.records, PEER_BATCH, PEER_WINDOW, async (from, to) => {
        const messages = new Array(to - from)
        for (let i = from; i < to; i++) messages[i - from] = { topic: o.topic, value: pool[i % size]! }
        await producer.send({ messages })
        acked += to - from
      })
      const ms = performance.now() - t0
      await producer.close()
      return { ms, records: acked, bytes: o.records * VALUE_BYTES }
    }, o.profile)
}

async function kafkajsRunner(pool: readonly Buffer[]): Promise<Runner> {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
  const { Kafka, CompressionTypes, logLevel } = require('kafkajs') as typeof import('kafkajs')
  return (o) =>
    measured(async () => {
      if (o.codec !== 'none') throw new Error('kafkajs needs a codec plugin for lz4')
      const size = pool.length
      const kafka = new Kafka({ clientId: 'bench-kafkajs', brokers: [o.bootstrap], logLevel: logLevel.NOTHING })
      const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: false, maxInFlightRequests: 5 })
      const t0 = performance.now()
      await producer.connect()
      let acked = 0
      await windowed(o.records, PEER_BATCH, PEER_WINDOW, async (from, to) => {
        const messages = new Array(to - from)
        for (let i = from; i < to; i++) messages[i - from] = { value: pool[i % size]! }
        await producer.send({ topic: o.topic, acks: o.acks, compression: CompressionTypes.None, messages })
        acked += to - from
      })
      const ms = performance.now() - t0
      await producer.disconnect()
      return { ms, records: acked, bytes: o.records * VALUE_BYTES }
    }, o.profile)
}

async function childMain(client: Client): Promise<void> {
  const pool = payloadPool(payloadKind())
  const runner =
    client === 'skiff'
      ? await skiffRunner(pool, argValue('bundle')!)
      : client === 'platformatic'
        ? await platformaticRunner(pool)
        : await kafkajsRunner(pool)
  serveChild(runner)
}

// ---------------------------------------------------------------------------------------------------------------
// External clients (the parent runs them)

interface Ctx {
  kafka: KafkaCluster
  payloadFile: string
  /** kcat input files by record count: N lines each. */
  kcatFiles: Map<number, string>
  workDir: string
}

interface RunResult extends ChildResult {
  /** ProducerPerformance's whole-run rate (records/s); its steady-state one is `records / ms`. */
  javaWholeRate?: number
}

async function runJava(ctx: Ctx, o: ProduceOrder, warmupRecords: number): Promise<RunResult> {
  const args = [
    '-cp',
    ctx.kafka.classpath!,
    'org.apache.kafka.tools.ProducerPerformance',
    '--bootstrap-server',
    o.bootstrap,
    '--topic',
    o.topic,
    '--num-records',
    String(o.records),
    ...(warmupRecords > 0 ? ['--warmup-records', String(warmupRecords)] : []),
    '--payload-file',
    ctx.payloadFile,
    '--throughput',
    '-1',
    '--reporting-interval',
    '600000',
    '--command-property',
    `acks=${o.acks === -1 ? 'all' : '1'}`,
    `linger.ms=${LINGER_MS}`,
    `batch.size=${BATCH_BYTES}`,
    `compression.type=${o.codec}`,
    'client.id=bench-java',
  ]
  const r = await runTool('java', args)
  const whole = /^(\d+) records sent, ([\d.]+) records\/sec/m.exec(r.stdout)
  const steady = /^(\d+) steady state records sent, ([\d.]+) records\/sec/m.exec(r.stdout)
  if (r.code !== 0 || !whole || Number(whole[1]) !== o.records || (warmupRecords > 0 && !steady)) {
    throw new Error(`ProducerPerformance failed (exit ${r.code}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`)
  }
  const wholeRate = Number(whole[2])
  const [records, rate] = steady ? [Number(steady[1]), Number(steady[2])] : [o.records, wholeRate]
  return {
    ms: (records / rate) * 1000,
    records,
    bytes: records * VALUE_BYTES,
    cpuSec: r.cpuSec,
    javaWholeRate: wholeRate,
  }
}

async function runKcat(ctx: Ctx, o: ProduceOrder): Promise<RunResult> {
  const file = ctx.kcatFiles.get(o.records)!
  const args = [
    '-P',
    '-b',
    o.bootstrap,
    '-t',
    o.topic,
    '-z',
    o.codec,
    '-X',
    `acks=${o.acks === -1 ? 'all' : '1'}`,
    '-X',
    `linger.ms=${LINGER_MS}`,
    '-X',
    `batch.size=${BATCH_BYTES}`,
    '-X',
    'message.max.bytes=2000000',
    '-X',
    'client.id=bench-kcat',
  ]
  const r = await runTool('kcat', args, { stdin: file })
  if (r.code !== 0 || /ERROR|Failed/.test(r.stderr)) {
    throw new Error(`kcat failed (exit ${r.code}): ${r.stderr.slice(-2000)}`)
  }
  return { ms: r.ms, records: o.records, bytes: o.records * VALUE_BYTES, cpuSec: r.cpuSec }
}

// ---------------------------------------------------------------------------------------------------------------
// Parent

function payloadKind(): 'json' | 'same' {
  const p = argValue('payload') ?? 'json'
  if (p !== 'json' && p !== 'same') throw new Error(`--payload must be json or same, got ${p}`)
  return p
}

function writeKcatFile(path: string, pool: readonly Buffer[], n: number): void {
  const fd = openSync(path, 'w')
  const chunk: Buffer[] = []
  const nl = Buffer.from('\n')
  for (let i = 0; i < n; i++) {
    chunk.push(pool[i % pool.length]!, nl)
    if (chunk.length >= 8192 || i === n - 1) {
      writeSync(fd, Buffer.concat(chunk))
      chunk.length = 0
    }
  }
  closeSync(fd)
}

interface Sample {
  recordsPerSec: number
  cpuSec: number
  logBytes: number
  javaWholeRate?: number
  extra?: Record<string, unknown>
}

async function main(): Promise<void> {
  const child = argValue('child')
  if (child) return childMain(child as Client)

  const N = intArg('records', 1_000_000)
  const runs = intArg('runs', 3)
  const warmN = Math.max(1000, Math.floor(N / 5))
  const cases = listArg('cases', CASES)
  const clients = listArg('clients', CLIENTS)
  const profileDir = argValue('profile')
  const payload = payloadKind()
  const pool = payloadPool(payload)

  const bundle = bundleSkiff('bench-produce')
  const { Admin } = await loadSkiff(bundle)
  const kafka = await startBroker()
  const workDir = mkdtempSync(join(tmpdir(), 'skiff-bench-produce-'))
  const cleanup = () => rmSync(workDir, { recursive: true, force: true })
  process.on('exit', cleanup)
  const payloadFile = join(workDir, 'payloads.txt')
  writePayloadFile(payloadFile, pool)
  const kcatFiles = new Map<number, string>()
  if (clients.includes('kcat')) {
    for (const n of new Set([N, warmN])) {
      const f = join(workDir, `kcat-${n}.txt`)
      writeKcatFile(f, pool, n)
      kcatFiles.set(n, f)
    }
  }
  const ctx: Ctx = { kafka, payloadFile, kcatFiles, workDir }
  const admin = new Admin({ bootstrap: kafka.bootstrap })
  const children = new Map<Client, NodeChild>()
  const script = fileURLToPath(import.meta.url)
  for (const c of clients) {
    if (NODE_CLIENTS.includes(c))
      children.set(c, await spawnChild(script, c, [`--bundle=${bundle}`, `--payload=${payload}`]))
  }

  console.log(
    `produce ${fmtK(N)} x 1 KiB records; node ${process.version}, kafka ${kafka.version} (jvm, ${BROKER_HEAP_MB} MiB heap), ` +
      `${skiffRevision()}, ${javaVersion()}, ${kcatVersion()}, @platformatic/kafka ${packageVersion('@platformatic/kafka')}, kafkajs ${packageVersion('kafkajs')}`,
  )
  console.log(
    `${runs} measured rounds per case after a warm-up run of ${fmtK(warmN)}; a fresh ${PARTITIONS}-partition topic per run; ` +
      `values: ${payload === 'json' ? '10 000 distinct JSON log lines' : 'one random A-Z line, repeated'}; ${loadText()}`,
  )
  console.log(`broker overrides: ${JSON.stringify(BROKER_PROPERTIES)}\n`)

  let topicSeq = 0
  const failures: string[] = []

  const runOnce = async (client: Client, caseId: CaseId, records: number, profile?: string): Promise<Sample> => {
    const [codec, acksText] = caseId.split(':') as [Codec, string]
    const acks = acksText === 'all' ? -1 : 1
    const topic = `bench-produce-${++topicSeq}-${client}`
    const created = await admin.createTopics([{ name: topic, partitions: PARTITIONS, replicationFactor: 1 }])
    if (created[0]?.error) throw created[0].error
    try {
      const o: ProduceOrder = { bootstrap: kafka.bootstrap, topic, records, codec, acks, profile }
      const r: RunResult =
        client === 'java'
          ? await runJava(ctx, o, records === N ? Math.floor(N / 5) : 0)
          : client === 'kcat'
            ? await runKcat(ctx, o)
            : await children.get(client)!.run(o)
      // Correctness: the log holds exactly what was sent.
      const ends = await admin.listOffsets(
        Array.from({ length: PARTITIONS }, (_, p) => ({ topic, partition: p, spec: 'latest' as const })),
      )
      let end = 0n
      for (const e of ends) {
        if (e.error) throw e.error
        end += e.offset
      }
      if (end !== BigInt(records)) {
        throw new Error(`${client} ${caseId}: the topic holds ${end} records after producing ${records}`)
      }
      const logBytes = topicLogBytes(kafka, topic, PARTITIONS)
      if (codec === 'none' && logBytes < records * VALUE_BYTES) {
        throw new Error(`${client} ${caseId}: ${logBytes} bytes on disk for ${records} uncompressed 1 KiB records`)
      }
      if (codec !== 'none' && payload === 'json' && logBytes > 0.8 * records * VALUE_BYTES) {
        throw new Error(`${client} ${caseId}: ${logBytes} bytes on disk: were the batches compressed?`)
      }
      return {
        recordsPerSec: r.records / (r.ms / 1000),
        cpuSec: r.cpuSec,
        logBytes,
        javaWholeRate: r.javaWholeRate,
        extra: r.extra,
      }
    } finally {
      await admin.deleteTopics([topic]).catch(() => {})
    }
  }

  for (const caseId of cases) {
    const [codec, acks] = caseId.split(':') as [Codec, string]
    const active = clients.filter((c) => !(c === 'kafkajs' && codec !== 'none'))
    const samples = new Map<Client, Sample[]>(active.map((c) => [c, []]))
    const failed = new Map<Client, string>()
    const attempt = async (c: Client, records: number, keep: boolean) => {
      if (failed.has(c)) return
      try {
        const s = await runOnce(c, caseId, records)
        if (keep) samples.get(c)!.push(s)
      } catch (e) {
        const msg = (e as Error).message.split('\n')[0]!
        failed.set(c, msg)
        failures.push(`${caseId} ${c}: ${(e as Error).message}`)
        console.error(`FAILED ${caseId} ${c}: ${(e as Error).stack}`)
      }
    }
    for (const c of active) await attempt(c, warmN, false)
    for (let round = 0; round < runs; round++) {
      for (let k = 0; k < active.length; k++) await attempt(active[(round + k) % active.length]!, N, true)
    }
    const profileLines: string[] = []
    if (profileDir && active.includes('skiff') && !failed.has('skiff')) {
      const file = join(profileDir, `produce-skiff-${codec}-acks${acks}.cpuprofile`)
      rmSync(file, { force: true })
      mkdirSync(profileDir, { recursive: true })
      const topic = `bench-produce-${++topicSeq}-skiff-profile`
      await admin.createTopics([{ name: topic, partitions: PARTITIONS, replicationFactor: 1 }])
      const r = await children.get('skiff')!.run({
        bootstrap: kafka.bootstrap,
        topic,
        records: N,
        codec,
        acks: acks === 'all' ? -1 : 1,
        profile: file,
      } satisfies ProduceOrder)
      await admin.deleteTopics([topic]).catch(() => {})
      profileLines.push(
        `skiff profiled run (untimed): ${fmtInt(N / (r.ms / 1000))} records/s under the profiler`,
        ...(r.profile ?? []),
      )
    }
    printTable(caseId, N, samples, failed, clients, payload)
    for (const l of profileLines) console.log(`  ${l}`)
    console.log('')
  }

  for (const c of children.values()) c.exit()
  await admin.close()
  await kafka.stop()
  if (failures.length > 0) {
    console.error(`\n${failures.length} run(s) failed:\n${failures.join('\n')}`)
    process.exitCode = 1
  }
}

function printTable(
  caseId: CaseId,
  n: number,
  samples: Map<Client, Sample[]>,
  failed: Map<Client, string>,
  clients: readonly Client[],
  payload: string,
): void {
  const [codec, acks] = caseId.split(':') as [Codec, string]
  const rate = (c: Client) => median((samples.get(c) ?? []).map((s) => s.recordsPerSec))
  const javaRate = rate('java')
  const rows: string[][] = []
  const row = (label: string, xs: Sample[] | undefined, r: number, cpu: number, why?: string) => {
    if (why !== undefined) {
      rows.push([label, 'n/a', '', '', '', '', why])
      return
    }
    const disk = median((xs ?? []).map((s) => s.logBytes)) / MB
    rows.push([
      label,
      fmtInt(r),
      ((r * VALUE_BYTES) / MB).toFixed(1),
      Number.isFinite(javaRate) ? (r / javaRate).toFixed(2) : '',
      Number.isFinite(cpu) ? cpu.toFixed(1) : '',
      Number.isFinite(disk) ? disk.toFixed(0) : '',
      (xs ?? []).map((s) => fmtK(s.recordsPerSec)).join(' '),
    ])
  }
  for (const c of clients) {
    const xs = samples.get(c)
    if (c === 'kafkajs' && codec !== 'none') {
      row(LABEL[c], undefined, Number.NaN, Number.NaN, 'lz4 needs a codec plugin')
      continue
    }
    if (failed.has(c)) {
      row(LABEL[c], undefined, Number.NaN, Number.NaN, `FAILED: ${failed.get(c)!.slice(0, 100)}`)
      continue
    }
    const cpu = median((xs ?? []).map((s) => s.cpuSec))
    row(c === 'java' ? `${LABEL[c]} (steady state)` : LABEL[c], xs, rate(c), cpu)
    if (c === 'java') {
      const whole = (xs ?? []).map((s) => ({ ...s, recordsPerSec: s.javaWholeRate ?? Number.NaN }))
      row('  java, whole run (cold JVM)', whole, median(whole.map((s) => s.recordsPerSec)), Number.NaN)
    }
  }
  const title =
    `produce ${fmtK(n)} x 1 KiB, ${codec === 'none' ? 'no compression' : codec}, acks=${acks}, ${PARTITIONS} partition, ` +
    `broker on 127.0.0.1`
  console.log(`${title}     (${payload} values; ${loadText()})`)
  const lines = table(
    [
      { title: 'client' },
      { title: 'records/s' },
      { title: 'MB/s' },
      { title: 'vs java' },
      { title: 'cpu s' },
      { title: 'disk MB' },
      { title: 'runs (records/s)', align: 'left' },
    ],
    rows,
  )
  for (const l of lines) console.log(l)
  const skiffExtra = samples.get('skiff')?.[0]?.extra
  const notes = [
    `java: linger.ms=${LINGER_MS} batch.size=${BATCH_BYTES} buffer.memory=32 MiB max.in.flight=5, idempotent with acks=all (its default); ` +
      `ratios use its steady-state rate (last 4/5 of the run, after --warmup-records ${fmtK(n / 5)})`,
    `skiff: produce(record, cb) + flush(), lingerMs ${LINGER_MS}, batchBytes ${BATCH_BYTES}, bufferBytes 32 MiB, 5 in flight` +
      (skiffExtra
        ? `, idempotent ${skiffExtra.idempotent}; ${fmtInt(Number(skiffExtra.batches))} batches ` +
          `(~${fmtInt(n / Number(skiffExtra.batches))} records each) in ${fmtInt(Number(skiffExtra.requests))} requests, ` +
          `${skiffExtra.retries} retries`
        : ''),
    `kcat: -X linger.ms=${LINGER_MS} batch.size=${BATCH_BYTES} (librdkafka buffers up to 1 GB, not idempotent), whole process timed`,
    `@platformatic/kafka, kafkajs: send() of ${PEER_BATCH} records (~1 MiB, one batch) per call, ${PEER_WINDOW} calls in flight ` +
      `(they have no linger accumulator), not idempotent`,
    `one broker: acks=all waits for the leader alone, as acks=1 does; "disk MB" is the topic's log after the run`,
  ]
  for (const l of notes) console.log(`  ${l}`)
}

await main()
