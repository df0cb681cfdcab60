export { crc32c } from './crc32c.js'
export {
  type CompressRecords,
  controlRecord,
  encodeRecordBatch,
  type RecordBatchInput,
  type RecordInput,
} from './encoder.js'
export { CorruptRecordError, type RecordContext } from './errors.js'
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
