// Parsers for the values the CLI's flags take. Each throws a UsageError whose message names the flag, shows what
// was given and says what is accepted, so a typo costs one glance at the terminal.
import { UsageError } from './errors.js'

/** Where `skiff fetch -o` starts each partition. */
export type OffsetArg =
  | { kind: 'beginning' }
  | { kind: 'end' }
  /** An absolute offset. */
  | { kind: 'offset'; offset: number }
  /** `-N`: N records before the end offset. */
  | { kind: 'fromEnd'; count: number }
  /** `@ms` or `@ISO-date`: the first record at or after this time. */
  | { kind: 'timestamp'; timestamp: number }

/** Where `skiff fetch --until` stops each partition (exclusive). */
export type UntilArg = { kind: 'end' } | { kind: 'offset'; offset: number } | { kind: 'timestamp'; timestamp: number }

const OFFSET_HELP = 'use beginning, end, N (an offset), -N (N before the end), @<ms since epoch> or @<ISO date>'

/** Parses `-o`: `beginning`, `end`, `N`, `-N`, `@1700000000000`, `@2024-05-01T12:00:00Z`. */
export function parseOffset(text: string): OffsetArg {
  const t = text.trim()
  if (t === 'beginning' || t === 'earliest' || t === 'first') return { kind: 'beginning' }
  if (t === 'end' || t === 'latest' || t === 'last') return { kind: 'end' }
  if (/^\d+$/.test(t)) return { kind: 'offset', offset: safeInt(t, '-o', text) }
  if (/^-\d+$/.test(t)) return { kind: 'fromEnd', count: safeInt(t.slice(1), '-o', text) }
  if (t.startsWith('@')) return { kind: 'timestamp', timestamp: parseTime(t.slice(1), '-o', text) }
  throw new UsageError(`bad offset ${JSON.stringify(text)} for -o: ${OFFSET_HELP}`)
}

/** Parses `--until`: `end`, an offset (exclusive), or `@time` (the first record at or after it is not printed). */
export function parseUntil(text: string): UntilArg {
  const t = text.trim()
  if (t === 'end') return { kind: 'end' }
  if (/^\d+$/.test(t)) return { kind: 'offset', offset: safeInt(t, '--until', text) }
  if (t.startsWith('@')) return { kind: 'timestamp', timestamp: parseTime(t.slice(1), '--until', text) }
  throw new UsageError(
    `bad value ${JSON.stringify(text)} for --until: use end, N (stop before offset N) or @<ms since epoch>/@<ISO date>`,
  )
}

/** Milliseconds since the epoch, or an ISO 8601 date (`2024-05-01`, `2024-05-01T12:00:00Z`, with an offset). */
export function parseTime(text: string, flag: string, given = text): number {
  if (/^\d+$/.test(text)) return safeInt(text, flag, given)
  // Only ISO-looking dates: Date.parse also takes "May 1" and "1", which would make typos silently valid.
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
    const ms = Date.parse(text)
    if (Number.isFinite(ms) && ms >= 0) return ms
  }
  throw new UsageError(
    `bad time ${JSON.stringify(given)} for ${flag}: use @<ms since epoch> or @<ISO date> such as @2024-05-01T12:00:00Z`,
  )
}

/** A non-negative integer. */
export function parseCount(text: string, flag: string, { min = 0 } = {}): number {
  const t = text.trim()
  if (!/^\d+$/.test(t)) throw new UsageError(`${flag} needs a whole number, got ${JSON.stringify(text)}`)
  const n = safeInt(t, flag, text)
  if (n < min) throw new UsageError(`${flag} must be at least ${min}, got ${n}`)
  return n
}

/** Partition numbers from repeated and/or comma-separated `-p` values. */
export function parsePartitions(values: readonly string[]): number[] {
  const out = new Set<number>()
  for (const v of values) for (const part of v.split(',')) if (part.trim() !== '') out.add(parseCount(part, '-p'))
  return [...out].sort((a, b) => a - b)
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
}

/** A byte size: `1048576`, `512KiB`, `1MiB`, `1.5MB`, `64k`, `2G` (k/m/g alone are binary units). */
export function parseSize(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim())
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined
  if (!m || unit === undefined)
    throw new UsageError(
      `bad size ${JSON.stringify(text)} for ${flag}: use bytes or a unit, e.g. 1048576, 512KiB, 1MiB`,
    )
  const bytes = Math.floor(Number(m[1]) * unit)
  if (bytes <= 0 || !Number.isSafeInteger(bytes)) throw new UsageError(`${flag} must be a positive size, got ${text}`)
  return bytes
}

/** A duration: milliseconds (`1500`), or with a unit: `1500ms`, `10s`, `2m`. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(text.trim())
  if (!m) throw new UsageError(`bad duration ${JSON.stringify(text)} for ${flag}: use milliseconds or 10s, 2m, 500ms`)
  const ms = Math.round(Number(m[1]) * (m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 1))
  if (ms <= 0) throw new UsageError(`${flag} must be positive, got ${text}`)
  return ms
}

/** One of a fixed set of words. */
export function parseChoice<T extends string>(text: string, flag: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(text)) return text as T
  throw new UsageError(`bad value ${JSON.stringify(text)} for ${flag}: use ${choices.join(', ')}`)
}

/** `key=value` (the value may be empty, and may contain `=`). */
export function parseKeyValue(text: string, flag: string): [string, string] {
  const i = text.indexOf('=')
  if (i <= 0) throw new UsageError(`${flag} needs key=value, got ${JSON.stringify(text)}`)
  return [text.slice(0, i), text.slice(i + 1)]
}

/**
 * Lets `-o -10` mean "10 before the end", as kcat does: node:util parseArgs refuses an option value that starts
 * with a dash unless it is attached (`-o-10`, `--offset=-10`), so a negative number after `-o`/`--offset` is joined
 * to its flag before parsing.
 */
export function joinNegativeValues(args: readonly string[], flags: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    const next = args[i + 1]
    if (flags.includes(a) && next !== undefined && /^-\d+$/.test(next)) {
      out.push(a.startsWith('--') ? `${a}=${next}` : `${a}${next}`)
      i++
    } else out.push(a)
  }
  return out
}

function safeInt(digits: string, flag: string, given: string): number {
  const n = Number(digits)
  if (!Number.isSafeInteger(n)) throw new UsageError(`${flag}: ${JSON.stringify(given)} is too large`)
  return n
}
