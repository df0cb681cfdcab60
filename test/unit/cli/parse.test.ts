import { describe, expect, test } from 'vitest'
import { EXIT, UsageError } from '../../../src/cli/errors.js'
import { parseFetchArgs } from '../../../src/cli/fetch.js'
import {
  joinNegativeValues,
  parseChoice,
  parseCount,
  parseDuration,
  parseKeyValue,
  parseOffset,
  parsePartitions,
  parseSize,
  parseTime,
  parseUntil,
} from '../../../src/cli/parse.js'

/** The UsageError (exit 2) `fn` throws. */
function usage(fn: () => unknown): UsageError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError)
    expect((err as UsageError).exitCode).toBe(EXIT.usage)
    return err as UsageError
  }
  throw new Error('expected a UsageError')
}

const MAY_1_NOON = Date.UTC(2024, 4, 1, 12)

describe('-o: where fetch starts', () => {
  test.each([
    ['beginning', { kind: 'beginning' }],
    ['earliest', { kind: 'beginning' }],
    ['first', { kind: 'beginning' }],
    ['end', { kind: 'end' }],
    ['latest', { kind: 'end' }],
    ['last', { kind: 'end' }],
    ['0', { kind: 'offset', offset: 0 }],
    ['1200', { kind: 'offset', offset: 1200 }],
    [' 7 ', { kind: 'offset', offset: 7 }],
    ['-10', { kind: 'fromEnd', count: 10 }],
    ['-0', { kind: 'fromEnd', count: 0 }],
    ['@1714564800000', { kind: 'timestamp', timestamp: MAY_1_NOON }],
    ['@0', { kind: 'timestamp', timestamp: 0 }],
    ['@2024-05-01T12:00:00Z', { kind: 'timestamp', timestamp: MAY_1_NOON }],
    ['@2024-05-01T12:00Z', { kind: 'timestamp', timestamp: MAY_1_NOON }],
    ['@2024-05-01T12:00:00.250Z', { kind: 'timestamp', timestamp: MAY_1_NOON + 250 }],
    ['@2024-05-01T14:00:00+02:00', { kind: 'timestamp', timestamp: MAY_1_NOON }],
    ['@2024-05-01T14:00:00+0200', { kind: 'timestamp', timestamp: MAY_1_NOON }],
    ['@2024-05-01 12:00:00Z', { kind: 'timestamp', timestamp: MAY_1_NOON }],
    // A date alone is midnight UTC (ECMAScript's reading of a date-only ISO form).
    ['@2024-05-01', { kind: 'timestamp', timestamp: Date.UTC(2024, 4, 1) }],
  ])('%j', (text, expected) => {
    expect(parseOffset(text)).toEqual(expected)
  })

  test('a date and time without an offset is local time, as Date.parse reads it', () => {
    expect(parseOffset('@2024-05-01T12:00')).toEqual({
      kind: 'timestamp',
      timestamp: new Date(2024, 4, 1, 12).getTime(),
    })
  })

  test.each([
    ['', 'bad offset "" for -o'],
    ['yesterday', 'bad offset "yesterday" for -o'],
    ['1.5', 'bad offset "1.5" for -o'],
    ['-', 'bad offset "-" for -o'],
    ['--5', 'bad offset "--5" for -o'],
    ['+5', 'bad offset "+5" for -o'],
    ['@', 'bad time "@" for -o'],
    ['@May 1', 'bad time "@May 1" for -o'],
    ['@2024-13-45', 'bad time "@2024-13-45" for -o'],
    ['@-5', 'bad time "@-5" for -o'],
    ['@1969-12-31', 'bad time "@1969-12-31" for -o'],
    ['9007199254740993', '-o: "9007199254740993" is too large'],
  ])('%j is refused', (text, message) => {
    expect(usage(() => parseOffset(text)).message).toMatch(
      new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    )
  })

  test('the message lists what is accepted', () => {
    expect(usage(() => parseOffset('x')).message).toBe(
      'bad offset "x" for -o: use beginning, end, N (an offset), -N (N before the end), @<ms since epoch> or @<ISO date>',
    )
  })
})

describe('--until: where fetch stops', () => {
  test.each([
    ['end', { kind: 'end' }],
    ['0', { kind: 'offset', offset: 0 }],
    ['500', { kind: 'offset', offset: 500 }],
    ['@1714564800000', { kind: 'timestamp', timestamp: MAY_1_NOON }],
    ['@2024-05-01T12:00:00Z', { kind: 'timestamp', timestamp: MAY_1_NOON }],
  ])('%j', (text, expected) => {
    expect(parseUntil(text)).toEqual(expected)
  })

  test.each(['beginning', '-5', 'soon', '@tomorrow', ''])('%j is refused', (text) => {
    expect(usage(() => parseUntil(text)).message).toMatch(/for --until/)
  })

  test('parseTime names the flag it was given for', () => {
    expect(usage(() => parseTime('noon', '--until', '@noon')).message).toBe(
      'bad time "@noon" for --until: use @<ms since epoch> or @<ISO date> such as @2024-05-01T12:00:00Z',
    )
  })
})

describe('counts, partitions, sizes, durations, choices, key=value', () => {
  test('parseCount: whole numbers at or above a minimum', () => {
    expect(parseCount('0', '-c')).toBe(0)
    expect(parseCount(' 12 ', '-c')).toBe(12)
    expect(usage(() => parseCount('0', '-c', { min: 1 })).message).toBe('-c must be at least 1, got 0')
    expect(usage(() => parseCount('1e3', '-c')).message).toBe('-c needs a whole number, got "1e3"')
    expect(usage(() => parseCount('-1', '-c')).message).toBe('-c needs a whole number, got "-1"')
  })

  test('parsePartitions: repeated and comma-separated, sorted, without duplicates', () => {
    expect(parsePartitions(['3', '0,2', '2,', ' 1 '])).toEqual([0, 1, 2, 3])
    expect(parsePartitions([''])).toEqual([])
    expect(usage(() => parsePartitions(['0,x'])).message).toBe('-p needs a whole number, got "x"')
  })

  test.each([
    ['1048576', 1048576],
    ['512KiB', 512 * 1024],
    ['512kib', 512 * 1024],
    ['64k', 64 * 1024],
    ['1MiB', 1024 ** 2],
    ['1 MiB', 1024 ** 2],
    ['1.5MB', 1_500_000],
    ['2G', 2 * 1024 ** 3],
    ['1gb', 1e9],
    ['10b', 10],
  ])('parseSize(%j) = %d', (text, bytes) => {
    expect(parseSize(text, '--max-decompressed-bytes')).toBe(bytes)
  })

  test.each(['lots', '1TiB', '-1MiB', 'MiB', '', '0', '0.1'])('parseSize(%j) is refused', (text) => {
    expect(usage(() => parseSize(text, '--max-decompressed-bytes')).message).toMatch(/--max-decompressed-bytes/)
  })

  test('parseDuration: milliseconds by default, or ms, s, m', () => {
    expect(parseDuration('1500', '--timeout')).toBe(1500)
    expect(parseDuration('1500ms', '--timeout')).toBe(1500)
    expect(parseDuration('10s', '--timeout')).toBe(10_000)
    expect(parseDuration('1.5s', '--timeout')).toBe(1500)
    expect(parseDuration('2m', '--timeout')).toBe(120_000)
    expect(usage(() => parseDuration('1h', '--timeout')).message).toMatch(/^bad duration "1h" for --timeout/)
    expect(usage(() => parseDuration('0', '--timeout')).message).toBe('--timeout must be positive, got 0')
  })

  test('parseChoice and parseKeyValue', () => {
    expect(parseChoice('hex', '--value', ['utf8', 'hex'] as const)).toBe('hex')
    expect(usage(() => parseChoice('HEX', '--value', ['utf8', 'hex'])).message).toBe(
      'bad value "HEX" for --value: use utf8, hex',
    )
    expect(parseKeyValue('a=b=c', '-H')).toEqual(['a', 'b=c'])
    expect(parseKeyValue('a=', '-H')).toEqual(['a', ''])
    expect(usage(() => parseKeyValue('=b', '-H')).message).toBe('-H needs key=value, got "=b"')
    expect(usage(() => parseKeyValue('ab', '-H')).message).toBe('-H needs key=value, got "ab"')
  })
})

describe('-o -10: negative values after the flags that take them', () => {
  test('joinNegativeValues attaches a negative number to -o/--offset only', () => {
    const flags = ['-o', '--offset']
    expect(joinNegativeValues(['-o', '-10', '-c', '5'], flags)).toEqual(['-o-10', '-c', '5'])
    expect(joinNegativeValues(['--offset', '-5'], flags)).toEqual(['--offset=-5'])
    expect(joinNegativeValues(['-o', '-x'], flags)).toEqual(['-o', '-x'])
    expect(joinNegativeValues(['-c', '-5'], flags)).toEqual(['-c', '-5'])
    expect(joinNegativeValues(['-t', 'x', '-o'], flags)).toEqual(['-t', 'x', '-o'])
  })

  test('parseFetchArgs reads -o -10, -o-10 and --offset=-10 alike', () => {
    for (const args of [['-o', '-10'], ['-o-10'], ['--offset', '-10'], ['--offset=-10']]) {
      const parsed = parseFetchArgs(['-b', 'k:9092', '-t', 'orders', ...args])
      expect(parsed.help).toBe(false)
      expect(parsed.help === false && parsed.request.offset, args.join(' ')).toEqual({ kind: 'fromEnd', count: 10 })
    }
  })
})

describe('parseFetchArgs', () => {
  const parse = (...args: string[]) => {
    const p = parseFetchArgs(['-t', 'orders', ...args])
    if (p.help) throw new Error('help')
    return p.request
  }

  test('defaults: every partition from the beginning to the end offsets, JSON, utf8, read_uncommitted', () => {
    expect(parse()).toEqual({
      topic: 'orders',
      partitions: undefined,
      offset: undefined,
      count: undefined,
      until: undefined,
      follow: false,
      format: 'json',
      key: 'utf8',
      value: 'utf8',
      headers: false,
      group: undefined,
      isolation: 'read_uncommitted',
      maxDecompressedBytes: undefined,
      skipOversized: false,
    })
  })

  test('every option', () => {
    expect(
      parse(
        '-p',
        '2,0',
        '-p',
        '5',
        '-o',
        '@2024-05-01T12:00:00Z',
        '-c',
        '50',
        '--until',
        '@1714568400000',
        '--follow',
        '-f',
        'text',
        '--key',
        'hex',
        '--value',
        'base64',
        '--headers',
        '-g',
        'billing',
        '--isolation',
        'read_committed',
        '--max-decompressed-bytes',
        '16MiB',
        '--skip-oversized',
      ),
    ).toEqual({
      topic: 'orders',
      partitions: [0, 2, 5],
      offset: { kind: 'timestamp', timestamp: MAY_1_NOON },
      count: 50,
      until: { kind: 'timestamp', timestamp: MAY_1_NOON + 3_600_000 },
      follow: true,
      format: 'text',
      key: 'hex',
      value: 'base64',
      headers: true,
      group: 'billing',
      isolation: 'read_committed',
      maxDecompressedBytes: 16 * 1024 ** 2,
      skipOversized: true,
    })
  })

  test('with a group and no -p, -o can only say where to start without a committed offset', () => {
    expect(parse('-g', 'g', '-o', 'end').offset).toEqual({ kind: 'end' })
    expect(parse('-g', 'g', '-o', 'beginning').offset).toEqual({ kind: 'beginning' })
    expect(parse('-g', 'g', '-p', '0', '-o', '12').offset).toEqual({ kind: 'offset', offset: 12 })
    for (const o of ['12', '-3', '@0'])
      expect(usage(() => parse('-g', 'g', '-o', o)).message).toMatch(/^-o with --group can only be beginning or end/)
  })

  test('usage errors: no topic, -c 0, unknown values and options', () => {
    expect(usage(() => parseFetchArgs([])).message).toBe('fetch needs a topic: -t TOPIC')
    expect(usage(() => parse('-c', '0')).message).toBe('-c must be at least 1, got 0')
    expect(usage(() => parse('-f', 'csv')).message).toBe('bad value "csv" for -f: use json, text, raw')
    expect(usage(() => parse('--isolation', 'committed')).message).toBe(
      'bad value "committed" for --isolation: use read_uncommitted, read_committed',
    )
    // node:util parseArgs errors become usage errors in main (see errors.test.ts); here they are thrown as they are.
    expect(() => parse('--frobnicate')).toThrow(/Unknown option '--frobnicate'/)
  })

  test('--help wins over everything else', () => {
    expect(parseFetchArgs(['--help']).help).toBe(true)
    expect(parseFetchArgs(['-h', '-o', 'nonsense']).help).toBe(true)
  })
})
