import { ErrorCode } from '../../protocol/error-codes.js'
import { KafkaError } from '../../protocol/kafka-error.js'
import type { Connection } from '../connection.js'
import { ConnectionError } from '../errors.js'
import { MetadataCache } from './metadata.js'
import { type ClientOptions, type ResolvedClientOptions, resolveClientOptions } from './options.js'
import { type ConnectionKind, ConnectionPool } from './pool.js'

/**
 * One Kafka cluster as a client sees it: options, a connection pool and the metadata cache. Producers, consumers
 * and the admin client each own one (or share one, when given).
 */
export class Cluster {
  readonly options: ResolvedClientOptions
  readonly pool: ConnectionPool
  readonly metadata: MetadataCache
  private closed = false

  constructor(options: ClientOptions) {
    this.options = resolveClientOptions(options)
    this.pool = new ConnectionPool(this.options)
    this.metadata = new MetadataCache(
      (signal) => this.anyConnection('metadata', signal),
      this.options.metadataMaxAgeMs,
      this.options.metadataMinRefreshIntervalMs,
    )
  }

  /**
   * A connection to any live broker: the known brokers from metadata first, the bootstrap list when none is known
   * (or none answers) — so a cluster whose brokers all moved is found again through the bootstrap addresses.
   */
  async anyConnection(kind: ConnectionKind, signal?: AbortSignal): Promise<Connection> {
    this.assertOpen()
    const known = [...this.metadata.brokers.values()]
    if (known.length > 0) {
      try {
        return await this.pool.getAny(known, kind, signal)
      } catch (err) {
        if (signal?.aborted) throw err
      }
    }
    return this.pool.getAny(this.options.bootstrap, kind, signal)
  }

  /** A connection of `kind` to broker `nodeId`, refreshing metadata once if the broker is unknown. */
  async connectionTo(nodeId: number, kind: ConnectionKind, signal?: AbortSignal): Promise<Connection> {
    this.assertOpen()
    let broker = this.metadata.broker(nodeId)
    if (!broker) {
      await this.metadata.refresh([], signal)
      broker = this.metadata.broker(nodeId)
      if (!broker) throw new ConnectionError(`broker ${nodeId} is not in the cluster metadata`, `node ${nodeId}`)
    }
    return this.pool.get(broker, kind, signal)
  }

  /** The leader of a partition and a connection to it. Throws a retriable KafkaError while there is no leader. */
  async leaderOf(topic: string, partition: number, kind: ConnectionKind, signal?: AbortSignal) {
    const info = await this.metadata.topic(topic, signal)
    const p = info.partitions[partition]
    if (!p) {
      throw KafkaError.fromCode(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, {
        api: 'Metadata',
        topic,
        partition,
        errorMessage: `${topic} has ${info.partitions.length} partitions`,
      })
    }
    if (p.leader < 0) {
      this.metadata.invalidate(topic)
      throw KafkaError.fromCode(ErrorCode.LEADER_NOT_AVAILABLE, { api: 'Metadata', topic, partition })
    }
    return {
      leader: p.leader,
      leaderEpoch: p.leaderEpoch,
      topicId: info.topicId,
      connection: await this.connectionTo(p.leader, kind, signal),
    }
  }

  get isClosed(): boolean {
    return this.closed
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.pool.close()
  }

  private assertOpen(): void {
    if (this.closed)
      throw new ConnectionError(
        'the client is closed',
        this.options.bootstrap.map((b) => `${b.host}:${b.port}`).join(','),
      )
  }
}
