import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Connection } from '../../src/client/connection.js'
import { runSkiff } from '../helpers/cli.js'
import { fetchBatches } from '../helpers/fetch.js'
import { compileJava, kafkaClientsClasspath, prng } from '../helpers/java-assignors.js'
import { connectTestBroker, testKafka } from '../helpers/kafka.js'
import { type KcatMessage, kcatAvailable } from '../helpers/kcat.js'
import { createTopic, note } from '../helpers/protocol.js'

/**
 * `skiff fetch` against independent writers and readers: topics kcat (librdkafka) wrote in every codec are printed
 * as `kcat -C -J` prints them, and what Kafka's Java producer wrote — binary payloads, committed and aborted
 * transactions — is printed as it was sent.
 */
const bootstrap = testKafka().bootstrap
const execFileAsync = promisify(execFile)
const b = ['-b', bootstrap]

/** One record as both tools can show it, for comparing their JSON. */
interface Row {
  partition: number
  offset: number
  timestamp: number
  key: string | null
  value: string | null
  headers: Array<[string, string | null]>
}

interface SkiffJson {
  topic: string
  partition: number
  offset: number
  timestamp: number
  key?: string | null
  value?: string | null
  headers: Array<{ key: string; value: string | null }>
}

function skiffRows(lines: string[], topic: string): Row[] {
  return lines.map((line) => {
    const o = JSON.parse(line) as SkiffJson
    expect(o.topic).toBe(topic)
    return {
      partition: o.partition,
      offset: o.offset,
      timestamp: o.timestamp,
      key: o.key ?? null,
      value: o.value ?? null,
      headers: o.headers.map((h) => [h.key, h.value]),
    }
  })
}

/** kcat -J: `ts` for the timestamp, `payload` for the value, headers as a flat [k, v, k, v] list (absent when none). */
function kcatRows(messages: KcatMessage[]): Row[] {
  return messages.map((m) => {
    const h = m.headers ?? []
    const headers: Array<[string, string | null]> = []
    for (let i = 0; i < h.length; i += 2) headers.push([h[i]!, h[i + 1] ?? null])
    return { partition: m.partition, offset: m.offset, timestamp: m.ts, key: m.key, value: m.payload, headers }
  })
}

const byPosition = (a: Row, b: Row) => a.partition - b.partition || a.offset - b.offset

/** `kcat -C -J -e` with the given range arguments, every partition unless `-p` is among them. */
async function kcatJson(topic: string, args: string[]): Promise<Row[]> {
  const { stdout: out } = await execFileAsync('kcat', ['-b', bootstrap, '-t', topic, '-C', '-J', '-e', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  })
  return kcatRows(
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as KcatMessage),
  ).sort(byPosition)
}

/** kcatProduce (test/helpers/kcat.ts) without blocking the event loop, so that several can run at once. */
async function kcatProduceAsync(topic: string, lines: string[], args: string[]): Promise<void> {
  const kcat = execFile(
    'kcat',
    ['-b', bootstrap, '-t', topic, '-P', '-X', 'topic.request.required.acks=all', ...args],
    {
      timeout: 60_000,
    },
  )
  kcat.stdin!.end(`${lines.join('\n')}\n`)
  let err = ''
  kcat.stderr!.on('data', (c: Buffer) => {
    err += c
  })
  const [code] = (await once(kcat, 'close')) as [number | null]
  if (code !== 0) throw new Error(`kcat -P exited with ${code}: ${err}`)
}

async function skiffJson(topic: string, args: string[]): Promise<Row[]> {
  const r = await runSkiff(['fetch', ...b, '-t', topic, ...args])
  expect(r.err).toBe('')
  expect(r.code).toBe(0)
  return skiffRows(r.lines, topic).sort(byPosition)
}

let conn: Connection
beforeAll(async () => {
  conn = await connectTestBroker()
})
afterAll(async () => {
  await conn?.close()
})

describe.skipIf(!kcatAvailable())(
  `skiff fetch -f json prints what kcat -C -J prints (Kafka ${testKafka().version})`,
  () => {
    const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
    let topic: string
    /** What kcat was given, per partition: [key, value] with null for the empty (-Z) ones, and headers. */
    const written = new Map<number, Array<{ key: string | null; value: string | null; headers: string[][] }>>()

    beforeAll(async () => {
      // One partition per codec, each written by two kcat runs (two batches): the first with headers (repeated and
      // empty ones too), null keys and tombstones; the second without headers.
      topic = (await createTopic(conn, { prefix: 'cli-kcat', partitions: CODECS.length })).name
      // The partitions are written side by side; each partition's two runs one after the other.
      const write = async (partition: number, codec: (typeof CODECS)[number]) => {
        const headers = [
          ['codec', codec],
          ['empty', ''],
          ['dup', 'one'],
          ['dup', 'two'],
        ]
        const first = [
          `k1:plain ${codec}`,
          `:no key ${codec}`,
          `tomb-${codec}:`,
          ':',
          `ключ:üñíçødé ✓ ${codec} 🚣`,
          'quoted:"quotes" and \\backslashes\\ and\ttabs',
          'json:{"level":"info","n":5,"nested":{"a":[1,2]}}',
          `big:${'log line with some repetition 0123456789 '.repeat(600)}`,
        ]
        // Values long enough to compress: librdkafka sends a batch uncompressed when compressing does not shrink it.
        const second = Array.from(
          { length: 25 },
          (_, i) => `${i % 5 === 0 ? '' : `key-${i}`}:value ${i} ${codec} ${'padding '.repeat(20)}`,
        )
        // linger.ms: each run's lines go in one batch, however the machine schedules kcat.
        const batching = ['-X', 'linger.ms=100']
        await kcatProduceAsync(topic, first, [
          ...batching,
          '-K',
          ':',
          '-Z',
          '-z',
          codec,
          '-p',
          String(partition),
          ...headers.flatMap(([k, v]) => ['-H', `${k}=${v}`]),
        ])
        await kcatProduceAsync(topic, second, [...batching, '-K', ':', '-Z', '-z', codec, '-p', String(partition)])
        const split = (line: string) => {
          const i = line.indexOf(':')
          return { key: line.slice(0, i) || null, value: line.slice(i + 1) || null }
        }
        written.set(partition, [
          ...first.map((l) => ({ ...split(l), headers })),
          ...second.map((l) => ({ ...split(l), headers: [] })),
        ])
      }
      await Promise.all(CODECS.map((codec, partition) => write(partition, codec)))
    })

    test('every record of every codec: offsets, timestamps, keys, values, headers, null keys and tombstones', async () => {
      // The batches really are compressed with the partition's codec (else this would test less than it claims);
      // librdkafka sends a batch that compression would not shrink as it is, so one may be 'none'.
      for (const [partition, codec] of CODECS.entries()) {
        const { batches } = await fetchBatches(conn, topic, partition)
        expect(batches.length, codec).toBeGreaterThanOrEqual(2)
        expect(
          batches.map((x) => x.compression),
          codec,
        ).toContain(codec)
        expect(
          batches.filter((x) => x.compression !== codec && x.compression !== 'none'),
          codec,
        ).toEqual([])
      }
      const ours = await skiffJson(topic, [])
      const theirs = await kcatJson(topic, ['-o', 'beginning'])
      expect(ours).toHaveLength(CODECS.length * 33)
      expect(ours).toEqual(theirs)
      // And what kcat was given, independently of how kcat reads it back.
      for (const [partition, sent] of written) {
        const rows = ours.filter((r) => r.partition === partition)
        expect(rows.map((r) => r.offset)).toEqual(sent.map((_, i) => i))
        expect(rows.map((r) => [r.key, r.value, r.headers])).toEqual(sent.map((s) => [s.key, s.value, s.headers]))
      }
      expect(ours.filter((r) => r.value === null)).toHaveLength(CODECS.length * 2)
      expect(ours.filter((r) => r.key === null)).toHaveLength(CODECS.length * 7)
    })

    test('the same ranges as kcat: -o N -c, -o -N, -o @ms, --until @ms, -o N on one partition', async () => {
      // @ms: the time of the second kcat run on the snappy partition, which cuts that partition between its batches
      // (the others, written side by side with it, fall wherever they fall: kcat says where).
      const secondRun = (await skiffJson(topic, ['-p', '2', '-o', '8', '-c', '1']))[0]!
      const cases: Array<[string[], string[]]> = [
        [
          ['-p', '3', '-o', '5', '-c', '4'],
          ['-p', '3', '-o', '5', '-c', '4'],
        ],
        [
          ['-o', '-3'],
          ['-o', '-3'],
        ],
        [
          ['-p', '1', '-o', '30'],
          ['-p', '1', '-o', '30'],
        ],
        [
          ['-o', `@${secondRun.timestamp}`],
          ['-o', `s@${secondRun.timestamp}`],
        ],
        [
          ['--until', `@${secondRun.timestamp}`],
          ['-o', 'beginning', '-o', `e@${secondRun.timestamp}`],
        ],
      ]
      const got = await Promise.all(
        cases.map(([skiffArgs, kcatArgs]) => Promise.all([skiffJson(topic, skiffArgs), kcatJson(topic, kcatArgs)])),
      )
      for (const [i, [skiffArgs]] of cases.entries()) {
        const [ours, theirs] = got[i]!
        expect(ours.length, skiffArgs.join(' ')).toBeGreaterThan(0)
        expect(ours, skiffArgs.join(' ')).toEqual(theirs)
      }
    })
  },
)

const JAVA_SOURCE = join(import.meta.dirname, '..', 'fixtures', 'cli', 'CliJavaProducer.java')
const classpath = kafkaClientsClasspath(testKafka().version)
const classes = classpath && compileJava(JAVA_SOURCE, classpath)
if (!classes) note('java/javac or the kafka-clients jar missing: skiff fetch not checked against the Java producer')

/** A record for the Java producer: keys, values and header values as bytes, or null. */
interface Sent {
  partition: number
  key: Buffer | null
  value: Buffer | null
  headers: Array<[string, Buffer | null]>
}

const hexArg = (v: Buffer | null) => (v === null ? '-' : `x${v.toString('hex')}`)

/** Runs test/fixtures/cli/CliJavaProducer.java; resolves with [partition, offset, timestamp] per record sent. */
async function javaProduce(commands: string[], compression = 'gzip'): Promise<Array<[number, number, number]>> {
  const java = execFile(
    'java',
    [
      '-cp',
      `${classpath}:${classes}`,
      'CliJavaProducer',
      bootstrap,
      `skiff-cli-${randomBytes(4).toString('hex')}`,
      compression,
    ],
    { encoding: 'utf8', timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
  )
  java.stdin!.end(`${commands.join('\n')}\n`)
  let out = ''
  let err = ''
  java.stdout!.on('data', (c: string) => {
    out += c
  })
  java.stderr!.on('data', (c: string) => {
    err += c
  })
  const [code] = (await once(java, 'close')) as [number | null]
  if (code !== 0) throw new Error(`CliJavaProducer exited with ${code}: ${err}`)
  return out
    .trim()
    .split('\n')
    .map((l) => l.split(' ').map(Number) as [number, number, number])
}

function sendCommand(topic: string, s: Sent): string {
  return [
    'send',
    topic,
    s.partition,
    hexArg(s.key),
    hexArg(s.value),
    ...s.headers.map(([k, v]) => `${k}=${hexArg(v)}`),
  ].join(' ')
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

describe.skipIf(!classes)(`skiff fetch and Kafka's Java producer (Kafka ${testKafka().version})`, () => {
  // One run of the Java producer (one JVM start) writes both topics: binary records, then transactions.
  let binTopic: string
  let txnTopic: string
  const random = prng(7)
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)))
  const special = [
    Buffer.from(Array.from({ length: 256 }, (_, i) => i)), // every byte value
    Buffer.from([0xff, 0xfe, 0xfd]), // never UTF-8
    Buffer.from([0xc3, 0x28]), // a broken two-byte sequence
    Buffer.from('line\nbreak\r\n\u0000nul'),
    Buffer.alloc(0), // empty, not null
  ]
  const sent: Sent[] = []
  for (const [i, v] of special.entries())
    sent.push({ partition: 0, key: Buffer.from([i, 0x80]), value: v, headers: [['bin', v]] })
  for (let i = 0; i < 40; i++)
    sent.push({
      partition: i % 2,
      key: i % 7 === 3 ? null : bytes(Math.floor(random() * 16)),
      value: i % 11 === 5 ? null : bytes(Math.floor(random() * 4000)),
      headers:
        i % 3 === 0
          ? []
          : [
              ['h', bytes(8)],
              ['nul', null],
            ],
    })
  const txnValue = (tag: string) => Buffer.concat([Buffer.from(tag), Buffer.from([0x00, 0xff, 0x80])])
  const steps: Array<string | { tag: string; committed: boolean }> = [
    { tag: 'pre-0', committed: true },
    { tag: 'pre-1', committed: true },
    'begin',
    ...['c1-0', 'c1-1', 'c1-2'].map((tag) => ({ tag, committed: true })),
    'commit',
    'begin',
    ...['a1-0', 'a1-1', 'a1-2'].map((tag) => ({ tag, committed: false })),
    'abort',
    'begin',
    { tag: 'c2-0', committed: true },
    'commit',
    // The log ends with an aborted transaction and its marker: read_committed must still see the end.
    'begin',
    ...['a2-0', 'a2-1'].map((tag) => ({ tag, committed: false })),
    'abort',
  ]
  const txnRecords = steps.filter((s) => typeof s !== 'string')
  /** Where the Java producer put each record of `sent`, then of `txnRecords`: [partition, offset, timestamp]. */
  let placed: Array<[number, number, number]>

  beforeAll(async () => {
    binTopic = (await createTopic(conn, { prefix: 'cli-java-bin', partitions: 2 })).name
    txnTopic = (await createTopic(conn, { prefix: 'cli-java-txn', partitions: 1 })).name
    placed = await javaProduce([
      ...sent.map((s) => sendCommand(binTopic, s)),
      ...steps.map((s) =>
        typeof s === 'string'
          ? s
          : sendCommand(txnTopic, { partition: 0, key: Buffer.from(s.tag), value: txnValue(s.tag), headers: [] }),
      ),
    ])
    expect(placed).toHaveLength(sent.length + txnRecords.length)
  })

  test('binary keys, values and headers come out as sent with --key/--value hex and base64, and raw bytes with -f raw', async () => {
    const topic = binTopic
    const expected = new Map(placed.slice(0, sent.length).map(([p, o, ts], i) => [`${p}:${o}`, { ...sent[i]!, ts }]))
    expect(placed.slice(0, sent.length).map(([p]) => p)).toEqual(sent.map((s) => s.partition))

    const hex = await runSkiff(['fetch', ...b, '-t', topic, '--key', 'hex', '--value', 'hex'])
    expect(hex.err).toBe('')
    expect(hex.code).toBe(0)
    expect(hex.lines).toHaveLength(sent.length)
    for (const line of hex.lines) {
      const o = JSON.parse(line) as SkiffJson
      const s = expected.get(`${o.partition}:${o.offset}`)
      expect(s, `${o.partition}:${o.offset}`).toBeDefined()
      expect(o.timestamp).toBe(s!.ts)
      expect(o.key).toBe(s!.key?.toString('hex') ?? null)
      expect(o.value).toBe(s!.value?.toString('hex') ?? null)
      // Header values take the value encoding.
      expect(o.headers).toEqual(s!.headers.map(([k, v]) => ({ key: k, value: v?.toString('hex') ?? null })))
    }

    // base64: a hash per offset, as a script checking a copy would.
    const b64 = await runSkiff(['fetch', ...b, '-t', topic, '--key', 'base64', '--value', 'base64'])
    expect(b64.code).toBe(0)
    const hashes = new Map(
      b64.lines.map((line) => {
        const o = JSON.parse(line) as SkiffJson
        return [`${o.partition}:${o.offset}`, o.value === null ? null : sha256(Buffer.from(o.value!, 'base64'))]
      }),
    )
    expect(hashes).toEqual(new Map([...expected].map(([k, s]) => [k, s.value === null ? null : sha256(s.value)])))

    // -f raw: the value's bytes and a newline, nothing else.
    const raw = await runSkiff(['fetch', ...b, '-t', topic, '-p', '0', '-o', '0', '-c', '2', '-f', 'raw'])
    expect(raw.code).toBe(0)
    expect(raw.stdout).toEqual(Buffer.concat([special[0]!, Buffer.from('\n'), special[1]!, Buffer.from('\n')]))

    // The default (utf8) cannot show these bytes: still one JSON object per line, and one warning that says what to use.
    const lossy = await runSkiff(['fetch', ...b, '-t', topic, '-p', '0', '-o', '0', '-c', '5'])
    expect(lossy.code).toBe(0)
    expect(lossy.lines.map((l) => (JSON.parse(l) as SkiffJson).offset)).toEqual([0, 1, 2, 3, 4])
    expect(lossy.err.split('\n')).toEqual([
      'skiff: a key is not valid UTF-8 and was printed lossily; use --key base64 or hex for binary data',
      'skiff: a value is not valid UTF-8 and was printed lossily; use --value base64 or hex for binary data',
      'skiff: a header is not valid UTF-8 and was printed lossily; use --value base64 or hex for binary data',
      '',
    ])
  })

  test('--isolation read_committed hides aborted transactions; the default shows every record; both end', async () => {
    const topic = txnTopic
    const all = txnRecords.map((r, i) => ({
      offset: placed[sent.length + i]![1],
      key: r.tag,
      value: txnValue(r.tag).toString('hex'),
    }))

    const read = async (isolation: string[]) => {
      const r = await runSkiff(['fetch', ...b, '-t', topic, '--value', 'hex', ...isolation], { timeoutMs: 20_000 })
      expect(r.err).toBe('')
      expect(r.code).toBe(0)
      return r.lines.map((l) => {
        const o = JSON.parse(l) as SkiffJson
        return { offset: o.offset, key: o.key, value: o.value }
      })
    }
    expect(await read([])).toEqual(all)
    expect(await read(['--isolation', 'read_uncommitted'])).toEqual(all)
    expect(await read(['--isolation', 'read_committed'])).toEqual(all.filter((_, i) => txnRecords[i]!.committed))
    // A count that reaches into the aborted range takes committed records only.
    const two = await runSkiff(['fetch', ...b, '-t', topic, '--isolation', 'read_committed', '-o', '4', '-c', '2'])
    expect(two.lines.map((l) => (JSON.parse(l) as SkiffJson).key)).toEqual(['c1-2', 'c2-0'])
  })
})
