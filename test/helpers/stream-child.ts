/**
 * Child process of the stream processor crash scenario (test/helpers/stream-crash-scenario.ts): runs a
 * StreamProcessor (key order) whose handler sleeps a random 0–`latencyMaxMs` ms, fails the first attempt of about 1%
 * of the records, and appends "<partition> <offset>" to `log` (a synchronous write, so the line is in the file before
 * the record counts as done) for every successful handling. Prints "commit <n> <failures so far>" after every
 * commit. It never stops by itself: the scenario kills it with SIGKILL (a crash: no close, no final commit), or sends
 * SIGTERM, on which it closes the processor (in-flight records finish, a final commit), prints "stats <json>" (the
 * processor's stats) and exits 0.
 * Run as: node --import tsx test/helpers/stream-child.ts '<json args>'
 */
import { closeSync, openSync, writeSync } from 'node:fs'
import { StreamProcessor } from '../../src/stream/processor.js'
import { failsFirst, type StreamChildArgs } from './stream-child-args.js'

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]!) as StreamChildArgs
  const fd = openSync(args.log, 'a')
  let commits = 0
  const processor = new StreamProcessor({
    consumer: {
      client: { bootstrap: args.bootstrap },
      groupId: args.groupId,
      resetPolicy: 'earliest',
      maxWaitMs: 100,
      group: { groupInstanceId: args.groupInstanceId, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 500 },
    },
    topics: [args.topic],
    ordering: 'key',
    concurrency: args.concurrency,
    commitIntervalMs: args.commitIntervalMs,
    retryBackoffMs: 10,
    handler: async (record, { attempt }) => {
      await new Promise((r) => setTimeout(r, Math.random() * args.latencyMaxMs))
      if (attempt === 1 && failsFirst(record.partition, record.offset)) throw new Error('transient')
      writeSync(fd, `${record.partition} ${record.offset}\n`)
    },
  })
  processor.on('commit', () => process.stdout.write(`commit ${++commits} ${processor.stats().failures}\n`))
  processor.on('error', (err: Error) => process.stdout.write(`error ${err.name} ${err.message}\n`))
  process.once('SIGTERM', () => void processor.close())
  await processor.run()
  closeSync(fd)
  // Pipes are written synchronously on POSIX: the line is out before the exit.
  process.stdout.write(`stats ${JSON.stringify(processor.stats())}\n`)
  process.exit(0)
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`)
  process.exit(1)
})
