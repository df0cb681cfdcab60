import { ApiVersions } from '../../protocol/apis/api-versions.js'
import { DescribeCluster } from '../../protocol/apis/describe-cluster.js'
import { ALL_APIS } from '../../protocol/apis/index.js'
import { Metadata } from '../../protocol/apis/metadata.js'
import { KafkaError } from '../../protocol/kafka-error.js'
import type { BrokerApiRange } from '../versions.js'
import { fanOut, groupRoutes } from './fan-out.js'
import type { AdminRuntime } from './runtime.js'
import { type AclOperation, type AdminCallOptions, decodeAuthorizedOperations, type Outcome } from './types.js'

/** A broker of the cluster. */
export interface BrokerDescription {
  nodeId: number
  /** The broker's address on the listener the client is connected through. */
  host: string
  port: number
  rack: string | null
  /** Fenced by the controller (DescribeCluster v2+, only listed with `includeFencedBrokers`). */
  fenced?: boolean
}

/** Options of `describeCluster`. */
export interface DescribeClusterOptions extends AdminCallOptions {
  /** Also report what the caller may do with the cluster (KIP-430). Default false. */
  includeAuthorizedOperations?: boolean
  /** Also list fenced brokers (DescribeCluster v2+, KIP-1073). Default false. */
  includeFencedBrokers?: boolean
}

/** The cluster as a broker describes it. */
export interface ClusterDescription {
  clusterId: string
  /**
   * The controller's node id as brokers report it, or null if none. In KRaft this is a live broker chosen at
   * random (brokers forward controller requests, KIP-590), not a controller quorum voter.
   */
  controller: number | null
  /** Ordered by node id. */
  brokers: BrokerDescription[]
  /** Present when asked for with `includeAuthorizedOperations`. */
  authorizedOperations?: AclOperation[]
}

/**
 * Describes the cluster (DescribeCluster, KIP-700; Metadata on a broker that does not offer it): its id, the
 * controller brokers name, and the brokers.
 */
export async function describeCluster(
  rt: AdminRuntime,
  options: DescribeClusterOptions = {},
): Promise<ClusterDescription> {
  const includeOps = options.includeAuthorizedOperations ?? false
  return rt.run('describeCluster', options, async (call) => {
    const conn = await rt.cluster.anyConnection('admin', call.signal)
    if (!conn.apiVersions.has(DescribeCluster.key)) {
      const md = await call.request(conn, Metadata, { topics: [], allowAutoTopicCreation: false })
      return {
        clusterId: md.clusterId ?? '',
        controller: md.controllerId >= 0 ? md.controllerId : null,
        brokers: md.brokers
          .map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack }))
          .sort((a, b) => a.nodeId - b.nodeId),
      }
    }
    const version = conn.versionFor(DescribeCluster)
    const res = await call.request(
      conn,
      DescribeCluster,
      {
        includeClusterAuthorizedOperations: includeOps,
        // v1+: the brokers (1), not the controllers (2), which only a controller describes (KIP-919).
        ...(version >= 1 ? { endpointType: 1 } : {}),
        ...(version >= 2 ? { includeFencedBrokers: options.includeFencedBrokers ?? false } : {}),
      },
      version,
    )
    if (res.errorCode)
      throw KafkaError.fromCode(res.errorCode, {
        api: 'DescribeCluster',
        broker: conn.broker,
        errorMessage: res.errorMessage,
      })
    const ops = includeOps ? decodeAuthorizedOperations(res.clusterAuthorizedOperations) : undefined
    return {
      clusterId: res.clusterId,
      controller: res.controllerId >= 0 ? res.controllerId : null,
      brokers: res.brokers
        .map((b) => ({
          nodeId: b.brokerId,
          host: b.host,
          port: b.port,
          rack: b.rack,
          ...(version >= 2 ? { fenced: b.isFenced } : {}),
        }))
        .sort((a, b) => a.nodeId - b.nodeId),
      ...(ops ? { authorizedOperations: ops } : {}),
    }
  })
}

/** One API a broker offers. */
export interface BrokerApi extends BrokerApiRange {
  key: number
  /** Kafka's name for the API, when Skiff knows it. */
  name?: string
  /** The version Skiff uses with this broker, or null when none is common to both. */
  usable: number | null
}

/** What one broker speaks (ApiVersions), or why it could not be asked. */
export type BrokerApiVersions = Outcome<
  { broker: number },
  {
    /** Ordered by api key. */
    apis: BrokerApi[]
    /** Finalized feature levels (KIP-584), e.g. `metadata.version`, `transaction.version`, `group.version`. */
    features: Record<string, number>
  }
>

/** Each broker's API versions and finalized features, as its connection's ApiVersions handshake reported them. */
export async function describeApiVersions(
  rt: AdminRuntime,
  options: AdminCallOptions = {},
): Promise<BrokerApiVersions[]> {
  const call = rt.call('describeApiVersions', options)
  const names = new Map(ALL_APIS.map((a) => [a.key, a]))
  try {
    const brokers = await rt.brokers(call)
    return await fanOut<number, BrokerApiVersions>(
      rt,
      call,
      brokers.map((b) => b.nodeId),
      {
        route: async (ids) => ({ routes: groupRoutes(ids.map((id) => [id, rt.broker(id)])) }),
        send: async (conn, ids) => {
          const broker = ids[0]!
          const apis = [...conn.apiVersions]
            .sort(([a], [b]) => a - b)
            .map(([key, range]): BrokerApi => {
              const api = key === ApiVersions.key ? ApiVersions : names.get(key)
              let usable: number | null = null
              if (api) {
                const max = Math.min(api.versions.max, range.max)
                usable = max >= Math.max(api.versions.min, range.min) ? max : null
              }
              return { key, ...(api ? { name: api.name } : {}), min: range.min, max: range.max, usable }
            })
          const result: BrokerApiVersions = { broker, apis, features: Object.fromEntries(conn.finalizedFeatures) }
          return new Map([[broker, result]])
        },
        fail: (broker, error) => ({ broker, error }),
      },
    )
  } finally {
    call.finish()
  }
}
