/**
 * How fast does skiff's bounded, incremental snappy and lz4 decompression run against the one-shot pure-JS peers
 * (snappyjs.uncompress, lz4js.decompress), which size and hold the whole output and check no bounds?
 *
 *   npx tsx bench/compression-snappy-lz4.ts [--rounds=25]
 *
 * Inputs: 1 MiB of JSON log lines, and 1 MiB of "random-ish" data (random hex text with repeats of earlier stretches:
 * short matches everywhere, as in ids and hashes). Every decoder gets the same compressed bytes where the formats
 * allow it; the output of each is checked against the input before anything is timed. MB/s = 10^6 bytes of
 * decompressed output per second; the best round of interleaved rounds is reported (see timeAll).
 */
import * as lz4js from 'lz4js'
import * as SnappyJS from 'snappyjs'
import { lz4CompressFrame, lz4Decompressor } from '../src/compression/codecs/lz4.js'
import { snappyCompressRaw, snappyCompressXerial, snappyDecompressor } from '../src/compression/codecs/snappy.js'
import type { Decompressor } from '../src/compression/types.js'

const MiB = 1024 * 1024
const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 25)

function lcg(seed: number): () => number {
  let s = seed
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff
    return s / 0x7fffffff
  }
}

/** Log lines as an application would ship them: mostly-repeating keys, varying ids, times and durations. */
function logLines(bytes: number, seed = 42): Buffer {
  const rnd = lcg(seed)
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

/** Random hex text; one stretch in eight repeats an earlier one. */
function randomish(bytes: number, seed = 7): Buffer {
  const rnd = lcg(seed)
  const b = Buffer.allocUnsafe(bytes)
  const hex = Buffer.from('0123456789abcdef')
  let i = 0
  while (i < bytes) {
    const n = Math.min(bytes - i, 4 + Math.floor(rnd() * 60))
    if (i > 1000 && rnd() < 0.125) {
      const from = i - n - Math.floor(rnd() * Math.min(i - n, 60_000))
      b.copy(b, i, from, from + n)
    } else {
      for (let k = 0; k < n; k++) b[i + k] = hex[Math.floor(rnd() * 16)]!
    }
    i += n
  }
  return b
}

async function drain(d: Decompressor): Promise<number> {
  let n = 0
  for (let c = await d.next(); c !== null; c = await d.next()) n += c.length
  return n
}

function drainSync(d: Decompressor & { nextSync(): Buffer | null }): number {
  let n = 0
  for (let c = d.nextSync(); c !== null; c = d.nextSync()) n += c.length
  return n
}

async function collect(d: Decompressor): Promise<Buffer> {
  const chunks: Buffer[] = []
  for (let c = await d.next(); c !== null; c = await d.next()) chunks.push(c)
  return Buffer.concat(chunks)
}

/** Splits xerial framing into its raw blocks (for decoders that only know raw snappy). */
function xerialBlocks(x: Buffer): Buffer[] {
  const blocks: Buffer[] = []
  for (let p = 16; p < x.length; ) {
    const len = x.readInt32BE(p)
    blocks.push(x.subarray(p + 4, p + 4 + len))
    p += 4 + len
  }
  return blocks
}

/**
 * Best ms per call over interleaved rounds: noise from other work on the machine hits every contender alike, and
 * the best round is the least disturbed one.
 */
async function timeAll(cases: Record<string, () => unknown>, perRound = 4): Promise<Map<string, number>> {
  const samples = new Map<string, number[]>(Object.keys(cases).map((k) => [k, []]))
  for (const fn of Object.values(cases)) for (let i = 0; i < 20; i++) await fn()
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(cases)) {
      const t = performance.now()
      for (let i = 0; i < perRound; i++) await fn()
      samples.get(name)!.push((performance.now() - t) / perRound)
    }
  }
  return new Map([...samples].map(([k, v]) => [k, Math.min(...v)]))
}

interface Case {
  label: string
  input: Buffer
  run: () => unknown
  check: () => Promise<Buffer> | Buffer
  /** The row the ratio column divides by. */
  baseline?: boolean
}

async function table(title: string, data: Buffer, cases: Case[]): Promise<void> {
  for (const c of cases) {
    const out = await c.check()
    if (!out.equals(data)) throw new Error(`${c.label}: wrong output`)
  }
  const times = await timeAll(Object.fromEntries(cases.map((c) => [c.label, c.run])))
  const base = times.get(cases.find((c) => c.baseline)!.label)!
  console.log(`\n${title}`)
  console.log(`${'decoder'.padEnd(58)}${'input'.padStart(10)}${'ms'.padStart(8)}${'MB/s'.padStart(8)}  vs peer`)
  for (const c of cases) {
    const ms = times.get(c.label)!
    const mbs = data.length / 1e6 / (ms / 1000)
    console.log(
      `${c.label.padEnd(58)}${c.input.length.toLocaleString('en').padStart(10)}${ms.toFixed(3).padStart(8)}` +
        `${mbs.toFixed(0).padStart(8)}  ${(base / ms).toFixed(2)}`,
    )
  }
}

async function main(): Promise<void> {
  const loads = (await import('node:os')).loadavg()
  console.log(
    `snappy / lz4 decompression, 1 MiB inputs     (node ${process.versions.node}, load ${loads[0]!.toFixed(1)})`,
  )
  const limit = { maxOutputBytes: 2 * MiB }
  for (const [name, data] of [
    ['JSON log lines', logLines(MiB)],
    ['random-ish hex', randomish(MiB)],
  ] as const) {
    const xerial = snappyCompressXerial(data)
    const blocks = xerialBlocks(xerial)
    const rawTheirs = Buffer.from(SnappyJS.compress(data))
    await table(`snappy, ${name}`, data, [
      {
        label: 'snappyjs.uncompress, raw block (its own compress)',
        input: rawTheirs,
        run: () => SnappyJS.uncompress(rawTheirs),
        check: () => Buffer.from(SnappyJS.uncompress(rawTheirs)),
        baseline: true,
      },
      {
        label: 'skiff, same raw block, 256 KiB chunks',
        input: rawTheirs,
        run: () => drain(snappyDecompressor(rawTheirs, limit)),
        check: () => collect(snappyDecompressor(rawTheirs, limit)),
      },
      {
        label: 'snappyjs.uncompress per xerial block (skiff compress)',
        input: xerial,
        run: () => {
          for (const b of blocks) SnappyJS.uncompress(b)
        },
        check: () => Buffer.concat(blocks.map((b) => Buffer.from(SnappyJS.uncompress(b)))),
      },
      {
        label: 'skiff, xerial 32 KiB blocks, await next()',
        input: xerial,
        run: () => drain(snappyDecompressor(xerial, limit)),
        check: () => collect(snappyDecompressor(xerial, limit)),
      },
      {
        label: 'skiff, xerial 32 KiB blocks, nextSync()',
        input: xerial,
        run: () => drainSync(snappyDecompressor(xerial, limit)),
        check: () => collect(snappyDecompressor(xerial, limit)),
      },
    ])

    const ours = lz4CompressFrame(data)
    const theirs = Buffer.from(lz4js.compress(data))
    await table(`lz4, ${name}`, data, [
      {
        label: 'lz4js.decompress, its own frame (4 MiB block)',
        input: theirs,
        run: () => lz4js.decompress(theirs),
        check: () => Buffer.from(lz4js.decompress(theirs)),
        baseline: true,
      },
      {
        label: 'skiff, same frame, 256 KiB chunks',
        input: theirs,
        run: () => drain(lz4Decompressor(theirs, limit)),
        check: () => collect(lz4Decompressor(theirs, limit)),
      },
      {
        label: 'lz4js.decompress, skiff frame (64 KiB blocks + xxh32)',
        input: ours,
        run: () => lz4js.decompress(ours),
        check: () => Buffer.from(lz4js.decompress(ours)),
      },
      {
        label: 'skiff, same frame, content checksum verified',
        input: ours,
        run: () => drain(lz4Decompressor(ours, limit)),
        check: () => collect(lz4Decompressor(ours, limit)),
      },
      {
        label: 'skiff, same frame, nextSync()',
        input: ours,
        run: () => drainSync(lz4Decompressor(ours, limit)),
        check: () => collect(lz4Decompressor(ours, limit)),
      },
    ])
  }
  // Compression, for the record (not the target): one round each.
  const data = logLines(MiB)
  const time = (fn: () => unknown) => {
    for (let i = 0; i < 5; i++) fn()
    const t = performance.now()
    for (let i = 0; i < 10; i++) fn()
    return (performance.now() - t) / 10
  }
  console.log('\ncompression of the JSON log lines (ms, output bytes)')
  for (const [label, fn] of [
    ['skiff snappy xerial', () => snappyCompressXerial(data)],
    ['skiff snappy raw', () => snappyCompressRaw(data)],
    ['snappyjs.compress', () => SnappyJS.compress(data)],
    ['skiff lz4 frame', () => lz4CompressFrame(data)],
    ['lz4js.compress', () => lz4js.compress(data)],
  ] as const) {
    const ms = time(fn)
    console.log(
      `${label.padEnd(24)}${ms.toFixed(2).padStart(8)} ms ${String((fn() as Uint8Array).length).padStart(9)} B`,
    )
  }
}

await main()
