import { Cluster } from '../cluster/cluster.js'
import type { ClientOptions } from '../cluster/options.js'
import { ConfigError, ConnectionError } from '../errors.js'
import {
  type BrokerApiVersions,
  type ClusterDescription,
  type DescribeClusterOptions,
  describeApiVersions,
  describeCluster,
} from './cluster-info.js'
import {
  type AlterConfigsOptions,
  type AlterConfigsResource,
  type AlteredConfigs,
  type ConfigDescription,
  type DescribeConfigsOptions,
  type DescribeConfigsResource,
  describeConfigs,
  incrementalAlterConfigs,
} from './configs.js'
import {
  alterGroupOffsets,
  type CommittedGroupOffset,
  type DeletedGroup,
  type DeletedGroupOffset,
  type DescribeGroupsOptions,
  deleteGroupOffsets,
  deleteGroups,
  describeGroups,
  type GroupDescription,
  type GroupListing,
  type GroupOffset,
  type GroupOffsetToCommit,
  type ListGroupOffsetsOptions,
  type ListGroupsOptions,
  listGroupOffsets,
  listGroups,
} from './groups.js'
import { type ListedOffset, type ListOffsetsOptions, listOffsets, type OffsetQuery } from './offsets.js'
import { type DeletedRecords, deleteRecords, type RecordsToDelete } from './records.js'
import { AdminRuntime } from './runtime.js'
import {
  type CreatedPartitions,
  type CreatedTopic,
  type CreatePartitionsOptions,
  type CreateTopicsOptions,
  createPartitions,
  createTopics,
  type DeletedTopic,
  type DescribeTopicsOptions,
  deleteTopics,
  describeTopics,
  type ListTopicsOptions,
  listTopics,
  type NewPartitions,
  type NewTopic,
  type TopicDescription,
  type TopicListing,
  type TopicRef,
} from './topics.js'
import {
  describeProducers,
  describeTransactions,
  type ListTransactionsOptions,
  listTransactions,
  type PartitionProducers,
  type TransactionDescription,
  type TransactionListing,
} from './transactions.js'
import type { AdminCallOptions, TopicPartition } from './types.js'

/** Admin-only settings. */
export interface AdminSettings {
  /** Timeout of a call that names none, retries included. Default 60 000 (Kafka's `default.api.timeout.ms`). */
  defaultTimeoutMs?: number
  /** First delay before retrying a retriable failure; doubles per retry, with jitter. Default 100. */
  retryBackoffMs?: number
  /** Cap of the retry delay. Default 1 000. */
  retryBackoffMaxMs?: number
}

/**
 * How to build an admin client: connection options (it then owns its own cluster connections, closed by
 * `close()`), or `{ cluster }` to share the connections and metadata of an existing `Cluster` (left open by
 * `close()`).
 */
export type AdminOptions = (ClientOptions | { cluster: Cluster }) & AdminSettings

/**
 * Kafka's admin operations: topics, configs, records, offsets, groups, the cluster, transactions.
 *
 * Every call takes `timeoutMs` (the whole call, retries included) and `signal`. Calls about several items
 * (topics, partitions, groups, ...) resolve with one result per item, in the order given, each either its outcome
 * or the `KafkaError` Kafka gave for that item alone (`if (r.error) ...`), so one bad topic does not hide the
 * others. Retriable failures (a moved leader or coordinator, a coordinator still loading, NOT_CONTROLLER, a
 * dropped connection) are retried with backoff, after refreshing metadata or finding the coordinator again, until
 * the timeout. A call rejects only when it fails as a whole: invalid arguments (`ConfigError`), the caller's abort
 * (`AbortedError`), no broker answering in time (`AdminTimeoutError`), or a group-level error of a one-group call.
 *
 * ```ts
 * const admin = new Admin({ bootstrap: 'localhost:9092' })
 * const [orders] = await admin.createTopics([{ name: 'orders', partitions: 6, configs: { 'retention.ms': '86400000' } }])
 * if (orders.error) console.error(orders.error.errorName)
 * await admin.close()
 * ```
 */
export class Admin {
  /** The cluster connections and metadata this admin client uses. */
  readonly cluster: Cluster
  private readonly rt: AdminRuntime
  private readonly ownsCluster: boolean
  private closed = false

  constructor(options: AdminOptions) {
    if (!options || typeof options !== 'object') throw new ConfigError('admin options are required')
    const num = (name: keyof AdminSettings, def: number): number => {
      const v = options[name]
      if (v === undefined) return def
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
        throw new ConfigError(`${name} must be a positive number, got ${String(v)}`)
      return v
    }
    const settings = {
      defaultTimeoutMs: num('defaultTimeoutMs', 60_000),
      retryBackoffMs: num('retryBackoffMs', 100),
      retryBackoffMaxMs: num('retryBackoffMaxMs', 1_000),
    }
    if ('cluster' in options && options.cluster !== undefined) {
      if (!(options.cluster instanceof Cluster)) throw new ConfigError('cluster must be a Cluster')
      this.cluster = options.cluster
      this.ownsCluster = false
    } else {
      this.cluster = new Cluster(options as ClientOptions)
      this.ownsCluster = true
    }
    this.rt = new AdminRuntime(this.cluster, { ...settings, requestTimeoutMs: this.cluster.options.requestTimeoutMs })
  }

  // --- topics --------------------------------------------------------------------------------------------------

  /**
   * Creates topics (CreateTopics). By default resolves once every partition of the new topics has a leader in the
   * brokers' metadata (`waitForLeaders`). An existing topic reports TOPIC_ALREADY_EXISTS for itself alone.
   */
  createTopics(topics: readonly NewTopic[], options?: CreateTopicsOptions): Promise<CreatedTopic[]> {
    return this.open(() => createTopics(this.rt, topics, options))
  }

  /** Deletes topics by name or by `{ topicId }` (DeleteTopics); the brokers finish deleting asynchronously. */
  deleteTopics(topics: readonly TopicRef[], options?: AdminCallOptions): Promise<DeletedTopic[]> {
    return this.open(() => deleteTopics(this.rt, topics, options))
  }

  /** The cluster's topics, ordered by name; internal topics only with `{ internal: true }`. */
  listTopics(options?: ListTopicsOptions): Promise<TopicListing[]> {
    return this.open(() => listTopics(this.rt, options))
  }

  /** Describes topics: ids, partitions, leaders, replicas, ISR, and optionally the caller's authorized operations. */
  describeTopics(names: readonly string[], options?: DescribeTopicsOptions): Promise<TopicDescription[]> {
    return this.open(() => describeTopics(this.rt, names, options))
  }

  /** Grows topics to a new total partition count (CreatePartitions). */
  createPartitions(topics: readonly NewPartitions[], options?: CreatePartitionsOptions): Promise<CreatedPartitions[]> {
    return this.open(() => createPartitions(this.rt, topics, options))
  }

  // --- configs -------------------------------------------------------------------------------------------------

  /** Describes configurations of topics, brokers, broker loggers, client-metrics subscriptions or groups. */
  describeConfigs(
    resources: readonly DescribeConfigsResource[],
    options?: DescribeConfigsOptions,
  ): Promise<ConfigDescription[]> {
    return this.open(() => describeConfigs(this.rt, resources, options))
  }

  /** Sets, deletes, appends to or subtracts from configuration entries (IncrementalAlterConfigs, KIP-339). */
  incrementalAlterConfigs(
    resources: readonly AlterConfigsResource[],
    options?: AlterConfigsOptions,
  ): Promise<AlteredConfigs[]> {
    return this.open(() => incrementalAlterConfigs(this.rt, resources, options))
  }

  // --- records and offsets -------------------------------------------------------------------------------------

  /** Deletes records below an offset in each partition (DeleteRecords at each leader); -1 for the high watermark. */
  deleteRecords(partitions: readonly RecordsToDelete[], options?: AdminCallOptions): Promise<DeletedRecords[]> {
    return this.open(() => deleteRecords(this.rt, partitions, options))
  }

  /** Finds offsets: earliest, latest, max-timestamp, or by timestamp (ListOffsets at each leader). */
  listOffsets(queries: readonly OffsetQuery[], options?: ListOffsetsOptions): Promise<ListedOffset[]> {
    return this.open(() => listOffsets(this.rt, queries, options))
  }

  // --- groups --------------------------------------------------------------------------------------------------

  /** Lists the groups of every broker, optionally filtered by state and type. */
  listGroups(options?: ListGroupsOptions): Promise<GroupListing> {
    return this.open(() => listGroups(this.rt, options))
  }

  /** Describes classic and consumer-type (KIP-848) groups, with members and their assignments. */
  describeGroups(groupIds: readonly string[], options?: DescribeGroupsOptions): Promise<GroupDescription[]> {
    return this.open(() => describeGroups(this.rt, groupIds, options))
  }

  /** Deletes empty groups with their committed offsets. */
  deleteGroups(groupIds: readonly string[], options?: AdminCallOptions): Promise<DeletedGroup[]> {
    return this.open(() => deleteGroups(this.rt, groupIds, options))
  }

  /** A group's committed offsets, optionally only of some topics. */
  listGroupOffsets(groupId: string, options?: ListGroupOffsetsOptions): Promise<GroupOffset[]> {
    return this.open(() => listGroupOffsets(this.rt, groupId, options))
  }

  /** Sets an empty group's committed offsets (creating the group's offsets if it has none). */
  alterGroupOffsets(
    groupId: string,
    offsets: readonly GroupOffsetToCommit[],
    options?: AdminCallOptions,
  ): Promise<CommittedGroupOffset[]> {
    return this.open(() => alterGroupOffsets(this.rt, groupId, offsets, options))
  }

  /** Deletes a group's committed offsets of some partitions (OffsetDelete). */
  deleteGroupOffsets(
    groupId: string,
    partitions: readonly TopicPartition[],
    options?: AdminCallOptions,
  ): Promise<DeletedGroupOffset[]> {
    return this.open(() => deleteGroupOffsets(this.rt, groupId, partitions, options))
  }

  // --- cluster -------------------------------------------------------------------------------------------------

  /** The cluster id, the controller brokers report, and the brokers. */
  describeCluster(options?: DescribeClusterOptions): Promise<ClusterDescription> {
    return this.open(() => describeCluster(this.rt, options))
  }

  /** Each broker's API version ranges (and the version Skiff would use) and finalized features. */
  describeApiVersions(options?: AdminCallOptions): Promise<BrokerApiVersions[]> {
    return this.open(() => describeApiVersions(this.rt, options))
  }

  // --- transactions --------------------------------------------------------------------------------------------

  /** Lists transactions across every broker, optionally filtered by state, producer id, duration, id pattern. */
  listTransactions(options?: ListTransactionsOptions): Promise<TransactionListing> {
    return this.open(() => listTransactions(this.rt, options))
  }

  /** Describes transactions by transactional id, at their coordinators. */
  describeTransactions(
    transactionalIds: readonly string[],
    options?: AdminCallOptions,
  ): Promise<TransactionDescription[]> {
    return this.open(() => describeTransactions(this.rt, transactionalIds, options))
  }

  /** The active producers of partitions, as each partition's leader knows them. */
  describeProducers(partitions: readonly TopicPartition[], options?: AdminCallOptions): Promise<PartitionProducers[]> {
    return this.open(() => describeProducers(this.rt, partitions, options))
  }

  /** Stops the admin client; closes the cluster connections if it opened them itself. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.ownsCluster) await this.cluster.close()
  }

  private async open<T>(run: () => Promise<T>): Promise<T> {
    if (this.closed)
      throw new ConnectionError(
        'the admin client is closed',
        this.cluster.options.bootstrap.map((b) => `${b.host}:${b.port}`).join(','),
      )
    return run()
  }
}
