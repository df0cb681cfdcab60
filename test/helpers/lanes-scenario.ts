import { spawn } from 'node:child_process'
import { expect } from 'vitest'
import { Admin } from '../../src/client/admin/index.js'
import { Producer } from '../../src/client/producer/index.js'
import { LaneProducer, streamLanes } from '../../src/stream/lanes.js'
import { StreamProcessor } from '../../src/stream/processor.js'
import { uniqueTopic } from './kafka.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export interface LanesScenario {
  bootstrap: string
  /** Records written to the batch lane (by a child process) while realtime traffic flows. */
  batchRecords: number
  /** One realtime record every this many ms. Default 10. */
  realtimeEveryMs?: number
  /** Realtime-only time before the backfill starts. Default 3000. */
  baselineMs?: number
  timeoutMs: number
  /**
   * `lanes` (default): the lane-aware processor. Controls: `no-priority`, the same processor reading both topics
   * alike; `one-topic`, no batch lane at all — the backfill is written into the realtime topic, as without lanes.
   */
  mode?: 'lanes' | 'no-priority' | 'one-topic'
}

export interface LanesResult {
  baseline: { count: number; p50: number; p99: number; max: number }
  backfill: { count: number; p50: number; p99: number; max: number }
  batchHandled: number
  batchDistinct: number
  realtimeSent: number
  realtimeHandled: number
  fillMs: number
  backfillMs: number
}

function summary(latencies: number[]) {
  const s = [...latencies].sort((a, b) => a - b)
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(s.length * q))] ?? Number.NaN
  return { count: s.length, p50: at(0.5), p99: at(0.99), max: s[s.length - 1] ?? Number.NaN }
}

/**
 * A lane-aware processor (concurrency 64, key order, handler with 0–2 ms of random latency) over a stream whose
 * realtime lane gets one record every `realtimeEveryMs`. After a realtime-only baseline, a child process writes
 * `batchRecords` into the batch lane; the processor works through them while realtime records keep coming. Returns
 * the realtime end-to-end latencies (produce → handled) of both phases and what was handled of the batch lane.
 */
export async function runLanesScenario(o: LanesScenario): Promise<LanesResult> {
  const stream = uniqueTopic('lanes')
  const lanes = streamLanes(stream)
  const admin = new Admin({ bootstrap: o.bootstrap })
  try {
    const created = await admin.createTopics([
      { name: lanes.realtime, partitions: 1 },
      { name: lanes.batch, partitions: 3 },
      { name: lanes.dlq, partitions: 1 },
    ])
    for (const c of created) if (c.error) throw c.error
  } finally {
    await admin.close()
  }

  const mode = o.mode ?? 'lanes'
  // Batch records are told by their key ("b…") and counted by the id in their value, whichever topic they are in.
  const batchSeen = new Uint8Array(o.batchRecords)
  let batchHandled = 0
  let batchDistinct = 0
  let phase: 'baseline' | 'backfill' | 'after' = 'baseline'
  const latencies = { baseline: [] as number[], backfill: [] as number[], after: [] as number[] }
  let realtimeHandled = 0
  const processor = new StreamProcessor({
    consumer: {
      client: { bootstrap: o.bootstrap },
      groupId: uniqueTopic('lanes-group'),
      resetPolicy: 'earliest',
      maxWaitMs: 100,
    },
    ...(mode === 'lanes'
      ? { lanes }
      : { topics: mode === 'no-priority' ? [lanes.realtime, lanes.batch] : [lanes.realtime] }),
    ordering: 'key',
    concurrency: 64,
    commitIntervalMs: 1000,
    handler: async (record) => {
      await sleep(Math.random() * 2)
      if (record.key?.[0] === 0x62 /* b */) {
        batchHandled++
        const id = Number.parseInt(record.value!.toString('latin1', 0, 12), 10)
        if (batchSeen[id] === 0) batchDistinct++
        batchSeen[id] = 1
      } else {
        realtimeHandled++
        latencies[phase].push(Date.now() - record.timestamp)
      }
    },
  })
  const run = processor.run()
  const producer = new Producer({ bootstrap: o.bootstrap, lingerMs: 0 })
  const realtime = new LaneProducer(producer, lanes)
  let realtimeSent = 0
  const sends: Promise<unknown>[] = []
  const ticker = setInterval(() => {
    realtimeSent++
    sends.push(realtime.send('realtime', [{ key: `r${realtimeSent % 100}`, value: `live ${realtimeSent}` }]))
  }, o.realtimeEveryMs ?? 10)
  try {
    // The baseline starts once the processor is in the group and handling (records produced while it joined waited).
    const joinDeadline = Date.now() + 30_000
    while (realtimeHandled === 0 && Date.now() < joinDeadline) await sleep(20)
    await sleep(500)
    latencies.baseline = []
    await sleep(o.baselineMs ?? 3000)
    phase = 'backfill'
    const t0 = Date.now()
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'test/helpers/lane-filler.ts',
        JSON.stringify({
          bootstrap: o.bootstrap,
          stream,
          count: o.batchRecords,
          lane: mode === 'one-topic' ? 'realtime' : 'batch',
        }),
      ],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let out = ''
    let err = ''
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    const deadline = t0 + o.timeoutMs
    while (batchDistinct < o.batchRecords) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL')
        throw new Error(`timed out: ${batchDistinct} of ${o.batchRecords} batch records handled; filler: ${out} ${err}`)
      }
      if (child.exitCode !== null && child.exitCode !== 0) throw new Error(`the filler failed: ${err}`)
      await sleep(50)
    }
    const backfillMs = Date.now() - t0
    phase = 'after'
    const code = await exited
    if (code !== 0) throw new Error(`the filler exited ${code}: ${err}`)
    const fillMs = Number(/done (\d+)/.exec(out)?.[1] ?? Number.NaN)
    clearInterval(ticker)
    await Promise.all(sends)
    const sent = realtimeSent
    const deadline2 = Date.now() + 10_000
    while (realtimeHandled < sent && Date.now() < deadline2) await sleep(20)
    return {
      baseline: summary(latencies.baseline),
      backfill: summary(latencies.backfill),
      batchHandled,
      batchDistinct,
      realtimeSent: sent,
      realtimeHandled,
      fillMs,
      backfillMs,
    }
  } finally {
    clearInterval(ticker)
    await producer.close()
    await processor.close({ timeoutMs: 5000 })
    await run.catch(() => {})
  }
}

/**
 * The stated bound: while the batch lane's backlog is worked through, realtime p99 end to end (produce → handled)
 * stays within `slackMs` of its p99 before the backfill, on a 2-core machine that also runs the broker and the child
 * writing the backfill. The heavy suite (one test file at a time) holds it to 100 ms over 1M records; the default
 * run, which shares the machine with other test files starting and stopping, to 300 ms over 100k.
 */
export function expectRealtimeUnharmed(r: LanesResult, batchRecords: number, slackMs: number): void {
  expect(r.batchDistinct).toBe(batchRecords)
  expect(r.batchHandled).toBeGreaterThanOrEqual(batchRecords)
  expect(r.realtimeHandled).toBe(r.realtimeSent)
  expect(r.baseline.count).toBeGreaterThan(100)
  expect(r.backfill.count).toBeGreaterThan(100)
  expect(r.backfill.p99).toBeLessThanOrEqual(r.baseline.p99 + slackMs)
}
