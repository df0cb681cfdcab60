/**
 * LZ4 frames (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md), what Kafka puts in lz4 batches, with
 * our own block decoder and compressor.
 *
 *   magic 0x184D2204 (LE) · FLG · BD · [content size, 8 bytes LE] · [dictionary id] · HC
 *   blocks: int32 LE size (high bit = stored uncompressed), data, [xxHash32 of the data]
 *   end mark 0 · [xxHash32 of the whole content]
 *   HC = second byte of xxHash32(FLG .. last descriptor byte)
 *
 * Decoding is bounded: a block can never produce more than the frame's declared maximum block size (64 KiB ..
 * 4 MiB) nor more than what is left of `maxOutputBytes` — the decoder is handed exactly that much room and stops
 * (a typed error) at its edge instead of writing past it. Offsets are checked against the history actually
 * produced, lengths against the input, checksums when the frame has them.
 *
 * Kafka specifics: its Java producer (Lz4BlockOutputStream) writes independent 64 KiB blocks, no block checksums,
 * no content size, and — under message format magic 0 only — a header checksum computed over the magic number too
 * (KAFKA-3160); {@link lz4LegacyDecompressor} accepts that one. Its consumer rejects linked blocks ("Dependent
 * block stream is unsupported"), so we never write them, though we read them.
 */

import { CorruptCompressedDataError, DecompressionLimitError } from '../errors.js'
import type { CompressionCodec, CompressOptions, DecompressLimits, Decompressor } from '../types.js'
import { XxHash32, xxhash32 } from '../xxhash32.js'
import { copyLiterals, copyMatch } from './lz-copy.js'

const CODEC = 'lz4'
const MAGIC = 0x184d2204
const DEFAULT_CHUNK_BYTES = 256 * 1024
/** Linked blocks may copy from up to 64 KiB of previous output. */
const HISTORY_BYTES = 64 * 1024

const FLG_VERSION_MASK = 0xc0
const FLG_VERSION_01 = 0x40
const FLG_BLOCK_INDEPENDENCE = 0x20
const FLG_BLOCK_CHECKSUM = 0x10
const FLG_CONTENT_SIZE = 0x08
const FLG_CONTENT_CHECKSUM = 0x04
const FLG_RESERVED = 0x02
const FLG_DICTIONARY_ID = 0x01
const BLOCK_UNCOMPRESSED = 0x80000000
/** Independent blocks up to this size are decoded straight into a buffer of their own. */
const DIRECT_BLOCK_BYTES = 256 * 1024

// ---------------------------------------------------------------------------------------------------------------
// Block decoding
// ---------------------------------------------------------------------------------------------------------------

const ERR_TRUNCATED = -1
const ERR_OFFSET = -2
const ERR_OVERFLOW = -3
/** The input position at which decodeBlock failed. */
let failedAt = 0

function fail(code: number, at: number): number {
  failedAt = at
  return code
}

/**
 * Decodes the LZ4 block src[s, sEnd) into dst starting at `d`, writing nothing at or past `dEnd`; matches may reach
 * back to `dMin` (the start of the history). Returns the new end of output, or a negative ERR_* with `failedAt` set.
 *
 * Most sequences are short (on JSON log lines, 0-14 literals and matches of 4-18 bytes), so the cost is per
 * sequence, not per byte: the fast paths move 4 bytes per DataView load and store, 8 or 16 at a time, and may run
 * past the end of the literals or match to the end of its last group. They are taken only where that whole group
 * lies inside `src` (for reads) and before `dEnd` (for writes); what they write past the literals or match is
 * garbage that the sequences after it overwrite, or that lies past the block's output and is never handed out.
 * Every check hostile input needs is still made, before anything is copied; a fast path skips only the checks its
 * own condition already implies.
 */
function decodeBlock(src: Uint8Array, s: number, sEnd: number, dst: Uint8Array, d: number, dEnd: number, dMin: number) {
  const sv = new DataView(src.buffer, src.byteOffset, src.length)
  const dv = new DataView(dst.buffer, dst.byteOffset, dst.length)
  /** A 16-byte group may be read from src[s] while s <= sFast, written at dst[d] while d <= dFast. */
  const sFast = src.length - 16
  const dFast = dEnd - 16
  for (;;) {
    if (s >= sEnd) return fail(ERR_TRUNCATED, s)
    const token = src[s]!
    const at = s++
    let literals = token >>> 4
    if (literals === 0) {
      // No literals (more than half of the sequences on JSON log lines).
    } else if (literals < 15 && s <= sFast && d <= dFast) {
      // 1..14 literals: 8 or 16 bytes (d <= dFast means the output has room for them).
      if (literals > sEnd - s) return fail(ERR_TRUNCATED, at)
      dv.setInt32(d, sv.getInt32(s, true), true)
      dv.setInt32(d + 4, sv.getInt32(s + 4, true), true)
      if (literals > 8) {
        dv.setInt32(d + 8, sv.getInt32(s + 8, true), true)
        dv.setInt32(d + 12, sv.getInt32(s + 12, true), true)
      }
      s += literals
      d += literals
    } else {
      if (literals === 15) {
        let b: number
        do {
          if (s >= sEnd) return fail(ERR_TRUNCATED, at)
          b = src[s++]!
          literals += b
        } while (b === 255)
      }
      if (literals > sEnd - s) return fail(ERR_TRUNCATED, at)
      if (literals > dEnd - d) return fail(ERR_OVERFLOW, at)
      copyLiterals(src, sv, dst, dv, s, d, literals, sFast, dFast)
      s += literals
      d += literals
    }
    // The last sequence of a block is literals only.
    if (s === sEnd) return d
    if (s + 2 > sEnd) return fail(ERR_TRUNCATED, at)
    const offset = sv.getUint16(s, true)
    s += 2
    if (offset === 0 || offset > d - dMin) return fail(ERR_OFFSET, at)
    let length = token & 15
    if (length === 15) {
      let b: number
      do {
        if (s >= sEnd) return fail(ERR_TRUNCATED, at)
        b = src[s++]!
        length += b
      } while (b === 255)
    }
    length += 4
    if (length > dEnd - d) return fail(ERR_OVERFLOW, at)
    copyMatch(dst, dv, d - offset, d, d + length, dFast)
    d += length
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Frame decoding
// ---------------------------------------------------------------------------------------------------------------

interface FrameHeader {
  independent: boolean
  blockChecksum: boolean
  contentChecksum: boolean
  contentSize: number | undefined
  maxBlockBytes: number
  /** Where the first block starts. */
  end: number
}

class FrameDecompressor implements Lz4Decompressor {
  produced = 0
  /** Bytes decoded so far: emitted, or still pending. */
  private decoded = 0
  private pos = 0
  private header: FrameHeader | undefined
  private readonly maxOutput: number
  private readonly chunkBytes: number
  /** Decoded blocks land here (independent: from 0; linked: after up to 64 KiB of history). */
  private window: Buffer | undefined
  private historyBytes = 0
  private contentHash: XxHash32 | undefined
  /** A decoded block still being handed out in chunkBytes slices. */
  private pending: Buffer | null = null
  private pendingPos = 0
  private done = false
  /** The error decoding stopped with: thrown again by every later call rather than passing for the end. */
  private failure: Error | undefined

  constructor(
    private input: Buffer,
    limits: DecompressLimits,
    private readonly legacyHeaderChecksum: boolean,
  ) {
    const max = limits.maxOutputBytes
    if (!(max >= 0)) throw new RangeError(`maxOutputBytes must be a non-negative number, got ${max}`)
    const chunk = limits.chunkBytes ?? DEFAULT_CHUNK_BYTES
    if (!(chunk >= 1)) throw new RangeError(`chunkBytes must be at least 1, got ${chunk}`)
    this.maxOutput = max
    this.chunkBytes = chunk
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
      const header = this.header ?? this.readHeader()
      const block = this.nextBlock(header)
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
    this.window = undefined
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

  private readHeader(): FrameHeader {
    const input = this.input
    if (input.length < 7) this.corrupt('truncated frame header', 0)
    if (input.readUInt32LE(0) !== MAGIC)
      this.corrupt(`not an LZ4 frame (magic 0x${input.readUInt32LE(0).toString(16)})`, 0)
    const flg = input[4]!
    const bd = input[5]!
    if ((flg & FLG_VERSION_MASK) !== FLG_VERSION_01) this.corrupt(`unsupported frame version ${flg >>> 6}`, 4)
    if ((flg & FLG_RESERVED) !== 0 || (bd & 0x8f) !== 0) this.corrupt('reserved descriptor bits are set', 4)
    if ((flg & FLG_DICTIONARY_ID) !== 0) this.corrupt('frames that need a dictionary are not supported', 4)
    const sizeCode = (bd >>> 4) & 7
    if (sizeCode < 4) this.corrupt(`invalid block maximum size code ${sizeCode}`, 5)
    let p = 6
    let contentSize: number | undefined
    if ((flg & FLG_CONTENT_SIZE) !== 0) {
      if (input.length < p + 9) this.corrupt('truncated frame header', 0)
      const size = input.readBigUInt64LE(p)
      contentSize = size > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(size)
      p += 8
    }
    const hc = input[p]!
    const correct = (xxhash32(input, 0, 4, p) >>> 8) & 0xff
    // KAFKA-3160: magic 0 producers hashed the magic number too.
    const legacyOk = this.legacyHeaderChecksum && hc === ((xxhash32(input, 0, 0, p) >>> 8) & 0xff)
    if (hc !== correct && !legacyOk) {
      this.corrupt(
        `header checksum 0x${hc.toString(16)} does not match 0x${correct.toString(16)}` +
          (this.legacyHeaderChecksum ? ' (nor the KAFKA-3160 one)' : ''),
        p,
      )
    }
    if (contentSize !== undefined && contentSize > this.maxOutput) {
      this.limit(contentSize, `the frame declares a content size of ${contentSize} bytes`)
    }
    const header: FrameHeader = {
      independent: (flg & FLG_BLOCK_INDEPENDENCE) !== 0,
      blockChecksum: (flg & FLG_BLOCK_CHECKSUM) !== 0,
      contentChecksum: (flg & FLG_CONTENT_CHECKSUM) !== 0,
      contentSize,
      maxBlockBytes: 1 << (2 * sizeCode + 8),
      end: p + 1,
    }
    if (header.contentChecksum) this.contentHash = new XxHash32()
    this.header = header
    this.pos = header.end
    return header
  }

  /** The next block's output (possibly empty), or null at the end mark. */
  private nextBlock(h: FrameHeader): Buffer | null {
    const input = this.input
    const at = this.pos
    if (input.length - at < 4) this.corrupt('truncated block size (no end mark)', at)
    const word = input.readUInt32LE(at)
    if (word === 0) return this.endMark(h, at + 4)
    const stored = word >= BLOCK_UNCOMPRESSED
    const size = stored ? word - BLOCK_UNCOMPRESSED : word
    if (size > h.maxBlockBytes)
      this.corrupt(`block of ${size} bytes exceeds the frame's maximum of ${h.maxBlockBytes}`, at)
    const start = at + 4
    const end = start + size
    const next = end + (h.blockChecksum ? 4 : 0)
    if (next > input.length) this.corrupt(`block of ${size} bytes overruns the input`, at)
    if (h.blockChecksum && xxhash32(input, 0, start, end) !== input.readUInt32LE(end)) {
      this.corrupt('block checksum mismatch', end)
    }
    this.pos = next
    const room = this.maxOutput - this.decoded
    let out: Buffer
    if (stored) {
      if (size > room) this.limit(this.decoded + size, `a stored block of ${size} bytes`)
      // Stored blocks are handed out as views of the input, copied only to keep a linked frame's history.
      out = input.subarray(start, end)
      if (!h.independent) {
        const w = this.windowFor(h)
        w.set(out, this.historyBytes)
        this.slide(size)
      }
    } else {
      // The decoder gets no more room than the block maximum and what is left of the limit.
      const bound = Math.min(h.maxBlockBytes, room)
      // Independent blocks of up to 256 KiB (Kafka's are 64 KiB) decode straight into the chunk handed out, unless
      // they are small (compressed to less than an eighth of their room: a small batch, most likely), which decode
      // into a scratch buffer that all decompressors share — allocating the whole room for each costs more than
      // decoding a few KiB does. Those, and larger or linked ones (decoded into the window), are then copied out at
      // their actual size.
      const direct = h.independent && bound <= DIRECT_BLOCK_BYTES
      const small = direct && size < bound >>> 3
      const w = small ? scratchFor(bound) : direct ? Buffer.allocUnsafe(bound) : this.windowFor(h)
      const base = h.independent ? 0 : this.historyBytes
      const r = decodeBlock(input, start, end, w, base, base + bound, 0)
      if (r < 0) {
        if (r === ERR_OVERFLOW && bound < h.maxBlockBytes) {
          this.limit(this.maxOutput, `a block expands past the ${bound} bytes left`)
        }
        this.corrupt(describe(r, h.maxBlockBytes), failedAt)
      }
      const n = r - base
      if (direct && !small && n >= bound >>> 1) {
        out = w.subarray(0, n)
      } else {
        out = Buffer.allocUnsafe(n)
        w.copy(out, 0, base, r)
      }
      if (!h.independent) this.slide(n)
    }
    this.decoded += out.length
    this.contentHash?.update(out)
    return out
  }

  private endMark(h: FrameHeader, p: number): null {
    const input = this.input
    if (h.contentChecksum) {
      if (input.length - p < 4) this.corrupt('truncated content checksum', p)
      const expected = input.readUInt32LE(p)
      const actual = this.contentHash!.digest()
      if (expected !== actual) {
        this.corrupt(`content checksum mismatch (0x${actual.toString(16)}, frame says 0x${expected.toString(16)})`, p)
      }
      p += 4
    }
    if (h.contentSize !== undefined && h.contentSize !== this.decoded) {
      this.corrupt(`frame declares ${h.contentSize} bytes of content but holds ${this.decoded}`, p)
    }
    if (p !== input.length) this.corrupt(`${input.length - p} bytes after the end of the frame`, p)
    return null
  }

  private windowFor(h: FrameHeader): Buffer {
    if (this.window === undefined) {
      // Never larger than the limit allows a block to be.
      const blockRoom = Math.min(h.maxBlockBytes, this.maxOutput)
      this.window = Buffer.allocUnsafe((h.independent ? 0 : HISTORY_BYTES) + blockRoom)
    }
    return this.window
  }

  /** After a linked block of n bytes at historyBytes: keep its last 64 KiB of output at the front of the window. */
  private slide(n: number): void {
    const end = this.historyBytes + n
    if (end <= HISTORY_BYTES) {
      this.historyBytes = end
      return
    }
    this.window!.copyWithin(0, end - HISTORY_BYTES, end)
    this.historyBytes = HISTORY_BYTES
  }

  private limit(producedOrDeclared: number, detail: string): never {
    this.fail(new DecompressionLimitError(CODEC, this.input.length, producedOrDeclared, this.maxOutput, detail))
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

function describe(code: number, maxBlockBytes: number): string {
  switch (code) {
    case ERR_TRUNCATED:
      return 'block ends inside a sequence'
    case ERR_OFFSET:
      return 'match offset of 0 or beyond the data produced so far'
    default:
      return `block expands past the frame's maximum block size of ${maxBlockBytes} bytes`
  }
}

const EMPTY = Buffer.alloc(0)

/**
 * Where small independent blocks are decoded before they are copied out: decoding is synchronous and copies out
 * before it returns, so one buffer (at most DIRECT_BLOCK_BYTES) serves every decompressor.
 */
let scratch: Buffer | undefined

function scratchFor(bytes: number): Buffer {
  if (scratch === undefined || scratch.length < bytes) scratch = Buffer.allocUnsafeSlow(bytes)
  return scratch
}

/** A {@link Decompressor} whose chunks can also be pulled synchronously (decoding never waits on anything). */
export interface Lz4Decompressor extends Decompressor {
  nextSync(): Buffer | null
}

/** Decompressor for one LZ4 frame, as in Kafka v2 batches and magic 1 message sets. */
export function lz4Decompressor(input: Buffer, limits: DecompressLimits): Lz4Decompressor {
  return new FrameDecompressor(input, limits, false)
}

/**
 * Decompressor for lz4 message sets of magic 0, whose producers (Kafka before 0.10, and Kafka's own
 * Lz4BlockOutputStream under magic 0 still) compute the header checksum over the magic number too (KAFKA-3160).
 * Accepts that checksum as well as the correct one.
 */
export function lz4LegacyDecompressor(input: Buffer, limits: DecompressLimits): Lz4Decompressor {
  return new FrameDecompressor(input, limits, true)
}

/** The whole output at once, still bounded by `maxOutputBytes` (for synchronous callers such as magic 0/1 message sets). */
export function lz4DecompressSync(input: Buffer, limits: DecompressLimits, options: { legacy?: boolean } = {}): Buffer {
  const d = new FrameDecompressor(input, { ...limits, chunkBytes: Number.MAX_SAFE_INTEGER }, options.legacy ?? false)
  const chunks: Buffer[] = []
  for (let c = d.nextSync(); c !== null; c = d.nextSync()) chunks.push(c)
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
}

// ---------------------------------------------------------------------------------------------------------------
// Compression
// ---------------------------------------------------------------------------------------------------------------

const BLOCK_BYTES = 64 * 1024
const MIN_MATCH = 4
/** The last match must start at least 12 bytes before the end of the block... */
const MF_LIMIT = 12
/** ...and the last 5 bytes are always literals (decoders such as LZ4_decompress_safe rely on both). */
const LAST_LITERALS = 5
const HASH_BITS = 16
const hashTable = new Uint16Array(1 << HASH_BITS)

function writeLength(dst: Uint8Array, d: number, rest: number): number {
  for (; rest >= 255; rest -= 255) dst[d++] = 255
  dst[d++] = rest
  return d
}

/**
 * Writes the literals src[start, end) at dst[d]; returns the new end. Up to 64 bytes go 8 bytes per pair of
 * DataView loads and stores, while both buffers have room for the whole last group (what lands past the literals
 * is overwritten by what follows, or lies past the end of the output).
 */
function writeLiterals(
  dst: Uint8Array,
  dv: DataView,
  d: number,
  src: Uint8Array,
  sv: DataView,
  start: number,
  end: number,
): number {
  const n = end - start
  if (n <= 64 && end + 8 <= src.length && d + n + 8 <= dst.length) {
    for (let i = start, o = d; i < end; i += 8, o += 8) {
      dv.setInt32(o, sv.getInt32(i, true), true)
      dv.setInt32(o + 4, sv.getInt32(i + 4, true), true)
    }
    return d + n
  }
  if (n < 32) {
    for (let i = start; i < end; ) dst[d++] = src[i++]!
    return d
  }
  // A plain Uint8Array view: cheaper to make than Buffer#subarray's FastBuffer.
  dst.set(new Uint8Array(src.buffer, src.byteOffset + start, n), d)
  return d + n
}

/**
 * Compresses src[base, end) (at most 64 KiB) as one independent LZ4 block at dst[d]; returns the new end of
 * output. The greedy single-probe matcher of LZ4's fast mode, keeping the end-of-block rules (MF_LIMIT,
 * LAST_LITERALS) that the reference decoder and lz4-java's enforce: lz4js' compressBlock does not, and its 64 KiB
 * blocks can be refused by `lz4 -d` and by Kafka's consumer. `sv` and `dv` view `src` and `dst`: 4-byte loads are
 * one DataView read each, and matches are extended a word at a time.
 */
function compressBlock(
  src: Uint8Array,
  sv: DataView,
  base: number,
  end: number,
  dst: Uint8Array,
  dv: DataView,
  d: number,
): number {
  let anchor = base
  if (end - base >= MF_LIMIT + 1) {
    // A table of 1 Ki .. 64 Ki entries, the smallest that has one per input byte: clearing all 64 Ki for a small
    // batch would cost more than compressing it.
    const table = hashTable
    let shift = 32 - 10
    for (let size = 1 << 10; size < 1 << HASH_BITS && size < end - base; size *= 2) shift--
    table.fill(0, 0, 1 << (32 - shift))
    const mfLimit = end - MF_LIMIT
    const matchLimit = end - LAST_LITERALS
    let s = base + 1
    for (;;) {
      // Find a match, skipping ahead faster the longer none is found.
      let attempts = 1 << 6
      let ref = 0
      for (;;) {
        if (s > mfLimit) break
        const seq = sv.getInt32(s, true)
        const h = Math.imul(seq, 0x9e3779b1) >>> shift
        ref = base + table[h]!
        table[h] = s - base
        if (ref < s && sv.getInt32(ref, true) === seq) break
        s += attempts++ >>> 6
      }
      if (s > mfLimit) break
      // Extend backwards over literals, then forwards up to the last-literals boundary: a word at a time while one
      // fits before it (the first differing byte is the lowest set bit's), then byte by byte.
      while (s > anchor && ref > base && src[s - 1] === src[ref - 1]) {
        s--
        ref--
      }
      let length = MIN_MATCH
      for (;;) {
        if (s + length + 4 > matchLimit) {
          while (s + length < matchLimit && src[ref + length] === src[s + length]) length++
          break
        }
        const x = sv.getInt32(s + length, true) ^ sv.getInt32(ref + length, true)
        if (x !== 0) {
          length += (31 - Math.clz32(x & -x)) >>> 3
          break
        }
        length += 4
      }
      const literals = s - anchor
      const token = d++
      let t = literals >= 15 ? 15 << 4 : literals << 4
      if (literals >= 15) d = writeLength(dst, d, literals - 15)
      d = writeLiterals(dst, dv, d, src, sv, anchor, s)
      const offset = s - ref
      dst[d++] = offset
      dst[d++] = offset >>> 8
      const extra = length - MIN_MATCH
      if (extra >= 15) {
        t |= 15
        d = writeLength(dst, d, extra - 15)
      } else {
        t |= extra
      }
      dst[token] = t
      s += length
      anchor = s
      if (s > mfLimit) break
      // Index a position inside the match so that the next search starts warm.
      table[Math.imul(sv.getInt32(s - 2, true), 0x9e3779b1) >>> shift] = s - 2 - base
    }
  }
  const literals = end - anchor
  if (literals >= 15) {
    dst[d++] = 15 << 4
    d = writeLength(dst, d, literals - 15)
  } else {
    dst[d++] = literals << 4
  }
  return writeLiterals(dst, dv, d, src, sv, anchor, end)
}

export interface Lz4FrameOptions {
  /** Append the xxHash32 of the content after the end mark. Default true. */
  contentChecksum?: boolean
  /** Write the KAFKA-3160 header checksum (over the magic number too), as magic 0 message sets need. Default false. */
  legacyHeaderChecksum?: boolean
}

/** An LZ4 frame of independent 64 KiB blocks, as Kafka's Java producer writes it (plus, by default, a content checksum). */
export function lz4CompressFrame(data: Uint8Array, options: Lz4FrameOptions = {}): Buffer {
  const contentChecksum = options.contentChecksum ?? true
  const blocks = Math.ceil(data.length / BLOCK_BYTES)
  // Each block is compressed straight into place, and replaced by its stored form unless smaller: room for every
  // block stored, plus what LZ4's worst case (LZ4_COMPRESSBOUND: n + n/255 + 16) adds to the last one's attempt.
  const out = Buffer.allocUnsafe(7 + blocks * 4 + data.length + 8 + (BLOCK_BYTES >>> 8) + 16)
  out.writeUInt32LE(MAGIC, 0)
  out[4] = FLG_VERSION_01 | FLG_BLOCK_INDEPENDENCE | (contentChecksum ? FLG_CONTENT_CHECKSUM : 0)
  out[5] = 4 << 4
  out[6] = (xxhash32(out, 0, options.legacyHeaderChecksum ? 0 : 4, 6) >>> 8) & 0xff
  let d = 7
  const sv = new DataView(data.buffer, data.byteOffset, data.length)
  const dv = new DataView(out.buffer, out.byteOffset, out.length)
  for (let p = 0; p < data.length; p += BLOCK_BYTES) {
    const end = Math.min(data.length, p + BLOCK_BYTES)
    const n = compressBlock(data, sv, p, end, out, dv, d + 4) - (d + 4)
    if (n < end - p) {
      out.writeUInt32LE(n, d)
      d += 4 + n
    } else {
      out.writeUInt32LE((BLOCK_UNCOMPRESSED | (end - p)) >>> 0, d)
      out.set(data.subarray(p, end), d + 4)
      d += 4 + end - p
    }
  }
  out.writeUInt32LE(0, d)
  d += 4
  if (contentChecksum) {
    out.writeUInt32LE(xxhash32(data), d)
    d += 4
  }
  return Buffer.from(out.subarray(0, d))
}

/**
 * LZ4 as Kafka uses it: frames of independent 64 KiB blocks. `level` is ignored (there is one fast mode). Like
 * Kafka's Java producer (FLG byte 0x60), no content checksum: some Kafka versions mis-verify it on multi-block frames.
 */
export const lz4Codec: CompressionCodec = {
  name: CODEC,
  compress: (data: Buffer, _options?: CompressOptions) =>
    Promise.resolve(lz4CompressFrame(data, { contentChecksum: false })),
  decompressor: lz4Decompressor,
}
