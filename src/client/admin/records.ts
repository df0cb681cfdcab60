import { DeleteRecords } from '../../protocol/apis/delete-records.js'
import { ErrorCode } from '../../protocol/error-codes.js'
import { KafkaError } from '../../protocol/kafka-error.js'
import { ConfigError } from '../errors.js'
import { fanOut } from './fan-out.js'
import { firstDuplicate, routeToLeaders } from './routing.js'
import type { AdminRuntime } from './runtime.js'
import type { AdminCallOptions, Outcome, TopicPartition } from './types.js'

/** Delete a partition's records before an offset. */
export interface RecordsToDelete extends TopicPartition {
  /** Records at offsets below this are deleted (the log start offset moves here); -1 for the high watermark. */
  beforeOffset: bigint | number
}

/** The partition's new log start offset (low watermark), or why records were not deleted. */
export type DeletedRecords = Outcome<TopicPartition, { lowWatermark: bigint }>

/**
 * Deletes records (DeleteRecords), sent to each partition's leader, one request per leader. An offset past the
 * high watermark is OFFSET_OUT_OF_RANGE for that partition.
 */
export async function deleteRecords(
  rt: AdminRuntime,
  partitions: readonly RecordsToDelete[],
  options: AdminCallOptions = {},
): Promise<DeletedRecords[]> {
  for (const p of partitions) {
    checkPartition('deleteRecords', p)
    if (typeof p.beforeOffset === 'number' && !Number.isInteger(p.beforeOffset))
      throw new ConfigError(`deleteRecords: ${p.topic}[${p.partition}]: beforeOffset must be an integer`)
    const o = BigInt(p.beforeOffset)
    if (o < -1n) throw new ConfigError(`deleteRecords: ${p.topic}[${p.partition}]: beforeOffset ${o} is below -1`)
  }
  const dup = firstDuplicate(partitions, tpKey)
  if (dup !== undefined) throw new ConfigError(`deleteRecords: ${dup} is listed twice`)
  const call = rt.call('deleteRecords', options)
  try {
    return await fanOut(rt, call, partitions, {
      route: (items) => routeToLeaders(rt, items, call, 'DeleteRecords'),
      send: async (conn, items) => {
        const res = await call.request(conn, DeleteRecords, {
          topics: byTopic(items).map(([name, ps]) => ({
            name,
            partitions: ps.map((p) => ({ partitionIndex: p.partition, offset: BigInt(p.beforeOffset) })),
          })),
          timeoutMs: call.requestTimeoutMs(),
        })
        const answers = new Map(
          res.topics.flatMap((t) =>
            t.partitions.map((p) => [tpKey({ topic: t.name, partition: p.partitionIndex }), p]),
          ),
        )
        const out = new Map<RecordsToDelete, DeletedRecords>()
        for (const item of items) {
          const p = answers.get(tpKey(item))
          if (!p) continue
          const id = { topic: item.topic, partition: item.partition }
          out.set(
            item,
            p.errorCode === ErrorCode.NONE
              ? { ...id, lowWatermark: p.lowWatermark }
              : {
                  ...id,
                  error: KafkaError.fromCode(p.errorCode, { api: 'DeleteRecords', broker: conn.broker, ...id }),
                },
          )
        }
        return out
      },
      fail: (item, error) => ({ topic: item.topic, partition: item.partition, error }),
    })
  } finally {
    call.finish()
  }
}

/** `topic[partition]`, the key partition items are matched by. */
export function tpKey(tp: TopicPartition): string {
  return `${tp.topic}[${tp.partition}]`
}

/** Items grouped by topic, topics in first-seen order. */
export function byTopic<I extends TopicPartition>(items: readonly I[]): Array<[string, I[]]> {
  const out = new Map<string, I[]>()
  for (const item of items) {
    const list = out.get(item.topic)
    if (list) list.push(item)
    else out.set(item.topic, [item])
  }
  return [...out]
}

/** Throws a ConfigError for a partition item without a topic or with a bad partition number. */
export function checkPartition(operation: string, tp: TopicPartition): void {
  if (typeof tp.topic !== 'string' || tp.topic === '') throw new ConfigError(`${operation}: a partition needs a topic`)
  if (!Number.isInteger(tp.partition) || tp.partition < 0)
    throw new ConfigError(`${operation}: ${tp.topic}: partition must be a non-negative integer, got ${tp.partition}`)
}
