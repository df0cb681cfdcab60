import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'

const SOURCE = join(import.meta.dirname, '..', 'fixtures', 'group-member', 'JavaAssignors.java')

/** One assignment problem, as a Java leader would see it after JoinGroup. */
export interface AssignorScenario {
  id: string
  assignor: 'range' | 'roundrobin' | 'cooperative-sticky'
  /** Topics that exist, with the racks of each partition's replicas ([] when none has a rack). */
  topics: Array<{ name: string; racks: string[][] }>
  /** Members in JoinGroup response order. */
  members: Array<{
    memberId: string
    groupInstanceId: string | null
    rackId: string | null
    generationId: number
    userData: string | null
    topics: string[]
    owned: Array<[string, number]>
  }>
}

/** Member id → its partitions as `topic:partition`, in the order the assignor listed them. */
export type ScenarioResult = Record<string, string[]> | { error: string }

/** The kafka-clients classpath of the broker cache the jvm provider fills, or null when it is missing. */
export function kafkaClientsClasspath(version: string): string | null {
  const cache =
    process.env.SKIFF_KAFKA_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'skiff', 'kafka')
  const lib = join(cache, version, 'lib')
  if (!existsSync(lib)) return null
  const files = readdirSync(lib)
  const jars = ['kafka-clients-', 'slf4j-api-'].map((prefix) =>
    files.find((f) => f.startsWith(prefix) && f.endsWith('.jar')),
  )
  if (jars.includes(undefined)) return null
  return jars.map((j) => join(lib, j!)).join(':')
}

/** Compiles a Java source of test/fixtures/group-member once per source and classpath; null without javac. */
export function compileJava(source: string, classpath: string): string | null {
  const key = createHash('sha256').update(readFileSync(source)).update(classpath).digest('hex').slice(0, 16)
  const classes = join(tmpdir(), `skiff-java-group-${key}`)
  try {
    if (!existsSync(classes)) {
      const building = mkdtempSync(`${classes}-`)
      execFileSync('javac', ['-nowarn', '-cp', classpath, '-d', building, source], { stdio: 'pipe' })
      try {
        renameSync(building, classes)
      } catch {
        rmSync(building, { recursive: true, force: true })
      }
    }
  } catch {
    return null
  }
  return classes
}

/**
 * Runs Kafka's RangeAssignor / RoundRobinAssignor / CooperativeStickyAssignor of kafka-clients `version` on the
 * scenarios (test/fixtures/group-member/JavaAssignors.java). Null when java, javac or the jars are missing.
 */
export function javaAssignors(
  version: string,
): ((scenarios: AssignorScenario[]) => Map<string, ScenarioResult>) | null {
  const classpath = kafkaClientsClasspath(version)
  if (!classpath) return null
  const classes = compileJava(SOURCE, classpath)
  if (!classes) return null
  return (scenarios) => {
    const input = scenarios.map(encodeScenario).join('')
    const out = execFileSync('java', ['-cp', `${classpath}:${classes}`, 'JavaAssignors'], {
      input,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'ignore'],
      maxBuffer: 256 * 1024 * 1024,
      timeout: 120_000,
    })
    const results = new Map<string, ScenarioResult>()
    let id = ''
    let current: Record<string, string[]> | { error: string } = {}
    for (const line of out.split('\n')) {
      const [head, ...rest] = line.split(' ')
      if (head === 'scenario') {
        id = rest[0]!
        current = {}
      } else if (head === 'end') results.set(id, current)
      else if (head === 'error') current = { error: rest.join(' ') }
      else if (head && !('error' in current)) current[head] = rest[0] === '-' ? [] : rest[0]!.split(',')
    }
    return results
  }
}

function encodeScenario(s: AssignorScenario): string {
  const lines = [`scenario ${s.id}`, `assignor ${s.assignor}`]
  for (const t of s.topics)
    lines.push(`topic ${t.name} ${t.racks.map((r) => (r.length ? r.join(',') : '-')).join('|')}`)
  for (const m of s.members) {
    lines.push(
      [
        'member',
        m.memberId,
        m.groupInstanceId ?? '-',
        m.rackId ?? '-',
        m.generationId,
        m.userData ?? '-',
        m.topics.length ? m.topics.join(',') : '-',
        m.owned.length ? m.owned.map(([t, p]) => `${t}:${p}`).join(',') : '-',
      ].join(' '),
    )
  }
  lines.push('end')
  return `${lines.join('\n')}\n`
}

/** A small seeded PRNG (mulberry32), so generated scenarios are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Random but plausible scenarios: groups of 1-9 members (ids shaped like Java's `consumer-<group>-<n>-<uuid>` or
 * short names), 1-4 topics of 1-16 partitions, identical or differing subscriptions, owned partitions from a
 * previous round (some claimed twice, in the same or different generations), generations in the subscription or
 * in user data (v0/v1 subscriptions), static members, and racks on some members and replicas.
 */
export function randomScenarios(
  count: number,
  seed: number,
  assignor: AssignorScenario['assignor'],
  scale: { members: number; partitions: number } = { members: 9, partitions: 16 },
): AssignorScenario[] {
  const rnd = prng(seed)
  const int = (n: number) => Math.floor(rnd() * n)
  const pick = <T>(xs: readonly T[]) => xs[int(xs.length)]!
  const hex = (n: number) => Array.from({ length: n }, () => int(16).toString(16)).join('')
  const out: AssignorScenario[] = []
  for (let i = 0; i < count; i++) {
    const racked = rnd() < 0.25
    const racks = ['a', 'b', 'c'].slice(0, 2 + int(2))
    const topics = Array.from({ length: 1 + int(4) }, (_, t) => ({
      name: `t${t}${rnd() < 0.3 ? `-${hex(3)}` : ''}`,
      racks: Array.from({ length: 1 + int(scale.partitions) }, () =>
        racked ? racks.filter(() => rnd() < 0.5).slice(0, 2) : ([] as string[]),
      ),
    }))
    const names = topics.map((t) => t.name)
    const equal = rnd() < 0.6
    const generation = 1 + int(20)
    const style = int(3)
    const members: AssignorScenario['members'] = Array.from({ length: 1 + int(scale.members) }, (_, m) => {
      const memberId =
        style === 0
          ? `consumer-g-${m + 1}-${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`
          : style === 1
            ? `m${hex(2)}${m}`
            : `C${m}`
      const subscribed = equal ? names : names.filter(() => rnd() < 0.6)
      const useUserData = rnd() < 0.15
      const gen = rnd() < 0.15 ? -1 : rnd() < 0.2 ? generation - 1 : generation
      return {
        memberId,
        groupInstanceId: rnd() < 0.2 ? `i${hex(2)}${m}` : null,
        rackId: racked && rnd() < 0.8 ? pick(racks) : null,
        generationId: useUserData ? -1 : gen,
        userData: useUserData
          ? (gen >>> 0).toString(16).padStart(8, '0')
          : assignor === 'cooperative-sticky' && rnd() < 0.5
            ? 'ffffffff'
            : null,
        topics: subscribed.length === 0 && rnd() < 0.7 ? [names[0]!] : subscribed,
        owned: [] as Array<[string, number]>,
      }
    })
    // A previous round: each partition owned by nobody, one member, or (rarely) two.
    if (rnd() < 0.8) {
      for (const t of topics) {
        for (let p = 0; p < t.racks.length; p++) {
          const r = rnd()
          if (r < 0.15) continue
          const subs = members.filter((m) => m.topics.includes(t.name) || rnd() < 0.05)
          if (subs.length === 0) continue
          pick(subs).owned.push([t.name, p])
          if (r > 0.97) pick(members).owned.push([t.name, p])
        }
      }
      // Members listed their owned partitions grouped by topic (ConsumerProtocolSubscription.ownedPartitions).
      for (const m of members) m.owned.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]))
    }
    // Ids must be unique in a group.
    const seen = new Set<string>()
    for (const m of members) {
      while (seen.has(m.memberId)) m.memberId += 'x'
      seen.add(m.memberId)
    }
    const instances = new Set<string>()
    for (const m of members) {
      if (m.groupInstanceId === null) continue
      while (instances.has(m.groupInstanceId)) m.groupInstanceId += 'y'
      instances.add(m.groupInstanceId)
    }
    out.push({ id: `${assignor}-${seed}-${i}`, assignor, topics, members })
  }
  return out
}

/** The scenario as Skiff's assignors take it: members in JoinGroup order, and the topics that exist. */
export function scenarioInput(s: AssignorScenario) {
  const members = s.members.map((m) => ({
    memberId: m.memberId,
    groupInstanceId: m.groupInstanceId,
    rackId: m.rackId,
    generationId: m.generationId,
    userData: m.userData === null ? null : Buffer.from(m.userData, 'hex'),
    topics: m.topics,
    ownedPartitions: m.owned.map(([topic, partition]) => ({ topic, partition })),
  }))
  const topics = new Map(
    s.topics.map((t) => [
      t.name,
      { name: t.name, partitions: t.racks.map((replicaRacks, partition) => ({ partition, replicaRacks })) },
    ]),
  )
  return { members, topics }
}

type Member = AssignorScenario['members'][number]

function member(memberId: string, topics: string[], extra: Partial<Member> = {}): Member {
  return {
    memberId,
    groupInstanceId: null,
    rackId: null,
    generationId: -1,
    userData: null,
    topics,
    owned: [],
    ...extra,
  }
}

function topic(name: string, partitions: number): AssignorScenario['topics'][number] {
  return { name, racks: Array.from({ length: partitions }, () => []) }
}

/** The examples of Kafka's RangeAssignor, RoundRobinAssignor and StickyAssignor Javadoc, and KIP-429's. */
export function documentedScenarios(): AssignorScenario[] {
  const t01 = [topic('t0', 3), topic('t1', 3)]
  const four = ['t0', 't1', 't2', 't3']
  const example1 = four.map((t) => topic(t, 2))
  const differing = [topic('t0', 1), topic('t1', 2), topic('t2', 3)]
  return [
    // RangeAssignor: C0 [t0p0, t0p1, t1p0, t1p1], C1 [t0p2, t1p2].
    {
      id: 'range-javadoc',
      assignor: 'range',
      topics: t01,
      members: [member('C0', ['t0', 't1']), member('C1', ['t0', 't1'])],
    },
    // Static members sort by instance id, whatever their member ids: I0 gets the larger ranges.
    {
      id: 'range-static',
      assignor: 'range',
      topics: t01,
      members: [
        member('C3', ['t0', 't1'], { groupInstanceId: 'I1' }),
        member('C2', ['t0', 't1'], { groupInstanceId: 'I0' }),
      ],
    },
    // RoundRobinAssignor: C0 [t0p0, t0p2, t1p1], C1 [t0p1, t1p0, t1p2].
    {
      id: 'roundrobin-javadoc',
      assignor: 'roundrobin',
      topics: t01,
      members: [member('C0', ['t0', 't1']), member('C1', ['t0', 't1'])],
    },
    // RoundRobinAssignor, differing subscriptions: C0 [t0p0], C1 [t1p0], C2 [t1p1, t2p0, t2p1, t2p2].
    {
      id: 'roundrobin-javadoc-differing',
      assignor: 'roundrobin',
      topics: differing,
      members: [member('C0', ['t0']), member('C1', ['t0', 't1']), member('C2', ['t0', 't1', 't2'])],
    },
    // StickyAssignor example 1, from scratch: balanced 3/3/2.
    {
      id: 'sticky-javadoc-1',
      assignor: 'cooperative-sticky',
      topics: example1,
      members: ['C0', 'C1', 'C2'].map((c) => member(c, four)),
    },
    // Example 1 after C1 leaves: C0 and C2 keep everything they had and split C1's partitions.
    {
      id: 'sticky-javadoc-1-c1-leaves',
      assignor: 'cooperative-sticky',
      topics: example1,
      members: [
        member('C0', four, {
          generationId: 1,
          owned: [
            ['t0', 0],
            ['t1', 1],
            ['t3', 0],
          ],
        }),
        member('C2', four, {
          generationId: 1,
          owned: [
            ['t1', 0],
            ['t2', 1],
          ],
        }),
      ],
    },
    // StickyAssignor example 2: C0 [t0p0], C1 [t1p0, t1p1], C2 [t2p0, t2p1, t2p2].
    {
      id: 'sticky-javadoc-2',
      assignor: 'cooperative-sticky',
      topics: differing,
      members: [member('C0', ['t0']), member('C1', ['t0', 't1']), member('C2', ['t0', 't1', 't2'])],
    },
    // Example 2 after C0 leaves: C1 [t1p0, t1p1, t0p0], C2 [t2p0, t2p1, t2p2].
    {
      id: 'sticky-javadoc-2-c0-leaves',
      assignor: 'cooperative-sticky',
      topics: differing,
      members: [
        member('C1', ['t0', 't1'], {
          generationId: 1,
          owned: [
            ['t1', 0],
            ['t1', 1],
          ],
        }),
        member('C2', ['t0', 't1', 't2'], {
          generationId: 1,
          owned: [
            ['t2', 0],
            ['t2', 1],
            ['t2', 2],
          ],
        }),
      ],
    },
    // KIP-429: a member joins a group of one that owns all 6 partitions. The owner keeps 3; the other 3 are left
    // out (to be revoked first), so the newcomer gets nothing yet.
    {
      id: 'cooperative-join-first-round',
      assignor: 'cooperative-sticky',
      topics: [topic('t', 6)],
      members: [
        member('A', ['t'], { generationId: 1, owned: [0, 1, 2, 3, 4, 5].map((p) => ['t', p] as [string, number]) }),
        member('B', ['t']),
      ],
    },
    // ... and after the owner revoked them and rejoined: the newcomer gets the 3 freed partitions.
    {
      id: 'cooperative-join-second-round',
      assignor: 'cooperative-sticky',
      topics: [topic('t', 6)],
      members: [
        member('A', ['t'], { generationId: 2, owned: [0, 1, 2].map((p) => ['t', p] as [string, number]) }),
        member('B', ['t'], { generationId: 2 }),
      ],
    },
    // Two members claim a partition in the same generation: neither keeps it.
    {
      id: 'cooperative-double-claim',
      assignor: 'cooperative-sticky',
      topics: [topic('t', 4)],
      members: [
        member('A', ['t'], {
          generationId: 3,
          owned: [
            ['t', 0],
            ['t', 1],
          ],
        }),
        member('B', ['t'], {
          generationId: 3,
          owned: [
            ['t', 1],
            ['t', 2],
            ['t', 3],
          ],
        }),
      ],
    },
    // Racks (KIP-881): two racks, each partition on one of them; members get partitions on their own rack.
    {
      id: 'range-racks',
      assignor: 'range',
      topics: [{ name: 't', racks: [['a'], ['b'], ['a'], ['b']] }],
      members: [member('C0', ['t'], { rackId: 'b' }), member('C1', ['t'], { rackId: 'a' })],
    },
    {
      id: 'sticky-racks',
      assignor: 'cooperative-sticky',
      topics: [{ name: 't', racks: [['a'], ['b'], ['a'], ['b']] }],
      members: [member('C0', ['t'], { rackId: 'b' }), member('C1', ['t'], { rackId: 'a' })],
    },
  ]
}
