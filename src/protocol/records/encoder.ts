import { varintSize, varlongSize } from '../writer.js'
import { crc32c } from './crc32c.js'
import { Attributes, BATCH_HEADER_BYTES } from './record-batch.js'

/** A record to write. Keys, values and header values are bytes; encode strings before. */
export interface RecordInput {
  key?: Uint8Array | null
  value: Uint8Array | null
  headers?: ReadonlyArray<{ key: string; value: Uint8Array | null }>
  /** Milliseconds since the epoch; defaults to the batch's `timestamp`. */
  timestamp?: number
}

/** Compresses the records section of a batch; supplied by the compression layer. */
export type CompressRecords = (codec: number, records: Buffer) => Buffer

export interface RecordBatchInput {
  records: readonly RecordInput[]
  /** Assigned by the broker on produce; 0 is what producers send. */
  baseOffset?: number
  partitionLeaderEpoch?: number
  /** 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd. A non-zero codec needs `compress`. */
  compression?: number
  compress?: CompressRecords
  /** Default timestamp of records without one; defaults to `Date.now()`. */
  timestamp?: number
  logAppendTime?: boolean
  transactional?: boolean
  control?: boolean
  /** Idempotent / transactional producers (KIP-98); -1 otherwise. */
  producerId?: bigint
  producerEpoch?: number
  baseSequence?: number
}

const EMPTY_HEADERS: NonNullable<RecordInput['headers']> = []

function writeUvarint(buf: Buffer, pos: number, v: number): number {
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80
    v >>>= 7
  }
  buf[pos++] = v
  return pos
}
function writeVarint(buf: Buffer, pos: number, v: number): number {
  return writeUvarint(buf, pos, v >= 0 ? v * 2 : -v * 2 - 1)
}
function writeVarlong(buf: Buffer, pos: number, v: number): number {
  let u = v >= 0 ? v * 2 : -v * 2 - 1
  while (u >= 0x80) {
    buf[pos++] = (u % 128) | 0x80
    u = Math.floor(u / 128)
  }
  buf[pos++] = u
  return pos
}

/**
 * Encodes a record batch v2. Sizes are computed first so the batch is written into one exactly-sized buffer;
 * keys and values are copied once, into it. The first record's timestamp is the base timestamp (as the Java client
 * does), so deltas may be negative. With compression, `compress` must be synchronous here; see
 * `encodeRecordBatchAsync` for the codec registry.
 */
export function encodeRecordBatch(input: RecordBatchInput): Buffer {
  const codec = input.compression ?? 0
  if (codec !== 0 && !input.compress) throw new TypeError(`compression codec ${codec} needs a compress function`)
  return encodeRecordBatchWith(input, codec, input.compress && ((records) => input.compress!(codec, records))) as Buffer
}

/**
 * Encodes a batch whose records section goes through `compress` (sync or async) when `codec` is not 0.
 * Returns a Promise exactly when `compress` does.
 */
export function encodeRecordBatchWith(
  input: Omit<RecordBatchInput, 'compression' | 'compress'>,
  codec: number,
  compress: ((records: Buffer) => Buffer | Promise<Buffer>) | undefined,
): Buffer | Promise<Buffer> {
  const records = input.records
  const n = records.length
  if (n === 0) throw new RangeError('a record batch needs at least one record')
  const now = input.timestamp ?? Date.now()
  const baseTimestamp = records[0]!.timestamp ?? now
  let maxTimestamp = baseTimestamp

  // Pass 1: sizes of every record body and of the records section.
  const bodySizes = new Array<number>(n)
  const headerKeyBytes: number[] = []
  let recordsBytes = 0
  for (let i = 0; i < n; i++) {
    const r = records[i]!
    const ts = r.timestamp ?? now
    if (ts > maxTimestamp) maxTimestamp = ts
    const key = r.key
    const value = r.value
    const headers = r.headers ?? EMPTY_HEADERS
    let size = 1 + varlongSize(ts - baseTimestamp) + varintSize(i)
    size += key == null ? 1 : varintSize(key.length) + key.length
    size += value == null ? 1 : varintSize(value.length) + value.length
    size += varintSize(headers.length)
    for (let h = 0; h < headers.length; h++) {
      const hk = Buffer.byteLength(headers[h]!.key, 'utf8')
      headerKeyBytes.push(hk)
      const hv = headers[h]!.value
      size += varintSize(hk) + hk + (hv == null ? 1 : varintSize(hv.length) + hv.length)
    }
    bodySizes[i] = size
    recordsBytes += varintSize(size) + size
  }

  // Uncompressed, the records go straight after the header; compressed, into their own buffer first.
  const inPlace = codec === 0
  const section = Buffer.allocUnsafe((inPlace ? BATCH_HEADER_BYTES : 0) + recordsBytes)
  let pos = inPlace ? BATCH_HEADER_BYTES : 0

  // Pass 2: write the records.
  let hki = 0
  for (let i = 0; i < n; i++) {
    const r = records[i]!
    pos = writeVarint(section, pos, bodySizes[i]!)
    section[pos++] = 0
    pos = writeVarlong(section, pos, (r.timestamp ?? now) - baseTimestamp)
    pos = writeVarint(section, pos, i)
    const key = r.key
    if (key == null) section[pos++] = 1
    else {
      pos = writeVarint(section, pos, key.length)
      section.set(key, pos)
      pos += key.length
    }
    const value = r.value
    if (value == null) section[pos++] = 1
    else {
      pos = writeVarint(section, pos, value.length)
      section.set(value, pos)
      pos += value.length
    }
    const headers = r.headers ?? EMPTY_HEADERS
    pos = writeVarint(section, pos, headers.length)
    for (let h = 0; h < headers.length; h++) {
      const hk = headerKeyBytes[hki++]!
      pos = writeVarint(section, pos, hk)
      section.write(headers[h]!.key, pos, hk, 'utf8')
      pos += hk
      const hv = headers[h]!.value
      if (hv == null) section[pos++] = 1
      else {
        pos = writeVarint(section, pos, hv.length)
        section.set(hv, pos)
        pos += hv.length
      }
    }
  }

  const header = { ...input, codec, count: n, baseTimestamp, maxTimestamp }
  if (inPlace) return writeHeader(section, header)
  if (!compress) throw new TypeError(`compression codec ${codec} needs a compress function`)
  const compressed = compress(section)
  const assemble = (payload: Buffer) => {
    const out = Buffer.allocUnsafe(BATCH_HEADER_BYTES + payload.length)
    payload.copy(out, BATCH_HEADER_BYTES)
    return writeHeader(out, header)
  }
  return compressed instanceof Promise ? compressed.then(assemble) : assemble(compressed)
}

interface HeaderFields extends Omit<RecordBatchInput, 'records' | 'compression' | 'compress'> {
  codec: number
  count: number
  baseTimestamp: number
  maxTimestamp: number
}

/** Fills in the 61-byte header of a batch whose records are already in place, CRC last. */
function writeHeader(out: Buffer, h: HeaderFields): Buffer {
  let attributes = h.codec & Attributes.COMPRESSION_MASK
  if (h.logAppendTime) attributes |= Attributes.TIMESTAMP_TYPE
  if (h.transactional) attributes |= Attributes.TRANSACTIONAL
  if (h.control) attributes |= Attributes.CONTROL
  writeInt64(out, 0, h.baseOffset ?? 0)
  out.writeInt32BE(out.length - 12, 8)
  out.writeInt32BE(h.partitionLeaderEpoch ?? -1, 12)
  out[16] = 2
  out.writeInt16BE(attributes, 21)
  out.writeInt32BE(h.count - 1, 23)
  writeInt64(out, 27, h.baseTimestamp)
  writeInt64(out, 35, h.maxTimestamp)
  out.writeBigInt64BE(h.producerId ?? -1n, 43)
  out.writeInt16BE(h.producerEpoch ?? -1, 51)
  out.writeInt32BE(h.baseSequence ?? -1, 53)
  out.writeInt32BE(h.count, 57)
  out.writeUInt32BE(crc32c(out, 21), 17)
  return out
}

/** Writes a number within ±2^53 as int64. */
function writeInt64(buf: Buffer, at: number, v: number): void {
  const hi = Math.floor(v / 4294967296)
  buf.writeInt32BE(hi, at)
  buf.writeUInt32BE(v - hi * 4294967296, at + 4)
}

/** ControlRecordType key and EndTxnMarker value of a transaction marker (for tests and test brokers). */
export function controlRecord(type: 'abort' | 'commit', coordinatorEpoch: number): RecordInput {
  const key = Buffer.alloc(4)
  key.writeInt16BE(0, 0)
  key.writeInt16BE(type === 'commit' ? 1 : 0, 2)
  const value = Buffer.alloc(6)
  value.writeInt16BE(0, 0)
  value.writeInt32BE(coordinatorEpoch, 2)
  return { key, value }
}
