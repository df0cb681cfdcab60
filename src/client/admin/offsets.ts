import { ListOffsets } from '../../protocol/apis/list-offsets.js'
import { ErrorCode } from '../../protocol/error-codes.js'
import { KafkaError } from '../../protocol/kafka-error.js'
import { ConfigError } from '../errors.js'
import { fanOut } from './fan-out.js'
import { byTopic, checkPartition, tpKey } from './records.js'
import { firstDuplicate, routeToLeaders } from './routing.js'
import type { AdminRuntime } from './runtime.js'
import type { AdminCallOptions, Outcome, TopicPartition } from './types.js'

/**
 * Which offset to find: the log start (`earliest`), the end (`latest`: the high watermark, or the last stable
 * offset under read_committed), the record with the largest timestamp (`max-timestamp`, KIP-734, ListOffsets v7+),
 * or the first offset whose timestamp is at or after `timestamp` (ms since the epoch).
 */
export type OffsetSpec = 'earliest' | 'latest' | 'max-timestamp' | { timestamp: number | bigint | Date }

/** A partition and the offset to look up in it. */
export interface OffsetQuery extends TopicPartition {
  spec: OffsetSpec
}

/** Options of `listOffsets`. */
export interface ListOffsetsOptions extends AdminCallOptions {
  /** `read_committed` makes `latest` the last stable offset (before any open transaction). Default read_uncommitted. */
  isolation?: 'read_uncommitted' | 'read_committed'
}

/**
 * The offset found. `offset` is -1 when none matches (a timestamp later than every record); `timestamp` is the
 * matching record's timestamp for timestamp and max-timestamp lookups, else -1.
 */
export type ListedOffset = Outcome<TopicPartition, { offset: bigint; timestamp: bigint; leaderEpoch: number }>

/** ListOffsets' special timestamps. */
const SPECIAL: Record<string, bigint> = { latest: -1n, earliest: -2n, 'max-timestamp': -3n }

/** The ListOffsets timestamp for a spec. */
export function offsetSpecTimestamp(spec: OffsetSpec): bigint {
  if (typeof spec === 'string') {
    const t = SPECIAL[spec]
    if (t === undefined) throw new ConfigError(`listOffsets: unknown offset spec ${JSON.stringify(spec)}`)
    return t
  }
  const raw = spec?.timestamp
  const ms = raw instanceof Date ? raw.getTime() : raw
  if (typeof ms === 'bigint' ? ms < 0n : !Number.isInteger(ms) || (ms as number) < 0)
    throw new ConfigError(`listOffsets: a timestamp must be a non-negative integer of ms, got ${String(raw)}`)
  return BigInt(ms as number | bigint)
}

/**
 * Looks up offsets (ListOffsets), sent to each partition's leader with the leader epoch the client knows (so a
 * stale leader answers FENCED_LEADER_EPOCH and is retried after a metadata refresh), one request per leader.
 */
export async function listOffsets(
  rt: AdminRuntime,
  queries: readonly OffsetQuery[],
  options: ListOffsetsOptions = {},
): Promise<ListedOffset[]> {
  const timestamps = new Map<OffsetQuery, bigint>()
  for (const q of queries) {
    checkPartition('listOffsets', q)
    timestamps.set(q, offsetSpecTimestamp(q.spec))
  }
  const dup = firstDuplicate(queries, tpKey)
  if (dup !== undefined) throw new ConfigError(`listOffsets: ${dup} is listed twice (one spec per partition per call)`)
  const isolation = options.isolation ?? 'read_uncommitted'
  if (isolation !== 'read_uncommitted' && isolation !== 'read_committed')
    throw new ConfigError(`listOffsets: unknown isolation ${JSON.stringify(isolation)}`)
  const call = rt.call('listOffsets', options)
  try {
    return await fanOut(rt, call, queries, {
      route: (items) => routeToLeaders(rt, items, call, 'ListOffsets'),
      send: async (conn, items) => {
        const out = new Map<OffsetQuery, ListedOffset>()
        const version = conn.versionFor(ListOffsets)
        const sendable = items.filter((q) => {
          if (timestamps.get(q)! !== -3n || version >= 7) return true
          out.set(q, {
            topic: q.topic,
            partition: q.partition,
            error: KafkaError.fromCode(ErrorCode.UNSUPPORTED_VERSION, {
              api: 'ListOffsets',
              broker: conn.broker,
              topic: q.topic,
              partition: q.partition,
              errorMessage: `max-timestamp needs ListOffsets v7+ (KIP-734); the broker speaks up to v${version}`,
            }),
          })
          return false
        })
        if (sendable.length === 0) return out
        const res = await call.request(
          conn,
          ListOffsets,
          {
            replicaId: -1,
            isolationLevel: isolation === 'read_committed' ? 1 : 0,
            topics: byTopic(sendable).map(([name, qs]) => ({
              name,
              partitions: qs.map((q) => ({
                partitionIndex: q.partition,
                currentLeaderEpoch: rt.cluster.metadata.cached(q.topic)?.partitions[q.partition]?.leaderEpoch ?? -1,
                timestamp: timestamps.get(q)!,
              })),
            })),
            timeoutMs: call.requestTimeoutMs(),
          },
          version,
        )
        const answers = new Map(
          res.topics.flatMap((t) =>
            t.partitions.map((p) => [tpKey({ topic: t.name, partition: p.partitionIndex }), p]),
          ),
        )
        for (const q of sendable) {
          const p = answers.get(tpKey(q))
          if (!p) continue
          const id = { topic: q.topic, partition: q.partition }
          out.set(
            q,
            p.errorCode === ErrorCode.NONE
              ? { ...id, offset: p.offset, timestamp: p.timestamp, leaderEpoch: p.leaderEpoch }
              : { ...id, error: KafkaError.fromCode(p.errorCode, { api: 'ListOffsets', broker: conn.broker, ...id }) },
          )
        }
        return out
      },
      fail: (q, error) => ({ topic: q.topic, partition: q.partition, error }),
    })
  } finally {
    call.finish()
  }
}
