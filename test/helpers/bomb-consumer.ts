/**
 * Child process of the bomb tests: fetches every partition of a topic in ONE Fetch request and decodes it under a
 * DecompressionBudget, measuring its own peak RSS against a baseline taken before fetching. Prints one JSON line.
 * Run as: node --expose-gc --import tsx test/helpers/bomb-consumer.ts '<json args>'
 */
import { Connection } from '../../src/client/connection.js'
import { DecompressionBudget } from '../../src/compression/index.js'
import { Fetch } from '../../src/protocol/apis/fetch.js'
import { Metadata } from '../../src/protocol/apis/metadata.js'
import {
  DecompressionBudgetExceededError,
  decodeBatch,
  RecordBatch,
  readRecordSet,
} from '../../src/protocol/records/index.js'

export interface BombConsumerArgs {
  bootstrap: string
  topic: string
  maxBatchDecompressedBytes: number
  bufferBytes: number
  maxRecordBytes?: number
}

export interface BombConsumerResult {
  baselineRss: number
  peakRss: number
  fetchResponseBytes: number
  delivered: Record<number, number>
  errors: Array<{ partition: number; name: string; message: string; baseOffset?: number; lastOffset?: number }>
  peakBudgetHeld: number
  decodeMs: number
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]!) as BombConsumerArgs
  const [host, port] = args.bootstrap.split(',')[0]!.split(':')
  const conn = await Connection.connect({
    host: host!,
    port: Number(port),
    requestTimeoutMs: 120_000,
    maxResponseBytes: 1024 * 1024 * 1024,
  })
  const md = await conn.request(Metadata, { topics: [{ name: args.topic }], allowAutoTopicCreation: false })
  const topic = md.topics[0]!
  const budget = new DecompressionBudget({
    maxBatchDecompressedBytes: args.maxBatchDecompressedBytes,
    bufferBytes: args.bufferBytes,
    maxRecordBytes: args.maxRecordBytes,
  })

  gc()
  const baselineRss = process.memoryUsage.rss()
  let peakRss = baselineRss
  const sample = () => {
    const rss = process.memoryUsage.rss()
    if (rss > peakRss) peakRss = rss
  }
  const sampler = setInterval(sample, 2)

  const t0 = Date.now()
  const frame = await conn.send(Fetch, conn.versionFor(Fetch), {
    maxWaitMs: 500,
    minBytes: 1,
    maxBytes: 1024 * 1024 * 1024,
    topics: [
      {
        topic: args.topic,
        topicId: topic.topicId,
        partitions: topic.partitions.map((p) => ({
          partition: p.partitionIndex,
          fetchOffset: 0n,
          partitionMaxBytes: 512 * 1024 * 1024,
        })),
      },
    ],
  })
  sample()
  const { decodeResponse } = await import('../../src/protocol/frame.js')
  const res = decodeResponse(Fetch, conn.versionFor(Fetch), frame)
  const delivered: Record<number, number> = {}
  const errors: BombConsumerResult['errors'] = []
  for (const p of res.responses[0]!.partitions) {
    delivered[p.partitionIndex] = 0
    const { batches } = readRecordSet(p.records, { topic: args.topic, partition: p.partitionIndex })
    for (const batch of batches) {
      if (!(batch instanceof RecordBatch)) continue
      try {
        for await (const chunk of decodeBatch(batch, { budget })) {
          delivered[p.partitionIndex]! += chunk.records.length
          sample()
        }
      } catch (err) {
        // The policy of these tests: report the oversized batch with its offsets, skip it, keep going.
        const e = err as Error
        errors.push({
          partition: p.partitionIndex,
          name: e.name,
          message: e.message,
          ...(err instanceof DecompressionBudgetExceededError
            ? { baseOffset: err.details.baseOffset, lastOffset: err.details.lastOffset }
            : {}),
        })
      }
    }
  }
  const decodeMs = Date.now() - t0
  sample()
  clearInterval(sampler)
  await conn.close()
  const result: BombConsumerResult = {
    baselineRss,
    peakRss,
    fetchResponseBytes: frame.length,
    delivered,
    errors,
    peakBudgetHeld: budget.peakHeld,
    decodeMs,
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`)
  process.exit(1)
})
