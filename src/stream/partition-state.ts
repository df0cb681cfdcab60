// The processor's bookkeeping of one assigned partition: the records received from each of its readers (the group
// consumer's live cursor, and a backfill cursor behind it when the partition is split), and what is done of it.
import type { ConsumerRecord, SkippedBatch } from '../client/consumer/index.js'
import type { OffsetRanges } from './offset-ranges.js'
import { LazyQueue, type Priority } from './scheduler.js'

export type TaskStatus = 'queued' | 'ready' | 'running' | 'done' | 'dropped'

export interface Task {
  record: ConsumerRecord
  /** Offsets from here up to the record's are settled with it (offsets the consumer never delivered: markers, gaps). */
  gapStart: number
  part: PartitionState
  feed: Feed
  order: OrderQueue | undefined
  status: TaskStatus
  /** Set for a batch that could not be opened: the task writes its dead-letter copy; `record` stands in for it. */
  batch: (SkippedBatch & { raw: Buffer }) | undefined
  /** One past the last offset this task settles: the record's offset + 1, or the batch's last offset + 1. */
  end: number
}

/** Records that must run one at a time, in order (a partition's under `partition` ordering, a key's under `key`). */
export interface OrderQueue {
  key: string | null
  queue: Task[]
  /** Its head is ready or running. */
  busy: boolean
}

/**
 * One reader's records of a partition: the group consumer's (`live`), or a backfill cursor's working up to where the
 * live one started. Ordering holds within a feed.
 */
export interface Feed {
  part: PartitionState
  cursor: 'live' | 'backfill'
  priority: Priority
  /** The offset after the last record received. */
  nextExpected: number
  /** Backfill: the live cursor's start, where it stops. Live: Infinity. */
  until: number
  /** Received, not done, by offset (insertion order = offset order): the first is the feed's oldest unfinished. */
  pending: Map<number, Task>
  ready: LazyQueue<Task>
  readyCount: number
  keyQueues: Map<string | null, OrderQueue>
  partitionQueue: OrderQueue
  /** Holds `maxBufferedPerPartition` records. */
  full: boolean
  /** Fetching it is paused (full, or batch work over its share of the buffer). */
  paused: boolean
  /** A backfill dropped while records of it ran: their completions no longer count. */
  detached: boolean
}

export interface PartitionState {
  topic: string
  partition: number
  key: string
  /** False once revoked, lost or closed: nothing more is taken in or started. */
  open: boolean
  /** False once forgotten (after a revoke's commit, a loss, the close): completions no longer count. */
  tracked: boolean
  /** Known once the committed offset and metadata are read (or, with nothing committed, at the first record). */
  ranges: OffsetRanges | undefined
  loaded: boolean
  /** Records that arrived before the committed metadata was read. */
  incoming: ConsumerRecord[]
  main: Feed
  backfill: Feed | undefined
  /** Backfills dropped while records of theirs ran (see `stopBackfill`): kept until those settle. */
  retired: Feed[]
  /** Where the live cursor started while a backfill works below it; kept in the metadata until the base passes it. */
  liveStart: number | undefined
  inFlight: number
  pressured: boolean
  /** Metadata size cache, by `ranges.version`. */
  sizeVersion: number
  sizeChars: number
  lastCommitted: { offset: number; metadata: string | null } | undefined
  controller: AbortController
  idle: (() => void) | undefined
}

export function newFeed(
  part: PartitionState,
  cursor: 'live' | 'backfill',
  priority: Priority,
  nextExpected: number,
  until: number,
): Feed {
  return {
    part,
    cursor,
    priority,
    nextExpected,
    until,
    pending: new Map(),
    ready: new LazyQueue<Task>((t) => t.status === 'ready'),
    readyCount: 0,
    keyQueues: new Map(),
    partitionQueue: { key: null, queue: [], busy: false },
    full: false,
    paused: false,
    detached: false,
  }
}

/** The partition's oldest unfinished record: the backfill's oldest while there is one (it reads below the live one). */
export function oldestTask(s: PartitionState): Task | undefined {
  const pending = s.backfill && s.backfill.pending.size > 0 ? s.backfill.pending : s.main.pending
  return pending.values().next().value as Task | undefined
}

export function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}
