/**
 * Compression codecs with hard decompression limits, and the budget that bounds decoded bytes held at once.
 * Knows nothing of Kafka; the protocol layer maps Kafka's attribute bits onto {@link CODECS}.
 */
import { gzipCodec } from './codecs/gzip.js'
import { lz4Codec } from './codecs/lz4.js'
import { snappyCodec } from './codecs/snappy.js'
import { zstdCodec } from './codecs/zstd.js'
import type { CodecName, CompressionCodec } from './types.js'

export {
  BudgetWaitAbortedError,
  DEFAULT_BUFFER_BYTES,
  DEFAULT_MAX_BATCH_DECOMPRESSED_BYTES,
  DEFAULT_MAX_RECORD_BYTES,
  DecompressionBudget,
  type DecompressionBudgetOptions,
} from './budget.js'
export { createGzipCodec, gzipCodec } from './codecs/gzip.js'
export { lz4Codec, lz4CompressFrame, lz4DecompressSync, lz4LegacyDecompressor } from './codecs/lz4.js'
export { snappyCodec, snappyCompressRaw, snappyCompressXerial, snappyDecompressSync } from './codecs/snappy.js'
export { createZstdCodec, type ZstdCodecOptions, zstdCodec } from './codecs/zstd.js'
export { CodecUnavailableError, CorruptCompressedDataError, DecompressionLimitError } from './errors.js'
export type { CodecName, CompressionCodec, CompressOptions, DecompressLimits, Decompressor } from './types.js'

/** The default codec of each format. */
export const CODECS: Readonly<Record<CodecName, CompressionCodec>> = Object.freeze({
  gzip: gzipCodec,
  snappy: snappyCodec,
  lz4: lz4Codec,
  zstd: zstdCodec,
})
