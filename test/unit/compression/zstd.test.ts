import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createZstdCodec, zstdCodec } from '../../../src/compression/codecs/zstd.js'
import {
  parseZstdFrameHeader,
  planZstd,
  windowDescriptorFor,
  windowSizeOf,
} from '../../../src/compression/codecs/zstd-frame.js'
import { nativeZstdDecompressAvailable } from '../../../src/compression/codecs/zstd-native.js'
import {
  CodecUnavailableError,
  CorruptCompressedDataError,
  DecompressionLimitError,
} from '../../../src/compression/errors.js'
import { cliAvailable, decodeOutcome, drain, drainMeasured, KiB, logLines, MiB, runCli } from './zstd-gzip-helpers.js'

// ---- zstd frames built byte by byte (RFC 8878), so the bombs need no encoder ----

const u24 = (v: number) => [v & 255, (v >> 8) & 255, (v >> 16) & 255]
const blockHeader = (last: boolean, type: 0 | 1 | 2 | 3, size: number) =>
  u24((size << 3) | (type << 1) | (last ? 1 : 0))

/** Magic + a header that is not single-segment: window descriptor, optional 8-byte content size / dictionary id. */
function frameHeader(o: { windowDescriptor?: number; contentSize?: number; dictionaryId?: number } = {}): number[] {
  const fcsFlag = o.contentSize === undefined ? 0 : 3
  const didFlag = o.dictionaryId === undefined ? 0 : 3
  const out = [0x28, 0xb5, 0x2f, 0xfd, (fcsFlag << 6) | didFlag, o.windowDescriptor ?? 11 << 3 /* 2 MiB */]
  if (o.dictionaryId !== undefined) out.push(...u24(o.dictionaryId), 0)
  let v = o.contentSize ?? 0
  if (o.contentSize !== undefined) {
    for (let i = 0; i < 8; i++) {
      out.push(v % 256)
      v = Math.floor(v / 256)
    }
  }
  return out
}

/** 1 GiB of zeros as 8192 RLE blocks of 128 KiB: 32 KB of input. */
function rleBomb(blocks: number, contentSize?: number): Buffer {
  const parts = [frameHeader({ contentSize })]
  for (let i = 0; i < blocks; i++) parts.push(blockHeader(i === blocks - 1, 1, 128 * KiB), [0])
  return Buffer.from(parts.flat())
}

/**
 * Zeros as compressed blocks of one sequence each (match length 131071/131072 at offset 1, all three symbol
 * tables in RLE mode): 12 bytes of input per 128 KiB, and nothing the frame header or block headers give away.
 */
function sequenceBomb(blocks: number): Buffer {
  const parts = [frameHeader()]
  // literals: raw, 1 byte (0); 1 sequence; modes LL/OF/ML = RLE; codes LL 1, OF 2 (offset 1), ML 52 (65539 + 16 bits)
  const first = [0x08, 0x00, 0x01, 0x54, 1, 2, 52, ...u24(65532 | (1 << 18))]
  const rest = [0x00, 0x01, 0x54, 0, 2, 52, ...u24(65533 | (1 << 18))]
  for (let i = 0; i < blocks; i++) {
    const body = i === 0 ? first : rest
    parts.push(blockHeader(i === blocks - 1, 2, body.length), body)
  }
  return Buffer.from(parts.flat())
}

/** A compressed frame with its window descriptor replaced (it must not be single-segment). */
function withWindowDescriptor(frame: Buffer, descriptor: number): Buffer {
  const h = parseZstdFrameHeader(frame, 0)
  if (h.singleSegment) throw new Error('single-segment frame')
  const copy = Buffer.from(frame)
  copy[5] = descriptor
  return copy
}

const nativeAvailable = nativeZstdDecompressAvailable
const decoders = nativeAvailable ? (['fzstd', 'native'] as const) : (['fzstd'] as const)
const zstdCli = cliAvailable('zstd')
const limit64 = { maxOutputBytes: 64 * MiB }
const plan64 = { maxOutputBytes: 64 * MiB, maxWindowBytes: 2 ** 27 }

describe('zstd frame headers are read before any decoder runs', () => {
  it('window descriptors round to the smallest representable window at or above the need', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), (bytes) => {
        const w = windowSizeOf(windowDescriptorFor(bytes))
        expect(w).toBeGreaterThanOrEqual(bytes)
        expect(w).toBeLessThanOrEqual(Math.max(1024, bytes * 1.125 + 1))
      }),
    )
  })

  it('the plan bounds each frame: exact for raw/RLE blocks, 128 KiB per compressed block', () => {
    const [frame] = planZstd(rleBomb(3), plan64)
    expect(frame).toMatchObject({ blockCount: 3, minOutput: 384 * KiB, maxOutput: 384 * KiB, blockMaxSize: 128 * KiB })
    const [seq] = planZstd(sequenceBomb(4), plan64)
    expect(seq).toMatchObject({ minOutput: 0, maxOutput: 512 * KiB, effectiveWindow: 512 * KiB })
  })

  it('a frame declaring a 128 MiB window (a Java producer at level 22) is planned with the window it needs', () => {
    const declared = windowDescriptorFor(128 * MiB)
    const [frame] = planZstd(withWindowDescriptor(sequenceBomb(8), declared), plan64)
    expect(frame!.header.windowSize).toBe(128 * MiB)
    expect(frame!.effectiveWindow).toBe(MiB)
    expect(frame!.headerForDecoder[5]).toBe(windowDescriptorFor(MiB))
  })
})

describe.each(decoders)('zstd decoding with %s', (decoder) => {
  const codec = createZstdCodec({ decoder })

  it('round-trips arbitrary and compressible data at any level, in chunks no bigger than asked', async () => {
    const words = fc.constantFrom('kafka', 'topic', ' ', '{"k":1}', '\n', 'partition', 'offset=')
    const data = fc.oneof(
      fc.uint8Array({ maxLength: 20_000 }),
      fc.array(words, { maxLength: 5000 }).map((w) => new TextEncoder().encode(w.join(''))),
    )
    await fc.assert(
      fc.asyncProperty(
        data,
        fc.integer({ min: -5, max: 19 }),
        fc.integer({ min: 1, max: 64 }),
        async (d, level, ck) => {
          const input = Buffer.from(d)
          const frame = await zstdCodec.compress(input, { level })
          const chunkBytes = ck * KiB
          const out = await drain(codec.decompressor(frame, { maxOutputBytes: input.length, chunkBytes }), chunkBytes)
          expect(out.equals(input)).toBe(true)
        },
      ),
      { numRuns: 40 },
    )
  })

  it('decodes concatenated frames and skips skippable frames', async () => {
    const a = logLines(300 * KiB, 1)
    const b = logLines(50 * KiB, 2)
    const skippable = Buffer.from([0x5e, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3])
    const input = Buffer.concat([skippable, await zstdCodec.compress(a), skippable, await zstdCodec.compress(b)])
    const out = await drain(codec.decompressor(input, { maxOutputBytes: a.length + b.length }))
    expect(out.equals(Buffer.concat([a, b]))).toBe(true)
  })

  it('a 3 MiB batch streams in chunks of the asked size, with or without a declared content size', async () => {
    const data = logLines(3 * MiB, 5)
    const frames = [await zstdCodec.compress(data)]
    if (zstdCli) frames.push(runCli('zstd', ['-3', '-c'], data))
    for (const frame of frames) {
      const out = await drain(
        codec.decompressor(frame, { maxOutputBytes: data.length, chunkBytes: 64 * KiB }),
        64 * KiB,
      )
      expect(out.equals(data)).toBe(true)
    }
  })

  it('decodes the empty frame', async () => {
    const out = await drain(codec.decompressor(await zstdCodec.compress(Buffer.alloc(0)), { maxOutputBytes: 0 }))
    expect(out.length).toBe(0)
  })

  it('a frame that just fits the limit decodes; one byte less of limit refuses it', async () => {
    const data = logLines(200 * KiB)
    const frame = await zstdCodec.compress(data)
    expect((await drain(codec.decompressor(frame, { maxOutputBytes: data.length }))).equals(data)).toBe(true)
    await expect(drain(codec.decompressor(frame, { maxOutputBytes: data.length - 1 }))).rejects.toThrow(
      DecompressionLimitError,
    )
  })

  it('a 32 KB frame of RLE blocks holding 1 GiB is refused before decoding, with or without a content size', async () => {
    for (const bomb of [rleBomb(8192), rleBomb(8192, 1024 * MiB)]) {
      expect(bomb.length).toBeLessThan(40 * KiB)
      const run = await drainMeasured(() => codec.decompressor(bomb, limit64))
      expect(run.error).toBeInstanceOf(DecompressionLimitError)
      expect((run.error as DecompressionLimitError).producedBytes).toBeGreaterThan(64 * MiB)
      expect(run.produced).toBe(0)
      expect(run.ms).toBeLessThan(100)
      expect(run.rssGrowthMiB).toBeLessThan(16)
    }
  })

  it('a 96 KB frame of compressed blocks that expands to 1 GiB stops at 64 MiB while decoding, holding little', async () => {
    const bomb = sequenceBomb(8192)
    expect(bomb.length).toBeLessThan(100 * KiB)
    const run = await drainMeasured(() => codec.decompressor(bomb, limit64))
    console.log(
      `zstd ${decoder} 1 GiB sequence bomb at a 64 MiB limit: stopped after ${(run.produced / MiB).toFixed(2)} MiB in ` +
        `${run.ms.toFixed(0)} ms; peak growth rss +${run.rssGrowthMiB.toFixed(1)} MiB, ` +
        `arrayBuffers +${run.arrayBuffersGrowthMiB.toFixed(1)} MiB`,
    )
    expect(run.error).toBeInstanceOf(DecompressionLimitError)
    expect(run.produced).toBeGreaterThan(64 * MiB)
    expect(run.produced).toBeLessThanOrEqual(64 * MiB + 512 * KiB)
    expect(run.rssGrowthMiB).toBeLessThan(100)
    expect(run.arrayBuffersGrowthMiB).toBeLessThan(100)
  })

  it('the hand-built sequence bomb is valid zstd: 4 blocks decode to 512 KiB of zeros', async () => {
    const out = await drain(codec.decompressor(sequenceBomb(4), limit64))
    expect(out.length).toBe(512 * KiB)
    expect(out.every((b) => b === 0)).toBe(true)
  })

  it('a frame declaring a 1.9 GiB window is refused in under 100 ms without allocating it', async () => {
    const bomb = withWindowDescriptor(sequenceBomb(4), (20 << 3) | 7) // 1 GiB + 7/8 GiB
    expect(parseZstdFrameHeader(bomb, 0).windowSize).toBe(1920 * MiB)
    const run = await drainMeasured(() => codec.decompressor(bomb, limit64))
    expect(run.error).toBeInstanceOf(DecompressionLimitError)
    expect((run.error as Error).message).toMatch(/window/)
    expect(run.ms).toBeLessThan(100)
    expect(run.rssGrowthMiB).toBeLessThan(16)
  })

  it('a single-segment frame declaring 1 TiB of content is refused in under 100 ms', async () => {
    // single segment, 8-byte content size 2^40, then one RLE block
    const bomb = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0, 0, 0, 0, 0, 1, 0, 0, ...blockHeader(true, 1, 4), 7])
    const run = await drainMeasured(() => codec.decompressor(bomb, limit64))
    expect(run.error).toBeInstanceOf(DecompressionLimitError)
    expect((run.error as DecompressionLimitError).producedBytes).toBe(2 ** 40)
    expect(run.ms).toBeLessThan(100)
    expect(run.rssGrowthMiB).toBeLessThan(16)
  })

  it('a frame declaring a 256 MiB window is over the default cap (2^27), and decodes when the cap is raised', async () => {
    const frame = withWindowDescriptor(sequenceBomb(4), windowDescriptorFor(256 * MiB))
    await expect(drain(codec.decompressor(frame, limit64))).rejects.toThrow(/window cap/)
    const raised = createZstdCodec({ decoder, maxWindowBytes: 2 ** 28 })
    expect((await drain(raised.decompressor(frame, limit64))).equals(Buffer.alloc(512 * KiB))).toBe(true)
  })

  it('a frame declaring a 128 MiB window but holding 8 MiB decodes at a 64 MiB limit holding about 8 MiB', async () => {
    const bomb = withWindowDescriptor(sequenceBomb(64), windowDescriptorFor(128 * MiB))
    const run = await drainMeasured(() => codec.decompressor(bomb, limit64))
    expect(run.error).toBeUndefined()
    expect(run.produced).toBe(8 * MiB)
    expect(run.rssGrowthMiB).toBeLessThan(48)
  })

  it('frames needing a dictionary are refused as corrupt, naming the dictionary', async () => {
    const frame = Buffer.from([...frameHeader({ dictionaryId: 0x1234 }), ...blockHeader(true, 0, 1), 65])
    await expect(drain(codec.decompressor(frame, limit64))).rejects.toThrow(/dictionary 4660/)
    await expect(drain(codec.decompressor(frame, limit64))).rejects.toThrow(CorruptCompressedDataError)
  })

  it('a content size that the blocks cannot hold, reserved bits and block types, trailing bytes are corrupt', async () => {
    const cases = [
      Buffer.from([...frameHeader({ contentSize: 10 }), ...blockHeader(true, 0, 3), 1, 2, 3]),
      Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x08, 0x58, ...blockHeader(true, 0, 0)]),
      Buffer.from([...frameHeader(), ...blockHeader(true, 3, 0)]),
      Buffer.concat([await zstdCodec.compress(Buffer.from('abc')), Buffer.from('junk')]),
      Buffer.alloc(0),
    ]
    for (const input of cases)
      await expect(drain(codec.decompressor(input, limit64))).rejects.toThrow(CorruptCompressedDataError)
  })

  it('truncated or mutated frames fail only as corrupt or over the limit, never with a crash or a hang', async () => {
    const random = fc.sample(fc.uint8Array({ minLength: 3000, maxLength: 3000 }), { numRuns: 1, seed: 5 })[0]!
    const bases = [
      await zstdCodec.compress(logLines(40 * KiB), { level: 3 }),
      await zstdCodec.compress(logLines(40 * KiB, 9), { level: 19 }),
      await zstdCodec.compress(logLines(1200 * KiB, 8), { level: 3 }), // over 1 MiB: streamed
      await zstdCodec.compress(Buffer.from(random), { level: 1 }),
      sequenceBomb(3),
      rleBomb(3),
    ]
    if (zstdCli) bases.push(runCli('zstd', ['-3', '-c'], logLines(300 * KiB, 3)))
    const damage = fc.record({
      base: fc.integer({ min: 0, max: bases.length - 1 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }),
    })
    const outcomes = new Set<string>()
    await fc.assert(
      fc.asyncProperty(damage, async ({ base, cut, flips }) => {
        const input = Buffer.from(bases[base]!)
        for (const [at, x] of flips) input[at % input.length]! ^= x
        const damaged = cut === undefined ? input : input.subarray(0, cut % input.length)
        outcomes.add(await decodeOutcome(() => codec.decompressor(damaged, { maxOutputBytes: 4 * MiB })))
      }),
      { numRuns: 300 },
    )
    expect(outcomes.has('corrupt')).toBe(true)
  })

  it('close() mid-way frees the decoder; next() then rejects', async () => {
    const d = codec.decompressor(sequenceBomb(16), { maxOutputBytes: 64 * MiB, chunkBytes: 128 * KiB })
    expect((await d.next())!.length).toBe(128 * KiB)
    d.close()
    d.close()
    await expect(d.next()).rejects.toThrow(/closed/)
  })

  it.skipIf(!zstdCli)(
    `decodes what the zstd CLI writes${zstdCli ? '' : ' (skipped: zstd CLI not installed)'}`,
    async () => {
      const data = logLines(700 * KiB, 4)
      const variants = [
        ['-1', '-c'],
        ['-3', '-c', '--no-check'],
        ['-19', '-c'],
        ['-3', '-c', `--stream-size=${data.length}`],
        ['--ultra', '-22', '--long=27', '-c'],
        ['--fast=3', '-c'],
      ]
      for (const args of variants) {
        const frame = runCli('zstd', args, data)
        const out = await drain(codec.decompressor(frame, { maxOutputBytes: data.length }))
        expect(out.equals(data), args.join(' ')).toBe(true)
      }
      const two = Buffer.concat([runCli('zstd', ['-3', '-c'], data), runCli('zstd', ['-9', '-c'], data)])
      expect(
        (await drain(codec.decompressor(two, { maxOutputBytes: 2 * data.length }))).equals(Buffer.concat([data, data])),
      ).toBe(true)
    },
  )
})

describe('zstd compression', () => {
  it('writes frames any zstd reads: content size included, window at most 2^27 at every level', async () => {
    const data = logLines(MiB, 6)
    for (const level of [-5, 1, 3, 19, 22]) {
      const frame = await zstdCodec.compress(data, { level })
      const h = parseZstdFrameHeader(frame, 0)
      expect(h.contentSize).toBe(data.length)
      expect(h.windowSize).toBeLessThanOrEqual(2 ** 27)
      expect(h.dictionaryId).toBe(0)
      if (zstdCli) expect(runCli('zstd', ['-d', '-c'], frame).equals(data)).toBe(true)
    }
  })

  it('refuses levels outside -131072..22', async () => {
    await expect(zstdCodec.compress(Buffer.from('x'), { level: 23 })).rejects.toThrow(RangeError)
    await expect(zstdCodec.compress(Buffer.from('x'), { level: 1.5 })).rejects.toThrow(RangeError)
  })

  it('the optional WASM encoder writes the same format as node:zlib', async () => {
    const data = logLines(100 * KiB)
    const frame = await createZstdCodec({ encoder: 'wasm' }).compress(data, { level: 5 })
    expect(parseZstdFrameHeader(frame, 0).contentSize).toBe(data.length)
    expect((await drain(zstdCodec.decompressor(frame, { maxOutputBytes: data.length }))).equals(data)).toBe(true)
  })

  it.runIf(!nativeAvailable)('asking for node:zlib zstd before Node 22.15 says what to upgrade', () => {
    expect(() => createZstdCodec({ decoder: 'native' })).toThrow(CodecUnavailableError)
    expect(() => createZstdCodec({ encoder: 'native' })).toThrow(/Node ≥ 22\.15/)
  })
})
