import zlib from 'node:zlib'
import CRC32 from 'crc-32'
import { lz4DecompressSync } from '../../compression/codecs/lz4.js'
import { snappyDecompressSync } from '../../compression/codecs/snappy.js'
import { CorruptCompressedDataError, DecompressionLimitError } from '../../compression/errors.js'
import { SkiffError } from '../../errors.js'
import { CorruptRecordError, type RecordContext } from './errors.js'
import type { KafkaRecord, RecordHeader } from './record-decoder.js'

/**
 * Legacy message sets: message format v0 (magic 0, Kafka 0.8–0.9) and v1 (magic 1, KIP-32, Kafka 0.10), read-only.
 * No 3.x/4.x producer writes them, but brokers serve old log segments as they are stored, so a long-lived
 * (typically compacted) topic can still hand them out. Reference: kafka-clients' `LegacyRecord` and
 * `AbstractLegacyRecordBatch`.
 *
 * One log entry: offset int64 | size int32 | message, and a message is
 *
 *   crc uint32 | magic int8 | attributes int8 | timestamp int64 (magic 1 only) | key bytes | value bytes
 *
 * where bytes = int32 length (-1 = null) + data, and the CRC-32 (IEEE, not the C of v2 batches) covers magic..end.
 * Attributes: bits 0-2 the codec (0 none, 1 gzip, 2 snappy, 3 lz4), bit 3 LOG_APPEND_TIME (magic 1 only).
 *
 * A compressed message is a wrapper: its value is a compressed message set of uncompressed inner entries, and the
 * wrapper entry carries the offset of the last inner message. Inner entries of a magic 0 wrapper carry absolute
 * offsets; those of a magic 1 wrapper carry relative ones (KIP-31), made absolute against the wrapper's offset.
 */

/** Bytes before the message: offset int64 + size int32. */
const LOG_OVERHEAD = 12
const CRC_AT = LOG_OVERHEAD
const MAGIC_AT = LOG_OVERHEAD + 4
/** The smallest message: crc, magic, attributes, key length, value length (a v1 one adds 8 timestamp bytes). */
const MESSAGE_OVERHEAD_V0 = 14
const MESSAGE_OVERHEAD_V1 = 22

const CODEC_MASK = 0x07
const TIMESTAMP_TYPE_BIT = 0x08
const CODEC_NAMES = ['none', 'gzip', 'snappy', 'lz4'] as const
export type LegacyCompressionName = (typeof CODEC_NAMES)[number]

const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024
const MAX_SAFE = Number.MAX_SAFE_INTEGER
const NO_HEADERS: RecordHeader[] = Object.freeze([]) as unknown as RecordHeader[]

/**
 * Decompresses a wrapper's value, synchronously (an asynchronous decompressor decompresses `value` itself and
 * calls {@link LegacyMessageBatch.recordsFromDecompressed}). `codec` is 1 gzip, 2 snappy (Kafka's Java client writes xerial-framed snappy),
 * 3 lz4 (a KAFKA-3160 frame: under magic 0 its header checksum is computed over the magic number too, the "broken"
 * checksum old clients wrote; under magic 1 it is the LZ4 frame spec's). Must not produce more than `limitBytes`:
 * stop and throw instead. Supplied by the compression layer.
 */
export type LegacyDecompress = (codec: number, data: Buffer, limitBytes: number, magic: 0 | 1) => Buffer

export interface LegacyRecordsOptions {
  /**
   * Decompresses every codec when given. Without it gzip goes through node:zlib and snappy/lz4 wrappers throw
   * {@link LegacyCodecUnavailableError}.
   */
  decompress?: LegacyDecompress
  /** A wrapper whose inner message set expands past this is refused. Default 64 MiB. */
  maxDecompressedBytes?: number
  /** Check the CRC-32 of the wrapper and of every inner message. Default false (see {@link LegacyMessageBatch.verifyCrc}). */
  verifyCrc?: boolean
}

/** A gzip/snappy/lz4 wrapper whose inner message set expands past the configured limit. */
export class LegacyDecompressionLimitError extends CorruptRecordError {
  override name = 'LegacyDecompressionLimitError'
  readonly codec: LegacyCompressionName
  readonly compressedBytes: number
  readonly limitBytes: number
  /** The wrapper's offset: that of its last inner message. */
  readonly lastOffset: number

  constructor(
    where: RecordContext & {
      codec: LegacyCompressionName
      compressedBytes: number
      limitBytes: number
      lastOffset: number
    },
  ) {
    super(
      `${where.codec} message set ending at offset ${where.lastOffset} expands past maxDecompressedBytes ` +
        `(${formatBytes(where.limitBytes)}) (${formatBytes(where.compressedBytes)} compressed); skip it or raise the limit`,
      { topic: where.topic, partition: where.partition },
    )
    this.codec = where.codec
    this.compressedBytes = where.compressedBytes
    this.limitBytes = where.limitBytes
    this.lastOffset = where.lastOffset
  }
}

/**
 * A snappy or lz4 wrapper was met without a decompressor for it. Not corruption: the bytes may be fine, this build
 * of the decoder just cannot open them without the compression layer's `decompress` hook.
 */
export class LegacyCodecUnavailableError extends SkiffError {
  override name = 'LegacyCodecUnavailableError'
  readonly codec: LegacyCompressionName
  readonly lastOffset: number

  constructor(where: RecordContext & { codec: LegacyCompressionName; lastOffset: number }) {
    const tp = where.topic !== undefined ? ` of ${where.topic}[${where.partition ?? '?'}]` : ''
    super(
      `${where.codec} message set ending at offset ${where.lastOffset}${tp} needs the compression layer: pass a ` +
        `decompress hook that handles ${where.codec}, or decompress its value and call recordsFromDecompressed()`,
    )
    this.codec = where.codec
    this.lastOffset = where.lastOffset
  }
}

/**
 * One top-level entry of a magic 0/1 message set, parsed lazily: constructing it checks the entry's framing and
 * the message's fields; records (the message itself, or a wrapper's inner messages) are decoded when asked for.
 */
export class LegacyMessageBatch {
  readonly magic: 0 | 1
  /**
   * The offset in the entry header. For an uncompressed message, its offset. For a compressed wrapper Kafka stores
   * the offset of the LAST inner message here, so the first offset inside is known only after decompression
   * (`records()[0].offset`); this is then an upper bound, equal to {@link lastOffset}.
   */
  readonly baseOffset: number
  /** Offset of the last message: the entry's offset, for a wrapper as for a single message. */
  readonly lastOffset: number
  readonly crc: number
  readonly attributes: number
  /** The message's timestamp (for a wrapper, the max of its inner ones, or the broker's append time); -1 under magic 0. */
  readonly timestamp: number
  /** The message's key: a view into `bytes`. Null for a wrapper. */
  readonly key: Buffer | null
  /** The message's value: a view into `bytes`; for a wrapper the compressed inner message set. */
  readonly value: Buffer | null

  constructor(
    /** One log entry: offset, size, message. */
    readonly bytes: Buffer,
    readonly context: RecordContext = {},
  ) {
    if (bytes.length < LOG_OVERHEAD + MESSAGE_OVERHEAD_V0) {
      throw new CorruptRecordError(
        `legacy message entry of ${bytes.length} bytes is shorter than the ${LOG_OVERHEAD + MESSAGE_OVERHEAD_V0}-byte minimum`,
        { ...context },
      )
    }
    const offset = readInt64Number(bytes, 0)
    if (Number.isNaN(offset) || offset < 0) {
      throw new CorruptRecordError('legacy message offset is negative or beyond 2^53', { ...context, offset: 0 })
    }
    const where = { ...context, baseOffset: offset }
    const size = bytes.readInt32BE(8)
    if (size !== bytes.length - LOG_OVERHEAD) {
      throw new CorruptRecordError(
        `message size ${size} disagrees with the entry's ${bytes.length - LOG_OVERHEAD} bytes`,
        {
          ...where,
          offset: 8,
        },
      )
    }
    const m = parseMessage(bytes, CRC_AT, bytes.length, where)
    this.baseOffset = offset
    this.lastOffset = offset
    this.magic = m.magic
    this.crc = m.crc
    this.attributes = m.attributes
    this.timestamp = m.timestamp
    this.key = m.key
    this.value = m.value
  }

  /** The offset to fetch after this entry. */
  get nextOffset(): number {
    return this.lastOffset + 1
  }

  get compressionCode(): number {
    return this.attributes & CODEC_MASK
  }

  get compression(): LegacyCompressionName | `unknown(${number})` {
    const c = this.compressionCode
    return c < CODEC_NAMES.length ? CODEC_NAMES[c]! : `unknown(${c})`
  }

  get isCompressed(): boolean {
    return this.compressionCode !== 0
  }

  /** LOG_APPEND_TIME: the timestamp is the broker's append time, and a wrapper's inner messages all take it. */
  get logAppendTime(): boolean {
    return this.magic === 1 && (this.attributes & TIMESTAMP_TYPE_BIT) !== 0
  }

  /** Does the stored CRC-32 match the message from magic to the end? */
  crcMatches(): boolean {
    return crc32(this.bytes.subarray(MAGIC_AT)) === this.crc
  }

  /**
   * Throws CorruptRecordError unless the CRC matches. For a wrapper this covers the compressed bytes; the inner
   * messages' own CRCs are checked by `records({ verifyCrc: true })`.
   */
  verifyCrc(): void {
    checkCrc(this.bytes, CRC_AT, this.bytes.length, { ...this.context, baseOffset: this.baseOffset }, () => 'message')
  }

  /**
   * The records of this entry: the message itself, or a wrapper's inner messages with absolute offsets. Keys and
   * values are views into `bytes` or into the decompressed inner set. Legacy messages have no headers.
   */
  records(options: LegacyRecordsOptions = {}, out: KafkaRecord[] = []): KafkaRecord[] {
    if (options.verifyCrc) this.verifyCrc()
    if (!this.isCompressed) {
      out.push({
        offset: this.lastOffset,
        timestamp: this.timestamp,
        key: this.key,
        value: this.value,
        headers: NO_HEADERS,
      })
      return out
    }
    return this.readInnerSet(this.decompress(options), options.verifyCrc === true, out)
  }

  /**
   * The records of a compressed wrapper whose value (`value`, codec `compression`) was decompressed elsewhere, e.g.
   * by the asynchronous compression layer under its budget: `inner` is the uncompressed inner message set.
   */
  recordsFromDecompressed(
    inner: Buffer,
    options: { verifyCrc?: boolean } = {},
    out: KafkaRecord[] = [],
  ): KafkaRecord[] {
    if (!this.isCompressed) {
      throw new TypeError(`the message at offset ${this.lastOffset} is not compressed; use records()`)
    }
    if (options.verifyCrc) this.verifyCrc()
    this.codecName()
    return this.readInnerSet(inner, options.verifyCrc === true, out)
  }

  /** The codec's name; codec 4 (zstd) and beyond never existed for magic 0/1 and are refused as corrupt. */
  private codecName(): LegacyCompressionName {
    const codec = this.compressionCode
    if (codec >= CODEC_NAMES.length) {
      throw new CorruptRecordError(`unknown compression codec ${codec} for a magic ${this.magic} message`, {
        ...this.context,
        baseOffset: this.lastOffset,
        offset: MAGIC_AT + 1,
      })
    }
    return CODEC_NAMES[codec]!
  }

  private decompress(options: LegacyRecordsOptions): Buffer {
    const codec = this.compressionCode
    const name = this.codecName()
    const where = { ...this.context, baseOffset: this.lastOffset }
    const data = this.value
    if (data === null) throw new CorruptRecordError(`${name} wrapper message with a null value`, where)
    const limit = options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError(`maxDecompressedBytes must be a positive integer, got ${limit}`)
    const tooLarge = () =>
      new LegacyDecompressionLimitError({
        ...this.context,
        codec: name,
        compressedBytes: data.length,
        limitBytes: limit,
        lastOffset: this.lastOffset,
      })

    let inner: Buffer
    try {
      if (options.decompress) inner = options.decompress(codec, data, limit, this.magic)
      else if (codec === 1) inner = zlib.gunzipSync(data, { maxOutputLength: limit })
      else if (codec === 2) inner = snappyDecompressSync(data, { maxOutputBytes: limit })
      // Magic 0 lz4 frames carry the broken header checksum of KAFKA-3160.
      else if (codec === 3) inner = lz4DecompressSync(data, { maxOutputBytes: limit }, { legacy: this.magic === 0 })
      else throw new LegacyCodecUnavailableError({ ...this.context, codec: name, lastOffset: this.lastOffset })
    } catch (err) {
      if (err instanceof DecompressionLimitError) throw tooLarge()
      if (err instanceof SkiffError && !(err instanceof CorruptCompressedDataError)) throw err
      // node:zlib stops as soon as its output passes maxOutputLength, so a bomb costs at most the limit.
      if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge()
      const e = new CorruptRecordError(`${name} wrapper does not decompress: ${(err as Error).message}`, where)
      e.cause = err
      throw e
    }
    if (inner.length > limit) throw tooLarge()
    return inner
  }

  /** Decodes the uncompressed entries of a wrapper's inner message set. */
  private readInnerSet(inner: Buffer, verify: boolean, out: KafkaRecord[]): KafkaRecord[] {
    const wrapperOffset = this.lastOffset
    const name = this.compression
    const where = { ...this.context, baseOffset: wrapperOffset }
    const corrupt = (problem: string, at: number): never => {
      throw new CorruptRecordError(`${name} wrapper's inner message set: ${problem}`, { ...where, offset: at })
    }
    const entries: Array<{ offset: number; m: Message }> = []
    const len = inner.length
    let pos = 0
    while (pos < len) {
      if (len - pos < LOG_OVERHEAD) corrupt(`ends inside an entry header (${len - pos} bytes left)`, pos)
      const offset = readInt64Number(inner, pos)
      if (Number.isNaN(offset) || offset < 0) corrupt('inner offset is negative or beyond 2^53', pos)
      const size = inner.readInt32BE(pos + 8)
      if (size < MESSAGE_OVERHEAD_V0)
        corrupt(`inner message size ${size} is below the minimum ${MESSAGE_OVERHEAD_V0}`, pos + 8)
      const end = pos + LOG_OVERHEAD + size
      if (end > len) corrupt(`inner message of ${size} bytes overruns the ${len}-byte set`, pos + 8)
      const m = parseMessage(inner, pos + LOG_OVERHEAD, end, where)
      // Kafka forbids compressed messages inside a wrapper (AbstractLegacyRecordBatch: "Inner messages must not be
      // compressed"); decoding one would open the door to recursive expansion.
      const which = () => `inner message ${entries.length} (${this.magic === 1 ? 'relative ' : ''}offset ${offset})`
      if ((m.attributes & CODEC_MASK) !== 0)
        corrupt(`${which()} is itself compressed: nested wrappers are invalid`, pos)
      if (verify) checkCrc(inner, pos + LOG_OVERHEAD, end, where, which)
      entries.push({ offset, m })
      pos = end
    }
    if (entries.length === 0) corrupt('holds no messages', 0)

    // Magic 1 inner offsets are relative: the wrapper sits at the last one. A wrapper offset of 0 is what some
    // librdkafka versions sent on produce; kafka-clients then reads the relative offsets as absolute, and so do we.
    let base = 0
    if (this.magic === 1 && wrapperOffset !== 0) {
      const lastInner = entries[entries.length - 1]!.offset
      if (wrapperOffset < lastInner) {
        corrupt(`wrapper offset ${wrapperOffset} is below its last relative offset ${lastInner}`, 0)
      }
      base = wrapperOffset - lastInner
    }
    for (const { offset } of entries) {
      if (base + offset > MAX_SAFE) corrupt(`inner offset ${base} + ${offset} is beyond 2^53`, 0)
    }
    const logAppendTime = this.logAppendTime
    for (const { offset, m } of entries) {
      out.push({
        offset: base + offset,
        // Under LOG_APPEND_TIME the broker rewrote only the wrapper's timestamp; the inner ones are the producer's.
        timestamp: m.magic === 0 ? -1 : logAppendTime ? this.timestamp : m.timestamp,
        key: m.key,
        value: m.value,
        headers: NO_HEADERS,
      })
    }
    return out
  }
}

interface Message {
  crc: number
  magic: 0 | 1
  attributes: number
  timestamp: number
  key: Buffer | null
  value: Buffer | null
}

/** Parses the message in buf[start, end) (from its CRC); its fields must fill it exactly. */
function parseMessage(
  buf: Buffer,
  start: number,
  end: number,
  where: RecordContext & { baseOffset?: number },
): Message {
  const corrupt = (problem: string, at: number): never => {
    throw new CorruptRecordError(problem, { ...where, offset: at })
  }
  if (end - start < MESSAGE_OVERHEAD_V0)
    corrupt(`message of ${end - start} bytes is below the minimum ${MESSAGE_OVERHEAD_V0}`, start)
  const crc = buf.readUInt32BE(start)
  const magic = buf[start + 4]!
  if (magic !== 0 && magic !== 1) corrupt(`legacy message magic ${magic} is neither 0 nor 1`, start + 4)
  const attributes = buf[start + 5]!
  let pos = start + 6
  let timestamp = -1
  if (magic === 1) {
    if (end - start < MESSAGE_OVERHEAD_V1)
      corrupt(`magic 1 message of ${end - start} bytes is below the minimum ${MESSAGE_OVERHEAD_V1}`, start)
    timestamp = readInt64Number(buf, pos)
    if (Number.isNaN(timestamp)) corrupt('message timestamp beyond ±2^53 ms', pos)
    pos += 8
  }
  // At least the two length fields remain (checked above), so each read below is in bounds.
  const keyLen = buf.readInt32BE(pos)
  pos += 4
  let key: Buffer | null = null
  if (keyLen >= 0) {
    if (keyLen > end - pos - 4) corrupt(`key of ${keyLen} bytes overruns its message`, pos - 4)
    key = buf.subarray(pos, pos + keyLen)
    pos += keyLen
  } else if (keyLen !== -1) corrupt(`invalid key length ${keyLen}`, pos - 4)
  const valueLen = buf.readInt32BE(pos)
  pos += 4
  let value: Buffer | null = null
  if (valueLen >= 0) {
    if (valueLen > end - pos) corrupt(`value of ${valueLen} bytes overruns its message`, pos - 4)
    value = buf.subarray(pos, pos + valueLen)
    pos += valueLen
  } else if (valueLen !== -1) corrupt(`invalid value length ${valueLen}`, pos - 4)
  if (pos !== end) corrupt(`message size disagrees with its fields (${end - pos} bytes unread)`, pos)
  return { crc, magic: magic as 0 | 1, attributes, timestamp, key, value }
}

/** Throws unless the CRC-32 stored at buf[start] matches buf[start + 4, end). */
function checkCrc(
  buf: Buffer,
  start: number,
  end: number,
  where: RecordContext & { baseOffset?: number },
  what: () => string,
): void {
  const stored = buf.readUInt32BE(start)
  const actual = crc32(buf.subarray(start + 4, end))
  if (stored !== actual) {
    throw new CorruptRecordError(
      `CRC-32 mismatch in ${what()}: stored 0x${stored.toString(16).padStart(8, '0')}, computed 0x${actual.toString(16).padStart(8, '0')}`,
      { ...where, offset: start },
    )
  }
}

/** CRC-32 (IEEE). node:zlib has it from Node 20.15/22.2; the `crc-32` package covers older Node 20 releases. */
const crc32: (data: Uint8Array) => number =
  typeof zlib.crc32 === 'function' ? (data) => zlib.crc32(data) : (data) => CRC32.buf(data) >>> 0

/** An int64 as a number, or NaN beyond ±2^53 (the caller turns NaN into a CorruptRecordError). */
function readInt64Number(b: Buffer, at: number): number {
  const v = b.readInt32BE(at) * 4294967296 + b.readUInt32BE(at + 4)
  return v > MAX_SAFE || v < -MAX_SAFE ? Number.NaN : v
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / (1024 * 1024)).toFixed(1)} MiB`
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`
  return `${n} bytes`
}
