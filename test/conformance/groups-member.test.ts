import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Cluster } from '../../src/client/cluster/cluster.js'
import type { Connection } from '../../src/client/connection.js'
import { GroupMember, type GroupMemberOptions, type RebalanceEvent } from '../../src/client/consumer/group/member.js'
import type { TopicPartition } from '../../src/client/consumer/types.js'
import { ConsumerGroupHeartbeat } from '../../src/protocol/apis/consumer-group-heartbeat.js'
import { DescribeGroups } from '../../src/protocol/apis/describe-groups.js'
import { compileJava, kafkaClientsClasspath } from '../helpers/java-assignors.js'
import { connectTestBroker, testKafka } from '../helpers/kafka.js'
import { createTopic, errName, groupCoordinatorReady, note, type TestTopic } from '../helpers/protocol.js'

const uniqueGroup = (prefix: string) => `skiff-member-${prefix}-${randomBytes(4).toString('hex')}`
const fmt = (ps: readonly TopicPartition[]) =>
  [...ps]
    .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
    .map((p) => `${p.topic}:${p.partition}`)
const all = (topic: TestTopic) => Array.from({ length: topic.partitions }, (_, p) => `${topic.name}:${p}`)

/** Polls `check` until it returns true; fails with `what` after `timeoutMs`. */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`)
    await sleep(50)
  }
}

interface HookCall {
  hook: 'assigned' | 'revoked' | 'lost'
  partitions: string[]
  at: number
}

/** A group member on its own Cluster, recording what its hooks were told. */
class Member {
  readonly cluster: Cluster
  readonly member: GroupMember
  readonly calls: HookCall[] = []
  readonly rebalances: RebalanceEvent[] = []
  readonly errors: Error[] = []
  /** Milliseconds each hook takes (a busy application). */
  hookDelayMs = 0
  /** What the revoked hook does, as the consumer's commits what the application finished. */
  onRevoked: ((partitions: TopicPartition[]) => Promise<void>) | undefined

  constructor(options: GroupMemberOptions, name = 'member') {
    this.cluster = new Cluster({ bootstrap: testKafka().bootstrap, clientId: `skiff-${name}` })
    const record = (hook: HookCall['hook']) => async (partitions: TopicPartition[]) => {
      this.calls.push({ hook, partitions: fmt(partitions), at: Date.now() })
      if (this.hookDelayMs > 0) await sleep(this.hookDelayMs)
      if (hook === 'revoked') await this.onRevoked?.(partitions)
    }
    this.member = new GroupMember(this.cluster, options, {
      assigned: record('assigned'),
      revoked: record('revoked'),
      lost: record('lost'),
    })
    this.member.on('rebalance', (e: RebalanceEvent) => this.rebalances.push(e))
    this.member.on('error', (e: Error) => this.errors.push(e))
  }

  owned(): string[] {
    return fmt(this.member.assignment())
  }

  hooks(hook: HookCall['hook']): string[][] {
    return this.calls.filter((c) => c.hook === hook).map((c) => c.partitions)
  }

  async close(): Promise<void> {
    await this.member.leave({ timeoutMs: 10_000 }).catch(() => {})
    await this.cluster.close()
  }
}

/** The members' assignments cover the topic exactly: every partition once. */
function splitsExactly(topic: TestTopic, owned: string[][]): boolean {
  const flat = owned.flat()
  return (
    flat.length === topic.partitions && new Set(flat).size === flat.length && all(topic).every((p) => flat.includes(p))
  )
}

describe(`GroupMember against Kafka ${testKafka().version}`, () => {
  let conn: Connection
  let topic: TestTopic
  const members: Member[] = []
  const spawnMember = (options: GroupMemberOptions, name?: string) => {
    const m = new Member(options, name)
    members.push(m)
    return m
  }

  beforeAll(async () => {
    conn = await connectTestBroker()
    topic = await createTopic(conn, { prefix: 'member', partitions: 6 })
    await groupCoordinatorReady(conn)
  })
  afterAll(async () => {
    await Promise.all(members.map((m) => m.close()))
    await conn?.close()
  })

  describe('classic protocol', () => {
    test('a single member gets every partition, commits offsets and reads them back', async () => {
      const groupId = uniqueGroup('single')
      const a = spawnMember({ groupId, topics: [topic.name], sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 })
      await a.member.start()
      expect(a.owned()).toEqual(all(topic))
      expect(a.hooks('assigned')).toEqual([all(topic)])
      expect(a.member.generationId).toBeGreaterThanOrEqual(1)
      expect(a.member.memberId).not.toBe('')

      await a.member.commit([
        { topic: topic.name, partition: 0, offset: 42, leaderEpoch: topic.leaderEpochs[0], metadata: 'first' },
        { topic: topic.name, partition: 1, offset: 7 },
      ])
      const got = await a.member.fetchCommitted([0, 1, 2].map((partition) => ({ topic: topic.name, partition })))
      expect(Object.fromEntries(got)).toEqual({
        [`${topic.name}\u00000`]: { offset: 42, leaderEpoch: topic.leaderEpochs[0], metadata: 'first' },
        [`${topic.name}\u00001`]: { offset: 7, leaderEpoch: -1, metadata: '' },
        [`${topic.name}\u00002`]: null,
      })

      await a.member.leave()
      expect(a.hooks('revoked')).toEqual([all(topic)])
      const described = await conn.request(DescribeGroups, { groups: [groupId] })
      expect([described.groups[0]!.groupState, described.groups[0]!.members]).toEqual(['Empty', []])
    })

    test('range (eager): a second member splits the partitions 3/3; the first revoked everything before rejoining', async () => {
      const groupId = uniqueGroup('range')
      const options = {
        groupId,
        topics: [topic.name],
        assignors: ['range' as const],
        sessionTimeoutMs: 6000,
        heartbeatIntervalMs: 300,
      }
      const a = spawnMember(options, 'a')
      await a.member.start()
      const b = spawnMember(options, 'b')
      await b.member.start()
      await until('both members hold 3 partitions', () => a.owned().length === 3 && b.owned().length === 3)
      expect(splitsExactly(topic, [a.owned(), b.owned()])).toBe(true)
      // Range gives contiguous ranges: 0-2 to the member whose id sorts first.
      const first = a.member.memberId < b.member.memberId ? a : b
      expect(first.owned()).toEqual(all(topic).slice(0, 3))
      // Eager: A gave up all six before the JoinGroup, then got its three.
      expect(a.hooks('revoked')).toEqual([all(topic)])
      expect(a.hooks('assigned')).toEqual([all(topic), a.owned()])
      expect(a.hooks('lost')).toEqual([])
    })

    test('cooperative-sticky: the first member keeps what it can, revokes only what moves, and the freed partitions follow in a second rebalance', async () => {
      const groupId = uniqueGroup('coop')
      const options = {
        groupId,
        topics: [topic.name],
        assignors: ['cooperative-sticky' as const],
        sessionTimeoutMs: 6000,
        heartbeatIntervalMs: 300,
      }
      const a = spawnMember(options, 'a')
      await a.member.start()
      const generation = a.member.generationId
      const b = spawnMember(options, 'b')
      await b.member.start()
      await until('both members hold 3 partitions', () => a.owned().length === 3 && b.owned().length === 3)
      expect(splitsExactly(topic, [a.owned(), b.owned()])).toBe(true)
      const kept = a.owned()
      const moved = all(topic).filter((p) => !kept.includes(p))
      // A was never told to give up what it kept, and revoked only the three that moved; it got nothing new.
      expect(a.hooks('revoked')).toEqual([moved])
      expect(a.hooks('assigned')).toEqual([all(topic)])
      // B got the moved partitions once A had revoked them: two rebalances (generation + 2).
      expect(b.hooks('assigned')).toEqual([moved])
      expect(b.calls.find((c) => c.hook === 'assigned')!.at).toBeGreaterThanOrEqual(
        a.calls.find((c) => c.hook === 'revoked')!.at,
      )
      await until('both members are in the same generation', () => a.member.generationId === b.member.generationId)
      expect(a.member.generationId).toBe(generation + 2)
    })

    test('a member that leaves hands its partitions to the other at once', async () => {
      const groupId = uniqueGroup('leave')
      const options = { groupId, topics: [topic.name], sessionTimeoutMs: 30_000, heartbeatIntervalMs: 300 }
      const a = spawnMember(options, 'a')
      await a.member.start()
      const b = spawnMember(options, 'b')
      await b.member.start()
      await until('both members hold 3 partitions', () => a.owned().length === 3 && b.owned().length === 3)
      const bHad = b.owned()
      const t0 = Date.now()
      await b.member.leave()
      expect(b.hooks('revoked').at(-1)).toEqual(bHad)
      // Well within the 30 s session timeout: LeaveGroup triggered the rebalance.
      await until('A holds every partition', () => a.owned().length === 6, 10_000)
      expect(Date.now() - t0).toBeLessThan(10_000)
      expect(a.owned()).toEqual(all(topic))
    })

    test('a member that dies without leaving loses its partitions to the survivor after the session timeout', async () => {
      const groupId = uniqueGroup('killed')
      const sessionTimeoutMs = 2000
      const options = { groupId, topics: [topic.name], sessionTimeoutMs, heartbeatIntervalMs: 300 }
      const a = spawnMember(options, 'a')
      await a.member.start()
      const b = spawnMember(options, 'b')
      await b.member.start()
      await until('both members hold 3 partitions', () => a.owned().length === 3 && b.owned().length === 3)
      const t0 = Date.now()
      // As a crash: no hooks, no LeaveGroup, its connections gone.
      b.member.destroy()
      await b.cluster.close()
      await until('A holds every partition', () => a.owned().length === 6, 15_000)
      const took = Date.now() - t0
      expect(a.owned()).toEqual(all(topic))
      expect(took).toBeGreaterThanOrEqual(sessionTimeoutMs - 500)
      expect(b.calls.filter((c) => c.hook !== 'assigned')).toEqual([])
    })

    test('static membership: a member restarted with its groupInstanceId gets its partitions back, and the other member sees no rebalance', async () => {
      const groupId = uniqueGroup('static')
      const options = (instance: string) => ({
        groupId,
        topics: [topic.name],
        groupInstanceId: instance,
        sessionTimeoutMs: 8000,
        heartbeatIntervalMs: 300,
      })
      const a = spawnMember(options('instance-a'), 'a')
      await a.member.start()
      const b = spawnMember(options('instance-b'), 'b')
      await b.member.start()
      await until('both members hold 3 partitions', () => a.owned().length === 3 && b.owned().length === 3)
      await until('both members are in the same generation', () => a.member.generationId === b.member.generationId)
      const aCalls = a.calls.length
      const aRebalances = a.rebalances.length
      const generation = a.member.generationId
      const bHad = b.owned()
      // A static member leaving sends no LeaveGroup: the group keeps its place for the session timeout.
      await b.member.leave()
      await b.cluster.close()
      const b2 = spawnMember(options('instance-b'), 'b2')
      await b2.member.start()
      expect(b2.owned()).toEqual(bHad)
      expect(b2.member.generationId).toBe(generation)
      // Nothing happened to A: no hooks, no rebalance, same generation (give a heartbeat round to show otherwise).
      await sleep(1000)
      expect(a.calls.length).toBe(aCalls)
      expect(a.rebalances.length).toBe(aRebalances)
      expect(a.member.generationId).toBe(generation)
      expect(a.owned().length).toBe(3)
    })

    test('hooks busy for longer than the session timeout do not cost the membership: heartbeats keep flowing', async () => {
      const groupId = uniqueGroup('busy')
      const sessionTimeoutMs = 2000
      const options = { groupId, topics: [topic.name], sessionTimeoutMs, heartbeatIntervalMs: 300 }
      const a = spawnMember(options, 'a')
      a.hookDelayMs = sessionTimeoutMs * 1.5
      await a.member.start()
      const generation = a.member.generationId
      // Still the same member of the same generation after its assigned hook outlived the session timeout.
      await sleep(500)
      expect(a.member.generationId).toBe(generation)
      const described = await conn.request(DescribeGroups, { groups: [groupId] })
      expect(described.groups[0]!.members.map((m) => m.memberId)).toEqual([a.member.memberId])
      // A rebalance while busy: the eager revoke and the new assignment each take 3 s; nothing is lost.
      const b = spawnMember(options, 'b')
      await b.member.start()
      await until('both members hold 3 partitions', () => a.owned().length === 3 && b.owned().length === 3, 20_000)
      expect(a.hooks('lost')).toEqual([])
      expect(a.errors).toEqual([])
      expect(splitsExactly(topic, [a.owned(), b.owned()])).toBe(true)
    })

    test('a pattern subscription takes every matching topic, and a new matching topic after a metadata check', async () => {
      const prefix = `skiff-rx-${randomBytes(3).toString('hex')}`
      const t1 = await createTopic(conn, { prefix: `${prefix}-one`, partitions: 2 })
      const t2 = await createTopic(conn, { prefix: `${prefix}-two`, partitions: 1 })
      const a = spawnMember(
        {
          groupId: uniqueGroup('regex'),
          topics: new RegExp(`^${prefix}-`),
          sessionTimeoutMs: 6000,
          heartbeatIntervalMs: 300,
        },
        'a',
      )
      await a.member.start()
      expect(a.owned()).toEqual([...all(t1), ...all(t2)].sort())
      const t3 = await createTopic(conn, { prefix: `${prefix}-three`, partitions: 2 })
      await until(
        'the new topic is assigned',
        async () => {
          await a.member.checkMetadata()
          return a.owned().length === 5
        },
        15_000,
      )
      expect(a.owned()).toEqual([...all(t1), ...all(t2), ...all(t3)].sort())
    })
  })

  describe('consumer protocol (KIP-848)', () => {
    /** Whether the broker runs KIP-848 groups; 3.9 lists the API but refuses it while group.version is 0. */
    let known: boolean | undefined
    const supported = () => {
      if (known !== undefined) return known
      const groupVersion = conn.finalizedFeatures.get('group.version') ?? 0
      known = conn.apiVersions.has(ConsumerGroupHeartbeat.key) && groupVersion >= 1
      if (!known) note(`consumer protocol tests skipped: group.version is ${groupVersion} (KIP-848 groups are off)`)
      return known
    }

    test('on a broker without it, protocol consumer fails start() with UnsupportedGroupProtocolError', async (ctx) => {
      if ((conn.finalizedFeatures.get('group.version') ?? 0) >= 1) return ctx.skip()
      const a = spawnMember({ groupId: uniqueGroup('unsupported'), protocol: 'consumer', topics: [topic.name] })
      await expect(a.member.start()).rejects.toMatchObject({ name: 'UnsupportedGroupProtocolError' })
    })

    test('join, the whole assignment, a second member takes half (revoke → commit → ack), leave hands it back', async (ctx) => {
      if (!supported()) return ctx.skip()
      const groupId = uniqueGroup('kip848')
      const options = { groupId, protocol: 'consumer' as const, topics: [topic.name] }
      const a = spawnMember(options, 'a')
      await a.member.start()
      await until('A holds every partition', () => a.owned().length === 6)
      expect(a.hooks('assigned').flat().sort()).toEqual(all(topic))
      const epoch = a.member.generationId
      expect(epoch).toBeGreaterThanOrEqual(1)

      // The revoked hook commits, as the consumer does, before the member acknowledges the revocation.
      a.onRevoked = (ps) => a.member.commit(ps.map((p) => ({ ...p, offset: 100 + p.partition })))

      const b = spawnMember(options, 'b')
      await b.member.start()
      await until('both members hold 3 partitions', () => a.owned().length === 3 && b.owned().length === 3, 20_000)
      expect(splitsExactly(topic, [a.owned(), b.owned()])).toBe(true)
      const moved = all(topic).filter((p) => !a.owned().includes(p))
      expect(a.hooks('revoked')).toEqual([moved])
      expect(b.hooks('assigned').flat().sort()).toEqual(moved)
      expect(a.member.generationId).toBeGreaterThan(epoch)
      const committed = await b.member.fetchCommitted(b.member.assignment())
      expect([...committed.values()].map((c) => c?.offset).sort()).toEqual(
        b.member
          .assignment()
          .map((p) => 100 + p.partition)
          .sort(),
      )

      await b.member.leave()
      expect(b.hooks('revoked').at(-1)).toEqual(moved)
      await until('A holds every partition again', () => a.owned().length === 6, 20_000)
      expect(a.hooks('lost')).toEqual([])
    })

    test('a fenced member (removed behind its back) reports its partitions lost and rejoins with epoch 0', async (ctx) => {
      if (!supported()) return ctx.skip()
      const groupId = uniqueGroup('fenced')
      const a = spawnMember({ groupId, protocol: 'consumer', topics: [topic.name] }, 'a')
      await a.member.start()
      await until('A holds every partition', () => a.owned().length === 6)
      const memberId = a.member.memberId
      // Another client makes the member leave: its next heartbeat is answered UNKNOWN_MEMBER_ID.
      const left = await conn.request(ConsumerGroupHeartbeat, { groupId, memberId, memberEpoch: -1 })
      expect(errName(left.errorCode)).toBe('NONE')
      await until('A lost its partitions', () => a.hooks('lost').length === 1, 10_000)
      expect(a.hooks('lost')).toEqual([all(topic)])
      await until('A holds every partition again', () => a.owned().length === 6, 15_000)
      expect(a.member.memberId).toBe(memberId)
      expect(a.hooks('assigned').length).toBe(2)
    })

    test('a static member leaving with epoch -2 and coming back gets its partitions again; the other is undisturbed', async (ctx) => {
      if (!supported()) return ctx.skip()
      const groupId = uniqueGroup('kip848-static')
      const options = (instance: string) => ({
        groupId,
        protocol: 'consumer' as const,
        topics: [topic.name],
        groupInstanceId: instance,
      })
      const a = spawnMember(options('instance-a'), 'a')
      await a.member.start()
      const b = spawnMember(options('instance-b'), 'b')
      await b.member.start()
      await until('both members hold 3 partitions', () => a.owned().length === 3 && b.owned().length === 3, 20_000)
      const aCalls = a.calls.length
      const bHad = b.owned()
      await b.member.leave()
      await b.cluster.close()
      const b2 = spawnMember(options('instance-b'), 'b2')
      await b2.member.start()
      await until('the restarted member holds its partitions', () => b2.owned().length === 3, 20_000)
      expect(b2.owned()).toEqual(bHad)
      await sleep(1500)
      expect(a.calls.length).toBe(aCalls)
      expect(a.owned().length).toBe(3)
    })

    test('a pattern subscription is resolved by the coordinator (subscribedTopicRegex)', async (ctx) => {
      if (!supported()) return ctx.skip()
      const prefix = `skiff-rx848-${randomBytes(3).toString('hex')}`
      const t1 = await createTopic(conn, { prefix: `${prefix}-one`, partitions: 2 })
      const t2 = await createTopic(conn, { prefix: `${prefix}-two`, partitions: 1 })
      const a = spawnMember(
        { groupId: uniqueGroup('kip848-regex'), protocol: 'consumer', topics: new RegExp(`^${prefix}-.*`) },
        'a',
      )
      await a.member.start()
      await until('both topics are assigned', () => a.owned().length === 3, 20_000)
      expect(a.owned()).toEqual([...all(t1), ...all(t2)].sort())
    })

    test('STALE_MEMBER_EPOCH on a commit is retried with the current epoch while the partitions are still ours', async (ctx) => {
      if (!supported()) return ctx.skip()
      const groupId = uniqueGroup('stale')
      const options = { groupId, protocol: 'consumer' as const, topics: [topic.name] }
      const a = spawnMember(options, 'a')
      await a.member.start()
      await until('A holds every partition', () => a.owned().length === 6)
      // Every epoch A goes through (each comes in a heartbeat answer, at least one interval apart).
      const epochs = [a.member.generationId]
      const watch = setInterval(() => {
        if (epochs.at(-1) !== a.member.generationId) epochs.push(a.member.generationId)
      }, 10)
      const b = spawnMember(options, 'b')
      await b.member.start()
      await until('both members hold 3 partitions', () => a.owned().length === 3 && b.owned().length === 3, 20_000)
      const back = b.owned()
      await b.member.leave()
      await until('A holds every partition again', () => a.owned().length === 6, 20_000)
      await sleep(1500)
      clearInterval(watch)
      // A commit for a partition A got back in its latest epoch, sent with the epoch before (as when a heartbeat
      // answer bumps the epoch while the commit is on its way): the coordinator refuses it as stale; the member
      // learns its epoch from a heartbeat and commits again.
      const impl = (a.member as unknown as { impl: { epoch: number } }).impl
      const epoch = impl.epoch
      impl.epoch = epochs.at(-2)!
      const mine = { topic: topic.name, partition: Number(back[0]!.split(':')[1]) }
      await a.member.commit([{ ...mine, offset: 33 }])
      expect(impl.epoch).toBe(epoch)
      const got = await a.member.fetchCommitted([mine])
      expect(got.get(`${mine.topic}\u0000${mine.partition}`)?.offset).toBe(33)
    })
  })

  describe('with a Java KafkaConsumer in the same classic group', () => {
    const classpath = kafkaClientsClasspath(testKafka().version)
    const classes =
      classpath && compileJava(join(import.meta.dirname, '../fixtures/group-member/JavaGroupMember.java'), classpath)

    /** A running Java consumer and the assignment it last printed. */
    function javaMember(groupId: string, strategy: string) {
      const child: ChildProcessWithoutNullStreams = spawn(
        'java',
        [
          '-cp',
          `${classpath}:${classes}`,
          'JavaGroupMember',
          testKafka().bootstrap,
          groupId,
          topic.name,
          strategy,
          'java-member',
        ],
        { stdio: 'pipe' },
      )
      const state = { assignment: null as string[] | null, lines: [] as string[], closed: false }
      let buf = ''
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString()
        let i: number
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i).trim()
          buf = buf.slice(i + 1)
          state.lines.push(line)
          if (line.startsWith('assignment ')) {
            const v = line.slice('assignment '.length)
            state.assignment = v === '-' ? [] : v.split(',')
          }
          if (line === 'closed') state.closed = true
        }
      })
      child.stderr.resume()
      const stop = async () => {
        child.stdin.end()
        await until('the Java consumer closed', () => state.closed || child.exitCode !== null, 20_000).catch(() =>
          child.kill(),
        )
      }
      return { state, stop }
    }

    test('a Java leader (range) and a Skiff member share the partitions with no overlap and no gap', async (ctx) => {
      if (!classes) {
        note('java/javac or the kafka-clients jar missing: Java interop not tested')
        return ctx.skip()
      }
      const groupId = uniqueGroup('java-range')
      const java = javaMember(groupId, 'range')
      try {
        await until('the Java consumer holds every partition', () => java.state.assignment?.length === 6, 30_000)
        const a = spawnMember(
          { groupId, topics: [topic.name], assignors: ['range'], sessionTimeoutMs: 10_000, heartbeatIntervalMs: 500 },
          'with-java',
        )
        await a.member.start()
        await until(
          'Java and Skiff split the partitions',
          () => a.owned().length === 3 && java.state.assignment?.length === 3,
          30_000,
        )
        expect(splitsExactly(topic, [a.owned(), java.state.assignment!])).toBe(true)
        await a.member.leave()
        await until('the Java consumer holds every partition again', () => java.state.assignment?.length === 6, 30_000)
      } finally {
        await java.stop()
      }
    })

    test('a Skiff leader (cooperative-sticky) assigns to a Java member, which follows both cooperative rounds', async (ctx) => {
      if (!classes) return ctx.skip()
      const groupId = uniqueGroup('java-coop')
      const a = spawnMember(
        {
          groupId,
          topics: [topic.name],
          assignors: ['cooperative-sticky'],
          sessionTimeoutMs: 10_000,
          heartbeatIntervalMs: 500,
        },
        'leader',
      )
      await a.member.start()
      expect(a.owned()).toEqual(all(topic))
      const java = javaMember(groupId, 'cooperative-sticky')
      try {
        await until(
          'Skiff and Java split the partitions',
          () => a.owned().length === 3 && java.state.assignment?.length === 3,
          30_000,
        )
        expect(splitsExactly(topic, [a.owned(), java.state.assignment!])).toBe(true)
        // Cooperative on both sides: Skiff revoked only what moved, and Java never had anything revoked.
        expect(a.hooks('revoked')).toEqual([all(topic).filter((p) => !a.owned().includes(p))])
        expect(java.state.lines.filter((l) => l.startsWith('revoked') || l.startsWith('lost'))).toEqual([])
      } finally {
        await java.stop()
      }
      await until('Skiff holds every partition again', () => a.owned().length === 6, 30_000)
    })
  })
})
