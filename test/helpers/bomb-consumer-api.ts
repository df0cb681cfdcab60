/**
 * Child process of the consumer bomb tests: reads every partition of a topic to given end offsets through the
 * Consumer API under a bad-batch policy, measuring its own peak RSS against a baseline taken before it starts.
 * Under 'fail' it handles each oversized-batch error as an application would: notes it, keeps reading the other
 * partitions, and once they are done seeks past the batch and resumes its partition. Prints one JSON line.
 * Run as: node --expose-gc --import tsx test/helpers/bomb-consumer-api.ts '<json args>'
 */
import { Consumer } from '../../src/client/consumer/consumer.js'
import type { BadBatchPolicy, SkippedBatch } from '../../src/client/consumer/types.js'
import { DecompressionBudgetExceededError } from '../../src/protocol/records/index.js'

export interface ApiBombArgs {
  bootstrap: string
  topic: string
  /** Read each partition up to (excluding) this offset. */
  ends: number[]
  policy: BadBatchPolicy
  maxBatchDecompressedBytes: number
  bufferBytes: number
}

/** What happened, in order: runs of messages of one partition, errors raised, batches skipped, seeks. */
export type ApiBombEvent =
  | { kind: 'messages'; partition: number; count: number; from: number; to: number }
  | {
      kind: 'error'
      name: string
      message: string
      topic?: string
      partition?: number
      baseOffset?: number
      lastOffset?: number
      codec?: string
      limitBytes?: number
    }
  | {
      kind: 'skipped'
      topic: string
      partition: number
      baseOffset: number
      lastOffset: number
      codec?: string
      limitBytes?: number
      error: string
    }
  | { kind: 'seek'; partition: number; offset: number }

export interface ApiBombResult {
  baselineRss: number
  peakRss: number
  peakBudgetHeld: number
  events: ApiBombEvent[]
  /** Next offset after the last message delivered, per partition. */
  next: number[]
  ms: number
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]!) as ApiBombArgs
  const { topic, ends } = args
  const consumer = new Consumer({
    client: { bootstrap: args.bootstrap },
    resetPolicy: 'earliest',
    maxWaitMs: 100,
    badBatchPolicy: args.policy,
    bufferBytes: args.bufferBytes,
    decompression: { maxBatchDecompressedBytes: args.maxBatchDecompressedBytes },
  })
  const events: ApiBombEvent[] = []
  consumer.on('skipped', (s: SkippedBatch) => {
    // The raw batch stays here: the parent checks where and why, not the bytes.
    const { error, raw: _raw, ...rest } = s
    events.push({ kind: 'skipped', ...rest, error: error.name })
  })
  const next = ends.map(() => 0)
  const failed = new Map<number, number>()

  // The baseline is a connected consumer that knows the topic: what the bombs add is measured, not start-up.
  await consumer.cluster.metadata.refresh([topic])
  gc()
  const baselineRss = process.memoryUsage.rss()
  let peakRss = baselineRss
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss())
  }, 2)
  const t0 = Date.now()

  await consumer.assign(ends.map((_, partition) => ({ topic, partition })))
  const done = () => next.every((n, p) => n >= ends[p]!)
  /** The other partitions are done: seek past the batches that failed, and carry on with their partitions. */
  const seekPastFailures = () => {
    if (failed.size === 0 || !next.every((n, p) => failed.has(p) || n >= ends[p]!)) return
    for (const [partition, lastOffset] of failed) {
      consumer.seek({ topic, partition }, lastOffset + 1)
      consumer.resume([{ topic, partition }])
      next[partition] = lastOffset + 1
      events.push({ kind: 'seek', partition, offset: lastOffset + 1 })
    }
    failed.clear()
  }
  while (!done()) {
    try {
      for await (const m of consumer) {
        const last = events.at(-1)
        if (last?.kind === 'messages' && last.partition === m.partition) {
          last.count++
          last.to = m.offset
        } else events.push({ kind: 'messages', partition: m.partition, count: 1, from: m.offset, to: m.offset })
        next[m.partition] = m.offset + 1
        if (done()) break
        seekPastFailures()
      }
    } catch (err) {
      const e = err as Error
      const d = err instanceof DecompressionBudgetExceededError ? err.details : undefined
      events.push({
        kind: 'error',
        name: e.name,
        message: e.message,
        ...(d && {
          topic: d.topic,
          partition: d.partition,
          baseOffset: d.baseOffset,
          lastOffset: d.lastOffset,
          codec: d.codec,
          limitBytes: d.limitBytes,
        }),
      })
      if (!d || d.partition === undefined) throw err
      failed.set(d.partition, d.lastOffset)
      seekPastFailures()
    }
  }
  const ms = Date.now() - t0
  clearInterval(sampler)
  peakRss = Math.max(peakRss, process.memoryUsage.rss())
  const peakBudgetHeld = consumer.pipeline.budget.peakHeld
  await consumer.close()
  const result: ApiBombResult = { baselineRss, peakRss, peakBudgetHeld, events, next, ms }
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`)
  process.exit(1)
})
