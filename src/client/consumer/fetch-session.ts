import type { FetchRequest } from '../../protocol/apis/fetch.js'
import type { PartitionCursor } from './partition-cursor.js'

const MAX_EPOCH = 0x7fffffff
/** epoch 0 with session id 0: "create a session"; the broker answers with its id (0 if it keeps none). */
const INITIAL_EPOCH = 0

interface SentState {
  cursor: PartitionCursor
  fetchOffset: number
  maxBytes: number
  leaderEpoch: number
  lastFetchedEpoch: number
}

/**
 * An incremental fetch session (KIP-227) with one broker. After a full first request, each request names only the
 * partitions that are new or changed (position, size, epochs) and lists the ones to forget; the broker remembers
 * the rest. Any doubt — an error, a timeout, a session error from the broker — resets to a full request, which is
 * always correct.
 */
export class FetchSession {
  private id = 0
  private epoch = INITIAL_EPOCH
  /** What the broker holds for us, as of the last request it answered. */
  private sent = new Map<PartitionCursor, SentState>()
  /** What the request in flight would make `sent`, once answered. */
  private proposed: Map<PartitionCursor, SentState> | undefined

  get sessionId(): number {
    return this.id
  }

  /** Builds the next request's session fields and partitions for `wanted` (the partitions to fetch now). */
  build(
    wanted: readonly PartitionCursor[],
    partitionMaxBytes: number,
    useTopicIds: boolean,
  ): Pick<FetchRequest, 'sessionId' | 'sessionEpoch' | 'topics' | 'forgottenTopicsData'> {
    const next = new Map<PartitionCursor, SentState>()
    for (const cursor of wanted) {
      next.set(cursor, {
        cursor,
        fetchOffset: cursor.fetchOffset,
        maxBytes: partitionMaxBytes,
        leaderEpoch: cursor.leaderEpoch,
        lastFetchedEpoch: cursor.lastFetchedEpoch,
      })
    }
    const full = this.epoch === INITIAL_EPOCH
    const include: SentState[] = []
    for (const s of next.values()) {
      const old = this.sent.get(s.cursor)
      if (
        full ||
        !old ||
        old.fetchOffset !== s.fetchOffset ||
        old.maxBytes !== s.maxBytes ||
        old.leaderEpoch !== s.leaderEpoch ||
        old.lastFetchedEpoch !== s.lastFetchedEpoch
      ) {
        include.push(s)
      }
    }
    const forgotten = full ? [] : [...this.sent.keys()].filter((c) => !next.has(c))
    this.proposed = next
    return {
      sessionId: this.id,
      sessionEpoch: this.epoch,
      topics: groupByTopic(
        include,
        (s) => s.cursor,
        (s) => ({
          partition: s.cursor.partition,
          currentLeaderEpoch: s.leaderEpoch,
          fetchOffset: BigInt(s.fetchOffset),
          lastFetchedEpoch: s.lastFetchedEpoch,
          logStartOffset: -1n,
          partitionMaxBytes: s.maxBytes,
        }),
        useTopicIds,
      ),
      forgottenTopicsData: groupByTopic(
        forgotten,
        (c) => c,
        (c) => c.partition,
        useTopicIds,
      ).map((t) => ({
        topic: t.topic,
        topicId: t.topicId,
        partitions: t.partitions,
      })),
    }
  }

  /** The broker answered without a session-level error. */
  accepted(responseSessionId: number): void {
    if (this.proposed) this.sent = this.proposed
    this.proposed = undefined
    if (responseSessionId === 0) {
      // No session kept (the broker's cache is full, or sessions are off): keep sending full requests.
      this.id = 0
      this.epoch = INITIAL_EPOCH
      return
    }
    this.id = responseSessionId
    this.epoch = this.epoch >= MAX_EPOCH ? 1 : this.epoch + 1
  }

  /** Anything uncertain: start over with a full request. */
  reset(): void {
    this.id = 0
    this.epoch = INITIAL_EPOCH
    this.sent = new Map()
    this.proposed = undefined
  }

  /** Forgets one partition everywhere (it moved to another broker): the next request will list it as forgotten. */
  drop(cursor: PartitionCursor): void {
    this.proposed?.delete(cursor)
  }

  /** The session-closing request (epoch -1 with our id), or undefined if there is no session. */
  closing(): { sessionId: number; sessionEpoch: number } | undefined {
    return this.id === 0 ? undefined : { sessionId: this.id, sessionEpoch: -1 }
  }
}

function groupByTopic<T, P>(
  items: readonly T[],
  cursorOf: (t: T) => PartitionCursor,
  partitionOf: (t: T) => P,
  useTopicIds: boolean,
) {
  const byTopic = new Map<string, { topic: string; topicId: string; partitions: P[] }>()
  for (const item of items) {
    const c = cursorOf(item)
    const key = useTopicIds ? c.topicId : c.topic
    let t = byTopic.get(key)
    if (!t) {
      t = { topic: c.topic, topicId: c.topicId, partitions: [] }
      byTopic.set(key, t)
    }
    t.partitions.push(partitionOf(item))
  }
  return [...byTopic.values()]
}
