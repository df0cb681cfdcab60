import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { expect } from 'vitest'
import type { Connection } from '../../src/client/connection.js'
import { CreateTopics } from '../../src/protocol/apis/create-topics.js'
import { Produce } from '../../src/protocol/apis/produce.js'
import { errorByCode } from '../../src/protocol/error-codes.js'
import { encodeRecordBatchAsync } from '../../src/protocol/records/index.js'
import type { BombConsumerArgs, BombConsumerResult } from './bomb-consumer.js'
import { type BombCodec, type BombPlan, bombBatch } from './bombs.js'
import { describeTopic } from './fetch.js'
import { uniqueTopic } from './kafka.js'

const run = promisify(execFile)
export const MiB = 1024 * 1024

export interface BombScenario {
  codec: BombCodec
  plan: BombPlan
  maxBatchDecompressedBytes: number
  bufferBytes: number
}

/**
 * Writes a bomb to partition 0 of a fresh topic (after a small normal batch) and a normal batch to partition 1,
 * then consumes the whole topic in one Fetch from a child process, which reports its peak RSS.
 */
export async function runBombScenario(conn: Connection, bootstrap: string, s: BombScenario) {
  const bomb = bombBatch(s.codec, s.plan)
  const topic = uniqueTopic(`bomb-${s.codec}`)
  const created = await conn.request(CreateTopics, {
    topics: [
      {
        name: topic,
        numPartitions: 2,
        replicationFactor: 1,
        configs: [
          // Keep the producer's batches as they are: the broker would otherwise recompress (and materialise) them.
          { name: 'compression.type', value: 'producer' },
          { name: 'max.message.bytes', value: String(bomb.length + MiB) },
        ],
      },
    ],
    timeoutMs: 30_000,
  })
  expect(created.topics[0]!.errorCode, created.topics[0]!.errorMessage ?? '').toBe(0)
  const { topicId } = await describeTopic(conn, topic)
  const normal = (n: number, tag: string) =>
    encodeRecordBatchAsync({
      compression: s.codec === 'zstd-seq' ? 'zstd' : s.codec,
      records: Array.from({ length: n }, (_, i) => ({
        key: Buffer.from(`${tag}-${i}`),
        value: Buffer.from(JSON.stringify({ tag, i })),
      })),
    })
  const produce = async (partition: number, batch: Buffer) => {
    // A just-created partition may briefly answer NOT_LEADER_OR_FOLLOWER / UNKNOWN_TOPIC_OR_PARTITION: retry those.
    for (let attempt = 0; ; attempt++) {
      const res = await conn.request(
        Produce,
        {
          acks: -1,
          timeoutMs: 120_000,
          topicData: [{ name: topic, topicId, partitionData: [{ index: partition, records: batch }] }],
        },
        { timeoutMs: 180_000 },
      )
      const p = res.responses[0]!.partitionResponses[0]!
      if (errorByCode(p.errorCode).retriable && attempt < 50) {
        await sleep(100)
        continue
      }
      expect(p.errorCode, `${s.codec} produce to ${topic}[${partition}]: ${p.errorMessage}`).toBe(0)
      return Number(p.baseOffset)
    }
  }
  await produce(0, await normal(10, 'before'))
  const bombOffset = await produce(0, bomb)
  await produce(1, await normal(1000, 'other'))

  const result = await runConsumerChild({
    bootstrap,
    topic,
    maxBatchDecompressedBytes: s.maxBatchDecompressedBytes,
    bufferBytes: s.bufferBytes,
  })
  return { topic, bombOffset, wireBytes: bomb.length, result }
}

/** Consumes a whole topic in a fresh child process (its own RSS, measured from a baseline), see bomb-consumer.ts. */
export async function runConsumerChild(args: BombConsumerArgs): Promise<BombConsumerResult> {
  const { stdout } = await run(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', join(import.meta.dirname, 'bomb-consumer.ts'), JSON.stringify(args)],
    { maxBuffer: 16 * MiB, timeout: 300_000 },
  )
  return JSON.parse(stdout.trim().split('\n').pop()!) as BombConsumerResult
}

/** The memory bound of the compression issue: baseline + the compressed fetch response + bufferBytes + 32 MiB. */
export function rssBound(r: BombConsumerResult, bufferBytes: number): number {
  return r.baselineRss + r.fetchResponseBytes + bufferBytes + 32 * MiB
}
