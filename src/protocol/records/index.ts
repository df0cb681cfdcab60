export {
  type CodecRegistry,
  type CompressedBatchInput,
  type DecodeBatchOptions,
  decodeBatch,
  decodeBatchRecords,
  encodeRecordBatchAsync,
  KAFKA_CODEC_IDS,
  KAFKA_CODECS,
  type RecordChunk,
} from './compression.js'
export { crc32c } from './crc32c.js'
export {
  type CompressRecords,
  controlRecord,
  encodeRecordBatch,
  encodeRecordBatchWith,
  type RecordBatchInput,
  type RecordInput,
} from './encoder.js'
export {
  type BudgetExceededDetails,
  CorruptRecordError,
  DecompressionBudgetExceededError,
  type RecordContext,
  RecordTooLargeError,
} from './errors.js'
export {
  LegacyCodecUnavailableError,
  type LegacyCompressionName,
  type LegacyDecompress,
  LegacyDecompressionLimitError,
  LegacyMessageBatch,
  type LegacyRecordsOptions,
} from './legacy.js'
export {
  Attributes,
  BATCH_HEADER_BYTES,
  Compression,
  type CompressionName,
  type ControlRecord,
  RecordBatch,
  type RecordBatchHeader,
} from './record-batch.js'
export {
  type KafkaRecord,
  RecordDecoder,
  type RecordDecoderBatch,
  type RecordDecoderOptions,
  type RecordHeader,
} from './record-decoder.js'
export { type RecordSet, readRecordSet } from './record-set.js'
