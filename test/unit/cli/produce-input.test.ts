import { Readable } from 'node:stream'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { CliError, EXIT } from '../../../src/cli/errors.js'
import { lineParser, lines } from '../../../src/cli/produce.js'

async function collect(chunks: Array<Buffer | string>): Promise<string[]> {
  const out: string[] = []
  for await (const l of lines(Readable.from(chunks, { objectMode: true }))) out.push(l.toString('latin1'))
  return out
}

describe('splitting stdin into lines', () => {
  test('LF ends a line; a last line without one counts; an empty input has none', async () => {
    expect(await collect(['a\nb\n'])).toEqual(['a', 'b'])
    expect(await collect(['a\nb'])).toEqual(['a', 'b'])
    expect(await collect(['a\n\nb\n'])).toEqual(['a', '', 'b'])
    expect(await collect([])).toEqual([])
    expect(await collect(['', ''])).toEqual([])
    // CR is data (a CRLF file keeps its CRs, as kcat does).
    expect(await collect(['a\r\nb'])).toEqual(['a\r', 'b'])
  })

  test('any split of the input into chunks gives the same lines, byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 200 }),
        fc.array(fc.nat(200), { maxLength: 10 }),
        async (bytes, cuts) => {
          const input = Buffer.from(bytes)
          const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b)
          const chunks: Buffer[] = []
          let at = 0
          for (const p of [...points, input.length]) {
            chunks.push(input.subarray(at, p))
            at = p
          }
          const expected = input.toString('latin1').split('\n')
          if (expected.at(-1) === '') expected.pop()
          expect(await collect(chunks)).toEqual(expected)
        },
      ),
    )
  })
})

describe('lines to messages', () => {
  const plain = (options: Partial<Parameters<typeof lineParser>[0]> = {}) =>
    lineParser({ json: false, delimiter: undefined, key: 'utf8', value: 'utf8', emptyAsNull: false, ...options })
  const text = (m: ReturnType<ReturnType<typeof lineParser>>) =>
    m && { ...m, key: m.key?.toString() ?? null, value: m.value?.toString() ?? null }

  test('plain lines are values; -k splits at the first delimiter; an empty key is null; -Z makes tombstones', () => {
    expect(text(plain()(Buffer.from('a:b'), 1))).toEqual({ key: null, value: 'a:b' })
    const k = plain({ delimiter: Buffer.from('::') })
    expect(text(k(Buffer.from('user::a::b'), 1))).toEqual({ key: 'user', value: 'a::b' })
    expect(text(k(Buffer.from('::v'), 1))).toEqual({ key: null, value: 'v' })
    expect(text(k(Buffer.from('no delimiter'), 1))).toEqual({ key: null, value: 'no delimiter' })
    expect(text(k(Buffer.from('k::'), 1))).toEqual({ key: 'k', value: '' })
    const z = plain({ delimiter: Buffer.from(':'), emptyAsNull: true })
    expect(text(z(Buffer.from('k:'), 1))).toEqual({ key: 'k', value: null })
    // Bytes stay bytes.
    expect(plain()(Buffer.from([0xff, 0x00]), 1)!.value).toEqual(Buffer.from([0xff, 0x00]))
  })

  test('JSON lines: strings as given, other JSON as JSON text, headers as an object or a list, partition, timestamp', () => {
    const json = plain({ json: true })
    expect(json(Buffer.from('  '), 1)).toBeNull()
    expect(
      json(
        Buffer.from(
          JSON.stringify({
            key: 'k',
            value: { a: 1 },
            headers: { h: 'v', n: null },
            partition: 2,
            timestamp: 1700000000000,
          }),
        ),
        1,
      ),
    ).toEqual({ key: 'k', value: '{"a":1}', headers: { h: 'v', n: null }, partition: 2, timestamp: 1700000000000 })
    expect(
      json(
        Buffer.from(
          JSON.stringify({
            value: 5,
            headers: [{ key: 'a', value: 'x' }, ['b', 7]],
            timestamp: '2024-05-01T12:00:00Z',
          }),
        ),
        1,
      ),
    ).toEqual({
      key: null,
      value: '5',
      headers: [{ key: 'a', value: 'x' }, ['b', '7']],
      timestamp: Date.UTC(2024, 4, 1, 12),
    })
    expect(json(Buffer.from('{"value":"v","timestamp":"1700000000000"}'), 1)).toMatchObject({
      timestamp: 1700000000000,
    })
    expect(json(Buffer.from('{"key":null,"value":null}'), 1)).toEqual({ key: null, value: null })
    expect(plain({ json: true, emptyAsNull: true })(Buffer.from('{"value":""}'), 1)).toEqual({ key: null, value: null })
    const binary = plain({ json: true, key: 'hex', value: 'base64' })
    expect(binary(Buffer.from('{"key":"00ff","value":"AAEC","headers":{"h":"/w=="}}'), 1)).toEqual({
      key: Buffer.from([0, 0xff]),
      value: Buffer.from([0, 1, 2]),
      headers: { h: Buffer.from([0xff]) },
    })
  })

  test.each([
    ['not json', 'line 3 is not JSON ('],
    ['[1,2]', 'line 3: expected an object such as {"key": "k", "value": "v"}'],
    ['"just a string"', 'line 3: expected an object'],
    ['{"value":"x","partition":-1}', 'line 3: partition must be a non-negative integer'],
    ['{"value":"x","partition":1.5}', 'line 3: partition must be a non-negative integer'],
    ['{"value":"x","headers":"h=v"}', 'line 3: headers must be an object or a list'],
    ['{"value":"x","headers":[{"value":"v"}]}', 'line 3: a header needs a string "key"'],
    ['{"value":"x","timestamp":"yesterday"}', 'line 3: bad timestamp "yesterday": use milliseconds since the epoch'],
    ['{"value":"x","timestamp":-5}', 'line 3: bad timestamp -5'],
    ['{"value":"x","timestamp":1.5}', 'line 3: bad timestamp 1.5'],
    ['{"value":"x","timestamp":true}', 'line 3: bad timestamp true'],
  ])('a bad JSON line %j: exit 1, naming the line', (line, message) => {
    const json = plain({ json: true })
    let err: unknown
    try {
      json(Buffer.from(line), 3)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(CliError)
    expect((err as CliError).message.startsWith(message), (err as CliError).message).toBe(true)
    // Bad input is a runtime error (exit 1), not a mistake on the command line (exit 2).
    expect((err as CliError).exitCode).toBe(EXIT.runtime)
  })

  test('--key hex refuses what is not hex', () => {
    expect(() => plain({ json: true, key: 'hex' })(Buffer.from('{"key":"0g","value":"v"}'), 9)).toThrow(
      'line 9: key is not hex',
    )
  })
})
