import { view } from './buffer-view.js'
import { CorruptRecordError, type RecordContext, RecordTooLargeError } from './errors.js'

/** A header of a record (KIP-82). */
export interface RecordHeader {
  key: string
  value: Buffer | null
}

/**
 * One record, materialised. `key`, `value` and header values are views into the fetched (or decompressed) bytes,
 * not copies. Offsets and timestamps are numbers: exact up to 2^53, far beyond any real log (a larger base offset
 * is refused as corrupt rather than rounded).
 */
export interface KafkaRecord {
  /** The record's topic and partition, when the decoder was told them (a consumer always does). */
  topic?: string
  partition?: number
  offset: number
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeader[]
}

/** What a decoder needs from the batch header. */
export interface RecordDecoderBatch {
  baseOffset: number
  baseTimestamp: number
  maxTimestamp: number
  /** LOG_APPEND_TIME: every record's timestamp is the batch's maxTimestamp (the broker's append time). */
  logAppendTime: boolean
  recordCount: number
  lastOffsetDelta: number
}

export interface RecordDecoderOptions {
  /** A record whose encoded size exceeds this is refused before it is assembled. Default 64 MiB. */
  maxRecordBytes?: number
  context?: RecordContext
}

const NO_HEADERS: RecordHeader[] = Object.freeze([]) as unknown as RecordHeader[]
const DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024

/** Where the last varint read ended; module-level so the hot loop allocates nothing for it. */
let vpos = 0

/**
 * Decodes the records of one v2 batch from its (decompressed) record bytes, pushed in chunks of any size: a record
 * may straddle chunks, in which case only that record's bytes are copied together (bounded by `maxRecordBytes`).
 * The record count in the header is enforced both ways, so a lying count is a CorruptRecordError, never a loop.
 *
 * Record layout (KIP-98): length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
 * key (varint length, -1 = null), value (likewise), header count varint, headers (key string, value bytes).
 */
export class RecordDecoder {
  /** Records decoded so far. */
  decoded = 0
  /** Bytes copied so far to assemble records that straddled chunks (they are held like decoded chunks). */
  copied = 0
  private readonly maxRecordBytes: number
  private readonly context: RecordContext
  private carry: Buffer[] = []
  private carried = 0
  private readonly keyCache: Array<{ bytes: Uint8Array; key: string }> = []
  /** Offset after the last record decoded (the base offset before any), for errors. */
  private nextOffset: number
  private keyCacheNext = 0

  constructor(
    private readonly batch: RecordDecoderBatch,
    options: RecordDecoderOptions = {},
  ) {
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES
    this.context = options.context ?? {}
    this.nextOffset = batch.baseOffset
  }

  /** Decodes every complete record in `chunk` (after any carried partial record) into `out`. */
  push(chunk: Buffer, out: KafkaRecord[]): void {
    let pos = 0
    if (this.carried > 0) {
      pos = this.completeCarried(chunk, out)
      if (pos < 0) return
    }
    const end = chunk.length
    const memory = chunk.buffer
    const base = chunk.byteOffset
    while (pos < end) {
      const start = pos
      const len = this.readLength(chunk, pos, end)
      if (len === -2) break // the length varint itself is cut by the chunk end
      const recEnd = vpos + len
      if (recEnd > end) break
      this.decodeRecord(chunk, vpos, recEnd, out, memory, base)
      pos = recEnd
      if (pos === start) break
    }
    if (pos < end) {
      this.carry.push(chunk.subarray(pos))
      this.carried += end - pos
    }
  }

  /** Call after the last chunk: refuses a cut-off record and a count that disagrees with the header. */
  finish(): void {
    if (this.carried > 0) {
      this.corrupt(`record bytes end inside a record (${this.carried} bytes left over)`)
    }
    if (this.decoded !== this.batch.recordCount) {
      this.corrupt(`header says ${this.batch.recordCount} records, the batch holds ${this.decoded}`)
    }
  }

  /**
   * Reads a record length varint at `pos`. Returns the length (vpos = first byte after it), or -2 when the varint is
   * cut by `end`. Throws on an invalid or oversized length.
   */
  private readLength(buf: Buffer, pos: number, end: number): number {
    let b = buf[pos]!
    let raw: number
    if (b < 0x80) {
      raw = b
      vpos = pos + 1
    } else {
      raw = b & 0x7f
      let shift = 7
      let p = pos + 1
      for (;;) {
        if (p >= end) return -2
        b = buf[p++]!
        raw += (b & 0x7f) * 2 ** shift
        if (b < 0x80) break
        shift += 7
        if (shift > 28) this.corrupt('record length varint longer than 5 bytes', pos)
      }
      vpos = p
    }
    const len = raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2
    if (len <= 0) this.corrupt(`invalid record length ${len}`, pos)
    if (len > this.maxRecordBytes) this.tooLarge(buf, vpos, end, len)
    return len
  }

  /** Completes a record begun in earlier chunks. Returns the position in `chunk` after it, or -1 if still short. */
  private completeCarried(chunk: Buffer, out: KafkaRecord[]): number {
    // Enough of the length varint to read it: at most 5 bytes from carry + chunk.
    const headBytes = Math.min(5, this.carried + chunk.length)
    const head = Buffer.concat([...this.carry, chunk.subarray(0, Math.max(0, headBytes - this.carried))], headBytes)
    const len = this.readLength(head, 0, head.length)
    if (len === -2) {
      this.carry.push(chunk)
      this.carried += chunk.length
      return -1
    }
    const total = vpos + len
    if (total > this.carried + chunk.length) {
      this.carry.push(chunk)
      this.carried += chunk.length
      return -1
    }
    const fromChunk = total - this.carried
    const record = Buffer.concat([...this.carry, chunk.subarray(0, fromChunk)], total)
    this.copied += total
    this.carry = []
    this.carried = 0
    this.decodeRecord(record, vpos, total, out, record.buffer, record.byteOffset)
    return fromChunk
  }

  /** Decodes one record body in buf[pos, end). */
  private decodeRecord(
    buf: Buffer,
    pos: number,
    end: number,
    out: KafkaRecord[],
    memory: ArrayBufferLike,
    base: number,
  ): void {
    const batch = this.batch
    if (this.decoded >= batch.recordCount) {
      this.corrupt(`more records than the ${batch.recordCount} the header declares`, pos)
    }
    pos++ // attributes: unused by Kafka, always 0
    const tsDelta = this.varlong(buf, pos, end, 'timestampDelta')
    pos = vpos
    const offsetDelta = this.varint(buf, pos, end, 'offsetDelta')
    pos = vpos
    if (offsetDelta < 0 || offsetDelta > batch.lastOffsetDelta) {
      this.corrupt(`offsetDelta ${offsetDelta} outside the batch's 0..${batch.lastOffsetDelta}`, pos)
    }

    let key: Buffer | null = null
    const keyLen = this.varint(buf, pos, end, 'keyLength')
    pos = vpos
    if (keyLen >= 0) {
      if (pos + keyLen > end) this.corrupt(`key of ${keyLen} bytes overruns its record`, pos)
      key = view(memory, base + pos, keyLen)
      pos += keyLen
    } else if (keyLen !== -1) this.corrupt(`invalid key length ${keyLen}`, pos)

    let value: Buffer | null = null
    const valueLen = this.varint(buf, pos, end, 'valueLength')
    pos = vpos
    if (valueLen >= 0) {
      if (pos + valueLen > end) this.corrupt(`value of ${valueLen} bytes overruns its record`, pos)
      value = view(memory, base + pos, valueLen)
      pos += valueLen
    } else if (valueLen !== -1) this.corrupt(`invalid value length ${valueLen}`, pos)

    const headerCount = this.varint(buf, pos, end, 'headerCount')
    pos = vpos
    let headers = NO_HEADERS
    if (headerCount !== 0) {
      // Each header takes at least 2 bytes (two length varints), so the count is checked before allocating.
      if (headerCount < 0 || headerCount * 2 > end - pos) this.corrupt(`invalid header count ${headerCount}`, pos)
      headers = new Array<RecordHeader>(headerCount)
      for (let i = 0; i < headerCount; i++) {
        const hkLen = this.varint(buf, pos, end, 'headerKeyLength')
        pos = vpos
        if (hkLen < 0 || pos + hkLen > end) this.corrupt(`invalid header key length ${hkLen}`, pos)
        const hkey = this.headerKey(buf, pos, hkLen)
        pos += hkLen
        const hvLen = this.varint(buf, pos, end, 'headerValueLength')
        pos = vpos
        let hval: Buffer | null = null
        if (hvLen >= 0) {
          if (pos + hvLen > end) this.corrupt(`header value of ${hvLen} bytes overruns its record`, pos)
          hval = view(memory, base + pos, hvLen)
          pos += hvLen
        } else if (hvLen !== -1) this.corrupt(`invalid header value length ${hvLen}`, pos)
        headers[i] = { key: hkey, value: hval }
      }
    }
    if (pos !== end) this.corrupt(`record length disagrees with its fields (${end - pos} bytes unread)`, pos)

    this.decoded++
    this.nextOffset = batch.baseOffset + offsetDelta + 1
    out.push({
      topic: this.context.topic,
      partition: this.context.partition,
      offset: batch.baseOffset + offsetDelta,
      timestamp: batch.logAppendTime ? batch.maxTimestamp : batch.baseTimestamp + tsDelta,
      key,
      value,
      headers,
    })
  }

  /**
   * A header key as a string. Records of a batch tend to repeat the same few header keys, so the last few distinct
   * keys are kept with their bytes and reused when the bytes match: a byte comparison is cheaper than decoding
   * UTF-8 into a new string for every header of every record.
   */
  private headerKey(buf: Buffer, pos: number, len: number): string {
    const cache = this.keyCache
    for (let c = 0; c < cache.length; c++) {
      const entry = cache[c]!
      const bytes = entry.bytes
      if (bytes.length !== len) continue
      let i = 0
      while (i < len && bytes[i] === buf[pos + i]) i++
      if (i === len) return entry.key
    }
    const key = buf.toString('utf8', pos, pos + len)
    if (len <= 64) {
      const entry = { bytes: Uint8Array.prototype.slice.call(buf, pos, pos + len), key }
      if (cache.length < 8) cache.push(entry)
      else cache[this.keyCacheNext++ & 7] = entry
    }
    return key
  }

  /** Zig-zag varint (int32) within buf[pos, end); vpos = position after it. */
  private varint(buf: Buffer, pos: number, end: number, field: string): number {
    if (pos >= end) this.corrupt(`truncated ${field}`, pos)
    let b = buf[pos]!
    if (b < 0x80) {
      vpos = pos + 1
      return b & 1 ? -((b + 1) / 2) : b / 2
    }
    let raw = b & 0x7f
    let mul = 128
    let p = pos + 1
    for (let i = 1; ; i++) {
      if (p >= end) this.corrupt(`truncated ${field}`, pos)
      b = buf[p++]!
      raw += (b & 0x7f) * mul
      if (b < 0x80) break
      mul *= 128
      if (i >= 4) this.corrupt(`${field} varint longer than 5 bytes`, pos)
    }
    if (raw > 0xffffffff) this.corrupt(`${field} does not fit in 32 bits`, pos)
    vpos = p
    return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2
  }

  /** Zig-zag varlong decoded exactly within ±2^53 (timestamp deltas); vpos = position after it. */
  private varlong(buf: Buffer, pos: number, end: number, field: string): number {
    if (pos >= end) this.corrupt(`truncated ${field}`, pos)
    let b = buf[pos]!
    if (b < 0x80) {
      vpos = pos + 1
      return b & 1 ? -((b + 1) / 2) : b / 2
    }
    let lo = 0
    let hi = 0
    let p = pos
    for (let i = 0; i < 10; i++) {
      if (p >= end) this.corrupt(`truncated ${field}`, pos)
      b = buf[p++]!
      if (i < 4) lo |= (b & 0x7f) << (7 * i)
      else hi += (b & 0x7f) * 2 ** (7 * (i - 4))
      if (b < 0x80) {
        if (hi >= 2 ** 26) break
        vpos = p
        const half = hi * 2 ** 27 + (lo >>> 1)
        return (lo & 1) === 0 ? half : -half - 1
      }
    }
    return this.corrupt(`${field} is not a varlong within ±2^53`, pos)
  }

  /**
   * Refuses a record over maxRecordBytes before it is assembled, naming its offset: read from the record's first
   * bytes when they are at hand (attributes, timestampDelta, offsetDelta), else the offset after the last record.
   */
  private tooLarge(buf: Buffer, bodyStart: number, end: number, len: number): never {
    let offset = this.nextOffset
    try {
      const saved = vpos
      this.varlong(buf, bodyStart + 1, end, 'timestampDelta')
      offset = this.batch.baseOffset + this.varint(buf, vpos, end, 'offsetDelta')
      vpos = saved
    } catch {}
    throw new RecordTooLargeError({ ...this.context, offset, recordBytes: len, limitBytes: this.maxRecordBytes })
  }

  private corrupt(problem: string, offset?: number): never {
    throw new CorruptRecordError(problem, {
      ...this.context,
      baseOffset: this.batch.baseOffset,
      lastOffset: this.batch.baseOffset + this.batch.lastOffsetDelta,
      offset,
    })
  }
}
