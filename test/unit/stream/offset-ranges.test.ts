import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { OffsetRanges } from '../../../src/stream/offset-ranges.js'

const RUNS = Number(process.env.SKIFF_FUZZ_RUNS ?? 200)

/** The ranges a set of done offsets makes above the lowest one not done. */
function model(base: number, done: Set<number>) {
  let lowest = base
  while (done.has(lowest)) lowest++
  const ranges: Array<[number, number]> = []
  const sorted = [...done].filter((o) => o > lowest).sort((a, b) => a - b)
  for (const o of sorted) {
    const last = ranges[ranges.length - 1]
    if (last && last[1] === o) last[1] = o + 1
    else ranges.push([o, o + 1])
  }
  return { base: lowest, ranges }
}

describe('OffsetRanges: completed offsets of a partition as ranges above the lowest one not done', () => {
  test('completions in any order give the same base and ranges as a set of offsets would', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.array(fc.tuple(fc.integer({ min: -5, max: 300 }), fc.integer({ min: 1, max: 12 })), { maxLength: 120 }),
        (base, ops) => {
          const r = new OffsetRanges(base)
          const done = new Set<number>()
          for (const [i, [rel, len]] of ops.entries()) {
            r.markDone(base + rel, base + rel + len)
            for (let o = Math.max(base, base + rel); o < base + rel + len; o++) done.add(o)
            if (i % 8 !== 0) continue
            const m = model(base, done)
            expect(r.base).toBe(m.base)
            expect(r.ranges()).toEqual(m.ranges)
            expect(r.count).toBe(m.ranges.length)
          }
          const m = model(base, done)
          expect(r.base).toBe(m.base)
          expect(r.ranges()).toEqual(m.ranges)
          // One comparison for all offsets: expect() per offset would dominate the run time.
          const got: Array<[boolean, number]> = []
          const want: Array<[boolean, number]> = []
          for (let o = base - 2; o < base + 320; o++) {
            got.push([r.isDone(o), r.doneUntil(o)])
            let end = Math.max(o, m.base)
            while (done.has(end)) end++
            const isDone = o < m.base || done.has(o)
            want.push([isDone, isDone ? end : o])
          }
          expect(got).toEqual(want)
        },
      ),
      { numRuns: RUNS },
    )
  })

  test('the base moves past every range it reaches, and done work below it is ignored', () => {
    const r = new OffsetRanges(10, [
      [12, 14],
      [15, 16],
      [20, 30],
    ])
    expect(r.ranges()).toEqual([
      [12, 14],
      [15, 16],
      [20, 30],
    ])
    r.done(11)
    expect(r.base).toBe(10)
    r.done(10)
    expect(r.base).toBe(14)
    r.done(14)
    expect(r.base).toBe(16)
    r.markDone(0, 18)
    expect(r.base).toBe(18)
    expect(r.ranges()).toEqual([[20, 30]])
    expect(r.highest).toBe(30)
    const v = r.version
    r.markDone(3, 7)
    expect(r.version).toBe(v)
  })

  test('truncatedAt forgets what is done at and above an offset, keeps what is below', () => {
    const r = new OffsetRanges(10, [
      [12, 14],
      [20, 30],
      [40, 41],
    ])
    const t = r.truncatedAt(25)
    expect(t.base).toBe(10)
    expect(t.ranges()).toEqual([
      [12, 14],
      [20, 25],
    ])
    expect(r.ranges()).toHaveLength(3) // a copy
    expect(r.truncatedAt(12).ranges()).toEqual([])
    expect(r.truncatedAt(5).base).toBe(5)
  })
})
