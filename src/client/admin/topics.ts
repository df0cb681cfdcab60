import { setTimeout as sleep } from 'node:timers/promises'
import { CreatePartitions } from '../../protocol/apis/create-partitions.js'
import { CreateTopics } from '../../protocol/apis/create-topics.js'
import { DeleteTopics } from '../../protocol/apis/delete-topics.js'
import { Metadata } from '../../protocol/apis/metadata.js'
import { ErrorCode } from '../../protocol/error-codes.js'
import { KafkaError } from '../../protocol/kafka-error.js'
import { ZERO_UUID } from '../../protocol/uuid.js'
import { ConfigError } from '../errors.js'
import { type AdminConnection, type Call, isRetriable } from './call.js'
import { type ConfigEntry, configSource } from './configs.js'
import { fanOut } from './fan-out.js'
import { firstDuplicate, routeAllTo } from './routing.js'
import type { AdminRuntime } from './runtime.js'
import { type AclOperation, type AdminCallOptions, decodeAuthorizedOperations, type Outcome } from './types.js'

/** A topic to create. */
export interface NewTopic {
  name: string
  /** Default: the broker's `num.partitions`. Leave out when giving `assignments`. */
  partitions?: number
  /** Default: the broker's `default.replication.factor`. Leave out when giving `assignments`. */
  replicationFactor?: number
  /**
   * Explicit replica placement: `assignments[i]` lists the broker ids holding partition `i`, the first being the
   * preferred leader.
   */
  assignments?: readonly (readonly number[])[]
  /** Topic configs, e.g. `{ 'retention.ms': '3600000', 'cleanup.policy': 'compact' }`. */
  configs?: Readonly<Record<string, string>>
}

/** Options of `createTopics`. */
export interface CreateTopicsOptions extends AdminCallOptions {
  /** Validate the request (names, counts, configs, policies) without creating anything. Default false. */
  validateOnly?: boolean
  /**
   * Resolve only once the brokers' metadata shows every partition of the new topics with a leader (within the
   * call's timeout), so a produce or describe straight after does not race the metadata propagation. Default true.
   */
  waitForLeaders?: boolean
}

/** A created topic (as the controller reports it), or why it was not created. */
export type CreatedTopic = Outcome<
  { name: string },
  {
    /** The new topic's id (CreateTopics v7+). */
    topicId: string | undefined
    /** Partition count and replication factor as created (-1 if the broker did not say, before CreateTopics v5). */
    partitions: number
    replicationFactor: number
    /** The topic's resulting configuration (CreateTopics v5+; empty before). */
    configs: ConfigEntry[]
  }
>

/** A topic to delete: by name, or by topic id (KIP-516). */
export type TopicRef = string | { topicId: string }

/** A deleted topic, or why it was not deleted; names the topic as given, plus what the broker told. */
export type DeletedTopic = Outcome<{ name?: string; topicId?: string }>

/** A topic in a listing. */
export interface TopicListing {
  name: string
  topicId: string
  /** An internal topic, e.g. `__consumer_offsets`. */
  internal: boolean
  partitions: number
}

/** Options of `listTopics`. */
export interface ListTopicsOptions extends AdminCallOptions {
  /** Include internal topics (`__consumer_offsets`, `__transaction_state`, ...). Default false. */
  internal?: boolean
}

/** Options of `describeTopics`. */
export interface DescribeTopicsOptions extends AdminCallOptions {
  /** Also report what the caller may do with each topic (KIP-430). Default false. */
  includeAuthorizedOperations?: boolean
}

/** One partition of a described topic. */
export interface PartitionDescription {
  partition: number
  /** The leader's node id; null while there is none (an election under way, or every replica offline). */
  leader: number | null
  leaderEpoch: number
  replicas: number[]
  /** In-sync replicas. */
  isr: number[]
  /** Replicas on offline log directories or brokers. */
  offline: number[]
  /** Set when the partition itself is unhealthy (e.g. LEADER_NOT_AVAILABLE); the description is still given. */
  error?: KafkaError
}

/** A described topic, or why it could not be (e.g. UNKNOWN_TOPIC_OR_PARTITION). */
export type TopicDescription = Outcome<
  { name: string },
  {
    topicId: string
    internal: boolean
    /** Ordered by partition number. */
    partitions: PartitionDescription[]
    /** Present when asked for with `includeAuthorizedOperations`. */
    authorizedOperations?: AclOperation[]
  }
>

/** Grow a topic to `count` partitions in total. */
export interface NewPartitions {
  topic: string
  /** The new total, not the number to add; must be larger than the current count. */
  count: number
  /** Replicas of each new partition (`assignments[0]` for the first new one), preferred leader first. */
  assignments?: readonly (readonly number[])[]
}

/** Options of `createPartitions`. */
export interface CreatePartitionsOptions extends AdminCallOptions {
  /** Validate without creating. Default false. */
  validateOnly?: boolean
  /** Resolve once metadata shows the new partitions with leaders (within the timeout). Default true. */
  waitForLeaders?: boolean
}

/** A grown topic, or why it was not grown (e.g. INVALID_PARTITIONS for a count not above the current one). */
export type CreatedPartitions = Outcome<{ topic: string }>

/**
 * Errors on which a controller mutation is safely retried: the request went to a broker that is not (or no longer)
 * the controller, or the controller's mutation quota refused it for now (KIP-599). Other retriable codes (e.g.
 * REQUEST_TIMED_OUT) are reported: the change may have happened.
 */
const retryMutation = (e: KafkaError) =>
  e.code === ErrorCode.NOT_CONTROLLER || e.code === ErrorCode.THROTTLING_QUOTA_EXCEEDED

/**
 * Creates topics; one result per topic, in the order given. Only NOT_CONTROLLER and THROTTLING_QUOTA_EXCEEDED are
 * retried per topic; a request whose connection broke is sent again, so a topic it did create may then report
 * TOPIC_ALREADY_EXISTS, as with Kafka's own admin client.
 */
export async function createTopics(
  rt: AdminRuntime,
  topics: readonly NewTopic[],
  options: CreateTopicsOptions = {},
): Promise<CreatedTopic[]> {
  for (const t of topics) {
    if (typeof t.name !== 'string' || t.name === '') throw new ConfigError('createTopics: a topic needs a name')
    if (t.assignments) {
      if (t.partitions !== undefined && t.partitions !== t.assignments.length)
        throw new ConfigError(
          `createTopics: ${t.name} has ${t.assignments.length} assignments but partitions ${t.partitions}`,
        )
      if (t.replicationFactor !== undefined)
        throw new ConfigError(`createTopics: ${t.name}: give assignments or a replication factor, not both`)
    }
  }
  const dup = firstDuplicate(topics, (t) => t.name)
  if (dup !== undefined) throw new ConfigError(`createTopics: ${dup} is listed twice`)
  const validateOnly = options.validateOnly ?? false
  const call = rt.call('createTopics', options)
  try {
    const results = await fanOut(rt, call, topics, {
      route: async (items, c) => routeAllTo(await rt.controller(c), items),
      send: async (conn, items) => {
        const res = await call.request(conn, CreateTopics, {
          topics: items.map((t) => ({
            name: t.name,
            numPartitions: t.assignments ? -1 : (t.partitions ?? -1),
            replicationFactor: t.assignments ? -1 : (t.replicationFactor ?? -1),
            assignments: (t.assignments ?? []).map((brokerIds, partitionIndex) => ({
              partitionIndex,
              brokerIds: [...brokerIds],
            })),
            configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
          })),
          timeoutMs: call.requestTimeoutMs(),
          validateOnly,
        })
        const byName = new Map(res.topics.map((t) => [t.name, t]))
        const out = new Map<NewTopic, CreatedTopic>()
        for (const item of items) {
          const t = byName.get(item.name)
          if (!t) continue
          if (t.errorCode !== ErrorCode.NONE) {
            out.set(item, {
              name: item.name,
              error: KafkaError.fromCode(t.errorCode, {
                api: 'CreateTopics',
                broker: conn.broker,
                topic: item.name,
                errorMessage: t.errorMessage,
              }),
            })
            continue
          }
          out.set(item, {
            name: item.name,
            topicId: t.topicId && t.topicId !== ZERO_UUID ? t.topicId : undefined,
            partitions: t.numPartitions,
            replicationFactor: t.replicationFactor,
            configs: (t.configs ?? []).map((c) => ({
              name: c.name,
              value: c.value,
              source: configSource(c.configSource),
              isDefault: configSource(c.configSource) === 'default',
              readOnly: c.readOnly,
              sensitive: c.isSensitive,
            })),
          })
        }
        return out
      },
      fail: (item, error) => ({ name: item.name, error }),
      retriable: retryMutation,
    })
    if (!validateOnly) {
      const created = results.filter((r) => !r.error).map((r) => r.name)
      for (const name of created) rt.topicChanged(name)
      if (options.waitForLeaders ?? true) {
        const expected = new Map(results.flatMap((r) => (r.error ? [] : [[r.name, r.partitions] as const])))
        await awaitLeaders(rt, call, expected)
      }
    }
    return results
  } finally {
    call.finish()
  }
}

/**
 * Deletes topics, by name or by id (by id needs DeleteTopics v6, Kafka 2.8+; older brokers get the name from
 * metadata first). One result per topic, in the order given. Deletion completes asynchronously on the brokers.
 */
export async function deleteTopics(
  rt: AdminRuntime,
  topics: readonly TopicRef[],
  options: AdminCallOptions = {},
): Promise<DeletedTopic[]> {
  const items = topics.map((t): TopicItem => (typeof t === 'string' ? { name: t } : { topicId: t.topicId }))
  for (const i of items) {
    if (i.name === '' || (i.name === undefined && (typeof i.topicId !== 'string' || i.topicId === '')))
      throw new ConfigError('deleteTopics: a topic needs a name or a topic id')
  }
  const dup = firstDuplicate(items, (i) => i.name ?? `id ${i.topicId}`)
  if (dup !== undefined) throw new ConfigError(`deleteTopics: ${dup} is listed twice`)
  const call = rt.call('deleteTopics', options)
  try {
    const results = await fanOut(rt, call, items, {
      route: async (pending, c) => routeAllTo(await rt.controller(c), pending),
      send: async (conn, batch) => sendDeleteTopics(rt, call, conn, batch),
      fail: (item, error): DeletedTopic => ({ ...item, error }),
      retriable: retryMutation,
    })
    for (const r of results) {
      if (r.error || r.name === undefined) continue
      rt.topicChanged(r.name)
      rt.cluster.metadata.forget(r.name)
    }
    return results
  } finally {
    call.finish()
  }
}

/** A topic to delete, as given: a name or an id. */
type TopicItem = { name?: string; topicId?: string }

async function sendDeleteTopics(
  rt: AdminRuntime,
  call: Call,
  conn: AdminConnection,
  batch: readonly TopicItem[],
): Promise<Map<TopicItem, DeletedTopic>> {
  const out = new Map<TopicItem, DeletedTopic>()
  const version = conn.versionFor(DeleteTopics)
  const context = { api: 'DeleteTopics', broker: conn.broker }
  // Before v6 topics can only be named: look the ids up in the cluster's metadata.
  const nameOf = new Map<TopicItem, string>()
  if (version < 6 && batch.some((i) => i.name === undefined)) await call.wait(rt.cluster.metadata.refresh(null))
  for (const item of batch) {
    const name = item.name ?? (version < 6 ? rt.cluster.metadata.topicNameOf(item.topicId!) : undefined)
    if (name !== undefined) nameOf.set(item, name)
    else if (version < 6) {
      out.set(item, {
        ...item,
        error: KafkaError.fromCode(ErrorCode.UNKNOWN_TOPIC_ID, { ...context, topicId: item.topicId }),
      })
    }
  }
  const sendable = batch.filter((i) => !out.has(i))
  if (sendable.length === 0) return out
  const res = await call.request(
    conn,
    DeleteTopics,
    version >= 6
      ? {
          topics: sendable.map((i) =>
            i.name !== undefined ? { name: i.name, topicId: ZERO_UUID } : { name: null, topicId: i.topicId! },
          ),
          timeoutMs: call.requestTimeoutMs(),
        }
      : { topicNames: sendable.map((i) => nameOf.get(i)!), timeoutMs: call.requestTimeoutMs() },
    version,
  )
  for (const item of sendable) {
    const r =
      version >= 6 && item.name === undefined
        ? res.responses.find((x) => x.topicId === item.topicId)
        : res.responses.find((x) => x.name === nameOf.get(item))
    if (!r) continue
    const name = r.name ?? nameOf.get(item)
    const topicId = r.topicId && r.topicId !== ZERO_UUID ? r.topicId : item.topicId
    const id = { ...(name !== undefined ? { name } : {}), ...(topicId !== undefined ? { topicId } : {}) }
    out.set(
      item,
      r.errorCode === ErrorCode.NONE
        ? id
        : {
            ...id,
            error: KafkaError.fromCode(r.errorCode, {
              ...context,
              ...(name !== undefined ? { topic: name } : { topicId }),
              errorMessage: r.errorMessage,
            }),
          },
    )
  }
  return out
}

/** Lists the cluster's topics (without internal ones unless asked), ordered by name. */
export async function listTopics(rt: AdminRuntime, options: ListTopicsOptions = {}): Promise<TopicListing[]> {
  return rt.run('listTopics', options, async (call) => {
    const conn = await rt.cluster.anyConnection('admin', call.signal)
    const res = await call.request(conn, Metadata, { topics: null, allowAutoTopicCreation: false })
    if (res.errorCode) throw KafkaError.fromCode(res.errorCode, { api: 'Metadata', broker: conn.broker })
    return res.topics
      .filter((t) => t.errorCode === ErrorCode.NONE && t.name !== null && (options.internal || !t.isInternal))
      .map((t) => ({ name: t.name!, topicId: t.topicId, internal: t.isInternal, partitions: t.partitions.length }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  })
}

/**
 * Describes topics: partitions, leaders, replicas, ISR, topic ids. A topic still being created (LEADER_NOT_AVAILABLE)
 * is asked again until the timeout; an unknown one reports UNKNOWN_TOPIC_OR_PARTITION at once.
 */
export async function describeTopics(
  rt: AdminRuntime,
  names: readonly string[],
  options: DescribeTopicsOptions = {},
): Promise<TopicDescription[]> {
  const call = rt.call('describeTopics', options)
  try {
    return await fanOut(rt, call, [...new Set(names)], {
      route: async (items) => routeAllTo(rt.anyBroker(), items),
      send: async (conn, items) => {
        const res = await call.request(conn, Metadata, {
          topics: items.map((name) => ({ name })),
          allowAutoTopicCreation: false,
          includeTopicAuthorizedOperations: options.includeAuthorizedOperations ?? false,
        })
        if (res.errorCode) throw KafkaError.fromCode(res.errorCode, { api: 'Metadata', broker: conn.broker })
        const out = new Map<string, TopicDescription>()
        for (const t of res.topics) {
          if (t.name === null || !items.includes(t.name)) continue
          const name = t.name
          const context = { api: 'Metadata', broker: conn.broker, topic: name }
          if (t.errorCode !== ErrorCode.NONE) {
            out.set(name, { name, error: KafkaError.fromCode(t.errorCode, context) })
            continue
          }
          const partitions = t.partitions
            .map(
              (p): PartitionDescription => ({
                partition: p.partitionIndex,
                leader: p.leaderId >= 0 ? p.leaderId : null,
                leaderEpoch: p.leaderEpoch,
                replicas: p.replicaNodes,
                isr: p.isrNodes,
                offline: p.offlineReplicas,
                ...(p.errorCode
                  ? { error: KafkaError.fromCode(p.errorCode, { ...context, partition: p.partitionIndex }) }
                  : {}),
              }),
            )
            .sort((a, b) => a.partition - b.partition)
          const ops = decodeAuthorizedOperations(t.topicAuthorizedOperations)
          out.set(name, {
            name,
            topicId: t.topicId,
            internal: t.isInternal,
            partitions,
            ...(options.includeAuthorizedOperations && ops ? { authorizedOperations: ops } : {}),
          })
        }
        return out
      },
      fail: (name, error) => ({ name, error }),
      retriable: (e) => e.code === ErrorCode.LEADER_NOT_AVAILABLE,
    })
  } finally {
    call.finish()
  }
}

/** Adds partitions to topics (CreatePartitions); one result per topic, in the order given. */
export async function createPartitions(
  rt: AdminRuntime,
  topics: readonly NewPartitions[],
  options: CreatePartitionsOptions = {},
): Promise<CreatedPartitions[]> {
  for (const t of topics) {
    if (!Number.isInteger(t.count) || t.count < 1)
      throw new ConfigError(`createPartitions: ${t.topic}: count must be a positive integer, got ${t.count}`)
  }
  const dup = firstDuplicate(topics, (t) => t.topic)
  if (dup !== undefined) throw new ConfigError(`createPartitions: ${dup} is listed twice`)
  const validateOnly = options.validateOnly ?? false
  const call = rt.call('createPartitions', options)
  try {
    const results = await fanOut(rt, call, topics, {
      route: async (items, c) => routeAllTo(await rt.controller(c), items),
      send: async (conn, items) => {
        const res = await call.request(conn, CreatePartitions, {
          topics: items.map((t) => ({
            name: t.topic,
            count: t.count,
            assignments: t.assignments ? t.assignments.map((brokerIds) => ({ brokerIds: [...brokerIds] })) : null,
          })),
          timeoutMs: call.requestTimeoutMs(),
          validateOnly,
        })
        const byName = new Map(res.results.map((r) => [r.name, r]))
        const out = new Map<NewPartitions, CreatedPartitions>()
        for (const item of items) {
          const r = byName.get(item.topic)
          if (!r) continue
          const error = r.errorCode
            ? KafkaError.fromCode(r.errorCode, {
                api: 'CreatePartitions',
                broker: conn.broker,
                topic: item.topic,
                errorMessage: r.errorMessage,
              })
            : undefined
          out.set(item, error ? { topic: item.topic, error } : { topic: item.topic })
        }
        return out
      },
      fail: (item, error) => ({ topic: item.topic, error }),
      retriable: retryMutation,
    })
    if (!validateOnly) {
      const grown = topics.filter((_, i) => !results[i]!.error)
      for (const t of grown) rt.topicChanged(t.topic)
      if (options.waitForLeaders ?? true) await awaitLeaders(rt, call, new Map(grown.map((t) => [t.topic, t.count])))
    }
    return results
  } finally {
    call.finish()
  }
}

/**
 * Polls Metadata until each topic shows `count` partitions (any count when -1), every one with a leader, or the
 * call's deadline passes. Best effort: the change has been made either way, so running out of time or failing to
 * reach a broker here is not an error; the caller's abort is.
 */
async function awaitLeaders(rt: AdminRuntime, call: Call, expected: ReadonlyMap<string, number>): Promise<void> {
  let waiting = [...expected.keys()]
  while (waiting.length > 0 && !call.expired) {
    try {
      const conn = await rt.cluster.anyConnection('admin', call.signal)
      const res = await call.request(conn, Metadata, {
        topics: waiting.map((name) => ({ name })),
        allowAutoTopicCreation: false,
      })
      const ready = new Set(
        res.topics
          .filter((t) => {
            const count = expected.get(t.name ?? '')
            return (
              t.errorCode === ErrorCode.NONE &&
              t.partitions.length > 0 &&
              (count === undefined || count < 0 || t.partitions.length === count) &&
              t.partitions.every((p) => p.leaderId >= 0)
            )
          })
          .map((t) => t.name),
      )
      waiting = waiting.filter((n) => !ready.has(n))
    } catch (err) {
      if (call.aborted) call.checkpoint()
      if (!isRetriable(err) && !call.expired) throw err
    }
    if (waiting.length > 0 && !call.expired)
      await sleep(Math.min(50, call.remainingMs), undefined, { signal: call.signal }).catch(() => {})
  }
  if (call.aborted) call.checkpoint()
}
