/**
 * How fast does skiff's bounded, incremental zstd and gzip decompression run against one-shot decoders that hold
 * the whole output (fzstd.decompress, node:zlib *Sync) and the Debian CLIs, on JSON log lines?
 *
 *   npx tsx bench/compression-zstd-gzip.ts            (Node 24: adds node:zlib zstd)
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as zlib from 'node:zlib'
import { decompress as fzstdDecompress } from 'fzstd'
import { gzipCodec } from '../src/compression/codecs/gzip.js'
import { createZstdCodec } from '../src/compression/codecs/zstd.js'
import { parseZstdFrameHeader } from '../src/compression/codecs/zstd-frame.js'
import { nativeZstdDecompressAvailable } from '../src/compression/codecs/zstd-native.js'
import type { CompressionCodec } from '../src/compression/types.js'

const MiB = 1024 * 1024
const native = zlib as unknown as { zstdDecompressSync?: (b: Uint8Array) => Buffer }

/** Log lines as an application would ship them: mostly-repeating keys, varying ids, times and durations. */
function logLines(bytes: number, seed = 42): Buffer {
  let s = seed
  const rnd = () => {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff
    return s / 0x7fffffff
  }
  const pick = <T>(a: readonly T[]) => a[Math.floor(rnd() * a.length)]!
  const levels = ['INFO', 'INFO', 'INFO', 'DEBUG', 'WARN', 'ERROR']
  const services = ['checkout', 'payments', 'inventory', 'auth', 'search', 'gateway']
  const messages = ['request completed', 'cache miss', 'retrying upstream call', 'user logged in', 'order placed']
  const lines: string[] = []
  let n = 0
  let t = Date.UTC(2025, 0, 1)
  while (n < bytes) {
    t += Math.floor(rnd() * 50)
    const line = `${JSON.stringify({
      ts: new Date(t).toISOString(),
      level: pick(levels),
      service: pick(services),
      host: `ip-10-0-${Math.floor(rnd() * 255)}-${Math.floor(rnd() * 255)}`,
      traceId: Math.floor(rnd() * 2 ** 52).toString(16) + Math.floor(rnd() * 2 ** 52).toString(16),
      msg: pick(messages),
      durationMs: Math.round(rnd() * 5000) / 10,
      status: pick([200, 200, 200, 201, 404, 500]),
      userId: Math.floor(rnd() * 100000),
    })}\n`
    lines.push(line)
    n += line.length
  }
  return Buffer.from(lines.join('')).subarray(0, bytes)
}

async function drain(codec: CompressionCodec, input: Buffer, limit: number): Promise<number> {
  const d = codec.decompressor(input, { maxOutputBytes: limit })
  let n = 0
  for (let c = await d.next(); c; c = await d.next()) n += c.length
  return n
}

/**
 * Best ms per call over interleaved rounds: noise from other work on the machine hits every contender alike, and
 * the best round is the least disturbed one (medians moved ±25% between runs on a loaded 2-core box).
 */
async function timeAll(cases: Record<string, () => unknown>, rounds = 25, perRound = 2): Promise<Map<string, number>> {
  const samples = new Map<string, number[]>(Object.keys(cases).map((k) => [k, []]))
  for (const fn of Object.values(cases)) for (let i = 0; i < 5; i++) await fn()
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(cases)) {
      const t = performance.now()
      for (let i = 0; i < perRound; i++) await fn()
      samples.get(name)!.push((performance.now() - t) / perRound)
    }
  }
  return new Map([...samples].map(([k, v]) => [k, Math.min(...v)]))
}

function hasCli(name: string): boolean {
  return spawnSync(name, ['--version'], { stdio: 'ignore' }).status === 0
}

function cliMBps(args: string[], file: string, bytes: number): number {
  let best = Number.POSITIVE_INFINITY
  for (let i = 0; i < 3; i++) {
    const t = performance.now()
    const r = spawnSync('sh', ['-c', `${args.join(' ')} < '${file}' > /dev/null`])
    if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`)
    best = Math.min(best, performance.now() - t)
  }
  return bytes / MiB / (best / 1000)
}

function describeZstd(frame: Buffer): string {
  const h = parseZstdFrameHeader(frame, 0)
  return `window ${h.windowSize / MiB} MiB, content size ${h.contentSize === undefined ? 'absent' : 'present'}`
}

const rows: [string, string, number, number | undefined][] = []
const add = (input: string, who: string, mbps: number, vs?: number) => rows.push([input, who, mbps, vs])

const json = logLines(MiB)
const dir = mkdtempSync(join(tmpdir(), 'skiff-bench-'))
const zstdCli = hasCli('zstd')
const gzipCli = hasCli('gzip')
try {
  const auto = createZstdCodec()
  const fz = createZstdCodec({ decoder: 'fzstd' })
  const frames: [string, Buffer][] = [['zstd -3, with content size', await auto.compress(json, { level: 3 })]]
  if (zstdCli) {
    // What a Java producer writes (zstd-jni streaming at level 3): no content size, a 2 MiB window.
    const piped = spawnSync('zstd', ['-3', '-c'], { input: json, maxBuffer: 64 * MiB }).stdout
    frames.push(['zstd -3, streamed (Java-like)', piped])
    const piped19 = spawnSync('zstd', ['-19', '-c'], { input: json, maxBuffer: 64 * MiB }).stdout
    frames.push(['zstd -19, streamed', piped19])
  }
  for (const [label, frame] of frames) {
    const name = `${label} (${(frame.length / 1024).toFixed(0)} KB; ${describeZstd(frame)})`
    const cases: Record<string, () => unknown> = {
      'fzstd.decompress one-shot': () => fzstdDecompress(frame),
      'skiff incremental, fzstd': () => drain(fz, frame, 64 * MiB),
    }
    if (nativeZstdDecompressAvailable) {
      cases['skiff incremental, node:zlib'] = () => drain(auto, frame, 64 * MiB)
      cases['node:zlib zstdDecompressSync'] = () => native.zstdDecompressSync!(frame)
    }
    const times = await timeAll(cases)
    const base = times.get('fzstd.decompress one-shot')!
    for (const [who, ms] of times) add(name, who, json.length / MiB / (ms / 1000), base / ms)
  }
  const gz = await gzipCodec.compress(json, { level: 6 })
  const gname = `gzip -6 (${(gz.length / 1024).toFixed(0)} KB)`
  const gtimes = await timeAll({
    'node:zlib gunzipSync one-shot': () => zlib.gunzipSync(gz),
    'skiff incremental, node:zlib': () => drain(gzipCodec, gz, 64 * MiB),
  })
  const gbase = gtimes.get('node:zlib gunzipSync one-shot')!
  for (const [who, ms] of gtimes) add(gname, who, json.length / MiB / (ms / 1000), gbase / ms)

  // CLIs pay a process start, so they get a bigger input; skiff decodes the same bytes for comparison.
  const big = logLines(64 * MiB, 7)
  const bigFile = join(dir, 'big.json')
  writeFileSync(bigFile, big)
  if (zstdCli) {
    spawnSync('sh', ['-c', `zstd -q -3 -c '${bigFile}' > '${bigFile}.zst'`])
    const zst = spawnSync('cat', [`${bigFile}.zst`], { maxBuffer: 64 * MiB }).stdout
    const name = `64 MiB, zstd -3 CLI-made (${(zst.length / MiB).toFixed(1)} MiB)`
    add(name, 'zstd -d (CLI, 1 process)', cliMBps(['zstd', '-d', '-c'], `${bigFile}.zst`, big.length))
    const t = await timeAll({ fzstd: () => drain(fz, zst, 128 * MiB), once: () => fzstdDecompress(zst) }, 3, 1)
    add(name, 'fzstd.decompress one-shot (holds all)', big.length / MiB / (t.get('once')! / 1000))
    add(name, 'skiff incremental, fzstd', big.length / MiB / (t.get('fzstd')! / 1000))
    if (nativeZstdDecompressAvailable) {
      const tn = await timeAll({ n: () => drain(auto, zst, 128 * MiB) }, 3, 1)
      add(name, 'skiff incremental, node:zlib', big.length / MiB / (tn.get('n')! / 1000))
    }
  }
  if (gzipCli) {
    spawnSync('sh', ['-c', `gzip -6 -c '${bigFile}' > '${bigFile}.gz'`])
    const gzBig = spawnSync('cat', [`${bigFile}.gz`], { maxBuffer: 64 * MiB }).stdout
    const name = `64 MiB, gzip -6 CLI-made (${(gzBig.length / MiB).toFixed(1)} MiB)`
    add(name, 'gzip -d (CLI, 1 process)', cliMBps(['gzip', '-d', '-c'], `${bigFile}.gz`, big.length))
    const t = await timeAll({ g: () => drain(gzipCodec, gzBig, 128 * MiB) }, 3, 1)
    add(name, 'skiff incremental, node:zlib', big.length / MiB / (t.get('g')! / 1000))
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}

console.log(
  `decompress JSON log lines, MB/s of output, best of 25 rounds      (node ${process.version}, ${process.arch})`,
)
let last = ''
for (const [input, who, mbps, vs] of rows) {
  if (input !== last) console.log(`\n${input}`)
  last = input
  const ratio = vs === undefined ? '' : `${vs.toFixed(2)}`.padStart(8)
  console.log(`  ${who.padEnd(34)} ${mbps.toFixed(0).padStart(7)} MB/s ${ratio}`)
}
console.log('\n(last column: speed relative to the one-shot decoder of the same input)')
if (!zstdCli || !gzipCli)
  console.log('(zstd/gzip CLI not installed: their rows are missing; apt-get install zstd gzip)')
