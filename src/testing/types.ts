/** How clients reach a test broker: each kind gets its own port on every broker. */
export type ListenerKind = 'plaintext' | 'sasl' | 'tls' | 'sasl_tls'

/** A SASL user the test cluster accepts (PLAIN, and SCRAM-SHA-256/512 when `scram` is true). */
export interface SaslUser {
  username: string
  password: string
}

export interface StartKafkaOptions {
  /** Apache Kafka version, e.g. `4.4.0` or `3.9.2`. Default `$SKIFF_KAFKA_VERSION`, else {@link DEFAULT_KAFKA_VERSION}. */
  version?: string
  /** 1 (one combined broker+controller) or 3 (three combined nodes, a 3-voter KRaft quorum). Default 1. */
  brokers?: 1 | 3
  /** Client listeners; the first is the one `bootstrap` points at. Default `['plaintext']`. */
  listeners?: ListenerKind[]
  /** Users for the SASL listeners. Default one user `skiff` / `skiff-secret`. */
  saslUsers?: SaslUser[]
  /** Extra or overriding `server.properties` entries for every broker. */
  serverProperties?: Record<string, string | number | boolean>
  /** Heap per broker JVM in MiB. Default 512 for one broker, 384 each for three. */
  heapMb?: number
  /** `jvm` (local java + Maven Central jars) or `testcontainers` (apache/kafka image). Default: testcontainers
   * when a Docker engine answers, else jvm; `$SKIFF_KAFKA_PROVIDER` overrides. */
  provider?: 'jvm' | 'testcontainers'
  /** Bound on the whole start, resolution included. Default 180 000 ms. */
  timeoutMs?: number
  signal?: AbortSignal
}

export interface ListenerInfo {
  /** `host:port,host:port` of every broker on this listener. */
  bootstrap: string
  brokers: string[]
  /** Kafka's security protocol for it. */
  securityProtocol: 'PLAINTEXT' | 'SASL_PLAINTEXT' | 'SSL' | 'SASL_SSL'
}

export interface TestBroker {
  nodeId: number
  /** Ports by listener kind. */
  ports: Partial<Record<ListenerKind, number>>
  running: boolean
  /** The broker's log file, where the provider has one. */
  logFile?: string
}

/** A running test cluster. Stop it when done; it is also stopped when the process exits. */
export interface KafkaCluster {
  readonly provider: 'jvm' | 'testcontainers'
  readonly version: string
  readonly clusterId: string
  /** Bootstrap of the first listener, e.g. `127.0.0.1:39092`. */
  readonly bootstrap: string
  readonly listeners: Partial<Record<ListenerKind, ListenerInfo>>
  readonly brokers: readonly TestBroker[]
  readonly saslUsers: readonly SaslUser[]
  /** PEM of the certificate TLS listeners present (self-signed for 127.0.0.1 and localhost). */
  readonly tlsCa?: string
  /** jvm provider: the broker's classpath (`lib/*`), for running Kafka's Java tools against the cluster. */
  readonly classpath?: string
  /** Stops one broker gracefully (SIGTERM, then SIGKILL after a grace period). */
  stopBroker(nodeId: number, options?: { signal?: AbortSignal }): Promise<void>
  /** Kills one broker abruptly (SIGKILL), as a crash would. */
  killBroker(nodeId: number): Promise<void>
  /** Starts a stopped or killed broker again with the same id, ports and data, and waits until it serves. */
  restartBroker(nodeId: number, options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<void>
  /** Stops every broker and removes their data. Idempotent. */
  stop(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}
