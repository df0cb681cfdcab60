import { FindCoordinator } from '../../protocol/apis/find-coordinator.js'
import { ErrorCode } from '../../protocol/error-codes.js'
import { KafkaError } from '../../protocol/kafka-error.js'
import type { Cluster } from '../cluster/cluster.js'
import type { BrokerInfo, TopicInfo } from '../cluster/metadata.js'
import { ConnectionError } from '../errors.js'
import { type AdminConnection, Call, type CallSettings, retrying } from './call.js'
import type { AdminCallOptions } from './types.js'

/** Where a request goes: a broker, named for grouping (`id`) and for messages (`label`). */
export interface Target {
  /** Requests for the same id are batched into one. */
  readonly id: string
  /** The broker's node id (-1 while unknown: a bootstrap address). */
  readonly nodeId: number
  connect(call: Call): Promise<AdminConnection>
}

/** What FindCoordinator looks up: a group's coordinator (key type 0) or a transactional id's (key type 1). */
export type CoordinatorType = 'group' | 'transaction'

interface Coordinator {
  nodeId: number
  host: string
  port: number
}

const KEY_TYPE: Record<CoordinatorType, number> = { group: 0, transaction: 1 }

/**
 * What the admin modules share: the cluster (connections, metadata), the call settings, the cache of group and
 * transaction coordinators, and what failures have taught about stale metadata. Failures are fed back through
 * `noteFailure`, which marks what the next attempt must look up again.
 */
export class AdminRuntime {
  private readonly coordinators = new Map<string, Coordinator>()
  private readonly staleTopics = new Set<string>()
  private metadataStale = false
  /** `host:port` of the last broker a connection to failed, so controller requests go elsewhere next time. */
  private unreachable: string | undefined

  constructor(
    readonly cluster: Cluster,
    readonly settings: CallSettings,
  ) {}

  /** Starts a call; the caller must `finish()` it. */
  call(operation: string, options?: AdminCallOptions): Call {
    return new Call(operation, this.settings, options)
  }

  /**
   * Runs a call made of one logical request (or a short sequence), retrying it as a whole on retriable failures
   * until the call's deadline.
   */
  async run<T>(
    operation: string,
    options: AdminCallOptions | undefined,
    attempt: (call: Call) => Promise<T>,
  ): Promise<T> {
    const call = this.call(operation, options)
    try {
      return await retrying(
        call,
        (err) => this.noteFailure(err),
        () => attempt(call),
      )
    } finally {
      call.finish()
    }
  }

  // --- targets -------------------------------------------------------------------------------------------------

  /** Any live broker (one already connected to, if any). */
  anyBroker(): Target {
    return {
      id: 'any',
      nodeId: -1,
      connect: (call) => this.cluster.anyConnection('admin', call.signal),
    }
  }

  /** The broker with node id `nodeId`. */
  broker(nodeId: number): Target {
    return {
      id: `node:${nodeId}`,
      nodeId,
      connect: (call) => this.cluster.connectionTo(nodeId, 'admin', call.signal),
    }
  }

  /**
   * Where controller requests (CreateTopics, DeleteTopics, CreatePartitions, IncrementalAlterConfigs) go: the
   * controller Metadata names. In KRaft that is a random live broker, which forwards the request to the active
   * controller (KIP-590); Kafka 3.9 and 4.x brokers both accept these requests from clients and forward them. After
   * NOT_CONTROLLER the metadata is refreshed before the next attempt.
   */
  async controller(call: Call): Promise<Target> {
    const md = this.cluster.metadata
    if (this.metadataStale || md.controllerId < 0) {
      await call.wait(md.refresh([]))
      this.metadataStale = false
    }
    const controller = md.controllerId >= 0 ? md.broker(md.controllerId) : undefined
    // A controller we just failed to reach is skipped for any broker: in KRaft every broker forwards.
    if (!controller || `${controller.host}:${controller.port}` === this.unreachable) return this.anyBroker()
    return this.broker(controller.nodeId)
  }

  // --- metadata ------------------------------------------------------------------------------------------------

  /**
   * The metadata of `names` (undefined for topics the cluster does not have), refreshing in one request those not
   * cached or marked stale by an earlier failure.
   */
  async topics(names: Iterable<string>, call: Call): Promise<Map<string, TopicInfo | undefined>> {
    const md = this.cluster.metadata
    const wanted = [...new Set(names)]
    const refresh = this.metadataStale ? wanted : wanted.filter((n) => this.staleTopics.has(n) || !md.cached(n))
    if (refresh.length > 0) {
      await call.wait(md.refresh(refresh))
      this.metadataStale = false
      for (const n of refresh) this.staleTopics.delete(n)
    }
    return new Map(wanted.map((n) => [n, md.cached(n)]))
  }

  /** Every broker of the cluster, from freshly refreshed metadata (retried within the call's deadline). */
  async brokers(call: Call): Promise<BrokerInfo[]> {
    return retrying(
      call,
      (e) => this.noteFailure(e),
      async () => {
        await call.wait(this.cluster.metadata.refresh([]))
        this.metadataStale = false
        return [...this.cluster.metadata.brokers.values()].sort((a, b) => a.nodeId - b.nodeId)
      },
    )
  }

  /** Marks a topic's metadata stale, so the next lookup asks the cluster again. */
  topicChanged(name: string): void {
    this.staleTopics.add(name)
    this.cluster.metadata.invalidate(name)
  }

  // --- coordinators --------------------------------------------------------------------------------------------

  /**
   * The coordinators of `keys` (cached ones from the cache, the others with one FindCoordinator, batched on v4+,
   * KIP-699), or the Kafka error FindCoordinator gave for a key (COORDINATOR_NOT_AVAILABLE while `__consumer_offsets`
   * or `__transaction_state` is being created, an authorization failure, ...).
   */
  async findCoordinators(
    type: CoordinatorType,
    keys: readonly string[],
    call: Call,
  ): Promise<Map<string, Target | KafkaError>> {
    const out = new Map<string, Target | KafkaError>()
    const missing: string[] = []
    for (const key of new Set(keys)) {
      const c = this.coordinators.get(`${type}:${key}`)
      if (c) out.set(key, this.coordinatorTarget(c))
      else missing.push(key)
    }
    if (missing.length === 0) return out
    const conn = await this.cluster.anyConnection('admin', call.signal)
    const keyType = KEY_TYPE[type]
    const found: Array<{ key: string; errorCode: number; errorMessage: string | null } & Coordinator> = []
    if (conn.versionFor(FindCoordinator) >= 4) {
      const res = await call.request(conn, FindCoordinator, { keyType, coordinatorKeys: missing })
      found.push(...res.coordinators)
    } else {
      const answers = await Promise.all(missing.map((key) => call.request(conn, FindCoordinator, { key, keyType })))
      for (const [i, r] of answers.entries()) found.push({ ...r, key: missing[i]! })
    }
    for (const c of found) {
      if (c.errorCode !== ErrorCode.NONE) {
        const context = type === 'group' ? { group: c.key } : { transactionalId: c.key }
        out.set(
          c.key,
          KafkaError.fromCode(c.errorCode, {
            api: 'FindCoordinator',
            broker: conn.broker,
            errorMessage: c.errorMessage,
            ...context,
          }),
        )
        continue
      }
      const coordinator = { nodeId: c.nodeId, host: c.host, port: c.port }
      this.coordinators.set(`${type}:${c.key}`, coordinator)
      out.set(c.key, this.coordinatorTarget(coordinator))
    }
    for (const key of missing) {
      if (!out.has(key)) {
        out.set(
          key,
          KafkaError.fromCode(ErrorCode.COORDINATOR_NOT_AVAILABLE, {
            api: 'FindCoordinator',
            broker: conn.broker,
            errorMessage: 'the FindCoordinator response did not mention this key',
          }),
        )
      }
    }
    return out
  }

  /** The coordinator of one key; throws its FindCoordinator error (retriable or not). */
  async coordinator(type: CoordinatorType, key: string, call: Call): Promise<Target> {
    const c = (await this.findCoordinators(type, [key], call)).get(key)!
    if (c instanceof KafkaError) throw c
    return c
  }

  private coordinatorTarget(c: Coordinator): Target {
    return {
      id: `${c.host}:${c.port}`,
      nodeId: c.nodeId,
      connect: (call) => this.cluster.pool.get({ host: c.host, port: c.port }, 'admin', call.signal),
    }
  }

  // --- learning from failures ----------------------------------------------------------------------------------

  /**
   * Called with every retriable failure before the attempt that follows it: a Kafka error flagged
   * `refreshMetadata` makes the topic it names (or the whole metadata, e.g. NOT_CONTROLLER) stale; one flagged
   * `findCoordinator` (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE) drops the cached coordinator of the group or
   * transactional id it names; a broken connection drops every coordinator cached at that broker.
   */
  noteFailure(err: unknown): void {
    if (err instanceof KafkaError) {
      const { topic, group, transactionalId } = err.context
      if (err.refreshMetadata) {
        if (topic !== undefined) this.topicChanged(topic)
        // NOT_CONTROLLER names the topic it refused, but what moved is the controller.
        if (topic === undefined || err.code === ErrorCode.NOT_CONTROLLER) this.metadataStale = true
      }
      if (err.findCoordinator) {
        if (group !== undefined) this.coordinators.delete(`group:${group}`)
        if (transactionalId !== undefined) this.coordinators.delete(`transaction:${transactionalId}`)
      }
    } else if (err instanceof ConnectionError) {
      this.metadataStale = true
      this.unreachable = err.broker
      for (const [key, c] of this.coordinators) if (`${c.host}:${c.port}` === err.broker) this.coordinators.delete(key)
    }
  }
}
