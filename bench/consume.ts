/**
 * Question: how many 1 KiB records per second does Skiff's consumer read from a local broker, uncompressed and
 * from lz4 and zstd batches, next to the Java client (ConsumerPerformance), kcat (librdkafka), @platformatic/kafka
 * and kafkajs; and what is its produce → consume latency at low load? (Issue 6, "Speed": target ≥ 1.0x Java,
 * ≥ 1.5x @platformatic/kafka, ≥ 3x kafkajs.)
 *
 *   npm run bench:consume                                  # 1M records per codec, then the latency runs
 *   npx tsx bench/consume.ts --records=200000              # a shorter run
 *   npx tsx bench/consume.ts --codecs=lz4 --clients=skiff,java-warm --runs=5 --no-latency
 *   npx tsx bench/consume.ts --records=200000 --codecs=none --clients=skiff --profile=/tmp/prof --no-latency
 *
 * Options: --records=N (default 1 000 000), --runs=R (default 3), --codecs=none,lz4,zstd,
 * --clients=java,java-warm,skiff,skiff-each,kcat,platformatic,kafkajs, --payload=json|same (see payloadPool in
 * lib/broker-bench.ts), --no-latency / --latency-only, --latency-seconds=S (default 10), --profile=DIR (one extra,
 * untimed run of each Skiff row per codec under the V8 sampling profiler; top self-time functions printed),
 * --no-build (reuse the Skiff bundle and the compiled Java helper).
 *
 * Data. One broker (Kafka from Maven Central on the local JVM, 1 GiB heap). Per codec, one topic of 1 partition
 * gets N records from the Java client (ProducerPerformance, acks=1, linger.ms=5, batch.size=1 MiB), once; its end
 * offset must be N, its size on disk shows the compression, and kcat reads it back once (untimed) to check that it
 * holds N values of 1024 bytes. Every consumer then reads the same N records from offset 0.
 *
 * Method. Per codec, every client does one warm-up read, then R rounds follow in which each client reads once, a
 * different one first each round (load from elsewhere on this shared machine lands on all alike); cells are medians.
 * Every client touches every record's value (adds up its length), and every run must count exactly N records and
 * N x 1024 value bytes, else it fails loudly.
 * - Node clients live in their own child process each (fresh JIT and heap per client) for the whole bench, and time
 *   themselves with the monotonic clock until the N-th record is in hand. Skiff: from constructing the Consumer
 *   (connection, metadata and ListOffsets included; no group). The peers need a consumer group: timed from the
 *   moment they joined it (platformatic: `consume()` resolved; kafkajs: its GROUP_JOIN event), as ConsumerPerformance
 *   reports its fetch time apart from the group join. Skiff runs as users get it: src/ bundled by tsup like dist/.
 * - java ConsumerPerformance: Kafka's tool, one JVM per run (cold JIT); its fetch.nMsg.sec (group join excluded).
 * - java KafkaConsumer, warm: bench/java/JavaClientBench.java, one JVM per run: N/5 records read as warm-up, then a
 *   seek to the beginning and all N timed, counting value bytes (the Node clients are warm too).
 * - kcat: `kcat -C -e -o beginning` writing the values to /dev/null; the whole process is timed.
 * MB/s counts 10^6 bytes of record values. "cpu s": CPU time of the client per run (Node: the child over the timed
 * span; Java, kcat: the whole process, JVM start-up, JIT and warm-up included).
 *
 * Latency. Skiff's producer (acks=1, lingerMs 0) sends one 1 KiB record every 10 ms for 10 s into a fresh topic while
 * Skiff's consumer (maxWaitMs 100, minBytes 1), in the same process, reads it; latency = consume time - produce()
 * call time, after 1 s of warm-up records. The Java pair (KafkaProducer/KafkaConsumer, same settings, a consumer
 * thread) does the same in JavaClientBench. Both also run ping-pong (the next record when the previous one was
 * consumed, 1000 records after 100), which is what Kafka's EndToEndLatency tool does; that tool's own numbers (cold
 * JVM, fetch.max.wait.ms=0, whole-millisecond percentiles) are shown for reference.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
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
  flag,
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
  root,
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

const CLIENTS = ['java', 'java-warm', 'skiff', 'skiff-each', 'kcat', 'platformatic', 'kafkajs'] as const
type Client = (typeof CLIENTS)[number]
const NODE_CLIENTS: readonly Client[] = ['skiff', 'skiff-each', 'platformatic', 'kafkajs']
const LABEL: Record<Client, string> = {
  java: 'java ConsumerPerformance',
  'java-warm': 'java KafkaConsumer, warm',
  skiff: 'skiff batches()',
  'skiff-each': 'skiff for await (message)',
  kcat: 'kcat',
  platformatic: '@platformatic/kafka',
  kafkajs: 'kafkajs eachBatch',
}
const CODECS = ['none', 'lz4', 'zstd'] as const
type Codec = (typeof CODECS)[number]
const PARTITION_MAX_BYTES = 1024 * 1024
const MAX_BYTES = 50 * 1024 * 1024

interface ConsumeOrder {
  kind: 'consume'
  bootstrap: string
  topic: string
  records: number
  codec: Codec
  profile?: string
}

interface LatencyOrder {
  kind: 'latency'
  bootstrap: string
  topic: string
  /** 0: ping-pong. */
  intervalMs: number
  records: number
  warmup: number
}

interface Latency {
  count: number
  p50: number
  p99: number
  max: number
  mean: number
}

// ---------------------------------------------------------------------------------------------------------------
// Node clients (each in its own child process)

type Runner = (o: ConsumeOrder | LatencyOrder) => Promise<ChildResult>

function checkCounts(client: string, o: ConsumeOrder, n: number, bytes: number): void {
  if (n !== o.records || bytes !== o.records * VALUE_BYTES) {
    throw new Error(
      `${client}: read ${n} records / ${bytes} value bytes, expected ${o.records} / ${o.records * VALUE_BYTES}`,
    )
  }
}

async function skiffRunner(bundle: string, perMessage: boolean): Promise<Runner> {
  const skiff: Skiff = await loadSkiff(bundle)
  const consume = (o: ConsumeOrder) =>
    measured(async () => {
      const t0 = performance.now()
      const consumer = new skiff.Consumer({
        client: { bootstrap: o.bootstrap, clientId: 'bench-skiff' },
        resetPolicy: 'earliest',
        partitionMaxBytes: PARTITION_MAX_BYTES,
        maxBytes: MAX_BYTES,
      })
      await consumer.assign([{ topic: o.topic, partition: 0 }])
      const want = o.records
      let n = 0
      let bytes = 0
      let ms = 0
      if (perMessage) {
        for await (const m of consumer) {
          const v = m.value
          if (v !== null) bytes += v.length
          if (++n >= want) {
            ms = performance.now() - t0
            break
          }
        }
      } else {
        for await (const batch of consumer.batches()) {
          const messages = batch.messages
          for (let i = 0; i < messages.length; i++) {
            const v = messages[i]!.value
            if (v !== null) bytes += v.length
          }
          n += messages.length
          if (n >= want) {
            ms = performance.now() - t0
            break
          }
        }
      }
      await consumer.close()
      checkCounts('skiff', o, n, bytes)
      return { ms, records: n, bytes }
    }, o.profile)
  return (o) => (o.kind === 'latency' ? skiffLatency(skiff, o) : consume(o))
}

/** Skiff producer → Skiff consumer in one process: paced (one record every intervalMs) or ping-pong. */
async function skiffLatency(skiff: Skiff, o: LatencyOrder): Promise<ChildResult> {
  const total = o.warmup + o.records
  const values = Array.from({ length: total }, (_, i) => {
    const v = Buffer.alloc(VALUE_BYTES, 97 + (i % 26))
    v.writeUInt32BE(i, 0)
    return v
  })
  const consumer = new skiff.Consumer({
    client: { bootstrap: o.bootstrap, clientId: 'bench-skiff-latency' },
    maxWaitMs: 100,
    minBytes: 1,
  })
  await consumer.assign([{ topic: o.topic, partition: 0, offset: 0 }])
  const producer = new skiff.Producer({ bootstrap: o.bootstrap, clientId: 'bench-skiff-latency', acks: 1, lingerMs: 0 })
  const sent = new Float64Array(total)
  const latencies = new Float64Array(o.records)
  let received = 0
  let wake: (() => void) | undefined
  const reading = (async () => {
    for await (const batch of consumer.batches()) {
      for (const m of batch.messages) {
        const now = performance.now()
        const seq = m.value!.readUInt32BE(0)
        if (seq >= o.warmup) latencies[seq - o.warmup] = now - sent[seq]!
        received++
      }
      wake?.()
      if (received >= total) break
    }
  })()
  let failed: Error | undefined
  const done = (err: Error | null) => {
    if (err) failed ??= err
  }
  const start = performance.now()
  for (let i = 0; i < total; i++) {
    if (o.intervalMs > 0) {
      const wait = start + i * o.intervalMs - performance.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    }
    sent[i] = performance.now()
    producer.produce({ topic: o.topic, partition: 0, value: values[i]! }, done)
    if (o.intervalMs === 0) {
      while (received <= i) await new Promise<void>((r) => (wake = r))
    }
  }
  const timeout = setTimeout(() => consumer.close(), 60_000)
  await reading
  clearTimeout(timeout)
  await producer.close()
  await consumer.close()
  if (failed) throw failed
  if (received < total) throw new Error(`skiff latency: received ${received} of ${total}`)
  return { ms: 0, records: o.records, bytes: 0, cpuSec: Number.NaN, extra: { latency: summarize(latencies) } }
}

function summarize(xs: Float64Array): Latency {
  const s = Float64Array.from(xs).sort()
  const rank = (q: number) => s[Math.max(0, Math.min(s.length - 1, Math.ceil(q * s.length) - 1))]!
  let sum = 0
  for (const x of s) sum += x
  return { count: s.length, p50: rank(0.5), p99: rank(0.99), max: s[s.length - 1]!, mean: sum / s.length }
}

let groupSeq = 0

async function platformaticRunner(): Promise<Runner> {
  const { Consumer, compressionsAlgorithms } = await import('@platformatic/kafka')
  return (o) =>
    measured(
      async () => {
        if (o.kind !== 'consume') throw new Error('platformatic: consume only')
        if (o.codec === 'zstd' && !compressionsAlgorithms.zstd.available) {
          throw new Error(`n/a: zstd needs node:zlib zstd (Node >= 22.15), this is ${process.version}`)
        }
        const consumer = new Consumer({
          clientId: 'bench-platformatic',
          bootstrapBrokers: [o.bootstrap],
          groupId: `bench-platformatic-${process.pid}-${++groupSeq}`,
          maxBytes: MAX_BYTES,
          maxBytesPerPartition: PARTITION_MAX_BYTES,
          minBytes: 1,
          maxWaitTime: 500,
          isolationLevel: 0,
          autocommit: false,
        })
        const stream = await consumer.consume({ topics: [o.topic], mode: 'earliest', autocommit: false })
        const t0 = performance.now()
        let n = 0
        let bytes = 0
        let ms = 0
        for await (const m of stream) {
          const v = m.value as Buffer | undefined
          if (v) bytes += v.length
          if (++n >= o.records) {
            ms = performance.now() - t0
            break
          }
        }
        await stream.close().catch(() => {})
        await consumer.close(true)
        checkCounts('platformatic', o, n, bytes)
        return { ms, records: n, bytes }
      },
      (o as ConsumeOrder).profile,
    )
}

async function kafkajsRunner(): Promise<Runner> {
  const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs')
  return (o) =>
    measured(
      async () => {
        if (o.kind !== 'consume') throw new Error('kafkajs: consume only')
        if (o.codec !== 'none') throw new Error(`n/a: ${o.codec} needs a codec plugin`)
        const kafka = new Kafka({ clientId: 'bench-kafkajs', brokers: [o.bootstrap], logLevel: logLevel.NOTHING })
        const consumer = kafka.consumer({
          groupId: `bench-kafkajs-${process.pid}-${++groupSeq}`,
          maxBytesPerPartition: PARTITION_MAX_BYTES,
          maxBytes: MAX_BYTES,
          minBytes: 1,
          maxWaitTimeInMs: 500,
        })
        let t0 = Number.NaN
        consumer.on(consumer.events.GROUP_JOIN, () => {
          if (Number.isNaN(t0)) t0 = performance.now()
        })
        await consumer.connect()
        await consumer.subscribe({ topic: o.topic, fromBeginning: true })
        let n = 0
        let bytes = 0
        let ms = 0
        await new Promise<void>((resolve, reject) => {
          consumer
            .run({
              autoCommit: false,
              eachBatch: async ({ batch }) => {
                if (n >= o.records) return
                for (const m of batch.messages) {
                  if (m.value) bytes += m.value.length
                }
                n += batch.messages.length
                if (n >= o.records) {
                  ms = performance.now() - t0
                  resolve()
                }
              },
            })
            .catch(reject)
        })
        await consumer.disconnect()
        checkCounts('kafkajs', o, n, bytes)
        return { ms, records: n, bytes }
      },
      (o as ConsumeOrder).profile,
    )
}

async function childMain(client: Client): Promise<void> {
  const runner =
    client === 'skiff' || client === 'skiff-each'
      ? await skiffRunner(argValue('bundle')!, client === 'skiff-each')
      : client === 'platformatic'
        ? await platformaticRunner()
        : await kafkajsRunner()
  serveChild(runner)
}

// ---------------------------------------------------------------------------------------------------------------
// Java and kcat (the parent runs them)

interface Ctx {
  kafka: KafkaCluster
  /** Classpath with the compiled JavaClientBench. */
  benchClasspath: string
}

async function runJavaTool(ctx: Ctx, o: ConsumeOrder): Promise<ChildResult> {
  const args = [
    '-cp',
    ctx.kafka.classpath!,
    'org.apache.kafka.tools.ConsumerPerformance',
    '--bootstrap-server',
    o.bootstrap,
    '--topic',
    o.topic,
    '--num-records',
    String(o.records),
    '--group',
    `bench-java-${process.pid}-${++groupSeq}`,
    '--timeout',
    '60000',
    '--reporting-interval',
    '600000',
  ]
  const r = await runTool('java', args)
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms,
  // fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const line = r.stdout
    .split('\n')
    .map((l) => l.split(',').map((x) => x.trim()))
    .find((f) => f.length >= 10 && /^\d/.test(f[4] ?? ''))
  if (r.code !== 0 || !line) throw new Error(`ConsumerPerformance failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`)
  const n = Number(line[4])
  const mib = Number(line[2])
  const fetchMs = Number(line[7])
  const expectedMib = (o.records * VALUE_BYTES) / 1024 / 1024
  if (n !== o.records || Math.abs(mib - expectedMib) > 0.01) {
    throw new Error(`ConsumerPerformance read ${n} records / ${mib} MiB, expected ${o.records} / ${expectedMib}`)
  }
  return { ms: fetchMs, records: n, bytes: n * VALUE_BYTES, cpuSec: r.cpuSec, extra: { rebalanceMs: Number(line[6]) } }
}

async function runJavaWarm(ctx: Ctx, o: ConsumeOrder, warmup: number): Promise<ChildResult> {
  const args = ['-cp', ctx.benchClasspath, 'JavaClientBench', 'consume', o.bootstrap, o.topic, String(o.records)]
  const r = await runTool('java', [...args, String(warmup)])
  const m = /^RESULT ([\d.]+) (\d+) (\d+)$/m.exec(r.stdout)
  if (r.code !== 0 || !m) throw new Error(`JavaClientBench consume failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`)
  const [ms, n, bytes] = [Number(m[1]), Number(m[2]), Number(m[3])]
  if (n !== o.records || bytes !== o.records * VALUE_BYTES) {
    throw new Error(
      `JavaClientBench read ${n} records / ${bytes} bytes, expected ${o.records} / ${o.records * VALUE_BYTES}`,
    )
  }
  return { ms, records: n, bytes, cpuSec: r.cpuSec }
}

async function runKcat(o: ConsumeOrder): Promise<ChildResult> {
  const args = [
    '-C',
    '-b',
    o.bootstrap,
    '-t',
    o.topic,
    '-p',
    '0',
    '-o',
    'beginning',
    '-e',
    '-X',
    'client.id=bench-kcat',
  ]
  const r = await runTool('kcat', args, { stdout: '/dev/null' })
  // Without -q kcat says where it stopped: "% Reached end of topic T [0] at offset N: exiting".
  const m = /Reached end of topic \S+ \[0\] at offset (\d+)/.exec(r.stderr)
  if (r.code !== 0 || !m || Number(m[1]) !== o.records) {
    throw new Error(`kcat failed or stopped early (exit ${r.code}): ${r.stderr.slice(-1000)}`)
  }
  return { ms: r.ms, records: o.records, bytes: o.records * VALUE_BYTES, cpuSec: r.cpuSec }
}

/** Once per topic, untimed: kcat reads every record back and reports each value's size. */
async function verifyTopic(o: ConsumeOrder): Promise<void> {
  const args = ['-C', '-b', o.bootstrap, '-t', o.topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%o %S\\n']
  const r = await runTool('kcat', args)
  let n = 0
  let bytes = 0
  let expectOffset = 0
  for (const line of r.stdout.split('\n')) {
    if (!line) continue
    const [off, size] = line.split(' ').map(Number) as [number, number]
    if (off !== expectOffset++) throw new Error(`${o.topic}: offset ${off} where ${expectOffset - 1} was expected`)
    n++
    bytes += size
  }
  if (r.code !== 0 || n !== o.records || bytes !== o.records * VALUE_BYTES) {
    throw new Error(`${o.topic} holds ${n} records / ${bytes} value bytes, expected ${o.records} x ${VALUE_BYTES}`)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Parent

interface Sample {
  recordsPerSec: number
  cpuSec: number
  extra?: Record<string, unknown>
}

function compileJavaHelper(kafka: KafkaCluster): string {
  const out = join(root, '.bench-tmp', 'java')
  mkdirSync(out, { recursive: true })
  const src = join(root, 'bench', 'java', 'JavaClientBench.java')
  if (!flag('no-build') || !existsSync(join(out, 'JavaClientBench.class'))) {
    execFileSync('javac', ['-d', out, '-cp', kafka.classpath!, src], { stdio: 'inherit' })
  }
  return `${out}:${kafka.classpath!}`
}

function payloadKind(): 'json' | 'same' {
  const p = argValue('payload') ?? 'json'
  if (p !== 'json' && p !== 'same') throw new Error(`--payload must be json or same, got ${p}`)
  return p
}

async function main(): Promise<void> {
  const child = argValue('child')
  if (child) return childMain(child as Client)

  const N = intArg('records', 1_000_000)
  const runs = intArg('runs', 3)
  const warmN = Math.max(1000, Math.floor(N / 5))
  const codecs = listArg('codecs', CODECS)
  const clients = listArg('clients', CLIENTS)
  const profileDir = argValue('profile')
  const payload = payloadKind()
  const latencySeconds = intArg('latency-seconds', 10)
  const throughput = !flag('latency-only')
  const latency = !flag('no-latency')

  const bundle = bundleSkiff('bench-consume')
  const { Admin } = await loadSkiff(bundle)
  const kafka = await startBroker()
  const ctx: Ctx = { kafka, benchClasspath: compileJavaHelper(kafka) }
  const admin = new Admin({ bootstrap: kafka.bootstrap })
  const script = fileURLToPath(import.meta.url)
  const children = new Map<Client, NodeChild>()
  const wanted = new Set<Client>(throughput ? clients : [])
  if (latency) wanted.add('skiff')
  for (const c of NODE_CLIENTS) {
    if (wanted.has(c)) children.set(c, await spawnChild(script, c, [`--bundle=${bundle}`]))
  }
  let topicSeq = 0
  const failures: string[] = []

  console.log(
    `consume ${fmtK(N)} x 1 KiB records; node ${process.version}, kafka ${kafka.version} (jvm, ${BROKER_HEAP_MB} MiB heap), ` +
      `${skiffRevision()}, ${javaVersion()}, ${kcatVersion()}, @platformatic/kafka ${packageVersion('@platformatic/kafka')}, kafkajs ${packageVersion('kafkajs')}`,
  )
  console.log(
    `${runs} measured rounds per codec after a warm-up read; 1 partition; values: ` +
      `${payload === 'json' ? '10 000 distinct JSON log lines' : 'one random A-Z line, repeated'}; ${loadText()}`,
  )
  console.log(`broker overrides: ${JSON.stringify(BROKER_PROPERTIES)}\n`)

  if (throughput) {
    const workDir = mkdtempSync(join(tmpdir(), 'skiff-bench-consume-'))
    process.on('exit', () => rmSync(workDir, { recursive: true, force: true }))
    const payloadFile = join(workDir, 'payloads.txt')
    writePayloadFile(payloadFile, payloadPool(payload))

    for (const codec of codecs) {
      // The data: N records from the Java producer, checked.
      const topic = `bench-consume-${codec}-${++topicSeq}`
      const created = await admin.createTopics([{ name: topic, partitions: 1, replicationFactor: 1 }])
      if (created[0]?.error) throw created[0].error
      const t0 = performance.now()
      const produced = await runTool('java', [
        '-cp',
        kafka.classpath!,
        'org.apache.kafka.tools.ProducerPerformance',
        '--bootstrap-server',
        kafka.bootstrap,
        '--topic',
        topic,
        '--num-records',
        String(N),
        '--payload-file',
        payloadFile,
        '--throughput',
        '-1',
        '--command-property',
        'acks=1',
        'linger.ms=5',
        `batch.size=${1024 * 1024}`,
        `compression.type=${codec}`,
      ])
      if (produced.code !== 0) throw new Error(`producing the ${codec} data failed:\n${produced.stderr}`)
      const [end] = await admin.listOffsets([{ topic, partition: 0, spec: 'latest' }])
      if (!end || end.error) throw end?.error ?? new Error(`${topic}: no end offset`)
      if (end.offset !== BigInt(N)) throw new Error(`${topic}: end offset ${end.offset} after producing ${N}`)
      const order: ConsumeOrder = { kind: 'consume', bootstrap: kafka.bootstrap, topic, records: N, codec }
      await verifyTopic(order)
      const diskMB = topicLogBytes(kafka, topic, 1) / MB
      if (codec !== 'none' && payload === 'json' && diskMB > (0.8 * N * VALUE_BYTES) / MB) {
        throw new Error(`${topic}: ${diskMB.toFixed(0)} MB on disk; were the batches compressed?`)
      }
      const dataNote =
        `data: ${fmtInt(N)} records by ProducerPerformance (acks=1, linger.ms=5, batch.size=1 MiB, ${codec}) in ` +
        `${((performance.now() - t0) / 1000).toFixed(1)} s, ${diskMB.toFixed(0)} MB on disk, read back by kcat (untimed)`

      const active = clients.filter((c) => c !== 'kafkajs' || codec === 'none')
      const samples = new Map<Client, Sample[]>(active.map((c) => [c, []]))
      const failed = new Map<Client, string>()
      const runOnce = async (c: Client, warm: boolean, profile?: string): Promise<ChildResult> => {
        const o: ConsumeOrder = { ...order, profile }
        if (c === 'java') return runJavaTool(ctx, o)
        if (c === 'java-warm') return runJavaWarm(ctx, o, warm ? 1000 : warmN)
        if (c === 'kcat') return runKcat(o)
        return children.get(c)!.run(o)
      }
      const attempt = async (c: Client, keep: boolean) => {
        if (failed.has(c)) return
        try {
          const r = await runOnce(c, !keep)
          if (keep) samples.get(c)!.push({ recordsPerSec: r.records / (r.ms / 1000), cpuSec: r.cpuSec, extra: r.extra })
        } catch (e) {
          const msg = (e as Error).message
          const na = /n\/a: ([^\n]*)/.exec(msg)
          failed.set(c, na ? `n/a: ${na[1]}` : msg.split('\n')[0]!)
          if (!na) {
            failures.push(`${codec} ${c}: ${msg}`)
            console.error(`FAILED ${codec} ${c}: ${(e as Error).stack}`)
          }
        }
      }
      // Warm-up: Node clients read everything once; the Java tools start a fresh JVM per run anyway.
      for (const c of active) if (NODE_CLIENTS.includes(c)) await attempt(c, false)
      for (let round = 0; round < runs; round++) {
        for (let k = 0; k < active.length; k++) await attempt(active[(round + k) % active.length]!, true)
      }
      const profileLines: string[] = []
      if (profileDir) {
        mkdirSync(profileDir, { recursive: true })
        for (const c of ['skiff', 'skiff-each'] as const) {
          if (!active.includes(c) || failed.has(c)) continue
          const file = join(profileDir, `consume-${c}-${codec}.cpuprofile`)
          const r = await runOnce(c, false, file)
          profileLines.push(
            `${LABEL[c]} profiled run (untimed): ${fmtInt(r.records / (r.ms / 1000))} records/s under the profiler`,
            ...(r.profile ?? []),
          )
        }
      }
      printTable(codec, N, samples, failed, clients, payload, dataNote)
      for (const l of profileLines) console.log(`  ${l}`)
      console.log('')
      await admin.deleteTopics([topic]).catch(() => {})
    }
  }

  if (latency) await latencyTable(ctx, admin, children.get('skiff')!, latencySeconds, runs, () => ++topicSeq, failures)

  for (const c of children.values()) c.exit()
  await admin.close()
  await kafka.stop()
  if (failures.length > 0) {
    console.error(`\n${failures.length} run(s) failed:\n${failures.join('\n')}`)
    process.exitCode = 1
  }
}

function printTable(
  codec: Codec,
  n: number,
  samples: Map<Client, Sample[]>,
  failed: Map<Client, string>,
  clients: readonly Client[],
  payload: string,
  dataNote: string,
): void {
  const rate = (c: Client) => median((samples.get(c) ?? []).map((s) => s.recordsPerSec))
  const javaRate = rate('java')
  const rows: string[][] = []
  for (const c of clients) {
    if (c === 'kafkajs' && codec !== 'none') {
      rows.push([LABEL[c], 'n/a', '', '', '', `${codec} needs a codec plugin`])
      continue
    }
    const why = failed.get(c)
    if (why !== undefined) {
      rows.push([LABEL[c], 'n/a', '', '', '', why.startsWith('n/a: ') ? why.slice(5) : `FAILED: ${why.slice(0, 100)}`])
      continue
    }
    const xs = samples.get(c) ?? []
    const r = rate(c)
    rows.push([
      LABEL[c],
      fmtInt(r),
      ((r * VALUE_BYTES) / MB).toFixed(1),
      Number.isFinite(javaRate) ? (r / javaRate).toFixed(2) : '',
      (() => {
        const cpu = median(xs.map((s) => s.cpuSec))
        return Number.isFinite(cpu) ? cpu.toFixed(1) : ''
      })(),
      xs.map((s) => fmtK(s.recordsPerSec)).join(' '),
    ])
  }
  console.log(
    `consume ${fmtK(n)} x 1 KiB, ${codec === 'none' ? 'no compression' : codec}, 1 partition, broker on 127.0.0.1     ` +
      `(${payload} values; ${loadText()})`,
  )
  const lines = table(
    [
      { title: 'client' },
      { title: 'records/s' },
      { title: 'MB/s' },
      { title: 'vs java' },
      { title: 'cpu s' },
      { title: 'runs (records/s)', align: 'left' },
    ],
    rows,
  )
  for (const l of lines) console.log(l)
  const rebalance = median((samples.get('java') ?? []).map((s) => Number(s.extra?.rebalanceMs)))
  const notes = [
    dataNote,
    `java ConsumerPerformance: cold JVM per run, fetch.nMsg.sec (its group join, ${fmtInt(rebalance)} ms median, excluded); ` +
      'defaults: fetch.max.bytes 50 MiB, max.partition.fetch.bytes 1 MiB, max.poll.records 500; ratios use this row',
    `java KafkaConsumer, warm: JavaClientBench, ${fmtK(n / 5)} records read first in the same JVM, assign() (no group)`,
    `skiff: assign() from earliest, partitionMaxBytes 1 MiB, maxBytes 50 MiB, bufferBytes 64 MiB; timed from new Consumer()`,
    'kcat: -C -o beginning -e > /dev/null (librdkafka prefetches up to 64 MiB), whole process timed',
    '@platformatic/kafka: its MessagesStream (for await), group join excluded, maxBytesPerPartition 1 MiB, read_uncommitted; ' +
      'kafkajs: eachBatch, group join excluded, maxBytesPerPartition 1 MiB',
  ]
  for (const l of notes) console.log(`  ${l}`)
}

// ---------------------------------------------------------------------------------------------------------------
// Latency

async function latencyTable(
  ctx: Ctx,
  admin: InstanceType<Skiff['Admin']>,
  skiff: NodeChild,
  seconds: number,
  runs: number,
  nextTopic: () => number,
  failures: string[],
): Promise<void> {
  const paced = { intervalMs: 10, records: (seconds * 1000) / 10, warmup: 100 }
  const pingPong = { intervalMs: 0, records: 1000, warmup: 100 }
  type Row = { label: string; run: (topic: string) => Promise<Latency> }
  const javaPair = (p: typeof paced) => async (topic: string) => {
    const args = [String(p.intervalMs), String(p.records), String(p.warmup)]
    const r = await runTool('java', [
      '-cp',
      ctx.benchClasspath,
      'JavaClientBench',
      'latency',
      ctx.kafka.bootstrap,
      topic,
      ...args,
    ])
    const m = /^LATENCY (\d+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)$/m.exec(r.stdout)
    if (r.code !== 0 || !m)
      throw new Error(`JavaClientBench latency failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`)
    const [count, p50, p99, max, mean] = m.slice(1).map(Number) as [number, number, number, number, number]
    if (count !== p.records) throw new Error(`JavaClientBench latency: ${count} records, expected ${p.records}`)
    return { count, p50: p50 / 1000, p99: p99 / 1000, max: max / 1000, mean: mean / 1000 }
  }
  const skiffPair = (p: typeof paced) => async (topic: string) => {
    const r = await skiff.run({ kind: 'latency', bootstrap: ctx.kafka.bootstrap, topic, ...p } satisfies LatencyOrder)
    const l = r.extra!.latency as Latency
    if (l.count !== p.records) throw new Error(`skiff latency: ${l.count} records, expected ${p.records}`)
    return l
  }
  const javaTool = async (topic: string) => {
    const args = ['-cp', ctx.kafka.classpath!, 'org.apache.kafka.tools.EndToEndLatency', '--bootstrap-server']
    const r = await runTool('java', [
      ...args,
      ctx.kafka.bootstrap,
      '--topic',
      topic,
      '--num-records',
      '1000',
      '--producer-acks',
      '1',
      '--record-size',
      '1024',
    ])
    const avg = /Avg latency: ([\d.]+) ms/.exec(r.stdout)
    const pct = /Percentiles: 50th = (\d+), 99th = (\d+), 99.9th = (\d+)/.exec(r.stdout)
    if (r.code !== 0 || !avg || !pct)
      throw new Error(`EndToEndLatency failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`)
    return { count: 1000, p50: Number(pct[1]), p99: Number(pct[2]), max: Number.NaN, mean: Number(avg[1]) }
  }
  const rows: Row[] = [
    { label: `skiff → skiff, 1 every ${paced.intervalMs} ms`, run: skiffPair(paced) },
    { label: `java → java, 1 every ${paced.intervalMs} ms`, run: javaPair(paced) },
    { label: 'skiff → skiff, ping-pong', run: skiffPair(pingPong) },
    { label: 'java → java, ping-pong', run: javaPair(pingPong) },
    { label: 'java EndToEndLatency (tool)', run: javaTool },
  ]
  const results = new Map<string, Latency[]>(rows.map((r) => [r.label, []]))
  const errors = new Map<string, string>()
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < rows.length; k++) {
      const row = rows[(round + k) % rows.length]!
      if (errors.has(row.label)) continue
      const topic = `bench-latency-${nextTopic()}`
      await admin.createTopics([{ name: topic, partitions: 1, replicationFactor: 1 }])
      try {
        results.get(row.label)!.push(await row.run(topic))
      } catch (e) {
        errors.set(row.label, (e as Error).message.split('\n')[0]!)
        failures.push(`latency ${row.label}: ${(e as Error).message}`)
        console.error(`FAILED latency ${row.label}: ${(e as Error).stack}`)
      } finally {
        await admin.deleteTopics([topic]).catch(() => {})
      }
    }
  }
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '')
  const lines = table(
    [
      { title: 'pair' },
      { title: 'records' },
      { title: 'p50 ms' },
      { title: 'p99 ms' },
      { title: 'max ms' },
      { title: 'mean ms' },
      { title: 'runs (p50 / p99 ms)', align: 'left' },
    ],
    rows.map((r) => {
      const xs = results.get(r.label)!
      if (errors.has(r.label)) return [r.label, 'n/a', '', '', '', '', `FAILED: ${errors.get(r.label)!.slice(0, 100)}`]
      return [
        r.label,
        fmtInt(xs[0]?.count ?? Number.NaN),
        f(median(xs.map((x) => x.p50))),
        f(median(xs.map((x) => x.p99))),
        f(median(xs.map((x) => x.max))),
        f(median(xs.map((x) => x.mean))),
        xs.map((x) => `${f(x.p50)}/${f(x.p99)}`).join('  '),
      ]
    }),
  )
  console.log(
    `end-to-end latency, 1 KiB records, acks=1, linger 0, 1 partition, broker on 127.0.0.1     (${loadText()})`,
  )
  for (const l of lines) console.log(l)
  const notes = [
    `paced: ${paced.records} records, 1 every ${paced.intervalMs} ms after ${paced.warmup} warm-up ones; ping-pong: ${pingPong.records} after ${pingPong.warmup}`,
    'skiff: Producer (acks 1, lingerMs 0) and Consumer (assign, maxWaitMs 100, minBytes 1) in one process; time from produce() to the message in hand',
    'java: KafkaProducer (acks=1, linger.ms=0) and a KafkaConsumer thread (fetch.max.wait.ms=100, fetch.min.bytes=1), JavaClientBench',
    'EndToEndLatency: ping-pong, cold JVM, fetch.max.wait.ms=0, no warm-up; prints whole milliseconds (max not reported)',
  ]
  for (const l of notes) console.log(`  ${l}`)
  console.log('')
}

await main()
