import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Connection } from '../../src/client/connection.js'
import { Producer } from '../../src/index.js'
import { runSkiff, spawnSkiff } from '../helpers/cli.js'
import { fetchBatches } from '../helpers/fetch.js'
import { connectTestBroker, testKafka } from '../helpers/kafka.js'
import { createTopic, groupCoordinatorReady } from '../helpers/protocol.js'

/** What `skiff fetch` reads and how it prints it: positions, stops, formats, encodings, groups, --follow, limits. */
const bootstrap = testKafka().bootstrap
const b = ['-b', bootstrap]
const BASE = Date.parse('2024-05-01T12:00:00Z')

interface Printed {
  topic: string
  partition: number
  offset: number
  timestamp: number
  key?: string | null
  value?: unknown
  headers: Array<{ key: string; value: string | null }>
}

let conn: Connection
let producer: Producer
beforeAll(async () => {
  conn = await connectTestBroker()
  producer = new Producer({ bootstrap, lingerMs: 5 })
})
afterAll(async () => {
  await producer?.close()
  await conn?.close()
})

/** Runs `skiff fetch -t topic ...args`, expecting success, nothing on stderr and, if given, that many lines. */
async function fetchOk(topic: string, args: string[], lines?: number) {
  const r = await runSkiff(['fetch', ...b, '-t', topic, ...args])
  expect(r.err, args.join(' ')).toBe('')
  expect(r.code, args.join(' ')).toBe(0)
  if (lines !== undefined) expect(r.lines, args.join(' ')).toHaveLength(lines)
  return r
}

/** `partition:offset` of every JSON line, sorted (partitions are read in parallel, so they interleave). */
async function positions(topic: string, args: string[]): Promise<string[]> {
  const r = await fetchOk(topic, args)
  return r.lines
    .map((l) => JSON.parse(l) as Printed)
    .sort((x, y) => x.partition - y.partition || x.offset - y.offset)
    .map((p) => `${p.partition}:${p.offset}`)
}

const range = (partition: number, from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `${partition}:${from + i}`)

describe(`skiff fetch positions, stops, formats and encodings (Kafka ${testKafka().version})`, () => {
  /** Partition 0: offsets 0..9 at BASE + i s; partition 1: offsets 0..5 at BASE + i s + 500 ms. */
  let topic: string
  beforeAll(async () => {
    topic = (await createTopic(conn, { prefix: 'cli-positions', partitions: 2 })).name
    await producer.send({
      topic,
      messages: [
        ...Array.from({ length: 10 }, (_, i) => ({
          partition: 0,
          key: `k${i}`,
          value: JSON.stringify({ n: i, p: 0 }),
          headers: [['i', String(i)] as const, ['h', 'x']],
          timestamp: BASE + i * 1000,
        })),
        ...Array.from({ length: 6 }, (_, i) => ({
          partition: 1,
          key: `k${i}`,
          value: JSON.stringify({ n: i, p: 1 }),
          timestamp: BASE + 500 + i * 1000,
        })),
      ],
    })
  })

  test('-o beginning|end|N|-N|@ms|@ISO picks where each partition starts', async () => {
    const all = [...range(0, 0, 10), ...range(1, 0, 6)]
    const cases: Array<[string[], string[]]> = [
      [[], all],
      [['-o', 'beginning'], all],
      [['-o', 'end'], []],
      // An offset past a partition's end waits there (as librdkafka resets), so a bounded fetch prints nothing of it.
      [['-o', '7'], range(0, 7, 10)],
      [
        ['-o', '-3'],
        [...range(0, 7, 10), ...range(1, 3, 6)],
      ],
      [['-o', '-100'], all],
      [['--offset=-2'], [...range(0, 8, 10), ...range(1, 4, 6)]],
      // The first record at or after the time, per partition: BASE + 4.5 s is offset 5 of p0 and exactly offset 4 of p1.
      [
        ['-o', `@${BASE + 4500}`],
        [...range(0, 5, 10), ...range(1, 4, 6)],
      ],
      [
        ['-o', '@2024-05-01T12:00:04.500Z'],
        [...range(0, 5, 10), ...range(1, 4, 6)],
      ],
      [
        ['-o', '@2024-05-01T14:00:04.500+02:00'],
        [...range(0, 5, 10), ...range(1, 4, 6)],
      ],
      [['-o', `@${BASE + 60_000}`], []],
      [['-p', '1', '-o', '2'], range(1, 2, 6)],
      [['-p', '0,1', '-o', '8'], range(0, 8, 10)],
    ]
    // Independent reads, side by side.
    const got = await Promise.all(cases.map(([args]) => positions(topic, args)))
    for (const [i, [args, expected]] of cases.entries()) expect(got[i], args.join(' ')).toEqual(expected)
  })

  test('-c stops after N records in all; --until stops before an offset or a time, or at the end', async () => {
    const cases: Array<[string[], string[]]> = [
      [['-p', '0', '-o', '2', '-c', '4'], range(0, 2, 6)],
      [
        ['--until', '3'],
        [...range(0, 0, 3), ...range(1, 0, 3)],
      ],
      [
        ['-o', '2', '--until', '5'],
        [...range(0, 2, 5), ...range(1, 2, 5)],
      ],
      [
        ['--until', 'end'],
        [...range(0, 0, 10), ...range(1, 0, 6)],
      ],
      [
        ['--until', `@${BASE + 3000}`],
        [...range(0, 0, 3), ...range(1, 0, 3)],
      ],
      [
        ['-o', `@${BASE + 2000}`, '--until', '@2024-05-01T12:00:05Z'],
        [...range(0, 2, 5), ...range(1, 2, 5)],
      ],
      [['-o', '5', '--until', '5'], []],
      [['-p', '0', '-o', '8', '--until', '100'], range(0, 8, 10)],
    ]
    // Independent reads, side by side.
    const got = await Promise.all(cases.map(([args]) => positions(topic, args)))
    for (const [i, [args, expected]] of cases.entries()) expect(got[i], args.join(' ')).toEqual(expected)
    // A count over both partitions: exactly N records, each partition's a run from its start.
    const five = await positions(topic, ['-c', '5'])
    expect(five).toHaveLength(5)
    for (const p of [0, 1]) {
      const mine = five.filter((x) => x.startsWith(`${p}:`))
      expect(mine).toEqual(range(p, 0, mine.length))
    }
  })

  test('-f json|text|raw with --key/--value utf8|json|hex|base64|none and --headers', async () => {
    const two = ['-p', '0', '-o', '3', '-c', '2']
    const json = await fetchOk(topic, two, 2)
    expect(json.lines.map((l) => JSON.parse(l))).toEqual(
      [3, 4].map((i) => ({
        topic,
        partition: 0,
        offset: i,
        timestamp: BASE + i * 1000,
        key: `k${i}`,
        value: `{"n":${i},"p":0}`,
        headers: [
          { key: 'i', value: String(i) },
          { key: 'h', value: 'x' },
        ],
      })),
    )
    const embedded = await fetchOk(topic, [...two, '--value', 'json', '--key', 'hex'], 2)
    expect(embedded.lines.map((l) => JSON.parse(l) as Printed).map((p) => [p.key, p.value])).toEqual([
      [Buffer.from('k3').toString('hex'), { n: 3, p: 0 }],
      [Buffer.from('k4').toString('hex'), { n: 4, p: 0 }],
    ])
    const b64 = await fetchOk(topic, [...two, '--value', 'base64', '--key', 'none'], 2)
    const first = JSON.parse(b64.lines[0]!) as Printed
    expect('key' in first).toBe(false)
    expect(Buffer.from(first.value as string, 'base64').toString()).toBe('{"n":3,"p":0}')
    // Header values follow the value encoding.
    expect(first.headers).toEqual([
      { key: 'i', value: Buffer.from('3').toString('base64') },
      { key: 'h', value: Buffer.from('x').toString('base64') },
    ])
    const bare = await fetchOk(topic, [...two, '--key', 'none', '--value', 'none'], 2)
    expect(Object.keys(JSON.parse(bare.lines[0]!))).toEqual(['topic', 'partition', 'offset', 'timestamp', 'headers'])

    expect((await fetchOk(topic, [...two, '-f', 'text'], 2)).out).toBe(
      '0:3\t2024-05-01T12:00:03.000Z\tk3\t{"n":3,"p":0}\n0:4\t2024-05-01T12:00:04.000Z\tk4\t{"n":4,"p":0}\n',
    )
    expect((await fetchOk(topic, [...two, '-f', 'text', '--headers', '--key', 'none'], 2)).lines).toEqual([
      '0:3\t2024-05-01T12:00:03.000Z\t{"n":3,"p":0}\ti=3,h=x',
      '0:4\t2024-05-01T12:00:04.000Z\t{"n":4,"p":0}\ti=4,h=x',
    ])
    expect((await fetchOk(topic, [...two, '-f', 'text', '--value', 'hex', '--key', 'base64'], 2)).lines).toEqual([
      `0:3\t2024-05-01T12:00:03.000Z\t${Buffer.from('k3').toString('base64')}\t${Buffer.from('{"n":3,"p":0}').toString('hex')}`,
      `0:4\t2024-05-01T12:00:04.000Z\t${Buffer.from('k4').toString('base64')}\t${Buffer.from('{"n":4,"p":0}').toString('hex')}`,
    ])
    expect((await fetchOk(topic, [...two, '-f', 'raw'], 2)).out).toBe('{"n":3,"p":0}\n{"n":4,"p":0}\n')
    expect((await fetchOk(topic, [...two, '-f', 'raw', '--value', 'hex'], 2)).out).toBe(
      `${Buffer.from('{"n":3,"p":0}').toString('hex')}\n${Buffer.from('{"n":4,"p":0}').toString('hex')}\n`,
    )
  })

  test('text escapes tabs and newlines and shows (null); json shows null; --value json falls back to a string, once warned', async () => {
    const odd = (await createTopic(conn, { prefix: 'cli-odd' })).name
    await producer.send({
      topic: odd,
      messages: [
        { key: null, value: 'tab\there\nnewline\\backslash\r', headers: [['h', 'a\tb']] },
        { key: 'tombstone', value: null },
        { key: 'plain', value: 'not json' },
        { key: 'plain', value: 'not json either' },
        { key: 'j', value: '{ "pretty":\n  true }' },
      ],
    })
    const text = await fetchOk(odd, ['-f', 'text', '--headers'])
    expect(text.lines.map((l) => l.split('\t').slice(2))).toEqual([
      ['(null)', 'tab\\there\\nnewline\\\\backslash\\r', 'h=a\\tb'],
      ['tombstone', '(null)', ''],
      ['plain', 'not json', ''],
      ['plain', 'not json either', ''],
      ['j', '{ "pretty":\\n  true }', ''],
    ])
    const json = await runSkiff(['fetch', ...b, '-t', odd, '--value', 'json'])
    expect(json.code).toBe(0)
    expect(json.lines.map((l) => JSON.parse(l) as Printed).map((p) => [p.key, p.value])).toEqual([
      [null, 'tab\there\nnewline\\backslash\r'],
      ['tombstone', null],
      ['plain', 'not json'],
      ['plain', 'not json either'],
      // Pretty-printed JSON is re-serialized, so one record stays one line.
      ['j', { pretty: true }],
    ])
    expect(json.err).toBe('skiff: a value is not JSON; printed as a string\n')
  })
})

describe(`skiff fetch --group, --follow, and skiff lag (Kafka ${testKafka().version})`, () => {
  let topic: string
  /** Partition 0: 10 records, partition 1: 6, timestamps BASE + offset seconds. */
  beforeAll(async () => {
    topic = (await createTopic(conn, { prefix: 'cli-group', partitions: 2 })).name
    await producer.send({
      topic,
      messages: [
        ...Array.from({ length: 10 }, (_, i) => ({ partition: 0, value: `p0-${i}`, timestamp: BASE + i * 1000 })),
        ...Array.from({ length: 6 }, (_, i) => ({ partition: 1, value: `p1-${i}`, timestamp: BASE + i * 1000 })),
      ],
    })
    await groupCoordinatorReady(conn)
  })

  interface Lag {
    group: string
    state: string
    type: string
    members: number
    totalLag: number
    partitions: Array<{
      topic: string
      partition: number
      committed: number | null
      end: number
      lag: number | null
      timeLagMs: number | null
    }>
  }

  async function lag(group: string): Promise<Lag> {
    const r = await runSkiff(['lag', ...b, '-g', group, '--json'])
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    return JSON.parse(r.out) as Lag
  }

  test('a group commits exactly what was printed: the next fetch goes on from there, and lag shows committed/end/lag', async () => {
    const group = `cli-group-${Date.now()}`
    const first = await fetchOk(topic, ['-g', group, '-c', '5', '-f', 'text'])
    expect(first.lines).toHaveLength(5)
    const printed = new Map<number, number[]>([
      [0, []],
      [1, []],
    ])
    for (const l of first.lines) {
      const [p, o] = l.split('\t')[0]!.split(':').map(Number)
      printed.get(p!)!.push(o!)
    }
    const committedAfter = (p: number) => (printed.get(p)!.length === 0 ? null : Math.max(...printed.get(p)!) + 1)
    const before = Date.now()
    const one = await lag(group)
    expect(one.group).toBe(group)
    expect(one.state).toBe('Empty')
    expect(one.members).toBe(0)
    expect(one.partitions.map((p) => [p.topic, p.partition, p.committed, p.end])).toEqual([
      [topic, 0, committedAfter(0), 10],
      [topic, 1, committedAfter(1), 6],
    ])
    for (const p of one.partitions) {
      const c = p.committed
      expect(p.lag).toBe(c === null ? null : p.end - c)
      // Time lag: the age of the record at the committed offset (timestamps are BASE + offset seconds).
      if (c !== null) expect(Math.abs(p.timeLagMs! - (before - (BASE + c * 1000)))).toBeLessThan(60_000)
    }
    expect(one.totalLag).toBe(one.partitions.reduce((s, p) => s + (p.lag ?? 0), 0))
    // The table says the same.
    const table = await runSkiff(['lag', ...b, '-g', group])
    expect(table.code).toBe(0)
    expect(table.lines[0]).toBe(`group ${group}: Empty (${one.type}), 0 members`)
    expect(table.lines[1]).toMatch(/^TOPIC +PARTITION +COMMITTED +END +LAG +TIME LAG +OWNER$/)
    for (const p of one.partitions)
      expect(table.lines[2 + p.partition]).toMatch(
        new RegExp(`^${topic} +${p.partition} +${p.committed ?? '-'} +${p.end} +${p.lag ?? '-'} +\\S.* +-$`),
      )
    expect(table.lines[4]).toMatch(new RegExp(`^total lag ${one.totalLag} records?`))

    // The same group again: everything not printed yet, nothing twice.
    const rest = await fetchOk(topic, ['-g', group, '-f', 'text'])
    const all = [...first.lines, ...rest.lines].map((l) => l.split('\t')[0]).sort()
    expect(all).toEqual([...range(0, 0, 10), ...range(1, 0, 6)].sort())
    const two = await lag(group)
    expect(two.partitions.map((p) => [p.partition, p.committed, p.end, p.lag, p.timeLagMs])).toEqual([
      [0, 10, 10, 0, 0],
      [1, 6, 6, 0, 0],
    ])
    expect(two.totalLag).toBe(0)
  })

  test('--follow --until N and --until @time end on their own once the stop arrives', async () => {
    const fresh = (await createTopic(conn, { prefix: 'cli-until' })).name
    await producer.send({ topic: fresh, messages: [{ value: 'already there' }] })
    const from = ['-p', '0', '-o', '1', '--follow', '-f', 'raw']
    const byOffset = runSkiff(['fetch', ...b, '-t', fresh, ...from, '--until', '3'])
    const now = Date.now()
    // Kafka 4 refuses timestamps over an hour ahead (log.message.timestamp.after.max.ms).
    const byTime = runSkiff(['fetch', ...b, '-t', fresh, ...from, '--until', `@${now + 1_800_000}`])
    await producer.send({
      topic: fresh,
      messages: [
        { value: 'until-0', timestamp: now },
        { value: 'until-1', timestamp: now + 60_000 },
        { value: 'until-2', timestamp: now + 2_400_000 },
      ],
    })
    // The first stops before offset 3, the second before the first record stamped half an hour from now or later.
    for (const r of await Promise.all([byOffset, byTime])) {
      expect([r.code, r.err]).toEqual([0, ''])
      expect(r.out).toBe('until-0\nuntil-1\n')
    }
  })

  test('-g with -p reads the given partition from an exact offset and commits to the group without joining', async () => {
    const group = `cli-assign-${Date.now()}`
    const r = await fetchOk(topic, ['-g', group, '-p', '1', '-o', '2', '-c', '2', '-f', 'raw'])
    expect(r.out).toBe('p1-2\np1-3\n')
    const l = await lag(group)
    expect(l.partitions.map((p) => [p.partition, p.committed, p.end, p.lag])).toEqual([
      [0, null, 10, null],
      [1, 4, 6, 2],
    ])
    // -o other than beginning/end with a group and no -p is refused before anything is sent.
    const refused = await runSkiff(['fetch', ...b, '-t', topic, '-g', group, '-o', '3'])
    expect(refused.code).toBe(2)
    expect(refused.err).toMatch(
      /^skiff: error: -o with --group can only be beginning or end .*\(see skiff fetch --help\)\n$/,
    )
  })

  test('--follow prints records as they arrive and stops cleanly on SIGINT, flushing and committing', async () => {
    const group = `cli-follow-${Date.now()}`
    const follower = spawnSkiff(['fetch', ...b, '-t', topic, '--follow', '-g', group, '-f', 'text'])
    const tail = spawnSkiff(['fetch', ...b, '-t', topic, '--follow', '-o', 'end', '-p', '0,1', '-f', 'raw'])
    const sent: string[] = []
    const perPartition = [0, 0]
    const send = async (values: string[]) => {
      const messages = values.map((value, i) => ({ partition: (sent.length + i) % 2, value }))
      sent.push(...values)
      for (const m of messages) perPartition[m.partition]!++
      await producer.send({ topic, messages })
    }
    try {
      await follower.waitFor((out) => out.split('\n').length > 16)
      // -o end prints only what comes after it started, and nothing says when that was: send one record at a time
      // until the tail shows one.
      while (tail.out === '') {
        if (sent.length >= 40) throw new Error(`skiff fetch --follow -o end printed nothing; stderr: ${tail.err}`)
        await send([`new-${sent.length}`])
        await tail.waitFor((out) => out !== '', 500).catch(() => {})
      }
      await send([`new-${sent.length}`, `new-${sent.length + 1}`])
      await follower.waitFor((out) => out.split('\n').length > 16 + sent.length)
      await tail.waitFor((out) => out.includes(`${sent.at(-1)}\n`) && out.includes(`${sent.at(-2)}\n`))
      follower.child.kill('SIGINT')
      tail.child.kill('SIGINT')
      const [f, t] = await Promise.all([follower.exited(20_000), tail.exited(20_000)])
      expect(f.err).toBe('')
      expect([f.code, f.signal]).toEqual([0, null])
      expect(f.lines).toHaveLength(16 + sent.length)
      expect(
        f.lines
          .map((l) => l.split('\t').at(-1))
          .filter((v) => v!.startsWith('new-'))
          .sort(),
      ).toEqual([...sent].sort())
      expect(t.err).toBe('')
      expect([t.code, t.signal]).toEqual([0, null])
      // Nothing from before it started, everything from the first record it showed on.
      expect(t.lines.length).toBeGreaterThanOrEqual(3)
      expect([...t.lines].sort()).toEqual(sent.slice(sent.length - t.lines.length).sort())
    } finally {
      follower.child.kill('SIGKILL')
      tail.child.kill('SIGKILL')
    }
    // What the follower printed was committed when it stopped.
    const l = await lag(group)
    expect(l.partitions.map((p) => [p.partition, p.committed, p.lag])).toEqual([
      [0, 10 + perPartition[0]!, 0],
      [1, 6 + perPartition[1]!, 0],
    ])
  })
})

describe(`skiff fetch and a zstd batch over --max-decompressed-bytes (Kafka ${testKafka().version})`, () => {
  let topic: string
  let zstdFirst: number
  let zstdLast: number
  beforeAll(async () => {
    topic = (await createTopic(conn, { prefix: 'cli-oversized' })).name
    const small = (tag: string) => Array.from({ length: 3 }, (_, i) => ({ value: `${tag}-${i}` }))
    await producer.send({ topic, messages: small('before') })
    // 2,000 records of ~1 KiB of JSON in one zstd batch: about 2 MiB once decompressed, a few KiB on the wire.
    const zstd = new Producer({ bootstrap, compression: 'zstd', lingerMs: 200, batchBytes: 16 * 1024 * 1024 })
    try {
      const metas = await zstd.send({
        topic,
        messages: Array.from({ length: 2000 }, (_, i) => ({
          value: JSON.stringify({ i, level: 'debug', msg: 'cache state dump '.repeat(60) }),
        })),
      })
      zstdFirst = metas[0]!.offset
      zstdLast = metas.at(-1)!.offset
    } finally {
      await zstd.close()
    }
    await producer.send({ topic, messages: small('after') })
    const { batches } = await fetchBatches(conn, topic, 0)
    // The premise: one zstd batch between the others.
    expect(batches.map((x) => [x.baseOffset, x.lastOffset, x.compression])).toEqual([
      [0, 2, 'none'],
      [3, 2002, 'zstd'],
      [2003, 2005, 'none'],
    ])
    expect(batches[1]!.batchLength).toBeLessThan(64 * 1024)
  })

  test('without --skip-oversized: the records before it, then exit 1 and one line that names the batch and what to do', async () => {
    const r = await runSkiff(['fetch', ...b, '-t', topic, '-f', 'raw', '--max-decompressed-bytes', '1MiB'])
    expect(r.code).toBe(1)
    expect(r.out).toBe('before-0\nbefore-1\nbefore-2\n')
    expect(r.err).toMatch(
      new RegExp(
        `^skiff: error: zstd batch at ${topic}\\[0\\] offsets ${zstdFirst}\\.\\.${zstdLast} expands past --max-decompressed-bytes 1 MiB \\([\\d.]+ KiB compressed; [^\\n]+\\); pass --skip-oversized to skip it, or raise --max-decompressed-bytes\\n$`,
      ),
    )
  })

  test('with --skip-oversized: every other record, and a report of the skipped offsets on stderr', async () => {
    const r = await runSkiff([
      'fetch',
      ...b,
      '-t',
      topic,
      '-f',
      'raw',
      '--max-decompressed-bytes',
      '1MiB',
      '--skip-oversized',
    ])
    expect(r.code).toBe(0)
    expect(r.out).toBe('before-0\nbefore-1\nbefore-2\nafter-0\nafter-1\nafter-2\n')
    const lines = r.err.trimEnd().split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(
      new RegExp(
        `^skiff: skipped zstd batch at ${topic}\\[0\\] offsets ${zstdFirst}\\.\\.${zstdLast} expands past --max-decompressed-bytes 1 MiB `,
      ),
    )
    expect(lines[1]).toBe('skiff: skipped 1 batch (2,000 offsets) over the decompression limit')
  })

  test('with a limit above its size, it is read like any other', async () => {
    const r = await fetchOk(topic, ['--max-decompressed-bytes', '4MiB', '--value', 'none', '-f', 'text'])
    expect(r.lines).toHaveLength(2006)
    expect(r.lines.at(-1)).toMatch(/^0:2005\t/)
  })

  test('a reader that goes away (skiff fetch | head) ends the fetch quietly, exit 0', async () => {
    // About 2 MiB of JSON: far more than a pipe holds, so writes fail with EPIPE once the reader is gone.
    const p = spawnSkiff(['fetch', ...b, '-t', topic, '--max-decompressed-bytes', '4MiB'])
    await p.waitFor((out) => out.includes('\n'))
    p.child.stdout!.destroy()
    const r = await p.exited(20_000)
    expect([r.code, r.signal, r.err]).toEqual([0, null, ''])
  })
})
