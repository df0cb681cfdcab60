import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import * as lz4js from 'lz4js'
import * as xxh32 from 'lz4js/xxh32.js'
import { describe, expect, test } from 'vitest'
import {
  lz4Codec,
  lz4CompressFrame,
  lz4Decompressor,
  lz4DecompressSync,
  lz4LegacyDecompressor,
} from '../../../src/compression/codecs/lz4.js'
import { CorruptCompressedDataError, DecompressionLimitError } from '../../../src/compression/errors.js'
import { XxHash32, xxhash32 } from '../../../src/compression/xxhash32.js'
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

interface FrameSpec {
  /** Block maximum size code, 4 (64 KiB) .. 7 (4 MiB). Default 4. */
  bd?: number
  independent?: boolean
  blockChecksum?: boolean
  contentSize?: number
  /** The content to checksum after the end mark, if any. */
  contentChecksumOf?: Uint8Array
  /** Compute the header checksum over the magic number too (KAFKA-3160). */
  legacyHeader?: boolean
  blocks: Array<{ data: Uint8Array; stored?: boolean }>
}

/** An LZ4 frame assembled by hand around given block bodies. */
function frame(spec: FrameSpec): Buffer {
  const flg =
    0x40 |
    (spec.independent === false ? 0 : 0x20) |
    (spec.blockChecksum ? 0x10 : 0) |
    (spec.contentSize !== undefined ? 0x08 : 0) |
    (spec.contentChecksumOf ? 0x04 : 0)
  const head = [0x04, 0x22, 0x4d, 0x18, flg, (spec.bd ?? 4) << 4]
  if (spec.contentSize !== undefined) {
    const size = Buffer.alloc(8)
    size.writeBigUInt64LE(BigInt(spec.contentSize))
    head.push(...size)
  }
  const h = Buffer.from(head)
  const parts: Buffer[] = [h, Buffer.from([(xxhash32(h, 0, spec.legacyHeader ? 0 : 4) >>> 8) & 0xff])]
  for (const b of spec.blocks) {
    const size = Buffer.alloc(4)
    size.writeUInt32LE((b.data.length | (b.stored ? 0x80000000 : 0)) >>> 0)
    parts.push(size, Buffer.from(b.data))
    if (spec.blockChecksum) {
      const sum = Buffer.alloc(4)
      sum.writeUInt32LE(xxhash32(b.data))
      parts.push(sum)
    }
  }
  parts.push(Buffer.alloc(4))
  if (spec.contentChecksumOf) {
    const sum = Buffer.alloc(4)
    sum.writeUInt32LE(xxhash32(spec.contentChecksumOf))
    parts.push(sum)
  }
  return Buffer.concat(parts)
}

/** A length in LZ4's token-plus-255s encoding, for `base` = what the token nibble already holds (15). */
function lengthBytes(rest: number): number[] {
  const out: number[] = []
  for (; rest >= 255; rest -= 255) out.push(255)
  out.push(rest)
  return out
}

/** One compressed block: a literal byte, then a match of offset 1 repeating it, then 5 literal bytes: n bytes of `byte`. */
function runBlock(n: number, byte = 0): Buffer {
  const match = n - 1 - 5
  return Buffer.from([0x10 | 15, byte, 1, 0, ...lengthBytes(match - 4 - 15), 0x50, byte, byte, byte, byte, byte])
}

function corruption(input: Buffer, legacy = false): unknown {
  try {
    lz4DecompressSync(input, NO_LIMIT, { legacy })
    return undefined
  } catch (e) {
    return e
  }
}

const lz4Cli = (() => {
  try {
    execFileSync('lz4', ['--version'], { stdio: 'pipe' })
    return true
  } catch {
    return false
  }
})()

const skipCli = lz4Cli ? '' : ' — skipped: no lz4 CLI (apt-get install -y lz4)'

describe('xxHash32', () => {
  test('matches the reference vectors, one-shot and streamed in pieces of any size', () => {
    expect(xxhash32(Buffer.from(''))).toBe(0x02cc5d05)
    expect(xxhash32(Buffer.from('a'))).toBe(0x550d7456)
    expect(xxhash32(Buffer.from('abc'))).toBe(0x32d153ff)
    expect(xxhash32(Buffer.from('Nobody inspects the spammish repetition'))).toBe(0xe2293b2f)
    // Against lz4js' independent xxh32, at every alignment (lanes are read through a DataView, aligned or not).
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.nat(7), fc.nat(), (bytes, shift, seed) => {
        const buf = Buffer.alloc(bytes.length + 8)
        buf.set(bytes, shift)
        expect(xxhash32(buf, seed, shift, shift + bytes.length)).toBe(xxh32.hash(seed, buf, shift, bytes.length) >>> 0)
        expect(xxhash32(buf.subarray(shift, shift + bytes.length), seed)).toBe(
          xxh32.hash(seed, bytes, 0, bytes.length) >>> 0,
        )
      }),
    )
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(40)), fc.nat(), (data, cuts, seed) => {
        const h = new XxHash32(seed)
        let p = 0
        for (const c of cuts) {
          const q = Math.min(data.length, p + c)
          h.update(data, p, q)
          p = q
        }
        h.update(data, p)
        expect(h.digest()).toBe(xxhash32(data, seed))
      }),
    )
  })
})

describe('lz4 round trips', () => {
  test('frames decode back to the input, with and without content checksum, in chunks of any size', async () => {
    await fc.assert(
      fc.asyncProperty(sampleArb(300_000), fc.integer({ min: 1, max: 100_000 }), fc.boolean(), async (s, chunk, cc) => {
        const data = sample(s)
        const chunkBytes = Math.max(chunk, Math.ceil(data.length / 500))
        const d = lz4Decompressor(lz4CompressFrame(data, { contentChecksum: cc }), {
          maxOutputBytes: data.length,
          chunkBytes,
        })
        const { chunks, error } = await drain(d)
        expect(error).toBeUndefined()
        for (const c of chunks) expect(c.length).toBeLessThanOrEqual(Math.min(chunkBytes, 64 * 1024))
        expect(Buffer.concat(chunks).equals(data)).toBe(true)
        expect(d.produced).toBe(data.length)
      }),
      { numRuns: 60 },
    )
  })

  test('small inputs of every shape round-trip', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const data = Buffer.from(bytes)
        expect(lz4DecompressSync(lz4CompressFrame(data), NO_LIMIT).equals(data)).toBe(true)
      }),
      { numRuns: 500 },
    )
  })

  test('the codec writes what Kafka’s producer writes: independent 64 KiB blocks, no content checksum (FLG 0x60)', async () => {
    const data = Buffer.alloc(5 * MiB, 'kafka ')
    const out = await lz4Codec.compress(data)
    expect([...out.subarray(0, 6)]).toEqual([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40])
    expect(out.length).toBeLessThan(data.length / 50)
    expect((await drain(lz4Codec.decompressor(out, { maxOutputBytes: 5 * MiB }))).chunks).toHaveLength(80)
  })

  test('incompressible blocks are stored (high bit) and handed out as they are', () => {
    const data = lcgBytes(100_000, 9)
    const out = lz4CompressFrame(data, { contentChecksum: false })
    expect(out.readUInt32LE(7)).toBe((0x80000000 | 65536) >>> 0)
    expect(out.length).toBe(7 + 4 + 65536 + 4 + (100_000 - 65536) + 4)
    expect(lz4DecompressSync(out, NO_LIMIT).equals(data)).toBe(true)
  })

  test('empty input is a frame with no blocks, and decodes to nothing', async () => {
    const out = lz4CompressFrame(Buffer.alloc(0))
    expect(out.length).toBe(7 + 4 + 4)
    const d = lz4Decompressor(out, { maxOutputBytes: 0 })
    expect(await d.next()).toBeNull()
    expect(d.produced).toBe(0)
  })

  test('every block respects the end-of-block rules the reference decoder relies on (last match ≥ 12 bytes before the end, last 5 bytes literal)', () => {
    fc.assert(
      fc.property(sampleArb(200_000), (s) => {
        const out = lz4CompressFrame(sample(s), { contentChecksum: false })
        for (let p = 7; ; ) {
          const word = out.readUInt32LE(p)
          if (word === 0) break
          const size = word & 0x7fffffff
          if (word < 0x80000000) checkBlockEnd(out, p + 4, p + 4 + size)
          p += 4 + size
        }
      }),
      { numRuns: 60 },
    )
  })

  test('close() is idempotent and ends the output', async () => {
    const d = lz4Decompressor(lz4CompressFrame(jsonLines(200_000)), NO_LIMIT)
    expect((await d.next())!.length).toBe(65536)
    d.close()
    d.close()
    expect(await d.next()).toBeNull()
  })
})

/** Walks a block's sequences; asserts the last match starts ≥ 12 bytes before the end and ≥ 5 literals close it. */
function checkBlockEnd(b: Buffer, s: number, end: number): void {
  let d = 0
  let lastMatchStart = -1
  let finalLiterals = 0
  for (;;) {
    const token = b[s++]!
    let lit = token >>> 4
    if (lit === 15) for (let x = 255; x === 255; lit += x) x = b[s++]!
    s += lit
    d += lit
    if (s === end) {
      finalLiterals = lit
      break
    }
    s += 2
    let len = token & 15
    if (len === 15) for (let x = 255; x === 255; len += x) x = b[s++]!
    lastMatchStart = d
    d += len + 4
  }
  if (lastMatchStart >= 0) {
    expect(d - lastMatchStart).toBeGreaterThanOrEqual(12)
    expect(finalLiterals).toBeGreaterThanOrEqual(5)
  }
}

describe('lz4 against independent implementations', () => {
  test('lz4js reads our frames, and we read its (4 MiB linked blocks)', () => {
    fc.assert(
      fc.property(sampleArb(200_000), (s) => {
        const data = sample(s)
        expect(Buffer.from(lz4js.decompress(lz4CompressFrame(data))).equals(data)).toBe(true)
        expect(lz4DecompressSync(Buffer.from(lz4js.compress(data)), NO_LIMIT).equals(data)).toBe(true)
      }),
      { numRuns: 40 },
    )
  })

  const cliInputs = () => [jsonLines(200_000), sample({ kind: 'runs', length: 300_000, seed: 5 })]

  test.skipIf(!lz4Cli)(`the reference lz4 CLI decodes our frames${skipCli}`, () => {
    for (const data of cliInputs()) {
      for (const contentChecksum of [true, false]) {
        const out = execFileSync('lz4', ['-d', '-c'], {
          input: lz4CompressFrame(data, { contentChecksum }),
          maxBuffer: 64 * MiB,
        })
        expect(out.equals(data)).toBe(true)
      }
    }
  })

  test.skipIf(!lz4Cli)(
    `we decode the lz4 CLI's frames: every block size, linked blocks, content size, block checksums${skipCli}`,
    () => {
      const variants = [
        ['-B4'],
        ['-B5'],
        ['-B6'],
        ['-B7'],
        ['-B4', '-BD'],
        ['-B5', '-BD'],
        ['--content-size'],
        ['-BX'],
        ['--no-frame-crc'],
        ['-9', '-BD', '-B4'],
      ]
      for (const data of cliInputs()) {
        for (const flags of variants) {
          const compressed = execFileSync('lz4', ['-c', '-q', ...flags], { input: data, maxBuffer: 64 * MiB })
          expect(lz4DecompressSync(compressed, NO_LIMIT).equals(data), flags.join(' ')).toBe(true)
        }
      }
    },
  )

  test.skipIf(!lz4Cli)(
    `lz4js' own block compressor breaks the end-of-block rule in 64 KiB blocks (the CLI refuses them) — ours does not${skipCli}`,
    () => {
      // 64 KiB: a long periodic stretch, then 10 random bytes, a 4-byte repeat starting 10 bytes before the end,
      // 6 random bytes. lz4js matches that repeat; the reference decoder then refuses the block.
      const block = Buffer.alloc(65536)
      const period = lcgBytes(32, 1)
      for (let i = 0; i < 65536 - 20; i++) block[i] = period[i % 32]!
      lcgBytes(20, 2).copy(block, 65536 - 20)
      period.copy(block, 65536 - 10, 5, 9)
      const body = Buffer.alloc(70_000)
      const n = lz4js.compressBlock(block, body, 0, block.length, new Uint32Array(65536))
      const theirs = frame({ blocks: [{ data: body.subarray(0, n) }] })
      expect(() => execFileSync('lz4', ['-d', '-c'], { input: theirs, stdio: 'pipe' })).toThrow()
      expect(lz4DecompressSync(theirs, NO_LIMIT).equals(block)).toBe(true) // we are as lenient as lz4js
      const ours = execFileSync('lz4', ['-d', '-c'], { input: lz4CompressFrame(block) })
      expect(ours.equals(block)).toBe(true)
    },
  )

  test.each(ORACLE_NAMES)(
    'what Kafka 4.4 (Lz4BlockOutputStream) wrote for "%s" decodes, block checksums verified',
    (name) => {
      const data = oracleInput(name)
      const read = (variant: string, legacy = false) =>
        lz4DecompressSync(readFileSync(join(FIXTURES, `${name}.kafka${variant}.lz4`)), NO_LIMIT, { legacy })
      expect(read('').equals(data)).toBe(true)
      expect(read('-blockchecksum').equals(data)).toBe(true)
      expect(read('-magic0', true).equals(data)).toBe(true)
      expect(read('', true).equals(data)).toBe(true)
    },
  )

  test('a magic 0 frame (KAFKA-3160 header checksum over the magic number) is accepted only by the legacy decoder', async () => {
    const kafka = readFileSync(join(FIXTURES, 'json.kafka-magic0.lz4'))
    const ours = lz4CompressFrame(jsonLines(1000), { legacyHeaderChecksum: true })
    for (const input of [kafka, ours]) {
      const e = corruption(input)
      expect(e).toBeInstanceOf(CorruptCompressedDataError)
      expect((e as Error).message).toMatch(/header checksum/)
      const { error } = await drain(lz4LegacyDecompressor(input, NO_LIMIT))
      expect(error).toBeUndefined()
    }
    // The legacy decoder still checks: a header checksum that is neither is corrupt.
    const wrong = Buffer.from(ours)
    wrong[6]! ^= 0x5a
    expect(corruption(wrong, true)).toBeInstanceOf(CorruptCompressedDataError)
  })

  test('a corrupted Kafka block fails its block checksum', () => {
    const input = Buffer.from(readFileSync(join(FIXTURES, 'json.kafka-blockchecksum.lz4')))
    input[100]! ^= 1
    expect((corruption(input) as Error).message).toMatch(/block checksum mismatch/)
  })

  const java = javaOracle()
  test.skipIf(java === null)(
    `Kafka's Java consumer (Lz4BlockInputStream) reads what we write, magic 0 header included${java === null ? ' — skipped: no java or no kafka-clients jars in the broker cache' : ''}`,
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'skiff-lz4-'))
      try {
        for (const name of ORACLE_NAMES) {
          const data = oracleInput(name)
          writeFileSync(join(dir, `skiff-${name}.lz4`), lz4CompressFrame(data))
          writeFileSync(join(dir, `skiff-${name}-nocc.lz4`), lz4CompressFrame(data, { contentChecksum: false }))
          writeFileSync(join(dir, `skiff-${name}-magic0.lz4`), lz4CompressFrame(data, { legacyHeaderChecksum: true }))
        }
        const out = execFileSync(java!.java, [...java!.args, 'verify', dir], { encoding: 'utf8', stdio: 'pipe' })
        const lines = out.trim().split('\n')
        expect(lines).toHaveLength(ORACLE_NAMES.length * 3)
        for (const line of lines) expect(line).toMatch(/ ok$/)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
    60_000,
  )
})

describe('lz4 limits: bombs are refused while decoding', () => {
  test('a 1 KB frame declaring a content size of 256 MiB is refused before anything is decoded', async () => {
    const input = frame({ contentSize: 256 * MiB, blocks: [{ data: Buffer.alloc(1024 - 23, 0), stored: true }] })
    expect(input.length).toBe(1024)
    const r = await drainCounting(lz4Decompressor(input, { maxOutputBytes: 16 * MiB }))
    expect(r.bytes).toBe(0)
    const e = r.error as DecompressionLimitError
    expect(e).toBeInstanceOf(DecompressionLimitError)
    expect([e.codec, e.compressedBytes, e.producedBytes, e.limitBytes]).toEqual(['lz4', 1024, 256 * MiB, 16 * MiB])
    expect(r.arrayBuffersGrowth).toBeLessThan(MiB)
  })

  test('a 1 MiB frame that expands to 256 MiB (64 × a 4 MiB block of zeros) stops at the limit, holding one block at a time', async () => {
    const block = runBlock(4 * MiB)
    const input = frame({ bd: 7, blocks: Array.from({ length: 64 }, () => ({ data: block })) })
    expect(input.length).toBeLessThan(1.1 * MiB)
    const limit = 30 * MiB
    const r = await drainCounting(lz4Decompressor(input, { maxOutputBytes: limit }))
    const e = r.error as DecompressionLimitError
    expect(e).toBeInstanceOf(DecompressionLimitError)
    expect(r.bytes).toBe(28 * MiB) // 7 whole blocks; the 8th stops at the limit, inside the decoder
    expect(r.bytes).toBeLessThanOrEqual(limit)
    expect([e.codec, e.compressedBytes, e.producedBytes, e.limitBytes]).toEqual(['lz4', input.length, limit, limit])
    expect(r.arrayBuffersGrowth).toBeLessThan(64 * MiB)
    expect(r.rssGrowth).toBeLessThan(64 * MiB)
  })

  test('the same bomb in Kafka-sized 64 KiB blocks also stops at the limit (plus nothing)', async () => {
    const block = runBlock(65536, 7)
    const input = frame({ blocks: Array.from({ length: 4096 }, () => ({ data: block })) })
    const limit = 10 * MiB + 1000
    const r = await drainCounting(lz4Decompressor(input, { maxOutputBytes: limit }))
    expect(r.error).toBeInstanceOf(DecompressionLimitError)
    expect(r.bytes).toBe(10 * MiB)
    expect(r.arrayBuffersGrowth).toBeLessThan(64 * MiB)
  })

  test('a stored block larger than what is left of the limit is refused before it is handed out', async () => {
    const input = frame({
      blocks: [
        { data: Buffer.alloc(60_000), stored: true },
        { data: Buffer.alloc(60_000), stored: true },
      ],
    })
    const r = await drainCounting(lz4Decompressor(input, { maxOutputBytes: 100_000 }))
    expect(r.bytes).toBe(60_000)
    expect((r.error as DecompressionLimitError).producedBytes).toBe(120_000)
  })

  test('after refusing, the decompressor keeps refusing: the failure never passes for the end of the output', async () => {
    const d = lz4Decompressor(lz4CompressFrame(jsonLines(100_000)), { maxOutputBytes: 70_000 })
    expect((await d.next())!.length).toBe(65536)
    const first = await d.next().catch((e: unknown) => e)
    expect(first).toBeInstanceOf(DecompressionLimitError)
    await expect(d.next()).rejects.toBe(first)
    const bad = Buffer.from(lz4CompressFrame(jsonLines(100)))
    bad[0] = 0
    const c = lz4Decompressor(bad, NO_LIMIT)
    const e = await c.next().catch((x: unknown) => x)
    expect(e).toBeInstanceOf(CorruptCompressedDataError)
    await expect(c.next()).rejects.toBe(e)
  })

  test('output of exactly maxOutputBytes is accepted; one byte less is refused', () => {
    for (const data of [jsonLines(150_000), lcgBytes(150_000, 4)]) {
      const c = lz4CompressFrame(data)
      expect(lz4DecompressSync(c, { maxOutputBytes: 150_000 }).equals(data)).toBe(true)
      expect(() => lz4DecompressSync(c, { maxOutputBytes: 149_999 })).toThrow(DecompressionLimitError)
    }
  })

  test('a small limit never allocates the 4 MiB a frame’s block size would allow', async () => {
    const input = frame({ bd: 7, blocks: [{ data: runBlock(4 * MiB) }] })
    const r = await drainCounting(lz4Decompressor(input, { maxOutputBytes: 1000 }))
    expect(r.error).toBeInstanceOf(DecompressionLimitError)
    expect(r.arrayBuffersGrowth).toBeLessThan(MiB)
  })
})

describe('lz4 corrupt input', () => {
  const lit = (s: string) => [...Buffer.from(s)]

  test('overlapping matches repeat the last bytes, short and long (offset 1 and 3 over 300 bytes)', () => {
    const block = [
      0x3f,
      ...lit('abc'),
      3,
      0,
      ...lengthBytes(300 - 4 - 15),
      0x10 | 15,
      ...lit('d'),
      1,
      0,
      ...lengthBytes(100 - 19),
      0x50,
      ...lit('xyzzy'),
    ]
    const expected = `abc${'abc'.repeat(100)}d${'d'.repeat(100)}xyzzy`
    expect(lz4DecompressSync(frame({ blocks: [{ data: Buffer.from(block) }] }), NO_LIMIT).toString()).toBe(expected)
  })

  test('a match offset of 0 is corrupt', () => {
    const e = corruption(
      frame({ blocks: [{ data: Buffer.from([0x40, ...lit('abcd'), 0, 0, 0x50, ...lit('abcde')]) }] }),
    )
    expect(e).toBeInstanceOf(CorruptCompressedDataError)
    expect((e as Error).message).toMatch(/offset of 0 or beyond/)
  })

  test('a match offset beyond the history is corrupt; an independent block cannot reach into the previous one', () => {
    expect(
      corruption(frame({ blocks: [{ data: Buffer.from([0x40, ...lit('abcd'), 5, 0, 0x50, ...lit('abcde')]) }] })),
    ).toBeInstanceOf(CorruptCompressedDataError)
    // Block 2 copies 8 bytes from 8 back: the end of block 1. Fine when linked, corrupt when independent.
    const blocks = [
      { data: Buffer.from('0123456789'), stored: true },
      { data: Buffer.from([0x04, 8, 0, 0x50, ...lit('tail!')]) },
    ]
    expect(lz4DecompressSync(frame({ independent: false, blocks }), NO_LIMIT).toString()).toBe(
      '012345678923456789tail!',
    )
    expect(corruption(frame({ independent: true, blocks }))).toBeInstanceOf(CorruptCompressedDataError)
  })

  test.skipIf(!lz4Cli)(`linked blocks (lz4 -BD) see 64 KiB of history across many blocks${skipCli}`, () => {
    const data = sample({ kind: 'runs', length: 600_000, seed: 77 })
    const c = execFileSync('lz4', ['-c', '-q', '-B4', '-BD'], { input: data, maxBuffer: 64 * MiB })
    expect(lz4DecompressSync(c, NO_LIMIT).equals(data)).toBe(true)
  })

  test('a block that expands past the frame’s maximum block size is corrupt', () => {
    const e = corruption(frame({ bd: 4, blocks: [{ data: runBlock(65537) }] }))
    expect(e).toBeInstanceOf(CorruptCompressedDataError)
    expect((e as Error).message).toMatch(/maximum block size of 65536/)
    expect(lz4DecompressSync(frame({ bd: 4, blocks: [{ data: runBlock(65536) }] }), NO_LIMIT).length).toBe(65536)
  })

  test('header faults: magic, version, reserved bits, dictionary, block size code, header checksum — all corrupt', () => {
    const good = lz4CompressFrame(jsonLines(1000))
    const edits: Array<[number, number]> = [
      [0, 0x05],
      [4, 0x80 | 0x20], // version 2
      [4, 0x40 | 0x20 | 0x02], // reserved FLG bit
      [4, 0x40 | 0x20 | 0x01], // dictionary id
      [5, 0x40 | 0x01], // reserved BD bits
      [5, 0x30], // block maximum size code 3
      [6, good[6]! ^ 1],
    ]
    for (const [at, value] of edits) {
      const bad = Buffer.from(good)
      bad[at] = value
      expect(corruption(bad), `byte ${at} = ${value}`).toBeInstanceOf(CorruptCompressedDataError)
    }
  })

  test('framing faults: oversized block, block overrunning the input, no end mark, trailing bytes, wrong content size', () => {
    const good = lz4CompressFrame(jsonLines(100_000), { contentChecksum: false })
    const oversized = Buffer.from(good)
    oversized.writeUInt32LE(65537, 7)
    const overrun = Buffer.from(good)
    overrun.writeUInt32LE(good.length, 7)
    const cases = [
      oversized,
      overrun,
      good.subarray(0, good.length - 4),
      Buffer.concat([good, Buffer.from([0])]),
      frame({ contentSize: 11, blocks: [{ data: Buffer.from('0123456789'), stored: true }] }),
      frame({ contentSize: 9, blocks: [{ data: Buffer.from('0123456789'), stored: true }] }),
    ]
    for (const input of cases) expect(corruption(input)).toBeInstanceOf(CorruptCompressedDataError)
    expect(
      lz4DecompressSync(
        frame({ contentSize: 10, blocks: [{ data: Buffer.from('0123456789'), stored: true }] }),
        NO_LIMIT,
      ).toString(),
    ).toBe('0123456789')
  })

  test('a content checksum mismatch is corrupt — a changed byte in the data or in the checksum itself', () => {
    const data = lcgBytes(100_000, 12)
    const good = lz4CompressFrame(data) // stored blocks: a flipped data byte still decodes, only the checksum can tell
    const inData = Buffer.from(good)
    inData[5000]! ^= 0x10
    const inSum = Buffer.from(good)
    inSum[inSum.length - 1]! ^= 0x10
    for (const bad of [inData, inSum]) expect((corruption(bad) as Error).message).toMatch(/content checksum mismatch/)
  })

  test('every truncation of a frame is corrupt', () => {
    const good = lz4CompressFrame(jsonLines(5000))
    for (let n = 0; n < good.length; n++)
      expect(corruption(good.subarray(0, n))).toBeInstanceOf(CorruptCompressedDataError)
  })

  test('mutated frames fail only with the typed errors, never a RangeError or a hang', () => {
    const bases = [
      lz4CompressFrame(jsonLines(150_000), { contentChecksum: false }),
      lz4CompressFrame(sample({ kind: 'runs', length: 20_000, seed: 3 })),
      frame({
        independent: false,
        blocks: [{ data: runBlock(70_000 - 65536, 1) }, { data: Buffer.from([0x04, 8, 0, 0x50, ...lit('tail!')]) }],
        bd: 5,
      }),
    ]
    fc.assert(
      fc.property(
        fc.constantFrom(...bases),
        fc.array(fc.tuple(fc.constantFrom('set', 'insert', 'delete'), fc.nat(), fc.nat(255)), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.boolean(),
        (base, edits, legacy) => {
          const bytes = mutate(base, edits)
          const limits = { maxOutputBytes: 400_000, chunkBytes: 30_000 }
          const d = (legacy ? lz4LegacyDecompressor : lz4Decompressor)(bytes, limits)
          try {
            for (let c = d.nextSync(); c !== null; c = d.nextSync()) expect(c.length).toBeLessThanOrEqual(30_000)
          } catch (e) {
            if (!(e instanceof CorruptCompressedDataError || e instanceof DecompressionLimitError)) throw e
          }
        },
      ),
      { numRuns: 1000 },
    )
  })

  test('random bytes after a valid header fail only with the typed errors', () => {
    const header = lz4CompressFrame(Buffer.alloc(0)).subarray(0, 7)
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          lz4DecompressSync(Buffer.concat([header, bytes]), { maxOutputBytes: 100_000 })
        } catch (e) {
          if (!(e instanceof CorruptCompressedDataError || e instanceof DecompressionLimitError)) throw e
        }
      }),
      { numRuns: 3000 },
    )
  })
})

// ---------------------------------------------------------------------------------------------------------------
// The block decoder's fast paths (whole 4-byte words, groups that run past literals or a match) against a
// byte-by-byte oracle
// ---------------------------------------------------------------------------------------------------------------

interface Sequence {
  literals: Uint8Array
  /** Absent on the last sequence of a block. */
  match?: { offset: number; length: number }
}

/** LZ4 sequences as block bytes. */
function sequenceBytes(sequences: Sequence[]): Buffer {
  const out: number[] = []
  for (const { literals, match } of sequences) {
    const extra = match ? match.length - 4 : 0
    out.push((Math.min(literals.length, 15) << 4) | Math.min(extra, 15))
    if (literals.length >= 15) out.push(...lengthBytes(literals.length - 15))
    out.push(...literals)
    if (match) {
      out.push(match.offset & 0xff, match.offset >>> 8)
      if (extra >= 15) out.push(...lengthBytes(extra - 15))
    }
  }
  return Buffer.from(out)
}

const sequencesLength = (sequences: Sequence[]) =>
  sequences.reduce((n, q) => n + q.literals.length + (q.match?.length ?? 0), 0)

/**
 * An LZ4 block decoded the plainest way — byte by byte, every check where the format puts it, writing nothing at or
 * past `dEnd` — returning the output or the failure decodeBlock must report and the block byte it must report it at.
 */
function referenceLz4(
  block: Uint8Array,
  dEnd: number,
): { out: Buffer } | { failure: 'truncated' | 'offset' | 'overflow'; at: number } {
  const dst: number[] = []
  let s = 0
  let d = 0
  const length = (n: number): number | undefined => {
    if (n !== 15) return n
    for (;;) {
      if (s >= block.length) return undefined
      const b = block[s++]!
      n += b
      if (b !== 255) return n
    }
  }
  for (;;) {
    if (s >= block.length) return { failure: 'truncated', at: s }
    const at = s
    const token = block[s++]!
    const literals = length(token >>> 4)
    if (literals === undefined || literals > block.length - s) return { failure: 'truncated', at }
    if (literals > dEnd - d) return { failure: 'overflow', at }
    for (let i = 0; i < literals; i++) dst[d++] = block[s++]!
    if (s === block.length) return { out: Buffer.from(dst) }
    if (s + 2 > block.length) return { failure: 'truncated', at }
    const offset = block[s]! | (block[s + 1]! << 8)
    s += 2
    if (offset === 0 || offset > d) return { failure: 'offset', at }
    const extra = length(token & 15)
    if (extra === undefined) return { failure: 'truncated', at }
    if (extra + 4 > dEnd - d) return { failure: 'overflow', at }
    for (let i = 0; i < extra + 4; i++, d++) dst[d] = dst[d - offset]!
  }
}

/**
 * The frame around `block` decoded under `limit`, expected to be exactly what the reference makes of `block`: the
 * same output, or the same error at the same input byte. (Checked without `expect` unless they differ: the sweeps
 * below decode tens of thousands of frames.)
 */
function expectAsReference(block: Buffer, limit: number, shift = 0): void {
  // A one-block frame: the block starts after 7 header bytes and its 4-byte size.
  const input = frame({ blocks: [{ data: block }] })
  const at = 11
  const padded = Buffer.alloc(input.length + shift, 0xa5)
  input.copy(padded, shift)
  const expected = referenceLz4(block, Math.min(65536, limit))
  let out: Buffer | undefined
  let error: unknown
  try {
    out = lz4DecompressSync(padded.subarray(shift), { maxOutputBytes: limit })
  } catch (e) {
    error = e
  }
  let same: boolean
  if ('out' in expected) {
    same = error === undefined && out!.equals(expected.out)
  } else if (expected.failure === 'overflow' && limit < 65536) {
    same = error instanceof DecompressionLimitError
  } else {
    const problem = {
      truncated: 'block ends inside a sequence',
      offset: 'match offset of 0 or beyond the data produced so far',
      overflow: 'block expands past',
    }[expected.failure]
    same =
      error instanceof CorruptCompressedDataError &&
      error.message.includes(problem) &&
      error.inputOffset === at + expected.at
  }
  if (!same) {
    const got = error === undefined ? `output ${out!.toString('hex')}` : String(error)
    const want = 'out' in expected ? `output ${expected.out.toString('hex')}` : JSON.stringify(expected)
    expect(got, `block ${block.toString('hex')} under a limit of ${limit}`).toBe(want)
  }
}

const bytesOf = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + 1) & 0xff)

describe('lz4 decoder fast paths agree with a byte-by-byte decoder', () => {
  test('matches at offsets 1..9 and a few longer, of every short length and some long ones, ending 0..20 bytes before the end of the output (and of the room left)', () => {
    const lengths = [...Array.from({ length: 37 }, (_, i) => 4 + i), 63, 64, 65, 66, 80, 100, 300]
    for (const offset of [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 17, 24]) {
      for (const length of lengths) {
        for (let tail = 0; tail <= 20; tail++) {
          const sequences: Sequence[] = [
            { literals: bytesOf(24, offset), match: { offset, length } },
            { literals: bytesOf(tail, length) },
          ]
          const block = sequenceBytes(sequences)
          const n = sequencesLength(sequences)
          // The limit decides where the decoder must stop writing: exactly at the end, short of it, or far beyond.
          expectAsReference(block, n, (offset + length + tail) & 7)
          expectAsReference(block, 65536)
          if (tail < 2) expectAsReference(block, n - 1)
        }
      }
    }
  })

  test('back-to-back overlapping matches at offsets 1..8 repeat the pattern', () => {
    for (let offset = 1; offset <= 8; offset++) {
      const sequences: Sequence[] = [{ literals: bytesOf(offset, offset), match: { offset, length: 4 } }]
      for (let i = 0; i < 12; i++)
        sequences.push({ literals: new Uint8Array(0), match: { offset, length: 4 + ((i * 13 + offset) % 70) } })
      sequences.push({ literals: new Uint8Array(0) })
      const out = lz4DecompressSync(frame({ blocks: [{ data: sequenceBytes(sequences) }] }), NO_LIMIT)
      expect(out.length).toBe(sequencesLength(sequences))
      for (let i = offset; i < out.length; i++) expect(out[i]).toBe(out[i - offset])
      expectAsReference(sequenceBytes(sequences), 65536)
    }
  })

  test('literals of 0..80 bytes that end the block and the output, after a match, at every alignment', () => {
    for (let len = 0; len <= 80; len++) {
      for (const before of [0, 1, 7, 20]) {
        const sequences: Sequence[] = [
          { literals: bytesOf(before + 4, len), match: { offset: 4, length: 4 + (len % 20) } },
          { literals: bytesOf(len, before) },
        ]
        const block = sequenceBytes(sequences)
        const n = sequencesLength(sequences)
        expectAsReference(block, n, (len + before) & 7)
        expectAsReference(block, 65536)
        if (n > 0) expectAsReference(block, n - 1)
        // One byte short: the last literals run past the block.
        expectAsReference(block.subarray(0, block.length - 1), 65536)
      }
    }
  })

  test('random sequences, valid or not, decode exactly as byte by byte — output, or error and where', () => {
    const sequence = fc
      .tuple(
        fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 100 })),
        fc.nat(255),
        fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 80 })),
        fc.oneof(fc.integer({ min: 4, max: 20 }), fc.integer({ min: 4, max: 100 })),
      )
      .map(([n, seed, offset, length]): Sequence => ({ literals: bytesOf(n, seed), match: { offset, length } }))
    fc.assert(
      fc.property(
        fc.array(sequence, { maxLength: 30 }),
        fc.integer({ min: 0, max: 30 }),
        fc.oneof(fc.constant(0), fc.nat(4)),
        fc.oneof(fc.constant(0), fc.integer({ min: -20, max: 20 })),
        fc.nat(7),
        (sequences, last, cut, slack, shift) => {
          const all = [...sequences, { literals: bytesOf(last, sequences.length) }]
          const full = sequenceBytes(all)
          const block = full.subarray(0, Math.max(1, full.length - cut))
          const limit = Math.max(1, sequencesLength(all) + slack)
          expectAsReference(block, limit, shift)
        },
      ),
      { numRuns: 3000 },
    )
  })
})
