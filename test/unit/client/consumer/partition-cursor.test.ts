import { describe, expect, test } from 'vitest'
import { PartitionCursor } from '../../../../src/client/consumer/partition-cursor.js'
import type { SkippedBatch } from '../../../../src/client/consumer/types.js'
import { DecompressionBudget } from '../../../../src/compression/index.js'
import {
  DecompressionBudgetExceededError,
  encodeRecordBatchAsync,
  readRecordSet,
} from '../../../../src/protocol/records/index.js'

/** A partition holding 5 small records, then a gzip batch of 64 × 4 KiB zeros (256 KiB), then 5 more records. */
async function cursorWithOversizedBatch() {
  const small = (from: number) =>
    encodeRecordBatchAsync({
      baseOffset: from,
      records: Array.from({ length: 5 }, (_, i) => ({ key: null, value: Buffer.from(`r${from + i}`) })),
    })
  const big = await encodeRecordBatchAsync({
    baseOffset: 5,
    compression: 'gzip',
    records: Array.from({ length: 64 }, () => ({ key: null, value: Buffer.alloc(4096) })),
  })
  const bytes = Buffer.concat([await small(0), big, await small(69)])
  const { batches } = readRecordSet(bytes, { topic: 't', partition: 3 })
  const cursor = new PartitionCursor('t', 3, '')
  cursor.position = 0
  cursor.fetchOffset = 74
  cursor.enqueue({ batches, bytes: bytes.length, highWatermark: 74, lastStableOffset: 74, filter: undefined })
  // The gzip batch expands to 256 KiB: over a 64 KiB limit.
  const budget = new DecompressionBudget({ maxBatchDecompressedBytes: 64 * 1024, bufferBytes: 1024 * 1024 })
  return { cursor, budget }
}

describe('a batch over the decompression limit', () => {
  test('fail: the error is thrown once, after the records decoded within the limit; the partition stops there, paused', async () => {
    const { cursor, budget } = await cursorWithOversizedBatch()
    const offsets: number[] = []
    let error: unknown
    try {
      for (;;) {
        const chunk = await cursor.nextChunk(budget, 'fail', () => {})
        if (!chunk) break
        offsets.push(...chunk.messages.map((m) => m.offset))
        chunk.release()
      }
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(DecompressionBudgetExceededError)
    expect((error as DecompressionBudgetExceededError).details).toMatchObject({
      topic: 't',
      partition: 3,
      baseOffset: 5,
      lastOffset: 68,
      codec: 'gzip',
      limitBytes: 64 * 1024,
    })
    expect(offsets.slice(0, 5)).toEqual([0, 1, 2, 3, 4])
    expect(offsets.length).toBeLessThan(5 + 17)
    // Stopped at the first record not delivered, to be fetched again only after a seek or resume.
    expect(cursor.paused).toBe(true)
    expect(cursor.position).toBe(offsets.at(-1)! + 1)
    expect(cursor.pendingSpec).toBe(cursor.position)
    expect(cursor.fetchOffset).toBe(-1)
    expect(cursor.hasQueued).toBe(false)
  })

  test('skip: the rest of the batch is reported with its offsets, codec and limit, and the records after it follow', async () => {
    const { cursor, budget } = await cursorWithOversizedBatch()
    const skipped: SkippedBatch[] = []
    const offsets: number[] = []
    for (;;) {
      const chunk = await cursor.nextChunk(budget, 'skip', (s) => skipped.push(s))
      if (!chunk) break
      offsets.push(...chunk.messages.map((m) => m.offset))
      chunk.release()
    }
    expect(skipped).toHaveLength(1)
    expect(skipped[0]).toMatchObject({
      topic: 't',
      partition: 3,
      baseOffset: 5,
      lastOffset: 68,
      codec: 'gzip',
      limitBytes: 64 * 1024,
    })
    expect(skipped[0]!.error).toBeInstanceOf(DecompressionBudgetExceededError)
    expect(offsets.slice(-5)).toEqual([69, 70, 71, 72, 73])
    expect(cursor.paused).toBe(false)
    expect(cursor.position).toBe(74)
  })
})
