/**
 * Child process of the consumer lifecycle tests: a group member with auto-commit whose loop body never finishes
 * the message at offset `holdAt` (as a process that dies while handling it). Prints "at <offset>" for every message
 * it starts handling, "holding <offset>" when it gets stuck, and "commit <partition> <offset>" for every commit.
 * Run as: node --import tsx test/helpers/consumer-child.ts '<json args>'
 */

import type { OffsetToCommit } from '../../src/client/consumer/consumer.js'
import { Consumer } from '../../src/client/consumer/consumer.js'

export interface ChildArgs {
  bootstrap: string
  groupId: string
  topic: string
  holdAt: number
  autoCommitIntervalMs: number
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]!) as ChildArgs
  const say = (line: string) => process.stdout.write(`${line}\n`)
  const consumer = new Consumer({
    client: { bootstrap: args.bootstrap },
    groupId: args.groupId,
    resetPolicy: 'earliest',
    maxWaitMs: 100,
    autoCommitIntervalMs: args.autoCommitIntervalMs,
    group: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 },
  })
  consumer.on('commit', (offsets: OffsetToCommit[]) => {
    for (const o of offsets) say(`commit ${o.partition} ${o.offset}`)
  })
  consumer.on('error', (err: Error) => say(`error ${err.message}`))
  await consumer.subscribe([args.topic])
  for await (const m of consumer) {
    say(`at ${m.offset}`)
    if (m.offset === args.holdAt) {
      say(`holding ${m.offset}`)
      // Never finishes (a timer keeps the process alive until it is killed).
      await new Promise(() => setInterval(() => {}, 60_000))
    }
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`)
  process.exit(1)
})
