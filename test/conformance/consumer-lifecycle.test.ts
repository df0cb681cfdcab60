import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Admin } from '../../src/client/admin/admin.js'
import type { Connection } from '../../src/client/connection.js'
import { Consumer, type ConsumerOptions } from '../../src/client/consumer/consumer.js'
import type { TopicPartition } from '../../src/client/consumer/types.js'
import { Producer } from '../../src/client/producer/index.js'
import { committedOffsets, consumerProtocolSupported, until } from '../helpers/consumer.js'
import type { ChildArgs } from '../helpers/consumer-child.js'
import { connectTestBroker, testKafka } from '../helpers/kafka.js'
import { createTopic, groupCoordinatorReady, note, type TestTopic } from '../helpers/protocol.js'

const bootstrap = testKafka().bootstrap
const uniqueGroup = (prefix: string) => `skiff-lifecycle-${prefix}-${randomBytes(4).toString('hex')}`
const names = (ps: readonly TopicPartition[]) => ps.map((p) => p.partition).sort((a, b) => a - b)

interface HookCall {
  hook: 'assigned' | 'revoked' | 'lost'
  partitions: number[]
  at: number
}

/**
 * The consumer's life in a group through its public API: rebalance hooks, auto-commit of finished work only, and a
 * close() that commits, leaves at once and lets go of its connections.
 */
describe(`the consumer's lifecycle (Kafka ${testKafka().version})`, () => {
  let conn: Connection
  let admin: Admin
  let producer: Producer
  const consumers: Consumer[] = []
  beforeAll(async () => {
    conn = await connectTestBroker()
    await groupCoordinatorReady(conn)
    admin = new Admin({ bootstrap })
    producer = new Producer({ bootstrap, lingerMs: 5 })
  })
  afterAll(async () => {
    await Promise.all(consumers.map((c) => c.close({ timeoutMs: 5000 }).catch(() => {})))
    await producer?.close()
    await admin?.close()
    await conn?.close()
  })

  async function topicWith(partitions: number, perPartition: number | number[]): Promise<TestTopic> {
    const topic = await createTopic(conn, { prefix: 'lifecycle', partitions })
    for (let p = 0; p < partitions; p++) {
      const n = Array.isArray(perPartition) ? perPartition[p]! : perPartition
      if (n === 0) continue
      await producer.send({
        topic: topic.name,
        messages: Array.from({ length: n }, (_, i) => ({ partition: p, key: `${p}-${i}`, value: `value ${i}` })),
      })
    }
    return topic
  }

  /** A consumer on its own connections, recording its hook calls. */
  function consumer(options: Partial<ConsumerOptions> & { groupId?: string }) {
    const calls: HookCall[] = []
    const record = (hook: HookCall['hook']) => (partitions: TopicPartition[]) => {
      calls.push({ hook, partitions: names(partitions), at: Date.now() })
    }
    const c = new Consumer({
      client: { bootstrap },
      resetPolicy: 'earliest',
      maxWaitMs: 100,
      onAssigned: record('assigned'),
      onRevoked: record('revoked'),
      onLost: record('lost'),
      ...options,
    })
    consumers.push(c)
    return { c, calls }
  }

  const protocols = ['classic', 'consumer'] as const
  for (const protocol of protocols) {
    test(`${protocol}: close() commits what was finished, leaves at once (the other member takes over long before the session timeout) and closes the connections`, async (ctx) => {
      if (protocol === 'consumer' && !consumerProtocolSupported(conn)) {
        note('KIP-848 groups are off: close() in a consumer-protocol group not tested')
        return ctx.skip()
      }
      const topic = await topicWith(4, 50)
      const groupId = uniqueGroup(`close-${protocol}`)
      const member = (clientId: string) =>
        consumer({
          client: { bootstrap, clientId },
          groupId,
          groupProtocol: protocol,
          // Only close() commits here.
          autoCommitIntervalMs: 600_000,
          // A member that vanished without leaving would hold its partitions for 30 s (classic); KIP-848 uses the
          // broker's session timeout (10 s on the test broker).
          group: protocol === 'classic' ? { sessionTimeoutMs: 30_000, heartbeatIntervalMs: 250 } : {},
        })
      const a = member('lifecycle-a')
      const b = member('lifecycle-b')
      await a.c.subscribe([topic.name])
      await b.c.subscribe([topic.name])
      await until(
        'the two members share the partitions',
        () => a.c.assignment().length === 2 && b.c.assignment().length === 2,
      )
      const aFinal = names(a.c.assignment())

      const seen = new Map<string, number>()
      const see = (partition: number, offset: number) => {
        const k = `${partition}:${offset}`
        seen.set(k, (seen.get(k) ?? 0) + 1)
      }
      const bFirst = new Map<number, number>()
      const bLoop = (async () => {
        for await (const m of b.c) {
          see(m.partition, m.offset)
          if (!bFirst.has(m.partition)) bFirst.set(m.partition, m.offset)
          if ([...seen.keys()].length === 200) break
        }
      })()

      // A reads 30 of its 100 records and breaks out: that closes it.
      const aNext = new Map<number, number>()
      let n = 0
      let breakAt = 0
      for await (const m of a.c) {
        see(m.partition, m.offset)
        aNext.set(m.partition, m.offset + 1)
        if (++n === 30) {
          breakAt = Date.now()
          break
        }
      }
      const closeMs = Date.now() - breakAt
      expect(a.c.cluster.isClosed).toBe(true)
      expect(a.c.cluster.pool.openConnections()).toEqual([])
      // What A finished is committed — or more, when B already took over, read on and closed (B's loop runs
      // concurrently); that B starts exactly at A's offsets is checked below.
      const committed = await committedOffsets(admin, groupId, topic.name)
      for (const [p, next] of aNext) expect(committed.get(p)?.offset).toBeGreaterThanOrEqual(next)
      // A's partitions were revoked (not lost) on the way out; B takes them over without waiting for A's session.
      expect(a.calls.at(-1)).toMatchObject({ hook: 'revoked', partitions: aFinal })
      expect(a.calls.filter((c) => c.hook === 'lost')).toEqual([])
      // Told by B's hooks, not by polling its assignment: B may take over, read the rest and close before a poll.
      const takenOver = () => {
        const after = b.calls.filter((c) => c.hook === 'assigned' && c.at >= breakAt)
        const got = new Set(after.flatMap((c) => c.partitions))
        return aFinal.every((p) => got.has(p)) ? after.at(-1)!.at : undefined
      }
      await until("B is assigned A's partitions", () => takenOver() !== undefined, 15_000)
      const handoverMs = takenOver()! - breakAt
      expect(b.calls.filter((c) => c.hook === 'lost')).toEqual([])
      await bLoop
      // B starts A's partitions exactly where A's close committed; together they read everything.
      for (const p of aFinal) expect(bFirst.get(p)).toBe(aNext.get(p) ?? 0)
      expect(seen.size).toBe(200)
      process.stderr.write(
        `[skiff] ${protocol} close(): ${closeMs} ms; the other member held every partition ${handoverMs} ms after\n`,
      )
      expect(closeMs).toBeLessThan(5000)
      expect(handoverMs).toBeLessThan(protocol === 'classic' ? 10_000 : 6000)
      await b.c.close()
    })
  }

  test('close() while a for await waits for records resolves promptly and ends the loop (manual assignment and a group)', async () => {
    const topic = await topicWith(2, 0)
    const manual = consumer({})
    await manual.c.assign([0, 1].map((partition) => ({ topic: topic.name, partition })))
    const grouped = consumer({ groupId: uniqueGroup('idle-close'), group: { sessionTimeoutMs: 30_000 } })
    await grouped.c.subscribe([topic.name])
    for (const { c } of [manual, grouped]) {
      let ended = 0
      const loop = (async () => {
        for await (const _ of c) throw new Error('no records were written')
        ended = Date.now()
      })()
      await sleep(300)
      const t0 = Date.now()
      await c.close({ timeoutMs: 10_000 })
      const closeMs = Date.now() - t0
      await loop
      expect(ended - t0).toBeLessThan(2000)
      expect(closeMs).toBeLessThan(2000)
      expect(c.cluster.pool.openConnections()).toEqual([])
    }
  })

  test('a member fenced by a newer instance of its static id reports its partitions lost, and its loop ends with the fencing error', async () => {
    const topic = await topicWith(2, 20)
    const groupId = uniqueGroup('fenced')
    const group = { groupInstanceId: 'instance-1', sessionTimeoutMs: 10_000, heartbeatIntervalMs: 250 }
    // No 'error' listener: background failures (its auto-commits are refused once it is fenced) must not crash the
    // process; the loop is where the application hears of it.
    const old = consumer({ groupId, group, autoCommitIntervalMs: 100 })
    await old.c.subscribe([topic.name])
    expect(old.calls).toMatchObject([{ hook: 'assigned', partitions: [0, 1] }])
    let read = 0
    // Settles with what the loop threw (a handler from the start: the rejection is expected).
    const oldLoop = (async () => {
      for await (const _ of old.c) read++
    })().then(
      () => null,
      (err: Error) => err,
    )
    const successor = consumer({ groupId, group })
    await successor.c.subscribe([topic.name])
    await until('the old instance lost its partitions', () => old.calls.some((c) => c.hook === 'lost'), 10_000)
    expect(old.calls.at(-1)).toMatchObject({ hook: 'lost', partitions: [0, 1] })
    expect(old.c.assignment()).toEqual([])
    expect(successor.calls).toMatchObject([{ hook: 'assigned', partitions: [0, 1] }])
    // The old instance's loop ends with the fencing error instead of waiting for records that cannot come.
    expect(await oldLoop).toMatchObject({ errorName: 'FENCED_INSTANCE_ID' })
    expect(read).toBeLessThanOrEqual(40)
  })

  test('auto-commit commits only what the loop body finished: never the message it is still handling', async () => {
    const topic = await topicWith(1, 100)
    const groupId = uniqueGroup('auto-commit')
    const { c } = consumer({ groupId, autoCommitIntervalMs: 100 })
    await c.subscribe([topic.name])
    const commits: number[] = []
    c.on('commit', (offsets: Array<{ offset: number }>) => commits.push(...offsets.map((o) => o.offset)))
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    let holding = false
    const loop = (async () => {
      for await (const m of c) {
        if (m.offset === 40) {
          holding = true
          await gate
        }
        if (m.offset === 60) break
      }
    })()
    await until('the body is handling offset 40', () => holding)
    await until('auto-commit caught up with the finished messages', async () => {
      return (await committedOffsets(admin, groupId, topic.name)).get(0)?.offset === 40
    })
    // Several auto-commit intervals while the body still handles offset 40: 40 stays the next to read.
    await sleep(600)
    expect((await committedOffsets(admin, groupId, topic.name)).get(0)?.offset).toBe(40)
    expect(Math.max(...commits)).toBe(40)
    release()
    await loop
    // The body broke out at 60, after handling it: that one is finished too, and close() committed it.
    expect((await committedOffsets(admin, groupId, topic.name)).get(0)?.offset).toBe(61)
  })

  test('a process killed in the middle of a message has committed only the messages before it', async () => {
    const topic = await topicWith(1, 100)
    const groupId = uniqueGroup('killed')
    const args: ChildArgs = { bootstrap, groupId, topic: topic.name, holdAt: 25, autoCommitIntervalMs: 100 }
    const child: ChildProcessWithoutNullStreams = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, '../helpers/consumer-child.ts'), JSON.stringify(args)],
      { stdio: 'pipe' },
    )
    const lines: string[] = []
    let buf = ''
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString()
      const parts = buf.split('\n')
      buf = parts.pop()!
      lines.push(...parts)
    })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    try {
      await until('the child holds offset 25 and has committed up to it', () => lines.includes('commit 0 25'), 30_000)
      // A few more intervals: nothing past 25 is committed while 25 is being handled.
      await sleep(400)
    } finally {
      child.kill('SIGKILL')
    }
    expect(stderr).toBe('')
    expect(lines).toContain('holding 25')
    expect(lines.filter((l) => l.startsWith('commit ')).at(-1)).toBe('commit 0 25')
    expect((await committedOffsets(admin, groupId, topic.name)).get(0)?.offset).toBe(25)
    // The next reader of the group starts with the message the dead process never finished.
    const { c } = consumer({ groupId, autoCommit: false })
    await c.assign([{ topic: topic.name, partition: 0 }])
    const first = await c[Symbol.asyncIterator]().next()
    expect(first.value!.offset).toBe(25)
  })

  test('a message whose body outlives the revocation of its partition is not committed afterwards over the new owner', async () => {
    // Two partitions with the range assignor: the member whose client id sorts first keeps partition 0.
    const topic = await topicWith(2, [0, 100])
    const groupId = uniqueGroup('late-finish')
    const group = { sessionTimeoutMs: 30_000, heartbeatIntervalMs: 250, assignors: ['range' as const] }
    const a = consumer({ client: { bootstrap, clientId: 'a-first' }, groupId, group, autoCommitIntervalMs: 100 })
    const aErrors: Error[] = []
    a.c.on('error', (e: Error) => aErrors.push(e))
    await a.c.subscribe([topic.name])
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    let holding = false
    const aAfterRevoke: number[] = []
    const aLoop = (async () => {
      for await (const m of a.c) {
        if (m.partition === 1 && m.offset === 0) {
          holding = true
          await gate
        } else if (m.partition === 1 && holding) aAfterRevoke.push(m.offset)
      }
    })()
    await until('A is handling the first message of partition 1', () => holding)
    const b = consumer({ client: { bootstrap, clientId: 'b-second' }, groupId, group, autoCommitIntervalMs: 100 })
    await b.c.subscribe([topic.name])
    await until(
      'partition 1 moved to B',
      () => names(b.c.assignment()).join() === '1' && names(a.c.assignment()).join() === '0',
    )
    expect(a.calls.map((c) => c.hook)).toEqual(['assigned', 'revoked', 'assigned'])
    // B reads partition 1 from the start (A finished nothing of it) and commits all of it.
    let bRead = 0
    const bLoop = (async () => {
      for await (const m of b.c) if (m.partition === 1) bRead++
    })()
    await until('B committed partition 1 to its end', async () => {
      return (await committedOffsets(admin, groupId, topic.name)).get(1)?.offset === 100
    })
    expect(bRead).toBe(100)
    // A's body finishes the message it got before the revocation: that is not A's to commit any more.
    const aCommits: Array<{ partition: number }> = []
    a.c.on('commit', (offsets: Array<{ partition: number }>) => aCommits.push(...offsets))
    release()
    await sleep(600)
    expect((await committedOffsets(admin, groupId, topic.name)).get(1)?.offset).toBe(100)
    // Nor does A hand out the rest of partition 1 it had in hand: B owns those records now.
    expect(aAfterRevoke).toEqual([])
    expect(aCommits.filter((o) => o.partition === 1)).toEqual([])
    await a.c.close()
    await b.c.close()
    await Promise.all([aLoop, bLoop])
  })
})
