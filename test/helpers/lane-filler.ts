/**
 * Child process of the lanes test: writes `count` records into a stream's batch lane (or its realtime lane, for a
 * control) as fast as it can (lz4, large
 * batches), so that the backfill's producing costs the test process nothing. Prints "done <ms>" at the end.
 * Run as: node --import tsx test/helpers/lane-filler.ts '<json args>'
 */
import { Producer } from '../../src/client/producer/index.js'
import { LaneProducer, streamLanes } from '../../src/stream/lanes.js'

interface Args {
  bootstrap: string
  stream: string
  count: number
  /** The lane written to: `batch`, or `realtime` for the one-topic control. */
  lane: 'batch' | 'realtime'
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]!) as Args
  const producer = new Producer({ bootstrap: args.bootstrap, compression: 'lz4', lingerMs: 20, batchBytes: 256 * 1024 })
  const lanes = new LaneProducer(producer, streamLanes(args.stream))
  const t0 = Date.now()
  const value = 'x'.repeat(80)
  const inFlight = new Set<Promise<unknown>>()
  for (let i = 0; i < args.count; i += 1000) {
    const n = Math.min(1000, args.count - i)
    const p = lanes.send(
      args.lane,
      Array.from({ length: n }, (_, j) => ({ key: `b${(i + j) % 1000}`, value: `${i + j}:${value}` })),
    )
    inFlight.add(p)
    p.finally(() => inFlight.delete(p)).catch(() => {})
    if (inFlight.size >= 32) await Promise.race(inFlight)
  }
  await Promise.all(inFlight)
  await producer.close()
  process.stdout.write(`done ${Date.now() - t0}\n`)
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`)
  process.exit(1)
})
