/**
 * Snappy, our own implementation: the raw block format
 * (https://github.com/google/snappy/blob/main/format_description.txt) and the xerial framing that snappy-java's
 * SnappyOutputStream writes — which is what Kafka's Java client puts in snappy batches:
 *
 *   header  0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00, int32 version (1), int32 min-compatible version (1)   (big-endian)
 *   blocks  [int32 compressed length][raw snappy block], repeated; each block holds at most 32 KiB of input
 *
 * Decoding is bounded: every block declares its uncompressed length up front, and that length is checked against
 * what is left of `maxOutputBytes` (and against what its compressed bytes could possibly expand to) before anything
 * is allocated for it. Every literal and copy is bounds-checked, so hostile input ends in a typed error, never a
 * RangeError or an out-of-bounds write.
 */

import { CorruptCompressedDataError, DecompressionLimitError } from '../errors.js'
import type { CompressionCodec, DecompressLimits, Decompressor } from '../types.js'
import { copyLiterals, copyMatch } from './lz-copy.js'

const CODEC = 'snappy'
const XERIAL_MAGIC = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00] as const
const XERIAL_HEADER_BYTES = 16
/** snappy-java's SnappyOutputStream.DEFAULT_BLOCK_SIZE, which Kafka's producer uses. */
export const XERIAL_BLOCK_BYTES = 32 * 1024
const DEFAULT_CHUNK_BYTES = 256 * 1024
/**
 * The most output one compressed byte can stand for: a 3-byte copy (2-byte offset) yields 64 bytes. A block that
 * declares more than this many times its compressed size is corrupt, and we can say so without allocating.
 */
const MAX_EXPANSION = 64 / 3

// ---------------------------------------------------------------------------------------------------------------
// Raw block decoding
// ---------------------------------------------------------------------------------------------------------------

/** Why decodeBlock stopped (a non-negative result is success). */
const ERR_TRUNCATED = -1
const ERR_OFFSET = -2
const ERR_OVERFLOW = -3
const ERR_SHORT = -4
/** The input position at which decodeBlock failed. */
let failedAt = 0

/**
 * Decodes the elements in `src[s, sEnd)` into `dst`, which must be exactly the block's declared length.
 * Returns 0, or a negative ERR_* with `failedAt` set.
 *
 * Most elements are short (on JSON log lines, literals of ~6 bytes and copies of ~14), so the cost is per element,
 * not per byte: the fast paths move 4 bytes per DataView load and store, 8 or 16 at a time, and may run past the
 * end of the element to the end of its last group. They are taken only where that whole group lies inside `src` (for
 * reads) and inside `dst` (for writes); what they write past the element is garbage that the elements after it
 * overwrite (every byte of `dst` is written by its own element last, since `d` only grows and must reach `dEnd`).
 * Every check hostile input needs is still made, before anything is copied; a fast path skips only the checks its
 * own condition already implies.
 */
function decodeElements(src: Uint8Array, s: number, sEnd: number, dst: Uint8Array): number {
  const dEnd = dst.length
  const sv = new DataView(src.buffer, src.byteOffset, src.length)
  const dv = new DataView(dst.buffer, dst.byteOffset, dEnd)
  /** A 16-byte group may be read from src[s] while s <= sFast, written at dst[d] while d <= dFast. */
  const sFast = src.length - 16
  const dFast = dEnd - 16
  let d = 0
  while (s < sEnd) {
    const tag = src[s]!
    const at = s++
    let len: number
    let offset: number
    switch (tag & 3) {
      case 0: {
        len = tag >>> 2
        if (len < 16 && s <= sFast && d <= dFast) {
          // 1..16 bytes: one 16-byte group (d <= dFast means the output has room for them).
          len += 1
          if (len > sEnd - s) return fail(ERR_TRUNCATED, at)
          dv.setInt32(d, sv.getInt32(s, true), true)
          dv.setInt32(d + 4, sv.getInt32(s + 4, true), true)
          if (len > 8) {
            dv.setInt32(d + 8, sv.getInt32(s + 8, true), true)
            dv.setInt32(d + 12, sv.getInt32(s + 12, true), true)
          }
          s += len
          d += len
          continue
        }
        if (len >= 60) {
          // 60..63: the length minus one follows in 1..4 little-endian bytes.
          const n = len - 59
          if (n > sEnd - s) return fail(ERR_TRUNCATED, at)
          len = src[s]!
          if (n > 1) len |= src[s + 1]! << 8
          if (n > 2) len |= src[s + 2]! << 16
          if (n > 3) len = (len | (src[s + 3]! << 24)) >>> 0
          s += n
        }
        len += 1
        if (len > sEnd - s) return fail(ERR_TRUNCATED, at)
        if (len > dEnd - d) return fail(ERR_OVERFLOW, at)
        copyLiterals(src, sv, dst, dv, s, d, len, sFast, dFast)
        s += len
        d += len
        continue
      }
      case 1:
        if (s >= sEnd) return fail(ERR_TRUNCATED, at)
        len = ((tag >>> 2) & 7) + 4
        offset = ((tag >>> 5) << 8) | src[s++]!
        break
      case 2:
        if (s + 2 > sEnd) return fail(ERR_TRUNCATED, at)
        len = (tag >>> 2) + 1
        offset = sv.getUint16(s, true)
        s += 2
        break
      default:
        if (s + 4 > sEnd) return fail(ERR_TRUNCATED, at)
        len = (tag >>> 2) + 1
        offset = sv.getUint32(s, true)
        s += 4
    }
    if (offset === 0 || offset > d) return fail(ERR_OFFSET, at)
    if (len > dEnd - d) return fail(ERR_OVERFLOW, at)
    copyMatch(dst, dv, d - offset, d, d + len, dFast)
    d += len
  }
  if (d !== dEnd) return fail(ERR_SHORT, s)
  return 0
}

function fail(code: number, at: number): number {
  failedAt = at
  return code
}

/** A uvarint of at most 32 bits at `src[s]`; returns [value, next position] or null when malformed/truncated. */
function readLength(src: Uint8Array, s: number, end: number): [number, number] | null {
  let value = 0
  let scale = 1
  for (let i = 0; i < 5; i++) {
    if (s >= end) return null
    const b = src[s++]!
    value += (b & 0x7f) * scale
    if (b < 0x80) return value > 0xffffffff ? null : [value, s]
    scale *= 128
  }
  return null
}

// ---------------------------------------------------------------------------------------------------------------
// Decompressor
// ---------------------------------------------------------------------------------------------------------------

class XerialOrRawDecompressor implements SnappyDecompressor {
  produced = 0
  /** Bytes decoded so far (emitted or still pending): what the limit is checked against. */
  private decoded = 0
  private pos = 0
  private readonly xerial: boolean
  private readonly maxOutput: number
  private readonly chunkBytes: number
  /** A decoded block still being handed out in chunkBytes slices. */
  private pending: Buffer | null = null
  private pendingPos = 0
  private done = false
  /** The error decoding stopped with: thrown again by every later call rather than passing for the end. */
  private failure: Error | undefined

  constructor(
    private input: Buffer,
    limits: DecompressLimits,
  ) {
    this.maxOutput = checkLimits(limits)
    this.chunkBytes = limits.chunkBytes ?? DEFAULT_CHUNK_BYTES
    // The header itself is read (and checked) by nextXerialBlock, like any later concatenated header.
    this.xerial = hasXerialMagic(input, 0)
  }

  next(): Promise<Buffer | null> {
    try {
      return Promise.resolve(this.nextSync())
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** The synchronous core of {@link next}. */
  nextSync(): Buffer | null {
    if (this.failure) throw this.failure
    for (;;) {
      if (this.pending) return this.slice()
      if (this.done) return null
      const block = this.xerial ? this.nextXerialBlock() : this.rawBlock()
      if (block === null) {
        this.close()
        return null
      }
      if (block.length > 0) {
        this.pending = block
        this.pendingPos = 0
      }
    }
  }

  close(): void {
    this.done = true
    this.pending = null
    this.input = EMPTY
  }

  private slice(): Buffer {
    const block = this.pending!
    const start = this.pendingPos
    const end = Math.min(block.length, start + this.chunkBytes)
    const chunk = start === 0 && end === block.length ? block : block.subarray(start, end)
    this.pendingPos = end
    if (end === block.length) this.pending = null
    this.produced += chunk.length
    return chunk
  }

  /** The whole input as one raw block. An empty input is an empty output, as for snappy-java's SnappyInputStream. */
  private rawBlock(): Buffer | null {
    this.done = true
    if (this.input.length === 0) return null
    return this.decodeBlock(0, this.input.length, 'raw snappy block')
  }

  private nextXerialBlock(): Buffer | null {
    const input = this.input
    for (;;) {
      const at = this.pos
      if (at === input.length) return null
      // snappy-java reads concatenated streams: a second header where a block length would be.
      if (hasXerialMagic(input, at)) {
        if (input.length - at < XERIAL_HEADER_BYTES) this.corrupt('truncated xerial header', at)
        this.pos += XERIAL_HEADER_BYTES
        continue
      }
      if (input.length - at < 4) this.corrupt('truncated xerial block length', at)
      const length = input.readInt32BE(at)
      if (length < 0 || length > input.length - at - 4) {
        this.corrupt(`xerial block of ${length} bytes overruns the ${input.length - at - 4} bytes left`, at)
      }
      this.pos = at + 4 + length
      return this.decodeBlock(at + 4, at + 4 + length, 'xerial block')
    }
  }

  /** Decodes the raw block in input[start, end) into a buffer of its declared length, after checking that length. */
  private decodeBlock(start: number, end: number, what: string): Buffer {
    const header = readLength(this.input, start, end)
    if (header === null) this.corrupt(`${what} has a malformed length`, start)
    const [declared, body] = header
    if (declared > this.maxOutput - this.decoded) {
      this.fail(
        new DecompressionLimitError(
          CODEC,
          this.input.length,
          this.decoded + declared,
          this.maxOutput,
          `a ${what} declares ${declared} bytes`,
        ),
      )
    }
    if (declared > Math.ceil((end - body) * MAX_EXPANSION)) {
      this.corrupt(`${what} declares ${declared} bytes, more than its ${end - body} bytes can expand to`, start)
    }
    const out = Buffer.allocUnsafe(declared)
    const rc = decodeElements(this.input, body, end, out)
    if (rc < 0) this.corrupt(describe(rc, what), failedAt)
    this.decoded += declared
    return out
  }

  private corrupt(problem: string, at: number): never {
    this.fail(new CorruptCompressedDataError(CODEC, problem, at))
  }

  private fail(error: Error): never {
    this.close()
    this.failure = error
    throw error
  }
}

function describe(code: number, what: string): string {
  switch (code) {
    case ERR_TRUNCATED:
      return `${what} ends inside an element`
    case ERR_OFFSET:
      return `${what} copies from an offset of 0 or before its start`
    case ERR_OVERFLOW:
      return `${what} produces more than its declared length`
    default:
      return `${what} produces less than its declared length`
  }
}

const EMPTY = Buffer.alloc(0)

function hasXerialMagic(b: Uint8Array, at: number): boolean {
  if (b.length - at < XERIAL_MAGIC.length) return false
  for (let i = 0; i < XERIAL_MAGIC.length; i++) if (b[at + i] !== XERIAL_MAGIC[i]) return false
  return true
}

function checkLimits(limits: DecompressLimits): number {
  const max = limits.maxOutputBytes
  if (!(max >= 0)) throw new RangeError(`maxOutputBytes must be a non-negative number, got ${max}`)
  const chunk = limits.chunkBytes
  if (chunk !== undefined && !(chunk >= 1)) throw new RangeError(`chunkBytes must be at least 1, got ${chunk}`)
  return max
}

// ---------------------------------------------------------------------------------------------------------------
// Compression
// ---------------------------------------------------------------------------------------------------------------

/** Snappy compresses independent fragments of at most 64 KiB, so 16-bit positions suffice in the hash table. */
const FRAGMENT_BYTES = 65536
const MAX_TABLE_BITS = 14
const table = new Uint16Array(1 << MAX_TABLE_BITS)

/** snappy's MaxCompressedLength. */
function maxCompressedLength(n: number): number {
  return 32 + n + Math.floor(n / 6)
}

/**
 * Writes the literal src[start, end) at dst[d]; returns the new end. Literals of up to 60 bytes (nearly all: a few
 * bytes between copies, usually) go 8 bytes per pair of DataView loads and stores, while both buffers have room for
 * the whole last group; what it writes past the literal is overwritten by what follows, or lies past the end of
 * the output.
 */
function emitLiteral(
  dst: Uint8Array,
  dv: DataView,
  d: number,
  src: Uint8Array,
  sv: DataView,
  start: number,
  end: number,
): number {
  const n = end - start - 1
  if (n < 60 && end + 8 <= src.length && d + n + 10 <= dst.length) {
    dst[d] = n << 2
    let o = d + 1
    for (let i = start; i < end; i += 8, o += 8) {
      dv.setInt32(o, sv.getInt32(i, true), true)
      dv.setInt32(o + 4, sv.getInt32(i + 4, true), true)
    }
    return d + n + 2
  }
  if (n < 60) {
    dst[d++] = n << 2
  } else if (n < 0x100) {
    dst[d++] = 60 << 2
    dst[d++] = n
  } else if (n < 0x10000) {
    dst[d++] = 61 << 2
    dst[d++] = n
    dst[d++] = n >>> 8
  } else if (n < 0x1000000) {
    dst[d++] = 62 << 2
    dst[d++] = n
    dst[d++] = n >>> 8
    dst[d++] = n >>> 16
  } else {
    dst[d++] = 63 << 2
    dst[d++] = n
    dst[d++] = n >>> 8
    dst[d++] = n >>> 16
    dst[d++] = n >>> 24
  }
  // A plain Uint8Array view: cheaper to make than Buffer#subarray's FastBuffer.
  dst.set(new Uint8Array(src.buffer, src.byteOffset + start, end - start), d)
  return d + n + 1
}

/** A copy of `length` bytes from `offset` back (offset < 64 KiB, so 1- or 2-byte offset forms suffice). */
function emitCopy(dst: Uint8Array, d: number, offset: number, length: number): number {
  while (length >= 68) {
    dst[d++] = 2 | (63 << 2)
    dst[d++] = offset
    dst[d++] = offset >>> 8
    length -= 64
  }
  if (length > 64) {
    // Leave at least 4 bytes so that the last copy is still encodable.
    dst[d++] = 2 | (59 << 2)
    dst[d++] = offset
    dst[d++] = offset >>> 8
    length -= 60
  }
  if (length >= 12 || offset >= 2048) {
    dst[d++] = 2 | ((length - 1) << 2)
    dst[d++] = offset
    dst[d++] = offset >>> 8
  } else {
    dst[d++] = 1 | ((length - 4) << 2) | ((offset >>> 8) << 5)
    dst[d++] = offset
  }
  return d
}

/**
 * Compresses one fragment src[base, end) (at most 64 KiB): the classic snappy matcher — hash 4 bytes, look up the
 * last position with that hash, skip ahead faster the longer nothing matches. `sv` and `dv` view `src` and `dst`:
 * 4-byte loads are one DataView read each, and matches are extended a word at a time.
 */
function encodeFragment(
  src: Uint8Array,
  sv: DataView,
  base: number,
  end: number,
  dst: Uint8Array,
  dv: DataView,
  d: number,
): number {
  const n = end - base
  // Too short to be worth matching (and the matcher reads a few bytes past its limits).
  if (n < 17) return n > 0 ? emitLiteral(dst, dv, d, src, sv, base, end) : d
  const t = table
  let shift = 32 - 8
  for (let size = 1 << 8; size < 1 << MAX_TABLE_BITS && size < n; size *= 2) shift--
  t.fill(0, 0, 1 << (32 - shift))
  // Every 4-byte load below starts at or before sLimit + 1 < end - 4: inside the fragment.
  const sLimit = end - 15
  let nextEmit = base
  let s = base + 1
  let nextHash = Math.imul(sv.getInt32(s, true), 0x1e35a7bd) >>> shift
  outer: for (;;) {
    let skip = 32
    let nextS = s
    let candidate = 0
    for (;;) {
      s = nextS
      const step = skip >>> 5
      nextS = s + step
      skip++
      if (nextS > sLimit) break outer
      candidate = base + t[nextHash]!
      t[nextHash] = s - base
      nextHash = Math.imul(sv.getInt32(nextS, true), 0x1e35a7bd) >>> shift
      if (sv.getInt32(s, true) === sv.getInt32(candidate, true)) break
    }
    d = emitLiteral(dst, dv, d, src, sv, nextEmit, s)
    for (;;) {
      const start = s
      s += 4
      let i = candidate + 4
      // A word at a time while one fits before the end; the first differing byte is the lowest set bit's.
      for (;;) {
        if (s > end - 4) {
          while (s < end && src[i] === src[s]) {
            i++
            s++
          }
          break
        }
        const x = sv.getInt32(s, true) ^ sv.getInt32(i, true)
        if (x !== 0) {
          s += (31 - Math.clz32(x & -x)) >>> 3
          break
        }
        s += 4
        i += 4
      }
      d = emitCopy(dst, d, start - candidate, s - start)
      nextEmit = s
      if (s >= sLimit) break outer
      t[Math.imul(sv.getInt32(s - 1, true), 0x1e35a7bd) >>> shift] = s - 1 - base
      const current = sv.getInt32(s, true)
      const h = Math.imul(current, 0x1e35a7bd) >>> shift
      candidate = base + t[h]!
      t[h] = s - base
      if (current !== sv.getInt32(candidate, true)) {
        nextHash = Math.imul(sv.getInt32(s + 1, true), 0x1e35a7bd) >>> shift
        s++
        break
      }
    }
  }
  if (nextEmit < end) d = emitLiteral(dst, dv, d, src, sv, nextEmit, end)
  return d
}

/** Writes data[start, end) as one raw snappy block (length preamble + fragments) at dst[d]; returns the new end. */
function encodeBlock(
  data: Uint8Array,
  sv: DataView,
  start: number,
  end: number,
  dst: Uint8Array,
  dv: DataView,
  d: number,
): number {
  let n = end - start
  while (n >= 0x80) {
    dst[d++] = (n & 0x7f) | 0x80
    n = Math.floor(n / 128)
  }
  dst[d++] = n
  for (let p = start; p < end; p += FRAGMENT_BYTES)
    d = encodeFragment(data, sv, p, Math.min(end, p + FRAGMENT_BYTES), dst, dv, d)
  return d
}

const viewOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.length)

/** One raw snappy block (no framing): what librdkafka and the snappy reference call "snappy". */
export function snappyCompressRaw(data: Uint8Array): Buffer {
  const scratch = Buffer.allocUnsafe(5 + maxCompressedLength(data.length))
  const n = encodeBlock(data, viewOf(data), 0, data.length, scratch, viewOf(scratch), 0)
  return Buffer.from(scratch.subarray(0, n))
}

/** xerial-framed snappy, as snappy-java's SnappyOutputStream (and so Kafka's Java producer) writes it. */
export function snappyCompressXerial(data: Uint8Array, blockBytes = XERIAL_BLOCK_BYTES): Buffer {
  if (!(blockBytes >= 1)) throw new RangeError(`blockBytes must be at least 1, got ${blockBytes}`)
  const blocks = Math.ceil(data.length / blockBytes)
  const scratch = Buffer.allocUnsafe(
    XERIAL_HEADER_BYTES + blocks * (4 + 5) + maxCompressedLength(data.length) + blocks * 32,
  )
  for (let i = 0; i < XERIAL_MAGIC.length; i++) scratch[i] = XERIAL_MAGIC[i]!
  scratch.writeInt32BE(1, 8)
  scratch.writeInt32BE(1, 12)
  let d = XERIAL_HEADER_BYTES
  const sv = viewOf(data)
  const dv = viewOf(scratch)
  for (let p = 0; p < data.length; p += blockBytes) {
    const end = encodeBlock(data, sv, p, Math.min(data.length, p + blockBytes), scratch, dv, d + 4)
    scratch.writeInt32BE(end - d - 4, d)
    d = end
  }
  return Buffer.from(scratch.subarray(0, d))
}

/** A {@link Decompressor} whose chunks can also be pulled synchronously (decoding never waits on anything). */
export interface SnappyDecompressor extends Decompressor {
  nextSync(): Buffer | null
}

/** Decompressor for xerial-framed snappy (detected by its magic) or, failing that, one raw snappy block. */

export function snappyDecompressor(input: Buffer, limits: DecompressLimits): SnappyDecompressor {
  return new XerialOrRawDecompressor(input, limits)
}

/** The whole output at once, still bounded by `maxOutputBytes` (for synchronous callers such as magic 0/1 message sets). */
export function snappyDecompressSync(input: Buffer, limits: DecompressLimits): Buffer {
  const d = new XerialOrRawDecompressor(input, { ...limits, chunkBytes: Number.MAX_SAFE_INTEGER })
  const chunks: Buffer[] = []
  for (let c = d.nextSync(); c !== null; c = d.nextSync()) chunks.push(c)
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
}

/** Snappy as Kafka uses it: compress writes xerial framing with 32 KiB blocks; `level` is ignored. */
export const snappyCodec: CompressionCodec = {
  name: CODEC,
  compress: (data) => Promise.resolve(snappyCompressXerial(data)),
  decompressor: snappyDecompressor,
}
