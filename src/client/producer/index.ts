export type { DeliveryCallback } from './delivery.js'
export {
  BufferFullError,
  DeliveryTimeoutError,
  MetadataTimeoutError,
  ProducerClosedError,
  ProducerFatalError,
  ProducerFencedError,
  RecordTooLargeToSendError,
  TransactionAbortableError,
  TransactionAbortedError,
  TransactionStateError,
} from './errors.js'
export type {
  CompressionOption,
  PartitionerFunction,
  PartitionerOption,
  ProducerOptions,
} from './options.js'
export { murmur2, partitionForKey, toPositive } from './partitioners.js'
export { Producer, type SendInput, type SendOptions } from './producer.js'
export type { Bytes, Headers, HeaderValue, Message, ProducerRecord, RecordMetadata } from './record.js'
export type { ProducerStats } from './stats.js'
export { ProducerStream, type ProducerStreamOptions } from './stream.js'
export { Transaction, type TransactionOffsets } from './transactions.js'
