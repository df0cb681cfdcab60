import { deflateRawSync } from 'node:zlib'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  COMMIT_METADATA_PREFIX,
  CommitMetadataError,
  type CommitState,
  decodeCommitMetadata,
  encodeCommitMetadata,
  parseCommitMetadata,
  runsEncodedChars,
} from '../../../src/stream/commit-metadata.js'

const RUNS = Number(process.env.SKIFF_FUZZ_RUNS ?? 200)

/** Ranges from alternating gaps (≥ 1) and lengths (≥ 1) above the offset. */
const stateArb = (opts: { maxRanges?: number; maxGap?: number; maxLen?: number } = {}) =>
  fc
    .record({
      offset: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 2 ** 50 })),
      runs: fc.array(
        fc.tuple(fc.integer({ min: 1, max: opts.maxGap ?? 5000 }), fc.integer({ min: 1, max: opts.maxLen ?? 5000 })),
        { maxLength: opts.maxRanges ?? 300 },
      ),
      ts: fc.option(fc.integer({ min: 0, max: 2 ** 45 }), { nil: undefined }),
      // A live cursor's start (backfill + live on one partition): anywhere above the offset.
      live: fc.option(fc.integer({ min: 1, max: 2 ** 40 }), { nil: undefined }),
    })
    .map(({ offset, runs, ts, live }): CommitState => {
      const ranges: Array<[number, number]> = []
      let prev = offset
      for (const [gap, len] of runs) {
        ranges.push([prev + gap, prev + gap + len])
        prev += gap + len
      }
      const state: CommitState = { offset, ranges }
      if (ts !== undefined) state.oldestUnfinishedTimestamp = ts
      if (live !== undefined) state.liveStart = offset + live
      return state
    })

/** A random pattern of single offsets done, as unordered processing leaves behind. */
function patterned(offset: number, span: number, pDone: number, seed: number): CommitState {
  let s = seed >>> 0 || 1
  const rand = () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 2 ** 32
  }
  const ranges: Array<[number, number]> = []
  for (let o = offset + 1; o < offset + span; o++) {
    if (rand() >= pDone) continue
    const last = ranges[ranges.length - 1]
    if (last && last[1] === o) last[1]++
    else ranges.push([o, o + 1])
  }
  return { offset, ranges, oldestUnfinishedTimestamp: 1_700_000_000_000 }
}

function expectRoundTrip(state: CommitState, maxChars = 1 << 20) {
  const enc = encodeCommitMetadata(state, { maxChars })
  if (!enc.fits) throw new Error(`does not fit: ${enc.chars}`)
  expect(enc.metadata).toMatch(/^sk1:[A-Za-z0-9_-]*$/)
  expect(enc.metadata.length).toBeLessThanOrEqual(runsEncodedChars(state))
  const dec = decodeCommitMetadata(enc.metadata, state.offset)
  expect(dec).toEqual({ kind: 'ranges', ...state, offset: undefined })
  return enc
}

describe('commit metadata: completed ranges in a versioned ASCII string within offset.metadata.max.bytes', () => {
  test('encode then decode gives back the same ranges and timestamp, for random range sets', () => {
    fc.assert(
      fc.property(stateArb(), (state) => {
        expectRoundTrip(state)
      }),
      { numRuns: RUNS },
    )
    fc.assert(
      fc.property(stateArb({ maxGap: 3, maxLen: 3, maxRanges: 2000 }), (state) => {
        expectRoundTrip(state)
      }),
      { numRuns: RUNS },
    )
  })

  test('the smallest layout wins: runs for few ranges, a bitset for dense random ones, deflate for regular ones', () => {
    const few = expectRoundTrip({ offset: 7, ranges: [[9, 100]] })
    expect([few.layout, few.compressed, few.metadata.length]).toEqual(['runs', false, 11])

    const dense = expectRoundTrip(patterned(1_000_000, 8000, 0.5, 42))
    expect(dense.layout).toBe('bitset')
    const regular: Array<[number, number]> = Array.from({ length: 3000 }, (_, i) => [10 + 2 * i, 11 + 2 * i])
    const reg = expectRoundTrip({ offset: 9, ranges: regular })
    expect(reg.compressed).toBe(true)
    // 3000 ranges in a few dozen characters.
    expect(reg.metadata.length).toBeLessThan(60)
  })

  test('the encoding respects maxChars or says how long it would be, never longer than the runs layout', () => {
    fc.assert(
      fc.property(
        fc.oneof(stateArb(), stateArb({ maxGap: 2, maxLen: 2, maxRanges: 3000 })),
        fc.integer({ min: 8, max: 4096 }),
        (state, maxChars) => {
          const enc = encodeCommitMetadata(state, { maxChars })
          if (enc.fits) {
            expect(enc.metadata.length).toBeLessThanOrEqual(maxChars)
            expect(/^[\x21-\x7e]*$/.test(enc.metadata)).toBe(true)
            expect(decodeCommitMetadata(enc.metadata, state.offset).kind).toBe('ranges')
          } else {
            expect(enc.chars).toBeGreaterThan(maxChars)
            expect(enc.chars).toBeLessThanOrEqual(runsEncodedChars(state))
            expect(encodeCommitMetadata(state, { maxChars: enc.chars }).fits).toBe(true)
          }
        },
      ),
      { numRuns: RUNS },
    )
  })

  test('random unordered completion patterns of a 4096-character budget: how many unfinished records fit', () => {
    // A measurement that doubles as a bound the processor relies on: hundreds of gaps fit in the default size.
    let fitGaps = 0
    for (let seed = 1; seed <= 20; seed++) {
      const s = patterned(5_000_000, 2000, 0.9, seed)
      const enc = encodeCommitMetadata(s)
      if (enc.fits) fitGaps = Math.max(fitGaps, s.ranges.length)
    }
    expect(fitGaps).toBeGreaterThan(150)
  })

  test('metadata of other clients, or of another offset, is a plain offset', () => {
    for (const foreign of [null, undefined, '', 'hello', 'sk2:AAAA', 'SK1:AAAA', '{"json":true}', 'sk1', ' sk1:AA']) {
      expect(decodeCommitMetadata(foreign, 5)).toEqual({ kind: 'plain', reason: 'foreign' })
    }
    const enc = encodeCommitMetadata({ offset: 100, ranges: [[102, 110]] })
    if (!enc.fits) throw new Error('fits')
    expect(decodeCommitMetadata(enc.metadata, 100).kind).toBe('ranges')
    expect(decodeCommitMetadata(enc.metadata, 99)).toEqual({ kind: 'plain', reason: 'stale' })
  })

  test('hostile strings never throw: random text, random base64url after the prefix, truncations, bit flips', () => {
    const check = (s: string) => {
      const t0 = performance.now()
      const d = decodeCommitMetadata(s, 0)
      expect(performance.now() - t0).toBeLessThan(500)
      if (d.kind === 'plain') {
        if (d.reason === 'invalid') expect(d.error).toBeInstanceOf(CommitMetadataError)
        return
      }
      let prev = 0
      for (const [a, b] of d.ranges) {
        expect(a).toBeGreaterThan(prev)
        expect(b).toBeGreaterThan(a)
        prev = b
      }
    }
    fc.assert(fc.property(fc.string({ maxLength: 200 }), check), { numRuns: RUNS })
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'),
          maxLength: 300,
        }),
        (s) => check(COMMIT_METADATA_PREFIX + s),
      ),
      { numRuns: RUNS * 5 },
    )
    fc.assert(
      fc.property(stateArb({ maxRanges: 50 }), fc.nat(), fc.nat(), (state, cut, flip) => {
        const enc = encodeCommitMetadata(state, { maxChars: 1 << 20 })
        if (!enc.fits) return
        check(enc.metadata.slice(0, cut % (enc.metadata.length + 1)))
        const raw = Buffer.from(enc.metadata.slice(4), 'base64url')
        raw[flip % raw.length]! ^= 1 << (flip % 8)
        check(COMMIT_METADATA_PREFIX + raw.toString('base64url'))
      }),
      { numRuns: RUNS },
    )
  })

  test('the encoder refuses more ranges than the decoder reads back', () => {
    const ranges: Array<[number, number]> = Array.from({ length: 100_001 }, (_, i) => [2 + 2 * i, 3 + 2 * i])
    const enc = encodeCommitMetadata({ offset: 0, ranges })
    expect(enc.fits).toBe(false)
    expectRoundTrip({ offset: 0, ranges: ranges.slice(0, 100_000) })
  })

  test('huge declared counts and sizes are refused before anything is allocated or looped over', () => {
    const b64 = (bytes: number[]) => COMMIT_METADATA_PREFIX + Buffer.from(bytes).toString('base64url')
    // runs: base 0, then 2^49 ranges declared in a 10-byte string
    const lying = b64([0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])
    expect(() => parseCommitMetadata(lying)).toThrow(/ranges/)
    // bitset: 2^48 bits declared
    expect(() => parseCommitMetadata(b64([1, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]))).toThrow(/bits/)
    // a varint longer than 8 bytes, and offsets past 2^53
    expect(() => parseCommitMetadata(b64([0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow(/longer/)
    expect(() => parseCommitMetadata(b64([0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 0x7f, 0]))).toThrow(
      /2\^53/,
    )
    // unknown flags, trailing bytes
    expect(() => parseCommitMetadata(b64([0x30, 0, 0]))).toThrow(/flags/)
    expect(() => parseCommitMetadata(b64([0, 0, 0, 7]))).toThrow(/after/)
    // more ranges than the caller allows, and longer than the caller reads
    const many = encodeCommitMetadata({
      offset: 0,
      ranges: Array.from({ length: 100 }, (_, i) => [2 + 3 * i, 3 + 3 * i]),
    })
    if (!many.fits) throw new Error('fits')
    expect(decodeCommitMetadata(many.metadata, 0, { maxRanges: 99 })).toMatchObject({
      kind: 'plain',
      reason: 'invalid',
    })
    expect(decodeCommitMetadata(many.metadata, 0, { maxChars: 10 })).toMatchObject({ kind: 'plain', reason: 'invalid' })
    for (const s of [lying, b64([1, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40])]) {
      expect(decodeCommitMetadata(s, 0)).toMatchObject({ kind: 'plain', reason: 'invalid' })
    }
  })

  test('a deflate bomb (16 MiB of zeros in 16 KB) stops at maxBodyBytes, quickly, as a plain offset', () => {
    const bomb = deflateRawSync(Buffer.alloc(16 << 20), { level: 9 })
    const metadata = COMMIT_METADATA_PREFIX + Buffer.concat([Buffer.from([4]), bomb]).toString('base64url')
    expect(metadata.length).toBeLessThan(1 << 20)
    const rss0 = process.memoryUsage().rss
    const t0 = performance.now()
    const d = decodeCommitMetadata(metadata, 0)
    const ms = performance.now() - t0
    expect(d).toMatchObject({ kind: 'plain', reason: 'invalid' })
    if (d.kind === 'plain') expect(d.error?.message).toMatch(/inflate/)
    expect(ms).toBeLessThan(1000)
    expect(process.memoryUsage().rss - rss0).toBeLessThan(32 << 20)
    // A bitset of 2^23 alternating bits inflates within a raised limit, but decoding stops at maxRanges.
    const ones = Buffer.concat([Buffer.from([0, 0x80, 0x80, 0x80, 0x04]), Buffer.alloc(1 << 20, 0x55)])
    const striped =
      COMMIT_METADATA_PREFIX + Buffer.concat([Buffer.from([1 | 4]), deflateRawSync(ones)]).toString('base64url')
    const t1 = performance.now()
    expect(decodeCommitMetadata(striped, 0, { maxBodyBytes: 2 << 20 })).toMatchObject({
      kind: 'plain',
      reason: 'invalid',
    })
    expect(performance.now() - t1).toBeLessThan(2000)
  })
})
