// How records are printed, and how output reaches stdout: a whole chunk of records is rendered into one string (or
// one Buffer for raw bytes) and written with one `write`, waiting for 'drain' when the reader is slower.

import { isUtf8 } from 'node:buffer'
import { once } from 'node:events'
import type { ConsumerRecord } from '../index.js'
import { JsonLineEncoder } from './json-lines.js'

export const OUTPUT_FORMATS = ['json', 'text', 'raw'] as const
export type OutputFormat = (typeof OUTPUT_FORMATS)[number]

export const ENCODINGS = ['utf8', 'json', 'hex', 'base64', 'none'] as const
/**
 * How keys and values are shown. `utf8`: as text (bytes that are not UTF-8 become U+FFFD — use hex or base64 for
 * binary data); `json`: parsed and embedded as JSON (a value that is not JSON falls back to a string); `hex`,
 * `base64`: binary-safe; `none`: left out.
 */
export type Encoding = (typeof ENCODINGS)[number]

export interface FormatOptions {
  format: OutputFormat
  key: Encoding
  value: Encoding
  /** Text format: add a column of headers. (JSON always carries them.) */
  headers: boolean
  /** Text format: dim the metadata columns (stdout is a terminal and NO_COLOR is not set). */
  color: boolean
  /** Called once per kind of lossy or fallback rendering, to warn on stderr. */
  warn?: (message: string) => void
}

const DIM = '\x1b[2m'
const RESET = '\x1b[0m'

/**
 * Renders records. JSON (the default) is one object per line:
 * `{"topic":"t","partition":0,"offset":5,"timestamp":1714564800000,"key":"k","value":"v","headers":[{"key":"h","value":"x"}]}`
 * with null for a null key or value; `--key none` / `--value none` leave the field out.
 * Text is one tab-separated line per record: `partition:offset  ISO time  key  value  [headers]`, with backslash,
 * tab, CR and LF escaped and `(null)` for null. Raw is each value's bytes followed by a newline.
 */
export class RecordFormatter {
  private readonly warned = new Set<string>()
  private readonly headerEncoding: Encoding
  private readonly json: JsonLineEncoder

  constructor(readonly options: FormatOptions) {
    const v = options.value
    this.headerEncoding = v === 'hex' || v === 'base64' ? v : 'utf8'
    this.json = new JsonLineEncoder({
      key: options.key,
      value: options.value,
      onLossy: (what, problem) =>
        problem === 'json'
          ? this.warnOnce(`${what}-json`, `a ${what} is not JSON; printed as a string`)
          : this.warnOnce(
              `${what}-utf8`,
              `a ${what} is not valid UTF-8 and was printed lossily; use --${what === 'header' ? 'value' : what} base64 or hex for binary data`,
            ),
    })
  }

  /** Records `[from, to)` of a chunk, rendered. */
  render(records: readonly ConsumerRecord[], from = 0, to = records.length): string | Buffer {
    switch (this.options.format) {
      case 'json':
        return this.json.encode(records, from, to)
      case 'text':
        return this.text(records, from, to)
      case 'raw':
        return this.raw(records, from, to)
    }
  }

  private jsonField(b: Buffer | null, enc: Encoding, what: string): string {
    if (b === null) return 'null'
    switch (enc) {
      case 'hex':
        return `"${b.toString('hex')}"`
      case 'base64':
        return `"${b.toString('base64')}"`
      case 'json': {
        const text = b.toString('utf8')
        try {
          // Re-serialized rather than embedded: pretty-printed JSON would break the one-record-per-line rule.
          return JSON.stringify(JSON.parse(text))
        } catch {
          this.warnOnce(`${what}-json`, `a ${what} is not JSON; printed as a string (offsets vary)`)
          return JSON.stringify(text)
        }
      }
      default:
        if (!isUtf8(b))
          this.warnOnce(
            `${what}-utf8`,
            `a ${what} is not valid UTF-8 and was printed lossily; use --${what === 'header' ? 'value' : what} base64 or hex for binary data`,
          )
        return JSON.stringify(b.toString('utf8'))
    }
  }

  private text(records: readonly ConsumerRecord[], from: number, to: number): string {
    const { key: keyEnc, value: valueEnc, headers, color } = this.options
    let out = ''
    for (let i = from; i < to; i++) {
      const r = records[i]!
      const meta = `${r.partition}:${r.offset}\t${isoTime(r.timestamp)}`
      let line = color ? DIM + meta + RESET : meta
      if (keyEnc !== 'none') line += `\t${this.textField(r.key, keyEnc, 'key')}`
      if (valueEnc !== 'none') line += `\t${this.textField(r.value, valueEnc, 'value')}`
      if (headers) {
        let hs = ''
        for (const h of r.headers) {
          if (hs.length > 0) hs += ','
          hs += `${escapeText(h.key)}=${this.textField(h.value, this.headerEncoding, 'header')}`
        }
        line += `\t${color ? DIM + hs + RESET : hs}`
      }
      out += `${line}\n`
    }
    return out
  }

  private textField(b: Buffer | null, enc: Encoding, what: string): string {
    if (b === null) return '(null)'
    if (enc === 'hex') return b.toString('hex')
    if (enc === 'base64') return b.toString('base64')
    if (enc === 'json') return this.jsonField(b, 'json', what)
    if (!isUtf8(b)) this.warnOnce(`${what}-utf8`, `a ${what} is not valid UTF-8; use --${what} base64 or hex`)
    return escapeText(b.toString('utf8'))
  }

  private raw(records: readonly ConsumerRecord[], from: number, to: number): Buffer {
    const enc = this.options.value
    const parts: Buffer[] = []
    for (let i = from; i < to; i++) {
      const v = records[i]!.value
      if (v !== null && enc !== 'none') {
        if (enc === 'hex' || enc === 'base64') parts.push(Buffer.from(v.toString(enc), 'latin1'))
        else if (enc === 'json') parts.push(Buffer.from(this.jsonField(v, 'json', 'value'), 'utf8'))
        else parts.push(v)
      }
      parts.push(NEWLINE)
    }
    return Buffer.concat(parts)
  }

  private warnOnce(kind: string, message: string): void {
    if (this.warned.has(kind)) return
    this.warned.add(kind)
    this.options.warn?.(message)
  }
}

const NEWLINE = Buffer.from('\n')

/** Backslash, tab, CR and LF escaped, so one record stays one line with its columns intact. */
export function escapeText(s: string): string {
  if (!/[\\\t\r\n]/.test(s)) return s
  return s.replace(/[\\\t\r\n]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\r' ? '\\r' : '\\n'))
}

/** A record timestamp as ISO 8601, or the number when it is not a valid time (-1: none). */
export function isoTime(ms: number): string {
  return ms >= 0 && ms < 8.64e15 ? new Date(ms).toISOString() : String(ms)
}

/**
 * Writes chunks to a stream, waiting for 'drain' when it reports backpressure. A reader that went away (EPIPE:
 * `skiff fetch | head`) ends the output quietly: `closed` turns true and further writes are dropped.
 */
export class Output {
  closed = false
  private error: Error | undefined

  constructor(private readonly stream: NodeJS.WritableStream) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      this.closed = true
      if (err.code !== 'EPIPE') this.error = err
    })
  }

  async write(chunk: string | Buffer): Promise<void> {
    if (this.error) throw this.error
    if (this.closed || chunk.length === 0) return
    if (!this.stream.write(chunk)) await this.drain()
  }

  /** Waits until what was written has been handed to the OS (or the reader went away). */
  async flush(): Promise<void> {
    const s = this.stream as NodeJS.WritableStream & { writableNeedDrain?: boolean }
    if (!this.closed && s.writableNeedDrain) await this.drain()
    if (this.error) throw this.error
  }

  private async drain(): Promise<void> {
    const ac = new AbortController()
    try {
      await Promise.race([
        once(this.stream, 'drain', { signal: ac.signal }),
        once(this.stream, 'error', { signal: ac.signal }),
      ])
    } catch {
      // The error handler above recorded it; a write after this throws it.
    } finally {
      ac.abort()
    }
  }
}

/** Colors for diagnostics: on when the stream is a terminal and NO_COLOR is unset (https://no-color.org). */
export function useColor(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  return (stream as { isTTY?: boolean }).isTTY === true
}

/** `12,345`. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

/** `1.5 MiB`, `512 KiB`, `42 B`. */
export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${+(n / 1024 ** 3).toFixed(1)} GiB`
  if (n >= 1024 ** 2) return `${+(n / 1024 ** 2).toFixed(1)} MiB`
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`
  return `${n} B`
}

/** `850 ms`, `12.3 s`, `4m 05s`, `2h 03m`, `3d 04h`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  const s = ms / 1000
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, '0')}s`
  const h = Math.floor(m / 60)
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`
  return `${Math.floor(h / 24)}d ${String(h % 24).padStart(2, '0')}h`
}

/** Rows as aligned columns (the first row is the header); numbers right-aligned. */
export function table(rows: ReadonlyArray<readonly string[]>, rightAligned: ReadonlySet<number> = new Set()): string {
  const widths: number[] = []
  for (const row of rows) for (const [i, c] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, c.length)
  return rows
    .map((row) =>
      row
        .map((c, i) =>
          i === row.length - 1 && !rightAligned.has(i)
            ? c
            : rightAligned.has(i)
              ? c.padStart(widths[i]!)
              : c.padEnd(widths[i]!),
        )
        .join('  '),
    )
    .join('\n')
}
