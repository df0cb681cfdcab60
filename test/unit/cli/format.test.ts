import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  type Encoding,
  escapeText,
  formatBytes,
  formatCount,
  formatDuration,
  isoTime,
  RecordFormatter,
  table,
} from '../../../src/cli/format.js'
import { JsonLineEncoder } from '../../../src/cli/json-lines.js'
import { formatProgress } from '../../../src/cli/progress.js'
import type { ConsumerRecord } from '../../../src/index.js'

const RUNS = Number(process.env.SKIFF_FUZZ_RUNS ?? 200)

function record(partial: Partial<ConsumerRecord> & { offset: number }): ConsumerRecord {
  return {
    topic: 't',
    partition: 0,
    timestamp: Date.UTC(2024, 4, 1, 12),
    key: null,
    value: null,
    headers: [],
    ...partial,
  }
}

const buf = (s: string) => Buffer.from(s)

/** What a JSON line must be: the record as JSON.stringify writes it (the encoder's fast path must agree). */
function reference(r: ConsumerRecord, key: Encoding, value: Encoding): string {
  const enc = (b: Buffer | null, e: Encoding): unknown => {
    if (b === null) return null
    if (e === 'hex' || e === 'base64') return b.toString(e)
    if (e === 'json') {
      try {
        return JSON.parse(b.toString('utf8'))
      } catch {
        return b.toString('utf8')
      }
    }
    return b.toString('utf8')
  }
  const headerEnc: Encoding = value === 'hex' || value === 'base64' ? value : 'utf8'
  const o: Record<string, unknown> = {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
  }
  if (key !== 'none') o.key = enc(r.key, key)
  if (value !== 'none') o.value = enc(r.value, value)
  o.headers = r.headers.map((h) => ({ key: h.key, value: enc(h.value, headerEnc) }))
  return `${JSON.stringify(o)}\n`
}

const ENCODINGS: Encoding[] = ['utf8', 'json', 'hex', 'base64', 'none']

/** Bytes of every kind the fast path must get right or hand over: plain ASCII, escapes, UTF-8, junk, JSON. */
const bytes = fc
  .tuple(
    fc.oneof(
      fc.string({ maxLength: 40 }).map(buf),
      fc
        .string({
          unit: fc.constantFrom('a', 'b', ' ', '"', '\\', '\n', '\t', '\u0000', '\u001f', '\u007f', 'é', '✓', '🚣'),
          maxLength: 40,
        })
        .map(buf),
      fc.string({ unit: 'binary', maxLength: 30 }).map(buf),
      fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
      fc.json().map(buf),
      fc.constant(Buffer.alloc(0)),
    ),
    fc.nat(7),
  )
  // Decoded records are views into larger buffers, at any alignment.
  .map(([b, at]) => {
    const backing = Buffer.alloc(b.length + at + 3, 0x41)
    b.copy(backing, at)
    return backing.subarray(at, at + b.length)
  })

const records = fc.array(
  fc.record({
    topic: fc.constantFrom('t', 'orders', 'ключ', 'with"quote'),
    partition: fc.nat(1000),
    offset: fc.maxSafeNat(),
    timestamp: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 8.64e15 })),
    key: fc.option(bytes, { nil: null }),
    value: fc.option(bytes, { nil: null }),
    headers: fc.array(fc.record({ key: fc.string({ maxLength: 8 }), value: fc.option(bytes, { nil: null }) }), {
      maxLength: 3,
    }),
  }),
  { minLength: 1, maxLength: 8 },
)

describe('JSON lines', () => {
  test('the encoder writes exactly what JSON.stringify writes, for any bytes, encodings and chunk range', () => {
    fc.assert(
      fc.property(
        records,
        fc.constantFrom(...ENCODINGS),
        fc.constantFrom(...ENCODINGS),
        fc.nat(),
        fc.nat(),
        (rs, key, value, a, b) => {
          const from = a % rs.length
          const to = from + (b % (rs.length - from + 1))
          const encoder = new JsonLineEncoder({ key, value })
          const out = encoder.encode(rs, from, to).toString('utf8')
          expect(out).toBe(
            rs
              .slice(from, to)
              .map((r) => reference(r, key, value))
              .join(''),
          )
          for (const line of out.split('\n').slice(0, -1)) JSON.parse(line)
        },
      ),
      { numRuns: RUNS * 5 },
    )
  })

  test('long values grow the buffer; a chunk handed to stdout is never overwritten by the next', () => {
    const encoder = new JsonLineEncoder({ key: 'utf8', value: 'utf8' })
    const big = record({ offset: 1, value: Buffer.alloc(200_000, 'x'), key: buf('k') })
    const first = encoder.encode([big, big], 0, 2)
    const copy = Buffer.from(first)
    const second = encoder.encode([record({ offset: 2, value: buf('small') })], 0, 1)
    expect(first.equals(copy)).toBe(true)
    expect(first.toString()).toBe(reference(big, 'utf8', 'utf8').repeat(2))
    expect(second.toString()).toBe(reference(record({ offset: 2, value: buf('small') }), 'utf8', 'utf8'))
  })

  test('lossy renderings are reported: bytes that are not UTF-8, values that are not JSON', () => {
    const seen: string[] = []
    const encoder = new JsonLineEncoder({
      key: 'utf8',
      value: 'json',
      onLossy: (what, problem) => seen.push(`${what}:${problem}`),
    })
    encoder.encode(
      [
        record({ offset: 0, key: Buffer.from([0xff]), value: buf('{"ok":1}') }),
        record({
          offset: 1,
          key: buf('k'),
          value: buf('not json'),
          headers: [{ key: 'h', value: Buffer.from([0xc3]) }],
        }),
      ],
      0,
      2,
    )
    expect(seen).toEqual(['key:utf8', 'value:json', 'header:utf8'])
  })
})

describe('RecordFormatter', () => {
  const fmt = (options: Partial<ConstructorParameters<typeof RecordFormatter>[0]>, warnings: string[] = []) =>
    new RecordFormatter({
      format: 'json',
      key: 'utf8',
      value: 'utf8',
      headers: false,
      color: false,
      warn: (m) => warnings.push(m),
      ...options,
    })
  const render = (f: RecordFormatter, rs: ConsumerRecord[]) => f.render(rs).toString()

  const sample = [
    record({
      offset: 5,
      key: buf('k'),
      value: buf('tab\tnew\nline\\ cr\r'),
      headers: [{ key: 'h\t1', value: buf('a\nb') }],
    }),
    record({
      offset: 6,
      key: null,
      value: null,
      headers: [
        { key: 'n', value: null },
        { key: 'e', value: buf('') },
      ],
    }),
    record({ offset: 7, timestamp: -1, key: buf(''), value: buf('{"a": [1, 2]}') }),
  ]

  test('json: null key and value, headers with null and empty values, --key/--value none leave the field out', () => {
    expect(
      render(fmt({}), sample)
        .split('\n')
        .slice(0, -1)
        .map((l) => JSON.parse(l)),
    ).toEqual([
      {
        topic: 't',
        partition: 0,
        offset: 5,
        timestamp: 1714564800000,
        key: 'k',
        value: 'tab\tnew\nline\\ cr\r',
        headers: [{ key: 'h\t1', value: 'a\nb' }],
      },
      {
        topic: 't',
        partition: 0,
        offset: 6,
        timestamp: 1714564800000,
        key: null,
        value: null,
        headers: [
          { key: 'n', value: null },
          { key: 'e', value: '' },
        ],
      },
      { topic: 't', partition: 0, offset: 7, timestamp: -1, key: '', value: '{"a": [1, 2]}', headers: [] },
    ])
    const bare = JSON.parse(render(fmt({ key: 'none', value: 'none' }), [sample[0]!]))
    expect(Object.keys(bare)).toEqual(['topic', 'partition', 'offset', 'timestamp', 'headers'])
  })

  test('text: tab-separated, escaped, (null) for null, ISO times, and a headers column with --headers', () => {
    expect(render(fmt({ format: 'text', headers: true }), sample)).toBe(
      [
        '0:5\t2024-05-01T12:00:00.000Z\tk\ttab\\tnew\\nline\\\\ cr\\r\th\\t1=a\\nb',
        '0:6\t2024-05-01T12:00:00.000Z\t(null)\t(null)\tn=(null),e=',
        '0:7\t-1\t\t{"a": [1, 2]}\t',
        '',
      ].join('\n'),
    )
    expect(render(fmt({ format: 'text', key: 'none' }), [sample[2]!])).toBe('0:7\t-1\t{"a": [1, 2]}\n')
    expect(render(fmt({ format: 'text', value: 'json' }), [sample[2]!])).toBe('0:7\t-1\t\t{"a":[1,2]}\n')
    expect(render(fmt({ format: 'text', key: 'hex', value: 'base64', headers: true }), [sample[0]!])).toBe(
      `0:5\t2024-05-01T12:00:00.000Z\t6b\t${buf('tab\tnew\nline\\ cr\r').toString('base64')}\th\\t1=${buf('a\nb').toString('base64')}\n`,
    )
  })

  test('text on a terminal dims the metadata columns', () => {
    expect(render(fmt({ format: 'text', color: true, headers: true }), [sample[2]!])).toBe(
      '\x1b[2m0:7\t-1\x1b[0m\t\t{"a": [1, 2]}\t\x1b[2m\x1b[0m\n',
    )
  })

  test('raw: the value bytes and a newline; null and --value none print an empty line', () => {
    const binary = record({ offset: 1, value: Buffer.from([0, 0xff, 0x0a]) })
    expect(fmt({ format: 'raw' }).render([binary, sample[1]!])).toEqual(Buffer.from([0, 0xff, 0x0a, 0x0a, 0x0a]))
    expect(fmt({ format: 'raw', value: 'hex' }).render([binary]).toString()).toBe('00ff0a\n')
    expect(fmt({ format: 'raw', value: 'none' }).render([binary, binary]).toString()).toBe('\n\n')
    expect(fmt({ format: 'raw', value: 'json' }).render([sample[2]!]).toString()).toBe('{"a":[1,2]}\n')
  })

  test('warnings: once per kind, saying which flag fixes it', () => {
    const warnings: string[] = []
    const f = fmt({ value: 'json' }, warnings)
    const bad = record({ offset: 1, key: Buffer.from([0xff]), value: buf('nope') })
    f.render([bad, bad, bad])
    f.render([bad])
    expect(warnings).toEqual([
      'a key is not valid UTF-8 and was printed lossily; use --key base64 or hex for binary data',
      'a value is not JSON; printed as a string',
    ])
  })

  test('only the requested range of a chunk is rendered', () => {
    expect(fmt({ format: 'raw' }).render(sample, 1, 2).toString()).toBe('\n')
    expect(fmt({}).render(sample, 2, 2).length).toBe(0)
  })
})

describe('small formatters', () => {
  test('escapeText and isoTime', () => {
    expect(escapeText('plain')).toBe('plain')
    expect(escapeText('a\\b\tc\rd\ne')).toBe('a\\\\b\\tc\\rd\\ne')
    expect(isoTime(0)).toBe('1970-01-01T00:00:00.000Z')
    expect(isoTime(-1)).toBe('-1')
    expect(isoTime(8.64e15)).toBe('8640000000000000')
  })

  test('formatBytes, formatCount, formatDuration', () => {
    expect([0, 1023, 1024, 1536, 1024 ** 2 * 1.5, 1024 ** 3 * 2].map(formatBytes)).toEqual([
      '0 B',
      '1023 B',
      '1 KiB',
      '1.5 KiB',
      '1.5 MiB',
      '2 GiB',
    ])
    expect(formatCount(1234567.4)).toBe('1,234,567')
    expect(
      [850, 1500, 12_300, 245_000, 2 * 3600_000 + 3 * 60_000, 3 * 86_400_000 + 4 * 3600_000].map(formatDuration),
    ).toEqual(['850 ms', '1.5 s', '12 s', '4m 05s', '2h 03m', '3d 04h'])
  })

  test('table: aligned columns, numbers right-aligned, no trailing spaces', () => {
    expect(
      table(
        [
          ['TOPIC', 'PARTITIONS'],
          ['orders', '12'],
          ['a', '3'],
        ],
        new Set([1]),
      ),
    ).toBe('TOPIC   PARTITIONS\norders          12\na                3')
    expect(
      table([
        ['A', 'B'],
        ['long', 'x'],
      ]),
    ).toBe('A     B\nlong  x')
  })

  test('formatProgress: share done, rates once measurable, an ETA once it means something', () => {
    expect(formatProgress({ records: 0, bytes: 0, offsetsDone: 0, offsetsTotal: 0, elapsedMs: 0 })).toBe(
      '0 records (100%)  0 B',
    )
    expect(
      formatProgress({ records: 5000, bytes: 2 * 1024 ** 2, offsetsDone: 250, offsetsTotal: 1000, elapsedMs: 2000 }),
    ).toBe('5,000 records (25%)  2 MiB  1 MiB/s  2,500 rec/s  ETA 6.0 s')
  })
})
