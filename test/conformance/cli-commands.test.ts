import { readFileSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Connection } from '../../src/client/connection.js'
import { runSkiff, runSkiffProcess, type SkiffProcess, spawnSkiff } from '../helpers/cli.js'
import { fetchBatches } from '../helpers/fetch.js'
import { connectTestBroker, testKafka, uniqueTopic } from '../helpers/kafka.js'
import { createTopic, eventually, groupCoordinatorReady } from '../helpers/protocol.js'

/**
 * The `skiff` commands as a user meets them: help and version, every error path (exit code, one line on stderr, no
 * stack unless --debug), authentication against a SASL listener, `topics` and `produce`.
 */
const kafka = testKafka()
const bootstrap = kafka.bootstrap
const b = ['-b', bootstrap]
const VERSION = (
  JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as {
    version: string
  }
).version

/**
 * A SASL listener, from `skiff broker` itself: started when the file starts and used by its last tests, so the JVM
 * comes up while the others run.
 */
let saslBroker: SkiffProcess | undefined
let saslReady: Promise<{ plaintext: string; sasl: string; user: string; password: string }>

let conn: Connection
beforeAll(async () => {
  saslBroker = spawnSkiff([
    'broker',
    '--listeners',
    'plaintext,sasl',
    '--version',
    kafka.version,
    '--provider',
    kafka.provider,
  ])
  saslReady = saslBroker
    .waitFor((_, err) => /Ctrl-C stops it/.test(err), 200_000)
    .then(() => {
      const err = saslBroker!.err
      const sasl = /^skiff: {3}sasl +(\S+) +\(SASL_PLAINTEXT\)$/m.exec(err)?.[1]
      const user = /^skiff: {3}SASL users \(PLAIN, SCRAM-SHA-256\/512\): ([^/\s]+)\/(\S+)$/m.exec(err)
      if (!sasl || !user) throw new Error(`skiff broker did not list its SASL listener and users:\n${err}`)
      return { plaintext: saslBroker!.out.trim(), sasl, user: user[1]!, password: user[2]! }
    })
  saslReady.catch(() => {}) // reported by the tests that use it
  conn = await connectTestBroker()
})
afterAll(async () => {
  saslBroker?.child.kill('SIGKILL')
  await conn?.close()
})

/** A TCP port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** One line on stderr, as `skiff: error: ...`, and no stack frame. */
function oneErrorLine(err: string): string {
  expect(err).toMatch(/^skiff: error: [^\n]+\n$/)
  expect(err).not.toMatch(/^\s+at /m)
  return err.slice('skiff: error: '.length, -1)
}

describe('help, version and usage', () => {
  test('--version and -V print the package version; --help lists the commands; no command is a usage error', async () => {
    // Two as real processes, so that exit codes 0 and 2 are seen as the process ends with them.
    const [version, v, help, none] = await Promise.all([
      runSkiffProcess(['--version']),
      runSkiff(['-V']),
      runSkiff(['--help']),
      runSkiffProcess([]),
    ])
    for (const r of [version, v]) {
      expect(r.err).toBe('')
      expect([r.code, r.out]).toEqual([0, `skiff ${VERSION} (node ${process.versions.node})\n`])
    }
    expect(help.code).toBe(0)
    expect(help.err).toBe('')
    expect(help.out).toMatch(/^Usage: skiff <command> \[options\]/)
    for (const command of ['fetch', 'lag', 'topics', 'produce', 'broker'])
      expect(help.out).toMatch(new RegExp(`^ {2}${command} +\\S`, 'm'))
    expect(help.out).toContain(
      'Exit codes: 0 ok, 1 runtime error, 2 usage error, 3 connection or authentication error.',
    )
    // No command: the same help, on stderr, exit 2.
    expect([none.code, none.out, none.err]).toEqual([2, '', help.out])
  })

  test('each command has --help (and help COMMAND) on stdout, exit 0', async () => {
    for (const command of ['fetch', 'lag', 'topics', 'produce', 'broker']) {
      const r = await runSkiff([command, '--help'])
      expect([r.code, r.err], command).toEqual([0, ''])
      expect(r.out).toMatch(new RegExp(`^Usage: skiff ${command} `))
      expect(r.out).toContain('Examples:')
      const other = await runSkiff(['help', command])
      expect(other.out).toBe(r.out)
      // -h works too, and wins over a missing required flag.
      expect((await runSkiff([command, '-h'])).out).toBe(r.out)
    }
  })

  test('an unknown command, a missing topic or group: exit 2 with a hint', async () => {
    const cases: Array<[string[], string]> = [
      [['fecth'], 'unknown command "fecth" (commands: fetch, lag, topics, produce, broker) (see skiff --help)'],
      [['-t', 'x'], 'unknown command "-t" (a command comes first) (see skiff --help)'],
      [['fetch', ...b], 'fetch needs a topic: -t TOPIC (see skiff fetch --help)'],
      [['lag', ...b], 'lag needs a group: -g GROUP (see skiff lag --help)'],
      [['topics', ...b], 'topics needs an action: list, describe, create, delete (see skiff topics --help)'],
      [
        ['topics', 'frob', ...b],
        'unknown topics action "frob": use list, describe, create, delete (see skiff topics --help)',
      ],
      [['topics', 'create', ...b], 'topics create needs at least one topic (see skiff topics --help)'],
      [
        ['topics', 'list', ...b, '--partitions', '3'],
        '--partitions, --replication-factor and --topic-config only go with topics create (see skiff topics --help)',
      ],
      [['produce', ...b], 'produce needs a topic: -t TOPIC (see skiff produce --help)'],
      [
        ['fetch', '-t', 'x'],
        'no brokers given: pass -b host:port (or "bootstrap" in a --config file / SKIFF_CONFIG) (see skiff fetch --help)',
      ],
      [['fetch', ...b, '-t', 'x', '-o'], '-o, --offset needs a value (see skiff fetch --help)'],
    ]
    for (const [args, message] of cases) {
      const r = await runSkiff(args)
      expect(r.code, args.join(' ')).toBe(2)
      expect(oneErrorLine(r.err), args.join(' ')).toBe(message)
    }
  })
})

// Through main() in this process, as most tests here, but for one real process per exit code: 0 and 2 above, 3 here
// (the process ends with what main returns; spawning costs a second of CPU each).
describe(`error paths: exit code and one line (Kafka ${kafka.version})`, () => {
  test('unreachable broker: exit 3, naming the address; a stack and causes only with --debug', async () => {
    const port = await closedPort()
    const address = `127.0.0.1:${port}`
    const [plain, debug] = await Promise.all([
      runSkiffProcess(['fetch', '-b', address, '-t', 'orders']),
      runSkiff(['fetch', '-b', address, '-t', 'orders', '--debug']),
    ])
    expect(plain.code).toBe(3)
    expect(plain.out).toBe('')
    expect(oneErrorLine(plain.err)).toBe(
      `cannot reach Kafka at ${address}: connection refused; check -b and that the broker is running`,
    )
    expect(debug.code).toBe(3)
    const [first, ...rest] = debug.err.split('\n')
    expect(`${first}\n`).toBe(plain.err)
    expect(rest.join('\n')).toMatch(/^ConnectFailure: cannot reach Kafka/)
    expect(rest.join('\n')).toMatch(/^\s+at /m)
    expect(rest.join('\n')).toContain('caused by:\nConnectionError: ')
  })

  test('not Kafka at the address: a web server, or a port that accepts and never answers: exit 3, saying so', async () => {
    const web = createHttpServer((_, res) => res.end('hello'))
    const silent = createServer(() => {})
    const listen = async (server: Server) => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      return `127.0.0.1:${(server.address() as { port: number }).port}`
    }
    try {
      const [http, quiet] = [await listen(web), await listen(silent)]
      const [fromHttp, fromQuiet] = await Promise.all([
        runSkiff(['topics', 'list', '-b', http]),
        runSkiff(['topics', 'list', '-b', quiet, '--timeout', '500ms']),
      ])
      expect(fromHttp.code).toBe(3)
      expect(oneErrorLine(fromHttp.err)).toBe(
        `cannot reach Kafka at ${http}: answered with HTTP, not the Kafka protocol (wrong port?)`,
      )
      expect(fromQuiet.code).toBe(3)
      expect(oneErrorLine(fromQuiet.err)).toMatch(
        new RegExp(`^cannot reach Kafka at ${quiet}: ApiVersions request to ${quiet} timed out after \\d+ ms; `),
      )
    } finally {
      web.closeAllConnections()
      web.close()
      silent.close()
    }
  })

  test('unknown topic: exit 1 (fetch, produce, topics describe)', async () => {
    const topic = uniqueTopic('cli-missing')
    const fetch = await runSkiff(['fetch', ...b, '-t', topic])
    expect(fetch.code).toBe(1)
    expect(oneErrorLine(fetch.err)).toBe(`topic ${topic} does not exist (UNKNOWN_TOPIC_OR_PARTITION)`)
    for (const args of [
      ['produce', ...b, '-t', topic],
      ['topics', 'describe', ...b, topic],
    ]) {
      const r = await runSkiff(args)
      expect(r.code, args[0]).toBe(1)
      expect(oneErrorLine(r.err), args[0]).toBe(`topic ${topic} does not exist (UNKNOWN_TOPIC_OR_PARTITION)`)
    }
    // A partition the topic does not have is the same kind of mistake.
    const existing = (await createTopic(conn, { prefix: 'cli-one', partitions: 2 })).name
    const p = await runSkiff(['fetch', ...b, '-t', existing, '-p', '5'])
    expect(p.code).toBe(1)
    expect(oneErrorLine(p.err)).toBe(`partition ${existing}[5] does not exist: the topic has 2 partitions (0..1)`)
  })

  test('bad offset syntax and an unknown flag: exit 2 with usage, before any connection', async () => {
    // An address nothing listens on: a usage error must come first (exit 2, not 3).
    const nowhere = ['-b', `127.0.0.1:${await closedPort()}`]
    const [offset, flag] = await Promise.all([
      runSkiff(['fetch', ...nowhere, '-t', 'orders', '-o', 'yesterday']),
      runSkiff(['fetch', ...nowhere, '-t', 'orders', '--frobnicate']),
    ])
    expect(offset.code).toBe(2)
    expect(oneErrorLine(offset.err)).toBe(
      'bad offset "yesterday" for -o: use beginning, end, N (an offset), -N (N before the end), @<ms since epoch> or @<ISO date> (see skiff fetch --help)',
    )
    expect(flag.code).toBe(2)
    expect(oneErrorLine(flag.err)).toBe('unknown option --frobnicate (see skiff fetch --help)')
    const more: Array<[string[], string]> = [
      [
        ['-o', '@2024-13-45'],
        'bad time "@2024-13-45" for -o: use @<ms since epoch> or @<ISO date> such as @2024-05-01T12:00:00Z',
      ],
      [
        ['-o', '@May 1'],
        'bad time "@May 1" for -o: use @<ms since epoch> or @<ISO date> such as @2024-05-01T12:00:00Z',
      ],
      [['-o', '1.5'], 'bad offset "1.5" for -o'],
      [
        ['--until', 'soon'],
        'bad value "soon" for --until: use end, N (stop before offset N) or @<ms since epoch>/@<ISO date>',
      ],
      [['-c', '0'], '-c must be at least 1, got 0'],
      [['-c', 'ten'], '-c needs a whole number, got "ten"'],
      [['-f', 'xml'], 'bad value "xml" for -f: use json, text, raw'],
      [['--value', 'latin1'], 'bad value "latin1" for --value: use utf8, json, hex, base64, none'],
      [
        ['--isolation', 'serializable'],
        'bad value "serializable" for --isolation: use read_uncommitted, read_committed',
      ],
      [['--max-decompressed-bytes', 'lots'], 'bad size "lots" for --max-decompressed-bytes'],
      [['-p', 'x'], '-p needs a whole number, got "x"'],
      [['-x'], 'unknown option -x'],
    ]
    for (const [args, start] of more) {
      const r = await runSkiff(['fetch', ...nowhere, '-t', 'orders', ...args])
      expect(r.code, args.join(' ')).toBe(2)
      expect(oneErrorLine(r.err).startsWith(start), `${args.join(' ')}: ${r.err}`).toBe(true)
      expect(r.err).toMatch(/\(see skiff fetch --help\)\n$/)
    }
  })
})

describe(`skiff topics (Kafka ${kafka.version})`, () => {
  test('create, list, describe, delete, with --if-not-exists and --if-exists', async () => {
    await groupCoordinatorReady(conn) // so that __consumer_offsets exists for --internal
    const [one, two] = [uniqueTopic('cli-topics'), uniqueTopic('cli-topics')]
    const created = await runSkiff([
      'topics',
      'create',
      ...b,
      one,
      '-t',
      two,
      '--partitions',
      '3',
      '--topic-config',
      'retention.ms=3600000',
      '--topic-config',
      'max.message.bytes=65536',
    ])
    expect(created.code).toBe(0)
    expect(created.err).toBe(
      `skiff: created topic ${one} (3 partitions, replication 1)\nskiff: created topic ${two} (3 partitions, replication 1)\n`,
    )

    const again = await runSkiff(['topics', 'create', ...b, one])
    expect(again.code).toBe(1)
    expect(again.err).toMatch(new RegExp(`^skiff: could not create ${one}: TOPIC_ALREADY_EXISTS: [^\\n]+\\n$`))
    const tolerated = await runSkiff(['topics', 'create', ...b, one, '--if-not-exists'])
    expect([tolerated.code, tolerated.err]).toEqual([0, `skiff: topic ${one} already exists\n`])

    const list = await runSkiff(['topics', 'list', ...b, '--json'])
    expect(list.code).toBe(0)
    const listed = JSON.parse(list.out) as Array<{ name: string; partitions: number; internal: boolean }>
    expect(listed).toContainEqual({ name: one, partitions: 3, internal: false })
    expect(listed).toContainEqual({ name: two, partitions: 3, internal: false })
    expect(listed.some((t) => t.internal)).toBe(false)
    expect(listed.map((t) => t.name)).toEqual(listed.map((t) => t.name).sort())
    const internal = JSON.parse((await runSkiff(['topics', 'list', ...b, '--json', '--internal'])).out) as typeof listed
    expect(internal).toContainEqual({ name: '__consumer_offsets', partitions: expect.any(Number), internal: true })
    const table = await runSkiff(['topics', 'list', ...b])
    expect(table.lines[0]).toMatch(/^TOPIC +PARTITIONS$/)
    expect(table.lines).toContainEqual(expect.stringMatching(new RegExp(`^${one} +3$`)))

    await runSkiff(['produce', ...b, '-t', one, '-p', '1'], { stdin: 'a\nb\nc\n' })
    const described = await runSkiff(['topics', 'describe', ...b, one, '--json'])
    expect(described.code).toBe(0)
    const [d] = JSON.parse(described.out) as Array<{
      name: string
      topicId: string
      partitions: Array<{
        partition: number
        leader: number
        replicas: number[]
        isr: number[]
        earliest: number
        end: number
      }>
      configs: Record<string, string>
    }>
    expect(d!.name).toBe(one)
    expect(d!.topicId).toMatch(/^[A-Za-z0-9_-]{22}$/)
    const leader = d!.partitions[0]!.leader
    expect(d!.partitions.map((p) => [p.partition, p.leader, p.replicas, p.isr, p.earliest, p.end])).toEqual([
      [0, leader, [leader], [leader], 0, 0],
      [1, leader, [leader], [leader], 0, 3],
      [2, leader, [leader], [leader], 0, 0],
    ])
    expect(d!.configs).toMatchObject({ 'retention.ms': '3600000', 'max.message.bytes': '65536' })
    const text = await runSkiff(['topics', 'describe', ...b, one])
    expect(text.lines[0]).toBe(`topic ${one}  id ${d!.topicId}  3 partitions  replication 1`)
    expect(text.lines[1]).toMatch(/^configs: .*max\.message\.bytes=65536/)
    expect(text.lines[2]).toMatch(/^PARTITION +LEADER +REPLICAS +ISR +EARLIEST +END$/)
    expect(text.lines[4]).toMatch(/^ +1 +\d+ +\d+ +\d+ +0 +3$/)

    const deleted = await runSkiff(['topics', 'delete', ...b, one, two])
    expect([deleted.code, deleted.err]).toEqual([0, `skiff: deleted topic ${one}\nskiff: deleted topic ${two}\n`])
    const after = await eventually(
      async () => JSON.parse((await runSkiff(['topics', 'list', ...b, '--json'])).out) as typeof listed,
      (l) => !l.some((t) => t.name === one || t.name === two),
    )
    expect(after.map((t) => t.name)).not.toContain(one)
    const gone = await runSkiff(['topics', 'delete', ...b, one])
    expect([gone.code, gone.err]).toEqual([1, `skiff: could not delete ${one}: it does not exist\n`])
    const fine = await runSkiff(['topics', 'delete', ...b, one, '--if-exists'])
    expect([fine.code, fine.err]).toEqual([0, `skiff: topic ${one} does not exist\n`])
  })
})

interface Printed {
  partition: number
  offset: number
  timestamp: number
  key: string | null
  value: string | null
  headers: Array<{ key: string; value: string | null }>
}

const read = async (topic: string, args: string[] = []) => {
  const r = await runSkiff(['fetch', ...b, '-t', topic, ...args])
  expect(r.code).toBe(0)
  return r.lines.map((l) => JSON.parse(l) as Printed).sort((x, y) => x.partition - y.partition || x.offset - y.offset)
}

describe(`skiff produce (Kafka ${kafka.version})`, () => {
  test('stdin lines: one record each, -k splits keys, -Z makes tombstones, -H adds headers, -z compresses', async () => {
    const topic = (await createTopic(conn, { prefix: 'cli-produce-lines', partitions: 2 })).name
    // An empty line is skipped; a last line without a newline counts.
    const input = 'user-1:{"plan":"pro"}\nno delimiter here\n:empty key\n\nuser-2:\nuser-3:a:b\ttab'
    const r = await runSkiff(
      ['produce', ...b, '-t', topic, '-p', '1', '-k', ':', '-Z', '-H', 'src=cli', '-H', 'run=1', '-z', 'lz4'],
      { stdin: input },
    )
    expect(r.code).toBe(0)
    expect(r.out).toBe('')
    expect(r.err).toMatch(new RegExp(`^skiff: produced 5 records to ${topic} \\(partition 1\\) in [\\d.]+ m?s\\n$`))
    const { batches } = await fetchBatches(conn, topic, 1)
    expect(new Set(batches.map((x) => x.compression))).toEqual(new Set(['lz4']))
    const got = await read(topic)
    expect(got.map((p) => [p.partition, p.offset, p.key, p.value])).toEqual([
      [1, 0, 'user-1', '{"plan":"pro"}'],
      [1, 1, null, 'no delimiter here'],
      [1, 2, null, 'empty key'],
      [1, 3, 'user-2', null],
      [1, 4, 'user-3', 'a:b\ttab'],
    ])
    for (const p of got)
      expect(p.headers).toEqual([
        { key: 'src', value: 'cli' },
        { key: 'run', value: '1' },
      ])
    // Keyed records without -p go where Kafka's default partitioner puts them: the same key, the same partition.
    const keyed = await runSkiff(['produce', ...b, '-t', topic, '-k', ':'], { stdin: 'same:1\nsame:2\nsame:3\n' })
    expect(keyed.code).toBe(0)
    const same = (await read(topic)).filter((p) => p.key === 'same')
    expect(same.map((p) => p.value)).toEqual(['1', '2', '3'])
    expect(new Set(same.map((p) => p.partition)).size).toBe(1)
  })

  test('JSON lines: keys, values, tombstones, headers, partitions, timestamps, base64; a bad line stops with exit 1', async () => {
    const topic = (await createTopic(conn, { prefix: 'cli-produce-json', partitions: 2 })).name
    const lines = [
      { key: 'a', value: 'text', headers: { h: '1', n: null }, partition: 1, timestamp: 1714564800000 },
      { key: 'b', value: { nested: [1, 2] }, partition: 0, timestamp: '2024-05-01T12:00:01Z' },
      { key: 'c', value: null, partition: 0, headers: [{ key: 'x', value: 'y' }, ['z', 'w']] },
      { value: 42, partition: 0 },
    ]
    const r = await runSkiff(['produce', ...b, '-t', topic, '--json'], {
      stdin: `${lines.map((l) => JSON.stringify(l)).join('\n')}\n\n`,
    })
    expect(r.code).toBe(0)
    expect(r.err).toMatch(/^skiff: produced 4 records to .* \(partitions 0,1\) in /)
    const got = await read(topic)
    expect(got.map((p) => [p.partition, p.offset, p.key, p.value, p.headers])).toEqual([
      [0, 0, 'b', '{"nested":[1,2]}', []],
      [
        0,
        1,
        'c',
        null,
        [
          { key: 'x', value: 'y' },
          { key: 'z', value: 'w' },
        ],
      ],
      [0, 2, null, '42', []],
      [
        1,
        0,
        'a',
        'text',
        [
          { key: 'h', value: '1' },
          { key: 'n', value: null },
        ],
      ],
    ])
    expect(got[0]!.timestamp).toBe(Date.parse('2024-05-01T12:00:01Z'))
    expect(got[3]!.timestamp).toBe(1714564800000)

    // Binary through --key hex / --value base64.
    const bytes = Buffer.from([0, 1, 0xfe, 0xff, 0x0a])
    const bin = await runSkiff(['produce', ...b, '-t', topic, '--json', '--key', 'hex', '--value', 'base64'], {
      stdin: `${JSON.stringify({ key: '00ff', value: bytes.toString('base64'), partition: 1 })}\n`,
    })
    expect(bin.code).toBe(0)
    const back = (await read(topic, ['-p', '1', '-o', '1', '--key', 'hex', '--value', 'base64']))[0]!
    expect([back.key, Buffer.from(back.value!, 'base64')]).toEqual(['00ff', bytes])

    // A line that is not JSON: what came before it is written, the rest is not, exit 1.
    const bad = await runSkiff(['produce', ...b, '-t', topic, '--json', '-p', '0'], {
      stdin: '{"value":"ok"}\nnot json\n{"value":"never"}\n',
    })
    expect(bad.code).toBe(1)
    const [summary, error] = bad.err.trimEnd().split('\n')
    expect(summary).toMatch(/^skiff: produced 1 record to /)
    expect(error).toMatch(/^skiff: error: line 2 is not JSON \(/)
    expect((await read(topic, ['-p', '0'])).map((p) => p.value)).toEqual(['{"nested":[1,2]}', null, '42', 'ok'])
  })

  test('skiff fetch | skiff produce --json copies a topic: keys, values, headers, partitions and timestamps', async () => {
    const from = (await createTopic(conn, { prefix: 'cli-copy-from', partitions: 2 })).name
    const to = (await createTopic(conn, { prefix: 'cli-copy-to', partitions: 2 })).name
    await runSkiff(['produce', ...b, '-t', from, '--json', '--value', 'base64'], {
      stdin: [
        { key: 'k', value: Buffer.from([0xff, 0, 1]).toString('base64'), partition: 1, timestamp: 1700000000000 },
        { key: null, value: null, partition: 0, headers: { h: Buffer.from('v').toString('base64') } },
        { key: 'k2', value: Buffer.from('text').toString('base64'), partition: 0, timestamp: 1700000000001 },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n'),
    })
    const dump = await runSkiff(['fetch', ...b, '-t', from, '--value', 'base64'])
    expect(dump.lines).toHaveLength(3)
    const copy = await runSkiff(['produce', ...b, '-t', to, '--json', '--value', 'base64'], { stdin: dump.out })
    expect(copy.code).toBe(0)
    const strip = (rows: Printed[]) =>
      rows.map(({ partition, offset, timestamp, key, value, headers }) => ({
        partition,
        offset,
        timestamp,
        key,
        value,
        headers,
      }))
    expect(strip(await read(to, ['--value', 'base64']))).toEqual(strip(await read(from, ['--value', 'base64'])))
  })
})

describe(`authentication (a SASL listener of skiff broker, Kafka ${kafka.version})`, () => {
  test('wrong password (PLAIN, SCRAM), no credentials: exit 3 and what to check; the right ones work', async () => {
    const { sasl, user, password } = await saslReady
    const topic = uniqueTopic('cli-sasl')
    // First, that the credentials are right, so the refusals below are about the credentials.
    const env = { SKIFF_SASL_PASSWORD: password }
    // SCRAM users exist on the jvm provider's brokers; the testcontainers image has PLAIN only.
    const scramToo = kafka.provider === 'jvm'
    const auth = ['-b', sasl, '--sasl-mechanism', scramToo ? 'SCRAM-SHA-256' : 'PLAIN', '--sasl-username', user]
    expect((await runSkiff(['topics', 'create', ...auth, topic], { env })).code).toBe(0)
    expect((await runSkiff(['produce', ...auth, '-t', topic], { env, stdin: 'over sasl\n' })).code).toBe(0)
    const ok = await runSkiff(['fetch', ...auth, '-t', topic, '-f', 'raw'], { env })
    expect([ok.code, ok.out, ok.err]).toEqual([0, 'over sasl\n', ''])

    const plain = await runSkiff([
      'fetch',
      '-b',
      sasl,
      '-t',
      topic,
      '--sasl-mechanism',
      'PLAIN',
      '--sasl-username',
      user,
      '--sasl-password',
      'wrong',
    ])
    expect(plain.code).toBe(3)
    expect(plain.out).toBe('')
    expect(oneErrorLine(plain.err)).toMatch(
      new RegExp(
        `^PLAIN authentication failed at ${sasl}: SASL_AUTHENTICATION_FAILED: [^;]+; check --sasl-mechanism, --sasl-username and --sasl-password$`,
      ),
    )
    if (scramToo) {
      const scram = await runSkiff(
        ['lag', '-b', sasl, '-g', 'g', '--sasl-mechanism', 'scram-sha-512', '--sasl-username', 'nobody'],
        { env },
      )
      expect(scram.code).toBe(3)
      expect(oneErrorLine(scram.err)).toMatch(
        /^SCRAM-SHA-512 authentication failed at [\d.:]+: SASL_AUTHENTICATION_FAILED: [^;]+; check --sasl-mechanism, --sasl-username and --sasl-password$/,
      )
    }
    const none = await runSkiff(['topics', 'list', '-b', sasl])
    expect(none.code).toBe(3)
    expect(oneErrorLine(none.err)).toBe(
      `cannot reach Kafka at ${sasl}: the broker closed the connection (does this listener need --tls or --sasl-mechanism?)`,
    )
    // A mechanism the CLI does not speak is a usage error, found before connecting.
    const unknown = await runSkiff([
      'topics',
      'list',
      '-b',
      sasl,
      '--sasl-mechanism',
      'GSSAPI',
      '--sasl-username',
      user,
    ])
    expect(unknown.code).toBe(2)
  })

  test('skiff broker stops its Kafka on Ctrl-C: exit 0, and the listener is gone', async () => {
    const { plaintext } = await saslReady
    expect((await runSkiff(['topics', 'list', '-b', plaintext])).code).toBe(0)
    saslBroker!.child.kill('SIGINT')
    const r = await saslBroker!.exited(60_000)
    expect([r.code, r.signal]).toEqual([0, null])
    expect(r.err).toMatch(/skiff: stopping Kafka\.\.\.\n$/)
    const after = await runSkiff(['topics', 'list', '-b', plaintext])
    expect(after.code).toBe(3)
  })
})
