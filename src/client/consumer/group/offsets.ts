import { OffsetCommit } from '../../../protocol/apis/offset-commit.js'
import { OffsetFetch } from '../../../protocol/apis/offset-fetch.js'
import { ErrorCode } from '../../../protocol/error-codes.js'
import { ZERO_UUID } from '../../../protocol/uuid.js'
import type { Cluster } from '../../cluster/cluster.js'
import type { Connection } from '../../connection.js'
import { type TopicPartition, tpKey } from '../types.js'

/** An offset to commit: the next offset to consume (last processed + 1). */
export interface OffsetToCommit extends TopicPartition {
  offset: number
  /** The leader epoch of the last consumed record, so a later reader can detect truncation (KIP-320). */
  leaderEpoch?: number
  metadata?: string
}

/** A committed offset as OffsetFetch returns it. */
export interface CommittedOffset {
  offset: number
  leaderEpoch: number
  metadata: string | null
}

/**
 * Who commits: a classic member commits with its generation id and member id, a consumer-protocol member (KIP-848)
 * with its member epoch and member id; both are fenced by the coordinator when stale.
 */
export interface CommitIdentity {
  generationIdOrMemberEpoch: number
  memberId: string
  groupInstanceId: string | null
}

/** Group identity for OffsetFetch v9+ (KIP-848 members), or none. */
export interface FetchIdentity {
  memberId: string | null
  memberEpoch: number
}

/**
 * Topic ids for OffsetCommit/OffsetFetch v10+ (which name topics only by id, KIP-848): from the metadata cache,
 * refreshed once for topics it does not know. Null when some topic has no known id; the caller then uses v9.
 */
async function topicIds(cluster: Cluster, topics: string[], signal?: AbortSignal): Promise<Map<string, string> | null> {
  const ids = new Map<string, string>()
  const missing: string[] = []
  for (const t of topics) {
    const id = cluster.metadata.cached(t)?.topicId
    if (id && id !== ZERO_UUID) ids.set(t, id)
    else missing.push(t)
  }
  if (missing.length > 0) {
    await cluster.metadata.refresh(missing, signal).catch(() => {})
    for (const t of missing) {
      const id = cluster.metadata.cached(t)?.topicId
      if (!id || id === ZERO_UUID) return null
      ids.set(t, id)
    }
  }
  return ids
}

function byTopic<T extends TopicPartition>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>()
  for (const i of items) {
    const list = out.get(i.topic)
    if (list) list.push(i)
    else out.set(i.topic, [i])
  }
  return out
}

/**
 * One OffsetCommit at the highest version both sides speak (v10 names topics by id; v9 when an id is unknown).
 * Resolves with each partition's error code, keyed by `tpKey`; request failures (connection, timeout) reject.
 */
export async function sendOffsetCommit(
  conn: Connection,
  cluster: Cluster,
  groupId: string,
  identity: CommitIdentity,
  offsets: readonly OffsetToCommit[],
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<Map<string, number>> {
  const grouped = byTopic(offsets)
  let version = conn.versionFor(OffsetCommit)
  let ids: Map<string, string> | null = null
  if (version >= 10) {
    ids = await topicIds(cluster, [...grouped.keys()], options.signal)
    if (!ids) version = 9
  }
  const res = await conn.request(
    OffsetCommit,
    {
      groupId,
      generationIdOrMemberEpoch: identity.generationIdOrMemberEpoch,
      memberId: identity.memberId,
      groupInstanceId: identity.groupInstanceId,
      topics: [...grouped].map(([name, parts]) => ({
        name,
        topicId: ids?.get(name) ?? ZERO_UUID,
        partitions: parts.map((p) => ({
          partitionIndex: p.partition,
          committedOffset: BigInt(p.offset),
          committedLeaderEpoch: p.leaderEpoch ?? -1,
          committedMetadata: p.metadata ?? '',
        })),
      })),
    },
    { version, timeoutMs: options.timeoutMs, signal: options.signal },
  )
  const nameOf = new Map<string, string>()
  if (ids) for (const [name, id] of ids) nameOf.set(id, name)
  const codes = new Map<string, number>()
  for (const t of res.topics) {
    const name = version >= 10 ? nameOf.get(t.topicId) : t.name
    if (name === undefined) continue
    for (const p of t.partitions) codes.set(tpKey(name, p.partitionIndex), p.errorCode)
  }
  // A partition the response left out was not committed; say so rather than assume success.
  for (const o of offsets) {
    const key = tpKey(o.topic, o.partition)
    if (!codes.has(key)) codes.set(key, ErrorCode.UNKNOWN_SERVER_ERROR)
  }
  return codes
}

/** What one OffsetFetch answered: a group-level error code, and each partition's offset or error code. */
export interface OffsetFetchAnswer {
  errorCode: number
  partitions: Map<string, CommittedOffset & { errorCode: number }>
}

/**
 * One OffsetFetch of `partitions` for one group, in whichever shape the version has: v1-7 one group, v8+ a list of
 * groups (KIP-709), v9+ with the member's id and epoch (KIP-848), v10 topics by id. `requireStable` (v7+) makes
 * the coordinator answer UNSTABLE_OFFSET_COMMIT while a transactional commit to these partitions is pending.
 */
export async function sendOffsetFetch(
  conn: Connection,
  cluster: Cluster,
  groupId: string,
  identity: FetchIdentity,
  partitions: readonly TopicPartition[],
  options: { timeoutMs: number; signal?: AbortSignal; requireStable?: boolean },
): Promise<OffsetFetchAnswer> {
  const grouped = byTopic(partitions)
  let version = conn.versionFor(OffsetFetch)
  const requireStable = options.requireStable ?? false
  const request = { timeoutMs: options.timeoutMs, signal: options.signal }
  const out = new Map<string, CommittedOffset & { errorCode: number }>()
  const norm = (p: {
    committedOffset: bigint
    committedLeaderEpoch: number
    metadata: string | null
    errorCode: number
  }) => ({
    offset: Number(p.committedOffset),
    leaderEpoch: p.committedLeaderEpoch,
    metadata: p.metadata,
    errorCode: p.errorCode,
  })
  if (version < 8) {
    const res = await conn.request(
      OffsetFetch,
      {
        groupId,
        topics: [...grouped].map(([name, parts]) => ({ name, partitionIndexes: parts.map((p) => p.partition) })),
        requireStable,
      },
      { ...request, version },
    )
    for (const t of res.topics) for (const p of t.partitions) out.set(tpKey(t.name, p.partitionIndex), norm(p))
    return { errorCode: res.errorCode, partitions: out }
  }
  let ids: Map<string, string> | null = null
  if (version >= 10) {
    ids = await topicIds(cluster, [...grouped.keys()], options.signal)
    if (!ids) version = 9
  }
  const res = await conn.request(
    OffsetFetch,
    {
      groups: [
        {
          groupId,
          memberId: identity.memberId,
          memberEpoch: identity.memberEpoch,
          topics: [...grouped].map(([name, parts]) => ({
            name,
            topicId: ids?.get(name) ?? ZERO_UUID,
            partitionIndexes: parts.map((p) => p.partition),
          })),
        },
      ],
      requireStable,
    },
    { ...request, version },
  )
  const g = res.groups.find((x) => x.groupId === groupId)
  if (!g) return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, partitions: out }
  const nameOf = new Map<string, string>()
  if (ids) for (const [name, id] of ids) nameOf.set(id, name)
  for (const t of g.topics) {
    const name = version >= 10 ? nameOf.get(t.topicId) : t.name
    if (name === undefined) continue
    for (const p of t.partitions) out.set(tpKey(name, p.partitionIndex), norm(p))
  }
  return { errorCode: g.errorCode, partitions: out }
}
