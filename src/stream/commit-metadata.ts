import { deflateRawSync, inflateRawSync, constants as zlibConstants } from 'node:zlib'
import { SkiffError } from '../errors.js'

/**
 * The commit metadata of the stream processor: the completed ranges above a committed offset, and the timestamp of
 * the oldest unfinished record, in the string Kafka stores with the offset.
 *
 * Kafka limits that string to `offset.metadata.max.bytes` (4096 by default) and counts its *characters*, so the
 * encoding is ASCII: `sk1:` followed by base64url (no padding) of
 *
 * ```
 * flags       1 byte: bits 0-1 layout (0 runs, 1 bitset), bit 2 deflate-raw, bit 3 timestamp present,
 *             bit 4 live start present
 * body        (deflate-raw compressed when bit 2 is set)
 *   base      uvarint: the committed offset these ranges belong to (checked on decode: stale metadata is ignored)
 *   timestamp uvarint, when bit 3 is set: ms since the epoch of the oldest unfinished record
 *   live      uvarint, when bit 4 is set: live start − base (≥ 1): where a live cursor started reading while a
 *             backfill cursor works up from the base (one partition read from two positions at once). Readers that
 *             predate bit 4 refuse the string as unknown and fall back to the plain offset (they redo work, lose none)
 *   runs:     uvarint n, then n × (uvarint gap − 1, uvarint length − 1), each gap counted from the previous end
 *             (from the base for the first range; the base itself is never done, so every gap is ≥ 1)
 *   bitset:   uvarint bits, then ⌈bits / 8⌉ bytes; bit i (least significant first) set = offset base + 1 + i done
 * ```
 *
 * uvarints are little-endian base-128 (7 bits a byte), at most 8 bytes, values up to 2^53 − 1. The encoder picks the
 * smallest of runs and bitset, each raw or deflated.
 */
export const COMMIT_METADATA_PREFIX = 'sk1:'

/** Kafka's default `offset.metadata.max.bytes`. */
export const DEFAULT_METADATA_MAX_CHARS = 4096

/**
 * Most ranges one metadata string may hold, encoded or decoded. Deflate could squeeze more than this into 4096
 * characters; the encoder refuses to (the processor holds back instead) so that whatever it writes decodes.
 */
export const MAX_METADATA_RANGES = 100_000

/** Most bytes a body may have before compression (and so may inflate to), encoded or decoded. */
export const MAX_METADATA_BODY_BYTES = 1 << 20

/** What a commit records for one partition. */
export interface CommitState {
  /** The Kafka offset committed: the lowest offset not done. */
  offset: number
  /** Done ranges `[start, end)` above `offset`, ascending, disjoint, not adjacent, every start > offset. */
  ranges: ReadonlyArray<readonly [number, number]>
  /** Timestamp (ms since the epoch) of the oldest unfinished record, when there is one and it is known. */
  oldestUnfinishedTimestamp?: number
  /**
   * Where a live cursor started while a backfill cursor catches up from `offset` (above `offset`): the backfill
   * covers `[offset, liveStart)`, the live cursor everything from `liveStart` on.
   */
  liveStart?: number
}

export interface EncodeOptions {
  /** The broker's `offset.metadata.max.bytes` (characters). Default 4096. */
  maxChars?: number
  /** Try deflate-compressed forms too. Default true. */
  compress?: boolean
}

/** The encoded metadata, or — when even the smallest form is too long — its length, for backpressure. */
export type EncodeResult =
  | { fits: true; metadata: string; layout: 'runs' | 'bitset'; compressed: boolean }
  | { fits: false; chars: number; maxChars: number }

export interface DecodeLimits {
  /** Metadata longer than this is not looked at. Default 1 MiB of characters. */
  maxChars?: number
  /** Most ranges decoded. Default {@link MAX_METADATA_RANGES}. */
  maxRanges?: number
  /** Most bytes a compressed body may inflate to (and most bitset bytes). Default {@link MAX_METADATA_BODY_BYTES}. */
  maxBodyBytes?: number
}

/** Decoded metadata: ranges when it is this layer's and belongs to the committed offset; otherwise a plain offset. */
export type DecodedCommitMetadata =
  | { kind: 'ranges'; ranges: Array<[number, number]>; oldestUnfinishedTimestamp?: number; liveStart?: number }
  | {
      kind: 'plain'
      /**
       * - `foreign`: empty, or written by another client (not starting with `sk1:`);
       * - `stale`: ours, but written for another offset (the offset was reset by other means since);
       * - `invalid`: starts with `sk1:` but cannot be decoded within the limits (`error` says why).
       */
      reason: 'foreign' | 'stale' | 'invalid'
      error?: CommitMetadataError
    }

/** Commit metadata that claims to be this layer's but is malformed or over the decoding limits. */
export class CommitMetadataError extends SkiffError {
  override name = 'CommitMetadataError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(`commit metadata: ${message}`, options)
  }
}

const LAYOUT_RUNS = 0
const LAYOUT_BITSET = 1
const FLAG_DEFLATE = 4
const FLAG_TIMESTAMP = 8
const FLAG_LIVE_START = 16
const KNOWN_FLAGS = 0b11111
const MAX_VARINT_BYTES = 8
/** Deflate does not pay for itself on bodies this small. */
const COMPRESS_FROM_BYTES = 48
const BASE64URL = /^[A-Za-z0-9_-]*$/

/** Characters of `sk1:` + base64url (unpadded) of `bytes` bytes. */
export function encodedChars(bytes: number): number {
  return COMMIT_METADATA_PREFIX.length + Math.ceil((bytes * 4) / 3)
}

/** Bytes of a uvarint. */
export function uvarintSize(v: number): number {
  let n = 1
  while (v >= 128) {
    v = Math.floor(v / 128)
    n++
  }
  return n
}

/**
 * The length in characters of the raw runs layout, without building it: an upper bound of what
 * {@link encodeCommitMetadata} produces (it only ever picks something smaller). Linear in the number of ranges.
 */
export function runsEncodedChars(state: CommitState): number {
  let bytes = 1 + uvarintSize(state.offset) + uvarintSize(state.ranges.length)
  if (hasTimestamp(state)) bytes += uvarintSize(state.oldestUnfinishedTimestamp!)
  if (state.liveStart !== undefined) bytes += uvarintSize(state.liveStart - state.offset)
  let prev = state.offset
  for (const [start, end] of state.ranges) {
    bytes += uvarintSize(start - prev - 1) + uvarintSize(end - start - 1)
    prev = end
  }
  return encodedChars(bytes)
}

/**
 * Encodes a commit's ranges in the smallest of the layouts that fits `maxChars`; reports the smallest length when
 * none does (the caller must then hold back rather than commit less than it knows).
 */
export function encodeCommitMetadata(state: CommitState, options: EncodeOptions = {}): EncodeResult {
  const maxChars = options.maxChars ?? DEFAULT_METADATA_MAX_CHARS
  if (!Number.isSafeInteger(maxChars) || maxChars <= 0) throw new RangeError(`maxChars must be positive: ${maxChars}`)
  checkState(state)
  if (state.ranges.length > MAX_METADATA_RANGES) return { fits: false, chars: runsEncodedChars(state), maxChars }
  const ts = hasTimestamp(state)
  const head = new ByteWriter()
  head.uvarint(state.offset)
  if (ts) head.uvarint(state.oldestUnfinishedTimestamp!)
  if (state.liveStart !== undefined) head.uvarint(state.liveStart - state.offset)

  const candidates: Array<{ layout: number; body: Buffer }> = [{ layout: LAYOUT_RUNS, body: runsBody(head, state) }]
  const span = state.ranges.length > 0 ? state.ranges[state.ranges.length - 1]![1] - state.offset - 1 : 0
  // A bitset costs a bit per offset of the span: worth building only when it could possibly win.
  if (state.ranges.length > 0 && Math.ceil(span / 8) < candidates[0]!.body.length) {
    candidates.push({ layout: LAYOUT_BITSET, body: bitsetBody(head, state, span) })
  }
  if (options.compress !== false) {
    for (const c of [...candidates]) {
      // What inflates past the decoder's limit would not be read back.
      if (c.body.length < COMPRESS_FROM_BYTES || c.body.length > MAX_METADATA_BODY_BYTES) continue
      const deflated = deflateRawSync(c.body, { level: zlibConstants.Z_BEST_COMPRESSION })
      if (deflated.length < c.body.length) candidates.push({ layout: c.layout | FLAG_DEFLATE, body: deflated })
    }
  }
  let best = candidates[0]!
  for (const c of candidates) if (c.body.length < best.body.length) best = c
  const chars = encodedChars(1 + best.body.length)
  if (chars > maxChars) return { fits: false, chars, maxChars }
  const out = Buffer.allocUnsafe(1 + best.body.length)
  out[0] = best.layout | (ts ? FLAG_TIMESTAMP : 0) | (state.liveStart !== undefined ? FLAG_LIVE_START : 0)
  best.body.copy(out, 1)
  return {
    fits: true,
    metadata: COMMIT_METADATA_PREFIX + out.toString('base64url'),
    layout: (best.layout & 3) === LAYOUT_BITSET ? 'bitset' : 'runs',
    compressed: (best.layout & FLAG_DEFLATE) !== 0,
  }
}

/**
 * Reads commit metadata for a partition whose committed offset is `committedOffset`. Never throws on the string:
 * anything that is not this layer's metadata for this offset is a plain offset (nothing known done above it), with
 * the reason — and for a malformed `sk1:` string the {@link CommitMetadataError}.
 *
 * Bounded: at most `maxChars` characters are looked at, a compressed body inflates to at most `maxBodyBytes`
 * (zlib stops there), and at most `maxRanges` ranges are produced; every loop is bounded by those numbers.
 */
export function decodeCommitMetadata(
  metadata: string | null | undefined,
  committedOffset: number,
  limits: DecodeLimits = {},
): DecodedCommitMetadata {
  if (typeof metadata !== 'string' || !metadata.startsWith(COMMIT_METADATA_PREFIX))
    return { kind: 'plain', reason: 'foreign' }
  try {
    const decoded = parseCommitMetadata(metadata, limits)
    if (decoded.offset !== committedOffset) return { kind: 'plain', reason: 'stale' }
    const out: DecodedCommitMetadata = { kind: 'ranges', ranges: decoded.ranges }
    if (decoded.oldestUnfinishedTimestamp !== undefined)
      out.oldestUnfinishedTimestamp = decoded.oldestUnfinishedTimestamp
    if (decoded.liveStart !== undefined) out.liveStart = decoded.liveStart
    return out
  } catch (err) {
    if (err instanceof CommitMetadataError) return { kind: 'plain', reason: 'invalid', error: err }
    throw err
  }
}

/** Strict decoding of an `sk1:` string, with the offset it was written for; throws {@link CommitMetadataError}. */
export function parseCommitMetadata(
  metadata: string,
  limits: DecodeLimits = {},
): CommitState & { ranges: Array<[number, number]> } {
  const maxChars = limits.maxChars ?? 1 << 20
  const maxRanges = limits.maxRanges ?? MAX_METADATA_RANGES
  const maxBodyBytes = limits.maxBodyBytes ?? MAX_METADATA_BODY_BYTES
  if (!metadata.startsWith(COMMIT_METADATA_PREFIX)) throw new CommitMetadataError(`no ${COMMIT_METADATA_PREFIX} prefix`)
  if (metadata.length > maxChars)
    throw new CommitMetadataError(`${metadata.length} characters, over the ${maxChars} limit`)
  const text = metadata.slice(COMMIT_METADATA_PREFIX.length)
  if (!BASE64URL.test(text) || text.length % 4 === 1) throw new CommitMetadataError('not base64url')
  const raw = Buffer.from(text, 'base64url')
  if (raw.length < 2) throw new CommitMetadataError('too short')
  const flags = raw[0]!
  if ((flags & ~KNOWN_FLAGS) !== 0 || (flags & 3) > LAYOUT_BITSET)
    throw new CommitMetadataError(`unknown flags ${flags}`)
  let body = raw.subarray(1)
  if (flags & FLAG_DEFLATE) {
    try {
      body = inflateRawSync(body, { maxOutputLength: maxBodyBytes })
    } catch (cause) {
      throw new CommitMetadataError(`compressed body does not inflate within ${maxBodyBytes} bytes`, { cause })
    }
  }
  const r = new ByteReader(body)
  const offset = r.uvarint('base')
  const oldestUnfinishedTimestamp = flags & FLAG_TIMESTAMP ? r.uvarint('timestamp') : undefined
  let liveStart: number | undefined
  if (flags & FLAG_LIVE_START) {
    const delta = r.uvarint('live start')
    if (delta < 1) throw new CommitMetadataError('live start at or below the base')
    liveStart = safeAdd(offset, delta)
  }
  const ranges: Array<[number, number]> = []
  if ((flags & 3) === LAYOUT_RUNS) {
    const n = r.uvarint('range count')
    if (n > maxRanges) throw new CommitMetadataError(`${n} ranges, over the ${maxRanges} limit`)
    // Each range takes at least two bytes: a count beyond what is left is a lie, caught before looping.
    if (n * 2 > r.left) throw new CommitMetadataError(`${n} ranges declared, ${r.left} bytes left`)
    let prev = offset
    for (let i = 0; i < n; i++) {
      const start = safeAdd(prev, r.uvarint('gap') + 1)
      const end = safeAdd(start, r.uvarint('length') + 1)
      ranges.push([start, end])
      prev = end
    }
  } else {
    const bits = r.uvarint('bit count')
    const bytes = Math.ceil(bits / 8)
    if (bytes > maxBodyBytes || bytes > r.left)
      throw new CommitMetadataError(`${bits} bits declared, ${r.left} bytes left`)
    safeAdd(offset, bits + 1)
    const set = r.take(bytes)
    let open = -1
    for (let i = 0; i < bits; i++) {
      const byte = set[i >>> 3]!
      // Whole bytes that continue the current state (all clear outside a range, all set inside one) are skipped.
      if ((i & 7) === 0 && i + 8 <= bits && byte === (open < 0 ? 0 : 0xff)) {
        i += 7
        continue
      }
      const on = (byte >>> (i & 7)) & 1
      if (on && open < 0) open = i
      else if (!on && open >= 0) {
        if (ranges.length >= maxRanges) throw new CommitMetadataError(`over ${maxRanges} ranges`)
        ranges.push([offset + 1 + open, offset + 1 + i])
        open = -1
      }
    }
    if (open >= 0) {
      if (ranges.length >= maxRanges) throw new CommitMetadataError(`over ${maxRanges} ranges`)
      ranges.push([offset + 1 + open, offset + 1 + bits])
    }
  }
  if (r.left !== 0) throw new CommitMetadataError(`${r.left} bytes after the ranges`)
  const state: CommitState & { ranges: Array<[number, number]> } = { offset, ranges }
  if (oldestUnfinishedTimestamp !== undefined) state.oldestUnfinishedTimestamp = oldestUnfinishedTimestamp
  if (liveStart !== undefined) state.liveStart = liveStart
  return state
}

function hasTimestamp(state: CommitState): boolean {
  const t = state.oldestUnfinishedTimestamp
  return t !== undefined && t >= 0
}

function checkState(state: CommitState): void {
  if (!Number.isSafeInteger(state.offset) || state.offset < 0) throw new RangeError(`bad offset ${state.offset}`)
  const t = state.oldestUnfinishedTimestamp
  if (t !== undefined && !Number.isSafeInteger(t)) throw new RangeError(`bad timestamp ${t}`)
  const live = state.liveStart
  if (live !== undefined && (!Number.isSafeInteger(live) || live <= state.offset))
    throw new RangeError(`live start must be above the offset: ${live}`)
  let prev = state.offset
  for (const [start, end] of state.ranges) {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start <= prev || end <= start)
      throw new RangeError(`ranges must be ascending, disjoint, not adjacent and above the offset: ${start}..${end}`)
    prev = end
  }
}

function runsBody(head: ByteWriter, state: CommitState): Buffer {
  const w = head.clone()
  w.uvarint(state.ranges.length)
  let prev = state.offset
  for (const [start, end] of state.ranges) {
    w.uvarint(start - prev - 1)
    w.uvarint(end - start - 1)
    prev = end
  }
  return w.finish()
}

function bitsetBody(head: ByteWriter, state: CommitState, bits: number): Buffer {
  const w = head.clone()
  w.uvarint(bits)
  const set = Buffer.alloc(Math.ceil(bits / 8))
  const first = state.offset + 1
  for (const [start, end] of state.ranges) {
    for (let i = start - first; i < end - first; i++) set[i >>> 3]! |= 1 << (i & 7)
  }
  return Buffer.concat([w.finish(), set])
}

function safeAdd(a: number, b: number): number {
  const v = a + b
  if (!Number.isSafeInteger(v)) throw new CommitMetadataError('offsets beyond 2^53')
  return v
}

class ByteWriter {
  private bytes: number[] = []

  uvarint(v: number): void {
    while (v >= 128) {
      this.bytes.push((v % 128) | 128)
      v = Math.floor(v / 128)
    }
    this.bytes.push(v)
  }

  clone(): ByteWriter {
    const w = new ByteWriter()
    w.bytes = [...this.bytes]
    return w
  }

  finish(): Buffer {
    return Buffer.from(this.bytes)
  }
}

class ByteReader {
  private at = 0
  constructor(private readonly buf: Buffer) {}

  get left(): number {
    return this.buf.length - this.at
  }

  uvarint(what: string): number {
    let v = 0
    let scale = 1
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (this.at >= this.buf.length) throw new CommitMetadataError(`truncated ${what}`)
      const b = this.buf[this.at++]!
      v += (b & 127) * scale
      if (b < 128) {
        if (!Number.isSafeInteger(v)) throw new CommitMetadataError(`${what} beyond 2^53`)
        return v
      }
      scale *= 128
    }
    throw new CommitMetadataError(`${what} longer than ${MAX_VARINT_BYTES} bytes`)
  }

  take(n: number): Buffer {
    const out = this.buf.subarray(this.at, this.at + n)
    this.at += n
    return out
  }
}
