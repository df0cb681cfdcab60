import { ErrorCode } from '../../protocol/error-codes.js'
import { KafkaError } from '../../protocol/kafka-error.js'
import type { Call } from './call.js'
import { groupRoutes, type Routing } from './fan-out.js'
import type { AdminRuntime, CoordinatorType, Target } from './runtime.js'
import type { TopicPartition } from './types.js'

/**
 * Routes partition items to their leaders, one request per leader. A topic the cluster does not have, or a
 * partition number past its last partition, fails the item (UNKNOWN_TOPIC_OR_PARTITION) without retrying; a
 * partition with no leader (an election under way) is retried after a metadata refresh.
 */
export async function routeToLeaders<I extends TopicPartition>(
  rt: AdminRuntime,
  items: readonly I[],
  call: Call,
  api: string,
): Promise<Routing<I>> {
  const topics = await rt.topics(
    items.map((i) => i.topic),
    call,
  )
  const failed = new Map<I, KafkaError>()
  const retry = new Map<I, KafkaError>()
  const routed: Array<[I, Target]> = []
  for (const item of items) {
    const { topic, partition } = item
    const info = topics.get(topic)
    const p = info?.partitions[partition]
    if (!info || !p) {
      const errorMessage = info
        ? `${topic} has ${info.partitions.length} partitions`
        : `the cluster has no topic named ${topic}`
      failed.set(
        item,
        KafkaError.fromCode(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { api, topic, partition, errorMessage }),
      )
    } else if (p.leader < 0) {
      retry.set(item, KafkaError.fromCode(ErrorCode.LEADER_NOT_AVAILABLE, { api: 'Metadata', topic, partition }))
    } else routed.push([item, rt.broker(p.leader)])
  }
  return { routes: groupRoutes(routed), failed, retry }
}

/**
 * Routes items to the coordinators of their keys (group ids or transactional ids), one request per coordinator.
 * A retriable FindCoordinator error (COORDINATOR_NOT_AVAILABLE while the internal topic is created) is retried;
 * others (an authorization failure) fail the item.
 */
export async function routeToCoordinators<I>(
  rt: AdminRuntime,
  type: CoordinatorType,
  items: readonly I[],
  keyOf: (item: I) => string,
  call: Call,
): Promise<Routing<I>> {
  const found = await rt.findCoordinators(type, items.map(keyOf), call)
  const failed = new Map<I, KafkaError>()
  const retry = new Map<I, KafkaError>()
  const routed: Array<[I, Target]> = []
  for (const item of items) {
    const c = found.get(keyOf(item))!
    if (c instanceof KafkaError) (c.retriable ? retry : failed).set(item, c)
    else routed.push([item, c])
  }
  return { routes: groupRoutes(routed), failed, retry }
}

/** All items to one target. */
export function routeAllTo<I>(target: Target, items: readonly I[]): Routing<I> {
  return { routes: items.length > 0 ? [{ target, items: [...items] }] : [] }
}

/** The first key that two of `items` share, if any (calls refuse duplicates: Kafka answers one result per key). */
export function firstDuplicate<I>(items: readonly I[], keyOf: (item: I) => string): string | undefined {
  const seen = new Set<string>()
  for (const item of items) {
    const key = keyOf(item)
    if (seen.has(key)) return key
    seen.add(key)
  }
  return undefined
}
