import type tls from 'node:tls'
import { ConfigError } from '../errors.js'
import type { SaslOptions } from '../sasl/index.js'

/** Where and how to reach a Kafka cluster; shared by producers, consumers and the admin client. */
export interface ClientOptions {
  /** Bootstrap brokers: `host:port` strings or one comma-separated string. Any one that answers is enough. */
  bootstrap: string | readonly string[]
  /** Sent with every request; brokers log it and quotas key on it. Default `skiff`. */
  clientId?: string
  /** `true` for TLS with Node's defaults, or `node:tls` options (ca, cert, key, ...). */
  tls?: boolean | tls.ConnectionOptions
  /** SASL authentication: PLAIN, SCRAM-SHA-256/512, or OAUTHBEARER with your token provider. */
  sasl?: SaslOptions
  /** Default 10 000. */
  connectTimeoutMs?: number
  /** Default 30 000. */
  requestTimeoutMs?: number
  /** Requests in flight per connection. Default 5 (Kafka's limit for idempotent produce ordering). */
  maxInFlight?: number
  /** First reconnect delay after a failure; doubles per consecutive failure. Default 100. */
  reconnectBackoffMs?: number
  /** Cap of the reconnect delay. Default 10 000. */
  reconnectBackoffMaxMs?: number
  /** Metadata older than this is refreshed on next use. Default 300 000 (Kafka's metadata.max.age.ms). */
  metadataMaxAgeMs?: number
  /** Refreshes triggered by errors happen at most this often (the "bounded refresh rate"). Default 100. */
  metadataMinRefreshIntervalMs?: number
  /** A response frame above this is refused before it is buffered. Default 256 MiB. */
  maxResponseBytes?: number
}

export interface BrokerAddress {
  host: string
  port: number
}

/** Parses `host:port` (IPv6 as `[::1]:9092`). */
export function parseBrokerAddress(text: string): BrokerAddress {
  const t = text.trim()
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(t) ?? /^([^:]+):(\d+)$/.exec(t)
  if (!m) throw new ConfigError(`not a broker address (host:port): ${JSON.stringify(text)}`)
  const port = Number(m[2])
  if (port <= 0 || port > 65535) throw new ConfigError(`invalid port in broker address ${JSON.stringify(text)}`)
  return { host: m[1]!, port }
}

export function bootstrapAddresses(bootstrap: ClientOptions['bootstrap']): BrokerAddress[] {
  const list = (typeof bootstrap === 'string' ? bootstrap.split(',') : [...bootstrap])
    .map((s) => s.trim())
    .filter(Boolean)
  if (list.length === 0) throw new ConfigError('bootstrap needs at least one host:port')
  return list.map(parseBrokerAddress)
}

export interface ResolvedClientOptions {
  bootstrap: BrokerAddress[]
  clientId: string
  tls: ClientOptions['tls']
  sasl: SaslOptions | undefined
  connectTimeoutMs: number
  requestTimeoutMs: number
  maxInFlight: number
  reconnectBackoffMs: number
  reconnectBackoffMaxMs: number
  metadataMaxAgeMs: number
  metadataMinRefreshIntervalMs: number
  maxResponseBytes: number
}

export function resolveClientOptions(o: ClientOptions): ResolvedClientOptions {
  if (!o || typeof o !== 'object') throw new ConfigError('client options are required (at least { bootstrap })')
  const num = (name: keyof ClientOptions, v: unknown, def: number): number => {
    if (v === undefined) return def
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      throw new ConfigError(`${name} must be a positive number, got ${String(v)}`)
    return v
  }
  return {
    bootstrap: bootstrapAddresses(o.bootstrap),
    clientId: o.clientId ?? 'skiff',
    tls: o.tls,
    sasl: o.sasl,
    connectTimeoutMs: num('connectTimeoutMs', o.connectTimeoutMs, 10_000),
    requestTimeoutMs: num('requestTimeoutMs', o.requestTimeoutMs, 30_000),
    maxInFlight: num('maxInFlight', o.maxInFlight, 5),
    reconnectBackoffMs: num('reconnectBackoffMs', o.reconnectBackoffMs, 100),
    reconnectBackoffMaxMs: num('reconnectBackoffMaxMs', o.reconnectBackoffMaxMs, 10_000),
    metadataMaxAgeMs: num('metadataMaxAgeMs', o.metadataMaxAgeMs, 300_000),
    metadataMinRefreshIntervalMs: num('metadataMinRefreshIntervalMs', o.metadataMinRefreshIntervalMs, 100),
    maxResponseBytes: num('maxResponseBytes', o.maxResponseBytes, 256 * 1024 * 1024),
  }
}
