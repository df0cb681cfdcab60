import { ProtocolError } from './errors.js'
import { uuidFromBytes } from './uuid.js'

/**
 * A bounds-checked cursor over a Kafka protocol buffer.
 *
 * Every read checks the bytes remaining first and throws {@link ProtocolError} naming the message, the field and
 * the byte offset, so hostile input can never surface as a RangeError from Buffer, and no length or count taken
 * from the wire is trusted before it has been compared with what is actually left.
 *
 * `flexible` selects the compact encodings (KIP-482) for strings, bytes and arrays; `version` is the message
 * version being read, which schema-driven structs consult.
 */
export class Reader {
  /** Current position, absolute in `buf`. */
  pos: number
  /** One past the last readable byte, absolute in `buf`. Narrowed temporarily while reading a tagged field. */
  end: number
  flexible = false
  version = 0
  /** Names the message for error reports, e.g. `Fetch v17 response`. */
  label = ''

  constructor(
    readonly buf: Buffer,
    start = 0,
    end = buf.length,
  ) {
    if (start < 0 || end > buf.length || start > end) throw new RangeError('reader bounds outside the buffer')
    this.pos = start
    this.end = end
  }

  get remaining(): number {
    return this.end - this.pos
  }

  /** Throws a ProtocolError located at the current position. */
  fail(problem: string, field?: string, offset = this.pos): never {
    throw new ProtocolError(problem, { message: this.label || undefined, field, offset })
  }

  /** Ensures `n` more bytes exist, and returns the position they start at. */
  need(n: number, field?: string): number {
    const p = this.pos
    if (n > this.end - p) {
      this.fail(`truncated: needs ${n} byte${n === 1 ? '' : 's'}, ${this.end - p} left`, field)
    }
    this.pos = p + n
    return p
  }

  int8(field?: string): number {
    return this.buf.readInt8(this.need(1, field))
  }

  uint8(field?: string): number {
    return this.buf[this.need(1, field)]!
  }

  int16(field?: string): number {
    return this.buf.readInt16BE(this.need(2, field))
  }

  uint16(field?: string): number {
    return this.buf.readUInt16BE(this.need(2, field))
  }

  int32(field?: string): number {
    return this.buf.readInt32BE(this.need(4, field))
  }

  uint32(field?: string): number {
    return this.buf.readUInt32BE(this.need(4, field))
  }

  int64(field?: string): bigint {
    return this.buf.readBigInt64BE(this.need(8, field))
  }

  float64(field?: string): number {
    return this.buf.readDoubleBE(this.need(8, field))
  }

  bool(field?: string): boolean {
    return this.buf[this.need(1, field)] !== 0
  }

  /** Kafka UUIDs (topic ids) as the 22-character URL-safe base64 text Kafka itself prints. */
  uuid(field?: string): string {
    const p = this.need(16, field)
    return uuidFromBytes(this.buf, p)
  }

  /** Unsigned LEB128 varint of at most 32 bits (5 bytes). */
  uvarint(field?: string): number {
    const buf = this.buf
    let p = this.pos
    const end = this.end
    let result = 0
    let shift = 0
    for (let i = 0; i < 5; i++) {
      if (p >= end) this.fail('truncated varint', field)
      const b = buf[p++]!
      if (i === 4 && b > 0x0f) this.fail('varint does not fit in 32 bits', field)
      result += (b & 0x7f) * 2 ** shift
      if ((b & 0x80) === 0) {
        this.pos = p
        return result
      }
      shift += 7
    }
    return this.fail('varint longer than 5 bytes', field)
  }

  /** Zig-zag encoded signed 32-bit varint (record fields: lengths, offset deltas, header counts). */
  varint(field?: string): number {
    const u = this.uvarint(field)
    // u < 2^32: (u >>> 1) ^ -(u & 1) via arithmetic keeps it exact for the full unsigned range
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2
  }

  /** Zig-zag encoded signed 64-bit varint as a bigint. */
  varlong(field?: string): bigint {
    const buf = this.buf
    let p = this.pos
    const end = this.end
    let result = 0n
    let shift = 0n
    for (let i = 0; i < 10; i++) {
      if (p >= end) this.fail('truncated varlong', field)
      const b = buf[p++]!
      if (i === 9 && b > 0x01) this.fail('varlong does not fit in 64 bits', field)
      result |= BigInt(b & 0x7f) << shift
      if ((b & 0x80) === 0) {
        this.pos = p
        return (result >> 1n) ^ -(result & 1n)
      }
      shift += 7n
    }
    return this.fail('varlong longer than 10 bytes', field)
  }

  /**
   * Zig-zag varlong returned as a number, for values that are small in practice (record timestamp deltas).
   * Values beyond ±2^53 are a ProtocolError rather than a silent loss of precision.
   */
  varlongNumber(field?: string): number {
    const buf = this.buf
    let p = this.pos
    const end = this.end
    // The low 28 bits and the rest kept apart, so zig-zag decoding stays exact up to ±2^53 (a double cannot
    // hold the odd raw values between 2^53 and 2^54 that negative numbers encode to).
    let lo = 0
    let hi = 0
    for (let i = 0; i < 10; i++) {
      if (p >= end) this.fail('truncated varlong', field)
      const b = buf[p++]!
      if (i < 4) lo |= (b & 0x7f) << (7 * i)
      else hi += (b & 0x7f) * 2 ** (7 * (i - 4))
      if ((b & 0x80) === 0) {
        if (hi >= 2 ** 26) break
        this.pos = p
        const half = hi * 2 ** 27 + (lo >>> 1)
        return (lo & 1) === 0 ? half : -half - 1
      }
    }
    return this.fail('varlong exceeds the safe integer range', field)
  }

  /** The length prefix of a string: int16 (classic) or unsigned varint N+1 (compact). -1 means null. */
  private stringLength(field?: string): number {
    if (this.flexible) return this.uvarint(field) - 1
    return this.int16(field)
  }

  /** A non-nullable string; a null on the wire is a ProtocolError. */
  string(field?: string): string {
    const len = this.stringLength(field)
    if (len < 0) this.fail('null where the schema allows no null string', field)
    return this.stringBody(len, field)
  }

  nullableString(field?: string): string | null {
    const len = this.stringLength(field)
    if (len < -1) this.fail(`invalid string length ${len}`, field)
    if (len === -1) return null
    return this.stringBody(len, field)
  }

  private stringBody(len: number, field?: string): string {
    const p = this.need(len, field)
    return this.buf.toString('utf8', p, p + len)
  }

  private bytesLength(field?: string): number {
    if (this.flexible) return this.uvarint(field) - 1
    return this.int32(field)
  }

  /** Non-nullable bytes, returned as a view into the underlying buffer (no copy). */
  bytes(field?: string): Buffer {
    const len = this.bytesLength(field)
    if (len < 0) this.fail('null where the schema allows no null bytes', field)
    const p = this.need(len, field)
    return this.buf.subarray(p, p + len)
  }

  /** Nullable bytes, returned as a view into the underlying buffer (no copy). */
  nullableBytes(field?: string): Buffer | null {
    const len = this.bytesLength(field)
    if (len < -1) this.fail(`invalid bytes length ${len}`, field)
    if (len === -1) return null
    const p = this.need(len, field)
    return this.buf.subarray(p, p + len)
  }

  /**
   * An array count, checked against the bytes left: every element of every Kafka array takes at least one byte,
   * so a count above the remaining bytes is corrupt and is refused before any element is read or allocated.
   * Returns -1 for a null array.
   */
  arrayLength(field?: string): number {
    const n = this.flexible ? this.uvarint(field) - 1 : this.int32(field)
    if (n < -1) this.fail(`invalid array length ${n}`, field)
    if (n > this.end - this.pos) this.fail(`array of ${n} elements cannot fit in ${this.end - this.pos} bytes`, field)
    return n
  }

  array<T>(read: (rd: Reader) => T, field?: string): T[] {
    const n = this.arrayLength(field)
    if (n < 0) this.fail('null where the schema allows no null array', field)
    const out = new Array<T>(n)
    for (let i = 0; i < n; i++) out[i] = read(this)
    return out
  }

  nullableArray<T>(read: (rd: Reader) => T, field?: string): T[] | null {
    const n = this.arrayLength(field)
    if (n === -1) return null
    const out = new Array<T>(n)
    for (let i = 0; i < n; i++) out[i] = read(this)
    return out
  }

  /**
   * The tagged-field section that ends every struct in a flexible version (KIP-482). Known tags are handed to
   * `onTag` with the reader narrowed to exactly that field's bytes; unknown tags are skipped, never fatal, so
   * a newer broker can add fields without breaking us. Returns nothing: what onTag stores is the result.
   */
  taggedFields(onTag?: (tag: number, rd: Reader) => void, field?: string): void {
    const count = this.uvarint(field ? `${field}.TaggedFields` : 'TaggedFields')
    if (count > this.end - this.pos) this.fail(`${count} tagged fields cannot fit in ${this.remaining} bytes`, field)
    for (let i = 0; i < count; i++) {
      const tag = this.uvarint('TaggedFields.Tag')
      const size = this.uvarint('TaggedFields.Size')
      const start = this.need(size, `TaggedFields[${tag}]`)
      if (!onTag) continue
      const outerEnd = this.end
      this.pos = start
      this.end = start + size
      try {
        onTag(tag, this)
      } finally {
        this.end = outerEnd
      }
      // A tag's bytes may hold more than this version of the schema knows about; skip the rest.
      this.pos = start + size
    }
  }
}
