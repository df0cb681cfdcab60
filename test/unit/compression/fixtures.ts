/**
 * The inputs behind test/fixtures/compression, generated exactly as KafkaCompressionOracle.java generates them, and
 * helpers shared by the snappy and lz4 tests.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import type { Decompressor } from '../../../src/compression/types.js'

export const FIXTURES = fileURLToPath(new URL('../../fixtures/compression/', import.meta.url))
export const ORACLE_NAMES = ['json', 'random', 'short'] as const
export type OracleName = (typeof ORACLE_NAMES)[number]

const ACTIONS = ['login', 'logout', 'view', 'click', 'purchase']

/** JSON log lines, truncated to `size` bytes. */
export function jsonLines(size: number): Buffer {
  const parts: string[] = []
  let length = 0
  for (let i = 0; length < size; i++) {
    const line = `{"seq":${i},"user":"user-${i % 97}","action":"${ACTIONS[i % 5]}","latency_ms":${(i * 37) % 1000}}\n`
    parts.push(line)
    length += line.length
  }
  return Buffer.from(parts.join('').slice(0, size))
}

/** Bytes of a 31-bit LCG (Java's int arithmetic, wrapping): incompressible but reproducible anywhere. */
export function lcgBytes(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size)
  let x = seed
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff
    b[i] = x >>> 16
  }
  return b
}

export function oracleInput(name: OracleName): Buffer {
  switch (name) {
    case 'json':
      return jsonLines(100_000)
    case 'random':
      return lcgBytes(16_000, 42)
    case 'short':
      return Buffer.from('hello, kafka')
  }
}

/** Pulls every chunk; returns them (or the error thrown, with what came before it). */
export async function drain(d: Decompressor): Promise<{ chunks: Buffer[]; error?: unknown }> {
  const chunks: Buffer[] = []
  try {
    for (let c = await d.next(); c !== null; c = await d.next()) chunks.push(c)
    return { chunks }
  } catch (error) {
    return { chunks, error }
  } finally {
    d.close()
  }
}

/**
 * Pulls every chunk without keeping any (as a consumer that hands each chunk on would), measuring the growth of
 * memory outside the JS heap (ArrayBuffers) and of rss while doing so.
 */
export async function drainCounting(d: Decompressor): Promise<{
  bytes: number
  chunks: number
  largestChunk: number
  error?: unknown
  arrayBuffersGrowth: number
  rssGrowth: number
}> {
  const before = process.memoryUsage()
  let peakArrayBuffers = before.arrayBuffers
  let peakRss = before.rss
  let bytes = 0
  let chunks = 0
  let largestChunk = 0
  let error: unknown
  try {
    for (let c = await d.next(); c !== null; c = await d.next()) {
      bytes += c.length
      chunks++
      if (c.length > largestChunk) largestChunk = c.length
      if ((chunks & 63) === 0) {
        const m = process.memoryUsage()
        peakArrayBuffers = Math.max(peakArrayBuffers, m.arrayBuffers)
        peakRss = Math.max(peakRss, m.rss)
      }
    }
  } catch (e) {
    error = e
  } finally {
    d.close()
  }
  const m = process.memoryUsage()
  peakArrayBuffers = Math.max(peakArrayBuffers, m.arrayBuffers)
  peakRss = Math.max(peakRss, m.rss)
  return {
    bytes,
    chunks,
    largestChunk,
    error,
    arrayBuffersGrowth: peakArrayBuffers - before.arrayBuffers,
    rssGrowth: peakRss - before.rss,
  }
}

/** A test input described by a few numbers (cheap for fast-check to generate and to shrink). */
export interface Sample {
  kind: 'random' | 'text' | 'runs' | 'empty'
  length: number
  seed: number
}

export function sampleArb(maxLength: number): fc.Arbitrary<Sample> {
  return fc.record({
    kind: fc.constantFrom('random', 'text', 'runs', 'empty'),
    length: fc.nat(maxLength),
    seed: fc.integer({ min: 1, max: 0x7fffffff }),
  })
}

/**
 * random: incompressible; text: JSON log lines; runs: byte runs, random bytes and copies of earlier stretches
 * (overlapping ones included) — long and short matches at every distance up to 70 KB.
 */
export function sample({ kind, length, seed }: Sample): Buffer {
  if (kind === 'empty') return Buffer.alloc(0)
  if (kind === 'random') return lcgBytes(length, seed)
  if (kind === 'text') return jsonLines(length)
  const b = Buffer.allocUnsafe(length)
  let x = seed
  const next = () => {
    x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff
    return x >>> 8
  }
  let i = 0
  while (i < length) {
    const mode = next() % 3
    const n = Math.min(length - i, 1 + (next() % (next() % 8 === 0 ? 5000 : 300)))
    if (mode === 0 || i === 0) {
      b.fill(next() & 0xff, i, i + n)
      i += n
    } else if (mode === 1) {
      const from = i - 1 - (next() % Math.min(i, 70_000))
      for (let k = 0; k < n; k++) b[i + k] = b[from + k]!
      i += n
    } else {
      for (let k = 0; k < n; k++) b[i + k] = next() & 0xff
      i += n
    }
  }
  return b
}

/**
 * How to run test/fixtures/compression/KafkaCompressionOracle.java with kafka-clients 4.4.0 and its lz4-java,
 * snappy-java and slf4j jars from the broker cache the jvm Kafka provider fills; null without java or the jars.
 * The class is compiled once per source version into the temp directory (the source launcher would compile on
 * every run).
 */
export function javaOracle(version = '4.4.0'): { java: string; args: string[] } | null {
  const cache =
    process.env.SKIFF_KAFKA_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'skiff', 'kafka')
  const lib = join(cache, version, 'lib')
  if (!existsSync(lib)) return null
  const files = readdirSync(lib)
  const jars = ['kafka-clients-', 'lz4-java-', 'snappy-java-', 'slf4j-api-'].map((prefix) =>
    files.find((f) => f.startsWith(prefix) && f.endsWith('.jar')),
  )
  if (jars.includes(undefined)) return null
  const classpath = jars.map((j) => join(lib, j!)).join(':')
  const source = join(FIXTURES, 'KafkaCompressionOracle.java')
  const key = createHash('sha256').update(readFileSync(source)).update(classpath).digest('hex').slice(0, 16)
  const classes = join(tmpdir(), `skiff-kafka-compression-oracle-${key}`)
  try {
    if (!existsSync(join(classes, 'KafkaCompressionOracle.class'))) {
      const building = mkdtempSync(`${classes}-`)
      execFileSync('javac', ['-nowarn', '-cp', classpath, '-d', building, source], { stdio: 'pipe' })
      try {
        renameSync(building, classes)
      } catch {
        rmSync(building, { recursive: true, force: true }) // another test file won the race
      }
    }
  } catch {
    return null
  }
  return { java: 'java', args: ['-cp', `${classpath}:${classes}`, 'KafkaCompressionOracle'] }
}

export type Edit = ['set' | 'insert' | 'delete', number, number]

/** `base` with each edit applied in turn: overwrite, insert or delete one byte at (position mod length). */
export function mutate(base: Buffer, edits: Edit[]): Buffer {
  let b = base
  for (const [op, at, value] of edits) {
    const i = at % (b.length + 1)
    if (op === 'set' && i < b.length) {
      b = Buffer.from(b)
      b[i] = value
    } else if (op === 'insert') {
      b = Buffer.concat([b.subarray(0, i), Buffer.from([value]), b.subarray(i)])
    } else {
      b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)])
    }
  }
  return b
}
