import { setTimeout as sleep } from 'node:timers/promises'
import { Metadata } from '../../protocol/apis/metadata.js'
import { ErrorCode, errorByCode } from '../../protocol/error-codes.js'
import { KafkaError } from '../../protocol/kafka-error.js'
import { raceAbort } from '../abort.js'
import type { Connection } from '../connection.js'
import type { BrokerAddress } from './options.js'

export interface BrokerInfo extends BrokerAddress {
  nodeId: number
  rack: string | null
}

export interface PartitionInfo {
  partition: number
  /** -1 while there is none (an election is under way). */
  leader: number
  leaderEpoch: number
  replicas: number[]
  isr: number[]
  offline: number[]
  errorCode: number
}

export interface TopicInfo {
  name: string
  topicId: string
  isInternal: boolean
  /** Indexed by partition number. */
  partitions: PartitionInfo[]
}

export interface MetadataSnapshot {
  clusterId: string | null
  controllerId: number
  brokers: ReadonlyMap<number, BrokerInfo>
}

/**
 * The client's view of the cluster: brokers, and the topics it has asked about, with topic ids and leader epochs
 * (KIP-516, KIP-320). Refreshed on demand, when older than `maxAgeMs`, and when a request fails with a
 * NOT_LEADER / UNKNOWN_TOPIC style error — but never more often than `minRefreshIntervalMs`, and concurrent
 * refreshes share one request.
 */
export class MetadataCache {
  clusterId: string | null = null
  controllerId = -1
  readonly brokers = new Map<number, BrokerInfo>()
  private readonly topics = new Map<string, { info: TopicInfo; at: number }>()
  private readonly byId = new Map<string, string>()
  /** Topics to include in every refresh (those the client is working with). */
  private readonly interest = new Set<string>()
  private inFlight: Promise<void> | undefined
  private inFlightTopics: ReadonlySet<string> | 'all' | undefined
  private lastRefresh = 0
  /** Refreshes done (for tests and diagnostics). */
  refreshes = 0

  constructor(
    private readonly connect: (signal?: AbortSignal) => Promise<Connection>,
    private readonly maxAgeMs: number,
    private readonly minRefreshIntervalMs: number,
  ) {}

  broker(nodeId: number): BrokerInfo | undefined {
    return this.brokers.get(nodeId)
  }

  /** The cached topic, if known (may be stale). */
  cached(topic: string): TopicInfo | undefined {
    return this.topics.get(topic)?.info
  }

  topicNameOf(topicId: string): string | undefined {
    return this.byId.get(topicId)
  }

  /** The topic's metadata, refreshing it when unknown or older than maxAgeMs. Throws KafkaError if it has none. */
  async topic(name: string, signal?: AbortSignal): Promise<TopicInfo> {
    this.interest.add(name)
    const entry = this.topics.get(name)
    if (entry && Date.now() - entry.at < this.maxAgeMs) return entry.info
    await this.refresh([name], signal)
    const info = this.topics.get(name)?.info
    if (!info) throw KafkaError.fromCode(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { api: 'Metadata', topic: name })
    return info
  }

  /** Stop including a topic in refreshes. */
  forget(topic: string): void {
    this.interest.delete(topic)
  }

  /**
   * Refreshes the given topics (plus every topic of interest), or every topic with `null`. A refresh already under
   * way that covers them is shared; one that doesn't is awaited first. Refreshes are spaced at least
   * `minRefreshIntervalMs` apart.
   */
  async refresh(topics: readonly string[] | null = [], signal?: AbortSignal): Promise<void> {
    // The refresh itself is shared by every caller, so it is never tied to one caller's signal: each caller only
    // stops waiting for it when its own signal aborts.
    const shared = this.sharedRefresh(topics)
    if (!signal) return shared
    return raceAbort(shared, signal, 'waiting for metadata')
  }

  private async sharedRefresh(topics: readonly string[] | null): Promise<void> {
    for (;;) {
      const current = this.inFlight
      if (!current) break
      const sharing = this.inFlightTopics
      const covered = sharing === 'all' || (sharing !== undefined && topics?.every((t) => sharing.has(t)) === true)
      await current.catch(() => {})
      if (covered) return
    }
    const wait = this.lastRefresh + this.minRefreshIntervalMs - Date.now()
    if (wait > 0) await sleep(wait)
    if (this.inFlight) return this.sharedRefresh(topics)
    const wanted = topics === null ? 'all' : new Set([...this.interest, ...topics])
    this.inFlightTopics = wanted
    this.inFlight = this.fetch(wanted).finally(() => {
      this.inFlight = undefined
      this.inFlightTopics = undefined
      this.lastRefresh = Date.now()
    })
    return this.inFlight
  }

  private async fetch(wanted: ReadonlySet<string> | 'all'): Promise<void> {
    const conn = await this.connect()
    const res = await conn.request(Metadata, {
      topics: wanted === 'all' ? null : [...wanted].map((name) => ({ name })),
      allowAutoTopicCreation: false,
    })
    this.refreshes++
    if (res.errorCode !== 0) throw KafkaError.fromCode(res.errorCode, { api: 'Metadata', broker: conn.broker })
    this.clusterId = res.clusterId
    this.controllerId = res.controllerId
    this.brokers.clear()
    for (const b of res.brokers)
      this.brokers.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })
    const now = Date.now()
    for (const t of res.topics) {
      if (t.name === null) continue
      if (t.errorCode !== 0) {
        // Unknown (or not yet created) topics are dropped; others keep their last good state but count as stale.
        if (t.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION || !errorByCode(t.errorCode).retriable)
          this.topics.delete(t.name)
        else {
          const old = this.topics.get(t.name)
          if (old) old.at = 0
        }
        continue
      }
      const partitions: PartitionInfo[] = []
      for (const p of t.partitions) {
        partitions[p.partitionIndex] = {
          partition: p.partitionIndex,
          leader: p.leaderId,
          leaderEpoch: p.leaderEpoch,
          replicas: p.replicaNodes,
          isr: p.isrNodes,
          offline: p.offlineReplicas,
          errorCode: p.errorCode,
        }
      }
      const old = this.topics.get(t.name)?.info
      // A leader epoch never goes backwards: an answer from a broker that is behind must not undo a newer view.
      if (old && old.topicId === t.topicId) {
        for (const p of partitions) {
          const prev = old.partitions[p?.partition ?? -1]
          if (p && prev && prev.leaderEpoch > p.leaderEpoch) Object.assign(p, { ...prev })
        }
      }
      const info: TopicInfo = { name: t.name, topicId: t.topicId, isInternal: t.isInternal, partitions }
      this.topics.set(t.name, { info, at: now })
      this.byId.set(t.topicId, t.name)
    }
  }

  /** Marks a topic stale so its next use refreshes it (after NOT_LEADER_OR_FOLLOWER and friends). */
  invalidate(topic: string): void {
    const e = this.topics.get(topic)
    if (e) e.at = 0
  }

  snapshot(): MetadataSnapshot {
    return { clusterId: this.clusterId, controllerId: this.controllerId, brokers: new Map(this.brokers) }
  }
}
