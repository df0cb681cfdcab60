import { DecompressionBudget } from '../../compression/budget.js'
import { CorruptCompressedDataError, DecompressionLimitError } from '../../compression/errors.js'
import { CODECS, type CodecName, type CompressionCodec, type CompressOptions } from '../../compression/index.js'
import { encodeRecordBatchWith, type RecordBatchInput } from './encoder.js'
import { CorruptRecordError, DecompressionBudgetExceededError } from './errors.js'
import type { RecordBatch } from './record-batch.js'
import type { KafkaRecord } from './record-decoder.js'

/**
 * Kafka's compression attribute (bits 0-2 of a batch) → codec. The record-batch code looks codecs up here and
 * never switches on them. Replace entries (e.g. a zstd codec with a different window cap) by passing your own map.
 */
export type CodecRegistry = ReadonlyMap<number, CompressionCodec>

export const KAFKA_CODEC_IDS: Readonly<Record<CodecName, number>> = Object.freeze({
  gzip: 1,
  snappy: 2,
  lz4: 3,
  zstd: 4,
})

export const KAFKA_CODECS: CodecRegistry = new Map<number, CompressionCodec>([
  [1, CODECS.gzip],
  [2, CODECS.snappy],
  [3, CODECS.lz4],
  [4, CODECS.zstd],
])

/** Records decoded from one chunk of a batch's decompressed bytes, and the budget they hold. */
export interface RecordChunk {
  records: KafkaRecord[]
  /** Decompressed bytes behind these records (0 for an uncompressed batch: its bytes are the fetch response's). */
  bytes: number
  /** Gives the bytes back to the budget. Idempotent. */
  release(): void
}

export interface DecodeBatchOptions {
  /** The limits; a fresh default budget when absent. Share one budget across a fetch pipeline. */
  budget?: DecompressionBudget
  codecs?: CodecRegistry
  /** Check the batch CRC first (default true, as the Java consumer's `check.crcs`). */
  verifyCrc?: boolean
  /** Size of decompressed chunks records are decoded from. Default 256 KiB. */
  chunkBytes?: number
  /**
   * Release each chunk's budget when the next chunk is pulled (default true): right for a `for await` loop that
   * finishes with records before asking for more. A pipeline that queues records sets false and calls `release()`.
   */
  autoRelease?: boolean
  signal?: AbortSignal
}

const DEFAULT_CHUNK_BYTES = 256 * 1024
const NOOP = () => {}

/**
 * Decodes a batch's records incrementally: a compressed batch is decompressed chunk by chunk as records are pulled,
 * each chunk waiting for room in the budget's `bufferBytes`, and the whole batch bounded by
 * `maxBatchDecompressedBytes` — a bomb stops with DecompressionBudgetExceededError while decoding, never allocated.
 */
export async function* decodeBatch(batch: RecordBatch, options: DecodeBatchOptions = {}): AsyncGenerator<RecordChunk> {
  const budget = options.budget ?? new DecompressionBudget()
  if (options.verifyCrc ?? true) batch.verifyCrc()
  const codecId = batch.compressionCode
  if (codecId === 0) {
    yield { records: batch.records({ maxRecordBytes: budget.maxRecordBytes }), bytes: 0, release: NOOP }
    return
  }
  const codec = (options.codecs ?? KAFKA_CODECS).get(codecId)
  if (!codec) {
    throw new CorruptRecordError(`unknown compression codec ${codecId}`, {
      ...batch.context,
      baseOffset: batch.baseOffset,
      lastOffset: batch.lastOffset,
    })
  }
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES
  const autoRelease = options.autoRelease ?? true
  const decoder = batch.decoder({ maxRecordBytes: budget.maxRecordBytes })
  const compressed = batch.payload
  let d: ReturnType<CompressionCodec['decompressor']> | undefined
  let previous: RecordChunk | undefined
  try {
    d = codec.decompressor(compressed, { maxOutputBytes: budget.maxBatchDecompressedBytes, chunkBytes })
    for (;;) {
      // Wait for room before producing: with the application behind, decoding pauses here.
      await budget.acquire(chunkBytes, options.signal)
      let held = chunkBytes
      let chunk: Buffer | null
      try {
        chunk = await d.next()
      } catch (err) {
        budget.release(held)
        throw err
      }
      if (chunk === null) {
        budget.release(held)
        break
      }
      if (chunk.length < held) {
        budget.release(held - chunk.length)
        held = chunk.length
      } else if (chunk.length > held) {
        await budget.acquire(chunk.length - held, options.signal)
        held = chunk.length
      }
      const records: KafkaRecord[] = []
      const copiedBefore = decoder.copied
      try {
        decoder.push(chunk, records)
      } catch (err) {
        budget.release(held)
        throw err
      }
      // Records assembled across chunks are copies: they count as held until the chunk is released.
      const copied = decoder.copied - copiedBefore
      if (copied > 0) {
        await budget.acquire(copied, options.signal)
        held += copied
      }
      let released = false
      const current: RecordChunk = {
        records,
        bytes: held,
        release: () => {
          if (released) return
          released = true
          budget.release(held)
        },
      }
      if (autoRelease) previous?.release()
      previous = current
      yield current
    }
    decoder.finish()
  } catch (err) {
    throw translate(err, batch, codec.name, compressed.length)
  } finally {
    if (autoRelease) previous?.release()
    d?.close()
  }
}

/** Every record of a batch, decoded under the limits (convenient for tests and small batches). */
export async function decodeBatchRecords(batch: RecordBatch, options: DecodeBatchOptions = {}): Promise<KafkaRecord[]> {
  const out: KafkaRecord[] = []
  for await (const chunk of decodeBatch(batch, options)) {
    for (const r of chunk.records) out.push(r)
  }
  return out
}

function translate(err: unknown, batch: RecordBatch, codec: string, compressedBytes: number): unknown {
  if (err instanceof DecompressionLimitError) {
    return new DecompressionBudgetExceededError(
      {
        ...batch.context,
        baseOffset: batch.baseOffset,
        lastOffset: batch.lastOffset,
        codec,
        compressedBytes,
        producedBytes: err.producedBytes,
        limitBytes: err.limitBytes,
        detail: err.detail,
      },
      err,
    )
  }
  if (err instanceof CorruptCompressedDataError) {
    const e = new CorruptRecordError(err.message, {
      ...batch.context,
      baseOffset: batch.baseOffset,
      lastOffset: batch.lastOffset,
    })
    return Object.assign(e, { cause: err })
  }
  return err
}

/** A batch input naming its codec. */
export interface CompressedBatchInput extends Omit<RecordBatchInput, 'compression' | 'compress'> {
  compression?: CodecName | 'none'
  compressOptions?: CompressOptions
  codecs?: CodecRegistry
}

/** Encodes a record batch v2, compressing its records with the named codec. */
export async function encodeRecordBatchAsync(input: CompressedBatchInput): Promise<Buffer> {
  const name = input.compression ?? 'none'
  if (name === 'none') return encodeRecordBatchWith(input, 0, undefined)
  const id = KAFKA_CODEC_IDS[name]
  const codec = (input.codecs ?? KAFKA_CODECS).get(id)
  if (!codec) throw new TypeError(`no codec registered for ${name}`)
  return encodeRecordBatchWith(input, id, (records) => codec.compress(records, input.compressOptions))
}
