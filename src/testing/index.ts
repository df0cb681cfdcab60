/**
 * `skiff/testing`: a real Apache Kafka for tests. See {@link startKafka}.
 * @packageDocumentation
 */
export { HarnessError } from './errors.js'
export { kafkaCacheRoot, resolveKafka } from './jvm/maven.js'
export { DEFAULT_KAFKA_VERSION, startKafka } from './start.js'
export type {
  KafkaCluster,
  ListenerInfo,
  ListenerKind,
  SaslUser,
  StartKafkaOptions,
  TestBroker,
} from './types.js'
