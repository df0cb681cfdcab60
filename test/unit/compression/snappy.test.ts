import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import * as SnappyJS from 'snappyjs'
import { describe, expect, test } from 'vitest'
import {
  snappyCodec,
  snappyCompressRaw,
  snappyCompressXerial,
  snappyDecompressor,
  snappyDecompressSync,
} from '../../../src/compression/codecs/snappy.js'
import { CorruptCompressedDataError, DecompressionLimitError } from '../../../src/compression/errors.js'
import {
  drain,
  drainCounting,
  FIXTURES,
  javaOracle,
  jsonLines,
  lcgBytes,
  mutate,
  ORACLE_NAMES,
  oracleInput,
  sample,
  sampleArb,
} from './fixtures.js'

const MiB = 1024 * 1024
const NO_LIMIT = { maxOutputBytes: 1 << 30 }
const XERIAL_HEADER = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1])

/** xerial framing around raw blocks made by someone else (snappy-java's layout, built by hand). */
function xerial(blocks: Uint8Array[]): Buffer {
  const parts: Buffer[] = [XERIAL_HEADER]
  for (const b of blocks) {
    const len = Buffer.alloc(4)
    len.writeInt32BE(b.length)
    parts.push(len, Buffer.from(b))
  }
  return Buffer.concat(parts)
}

/** A uvarint, as a raw block's length preamble. */
function uvarint(n: number): number[] {
  const out: number[] = []
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80)
    n = Math.floor(n / 128)
  }
  out.push(n)
  return out
}

function raw(declared: number, ...elements: number[]): Buffer {
  return Buffer.from([...uvarint(declared), ...elements])
}

async function decode(input: Buffer, chunkBytes?: number): Promise<Buffer> {
  const { chunks, error } = await drain(snappyDecompressor(input, { maxOutputBytes: 1 << 30, chunkBytes }))
  if (error) throw error
  return Buffer.concat(chunks)
}

function corruption(input: Buffer): unknown {
  try {
    snappyDecompressSync(input, NO_LIMIT)
    return undefined
  } catch (e) {
    return e
  }
}

describe('snappy round trips', () => {
  test('xerial and raw output decode back to the input, in chunks of any size', async () => {
    await fc.assert(
      fc.asyncProperty(sampleArb(300_000), fc.integer({ min: 1, max: 100_000 }), async (s, chunk) => {
        const data = sample(s)
        // Any size, but no more than ~500 chunks per run, to keep the run short.
        const chunkBytes = Math.max(chunk, Math.ceil(data.length / 500))
        for (const compressed of [snappyCompressXerial(data), snappyCompressRaw(data)]) {
          const d = snappyDecompressor(compressed, { maxOutputBytes: data.length, chunkBytes })
          const { chunks, error } = await drain(d)
          expect(error).toBeUndefined()
          for (const c of chunks) expect(c.length).toBeLessThanOrEqual(chunkBytes)
          expect(Buffer.concat(chunks).equals(data)).toBe(true)
          expect(d.produced).toBe(data.length)
        }
      }),
      { numRuns: 60 },
    )
  })

  test('small inputs of every shape round-trip', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.integer({ min: 1, max: 200 }), (bytes, blockBytes) => {
        const data = Buffer.from(bytes)
        expect(snappyDecompressSync(snappyCompressXerial(data, blockBytes), NO_LIMIT).equals(data)).toBe(true)
        expect(snappyDecompressSync(snappyCompressRaw(data), NO_LIMIT).equals(data)).toBe(true)
      }),
      { numRuns: 300 },
    )
  })

  test('highly repetitive data compresses to a fraction and round-trips', async () => {
    const data = Buffer.alloc(5 * MiB, 'kafka ')
    const compressed = await snappyCodec.compress(data)
    expect(compressed.length).toBeLessThan(data.length / 15)
    expect((await decode(compressed, 64 * 1024)).equals(data)).toBe(true)
  })

  test('empty input: compress writes just the xerial header; empty, header-only and a zero-length raw block decode to nothing', async () => {
    const compressed = await snappyCodec.compress(Buffer.alloc(0))
    expect(compressed.equals(XERIAL_HEADER)).toBe(true)
    for (const input of [compressed, Buffer.alloc(0), Buffer.from([0])]) {
      const d = snappyDecompressor(input, { maxOutputBytes: 0 })
      expect(await d.next()).toBeNull()
      expect(d.produced).toBe(0)
    }
  })

  test('the codec writes xerial framing with 32 KiB blocks, as the Java producer does', async () => {
    const data = jsonLines(100_000)
    const out = await snappyCodec.compress(data)
    expect(out.subarray(0, 16).equals(XERIAL_HEADER)).toBe(true)
    let p = 16
    const declared: number[] = []
    while (p < out.length) {
      const len = out.readInt32BE(p)
      const body = out.subarray(p + 4, p + 4 + len)
      declared.push(Buffer.from(SnappyJS.uncompress(body)).length)
      p += 4 + len
    }
    expect(declared).toEqual([32768, 32768, 32768, 100_000 - 3 * 32768])
  })

  test('a raw block is handed out in chunkBytes slices; close() is idempotent and ends the output', async () => {
    const data = lcgBytes(MiB, 7)
    const d = snappyDecompressor(snappyCompressRaw(data), { maxOutputBytes: MiB, chunkBytes: 100_000 })
    const first = await d.next()
    expect(first!.length).toBe(100_000)
    expect(first!.equals(data.subarray(0, 100_000))).toBe(true)
    expect(d.produced).toBe(100_000)
    d.close()
    d.close()
    expect(await d.next()).toBeNull()
  })
})

describe('snappy against independent implementations', () => {
  test('snappyjs reads our raw blocks, and we read its', () => {
    fc.assert(
      fc.property(sampleArb(200_000), (s) => {
        const data = sample(s)
        expect(Buffer.from(SnappyJS.uncompress(snappyCompressRaw(data))).equals(data)).toBe(true)
        expect(snappyDecompressSync(Buffer.from(SnappyJS.compress(data)), NO_LIMIT).equals(data)).toBe(true)
      }),
      { numRuns: 40 },
    )
  })

  test('xerial framing built by hand around snappyjs blocks (any block size, empty blocks too) decodes', () => {
    fc.assert(
      fc.property(sampleArb(150_000), fc.integer({ min: 1, max: 70_000 }), (s, blockBytes) => {
        const data = sample(s)
        const blocks: Uint8Array[] = [SnappyJS.compress(new Uint8Array(0))]
        blockBytes = Math.max(blockBytes, Math.ceil(data.length / 300))
        for (let p = 0; p < data.length; p += blockBytes)
          blocks.push(SnappyJS.compress(data.subarray(p, p + blockBytes)))
        expect(snappyDecompressSync(xerial(blocks), NO_LIMIT).equals(data)).toBe(true)
      }),
      { numRuns: 40 },
    )
  })

  test('concatenated xerial streams (snappy-java reads them) decode to the concatenation', async () => {
    const a = jsonLines(40_000)
    const b = lcgBytes(50_000, 3)
    expect(
      (await decode(Buffer.concat([snappyCompressXerial(a), snappyCompressXerial(b)]))).equals(Buffer.concat([a, b])),
    ).toBe(true)
  })

  test.each(ORACLE_NAMES)('what Kafka 4.4 (snappy-java SnappyOutputStream) wrote for "%s" decodes', async (name) => {
    const compressed = readFileSync(join(FIXTURES, `${name}.kafka.snappy`))
    expect((await decode(compressed, 10_000)).equals(oracleInput(name))).toBe(true)
  })

  const java = javaOracle()
  test.skipIf(java === null)(
    `Kafka's Java consumer (snappy-java SnappyInputStream) reads what we write${java === null ? ' — skipped: no java or no kafka-clients jars in the broker cache' : ''}`,
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'skiff-snappy-'))
      try {
        for (const name of ORACLE_NAMES) {
          writeFileSync(join(dir, `skiff-${name}.snappy`), snappyCompressXerial(oracleInput(name)))
          writeFileSync(join(dir, `skiff-${name}-raw.snappy`), snappyCompressRaw(oracleInput(name)))
        }
        const out = execFileSync(java!.java, [...java!.args, 'verify', dir], { encoding: 'utf8', stdio: 'pipe' })
        const lines = out.trim().split('\n')
        expect(lines).toHaveLength(ORACLE_NAMES.length * 2)
        for (const line of lines) expect(line).toMatch(/ ok$/)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
    60_000,
  )
})

describe('snappy limits: bombs are refused while decoding', () => {
  test('a 1 KB raw block declaring 256 MiB is refused before anything is allocated', async () => {
    const input = Buffer.concat([Buffer.from(uvarint(256 * MiB)), Buffer.alloc(1024 - 5, 0)])
    expect(input.length).toBe(1024)
    const r = await drainCounting(snappyDecompressor(input, { maxOutputBytes: 16 * MiB }))
    expect(r.bytes).toBe(0)
    expect(r.error).toBeInstanceOf(DecompressionLimitError)
    const e = r.error as DecompressionLimitError
    expect([e.codec, e.compressedBytes, e.producedBytes, e.limitBytes]).toEqual(['snappy', 1024, 256 * MiB, 16 * MiB])
    expect(r.arrayBuffersGrowth).toBeLessThan(MiB)
  })

  test('the same declaration under a higher limit is corrupt — 1 KB cannot expand to 256 MiB — and still allocates nothing', async () => {
    const input = Buffer.concat([Buffer.from(uvarint(256 * MiB)), Buffer.alloc(1020, 0)])
    const r = await drainCounting(snappyDecompressor(input, { maxOutputBytes: 1024 * MiB }))
    expect(r.error).toBeInstanceOf(CorruptCompressedDataError)
    expect((r.error as Error).message).toMatch(/declares 268435456 bytes, more than its 1020 bytes can expand to/)
    expect(r.arrayBuffersGrowth).toBeLessThan(MiB)
  })

  test('a xerial block declaring 256 MiB after valid blocks is refused, with what came before it handed out', async () => {
    const bomb = Buffer.concat([Buffer.from(uvarint(256 * MiB)), Buffer.alloc(900, 0)])
    const good = snappyCompressRaw(jsonLines(30_000))
    const input = xerial([good, bomb])
    const r = await drainCounting(snappyDecompressor(input, { maxOutputBytes: 16 * MiB }))
    expect(r.bytes).toBe(30_000)
    const e = r.error as DecompressionLimitError
    expect(e).toBeInstanceOf(DecompressionLimitError)
    expect([e.compressedBytes, e.producedBytes, e.limitBytes]).toEqual([input.length, 30_000 + 256 * MiB, 16 * MiB])
    expect(r.arrayBuffersGrowth).toBeLessThan(MiB)
  })

  test('a 12 MiB xerial stream that expands to 256 MiB stops at the limit, holding one block at a time', async () => {
    // Snappy cannot expand more than 64/3 times, so a real 256 MiB bomb needs ~12 MiB: 256 blocks of 1 MiB of zeros.
    const block = snappyCompressRaw(Buffer.alloc(MiB))
    const input = xerial(Array.from({ length: 256 }, () => block))
    expect(input.length).toBeLessThan(13 * MiB)
    const limit = 32 * MiB
    const r = await drainCounting(snappyDecompressor(input, { maxOutputBytes: limit }))
    expect(r.error).toBeInstanceOf(DecompressionLimitError)
    expect(r.bytes).toBe(limit)
    expect(r.largestChunk).toBeLessThanOrEqual(MiB)
    expect(r.arrayBuffersGrowth).toBeLessThan(64 * MiB)
    expect(r.rssGrowth).toBeLessThan(64 * MiB)
    const e = r.error as DecompressionLimitError
    expect([e.codec, e.producedBytes, e.limitBytes]).toEqual(['snappy', limit + MiB, limit])
  })

  test('after refusing, the decompressor keeps refusing: the failure never passes for the end of the output', async () => {
    const d = snappyDecompressor(snappyCompressXerial(jsonLines(100_000)), { maxOutputBytes: 40_000 })
    expect((await d.next())!.length).toBe(32768)
    const first = await d.next().catch((e: unknown) => e)
    expect(first).toBeInstanceOf(DecompressionLimitError)
    await expect(d.next()).rejects.toBe(first)
  })

  test('output of exactly maxOutputBytes is accepted; one byte less is refused', async () => {
    const data = jsonLines(70_000)
    for (const c of [snappyCompressXerial(data), snappyCompressRaw(data)]) {
      expect(snappyDecompressSync(c, { maxOutputBytes: 70_000 }).equals(data)).toBe(true)
      expect(() => snappyDecompressSync(c, { maxOutputBytes: 69_999 })).toThrow(DecompressionLimitError)
    }
  })
})

describe('snappy corrupt input', () => {
  test('an overlapping copy repeats the last bytes (offset 1 is a run, offset 2 a pair)', () => {
    // 'ab' then a 1-byte-offset copy of length 10 from 2 back, then one of length 4 from 1 back.
    const input = raw(16, 1 << 2, 0x61, 0x62, 1 | ((10 - 4) << 2), 2, 1 | (0 << 2), 1)
    expect(snappyDecompressSync(input, NO_LIMIT).toString()).toBe('ababababababbbbb')
  })

  test('copies with 1-, 2- and 4-byte offsets reach the same history', () => {
    const lit = [15 << 2, ...Buffer.from('0123456789abcdef')]
    for (const copy of [
      [1 | ((5 - 4) << 2), 5],
      [2 | ((5 - 1) << 2), 5, 0],
      [3 | ((5 - 1) << 2), 5, 0, 0, 0],
    ]) {
      expect(snappyDecompressSync(raw(21, ...lit, ...copy), NO_LIMIT).toString()).toBe('0123456789abcdefbcdef')
    }
  })

  test('a copy with offset 0 is corrupt', () => {
    const e = corruption(raw(8, 3 << 2, 1, 2, 3, 4, 1, 0))
    expect(e).toBeInstanceOf(CorruptCompressedDataError)
    expect((e as Error).message).toMatch(/offset of 0 or before its start \(input byte 6\)/)
  })

  test('a copy reaching before the start of the output is corrupt, for every offset form', () => {
    for (const copy of [
      [1 | (0 << 2), 5],
      [2 | (3 << 2), 5, 0],
      [3 | (3 << 2), 0, 0, 0, 0x80],
    ]) {
      expect(corruption(raw(8, 3 << 2, 1, 2, 3, 4, ...copy))).toBeInstanceOf(CorruptCompressedDataError)
    }
  })

  test('literals and copies past the declared length, output short of it, truncated elements: all corrupt', () => {
    const cases = [
      raw(3, 3 << 2, 1, 2, 3, 4), // literal longer than declared
      raw(6, 3 << 2, 1, 2, 3, 4, 1 | (0 << 2), 1), // copy past declared
      raw(5, 3 << 2, 1, 2, 3, 4), // short
      raw(5, 4 << 2, 1, 2, 3), // literal runs past the input
      raw(1, 60 << 2), // literal length byte missing
      raw(10, 63 << 2, 0xff, 0xff, 0xff, 0xff), // 4 GiB literal
      raw(8, 3 << 2, 1, 2, 3, 4, 2), // copy offset missing
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), // length over 32 bits
      Buffer.from([0x80]), // truncated length
    ]
    for (const input of cases) expect(corruption(input)).toBeInstanceOf(CorruptCompressedDataError)
  })

  test('xerial: a truncated header, a block length overrunning the input or negative, a truncated length are corrupt', () => {
    const good = snappyCompressXerial(jsonLines(1000))
    const lengthPast = Buffer.from(good)
    lengthPast.writeInt32BE(good.length, 16)
    const negative = Buffer.from(good)
    negative.writeInt32BE(-5, 16)
    for (const input of [good.subarray(0, 12), lengthPast, negative, Buffer.concat([good, Buffer.from([0, 0])])]) {
      expect(corruption(input)).toBeInstanceOf(CorruptCompressedDataError)
    }
  })

  test('every truncation of a raw block is corrupt; of a xerial stream, corrupt unless it falls on a block boundary', () => {
    const data = jsonLines(3000)
    const r = snappyCompressRaw(data)
    for (let n = 1; n < r.length; n++) expect(corruption(r.subarray(0, n))).toBeInstanceOf(CorruptCompressedDataError)
    const x = snappyCompressXerial(data, 700)
    for (let n = 0; n < x.length; n++) {
      let out: Buffer | undefined
      try {
        out = snappyDecompressSync(x.subarray(0, n), NO_LIMIT)
      } catch (e) {
        expect(e).toBeInstanceOf(CorruptCompressedDataError)
      }
      // A cut between blocks is a shorter valid stream (snappy-java reads it too): a prefix in whole blocks.
      if (out) expect(out.length % 700 === 0 && data.subarray(0, out.length).equals(out)).toBe(true)
    }
  })

  test('mutated streams fail only with the typed errors, never a RangeError or a hang', () => {
    const bases = [
      snappyCompressXerial(jsonLines(20_000), 4096),
      snappyCompressRaw(jsonLines(5000)),
      snappyCompressRaw(lcgBytes(3000, 5)),
    ]
    fc.assert(
      fc.property(
        fc.constantFrom(...bases),
        fc.array(fc.tuple(fc.constantFrom('set', 'insert', 'delete'), fc.nat(), fc.nat(255)), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.integer({ min: 1, max: 50_000 }),
        (base, edits, chunkBytes) => {
          const bytes = mutate(base, edits)
          const d = snappyDecompressor(bytes, { maxOutputBytes: 100_000, chunkBytes })
          try {
            for (let c = d.nextSync(); c !== null; c = d.nextSync()) expect(c.length).toBeLessThanOrEqual(chunkBytes)
          } catch (e) {
            if (!(e instanceof CorruptCompressedDataError || e instanceof DecompressionLimitError)) throw e
          }
        },
      ),
      { numRuns: 1000 },
    )
  })

  test('random bytes fail only with the typed errors', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, withHeader) => {
        const input = withHeader ? Buffer.concat([XERIAL_HEADER, bytes]) : Buffer.from(bytes)
        try {
          snappyDecompressSync(input, { maxOutputBytes: 10_000 })
        } catch (e) {
          if (!(e instanceof CorruptCompressedDataError || e instanceof DecompressionLimitError)) throw e
        }
      }),
      { numRuns: 3000 },
    )
  })
})

// ---------------------------------------------------------------------------------------------------------------
// The decoder's fast paths (whole 4-byte words, groups that run past an element's end) against a byte-by-byte oracle
// ---------------------------------------------------------------------------------------------------------------

type SnappyElement = { literal: Uint8Array } | { copy: 1 | 2 | 4; len: number; offset: number }

/** Raw block elements as bytes: literals in the short form (or the 1- and 2-byte length forms), copies as asked. */
function elementBytes(elements: SnappyElement[]): number[] {
  const out: number[] = []
  for (const e of elements) {
    if ('literal' in e) {
      const n = e.literal.length - 1
      if (n < 60) out.push(n << 2)
      else if (n < 0x100) out.push(60 << 2, n)
      else out.push(61 << 2, n & 0xff, n >>> 8)
      out.push(...e.literal)
    } else if (e.copy === 1) {
      out.push(1 | ((e.len - 4) << 2) | ((e.offset >>> 8) << 5), e.offset & 0xff)
    } else if (e.copy === 2) {
      out.push(2 | ((e.len - 1) << 2), e.offset & 0xff, e.offset >>> 8)
    } else {
      out.push(
        3 | ((e.len - 1) << 2),
        e.offset & 0xff,
        (e.offset >>> 8) & 0xff,
        (e.offset >>> 16) & 0xff,
        e.offset >>> 24,
      )
    }
  }
  return out
}

function elementsLength(elements: SnappyElement[]): number {
  return elements.reduce((n, e) => n + ('literal' in e ? e.literal.length : e.len), 0)
}

/**
 * A raw snappy block decoded the plainest way — byte by byte, every check where the format puts it — returning the
 * output or the problem snappy.ts must report and the input byte it must report it at.
 */
function referenceSnappy(block: Uint8Array): { out: Buffer } | { problem: string; at: number } {
  let declared = 0
  let s = 0
  for (let scale = 1; ; scale *= 128) {
    const b = block[s++]!
    declared += (b & 0x7f) * scale
    if (b < 0x80) break
  }
  if (declared > Math.ceil(((block.length - s) * 64) / 3)) return { problem: 'can expand to', at: 0 }
  const dst = Buffer.alloc(declared)
  let d = 0
  const fail = (problem: string, at: number) => ({ problem: `block ${problem}`, at })
  while (s < block.length) {
    const at = s
    const tag = block[s++]!
    let len: number
    let offset: number
    if ((tag & 3) === 0) {
      len = tag >>> 2
      if (len >= 60) {
        const n = len - 59
        if (n > block.length - s) return fail('ends inside an element', at)
        len = 0
        for (let i = 0; i < n; i++) len += block[s++]! * 2 ** (8 * i)
      }
      len += 1
      if (len > block.length - s) return fail('ends inside an element', at)
      if (len > declared - d) return fail('produces more than its declared length', at)
      for (let i = 0; i < len; i++) dst[d++] = block[s++]!
      continue
    }
    const extra = [1, 2, 4][(tag & 3) - 1]!
    if (extra > block.length - s) return fail('ends inside an element', at)
    if ((tag & 3) === 1) {
      len = ((tag >>> 2) & 7) + 4
      offset = ((tag >>> 5) << 8) | block[s]!
    } else {
      len = (tag >>> 2) + 1
      offset = 0
      for (let i = 0; i < extra; i++) offset += block[s + i]! * 2 ** (8 * i)
    }
    s += extra
    if (offset === 0 || offset > d) return fail('copies from an offset of 0 or before its start', at)
    if (len > declared - d) return fail('produces more than its declared length', at)
    for (let i = 0; i < len; i++, d++) dst[d] = dst[d - offset]!
  }
  if (d !== declared) return fail('produces less than its declared length', s)
  return { out: dst }
}

/**
 * Decodes `input` (holding `block` at `at`) and expects exactly what the reference makes of `block`: the same
 * output, or the same error at the same input byte. (Checked without `expect` unless they differ: the sweeps below
 * decode tens of thousands of blocks.)
 */
function expectAsReference(block: Buffer, input: Buffer = block, at = 0): void {
  const expected = referenceSnappy(block)
  let out: Buffer | undefined
  let error: unknown
  try {
    out = snappyDecompressSync(input, NO_LIMIT)
  } catch (e) {
    error = e
  }
  const same =
    'out' in expected
      ? error === undefined && out!.equals(expected.out)
      : error instanceof CorruptCompressedDataError &&
        error.message.includes(expected.problem) &&
        (expected.at === 0 || error.inputOffset === at + expected.at)
  if (!same) {
    const got = error === undefined ? `output ${out!.toString('hex')}` : String(error)
    const want = 'out' in expected ? `output ${expected.out.toString('hex')}` : JSON.stringify(expected)
    expect(got, `block ${block.toString('hex')}`).toBe(want)
  }
}

/** `b` at byte offset `shift` of a larger buffer (the decoder must not care how its input is aligned). */
function shifted(b: Buffer, shift: number): Buffer {
  const big = Buffer.alloc(b.length + shift + 16, 0xa5)
  b.copy(big, shift)
  return big.subarray(shift, shift + b.length)
}

const bytesOf = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + 1) & 0xff)

describe('snappy decoder fast paths agree with a byte-by-byte decoder', () => {
  test('copies of every length at offsets 1..9 and a few longer, ending anywhere from 20 bytes before the end of the output to exactly at it', () => {
    const prefix: SnappyElement = { literal: bytesOf(24, 1) }
    for (const offset of [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 17, 24]) {
      for (let len = 1; len <= 64; len++) {
        for (let tail = 0; tail <= 20; tail++) {
          const forms: Array<1 | 2 | 4> = len >= 4 && len <= 11 ? [1, 2, 4] : [2, 4]
          for (const copy of forms) {
            const elements: SnappyElement[] = [prefix, { copy, len, offset }]
            if (tail > 0) elements.push({ literal: bytesOf(tail, offset + len) })
            const block = raw(elementsLength(elements), ...elementBytes(elements))
            expectAsReference(block, shifted(block, (offset + len + tail) & 7))
          }
        }
      }
    }
  })

  test('back-to-back copies at offsets 1..8 repeat the pattern (overlapping copies read what they just wrote)', () => {
    for (let offset = 1; offset <= 8; offset++) {
      const elements: SnappyElement[] = [{ literal: bytesOf(offset, offset) }]
      for (let i = 0; i < 12; i++) elements.push({ copy: 2, len: 1 + ((i * 13 + offset) % 64), offset })
      const block = raw(elementsLength(elements), ...elementBytes(elements))
      const out = snappyDecompressSync(block, NO_LIMIT)
      for (let i = offset; i < out.length; i++) expect(out[i]).toBe(out[i - offset])
      expectAsReference(block)
    }
  })

  test('literals of 1..80 bytes that end the input and the output, after 0..20 bytes, at every alignment', () => {
    for (let len = 1; len <= 80; len++) {
      for (let before = 0; before <= 20; before++) {
        const elements: SnappyElement[] = before > 0 ? [{ literal: bytesOf(before, len) }] : []
        elements.push({ literal: bytesOf(len, before) })
        const block = raw(elementsLength(elements), ...elementBytes(elements))
        expectAsReference(block, shifted(block, (len + before) & 7))
        // One byte short of the literal, or one declared byte short of it: corrupt, never a RangeError.
        expectAsReference(block.subarray(0, block.length - 1))
        expectAsReference(raw(elementsLength(elements) - 1, ...elementBytes(elements)))
      }
    }
  })

  test('a literal or copy that runs past the end of its xerial block is corrupt, though the next block holds enough bytes', () => {
    const next = snappyCompressRaw(jsonLines(1000))
    // The header is 16 bytes, the block length 4, the block's length preamble 1: its first element is at byte 21.
    const cases: Array<[Buffer, number]> = [
      [raw(10, 9 << 2, 1, 2, 3), 21], // a 10-byte literal with 3 bytes in the block
      [raw(12, 3 << 2, 1, 2, 3, 4, 2 | (7 << 2), 4), 26], // a copy missing its offset's second byte
    ]
    for (const [block, at] of cases) {
      const e = corruption(xerial([block, next]))
      expect(e).toBeInstanceOf(CorruptCompressedDataError)
      expect((e as Error).message).toContain(`xerial block ends inside an element (input byte ${at})`)
    }
  })

  test('random element streams, valid or not, decode exactly as byte by byte — output, or error and where', () => {
    const element: fc.Arbitrary<SnappyElement> = fc.oneof(
      fc
        .tuple(fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 300 })), fc.nat(255))
        .map(([n, seed]) => ({ literal: bytesOf(n, seed) })),
      fc
        .tuple(
          fc.constantFrom<1 | 2 | 4>(1, 2, 4),
          fc.integer({ min: 1, max: 64 }),
          fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 80 })),
        )
        .map(([copy, len, offset]) => ({ copy, len: copy === 1 ? 4 + (len % 8) : len, offset })),
    )
    fc.assert(
      fc.property(
        fc.array(element, { minLength: 1, maxLength: 40 }),
        fc.oneof(fc.constant(0), fc.integer({ min: -3, max: 3 })),
        fc.oneof(fc.constant(0), fc.nat(4)),
        fc.nat(7),
        (elements, delta, cut, shift) => {
          const declared = Math.max(0, elementsLength(elements) + delta)
          const full = raw(declared, ...elementBytes(elements))
          const block = full.subarray(0, Math.max(1, full.length - cut))
          expectAsReference(block, shifted(block, shift))
          // The same block inside xerial framing, followed by another block its fast paths may read into.
          const input = xerial([block, snappyCompressRaw(bytesOf(100, shift))])
          const ref = referenceSnappy(block)
          if ('out' in ref) {
            expect(snappyDecompressSync(input, NO_LIMIT).subarray(0, ref.out.length).equals(ref.out)).toBe(true)
          } else {
            expectAsReference(block, input, 20)
          }
        },
      ),
      { numRuns: 3000 },
    )
  })
})
