// `skiff produce`: stdin lines (or JSON lines) to records, with the producer's batching, compression and
// idempotence; the buffer's backpressure paces reading stdin.
import { once } from 'node:events'
import { type Bytes, type Headers, type Message, Producer, type ProducerRecord } from '../index.js'
import type { CliContext } from './context.js'
import { CliError, EXIT, type ExitCode, toCliError, UsageError } from './errors.js'
import { COMMON_FLAGS, CONNECTION_FLAGS, CONNECTION_HELP, openCluster, parseFlags, resolveConnection } from './flags.js'
import { formatCount, formatDuration } from './format.js'
import { parseChoice, parseCount, parseKeyValue, parseTime } from './parse.js'

export const PRODUCE_HELP = `Usage: skiff produce -b HOST:PORT -t TOPIC [options] < input

Writes one record per line of stdin. Lines are bytes: nothing is decoded unless --json is given.

Options:
  -t, --topic TOPIC             topic to write to (required)
  -p, --partition N             write every record to partition N (default: by key, as Kafka's Java client)
  -k, --key-delimiter DELIM     split each line at the first DELIM into key and value (no DELIM: value only)
  --json                        each line is {"key", "value", "headers", "partition", "timestamp"}; key and value
                                strings are decoded with --key/--value, other JSON values are written as JSON text;
                                headers are {"name": "value"} or [{"key", "value"}]
  --key ENC, --value ENC        --json: utf8 (default), base64 or hex, for binary data
  -H, --header KEY=VALUE        a header on every record (repeatable)
  -Z, --empty-as-null           an empty value is written as null (a tombstone); an empty key is always null
  -z, --compression CODEC       none (default), gzip, snappy, lz4, zstd
  --acks all|1|0                default all (with idempotence)
  --linger-ms N                 how long a batch waits to fill (default 5)
${CONNECTION_HELP}

Examples:
  seq 1 1000 | skiff produce -b localhost:9092 -t numbers -z lz4
  printf 'user-1:{"plan":"pro"}\\nuser-2:{"plan":"free"}\\n' | skiff produce -b localhost:9092 -t users -k :
  skiff fetch -b old:9092 -t orders | skiff produce -b new:9092 -t orders --json     # copy a topic
  echo '{"key":"user-1","value":null}' | skiff produce -b localhost:9092 -t users --json   # a tombstone`

const PRODUCE_FLAGS = {
  ...CONNECTION_FLAGS,
  ...COMMON_FLAGS,
  topic: { type: 'string', short: 't' },
  partition: { type: 'string', short: 'p' },
  'key-delimiter': { type: 'string', short: 'k' },
  json: { type: 'boolean' },
  key: { type: 'string' },
  value: { type: 'string' },
  header: { type: 'string', short: 'H', multiple: true },
  'empty-as-null': { type: 'boolean', short: 'Z' },
  compression: { type: 'string', short: 'z' },
  acks: { type: 'string' },
  'linger-ms': { type: 'string' },
} as const

const INPUT_ENCODINGS = ['utf8', 'base64', 'hex'] as const
type InputEncoding = (typeof INPUT_ENCODINGS)[number]

/** Turns one input line into a message; throws CliError (exit 1) for a bad JSON line. */
export type LineParser = (line: Buffer, lineNumber: number) => Message | null

export function lineParser(options: {
  json: boolean
  delimiter: Buffer | undefined
  key: InputEncoding
  value: InputEncoding
  emptyAsNull: boolean
}): LineParser {
  if (options.json) return (line, n) => jsonMessage(line, n, options.key, options.value, options.emptyAsNull)
  const delimiter = options.delimiter
  return (line) => {
    let key: Buffer | null = null
    let value: Buffer | null = line
    if (delimiter) {
      const i = line.indexOf(delimiter)
      if (i >= 0) {
        key = i === 0 ? null : line.subarray(0, i)
        value = line.subarray(i + delimiter.length)
      }
    }
    if (options.emptyAsNull && value.length === 0) value = null
    return { key, value }
  }
}

function jsonMessage(line: Buffer, n: number, keyEnc: InputEncoding, valueEnc: InputEncoding, emptyAsNull: boolean) {
  const text = line.toString('utf8').trim()
  if (text === '') return null
  let o: unknown
  try {
    o = JSON.parse(text)
  } catch (err) {
    throw new CliError(`line ${n} is not JSON (${(err as Error).message})`, EXIT.runtime)
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o))
    throw new CliError(`line ${n}: expected an object such as {"key": "k", "value": "v"}`, EXIT.runtime)
  const r = o as Record<string, unknown>
  const bytes = (v: unknown, enc: InputEncoding, what: string): Bytes | null => {
    if (v === null || v === undefined) return null
    if (typeof v === 'string') {
      if (enc === 'utf8') return v
      if (enc === 'hex' && !/^([0-9a-fA-F]{2})*$/.test(v))
        throw new CliError(`line ${n}: ${what} is not hex`, EXIT.runtime)
      return Buffer.from(v, enc)
    }
    return JSON.stringify(v)
  }
  let value = bytes(r.value, valueEnc, 'value')
  if (emptyAsNull && value !== null && value.length === 0) value = null
  const message: Message = { key: bytes(r.key, keyEnc, 'key'), value }
  if (r.partition !== undefined && r.partition !== null) {
    if (!Number.isInteger(r.partition) || (r.partition as number) < 0)
      throw new CliError(`line ${n}: partition must be a non-negative integer`, EXIT.runtime)
    message.partition = r.partition as number
  }
  if (r.timestamp !== undefined && r.timestamp !== null) message.timestamp = lineTimestamp(r.timestamp, n)
  if (r.headers !== undefined && r.headers !== null) {
    const headerEnc = valueEnc === 'utf8' ? 'utf8' : valueEnc
    const hv = (v: unknown) => bytes(v, headerEnc, 'header value')
    if (Array.isArray(r.headers)) {
      message.headers = r.headers.map((h: unknown) => {
        if (Array.isArray(h)) return [String(h[0]), hv(h[1])] as const
        const e = h as { key?: unknown; value?: unknown }
        if (typeof e?.key !== 'string') throw new CliError(`line ${n}: a header needs a string "key"`, EXIT.runtime)
        return { key: e.key, value: hv(e.value) }
      })
    } else if (typeof r.headers === 'object') {
      message.headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, hv(v)])) as Headers
    } else throw new CliError(`line ${n}: headers must be an object or a list`, EXIT.runtime)
  }
  return message
}

/** A JSON line's timestamp: ms since the epoch, or an ISO date. Bad input data is exit 1, not a usage error. */
function lineTimestamp(t: unknown, n: number): number {
  if (typeof t === 'number' && Number.isSafeInteger(t) && t >= 0) return t
  if (typeof t === 'string') {
    try {
      return parseTime(t, 'timestamp')
    } catch {}
  }
  throw new CliError(
    `line ${n}: bad timestamp ${JSON.stringify(t)}: use milliseconds since the epoch or an ISO date such as "2024-05-01T12:00:00Z"`,
    EXIT.runtime,
  )
}

/** Splits a byte stream into lines (LF), binary-safe; a last line without LF counts. */
export async function* lines(input: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  let carry: Buffer | undefined
  for await (const chunk of input) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    if (carry) {
      buf = Buffer.concat([carry, buf])
      carry = undefined
    }
    let start = 0
    for (;;) {
      const nl = buf.indexOf(10, start)
      if (nl < 0) break
      yield buf.subarray(start, nl)
      start = nl + 1
    }
    if (start < buf.length) carry = Buffer.from(buf.subarray(start))
  }
  if (carry && carry.length > 0) yield carry
}

export async function produceCommand(args: readonly string[], ctx: CliContext): Promise<ExitCode> {
  const { values } = parseFlags(args, PRODUCE_FLAGS)
  if (values.help) {
    ctx.stdout.write(`${PRODUCE_HELP}\n`)
    return EXIT.ok
  }
  const topic = values.topic
  if (!topic) throw new UsageError('produce needs a topic: -t TOPIC')
  const partition = values.partition === undefined ? undefined : parseCount(values.partition, '-p')
  const compression = parseChoice(values.compression ?? 'none', '-z', [
    'none',
    'gzip',
    'snappy',
    'lz4',
    'zstd',
  ] as const)
  const acksText = parseChoice(values.acks ?? 'all', '--acks', ['all', '-1', '1', '0'] as const)
  const acks = acksText === 'all' || acksText === '-1' ? ('all' as const) : (Number(acksText) as 0 | 1)
  const lingerMs = values['linger-ms'] === undefined ? undefined : parseCount(values['linger-ms'], '--linger-ms')
  const keyEnc = parseChoice(values.key ?? 'utf8', '--key', INPUT_ENCODINGS)
  const valueEnc = parseChoice(values.value ?? 'utf8', '--value', INPUT_ENCODINGS)
  if (!values.json && (values.key !== undefined || values.value !== undefined))
    throw new UsageError('--key and --value (encodings) go with --json; plain lines are written as they are')
  const delimiterText = values['key-delimiter']
  if (delimiterText !== undefined && delimiterText.length === 0) throw new UsageError('-k needs a non-empty delimiter')
  if (delimiterText !== undefined && values.json)
    throw new UsageError('-k and --json do not mix: JSON lines carry keys')
  const headers = (values.header ?? []).map((h) => parseKeyValue(h, '-H'))
  const parse = lineParser({
    json: values.json === true,
    delimiter: delimiterText === undefined ? undefined : Buffer.from(unescapeDelimiter(delimiterText)),
    key: keyEnc,
    value: valueEnc,
    emptyAsNull: values['empty-as-null'] === true,
  })

  const conn = resolveConnection(values, ctx.env)
  const cluster = await openCluster(conn, [topic])
  const info = await cluster.metadata.topic(topic).catch(async (err) => {
    await cluster.close()
    throw err
  })
  const count = info.partitions.length
  if (partition !== undefined && partition >= count) {
    await cluster.close()
    throw new CliError(
      `partition ${topic}[${partition}] does not exist: the topic has ${count} partitions`,
      EXIT.runtime,
    )
  }

  const producer = new Producer({
    cluster,
    compression,
    acks,
    ...(acks === 'all' ? {} : { idempotent: false }),
    ...(lingerMs === undefined ? {} : { lingerMs }),
    ...(conn.timeoutMs === undefined ? {} : { maxBlockMs: conn.timeoutMs }),
  })
  ctx.handleInterrupt()
  const started = Date.now()
  let sent = 0
  let acked = 0
  let failure: unknown
  const partitions = new Set<number>()
  const onDelivery = (err: Error | null, meta?: { partition: number }) => {
    if (err) failure ??= err
    else {
      acked++
      if (meta) partitions.add(meta.partition)
    }
  }
  const stdin = ctx.stdin
  const stopReading = () => (stdin as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.()
  ctx.interrupt.addEventListener('abort', stopReading, { once: true })
  try {
    let n = 0
    for await (const line of lines(stdin)) {
      n++
      if (failure) break
      const m = parse(line, n)
      if (m === null || (!values.json && line.length === 0)) continue
      const record: ProducerRecord = { ...m, topic }
      if (partition !== undefined && record.partition === undefined) record.partition = partition
      if (headers.length > 0) record.headers = [...headers, ...headerList(m.headers)]
      sent++
      if (!producer.produce(record, onDelivery)) await once(producer, 'drain')
    }
  } catch (err) {
    if (!ctx.interrupt.aborted) failure ??= err
  } finally {
    ctx.interrupt.removeEventListener('abort', stopReading)
    await producer.flush().catch((err) => (failure ??= err))
    await producer.close().catch(() => {})
    await cluster.close().catch(() => {})
  }
  const where =
    partitions.size === 0
      ? ''
      : ` (partition${partitions.size === 1 ? '' : 's'} ${[...partitions].sort((a, b) => a - b).join(',')})`
  ctx.info(
    `produced ${formatCount(acked)} record${acked === 1 ? '' : 's'} to ${topic}${where} in ${formatDuration(Date.now() - started)}${
      acked < sent ? `; ${formatCount(sent - acked)} not written` : ''
    }`,
  )
  if (failure) throw toCliError(failure)
  return ctx.interrupt.aborted ? EXIT.interrupted : EXIT.ok
}

function headerList(h: Headers | undefined): Array<readonly [string, Bytes | null]> {
  if (h === undefined) return []
  if (Array.isArray(h))
    return h.map((e) =>
      Array.isArray(e) ? [e[0], e[1]] : [(e as { key: string }).key, (e as { value: Bytes | null }).value],
    )
  return Object.entries(h as Record<string, Bytes | null>).map(([k, v]) => [k, v] as const)
}

/** `\t`, `\n` and `\\` in a delimiter, as kcat takes them. */
function unescapeDelimiter(s: string): string {
  return s.replace(/\\([tn\\])/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : '\\'))
}
