import { SkiffError } from '../../../errors.js'
import type { TopicPartition } from '../types.js'

function describePartitions(partitions: readonly TopicPartition[]): string {
  const shown = partitions.slice(0, 8).map((p) => `${p.topic}[${p.partition}]`)
  if (partitions.length > 8) shown.push(`and ${partitions.length - 8} more`)
  return shown.join(', ')
}

/**
 * A commit was refused because the group is rebalancing (REBALANCE_IN_PROGRESS, or the member is between
 * JoinGroup and SyncGroup). Nothing was lost: once the rebalance completes, commit again what is still assigned —
 * as Kafka's Java consumer's RebalanceInProgressException. Retriable.
 */
export class RebalanceInProgressError extends SkiffError {
  override name = 'RebalanceInProgressError'
  constructor(
    readonly groupId: string,
    readonly partitions: readonly TopicPartition[],
  ) {
    super(
      `group ${groupId} is rebalancing: offsets for ${describePartitions(partitions)} were not committed; ` +
        'commit them again when the rebalance completes if they are still assigned',
      { retriable: true },
    )
  }
}

/**
 * A commit cannot succeed: this member is no longer part of the generation (or member epoch) it committed from —
 * ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH for partitions it no longer owns, or it was not in the
 * group at all. The partitions may already be someone else's; their records will be processed again by their new
 * owner from the last committed offset. As Kafka's CommitFailedException. Not retriable.
 */
export class CommitFailedError extends SkiffError {
  override name = 'CommitFailedError'
  constructor(
    readonly groupId: string,
    readonly partitions: readonly TopicPartition[],
    /** Kafka's error name, or why the member was not in the group. */
    readonly reason: string,
    details: { memberId?: string; generation?: number } = {},
  ) {
    const who =
      details.memberId !== undefined
        ? ` (member ${details.memberId || '<none>'}, generation ${details.generation})`
        : ''
    super(
      `commit to group ${groupId}${who} failed: ${reason}; offsets for ${describePartitions(partitions)} were not ` +
        'committed, and the partitions may have moved to another member',
    )
  }
}

/** A group operation ran out of time before the coordinator gave a usable answer; `cause` is the last failure. */
export class GroupTimeoutError extends SkiffError {
  override name = 'GroupTimeoutError'
  constructor(
    readonly operation: string,
    readonly groupId: string,
    readonly timeoutMs: number,
    cause?: unknown,
  ) {
    const last = cause instanceof Error ? `; last error: ${cause.message}` : ''
    super(`${operation} for group ${groupId} did not complete within ${timeoutMs} ms${last}`, {
      cause,
      retriable: true,
    })
  }
}

/**
 * `protocol: 'consumer'` (KIP-848) on a cluster that does not offer it: Kafka before 4.0, or 3.9 with the
 * group.version feature at 0 (it lists ConsumerGroupHeartbeat but refuses it). Use `protocol: 'classic'`.
 */
export class UnsupportedGroupProtocolError extends SkiffError {
  override name = 'UnsupportedGroupProtocolError'
  constructor(
    readonly groupId: string,
    detail: string,
  ) {
    super(
      `group ${groupId}: the cluster does not support the consumer group protocol (KIP-848): ${detail}; ` +
        "use protocol: 'classic'",
    )
  }
}

/** The member was used after it left the group, or before start(). */
export class GroupMemberStateError extends SkiffError {
  override name = 'GroupMemberStateError'
}
