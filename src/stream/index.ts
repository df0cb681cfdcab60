// The streaming layer: built on the client's public API only (the consumer, the admin client); nothing below
// imports it.

export type { BackfillOptions } from './backfill.js'
export {
  COMMIT_METADATA_PREFIX,
  CommitMetadataError,
  type CommitState,
  DEFAULT_METADATA_MAX_CHARS,
  type DecodedCommitMetadata,
  type DecodeLimits,
  decodeCommitMetadata,
  type EncodeOptions,
  type EncodeResult,
  encodeCommitMetadata,
  MAX_METADATA_BODY_BYTES,
  MAX_METADATA_RANGES,
  parseCommitMetadata,
} from './commit-metadata.js'
export {
  type DeadLetterCopy,
  type DeadLetterOptions,
  type DeadLetterReason,
  DLQ_HEADERS,
} from './dead-letter.js'
export {
  CommitMetadataTooLargeError,
  DeserializationError,
  HandlerFailedError,
  StreamClosedError,
  StreamNotFoundError,
  StreamResolverError,
  StreamTimeoutError,
} from './errors.js'
export { type GroupLag, type LagOptions, lag, type PartitionLag } from './lag.js'
export { type LaneName, LaneProducer, laneOf, type StreamLanes, streamLanes } from './lanes.js'
export { OffsetRanges } from './offset-ranges.js'
export {
  type HandlerContext,
  type Ordering,
  type ProcessorBackpressure,
  type ProcessorCommit,
  type ProcessorStats,
  type RecordHandler,
  StreamProcessor,
  type StreamProcessorOptions,
} from './processor.js'
export {
  type ControlTopicOptions,
  parseStreamTarget,
  publishStreamTarget,
  type StreamChange,
  type StreamLocation,
  StreamResolver,
  type StreamTarget,
  sameTarget,
} from './resolver.js'
export type { Priority, PriorityOptions } from './scheduler.js'
export { StreamConsumer, type StreamConsumerOptions, type StreamRecord } from './stream-consumer.js'
export { StreamProducer, type StreamProducerOptions, type StreamSendResult } from './stream-producer.js'
