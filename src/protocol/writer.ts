import { uuidToBytes } from './uuid.js'

const INITIAL_CAPACITY = 256
/** Byte fields at least this long are not copied in chunked mode (see `chunks`). */
const EXTERNAL_BYTES_MIN = 16 * 1024

/**
 * A growable big-endian buffer for Kafka protocol messages.
 *
 * `flexible` selects the compact encodings (KIP-482) for strings, bytes and arrays, so codecs state the field and
 * the writer picks the encoding in one place. `version` is the message version being written.
 */
export class Writer {
  buf: Buffer
  pos = 0
  flexible = false
  version = 0
  /**
   * Chunked mode (null: off). Large byte fields — a Produce request's record batches — are then not copied into
   * `buf`: the bytes before them are cut off as one chunk and the field's own buffer becomes the next, so the frame
   * goes to the socket as a list of buffers (one writev) and a 1 MiB batch is never copied or grown into a request
   * buffer. The caller must not change those buffers until they are written.
   */
  private chunkList: Uint8Array[] | null = null
  private chunkStart = 0

  constructor(capacity = INITIAL_CAPACITY) {
    this.buf = Buffer.allocUnsafe(capacity)
  }

  /** Makes room for `n` more bytes and returns the position they start at. */
  reserve(n: number): number {
    const p = this.pos
    const need = p + n
    if (need > this.buf.length) {
      let cap = this.buf.length * 2
      while (cap < need) cap *= 2
      const next = Buffer.allocUnsafe(cap)
      this.buf.copy(next, 0, 0, p)
      this.buf = next
    }
    this.pos = need
    return p
  }

  /** The bytes written so far (a view; valid until the next write). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos)
  }

  int8(v: number): this {
    const p = this.reserve(1)
    this.buf.writeInt8(v, p)
    return this
  }

  uint8(v: number): this {
    const p = this.reserve(1)
    this.buf[p] = v
    return this
  }

  int16(v: number): this {
    const p = this.reserve(2)
    this.buf.writeInt16BE(v, p)
    return this
  }

  uint16(v: number): this {
    const p = this.reserve(2)
    this.buf.writeUInt16BE(v, p)
    return this
  }

  int32(v: number): this {
    const p = this.reserve(4)
    this.buf.writeInt32BE(v, p)
    return this
  }

  uint32(v: number): this {
    const p = this.reserve(4)
    this.buf.writeUInt32BE(v, p)
    return this
  }

  int64(v: bigint): this {
    const p = this.reserve(8)
    this.buf.writeBigInt64BE(v, p)
    return this
  }

  float64(v: number): this {
    const p = this.reserve(8)
    this.buf.writeDoubleBE(v, p)
    return this
  }

  bool(v: boolean): this {
    const p = this.reserve(1)
    this.buf[p] = v ? 1 : 0
    return this
  }

  uuid(v: string): this {
    const p = this.reserve(16)
    uuidToBytes(v, this.buf, p)
    return this
  }

  /** Unsigned LEB128 varint, 0 ≤ v < 2^32. */
  uvarint(v: number): this {
    if (!(v >= 0 && v <= 0xffffffff) || !Number.isInteger(v)) throw new RangeError(`uvarint out of range: ${v}`)
    let p = this.reserve(uvarintSize(v))
    const buf = this.buf
    while (v >= 0x80) {
      buf[p++] = (v & 0x7f) | 0x80
      v = Math.floor(v / 128)
    }
    buf[p] = v
    return this
  }

  /** Zig-zag signed 32-bit varint. */
  varint(v: number): this {
    if (!(v >= -0x80000000 && v <= 0x7fffffff) || !Number.isInteger(v))
      throw new RangeError(`varint out of range: ${v}`)
    return this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1)
  }

  /** Zig-zag signed 64-bit varint. */
  varlong(v: bigint | number): this {
    let u = typeof v === 'bigint' ? v : BigInt(v)
    if (u < -(1n << 63n) || u >= 1n << 63n) throw new RangeError(`varlong out of range: ${v}`)
    u = u >= 0n ? u << 1n : (-u << 1n) - 1n
    while (u >= 0x80n) {
      const p = this.reserve(1)
      this.buf[p] = Number(u & 0x7fn) | 0x80
      u >>= 7n
    }
    const p = this.reserve(1)
    this.buf[p] = Number(u)
    return this
  }

  private length(len: number, wide: boolean): void {
    if (this.flexible) this.uvarint(len + 1)
    else if (wide) this.int32(len)
    else this.int16(len)
  }

  string(v: string): this {
    const len = Buffer.byteLength(v, 'utf8')
    if (!this.flexible && len > 0x7fff) throw new RangeError(`string of ${len} bytes exceeds the int16 length prefix`)
    this.length(len, false)
    const p = this.reserve(len)
    this.buf.write(v, p, len, 'utf8')
    return this
  }

  nullableString(v: string | null | undefined): this {
    if (v == null) {
      this.length(-1, false)
      return this
    }
    return this.string(v)
  }

  bytes(v: Uint8Array): this {
    this.length(v.length, true)
    if (this.chunkList !== null && v.length >= EXTERNAL_BYTES_MIN) {
      // Earlier chunks stay valid when `reserve` moves to a bigger buffer: the old one is never written again.
      this.chunkList.push(this.buf.subarray(this.chunkStart, this.pos), v)
      this.chunkStart = this.pos
      this.external += v.length
      return this
    }
    this.raw(v)
    return this
  }

  /** Bytes in external chunks (chunked mode), not counted in `pos`. */
  external = 0

  /** Starts chunked mode at the current position (see `chunkList`). */
  startChunks(): void {
    this.chunkList = []
    this.chunkStart = this.pos
    this.external = 0
  }

  /** Ends chunked mode: the bytes written since `startChunks`, in order, external byte fields as they were given. */
  takeChunks(): Uint8Array[] {
    const list = this.chunkList ?? []
    if (this.pos > this.chunkStart || list.length === 0) list.push(this.buf.subarray(this.chunkStart, this.pos))
    this.chunkList = null
    return list
  }

  nullableBytes(v: Uint8Array | null | undefined): this {
    if (v == null) {
      this.length(-1, true)
      return this
    }
    return this.bytes(v)
  }

  /** Bytes with no length prefix. */
  raw(v: Uint8Array): this {
    const p = this.reserve(v.length)
    this.buf.set(v, p)
    return this
  }

  array<T>(items: readonly T[], write: (w: Writer, item: T) => void): this {
    this.length(items.length, true)
    for (let i = 0; i < items.length; i++) write(this, items[i]!)
    return this
  }

  nullableArray<T>(items: readonly T[] | null | undefined, write: (w: Writer, item: T) => void): this {
    if (items == null) {
      this.length(-1, true)
      return this
    }
    return this.array(items, write)
  }

  /**
   * The tagged-field section of a struct in a flexible version: `fields` in ascending tag order, each written by
   * its callback. The size prefix of each field is only known once written, so fields go through a scratch writer.
   */
  taggedFields(fields?: ReadonlyArray<readonly [tag: number, write: (w: Writer) => void]>): this {
    if (!fields || fields.length === 0) {
      const p = this.reserve(1)
      this.buf[p] = 0
      return this
    }
    this.uvarint(fields.length)
    for (const [tag, write] of fields) {
      const scratch = new Writer(64)
      scratch.flexible = true
      scratch.version = this.version
      write(scratch)
      this.uvarint(tag)
      this.uvarint(scratch.pos)
      this.raw(scratch.view())
    }
    return this
  }
}

/** Bytes an unsigned varint of `v` takes. */
export function uvarintSize(v: number): number {
  if (v < 0x80) return 1
  if (v < 0x4000) return 2
  if (v < 0x200000) return 3
  if (v < 0x10000000) return 4
  return 5
}

/** Bytes a zig-zag varint of `v` takes. */
export function varintSize(v: number): number {
  return uvarintSize(v >= 0 ? v * 2 : -v * 2 - 1)
}

/** Bytes a zig-zag varlong of `v` (within ±2^53) takes. */
export function varlongSize(v: number): number {
  let u = v >= 0 ? v * 2 : -v * 2 - 1
  let n = 1
  while (u >= 128) {
    u = Math.floor(u / 128)
    n++
  }
  return n
}
