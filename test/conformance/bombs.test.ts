import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Connection } from '../../src/client/connection.js'
import { MiB, rssBound, runBombScenario } from '../helpers/bomb-scenario.js'
import { type BombCodec, recordCount } from '../helpers/bombs.js'
import { connectTestBroker, testKafka } from '../helpers/kafka.js'

/**
 * Decompression bombs written to a real broker and consumed back, at moderate sizes (the heavy suite runs the
 * 1 GiB ones). A batch that is small on the wire but expands past maxBatchDecompressedBytes is stopped while
 * decoding: the consumer's RSS stays within baseline + fetch response + bufferBytes + 32 MiB, the error names the
 * batch, and the other partition's records in the same fetch are still delivered.
 */
describe(`decompression bombs through Kafka ${testKafka().version}`, () => {
  let conn: Connection
  beforeAll(async () => {
    conn = await connectTestBroker()
  })
  afterAll(async () => {
    await conn?.close()
  })

  const cases: Array<[BombCodec, number]> = [
    ['zstd', 256 * MiB],
    ['zstd-seq', 256 * MiB],
    ['gzip', 96 * MiB],
    ['lz4', 64 * MiB],
    ['snappy', 48 * MiB],
  ]
  for (const [codec, totalBytes] of cases) {
    test(`a ${totalBytes / MiB} MiB ${codec} bomb is refused with its offsets, within the memory bound`, async () => {
      const bufferBytes = 16 * MiB
      const limit = 24 * MiB
      const { bombOffset, wireBytes, result } = await runBombScenario(conn, testKafka().bootstrap, {
        codec,
        plan: { totalBytes, valueBytes: MiB - 64 },
        maxBatchDecompressedBytes: limit,
        bufferBytes,
      })
      const grew = ((result.peakRss - result.baselineRss) / MiB).toFixed(1)
      process.stderr.write(
        `[skiff] ${codec} bomb ${totalBytes / MiB} MiB (${(wireBytes / 1024).toFixed(0)} KiB on the wire): ` +
          `RSS +${grew} MiB over baseline (bound +${((rssBound(result, bufferBytes) - result.baselineRss) / MiB).toFixed(1)} MiB), ` +
          `budget peak ${(result.peakBudgetHeld / MiB).toFixed(1)} MiB, ${result.decodeMs} ms\n`,
      )
      expect(result.errors).toHaveLength(1)
      const [err] = result.errors
      expect(err!.name).toBe('DecompressionBudgetExceededError')
      expect(err!.partition).toBe(0)
      expect(err!.baseOffset).toBe(bombOffset)
      const codecName = codec.replace('-seq', '')
      expect(err!.message).toMatch(
        new RegExp(
          `^${codecName} batch at .+\\[0\\] offsets ${bombOffset}\\.\\.\\d+ expands past maxBatchDecompressedBytes \\(24 MiB\\)`,
        ),
      )
      // The batch's records decoded before the limit stopped it were delivered; the rest of it is reported and
      // skipped. Never more than the limit's worth of them.
      expect(result.delivered[1]).toBe(1000)
      expect(result.delivered[0]).toBeGreaterThanOrEqual(10)
      expect(result.delivered[0]).toBeLessThanOrEqual(10 + limit / (MiB - 64) + 1)
      const count = codec === 'zstd-seq' ? totalBytes / MiB : recordCount({ totalBytes, valueBytes: MiB - 64 })
      expect(err!.message).toContain(`offsets ${bombOffset}..${bombOffset + count - 1}`)
      expect(result.peakRss).toBeLessThanOrEqual(rssBound(result, bufferBytes))
      expect(result.peakBudgetHeld).toBeLessThanOrEqual(bufferBytes)
    })
  }
})
