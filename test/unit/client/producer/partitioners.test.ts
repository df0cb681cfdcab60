import { describe, expect, test } from 'vitest'
import {
  murmur2,
  type PartitionLoad,
  partitionForKey,
  StickyPartition,
  toPositive,
} from '../../../../src/client/producer/partitioners.js'

describe('murmur2, as the Java client computes it', () => {
  // Kafka's own vectors: clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java, testMurmur2.
  test.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('Kafka UtilsTest: murmur2(%j) = %i', (key, hash) => {
    expect(murmur2(Buffer.from(key))).toBe(hash)
  })

  test('every tail length (0-3 bytes past a multiple of 4) and the empty key', () => {
    // Values printed by Utils.murmur2 of kafka-clients 4.4.0 (the conformance suite checks the same keys through
    // the Java producer itself).
    expect(murmur2(Buffer.alloc(0))).toBe(275646681)
    expect(['1', '12', '123', '1234', '12345'].map((k) => murmur2(Buffer.from(k)))).toEqual([
      -1993445489, 126087238, -267702483, -1614185708, -1188365604,
    ])
  })

  test('bytes ≥ 0x80 are unsigned, as Java masks them with & 0xff', () => {
    const high = Uint8Array.from([0xff, 0x80, 0xfe, 0x81, 0x90])
    expect(murmur2(high)).toBe(234866925)
    expect(murmur2(high)).not.toBe(murmur2(Uint8Array.from([0x7f, 0x00, 0x7e, 0x01, 0x10])))
  })

  test('toPositive clears the sign bit instead of negating (Math.abs(-2^31) would stay negative)', () => {
    expect(toPositive(-2147483648)).toBe(0)
    expect(toPositive(-1)).toBe(0x7fffffff)
    expect(toPositive(-973932308)).toBe(-973932308 & 0x7fffffff)
    expect(toPositive(12)).toBe(12)
  })

  test('partitionForKey = toPositive(murmur2(key)) % partitions', () => {
    for (const [key, hash] of [
      ['21', -973932308],
      ['foobar', -790332482],
      ['abc', 479470107],
    ] as const) {
      for (const n of [1, 3, 7, 12, 100]) expect(partitionForKey(Buffer.from(key), n)).toBe(toPositive(hash) % n)
    }
  })
})

function load(count: number, queued: number[] = [], unavailable: number[] = []): PartitionLoad {
  return { count, available: (p) => !unavailable.includes(p), queued: (p) => queued[p] ?? 0 }
}

/** A deterministic "random" sequence. */
function seq(...values: number[]): () => number {
  let i = 0
  return () => values[i++ % values.length]!
}

describe('the sticky partition for records without a key (KIP-480, KIP-794)', () => {
  test('stays on one partition until batchBytes have gone to it and a new batch starts, then moves', () => {
    const s = new StickyPartition(1000, seq(0.1, 0.9))
    const l = load(4)
    const first = s.current(l)
    expect(first).toBe(0)
    s.appended(600, true, l)
    expect(s.current(l)).toBe(first)
    // 1200 bytes, but mid-batch: stay, so the batch is not cut short.
    s.appended(600, false, l)
    expect(s.current(l)).toBe(first)
    // A new batch opens with ≥ batchBytes produced: move on.
    s.appended(10, true, l)
    expect(s.current(l)).toBe(3)
  })

  test('moves at twice batchBytes even without a batch boundary', () => {
    const s = new StickyPartition(1000, seq(0, 0.5))
    const l = load(2)
    expect(s.current(l)).toBe(0)
    s.appended(1999, false, l)
    expect(s.current(l)).toBe(0)
    s.appended(1, false, l)
    expect(s.current(l)).toBe(1)
  })

  test('skips partitions without a leader', () => {
    const s = new StickyPartition(10, Math.random)
    const l = load(5, [], [0, 1, 3, 4])
    for (let i = 0; i < 50; i++) {
      expect(s.current(l)).toBe(2)
      s.appended(100, true, l)
    }
  })

  test('prefers partitions with shorter queues (adaptive partitioning)', () => {
    const s = new StickyPartition(10)
    // Queue lengths 9, 0, 9: weights 1, 10, 1.
    const l = load(3, [9, 0, 9])
    const picks = [0, 0, 0]
    for (let i = 0; i < 3000; i++) {
      picks[s.current(l)]!++
      s.appended(100, true, l)
    }
    expect(picks[1]!).toBeGreaterThan(2000)
    expect(picks[0]!).toBeGreaterThan(50)
    expect(picks[2]!).toBeGreaterThan(50)
  })

  test('a single-partition topic always gets partition 0', () => {
    const s = new StickyPartition(10)
    expect(s.current(load(1))).toBe(0)
    s.appended(100, true, load(1))
    expect(s.current(load(1))).toBe(0)
  })
})
