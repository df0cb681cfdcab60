/**
 * Skiff: a pure-TypeScript Apache Kafka client.
 *
 * The client layer (connections, cluster metadata, the admin client, the producer, the consumer) sits on hand-written protocol
 * codecs for every Kafka API a client uses, which are exported too, like franz-go's kmsg: `Connection.request(Fetch,
 * {...})` speaks any API at the highest version both sides support. The streaming layer (`StreamProcessor`: concurrent
 * processing with offset-range commits) sits on the client's public API.
 * @packageDocumentation
 */
export * from './client/admin/index.js'
export { Cluster } from './client/cluster/cluster.js'
export type { BrokerInfo, PartitionInfo, TopicInfo } from './client/cluster/metadata.js'
export type { ClientOptions } from './client/cluster/options.js'
export type { ConnectionKind } from './client/cluster/pool.js'
export { Connection, type ConnectionOptions, type RequestOptions } from './client/connection.js'
export * from './client/consumer/index.js'
export {
  AbortedError,
  ConfigError,
  ConnectionError,
  RequestTimeoutError,
  SaslAuthenticationError,
} from './client/errors.js'
export * from './client/producer/index.js'
export type {
  OAuthBearerSaslOptions,
  OAuthBearerToken,
  OAuthBearerTokenContext,
  OAuthBearerTokenProvider,
  PlainSaslOptions,
  SaslOptions,
  ScramSaslOptions,
} from './client/sasl/index.js'
export { type BrokerApiRange, negotiateVersion } from './client/versions.js'
export {
  CODECS,
  type CodecName,
  CodecUnavailableError,
  type CompressionCodec,
  CorruptCompressedDataError,
  DecompressionBudget,
  type DecompressionBudgetOptions,
  DecompressionLimitError,
} from './compression/index.js'
export { SkiffError } from './errors.js'
export type { Api, DecodedRequestOf, EncodableResponseOf, RequestOf, ResponseOf } from './protocol/api.js'
export * from './protocol/apis/index.js'
export {
  ErrorCode,
  errorByCode,
  errorByName,
  KAFKA_ERRORS,
  type KafkaErrorInfo,
  type KafkaErrorName,
} from './protocol/error-codes.js'
export { ProtocolError, type ProtocolErrorContext, UnsupportedVersionError } from './protocol/errors.js'
export { decodeRequest, decodeResponse, encodeRequest, encodeResponse, type RequestHeader } from './protocol/frame.js'
export { KafkaError, type KafkaErrorContext, throwIfError } from './protocol/kafka-error.js'
export { Reader } from './protocol/reader.js'
export {
  CorruptRecordError,
  DecompressionBudgetExceededError,
  decodeBatch,
  decodeBatchRecords,
  encodeRecordBatch,
  encodeRecordBatchAsync,
  type KafkaRecord,
  RecordBatch,
  type RecordHeader,
  RecordTooLargeError,
  readRecordSet,
} from './protocol/records/index.js'
export { ZERO_UUID } from './protocol/uuid.js'
export { Writer } from './protocol/writer.js'
export * from './stream/index.js'
