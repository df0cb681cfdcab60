import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Admin } from '../../src/client/admin/admin.js'
import { Producer } from '../../src/client/producer/index.js'
import type { GroupConsumerArgs } from '../helpers/group-consumer.js'
import { testKafka, uniqueTopic } from '../helpers/kafka.js'
import { kcatAvailable, kcatProduce } from '../helpers/kcat.js'

/**
 * Issue 6's delivery test. 1M small records (800k by Skiff's producer, 200k by kcat) on 12 partitions are read by a
 * group of Skiff consumers, each a child process (test/helpers/group-consumer.ts) that reports every record it hands
 * to its application, every commit and every assignment change. Three members start; a fourth joins at 15% of the
 * records, one leaves gracefully (SIGTERM → close()) at 35%, one is killed with SIGKILL at 55%; the run ends when the
 * group's committed offsets reach the end offsets. Then: every offset of every partition was delivered, carrying the
 * id it was produced with; and every duplicate lies in the uncommitted window of an owner that lost the partition
 * (what it delivered after its last commit), which the reports let us compute per partition and owner. Once with the
 * classic protocol (cooperative-sticky), once with KIP-848 (Kafka 4.x).
 */
const PARTITIONS = 12
const BY_SKIFF = 800_000
const BY_KCAT = 200_000
const TOTAL = BY_SKIFF + BY_KCAT
/** Records per second one member processes at most: slow enough that joins, leaves and the kill land mid-stream. */
const RATE_PER_MEMBER = 9_000
const AUTO_COMMIT_MS = 1_000
const CLASSIC_SESSION_MS = 6_000
const KIP848_SESSION_MS = 6_000
/** The classic run's assignor: cooperative-sticky (KIP-429 incremental rebalances); `range` runs the eager protocol. */
const CLASSIC_ASSIGNOR = (process.env.SKIFF_GROUP_CLASSIC_ASSIGNOR ?? 'cooperative-sticky') as
  | 'cooperative-sticky'
  | 'range'
  | 'roundrobin'

/** A ~100-byte value carrying a unique id that the consumers report back. */
const recordValue = (id: number) => `id=${id};${'v'.repeat(88)}`

/** One member's ownership of one partition, from its 'assigned' to its 'revoked' / 'lost' / death. */
interface Session {
  member: string
  partition: number
  /** First and last offset delivered (-1: none). Deliveries within a session must be contiguous. */
  first: number
  last: number
  /** The highest offset this member committed for the partition in this session (-1: none). */
  committed: number
  /** A commit of this partition was refused during the session (a rebalance under way): its window may be wider. */
  refused: boolean
  end: 'open' | 'revoked' | 'lost' | 'killed'
}

interface Member {
  name: string
  child: ChildProcess
  owned: Map<number, Session>
  /** The member's last session per partition, open or ended (late commit reports are checked against it). */
  latest: Map<number, Session>
  closed: Promise<number | null>
  clean: boolean
  killed: boolean
}

/** Everything the members reported, checked as it arrives (anomalies) and accounted at the end. */
class Ledger {
  readonly sessions: Session[] = []
  readonly anomalies: string[] = []
  readonly errors: string[] = []
  /** Deliveries per partition and offset, and the id each offset carried. */
  readonly counts: Uint8Array[]
  readonly ids: Int32Array[]
  delivered = 0
  constructor(readonly ends: number[]) {
    this.counts = ends.map((n) => new Uint8Array(n))
    this.ids = ends.map((n) => new Int32Array(n).fill(-1))
  }

  line(m: Member, line: string): void {
    const kind = line[0]
    const rest = line.slice(2)
    const list = () => (rest ? rest.split(',').map(Number) : [])
    switch (kind) {
      case 'D': {
        const [p, o, id] = rest.split(' ').map(Number) as [number, number, number]
        this.delivered++
        if (this.counts[p]![o]! < 255) this.counts[p]![o]!++
        const ids = this.ids[p]!
        if (ids[o] === -1) ids[o] = id
        else if (ids[o] !== id) this.anomaly(`${m.name}: offset ${p}:${o} carried id ${id}, earlier ${ids[o]}`)
        const s = m.owned.get(p)
        if (!s) {
          this.anomaly(`${m.name}: delivered ${p}:${o} without owning partition ${p}`)
          return
        }
        if (s.last >= 0 && o !== s.last + 1) this.anomaly(`${m.name}: delivered ${p}:${o} after ${p}:${s.last}`)
        if (s.first < 0) s.first = o
        s.last = o
        return
      }
      case 'C':
        for (const item of rest.split(',')) {
          const [p, o] = item.split(':').map(Number) as [number, number]
          const s = m.owned.get(p)
          if (s) {
            if (o < s.committed) this.anomaly(`${m.name}: commit of ${p}:${o} went back from ${s.committed}`)
            if (s.last >= 0 && o > s.last + 1) this.anomaly(`${m.name}: committed ${p}:${o} past delivered ${s.last}`)
            s.committed = Math.max(s.committed, o)
            continue
          }
          // A commit in flight while the partition was revoked is reported after the revocation; it may carry
          // nothing newer than what the revocation committed.
          const prev = m.latest.get(p)
          if (!prev || o > prev.committed) this.anomaly(`${m.name}: committed ${p}:${o} without owning partition ${p}`)
        }
        return
      case 'A':
        for (const p of list()) {
          if (m.owned.has(p)) this.anomaly(`${m.name}: assigned partition ${p} it already owns`)
          const s: Session = {
            member: m.name,
            partition: p,
            first: -1,
            last: -1,
            committed: -1,
            refused: false,
            end: 'open',
          }
          this.sessions.push(s)
          m.owned.set(p, s)
          m.latest.set(p, s)
        }
        return
      case 'R':
      case 'L':
        for (const p of list()) {
          const s = m.owned.get(p)
          if (!s) {
            this.anomaly(`${m.name}: ${kind === 'R' ? 'revoked' : 'lost'} partition ${p} it did not own`)
            continue
          }
          s.end = kind === 'R' ? 'revoked' : 'lost'
          m.owned.delete(p)
        }
        return
      case 'F':
        for (const p of list()) {
          const s = m.owned.get(p) ?? m.latest.get(p)
          if (s) s.refused = true
        }
        return
      case 'E':
        this.errors.push(`${m.name}: ${rest}`)
        return
      case 'X':
        m.clean = true
        return
      default:
        this.anomaly(`${m.name}: unexpected line ${line.slice(0, 200)}`)
    }
  }

  died(m: Member): void {
    for (const s of m.owned.values()) s.end = 'killed'
    m.owned.clear()
  }

  private anomaly(text: string): void {
    if (this.anomalies.length < 50) this.anomalies.push(text)
    else if (this.anomalies.length === 50) this.anomalies.push('…')
  }

  /**
   * The accounting: every offset delivered, with the id it was produced with; and a record is delivered again only
   * from the uncommitted window of an earlier owner — at most one session per offset committed past it.
   */
  account() {
    const missing: string[] = []
    let unique = 0
    const seenIds = new Uint8Array(TOTAL)
    let badIds = 0
    for (let p = 0; p < this.ends.length; p++) {
      const counts = this.counts[p]!
      for (let o = 0; o < counts.length; o++) {
        if (counts[o] === 0) {
          if (missing.length < 20) missing.push(`${p}:${o}`)
          continue
        }
        unique++
        const id = this.ids[p]![o]!
        if (id >= 0 && id < TOTAL && seenIds[id] === 0) seenIds[id] = 1
        else badIds++
      }
    }
    // Per partition, the committed parts of the sessions ([first, committed)) must not overlap: an offset that
    // one owner committed is never handed to another. Everything else delivered twice was in a window.
    const overlaps: string[] = []
    const windows = { revoked: 0, lost: 0, killed: 0, open: 0 }
    /** Graceful revocations whose commits all went through: at most the record the application was on. */
    let revokedCommitted = 0
    const windowTotal = { revoked: 0, lost: 0, killed: 0, open: 0 }
    for (let p = 0; p < this.ends.length; p++) {
      const committedParts = this.sessions
        .filter((s) => s.partition === p && s.first >= 0 && s.committed > s.first)
        .map((s) => ({ s, from: s.first, to: Math.min(s.committed, s.last + 1) }))
        .sort((a, b) => a.from - b.from)
      for (let i = 1; i < committedParts.length; i++) {
        const a = committedParts[i - 1]!
        const b = committedParts[i]!
        if (b.from < a.to)
          overlaps.push(
            `partition ${p}: ${a.s.member} committed [${a.from},${a.to}), ${b.s.member} [${b.from},${b.to})`,
          )
      }
    }
    for (const s of this.sessions) {
      if (s.first < 0) continue
      const w = s.last + 1 - Math.max(s.first, s.committed)
      windows[s.end] = Math.max(windows[s.end], w)
      windowTotal[s.end] += w
      if (s.end === 'revoked' && !s.refused) revokedCommitted = Math.max(revokedCommitted, w)
    }
    return {
      unique,
      duplicates: this.delivered - unique,
      missing,
      badIds,
      overlaps,
      windows,
      windowTotal,
      revokedCommitted,
      maxWindow: Math.max(windows.revoked, windows.lost, windows.killed),
    }
  }
}

describe.skipIf(!kcatAvailable())(
  `1M records through a group of Skiff consumers that grows, shrinks and loses a member to kill -9 (Kafka ${testKafka().version})`,
  () => {
    const bootstrap = testKafka().bootstrap
    const topic = uniqueTopic('group-delivery')
    let admin: Admin
    let ends: number[] = []

    beforeAll(async () => {
      admin = new Admin({ bootstrap })
      const [created] = await admin.createTopics([{ name: topic, partitions: PARTITIONS, replicationFactor: 1 }])
      expect(created!.error).toBeUndefined()

      // 800k records by Skiff's producer (lz4, keyed: murmur2 spreads them), 200k by kcat (snappy, no key:
      // librdkafka's random partitioner), so the consumers read batches written by another client too.
      const t0 = Date.now()
      const producer = new Producer({ bootstrap, clientId: 'skiff-group-delivery', compression: 'lz4', lingerMs: 5 })
      let failed = 0
      const onDelivery = (err: Error | null) => {
        if (err) failed++
      }
      for (let i = 0; i < BY_SKIFF; i++) {
        if (!producer.produce({ topic, key: `k${i}`, value: recordValue(i) }, onDelivery))
          await new Promise((r) => producer.once('drain', r))
      }
      await producer.flush()
      await producer.close()
      expect(failed).toBe(0)
      const skiffMs = Date.now() - t0
      const t1 = Date.now()
      kcatProduce(
        bootstrap,
        topic,
        Array.from({ length: BY_KCAT }, (_, i) => recordValue(BY_SKIFF + i)),
        ['-z', 'snappy', '-X', 'linger.ms=5'],
      )
      const kcatMs = Date.now() - t1
      const listed = await admin.listOffsets(
        Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, spec: 'latest' as const })),
      )
      ends = listed.map((l) => {
        if (l.error) throw l.error
        return Number(l.offset)
      })
      process.stderr.write(
        `[skiff] produced ${BY_SKIFF} records with Skiff in ${skiffMs} ms and ${BY_KCAT} with kcat in ${kcatMs} ms; ` +
          `end offsets ${ends.join(' ')}\n`,
      )
      expect(ends.reduce((a, b) => a + b, 0)).toBe(TOTAL)
    })
    afterAll(async () => {
      // 100 MB of records the rest of the heavy suite does not need.
      await admin?.deleteTopics([topic]).catch(() => {})
      await admin?.close()
    })

    async function committedOffsets(groupId: string): Promise<number[]> {
      const got = new Array<number>(PARTITIONS).fill(-1)
      for (const o of await admin.listGroupOffsets(groupId, { topics: [topic] })) {
        if (!o.error && o.topic === topic) got[o.partition] = Number(o.offset)
      }
      return got
    }

    async function run(protocol: 'classic' | 'consumer') {
      const groupId = uniqueTopic(`group-delivery-${protocol}`)
      if (protocol === 'consumer') {
        // KIP-848 groups take their session timeout from the group's config (the broker default here is 10 s).
        const [set] = await admin.incrementalAlterConfigs([
          {
            type: 'group',
            name: groupId,
            ops: [{ key: 'consumer.session.timeout.ms', op: 'set', value: String(KIP848_SESSION_MS) }],
          },
        ])
        expect(set!.error).toBeUndefined()
      }
      const ledger = new Ledger(ends)
      const members: Member[] = []
      const t0 = Date.now()
      let killedAt = 0
      let reassignedAt = 0
      const at = (label: string) =>
        process.stderr.write(
          `[skiff] ${protocol}: ${label} at ${((Date.now() - t0) / 1000).toFixed(1)} s, ${ledger.delivered} delivered\n`,
        )
      const start = (name: string) => {
        const args: GroupConsumerArgs = {
          bootstrap,
          topic,
          groupId,
          groupProtocol: protocol,
          clientId: name,
          ratePerSec: RATE_PER_MEMBER,
          autoCommitIntervalMs: AUTO_COMMIT_MS,
          ...(protocol === 'classic'
            ? {
                sessionTimeoutMs: CLASSIC_SESSION_MS,
                heartbeatIntervalMs: 1_000,
                assignors: [CLASSIC_ASSIGNOR],
              }
            : {}),
        }
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', join(import.meta.dirname, '../helpers/group-consumer.ts'), JSON.stringify(args)],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        )
        const m: Member = {
          name,
          child,
          owned: new Map(),
          latest: new Map(),
          clean: false,
          killed: false,
          closed: new Promise((resolve) => child.on('close', (code) => resolve(code))),
        }
        createInterface({ input: child.stdout! }).on('line', (line) => {
          // SKIFF_GROUP_TRACE=1 prints what the members report besides deliveries.
          if (process.env.SKIFF_GROUP_TRACE && line[0] !== 'D') process.stderr.write(`[${name}] ${line}\n`)
          if (line[0] === 'A' && killedAt > 0 && reassignedAt === 0) reassignedAt = Date.now()
          ledger.line(m, line)
        })
        child.stderr!.on('data', (d: Buffer) => process.stderr.write(`[${name}] ${d}`))
        void m.closed.then(() => ledger.died(m))
        members.push(m)
        at(`started ${name}`)
        return m
      }
      const untilDelivered = async (n: number) => {
        const deadline = Date.now() + 120_000
        while (ledger.delivered < n) {
          if (Date.now() > deadline) throw new Error(`stuck at ${ledger.delivered} records delivered, waiting for ${n}`)
          await sleep(50)
        }
      }

      try {
        const [, b, c] = [start('m1'), start('m2'), start('m3')]
        await untilDelivered(TOTAL * 0.15)
        start('m4')
        await untilDelivered(TOTAL * 0.35)
        at('SIGTERM m2 (leaves)')
        b.child.kill('SIGTERM')
        await untilDelivered(TOTAL * 0.55)
        at('SIGKILL m3')
        c.killed = true
        killedAt = Date.now()
        c.child.kill('SIGKILL')
        await c.closed
        const killedOwned = [...c.latest.values()].filter((s) => s.end === 'killed').length

        // The group is done when its committed offsets reach the end of every partition.
        for (;;) {
          const committed = await committedOffsets(groupId)
          if (committed.every((o, p) => o === ends[p])) break
          if (Date.now() - t0 > 180_000)
            throw new Error(`group ${groupId} stuck at committed ${committed.join(' ')} / ends ${ends.join(' ')}`)
          await sleep(250)
        }
        at('committed offsets reached the end offsets')
        const done = Date.now() - t0
        for (const m of members) if (m.child.exitCode === null && !m.killed) m.child.kill('SIGTERM')
        const codes = await Promise.all(members.map((m) => m.closed))
        const acct = ledger.account()
        const report = {
          protocol,
          produced: TOTAL,
          delivered: ledger.delivered,
          unique: acct.unique,
          duplicates: acct.duplicates,
          maxWindow: acct.maxWindow,
          windows: acct.windows,
          windowTotal: acct.windowTotal,
          sessions: ledger.sessions.length,
          seconds: done / 1000,
          reassignedAfterKillSeconds: reassignedAt > 0 ? (reassignedAt - killedAt) / 1000 : null,
        }
        process.stderr.write(`[skiff] ${protocol}: ${JSON.stringify(report)}\n`)
        for (const e of ledger.errors.slice(0, 20)) process.stderr.write(`[skiff] ${protocol} error: ${e}\n`)

        expect(ledger.anomalies).toEqual([])
        expect(acct.missing).toEqual([])
        expect(acct.badIds).toBe(0)
        expect(acct.unique).toBe(TOTAL)
        expect(acct.overlaps).toEqual([])
        // Every duplicate lies in the uncommitted window of an owner that lost the partition (no two owners
        // committed past the same offset). A graceful revocation whose commit went through leaves at most the record
        // the application was on.
        expect(acct.duplicates).toBeLessThanOrEqual(
          acct.windowTotal.revoked + acct.windowTotal.lost + acct.windowTotal.killed,
        )
        expect(acct.windows.open).toBe(0)
        expect(acct.revokedCommitted).toBeLessThanOrEqual(1)
        // The killed member's window: what it delivered since its last auto-commit — an interval's worth at its
        // rate, two when the last commit before the kill was refused during a rebalance; three leave room for slow
        // commits.
        expect(killedOwned).toBeGreaterThan(0)
        expect(acct.windowTotal.killed).toBeGreaterThan(0)
        expect(acct.windowTotal.killed).toBeLessThanOrEqual((3 * RATE_PER_MEMBER * AUTO_COMMIT_MS) / 1000)
        // The member added mid-stream took part.
        expect(ledger.sessions.some((s) => s.member === 'm4' && s.first >= 0)).toBe(true)
        // Members that were not killed closed cleanly.
        for (const [i, m] of members.entries())
          if (!m.killed) expect([m.name, codes[i], m.clean]).toEqual([m.name, 0, true])
        expect(await committedOffsets(groupId)).toEqual(ends)
        return report
      } finally {
        for (const m of members) if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL')
      }
    }

    test(`classic protocol (${CLASSIC_ASSIGNOR}): every record delivered, duplicates only from uncommitted windows`, async () => {
      await run('classic')
    })

    test.skipIf(Number(testKafka().version.split('.')[0]) < 4)(
      'consumer protocol (KIP-848): every record delivered, duplicates only from uncommitted windows',
      async () => {
        await run('consumer')
      },
    )
  },
)
