import { crc32c } from './crc32c.js'
import { CorruptRecordError, type RecordContext } from './errors.js'
import { type KafkaRecord, RecordDecoder, type RecordDecoderOptions } from './record-decoder.js'

/**
 * Record batch v2 (magic 2, KIP-98): a 61-byte header, then the records, compressed as a whole when the
 * attributes say so.
 *
 *   baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 | crc uint32 |
 *   attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64 |
 *   producerId int64 | producerEpoch int16 | baseSequence int32 | recordCount int32 | records...
 *
 * The CRC-32C covers attributes to the end, so the broker can assign baseOffset and partitionLeaderEpoch
 * without recomputing it.
 */
export const BATCH_HEADER_BYTES = 61
/** Bytes before batchLength's count starts: baseOffset + batchLength. */
export const LOG_OVERHEAD = 12
/** Offset of the magic byte; the same in legacy message sets (offset, size, crc, magic). */
export const MAGIC_OFFSET = 16
const CRC_OFFSET = 17
const ATTRIBUTES_OFFSET = 21

/** Attribute bits of a v2 batch. */
export const Attributes = {
  /** Bits 0-2: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd. */
  COMPRESSION_MASK: 0x07,
  /** Bit 3: 0 CREATE_TIME, 1 LOG_APPEND_TIME. */
  TIMESTAMP_TYPE: 0x08,
  /** Bit 4: part of a transaction (KIP-98). */
  TRANSACTIONAL: 0x10,
  /** Bit 5: holds a control record (commit/abort marker) instead of data. */
  CONTROL: 0x20,
  /** Bit 6: compacted with a delete horizon (KIP-534); baseTimestamp is then that horizon. */
  DELETE_HORIZON: 0x40,
} as const

export const Compression = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const
export type CompressionName = keyof typeof Compression
const COMPRESSION_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const

/** The fields of a v2 batch header. Offsets and timestamps are numbers (exact below 2^53). */
export interface RecordBatchHeader {
  baseOffset: number
  /** Bytes after the batchLength field. */
  batchLength: number
  partitionLeaderEpoch: number
  magic: number
  crc: number
  attributes: number
  lastOffsetDelta: number
  baseTimestamp: number
  maxTimestamp: number
  producerId: bigint
  producerEpoch: number
  baseSequence: number
  recordCount: number
}

/** A commit or abort marker written by a transaction coordinator (ControlRecordType / EndTxnMarker schemas). */
export interface ControlRecord {
  type: 'abort' | 'commit' | 'unknown'
  /** The raw ControlRecordType type: 0 abort, 1 commit; others are newer Kafka control types. */
  typeCode: number
  coordinatorEpoch: number
  offset: number
  timestamp: number
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER

/**
 * One v2 record batch inside a fetched record set, parsed lazily: constructing it reads the header only; records
 * are decoded when asked for. `bytes` is a view of the whole batch.
 */
export class RecordBatch implements RecordBatchHeader {
  readonly baseOffset: number
  readonly batchLength: number
  readonly partitionLeaderEpoch: number
  readonly magic = 2
  readonly crc: number
  readonly attributes: number
  readonly lastOffsetDelta: number
  readonly baseTimestamp: number
  readonly maxTimestamp: number
  readonly producerId: bigint
  readonly producerEpoch: number
  readonly baseSequence: number
  readonly recordCount: number

  constructor(
    /** The whole batch, from baseOffset to its last byte. */
    readonly bytes: Buffer,
    readonly context: RecordContext = {},
  ) {
    const b = bytes
    if (b.length < BATCH_HEADER_BYTES) {
      throw new CorruptRecordError(
        `record batch of ${b.length} bytes is shorter than its ${BATCH_HEADER_BYTES}-byte header`,
        context,
      )
    }
    const baseOffset = readInt64Number(b, 0)
    this.batchLength = b.readInt32BE(8)
    this.partitionLeaderEpoch = b.readInt32BE(12)
    this.crc = b.readUInt32BE(CRC_OFFSET)
    this.attributes = b.readInt16BE(ATTRIBUTES_OFFSET)
    this.lastOffsetDelta = b.readInt32BE(23)
    this.baseTimestamp = readInt64Number(b, 27)
    this.maxTimestamp = readInt64Number(b, 35)
    this.producerId = b.readBigInt64BE(43)
    this.producerEpoch = b.readInt16BE(51)
    this.baseSequence = b.readInt32BE(53)
    this.recordCount = b.readInt32BE(57)
    const where = { ...context, baseOffset: Number.isNaN(baseOffset) ? undefined : baseOffset }
    if (Number.isNaN(baseOffset) || baseOffset < 0)
      throw new CorruptRecordError('baseOffset is negative or beyond 2^53', { ...where, offset: 0 })
    this.baseOffset = baseOffset
    if (this.batchLength + LOG_OVERHEAD !== b.length) {
      throw new CorruptRecordError(
        `batchLength ${this.batchLength} disagrees with the batch's ${b.length - LOG_OVERHEAD} bytes`,
        { ...where, offset: 8 },
      )
    }
    if (this.lastOffsetDelta < 0)
      throw new CorruptRecordError(`negative lastOffsetDelta ${this.lastOffsetDelta}`, { ...where, offset: 23 })
    if (this.recordCount < 0)
      throw new CorruptRecordError(`negative record count ${this.recordCount}`, { ...where, offset: 57 })
    if (Number.isNaN(this.baseTimestamp) || Number.isNaN(this.maxTimestamp)) {
      throw new CorruptRecordError('batch timestamps beyond ±2^53 ms', { ...where, offset: 27 })
    }
    // Every record takes at least 7 bytes (length, attributes, timestampDelta, offsetDelta, key, value, headers),
    // but a compressed batch can hold more records than bytes; bound only uncompressed ones here.
    if (this.compressionCode === 0 && this.recordCount * 7 > b.length - BATCH_HEADER_BYTES) {
      throw new CorruptRecordError(
        `record count ${this.recordCount} cannot fit in ${b.length - BATCH_HEADER_BYTES} bytes`,
        { ...where, offset: 57 },
      )
    }
  }

  /** Offset of the last record (or of the last record the producer wrote, if compaction removed it). */
  get lastOffset(): number {
    return this.baseOffset + this.lastOffsetDelta
  }

  /** The offset to fetch after this batch. */
  get nextOffset(): number {
    return this.baseOffset + this.lastOffsetDelta + 1
  }

  get compressionCode(): number {
    return this.attributes & Attributes.COMPRESSION_MASK
  }

  get compression(): CompressionName | `unknown(${number})` {
    const c = this.compressionCode
    return c < COMPRESSION_NAMES.length ? COMPRESSION_NAMES[c]! : `unknown(${c})`
  }

  get logAppendTime(): boolean {
    return (this.attributes & Attributes.TIMESTAMP_TYPE) !== 0
  }

  get isTransactional(): boolean {
    return (this.attributes & Attributes.TRANSACTIONAL) !== 0
  }

  get isControl(): boolean {
    return (this.attributes & Attributes.CONTROL) !== 0
  }

  get hasDeleteHorizon(): boolean {
    return (this.attributes & Attributes.DELETE_HORIZON) !== 0
  }

  /** The records section: compressed as a whole when `compression` is not `none`. A view, not a copy. */
  get payload(): Buffer {
    return this.bytes.subarray(BATCH_HEADER_BYTES)
  }

  /** Does the stored CRC-32C match the bytes from attributes to the end? */
  crcMatches(): boolean {
    return crc32c(this.bytes, ATTRIBUTES_OFFSET) === this.crc
  }

  /** Throws CorruptRecordError unless the CRC matches. */
  verifyCrc(): void {
    if (!this.crcMatches()) {
      const actual = crc32c(this.bytes, ATTRIBUTES_OFFSET)
      throw new CorruptRecordError(
        `CRC-32C mismatch: stored 0x${this.crc.toString(16).padStart(8, '0')}, computed 0x${actual.toString(16).padStart(8, '0')}`,
        { ...this.context, baseOffset: this.baseOffset, lastOffset: this.lastOffset, offset: CRC_OFFSET },
      )
    }
  }

  /** A decoder for this batch's (decompressed) record bytes, to be fed in chunks. */
  decoder(options: RecordDecoderOptions = {}): RecordDecoder {
    return new RecordDecoder(this, { context: this.context, ...options })
  }

  /**
   * Decodes every record of an uncompressed batch. Compressed batches are decoded through the compression layer,
   * which feeds `decoder()` chunk by chunk under its limits.
   */
  records(options: RecordDecoderOptions = {}, out: KafkaRecord[] = []): KafkaRecord[] {
    if (this.compressionCode !== 0) {
      throw new CorruptRecordError(`batch is ${this.compression}-compressed; decode it through a decompressor`, {
        ...this.context,
        baseOffset: this.baseOffset,
      })
    }
    const d = this.decoder(options)
    d.push(this.payload, out)
    d.finish()
    return out
  }

  /** The marker of a control batch (decoded from an uncompressed control batch's single record), else null. */
  controlRecord(): ControlRecord | null {
    if (!this.isControl) return null
    const [rec] = this.records()
    if (!rec?.key || rec.key.length < 4) {
      throw new CorruptRecordError('control batch without a ControlRecordType key', {
        ...this.context,
        baseOffset: this.baseOffset,
      })
    }
    const typeCode = rec.key.readInt16BE(2)
    const coordinatorEpoch = rec.value && rec.value.length >= 6 ? rec.value.readInt32BE(2) : -1
    return {
      type: typeCode === 0 ? 'abort' : typeCode === 1 ? 'commit' : 'unknown',
      typeCode,
      coordinatorEpoch,
      offset: rec.offset,
      timestamp: rec.timestamp,
    }
  }
}

/** An int64 as a number, or NaN beyond ±2^53 (the caller turns NaN into a CorruptRecordError). */
function readInt64Number(b: Buffer, at: number): number {
  const hi = b.readInt32BE(at)
  const lo = b.readUInt32BE(at + 4)
  const v = hi * 4294967296 + lo
  return v > MAX_SAFE || v < -MAX_SAFE ? Number.NaN : v
}
