/**
 * Per codec (gzip, snappy, lz4, zstd) and per direction (compress, decompress): how fast is Skiff next to the
 * native reference and the peers' codec paths, in one run?
 *
 *   npm run bench:compression                              # ~3 min
 *   npx tsx bench/compression.ts --quick                   # 0.6 s a row, 16 MiB CLI file: a smoke run
 *   npx tsx bench/compression.ts --codec=lz4,snappy --direction=decompress
 *   npx tsx bench/compression.ts --row-ms=10000 --runs=31  # longer rows; --no-build reuses the bundle
 *   npx tsx bench/compression.ts --clock=wall              # wall-clock instead of CPU time (see "The clock")
 *   <node 24> --import tsx bench/compression.ts            # adds node:zlib zstd (and @platformatic/kafka's zstd)
 *
 * What is measured.
 * - Skiff: its compression layer as users run it, bundled by tsup like dist/ (dist/index.js does not export the
 *   layer): tsx transforms TypeScript with esbuild's keepNames, which makes some constructions slower than in the
 *   shipped build. tsx leaves the bundled .js alone.
 *   - decompress: `CODECS[c].decompressor(input, { maxOutputBytes: 128 MiB })` drained with `await next()` at the
 *     default chunk size: incremental and bounded, as the consumer runs it;
 *   - "one-shot": the same decoder without the incremental machinery: `snappyDecompressSync`, `lz4DecompressSync`
 *     (still bounded), and for gzip and zstd the call the codec makes for small frames (`zlib.gunzipSync`;
 *     `fzstd.decompress`, or `zlib.zstdDecompressSync` where node:zlib has zstd). "overhead" is the cost of limits +
 *     incremental pulling over that; the target is ≤ 10% on typical batches (≤ 1 MiB compressed, windows ≤ 8 MiB).
 *   - compress: `CODECS[c].compress(input)` (what the producer awaits), plus `snappyCompressRaw` for the raw row.
 * - native reference: node:zlib in this process (gzip; zstd on Node ≥ 22.15), and the Debian CLIs (`gzip`, `zstd`,
 *   `lz4`; there is no snappy one) on a 64 MiB file of the same lines, whole command timed, output to /dev/null:
 *   process start is included, nothing subtracted (its cost, a run on a 3-byte file, is printed below the table).
 * - @platformatic/kafka: the `compressionsAlgorithms` table its record-batch code calls (node:zlib for gzip and
 *   zstd, its Rust-in-WASM @platformatic/wasm-utils for snappy and lz4), called directly.
 * - kafkajs: its built-in gzip codec (src/protocol/message/compression/gzip.js: promisified zlib.gzip/unzip);
 *   snappy, lz4 and zstd need plugins, which are not installed.
 *
 * Data. JSON log lines as a busy service ships them: ISO timestamps a few ms apart, weighted levels, pods, random
 * W3C trace and span ids, user ids, HTTP routes, durations and templated messages: every line distinct. Frames of
 * 1 MiB and of 64 KiB (a typical Kafka batch) are cut from one corpus; the CLIs read 64 MiB of it. MB/s counts
 * 10^6 uncompressed bytes per second in both directions.
 *
 * Decompression input is what Skiff's compress writes, which is what Kafka's Java producer writes (xerial-framed
 * snappy in 32 KiB blocks, lz4 frames of independent 64 KiB blocks, zstd level 3, gzip level 6), so every decoder
 * reads the same bytes. @platformatic/kafka reads raw snappy only (it writes raw too), hence a "snappy raw" row.
 *
 * Correctness first: before anything is timed, every decoder's output is compared with the input, every
 * compressor's output is decoded by Skiff and compared, and Skiff's output is decoded by the CLIs (and theirs by
 * Skiff). What fails is printed and left out of the timing.
 *
 * Method: in one process. For each row (codec × size × direction) the contenders are warmed up (≥ 30 calls and
 * ≥ 250 ms each, so V8 has optimized them), then timed in rounds: a round times one short run (~5 ms, at least one
 * call) of every contender, so a burst of load from elsewhere on the machine hits all contenders of a row alike.
 * Rounds go on until the row has had 3 s of timed runs (at least 15 rounds); short runs alternate the contenders
 * often, which steadies the medians far more than long runs do. A cell is the median over the runs.
 * - The order is shuffled every round: background work a contender leaves behind (V8 freeing its buffers on helper
 *   threads) is billed by the CPU clock to whoever runs next, and with a merely rotating order that was always the
 *   same neighbour (it made skiff's lz4 look 1.6x slower than it is, next to @platformatic/kafka's).
 * - One forced GC per row, not one per run: after a forced GC, V8 soon starts concurrent marking on its helper
 *   threads, billed to whatever runs next (identical calls then differed 5x); left alone, each contender pays for
 *   its own garbage, amortized over many short runs.
 *
 * The clock. By default a run is timed by this process's CPU time (process.cpuUsage: user + system, all threads, so
 * zlib's thread pool and V8's GC helpers count): on a machine shared with other work, wall time measures the
 * neighbours as much as the code (two back-to-back calls of the same gunzipSync differ 2-4x in wall time there,
 * ~1.3x in CPU time). What CPU time leaves out is waiting, e.g. for the thread-pool hop of an async zlib call
 * (kafkajs's gunzip, Skiff's gzip and native zstd compress): those cells understate the latency a caller sees.
 * `--clock=wall` times wall-clock instead (right on an idle machine). The CLIs are
 * timed by bash's `time` (user + sys, or real), not from Node, whose fork of a large heap costs tens of ms. Compare
 * ratios within one run rather than absolute numbers across runs.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import * as zlib from 'node:zlib'
import { compressionsAlgorithms as platformatic } from '@platformatic/kafka'
import { decompress as fzstdDecompress } from 'fzstd'
import type { CodecName } from '../src/compression/index.js'

type SkiffCompression = typeof import('../src/compression/index.js')

const KiB = 1024
const MiB = 1024 * KiB
/** Skiff's default maxBatchDecompressedBytes. */
const LIMIT = 128 * MiB
const TARGET_OVERHEAD = 0.1

const argv = process.argv.slice(2)
const flag = (name: string) => argv.includes(`--${name}`)
const option = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const quick = flag('quick')
const MIN_RUNS = Number(option('runs') ?? (quick ? 5 : 15))
const RUN_MS = Number(option('run-ms') ?? 5)
const ROW_MS = Number(option('row-ms') ?? (quick ? 600 : 3000))
const WARMUP_MS = quick ? 100 : 250
const CLI_BYTES = (quick ? 16 : 64) * MiB
const CLI_RUNS = quick ? 3 : 5
const CLOCK = option('clock') === 'wall' ? 'wall' : 'cpu'
if (!['cpu', 'wall', undefined].includes(option('clock'))) throw new Error('--clock=cpu or --clock=wall')

const root = fileURLToPath(new URL('..', import.meta.url))
const require = createRequire(import.meta.url)

// node:zlib's zstd exists from Node 22.15; @types/node 20 does not know it.
const nodeZstd = zlib as unknown as {
  zstdCompressSync?: (data: Uint8Array) => Buffer
  zstdDecompressSync?: (data: Uint8Array) => Buffer
  createZstdDecompress?: unknown
}
const hasNodeZstd =
  typeof nodeZstd.zstdDecompressSync === 'function' && typeof nodeZstd.createZstdDecompress === 'function'

const kafkajsGzip = require('kafkajs/src/protocol/message/compression/gzip.js') as {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>
  decompress(buffer: Buffer): Promise<Buffer>
}

// A gc() that needs no command-line flag, so that `npx tsx` and `node --import tsx` both work.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

// ---------------------------------------------------------------------------------------------------------------
// Skiff, bundled as users get it
// ---------------------------------------------------------------------------------------------------------------

/** Bundles src/compression with tsup (target and platform as in tsup.config.ts) into .bench-tmp/compression. */
async function loadSkiff(): Promise<SkiffCompression> {
  const out = join(root, '.bench-tmp', 'compression')
  if (!flag('no-build') || !existsSync(join(out, 'index.js'))) {
    const args = ['src/compression/index.ts', '--format', 'esm', '--target', 'node20', '--platform', 'node']
    execFileSync(join(root, 'node_modules', '.bin', 'tsup'), [...args, '-d', out, '--no-config', '--silent'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    })
  }
  return (await import(pathToFileURL(join(out, 'index.js')).href)) as SkiffCompression
}

// ---------------------------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------------------------

function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** `bytes` (or a little more) of newline-separated JSON log lines. */
function logCorpus(bytes: number, seed = 20250314): Buffer {
  const rnd = mulberry32(seed)
  const int = (n: number) => Math.floor(rnd() * n)
  const pick = <T>(a: readonly T[]) => a[int(a.length)]!
  const hex = (n: number) => {
    let s = ''
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[int(16)]
    return s
  }
  const alnum = (n: number) => {
    let s = ''
    for (let i = 0; i < n; i++) s += 'bcdfghjklmnpqrstvwxz2456789'[int(27)]
    return s
  }
  const services = ['checkout-api', 'payments', 'inventory', 'auth', 'search', 'gateway', 'notifications', 'orders']
  const pods = new Map(services.map((s) => [s, Array.from({ length: 4 }, () => `${s}-${hex(9)}-${alnum(5)}`)]))
  const routes = [
    ['GET', '/api/v2/products/{id}'],
    ['GET', '/api/v2/users/{id}/orders'],
    ['POST', '/api/v2/orders'],
    ['PUT', '/api/v2/carts/{id}/items'],
    ['GET', '/api/v2/search'],
    ['POST', '/api/v2/payments/{id}/capture'],
    ['DELETE', '/api/v2/sessions/{id}'],
  ] as const
  const tables = ['orders', 'order_items', 'users', 'inventory_levels', 'payments']
  const upstreams = ['payments-gw', 'tax-service', 'inventory', 'fraud-check', 'email-relay']
  const reasons = ['connection reset by peer', 'deadline exceeded', 'upstream connect error', 'invalid response body']
  let t = Date.UTC(2025, 2, 14, 9, 0, 0)
  const lines: string[] = []
  let n = 0
  while (n < bytes) {
    t += int(4)
    const r = rnd()
    const level = r < 0.7 ? 'INFO' : r < 0.85 ? 'DEBUG' : r < 0.95 ? 'WARN' : 'ERROR'
    const service = pick(services)
    const [method, route] = pick(routes)
    const id = 100000 + int(900000)
    const user = `u_${int(1_000_000)}`
    const duration = Math.round(rnd() ** 3 * 250000) / 100
    const status = level === 'ERROR' ? pick([500, 502, 503, 504]) : level === 'WARN' ? pick([404, 409, 429]) : 200
    let msg: string
    switch (level) {
      case 'INFO':
        msg = pick([
          `request completed in ${duration} ms`,
          `order ${id} placed: ${1 + int(9)} items, ${(int(50000) / 100).toFixed(2)} EUR`,
          `user ${user} logged in from 10.${int(256)}.${int(256)}.${int(256)}`,
          `published ${1 + int(500)} events to ${pick(services)}.events[${int(12)}]`,
        ])
        break
      case 'DEBUG':
        msg = pick([
          `cache miss for key user:${user}:profile`,
          `sql: SELECT * FROM ${pick(tables)} WHERE id = $1 (${id}) took ${duration} ms`,
        ])
        break
      case 'WARN':
        msg = pick([
          `retrying ${pick(upstreams)} call (attempt ${2 + int(4)}/5) after ${int(2000)} ms`,
          `slow query on ${pick(tables)}: ${duration} ms`,
        ])
        break
      default:
        msg = `upstream ${pick(upstreams)} responded ${status}: ${pick(reasons)}`
    }
    const line = JSON.stringify({
      ts: new Date(t).toISOString(),
      level,
      service,
      host: pick(pods.get(service)!),
      trace_id: hex(32),
      span_id: hex(16),
      user_id: user,
      method,
      path: route.replace('{id}', String(id)),
      status,
      duration_ms: duration,
      bytes: int(20000),
      msg,
    })
    lines.push(line)
    n += line.length + 1
  }
  return Buffer.from(`${lines.join('\n')}\n`)
}

// ---------------------------------------------------------------------------------------------------------------
// Timing
// ---------------------------------------------------------------------------------------------------------------

/** One timed thing: a synchronous call, or one whose promise is awaited before the next call. */
interface Op {
  run: () => unknown
  async: boolean
}

let sink = 0

/**
 * ms for n calls, by the chosen clock. 'cpu' is this process's CPU time (user + system, all its threads: zlib's
 * thread pool and V8's GC helpers count): on a shared machine, wall time measures the neighbours as much as the
 * code, CPU time far less so.
 */
async function runOp(op: Op, n: number): Promise<number> {
  const c0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  if (op.async) {
    for (let i = 0; i < n; i++) await op.run()
  } else {
    for (let i = 0; i < n; i++) if (op.run() === sink) sink++
  }
  if (CLOCK === 'wall') return Number(process.hrtime.bigint() - t0) / 1e6
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / 1e3
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/**
 * Median ms per call of each op over interleaved runs: at least MIN_RUNS rounds, and more until the row has been
 * timed for ROW_MS (see the header comment).
 */
async function timeRow(ops: Op[]): Promise<{ ms: number[]; runs: number }> {
  const perRun: number[] = []
  for (const op of ops) {
    let calls = 0
    let ms = 0
    while (calls < 30 || ms < WARMUP_MS) {
      ms += await runOp(op, 1)
      calls++
    }
    perRun.push(Math.max(1, Math.round(RUN_MS / (ms / calls))))
  }
  const samples: number[][] = ops.map(() => [])
  const order = ops.map((_, i) => i)
  const rnd = mulberry32(ops.length)
  let timed = 0
  let r = 0
  gc()
  for (; r < MIN_RUNS || (timed < ROW_MS && r < 2000); r++) {
    // A fresh random order each round (Fisher-Yates): see the header comment.
    for (let k = order.length - 1; k > 0; k--) {
      const j = Math.floor(rnd() * (k + 1))
      ;[order[k], order[j]] = [order[j]!, order[k]!]
    }
    for (const i of order) {
      const ms = await runOp(ops[i]!, perRun[i]!)
      timed += ms
      samples[i]!.push(ms / perRun[i]!)
    }
  }
  return { ms: samples.map(median), runs: r }
}

// ---------------------------------------------------------------------------------------------------------------
// The CLIs
// ---------------------------------------------------------------------------------------------------------------

interface Cli {
  codec: CodecName
  bin: string
  compress: string[]
  decompress: string[]
}

const CLIS: Cli[] = [
  { codec: 'gzip', bin: 'gzip', compress: ['-c', '-6'], decompress: ['-d', '-c'] },
  // 64 KiB independent blocks, as Kafka's producer frames them.
  { codec: 'lz4', bin: 'lz4', compress: ['-q', '-c', '-B4'], decompress: ['-q', '-d', '-c'] },
  { codec: 'zstd', bin: 'zstd', compress: ['-q', '-c', '-3', '-T1'], decompress: ['-q', '-d', '-c'] },
]

function cliVersion(bin: string): string | undefined {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' })
  if (r.error) return undefined
  return /v?(\d+\.\d+(\.\d+)?)/.exec(`${r.stdout}${r.stderr}`)?.[0]
}

/** Runs a CLI on `input`, returning its stdout. */
function cliPipe(bin: string, args: string[], input: Buffer): Buffer {
  const r = spawnSync(bin, args, { input, maxBuffer: 1024 * MiB })
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')}: ${r.error ?? r.stderr.toString()}`)
  return r.stdout
}

interface CliResult {
  compressMBs: number
  decompressMBs: number
  startupMs: number
}

/** Whole-command MB/s over a CLI_BYTES file, median of CLI_RUNS interleaved runs, output to /dev/null. */
function timeClis(corpus: Buffer, codecs: string[] | undefined): Map<CodecName, CliResult> {
  const results = new Map<CodecName, CliResult>()
  const tools = CLIS.filter(
    (c) => (codecs === undefined || codecs.includes(c.codec)) && cliVersion(c.bin) !== undefined,
  )
  if (tools.length === 0) return results
  const dir = mkdtempSync(join(tmpdir(), 'skiff-bench-'))
  try {
    const plain = join(dir, 'lines.json')
    writeFileSync(plain, corpus)
    const tiny = join(dir, 'tiny.json')
    writeFileSync(tiny, '{}\n')
    const files = new Map<Cli, { packed: string; tinyPacked: string }>()
    for (const c of tools) {
      const packed = join(dir, `lines.${c.bin}`)
      const tinyPacked = join(dir, `tiny.${c.bin}`)
      writeFileSync(packed, cliPipe(c.bin, [...c.compress, plain], Buffer.alloc(0)))
      writeFileSync(tinyPacked, cliPipe(c.bin, [...c.compress, tiny], Buffer.alloc(0)))
      files.set(c, { packed, tinyPacked })
    }
    // bash times the command (a Node spawn costs tens of ms of fork on a big heap); real = wall, user + sys = CPU.
    const time = (bin: string, args: string[]) => {
      const command = `TIMEFORMAT='%3R %3U %3S'; time { "$0" "$@" > /dev/null; }`
      const r = spawnSync('bash', ['-c', command, bin, ...args], { encoding: 'utf8' })
      const m = /([\d.]+) ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr)
      if (r.status !== 0 || !m) throw new Error(`${bin} ${args.join(' ')}: ${r.error ?? r.stderr}`)
      return (CLOCK === 'wall' ? Number(m[1]) : Number(m[2]) + Number(m[3])) * 1e3
    }
    const samples = new Map(tools.map((c) => [c, { c: [] as number[], d: [] as number[], s: [] as number[] }]))
    for (let r = 0; r < CLI_RUNS; r++) {
      for (const c of tools) {
        const f = files.get(c)!
        const s = samples.get(c)!
        s.c.push(time(c.bin, [...c.compress, plain]))
        s.d.push(time(c.bin, [...c.decompress, f.packed]))
        for (let i = 0; i < 3; i++) s.s.push(time(c.bin, [...c.decompress, f.tinyPacked]))
      }
    }
    for (const c of tools) {
      const s = samples.get(c)!
      results.set(c.codec, {
        compressMBs: corpus.length / 1e3 / median(s.c),
        decompressMBs: corpus.length / 1e3 / median(s.d),
        startupMs: median(s.s),
      })
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return results
}

// ---------------------------------------------------------------------------------------------------------------
// Contenders and checks
// ---------------------------------------------------------------------------------------------------------------

/** A contender in one cell: `run` is timed, `output` is what the checks compare. */
interface Contender extends Op {
  output: () => Promise<Buffer> | Buffer
}

/** A cell of a row: a contender, or why there is none. */
type Cell = Contender | string

const sync = (fn: () => Buffer): Contender => ({ run: fn, output: fn, async: false })
const promised = (fn: () => Promise<Buffer>): Contender => ({ run: fn, output: fn, async: true })

const DECOMPRESS_COLUMNS = ['skiff', 'one-shot', 'zlib', 'platformatic', 'kafkajs'] as const
const COMPRESS_COLUMNS = ['skiff', 'zlib', 'platformatic', 'kafkajs'] as const
type Column = (typeof DECOMPRESS_COLUMNS)[number] | (typeof COMPRESS_COLUMNS)[number]

interface Row {
  label: string
  codec: CodecName
  size: string
  data: Buffer
  cells: Partial<Record<Column, Cell>>
  /** MB/s per column, or the text shown instead. */
  results: Partial<Record<Column, number | string>>
  /** Compression ratio of each compressor's output (compress rows). */
  ratios: Partial<Record<Column, number>>
  /** Interleaved runs it took. */
  runs?: number
}

const NEEDS_PLUGIN = 'n/a (needs a plugin)'
const NO_NODE_ZSTD = 'n/a (node < 22.15)'

async function buildRows(skiff: SkiffCompression, frames: [string, Buffer][]) {
  const { CODECS } = skiff
  const limits = { maxOutputBytes: LIMIT }
  const drain = (codec: CodecName, input: Buffer): Contender => ({
    async: true,
    async run() {
      const d = CODECS[codec].decompressor(input, limits)
      let n = 0
      for (let c = await d.next(); c !== null; c = await d.next()) n += c.length
      return n
    },
    async output() {
      const d = CODECS[codec].decompressor(input, limits)
      const chunks: Buffer[] = []
      for (let c = await d.next(); c !== null; c = await d.next()) chunks.push(c)
      return Buffer.concat(chunks)
    },
  })
  const zstdOneShot: (b: Buffer) => Buffer = hasNodeZstd
    ? (b) => nodeZstd.zstdDecompressSync!(b)
    : (b) => {
        const out = fzstdDecompress(b)
        return Buffer.from(out.buffer, out.byteOffset, out.byteLength)
      }
  const platDecompress = (codec: CodecName, input: Buffer): Cell =>
    platformatic[codec].available ? sync(() => platformatic[codec].decompressSync(input)) : NO_NODE_ZSTD
  const decompress: Row[] = []
  const compress: Row[] = []
  const row = (label: string, codec: CodecName, size: string, data: Buffer, cells: Row['cells']): Row => ({
    label,
    codec,
    size,
    data,
    cells,
    results: {},
    ratios: {},
  })
  for (const [size, data] of frames) {
    // Decompression input: what Skiff's compress writes (= Kafka's Java producer); raw snappy as
    // @platformatic/kafka writes it.
    const gz = await CODECS.gzip.compress(data)
    const xerial = await CODECS.snappy.compress(data)
    const raw = skiff.snappyCompressRaw(data)
    const lz4 = await CODECS.lz4.compress(data)
    const zst = await CODECS.zstd.compress(data)
    const gunzip = sync(() => zlib.gunzipSync(gz))
    const zstdOneShotCell = sync(() => zstdOneShot(zst))
    decompress.push(
      row('gzip', 'gzip', size, data, {
        skiff: drain('gzip', gz),
        'one-shot': gunzip,
        zlib: gunzip,
        platformatic: platDecompress('gzip', gz),
        kafkajs: promised(() => kafkajsGzip.decompress(gz)),
      }),
      row('snappy', 'snappy', size, data, {
        skiff: drain('snappy', xerial),
        'one-shot': sync(() => skiff.snappyDecompressSync(xerial, limits)),
        zlib: '—',
        platformatic: platDecompress('snappy', xerial),
        kafkajs: NEEDS_PLUGIN,
      }),
      row('snappy raw', 'snappy', size, data, {
        skiff: drain('snappy', raw),
        'one-shot': sync(() => skiff.snappyDecompressSync(raw, limits)),
        zlib: '—',
        platformatic: platDecompress('snappy', raw),
        kafkajs: NEEDS_PLUGIN,
      }),
      row('lz4', 'lz4', size, data, {
        skiff: drain('lz4', lz4),
        'one-shot': sync(() => skiff.lz4DecompressSync(lz4, limits)),
        zlib: '—',
        platformatic: platDecompress('lz4', lz4),
        kafkajs: NEEDS_PLUGIN,
      }),
      row('zstd', 'zstd', size, data, {
        skiff: drain('zstd', zst),
        'one-shot': zstdOneShotCell,
        zlib: hasNodeZstd ? zstdOneShotCell : NO_NODE_ZSTD,
        platformatic: platDecompress('zstd', zst),
        kafkajs: NEEDS_PLUGIN,
      }),
    )
    const platCompress = (codec: CodecName): Cell =>
      platformatic[codec].available ? sync(() => platformatic[codec].compressSync(data)) : NO_NODE_ZSTD
    compress.push(
      row('gzip', 'gzip', size, data, {
        skiff: promised(() => CODECS.gzip.compress(data)),
        zlib: sync(() => zlib.gzipSync(data)),
        platformatic: platCompress('gzip'),
        kafkajs: promised(() => kafkajsGzip.compress({ buffer: data })),
      }),
      row('snappy', 'snappy', size, data, {
        skiff: promised(() => CODECS.snappy.compress(data)),
        zlib: '—',
        platformatic: 'raw only',
        kafkajs: NEEDS_PLUGIN,
      }),
      row('snappy raw', 'snappy', size, data, {
        skiff: sync(() => skiff.snappyCompressRaw(data)),
        zlib: '—',
        platformatic: platCompress('snappy'),
        kafkajs: NEEDS_PLUGIN,
      }),
      row('lz4', 'lz4', size, data, {
        skiff: promised(() => CODECS.lz4.compress(data)),
        zlib: '—',
        platformatic: platCompress('lz4'),
        kafkajs: NEEDS_PLUGIN,
      }),
      row('zstd', 'zstd', size, data, {
        skiff: promised(() => CODECS.zstd.compress(data)),
        zlib: hasNodeZstd ? sync(() => nodeZstd.zstdCompressSync!(data)) : NO_NODE_ZSTD,
        platformatic: platCompress('zstd'),
        kafkajs: NEEDS_PLUGIN,
      }),
    )
  }
  return { decompress, compress }
}

/** A short reason for a failed check. */
function why(error: unknown): string {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  return message.length > 70 ? `${message.slice(0, 67)}...` : message
}

/**
 * Decompress rows: each decoder's output must equal the input. Compress rows: each compressor's output must decode
 * with Skiff to the input. A contender that fails is replaced by "fails" and not timed.
 */
async function check(skiff: SkiffCompression, rows: Row[], direction: 'decompress' | 'compress'): Promise<string[]> {
  const notes: string[] = []
  for (const r of rows) {
    const marks: string[] = []
    for (const [column, cell] of Object.entries(r.cells) as [Column, Cell][]) {
      if (typeof cell === 'string') continue
      let problem: string | undefined
      try {
        const out = await cell.output()
        if (direction === 'decompress') {
          if (!out.equals(r.data)) problem = `wrong output (${out.length} bytes)`
        } else {
          r.ratios[column] = r.data.length / out.length
          const d = skiff.CODECS[r.codec].decompressor(out, { maxOutputBytes: LIMIT })
          const chunks: Buffer[] = []
          for (let c = await d.next(); c !== null; c = await d.next()) chunks.push(c)
          if (!Buffer.concat(chunks).equals(r.data)) problem = 'skiff decodes it to something else'
        }
      } catch (error) {
        problem = why(error)
      }
      if (problem === undefined) {
        marks.push(`${column} ✓`)
      } else {
        marks.push(`${column} ✗`)
        r.cells[column] = 'fails'
        notes.push(`${direction} ${r.label} ${r.size}: ${column} ${problem}`)
      }
    }
    console.log(`  ${direction.padEnd(10)} ${`${r.label} ${r.size}`.padEnd(18)} ${marks.join('  ')}`)
  }
  return notes
}

/** Skiff decodes what the CLIs write, and the CLIs decode what Skiff writes (the 1 MiB frame). */
async function checkClis(skiff: SkiffCompression, data: Buffer): Promise<void> {
  for (const c of CLIS) {
    if (cliVersion(c.bin) === undefined) {
      console.log(`  CLI        ${c.bin.padEnd(18)} not installed`)
      continue
    }
    const marks: string[] = []
    try {
      const theirs = cliPipe(c.bin, c.compress, data)
      const d = skiff.CODECS[c.codec].decompressor(theirs, { maxOutputBytes: LIMIT })
      const chunks: Buffer[] = []
      for (let x = await d.next(); x !== null; x = await d.next()) chunks.push(x)
      marks.push(`skiff reads ${c.bin}'s ${Buffer.concat(chunks).equals(data) ? '✓' : '✗'}`)
    } catch (error) {
      marks.push(`skiff reads ${c.bin}'s ✗ ${why(error)}`)
    }
    try {
      const ours = await skiff.CODECS[c.codec].compress(data)
      marks.push(`${c.bin} reads skiff's ${cliPipe(c.bin, c.decompress, ours).equals(data) ? '✓' : '✗'}`)
    } catch (error) {
      marks.push(`${c.bin} reads skiff's ✗ ${why(error)}`)
    }
    console.log(`  CLI        ${`${c.bin} 1 MiB`.padEnd(18)} ${marks.join('  ')}`)
  }
}

async function measureRows(rows: Row[]): Promise<void> {
  for (const r of rows) {
    const columns: Column[] = []
    const ops: Contender[] = []
    for (const [column, cell] of Object.entries(r.cells) as [Column, Cell][]) {
      if (typeof cell === 'string') {
        r.results[column] = cell
      } else if (!ops.includes(cell)) {
        columns.push(column)
        ops.push(cell)
      }
    }
    const { ms, runs } = await timeRow(ops)
    r.runs = runs
    ops.forEach((op, i) => {
      const mbs = r.data.length / 1e3 / ms[i]!
      for (const [column, cell] of Object.entries(r.cells) as [Column, Cell][]) if (cell === op) r.results[column] = mbs
    })
    process.stderr.write(`  timed ${r.label} ${r.size}: ${columns.join(', ')}\n`)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------------------------

const mbs = (v: number | string | undefined) =>
  v === undefined ? '' : typeof v === 'string' ? v : v >= 10 ? v.toFixed(0) : v.toFixed(1)

function printTable(title: string, head: string[], widths: number[], lines: string[][]): void {
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd()
  console.log(`\n${title}`)
  console.log(fmt(head))
  for (const l of lines) console.log(fmt(l))
}

const versionOf = (pkg: string) =>
  (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version

// ---------------------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------------------

const skiff = await loadSkiff()
const corpus = logCorpus(CLI_BYTES)
const frames: [string, Buffer][] = [
  ['1 MiB', corpus.subarray(0, MiB)],
  // A different stretch of the same corpus: a typical batch.
  ['64 KiB', corpus.subarray(MiB, MiB + 64 * KiB)],
]
const node = `node ${process.version}`
const load = loadavg()[0]!.toFixed(1)
console.log(
  `compression, JSON log lines     (${node}, @platformatic/kafka ${versionOf('@platformatic/kafka')}, ` +
    `kafkajs ${versionOf('kafkajs')}, load ${load})`,
)
const all = await buildRows(skiff, frames)
const codecs = option('codec')?.split(',')
const keep = (r: Row) => codecs === undefined || codecs.includes(r.codec)
const decompress = option('direction') === 'compress' ? [] : all.decompress.filter(keep)
const compress = option('direction') === 'decompress' ? [] : all.compress.filter(keep)

console.log('\nchecks: decoders reproduce the input; compressors\u2019 output decodes with skiff; CLI interop')
const notes = [...(await check(skiff, decompress, 'decompress')), ...(await check(skiff, compress, 'compress'))]
await checkClis(skiff, frames[0]![1])
for (const n of notes) console.log(`  ✗ ${n}`)

process.stderr.write(`\ntiming the CLIs on ${CLI_BYTES / MiB} MiB...\n`)
const clis = timeClis(corpus, codecs)
process.stderr.write('timing decompression...\n')
await measureRows(decompress)
process.stderr.write('timing compression...\n')
await measureRows(compress)

const cliCell = (r: Row, key: 'compressMBs' | 'decompressMBs') => {
  if (r.size !== frames[0]![0]) return ''
  if (r.codec === 'snappy') return '—'
  const c = clis.get(r.codec)
  return c ? c[key].toFixed(0) : 'not installed'
}
const versus = (a: number | string | undefined, b: number | string | undefined) =>
  typeof a === 'number' && typeof b === 'number' ? `${(a / b).toFixed(2)}x` : ''

const cliHead = `CLI ${CLI_BYTES / MiB} MiB`
const runsName = (rows: Row[]) => {
  const runs = rows.flatMap((r) => (r.runs === undefined ? [] : [r.runs]))
  return `${Math.min(...runs)}-${Math.max(...runs)} runs`
}
const clockName = CLOCK === 'cpu' ? 'per CPU-second' : 'per second (wall)'
if (decompress.length > 0) {
  printTable(
    `decompress JSON log lines: MB/s of output ${clockName}, median of ${runsName(decompress)}      (${node})`,
    [
      'codec',
      'size',
      'skiff',
      'skiff one-shot',
      'overhead',
      'node:zlib',
      cliHead,
      '@platformatic/kafka',
      'kafkajs',
      'skiff ÷ platf.',
    ],
    [10, 6, 6, 14, 10, 18, 9, 19, 20, 14],
    decompress.map((r) => {
      const s = r.results.skiff
      const o = r.results['one-shot']
      const overhead =
        typeof s === 'number' && typeof o === 'number'
          ? `${o / s - 1 >= 0 ? '+' : ''}${((o / s - 1) * 100).toFixed(0)}% ${o / s - 1 <= TARGET_OVERHEAD ? '✓' : '✗'}`
          : ''
      return [
        r.label,
        r.size,
        mbs(s),
        mbs(o),
        overhead,
        mbs(r.results.zlib),
        cliCell(r, 'decompressMBs'),
        mbs(r.results.platformatic),
        mbs(r.results.kafkajs),
        versus(s, r.results.platformatic),
      ]
    }),
  )
  const oneShotName = hasNodeZstd ? 'zlib.zstdDecompressSync' : 'fzstd.decompress'
  console.log(
    `  one-shot: zlib.gunzipSync, snappyDecompressSync, lz4DecompressSync, ${oneShotName} (the decoder skiff's zstd ` +
      `uses here);\n  overhead = extra time of skiff's bounded incremental drain over it (target ≤ ${TARGET_OVERHEAD * 100}%).`,
  )
  console.log(
    '  snappy: xerial frames of 32 KiB blocks (Kafka Java producer); snappy raw: one raw block (@platformatic/kafka).',
  )
}

if (compress.length > 0) {
  printTable(
    `compress JSON log lines: MB/s of input ${clockName}, median of ${runsName(compress)}      (${node})`,
    [
      'codec',
      'size',
      'skiff',
      'node:zlib',
      cliHead,
      '@platformatic/kafka',
      'kafkajs',
      'skiff ÷ platf.',
      'ratio skiff/platf.',
    ],
    [10, 6, 6, 18, 9, 19, 20, 14, 18],
    compress.map((r) => {
      const ratio = (c: Column) => (r.ratios[c] === undefined ? '—' : r.ratios[c]!.toFixed(2))
      return [
        r.label,
        r.size,
        mbs(r.results.skiff),
        mbs(r.results.zlib),
        cliCell(r, 'compressMBs'),
        mbs(r.results.platformatic),
        mbs(r.results.kafkajs),
        versus(r.results.skiff, r.results.platformatic),
        `${ratio('skiff')} / ${ratio('platformatic')}`,
      ]
    }),
  )
  const zstdEncoder = hasNodeZstd ? 'node:zlib zstdCompress' : '@bokuweb/zstd-wasm'
  console.log(
    `  skiff: CODECS[c].compress (gzip: async zlib.gzip; zstd: ${zstdEncoder}, level 3); snappy writes xerial, ` +
      'snappy raw is snappyCompressRaw.\n  ratio = input bytes / output bytes.',
  )
}
if (clis.size > 0) {
  const versions = CLIS.filter((c) => clis.has(c.codec)).map(
    (c) => `${c.bin} ${cliVersion(c.bin)} ${clis.get(c.codec)!.startupMs.toFixed(1)} ms`,
  )
  console.log(
    `  CLIs: whole command on a ${CLI_BYTES / MiB} MiB file to /dev/null (gzip -6, zstd -3 -T1, lz4 -B4), ` +
      `process start included; a run on a 3-byte file takes\n  ${versions.join(', ')}.`,
  )
}
if (loadavg()[0]! > 1.5) {
  console.log(`  load average ${loadavg()[0]!.toFixed(1)}: other work competes for the CPUs; compare ratios.`)
}
