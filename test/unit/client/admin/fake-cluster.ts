import { Cluster } from '../../../../src/client/cluster/cluster.js'
import type { Connection } from '../../../../src/client/connection.js'
import { ConnectionError } from '../../../../src/client/errors.js'
import { type BrokerApiRange, negotiateVersion } from '../../../../src/client/versions.js'
import type { Api, DecodedRequestOf, EncodableResponseOf } from '../../../../src/protocol/api.js'
import { ALL_APIS } from '../../../../src/protocol/apis/index.js'
import { Metadata } from '../../../../src/protocol/apis/metadata.js'
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '../../../../src/protocol/frame.js'

/**
 * Brokers in memory for the admin client's routing and retry logic: each request is encoded and decoded with the
 * real codecs at the negotiated version (so a field a version cannot carry fails as it would on the wire), handed
 * to a scripted handler, and its answer encoded and decoded back. Behaviour of real brokers is tested against real
 * brokers (test/conformance/admin-client.test.ts); these script what a single test broker will not do on demand
 * (move a leader, answer NOT_COORDINATOR, drop a broker).
 */

export type Handler<A extends Api> = (
  body: DecodedRequestOf<A>,
  version: number,
  broker: FakeBroker,
) => EncodableResponseOf<A> | Promise<EncodableResponseOf<A>>

export interface SentRequest {
  broker: number
  api: string
  version: number
  body: any
}

export interface TopicState {
  topicId: string
  /** Leader of each partition (-1: none). */
  leaders: number[]
  leaderEpoch?: number
}

/** What every fake broker answers Metadata from. */
export interface ClusterState {
  controllerId: number
  topics: Map<string, TopicState>
}

export class FakeBroker {
  readonly broker: string
  apiVersions: Map<number, BrokerApiRange> = new Map(
    ALL_APIS.map((a) => [a.key, { min: a.versions.min, max: a.versions.max }]),
  )
  finalizedFeatures: Map<string, number> = new Map()
  /** Refuses connections while true. */
  down = false
  readonly isClosed = false
  private readonly handlers = new Map<number, Handler<any>>()

  constructor(
    readonly nodeId: number,
    readonly port: number,
    private readonly log: SentRequest[],
    state: ClusterState,
    brokers: () => FakeBroker[],
  ) {
    this.broker = `127.0.0.1:${port}`
    this.on(Metadata, (body) => ({
      brokers: brokers().map((b) => ({ nodeId: b.nodeId, host: '127.0.0.1', port: b.port, rack: null })),
      clusterId: 'fake-cluster',
      controllerId: state.controllerId,
      topics: (body.topics === null ? [...state.topics.keys()] : body.topics.map((t) => t.name!)).map((name) => {
        const t = state.topics.get(name)
        if (!t) return { errorCode: 3, name, partitions: [] }
        return {
          errorCode: 0,
          name,
          topicId: t.topicId,
          partitions: t.leaders.map((leader, i) => ({
            errorCode: leader < 0 ? 5 : 0,
            partitionIndex: i,
            leaderId: leader,
            leaderEpoch: t.leaderEpoch ?? 0,
            replicaNodes: [Math.max(leader, 0)],
            isrNodes: [Math.max(leader, 0)],
          })),
        }
      }),
    }))
  }

  /** Scripts this broker's answer to `api`. */
  on<A extends Api>(api: A, handler: Handler<A>): this {
    this.handlers.set(api.key, handler)
    return this
  }

  versionFor(api: Api): number {
    return negotiateVersion(api, this.apiVersions.get(api.key), this.broker)
  }

  async request<A extends Api>(api: A, body: unknown, options: { version?: number; signal?: AbortSignal } = {}) {
    const version = options.version ?? this.versionFor(api)
    const sent = decodeRequest(api, encodeRequest(api, version, 1, 'test', body as never).subarray(4)).body
    this.log.push({ broker: this.nodeId, api: api.name, version, body: sent })
    const handler = this.handlers.get(api.key)
    if (!handler) throw new Error(`fake broker ${this.nodeId} has no answer for ${api.name}`)
    await Promise.resolve()
    if (options.signal?.aborted) throw options.signal.reason
    const answer = await handler(sent, version, this)
    return decodeResponse(api, version, encodeResponse(api, version, 1, answer as never).subarray(4))
  }
}

export interface FakeCluster {
  cluster: Cluster
  brokers: FakeBroker[]
  state: ClusterState
  /** Every request sent, in order. */
  sent: SentRequest[]
  /** The requests of one API, e.g. `requests('ListOffsets')`. */
  requests(api: string): SentRequest[]
}

/** A Cluster whose connections are `count` fake brokers (node ids 1..count). */
export function fakeCluster(count: number, state: Partial<ClusterState> = {}): FakeCluster {
  const sent: SentRequest[] = []
  const full: ClusterState = { controllerId: state.controllerId ?? 1, topics: state.topics ?? new Map() }
  const brokers: FakeBroker[] = []
  for (let i = 1; i <= count; i++) brokers.push(new FakeBroker(i, 19000 + i, sent, full, () => brokers))
  const cluster = new Cluster({
    bootstrap: brokers.map((b) => b.broker),
    metadataMinRefreshIntervalMs: 1,
  })
  const byAddress = new Map(brokers.map((b) => [b.broker, b]))
  const connect = async (address: { host: string; port: number }) => {
    const b = byAddress.get(`${address.host}:${address.port}`)
    if (!b || b.down) throw new ConnectionError('connection refused', `${address.host}:${address.port}`)
    return b as unknown as Connection
  }
  cluster.pool.get = (address) => connect(address)
  cluster.pool.getAny = async (addresses) => {
    for (const a of addresses) {
      const b = byAddress.get(`${a.host}:${a.port}`)
      if (b && !b.down) return b as unknown as Connection
    }
    throw new ConnectionError('no broker answered', addresses.map((a) => `${a.host}:${a.port}`).join(','))
  }
  return { cluster, brokers, state: full, sent, requests: (api) => sent.filter((r) => r.api === api) }
}
