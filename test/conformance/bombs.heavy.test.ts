import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Connection } from '../../src/client/connection.js'
import { CreateTopics } from '../../src/protocol/apis/create-topics.js'
import { Produce } from '../../src/protocol/apis/produce.js'
import { encodeRecordBatchAsync } from '../../src/protocol/records/index.js'
import { MiB, rssBound, runBombScenario, runConsumerChild } from '../helpers/bomb-scenario.js'
import type { BombCodec } from '../helpers/bombs.js'
import { describeTopic } from '../helpers/fetch.js'
import { connectTestBroker, testKafka, uniqueTopic } from '../helpers/kafka.js'

/**
 * The full-size bombs of the compression issue, with its numbers: bufferBytes 64 MiB, the default
 * maxBatchDecompressedBytes (128 MiB), and peak RSS ≤ baseline + fetch response + bufferBytes + 32 MiB.
 */
describe(`full-size decompression bombs through Kafka ${testKafka().version}`, () => {
  let conn: Connection
  beforeAll(async () => {
    conn = await connectTestBroker()
  })
  afterAll(async () => {
    await conn?.close()
  })

  const GiB = 1024 * MiB
  const cases: Array<[BombCodec, number]> = [
    ['zstd', GiB],
    ['zstd-seq', GiB],
    ['gzip', GiB],
    ['lz4', GiB],
    ['snappy', 256 * MiB],
  ]
  for (const [codec, totalBytes] of cases) {
    test(`a ${totalBytes / MiB} MiB ${codec} bomb stops at 128 MiB within the memory bound`, async () => {
      const bufferBytes = 64 * MiB
      const { wireBytes, result, bombOffset } = await runBombScenario(conn, testKafka().bootstrap, {
        codec,
        plan: { totalBytes, valueBytes: MiB - 64 },
        maxBatchDecompressedBytes: 128 * MiB,
        bufferBytes,
      })
      process.stderr.write(
        `[skiff] heavy ${codec} bomb ${totalBytes / MiB} MiB (${(wireBytes / 1024).toFixed(0)} KiB on the wire): peak RSS ` +
          `+${((result.peakRss - result.baselineRss) / MiB).toFixed(1)} MiB over baseline ` +
          `(bound +${((rssBound(result, bufferBytes) - result.baselineRss) / MiB).toFixed(1)} MiB), ${result.decodeMs} ms\n`,
      )
      expect(result.errors).toHaveLength(1)
      expect(result.errors[0]!.name).toBe('DecompressionBudgetExceededError')
      expect(result.errors[0]!.baseOffset).toBe(bombOffset)
      expect(result.delivered[1]).toBe(1000)
      expect(result.peakRss).toBeLessThanOrEqual(rssBound(result, bufferBytes))
    })
  }

  test('a legitimate large batch (1M distinct JSON log lines, ≥ 40 MiB of zstd) streams through within the same bound', async () => {
    const lines = 1_000_000
    const levels = ['debug', 'info', 'warn', 'error']
    const records = Array.from({ length: lines }, (_, i) => ({
      key: null,
      value: Buffer.from(
        JSON.stringify({
          ts: new Date(1_700_000_000_000 + i * 37).toISOString(),
          level: levels[i % 4],
          trace: (Math.random() * 2 ** 52).toString(36) + (Math.random() * 2 ** 52).toString(36),
          user: `u${Math.floor(Math.random() * 1e9)}`,
          latencyMs: Math.round(Math.random() * 5000) / 10,
          msg: `request ${i} served ${(Math.random() * 1e6).toString(16)}`,
        }),
      ),
    }))
    const batch = await encodeRecordBatchAsync({ compression: 'zstd', records })
    records.length = 0
    expect(batch.length).toBeGreaterThanOrEqual(40 * MiB)
    const topic = uniqueTopic('big-zstd')
    const created = await conn.request(CreateTopics, {
      topics: [
        {
          name: topic,
          numPartitions: 1,
          replicationFactor: 1,
          configs: [
            { name: 'compression.type', value: 'producer' },
            { name: 'max.message.bytes', value: String(batch.length + MiB) },
          ],
        },
      ],
    })
    expect(created.topics[0]!.errorCode).toBe(0)
    const { topicId } = await describeTopic(conn, topic)
    const res = await conn.request(
      Produce,
      {
        acks: -1,
        timeoutMs: 120_000,
        topicData: [{ name: topic, topicId, partitionData: [{ index: 0, records: batch }] }],
      },
      { timeoutMs: 180_000 },
    )
    expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(0)

    const bufferBytes = 64 * MiB
    const result = await runConsumerChild({
      bootstrap: testKafka().bootstrap,
      topic,
      maxBatchDecompressedBytes: 1024 * MiB,
      bufferBytes,
    })
    process.stderr.write(
      `[skiff] legit zstd batch (${(batch.length / MiB).toFixed(1)} MiB compressed, ${lines} records): peak RSS ` +
        `+${((result.peakRss - result.baselineRss) / MiB).toFixed(1)} MiB over baseline ` +
        `(bound +${((rssBound(result, bufferBytes) - result.baselineRss) / MiB).toFixed(1)} MiB), ${result.decodeMs} ms\n`,
    )
    expect(result.errors).toEqual([])
    expect(result.delivered).toEqual({ 0: lines })
    expect(result.peakRss).toBeLessThanOrEqual(rssBound(result, bufferBytes))
  })
})
