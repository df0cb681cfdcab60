/**
 * Child process of the stream processor crash test: runs a StreamProcessor whose handler sleeps a random 0–8 ms,
 * fails the first attempt of about 1% of the records, and appends "<partition> <offset>" to `log` (a synchronous
 * write, so the line is in the file before the record counts as done) for every successful handling. Prints
 * "commit <n>" after every commit. It is killed with SIGKILL by the test; it never stops by itself.
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
      await new Promise((r) => setTimeout(r, Math.random() * 8))
      if (attempt === 1 && failsFirst(record.partition, record.offset)) throw new Error('transient')
      writeSync(fd, `${record.partition} ${record.offset}\n`)
    },
  })
  processor.on('commit', () => process.stdout.write(`commit ${++commits}\n`))
  processor.on('error', (err: Error) => process.stdout.write(`error ${err.name} ${err.message}\n`))
  await processor.run()
  closeSync(fd)
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`)
  process.exit(1)
})
