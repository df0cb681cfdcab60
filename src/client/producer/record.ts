import type { RecordInput } from '../../protocol/records/index.js'
import { varintSize, varlongSize } from '../../protocol/writer.js'

/** Bytes as the producer accepts them: strings are encoded as UTF-8. */
export type Bytes = string | Buffer | Uint8Array

export type HeaderValue = Bytes | null

/**
 * Record headers: an object (a key with an array value gives one header per element, in order), or a list of
 * `{ key, value }` / `[key, value]` pairs, which may repeat keys.
 */
export type Headers =
  | Readonly<Record<string, HeaderValue | readonly HeaderValue[] | undefined>>
  | ReadonlyArray<{ key: string; value: HeaderValue } | readonly [string, HeaderValue]>

/** One record to produce. */
export interface Message {
  key?: Bytes | null
  value: Bytes | null
  headers?: Headers
  /** Skips the partitioner. */
  partition?: number
  /** Create time in milliseconds since the epoch; default: when `send`/`produce` was called. */
  timestamp?: number | Date
}

/** A message and its topic, for `produce`. */
export interface ProducerRecord extends Message {
  topic: string
}

/** Where a record was written. */
export interface RecordMetadata {
  topic: string
  partition: number
  /** -1 with acks 0 (no response), or for a retry the broker recognised as a duplicate it no longer has the offset of. */
  offset: number
  /** The record's create time, or the broker's append time when the topic uses LogAppendTime. */
  timestamp: number
}

/** A record ready for the batch encoder, plus the size of its parts that do not depend on its place in a batch. */
export interface QueuedRecord extends RecordInput {
  key: Uint8Array | null
  timestamp: number
  /** Bytes of key, value and headers with their length prefixes: the record's size less attributes and deltas. */
  fixedBytes: number
}

function toBytes(v: Bytes | null | undefined, what: string): Uint8Array | null {
  if (v === null || v === undefined) return null
  if (typeof v === 'string') return Buffer.from(v, 'utf8')
  if (v instanceof Uint8Array) return v
  throw new TypeError(`${what} must be a string, Buffer, Uint8Array or null, got ${typeof v}`)
}

const NO_HEADERS: NonNullable<RecordInput['headers']> = []

function normalizeHeaders(h: Headers | undefined): NonNullable<RecordInput['headers']> {
  if (h === undefined || h === null) return NO_HEADERS
  const out: Array<{ key: string; value: Uint8Array | null }> = []
  if (Array.isArray(h)) {
    for (const e of h as ReadonlyArray<{ key: string; value: HeaderValue } | readonly [string, HeaderValue]>) {
      const [key, value] = Array.isArray(e) ? e : [(e as { key: string }).key, (e as { value: HeaderValue }).value]
      if (typeof key !== 'string') throw new TypeError('header keys must be strings')
      out.push({ key, value: toBytes(value, `header ${key}`) })
    }
    return out
  }
  for (const key of Object.keys(h)) {
    const v = (h as Record<string, HeaderValue | readonly HeaderValue[] | undefined>)[key]
    if (v === undefined) continue
    if (Array.isArray(v)) for (const x of v) out.push({ key, value: toBytes(x, `header ${key}`) })
    else out.push({ key, value: toBytes(v as HeaderValue, `header ${key}`) })
  }
  return out
}

/** Encodes a message's key, value and headers and stamps its time. Throws TypeError for values of the wrong type. */
export function toQueuedRecord(m: Message, now: number): QueuedRecord {
  if (m === null || typeof m !== 'object') throw new TypeError('a message must be an object with a value')
  const key = toBytes(m.key, 'key')
  const value = toBytes(m.value, 'value')
  let fixedBytes =
    (key === null ? 1 : varintSize(key.length) + key.length) +
    (value === null ? 1 : varintSize(value.length) + value.length)
  const t = m.timestamp
  let timestamp = now
  if (t !== undefined) {
    timestamp = typeof t === 'number' ? t : t instanceof Date ? t.getTime() : Number.NaN
    if (!Number.isSafeInteger(timestamp) || timestamp < 0)
      throw new TypeError(`timestamp must be a non-negative integer of milliseconds or a Date, got ${String(t)}`)
  }
  // The common case, no headers, shares one empty list.
  if (m.headers === undefined) return { key, value, headers: NO_HEADERS, timestamp, fixedBytes: fixedBytes + 1 }
  const headers = normalizeHeaders(m.headers)
  fixedBytes += varintSize(headers.length)
  for (let i = 0; i < headers.length; i++) {
    const hk = Buffer.byteLength(headers[i]!.key, 'utf8')
    const hv = headers[i]!.value
    fixedBytes += varintSize(hk) + hk + (hv === null ? 1 : varintSize(hv.length) + hv.length)
  }
  return { key, value, headers, timestamp, fixedBytes }
}

/** The encoded size of a record at `offsetDelta` in a batch whose base timestamp is `baseTimestamp`. */
export function recordBytes(r: QueuedRecord, offsetDelta: number, baseTimestamp: number): number {
  const body = 1 + varlongSize(r.timestamp - baseTimestamp) + varintSize(offsetDelta) + r.fixedBytes
  return varintSize(body) + body
}

/** What a record counts against `bufferBytes`: its size plus the worst case of its per-record varints. */
export function bufferCharge(r: QueuedRecord): number {
  return r.fixedBytes + 16
}
