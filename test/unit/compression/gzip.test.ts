import * as zlib from 'node:zlib'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { gzipCodec } from '../../../src/compression/codecs/gzip.js'
import { CorruptCompressedDataError, DecompressionLimitError } from '../../../src/compression/errors.js'
import { cliAvailable, decodeOutcome, drain, drainMeasured, KiB, logLines, MiB, runCli } from './zstd-gzip-helpers.js'

const gzipCli = cliAvailable('gzip')

/** 256 MiB of zeros through streaming zlib at level 9: about 250 KB. */
async function gzipOfZeros(bytes: number): Promise<Buffer> {
  const gz = zlib.createGzip({ level: 9 })
  const parts: Buffer[] = []
  gz.on('data', (c: Buffer) => parts.push(c))
  const done = new Promise((resolve, reject) => gz.on('end', resolve).on('error', reject))
  const zeros = Buffer.alloc(MiB)
  for (let n = 0; n < bytes; n += MiB) {
    if (!gz.write(zeros)) await new Promise((resolve) => gz.once('drain', resolve))
  }
  gz.end()
  await done
  return Buffer.concat(parts)
}

/** A member laid out as java.util.zip.GZIPOutputStream writes it: bare 10-byte header (mtime 0, OS 0). */
function javaStyleMember(data: Buffer): Buffer {
  const trailer = Buffer.alloc(8)
  trailer.writeUInt32LE(zlib.crc32(data), 0)
  trailer.writeUInt32LE(data.length % 2 ** 32, 4)
  return Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0]), zlib.deflateRawSync(data), trailer])
}

describe('gzip', () => {
  it('round-trips arbitrary and compressible data at every level, in chunks no bigger than asked', async () => {
    const words = fc.constantFrom('kafka', 'topic', ' ', '{"k":1}', '\n', 'partition')
    const data = fc.oneof(
      fc.uint8Array({ maxLength: 20_000 }),
      fc.array(words, { maxLength: 5000 }).map((w) => new TextEncoder().encode(w.join(''))),
    )
    await fc.assert(
      fc.asyncProperty(data, fc.integer({ min: -1, max: 9 }), fc.integer({ min: 1, max: 64 }), async (d, level, ck) => {
        const input = Buffer.from(d)
        const chunkBytes = ck * KiB
        const compressed = await gzipCodec.compress(input, { level })
        const out = await drain(
          gzipCodec.decompressor(compressed, { maxOutputBytes: input.length, chunkBytes }),
          chunkBytes,
        )
        expect(out.equals(input)).toBe(true)
      }),
      { numRuns: 60 },
    )
  })

  it('a 3 MiB batch streams in chunks of the asked size', async () => {
    const data = logLines(3 * MiB, 5)
    const gz = await gzipCodec.compress(data)
    const out = await drain(gzipCodec.decompressor(gz, { maxOutputBytes: data.length, chunkBytes: 64 * KiB }), 64 * KiB)
    expect(out.equals(data)).toBe(true)
  })

  it('decodes a member laid out like Java GZIPOutputStream', async () => {
    const data = logLines(100 * KiB)
    expect(
      (await drain(gzipCodec.decompressor(javaStyleMember(data), { maxOutputBytes: data.length }))).equals(data),
    ).toBe(true)
  })

  it('decodes concatenated members as one stream, and ignores zero padding after the last', async () => {
    const a = logLines(70 * KiB, 1)
    const b = logLines(30 * KiB, 2)
    const input = Buffer.concat([
      await gzipCodec.compress(a),
      javaStyleMember(b),
      await gzipCodec.compress(Buffer.alloc(0)),
    ])
    const expected = Buffer.concat([a, b])
    expect((await drain(gzipCodec.decompressor(input, { maxOutputBytes: expected.length }))).equals(expected)).toBe(
      true,
    )
    const padded = Buffer.concat([input, Buffer.alloc(16)])
    expect((await drain(gzipCodec.decompressor(padded, { maxOutputBytes: expected.length }))).equals(expected)).toBe(
      true,
    )
  })

  it('empty input, trailing garbage, a bad CRC and truncation are corrupt', async () => {
    const member = await gzipCodec.compress(logLines(10 * KiB))
    const badCrc = Buffer.from(member)
    badCrc[badCrc.length - 6]! ^= 0xff
    const cases = [Buffer.alloc(0), Buffer.concat([member, Buffer.from('junk')]), badCrc, member.subarray(0, -3)]
    for (const input of cases) {
      await expect(drain(gzipCodec.decompressor(input, { maxOutputBytes: MiB }))).rejects.toThrow(
        CorruptCompressedDataError,
      )
    }
    await expect(drain(gzipCodec.decompressor(member.subarray(0, -3), { maxOutputBytes: MiB }))).rejects.toThrow(
      /ends inside/,
    )
  })

  it('output one byte over the limit is refused', async () => {
    const data = logLines(100 * KiB)
    const gz = await gzipCodec.compress(data)
    expect((await drain(gzipCodec.decompressor(gz, { maxOutputBytes: data.length }))).length).toBe(data.length)
    await expect(drain(gzipCodec.decompressor(gz, { maxOutputBytes: data.length - 1 }))).rejects.toThrow(
      DecompressionLimitError,
    )
  })

  describe('a 250 KB gzip of 256 MiB of zeros', () => {
    let bomb: Buffer
    beforeAll(async () => {
      bomb = await gzipOfZeros(256 * MiB)
    })

    it('stops at a 64 MiB limit while inflating, holding about one chunk', async () => {
      expect(bomb.length).toBeLessThan(300 * KiB)
      const run = await drainMeasured(() => gzipCodec.decompressor(bomb, { maxOutputBytes: 64 * MiB }))
      console.log(
        `gzip ${(bomb.length / KiB).toFixed(0)} KB bomb of 256 MiB at a 64 MiB limit: stopped after ` +
          `${(run.produced / MiB).toFixed(2)} MiB in ${run.ms.toFixed(0)} ms; peak growth rss ` +
          `+${run.rssGrowthMiB.toFixed(1)} MiB, arrayBuffers +${run.arrayBuffersGrowthMiB.toFixed(1)} MiB`,
      )
      expect(run.error).toBeInstanceOf(DecompressionLimitError)
      expect(run.produced).toBeGreaterThan(64 * MiB)
      expect(run.produced).toBeLessThanOrEqual(64 * MiB + 256 * KiB)
      expect(run.rssGrowthMiB).toBeLessThan(100)
      expect(run.arrayBuffersGrowthMiB).toBeLessThan(100)
    })

    it('still stops at the limit when its ISIZE trailer lies that it holds 100 bytes', async () => {
      const liar = Buffer.from(bomb)
      liar.writeUInt32LE(100, liar.length - 4)
      const run = await drainMeasured(() => gzipCodec.decompressor(liar, { maxOutputBytes: 64 * MiB }))
      expect(run.error).toBeInstanceOf(DecompressionLimitError)
      expect(run.rssGrowthMiB).toBeLessThan(100)
    })

    it('close() mid-way frees the stream; next() then rejects', async () => {
      const d = gzipCodec.decompressor(bomb, { maxOutputBytes: 256 * MiB, chunkBytes: 64 * KiB })
      expect((await d.next())!.length).toBe(64 * KiB)
      d.close()
      await expect(d.next()).rejects.toThrow(/closed/)
    })
  })

  it('truncated or mutated members fail only as corrupt or over the limit', async () => {
    const bases = [
      await gzipCodec.compress(logLines(40 * KiB)),
      await gzipCodec.compress(logLines(1200 * KiB, 2)), // over 1 MiB: streamed
      await gzipCodec.compress(Buffer.alloc(200 * KiB), { level: 9 }),
    ]
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
        outcomes.add(await decodeOutcome(() => gzipCodec.decompressor(damaged, { maxOutputBytes: 1300 * KiB })))
      }),
      { numRuns: 200 },
    )
    expect(outcomes.has('corrupt')).toBe(true)
  })

  it.skipIf(!gzipCli)(
    `agrees with the gzip CLI both ways${gzipCli ? '' : ' (skipped: gzip CLI not installed)'}`,
    async () => {
      const data = logLines(500 * KiB, 3)
      for (const level of [1, 6, 9]) {
        expect(runCli('gzip', ['-d', '-c'], await gzipCodec.compress(data, { level })).equals(data)).toBe(true)
        const cli = runCli('gzip', [`-${level}`, '-c'], data)
        expect((await drain(gzipCodec.decompressor(cli, { maxOutputBytes: data.length }))).equals(data)).toBe(true)
      }
      const twoMembers = Buffer.concat([runCli('gzip', ['-c'], data), runCli('gzip', ['-c', '-n'], data)])
      const out = await drain(gzipCodec.decompressor(twoMembers, { maxOutputBytes: 2 * data.length }))
      expect(out.equals(Buffer.concat([data, data]))).toBe(true)
    },
  )

  it('refuses levels outside -1..9', async () => {
    await expect(gzipCodec.compress(Buffer.from('x'), { level: 10 })).rejects.toThrow(RangeError)
  })
})
