export { Consumer, type ConsumerOptions, type OffsetToCommit } from './consumer.js'
export { LogTruncationError, OffsetOutOfRangeError } from './errors.js'
export { type FetchOptions, FetchPipeline } from './fetch-pipeline.js'
export type {
  BadBatchPolicy,
  ConsumerRecord,
  MessageBatch,
  ResetPolicy,
  SkippedBatch,
  StartOffset,
} from './types.js'
