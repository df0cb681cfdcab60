/**
 * Child process of the consumer-group delivery test: one Skiff consumer in a group, reading a topic record by record
 * at a bounded rate and reporting on stdout, one line per event, everything the parent needs to account for every
 * record:
 *
 *   D <partition> <offset> <id>      a record was handed to the application (written before the next one is asked
 *                                    for, i.e. before the consumer may count it as finished and commit past it)
 *   C <partition>:<offset>,...       a commit succeeded (the next offset to read, as Kafka stores it)
 *   A|R|L <partition>,...            partitions assigned / revoked / lost
 *   F <partition>,...                a commit of these partitions was refused (during a rebalance, or fenced)
 *   E <message>                      a background error the consumer reported
 *   X                                closed cleanly (after SIGTERM)
 *
 * stdout is a pipe, which Node writes synchronously on Linux, so a line is in the pipe before the consumer can act on
 * what follows it — even when the process is then killed with SIGKILL.
 * Run as: node --import tsx test/helpers/group-consumer.ts '<json args>'
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { Consumer } from '../../src/client/consumer/consumer.js'
import type { TopicPartition } from '../../src/client/consumer/types.js'

export interface GroupConsumerArgs {
  bootstrap: string
  topic: string
  groupId: string
  groupProtocol: 'classic' | 'consumer'
  clientId: string
  /** Records per second this member processes at most (a slow application). */
  ratePerSec: number
  autoCommitIntervalMs: number
  sessionTimeoutMs?: number
  heartbeatIntervalMs?: number
  assignors?: Array<'cooperative-sticky' | 'range' | 'roundrobin'>
}

const out = (line: string) => process.stdout.write(`${line}\n`)
const parts = (ps: TopicPartition[]) => ps.map((p) => p.partition).join(',')

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]!) as GroupConsumerArgs
  const consumer = new Consumer({
    client: { bootstrap: args.bootstrap, clientId: args.clientId },
    groupId: args.groupId,
    groupProtocol: args.groupProtocol,
    group: {
      sessionTimeoutMs: args.sessionTimeoutMs,
      heartbeatIntervalMs: args.heartbeatIntervalMs,
      assignors: args.assignors,
    },
    autoCommitIntervalMs: args.autoCommitIntervalMs,
    resetPolicy: 'earliest',
    maxWaitMs: 200,
    bufferBytes: 4 * 1024 * 1024,
  })
  consumer.on('assigned', (ps: TopicPartition[]) => out(`A ${parts(ps)}`))
  consumer.on('revoked', (ps: TopicPartition[]) => out(`R ${parts(ps)}`))
  consumer.on('lost', (ps: TopicPartition[]) => out(`L ${parts(ps)}`))
  consumer.on('commit', (os: Array<TopicPartition & { offset: number }>) =>
    out(`C ${os.map((o) => `${o.partition}:${o.offset}`).join(',')}`),
  )
  consumer.on('error', (err: Error & { partitions?: TopicPartition[] }) => {
    if (Array.isArray(err.partitions)) out(`F ${parts(err.partitions)}`)
    out(`E ${err.name}: ${err.message.replace(/\n/g, ' ')}`)
  })

  let stopping = false
  process.on('SIGTERM', () => {
    stopping = true
    // The loop may be waiting for records: close() ends that wait too. Idempotent with the loop's own close.
    void consumer.close()
  })

  await consumer.subscribe([args.topic])
  const started = Date.now()
  let n = 0
  for await (const m of consumer) {
    const value = m.value!.toString('latin1')
    const id = /^id=(\d+);/.exec(value)?.[1] ?? `?${value.slice(0, 20)}`
    out(`D ${m.partition} ${m.offset} ${id}`)
    if (stopping) break
    // Token bucket: a member is an application that processes ratePerSec records at most.
    if (++n % 50 === 0) {
      const ahead = (n / args.ratePerSec) * 1000 - (Date.now() - started)
      if (ahead > 1) await sleep(ahead)
    }
  }
  await consumer.close()
  out('X')
  process.exit(0)
}

main().catch((err) => {
  out(`E fatal ${(err as Error).stack?.replace(/\n/g, ' | ')}`)
  process.exit(1)
})
