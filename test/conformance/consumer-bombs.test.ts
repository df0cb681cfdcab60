import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Connection } from '../../src/client/connection.js'
import { Produce } from '../../src/protocol/apis/produce.js'
import { errorByCode } from '../../src/protocol/error-codes.js'
import { encodeRecordBatchAsync } from '../../src/protocol/records/index.js'
import type { ApiBombArgs, ApiBombEvent, ApiBombResult } from '../helpers/bomb-consumer-api.js'
import { MiB } from '../helpers/bomb-scenario.js'
import { type BombCodec, bombBatch, recordCount } from '../helpers/bombs.js'
import { connectTestBroker, testKafka } from '../helpers/kafka.js'
import { createTopic, type TestTopic } from '../helpers/protocol.js'

const run = promisify(execFile)

/** Consumes in a fresh child process (its own RSS, measured from a baseline), see bomb-consumer-api.ts. */
async function consumeInChild(args: ApiBombArgs): Promise<ApiBombResult> {
  const { stdout } = await run(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      join(import.meta.dirname, '../helpers/bomb-consumer-api.ts'),
      JSON.stringify(args),
    ],
    { maxBuffer: 16 * MiB, timeout: 120_000 },
  )
  return JSON.parse(stdout.trim().split('\n').pop()!) as ApiBombResult
}

/**
 * Compression bombs read through the Consumer API, next to a partition of ordinary records. Under the default
 * policy the oversized batch surfaces once as a DecompressionBudgetExceededError naming its topic, partition,
 * offsets, codec and limit, and only its partition stops; under `skip` it becomes a 'skipped' event and reading
 * goes on past it. Either way the consumer's RSS stays within baseline + what was fetched + bufferBytes + 32 MiB.
 */
describe(`compression bombs through the consumer (Kafka ${testKafka().version})`, () => {
  const bufferBytes = 16 * MiB
  const limit = 24 * MiB
  const valueBytes = MiB - 64
  const bombs: Array<{ partition: number; codec: BombCodec; totalBytes: number }> = [
    { partition: 0, codec: 'zstd', totalBytes: 256 * MiB },
    { partition: 2, codec: 'gzip', totalBytes: 64 * MiB },
  ]
  let conn: Connection
  let topic: TestTopic
  let ends: number[]
  let wireBytes = 0
  const bombAt = new Map<number, { baseOffset: number; lastOffset: number; codec: string }>()

  beforeAll(async () => {
    conn = await connectTestBroker()
    const built = bombs.map((b) => ({ ...b, batch: bombBatch(b.codec, { totalBytes: b.totalBytes, valueBytes }) }))
    topic = await createTopic(conn, {
      prefix: 'consumer-bombs',
      partitions: 3,
      configs: [
        // Keep the batches as written: the broker would otherwise recompress (and materialise) them.
        { name: 'compression.type', value: 'producer' },
        { name: 'max.message.bytes', value: String(Math.max(...built.map((b) => b.batch.length)) + MiB) },
      ],
    })
    const produce = async (partition: number, records: Buffer) => {
      wireBytes += records.length
      for (let attempt = 0; ; attempt++) {
        const res = await conn.request(
          Produce,
          {
            acks: -1,
            timeoutMs: 60_000,
            topicData: [{ name: topic.name, topicId: topic.topicId, partitionData: [{ index: partition, records }] }],
          },
          { timeoutMs: 90_000 },
        )
        const p = res.responses[0]!.partitionResponses[0]!
        if (errorByCode(p.errorCode).retriable && attempt < 50) {
          await sleep(100)
          continue
        }
        expect(p.errorCode, p.errorMessage ?? '').toBe(0)
        return Number(p.baseOffset)
      }
    }
    const normal = (n: number, tag: string, compression: 'lz4' | 'zstd' | 'gzip') =>
      encodeRecordBatchAsync({
        compression,
        records: Array.from({ length: n }, (_, i) => ({
          key: Buffer.from(`${tag}-${i}`),
          value: Buffer.from(`${tag} ${i} ${'~'.repeat(80)}`),
        })),
      })
    for (const b of built) {
      const codec = b.codec === 'gzip' ? 'gzip' : 'zstd'
      await produce(b.partition, await normal(10, 'before', codec))
      const baseOffset = await produce(b.partition, b.batch)
      const count = recordCount({ totalBytes: b.totalBytes, valueBytes })
      bombAt.set(b.partition, { baseOffset, lastOffset: baseOffset + count - 1, codec })
      await produce(b.partition, await normal(10, 'after', codec))
    }
    // The partition that keeps flowing: 20 000 records (about 2 MiB), several fetches' worth.
    for (let i = 0; i < 20; i++) await produce(1, await normal(1000, `other${i}`, 'lz4'))
    ends = [bombAt.get(0)!.lastOffset + 11, 20_000, bombAt.get(2)!.lastOffset + 11]
  })
  afterAll(async () => {
    await conn?.close()
  })

  const messages = (events: ApiBombEvent[], partition: number) =>
    events.flatMap((e) => (e.kind === 'messages' && e.partition === partition ? [e] : []))
  const delivered = (events: ApiBombEvent[], partition: number) =>
    messages(events, partition).reduce((n, e) => n + e.count, 0)

  function report(policy: string, r: ApiBombResult) {
    const bound = r.baselineRss + wireBytes + bufferBytes + 32 * MiB
    process.stderr.write(
      `[skiff] consumer bombs (${policy}): zstd 256 MiB + gzip 64 MiB next to 20 000 records; ` +
        `RSS +${((r.peakRss - r.baselineRss) / MiB).toFixed(1)} MiB over baseline (bound +${((bound - r.baselineRss) / MiB).toFixed(1)} MiB), ` +
        `budget peak ${(r.peakBudgetHeld / MiB).toFixed(1)} MiB, ${r.ms} ms\n`,
    )
    expect(r.peakRss).toBeLessThanOrEqual(bound)
    expect(r.peakBudgetHeld).toBeLessThanOrEqual(bufferBytes)
  }

  /** Each partition was read in order to its end, apart from the bomb's undelivered records. */
  function expectEveryPartitionRead(r: ApiBombResult) {
    expect(r.next).toEqual(ends)
    expect(delivered(r.events, 1)).toBe(20_000)
    for (const [partition, bomb] of bombAt) {
      const runs = messages(r.events, partition)
      // 10 before, whatever of the bomb decoded within the limit (never more than the limit's worth), 10 after.
      const n = delivered(r.events, partition)
      expect(n).toBeGreaterThanOrEqual(20)
      expect(n).toBeLessThanOrEqual(20 + limit / valueBytes + 1)
      expect(runs.at(-1)!.to).toBe(bomb.lastOffset + 10)
      for (let i = 1; i < runs.length; i++) expect(runs[i]!.from).toBeGreaterThan(runs[i - 1]!.to)
    }
  }

  test('fail (default): the bomb is an error naming its batch, raised once; the other partitions keep flowing until the application seeks past it', async () => {
    const r = await consumeInChild({
      bootstrap: testKafka().bootstrap,
      topic: topic.name,
      ends,
      policy: 'fail',
      maxBatchDecompressedBytes: limit,
      bufferBytes,
    })
    report('fail', r)
    const errors = r.events.filter((e) => e.kind === 'error')
    expect(errors).toHaveLength(2)
    for (const [partition, bomb] of bombAt) {
      const err = errors.find((e) => e.partition === partition)!
      expect(err).toMatchObject({
        name: 'DecompressionBudgetExceededError',
        topic: topic.name,
        baseOffset: bomb.baseOffset,
        lastOffset: bomb.lastOffset,
        codec: bomb.codec,
        limitBytes: limit,
      })
      expect(err.message).toContain(`${bomb.codec} batch at ${topic.name}[${partition}] offsets ${bomb.baseOffset}..`)
      // Nothing of that partition after its error until the application seeked past the batch.
      const at = r.events.indexOf(err)
      const seek = r.events.findIndex((e) => e.kind === 'seek' && e.partition === partition)
      expect(seek).toBeGreaterThan(at)
      expect(r.events[seek]).toEqual({ kind: 'seek', partition, offset: bomb.lastOffset + 1 })
      expect(r.events.slice(at + 1, seek).some((e) => e.kind === 'messages' && e.partition === partition)).toBe(false)
    }
    // Records of the ordinary partition were delivered after the first error, while the bomb's partition stood.
    const firstError = r.events.findIndex((e) => e.kind === 'error')
    expect(r.events.slice(firstError).some((e) => e.kind === 'messages' && e.partition === 1)).toBe(true)
    expectEveryPartitionRead(r)
  })

  test('skip: the bomb becomes a skipped event with its offsets, codec and limit, and reading goes on past it', async () => {
    const r = await consumeInChild({
      bootstrap: testKafka().bootstrap,
      topic: topic.name,
      ends,
      policy: 'skip',
      maxBatchDecompressedBytes: limit,
      bufferBytes,
    })
    report('skip', r)
    expect(r.events.filter((e) => e.kind === 'error' || e.kind === 'seek')).toEqual([])
    const skipped = r.events.filter((e) => e.kind === 'skipped')
    expect(skipped).toHaveLength(2)
    for (const [partition, bomb] of bombAt) {
      expect(skipped.find((e) => e.partition === partition)).toEqual({
        kind: 'skipped',
        topic: topic.name,
        partition,
        baseOffset: bomb.baseOffset,
        lastOffset: bomb.lastOffset,
        codec: bomb.codec,
        limitBytes: limit,
        error: 'DecompressionBudgetExceededError',
      })
    }
    expectEveryPartitionRead(r)
  })
})
