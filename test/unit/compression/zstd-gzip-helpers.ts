import { spawnSync } from 'node:child_process'
import { CorruptCompressedDataError, DecompressionLimitError } from '../../../src/compression/errors.js'
import type { Decompressor } from '../../../src/compression/types.js'

export const KiB = 1024
export const MiB = 1024 * 1024

/** Every chunk, concatenated; `maxChunk` asserts the chunk size contract on the way. */
export async function drain(d: Decompressor, maxChunk = Number.POSITIVE_INFINITY): Promise<Buffer> {
  const parts: Buffer[] = []
  for (let c = await d.next(); c; c = await d.next()) {
    if (c.length > maxChunk) throw new Error(`chunk of ${c.length} bytes, over ${maxChunk}`)
    parts.push(c)
  }
  return Buffer.concat(parts)
}

export interface MemoryRun {
  error: unknown
  produced: number
  ms: number
  /** Peak growth over the baseline taken just before the run, in MiB. */
  rssGrowthMiB: number
  arrayBuffersGrowthMiB: number
}

/** Drains a decompressor without keeping its output, sampling memory after every chunk. */
export async function drainMeasured(open: () => Decompressor): Promise<MemoryRun> {
  const before = process.memoryUsage()
  let rss = before.rss
  let arrayBuffers = before.arrayBuffers
  const sample = () => {
    const m = process.memoryUsage()
    rss = Math.max(rss, m.rss)
    arrayBuffers = Math.max(arrayBuffers, m.arrayBuffers)
  }
  const start = performance.now()
  const d = open()
  let error: unknown
  try {
    for (let c = await d.next(); c; c = await d.next()) sample()
  } catch (e) {
    error = e
  }
  sample()
  return {
    error,
    produced: d.produced,
    ms: performance.now() - start,
    rssGrowthMiB: (rss - before.rss) / MiB,
    arrayBuffersGrowthMiB: (arrayBuffers - before.arrayBuffers) / MiB,
  }
}

/** A decode of damaged input may succeed or fail, but only with the two errors the compression layer promises. */
export async function decodeOutcome(open: () => Decompressor): Promise<'ok' | 'corrupt' | 'limit'> {
  try {
    await drain(open())
    return 'ok'
  } catch (e) {
    if (e instanceof CorruptCompressedDataError) return 'corrupt'
    if (e instanceof DecompressionLimitError) return 'limit'
    throw e
  }
}

export function cliAvailable(name: string): boolean {
  return spawnSync(name, ['--version'], { stdio: 'ignore' }).status === 0
}

export function runCli(command: string, args: string[], input: Uint8Array): Buffer {
  const r = spawnSync(command, args, { input, maxBuffer: 256 * MiB })
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${r.stderr}`)
  return r.stdout
}

/** JSON log lines, compressible like real application logs. */
export function logLines(bytes: number, seed = 1): Buffer {
  let s = seed
  const rnd = () => {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff
    return s / 0x7fffffff
  }
  const lines: string[] = []
  let n = 0
  for (let i = 0; n < bytes; i++) {
    const line = `${JSON.stringify({
      ts: new Date(Date.UTC(2025, 0, 1) + i * 37).toISOString(),
      level: ['INFO', 'WARN', 'ERROR', 'DEBUG'][Math.floor(rnd() * 4)],
      service: ['checkout', 'payments', 'search'][Math.floor(rnd() * 3)],
      traceId: Math.floor(rnd() * 2 ** 52).toString(16),
      msg: 'request completed',
      durationMs: Math.round(rnd() * 5000) / 10,
    })}\n`
    lines.push(line)
    n += line.length
  }
  return Buffer.from(lines.join('')).subarray(0, bytes)
}
