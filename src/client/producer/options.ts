import type { CodecName } from '../../compression/index.js'
import type { Cluster } from '../cluster/cluster.js'
import type { ClientOptions } from '../cluster/options.js'
import { ConfigError } from '../errors.js'
import type { Message } from './record.js'

/** A compression codec for produced batches. */
export type CompressionOption = CodecName | 'none'

/**
 * Chooses a partition for a record without an explicit one. Gets the message as given to `send`/`produce`, the
 * topic's partition count and the topic; returns a partition in `[0, partitionCount)`.
 */
export type PartitionerFunction = (message: Message, partitionCount: number, topic: string) => number

/**
 * - `'default'`: as Kafka's Java client (3.3+): keyed records by murmur2 of the key, records without a key on a sticky
 *   partition that changes after about `batchBytes` bytes, chosen with a preference for less loaded partitions
 *   (KIP-480, KIP-794).
 * - `'murmur2'`: keyed records as `'default'`; records without a key each on a random partition (librdkafka's
 *   `murmur2_random`).
 * - `'sticky'`: every record on the sticky partition, keys ignored (Java's `partitioner.ignore.keys=true`).
 * - a function: your own.
 */
export type PartitionerOption = 'default' | 'murmur2' | 'sticky' | PartitionerFunction

interface ProducerSettings {
  /**
   * 0: no acknowledgement (the broker sends no response, records complete with offset -1); 1: the leader wrote it;
   * -1 / `'all'`: every in-sync replica has it. Default `'all'`.
   */
  acks?: 0 | 1 | -1 | 'all'
  /**
   * Idempotent delivery (KIP-98): retries never duplicate or reorder records of a partition. Needs acks all and at
   * most 5 requests in flight per partition. Default true, unless `acks` is set to 0 or 1 (as the Java client);
   * `true` with acks 0 or 1 is a ConfigError.
   */
  idempotent?: boolean
  /** How long a batch waits for more records before it is sent. Default 5. */
  lingerMs?: number
  /** Largest batch (before compression); one record larger than this is sent alone. Default 1 MiB. */
  batchBytes?: number
  /** Largest Produce request. A record above it is refused with RecordTooLargeToSendError. Default 16 MiB. */
  maxRequestBytes?: number
  /** Bytes of records held until acknowledged; beyond it `send` waits (up to `maxBlockMs`). Default 32 MiB. */
  bufferBytes?: number
  /** How long `send` may wait for buffer room or for a topic's metadata. Default 60 000. */
  maxBlockMs?: number
  /** Per producer, or a default and per-topic overrides. Default `'none'`. */
  compression?: CompressionOption | { default?: CompressionOption; topics?: Record<string, CompressionOption> }
  /** Default `'default'` (the Java client's behaviour). */
  partitioner?: PartitionerOption
  /**
   * A record not acknowledged this long after it was handed over fails with DeliveryTimeoutError, retries
   * included. Default 120 000.
   */
  deliveryTimeoutMs?: number
  /** First delay before a retry; doubles per attempt up to `retryBackoffMaxMs`. Default 100. */
  retryBackoffMs?: number
  /** Default 1 000. */
  retryBackoffMaxMs?: number
  /** Produce requests in flight per broker. At most 5 when idempotent. Default 5. */
  maxInFlight?: number
  /** Produce request timeout, also the broker's wait for acks. Default: the cluster's `requestTimeoutMs`. */
  requestTimeoutMs?: number
  /** Makes the producer transactional (and idempotent). */
  transactionalId?: string
  /** The coordinator aborts a transaction open longer than this. Default 60 000. */
  transactionTimeoutMs?: number
}

/** Options of a {@link Producer}: where the cluster is (or a shared {@link Cluster}), and how to produce. */
export type ProducerOptions = (ClientOptions | { cluster: Cluster }) & ProducerSettings

export interface ResolvedProducerOptions {
  acks: 0 | 1 | -1
  idempotent: boolean
  lingerMs: number
  batchBytes: number
  maxRequestBytes: number
  bufferBytes: number
  maxBlockMs: number
  compression: { default: CompressionOption; topics: ReadonlyMap<string, CompressionOption> }
  partitioner: PartitionerOption
  deliveryTimeoutMs: number
  retryBackoffMs: number
  retryBackoffMaxMs: number
  maxInFlight: number
  requestTimeoutMs: number | undefined
  transactionalId: string | null
  transactionTimeoutMs: number
}

const CODECS = new Set(['none', 'gzip', 'snappy', 'lz4', 'zstd'])

export function resolveProducerOptions(o: ProducerOptions): ResolvedProducerOptions {
  const num = (name: keyof ProducerSettings, def: number, min = 1): number => {
    const v = (o as unknown as Record<string, unknown>)[name]
    if (v === undefined) return def
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min)
      throw new ConfigError(`${name} must be a number ≥ ${min}, got ${String(v)}`)
    return v
  }
  const acksIn = o.acks ?? 'all'
  if (![0, 1, -1, 'all'].includes(acksIn))
    throw new ConfigError(`acks must be 0, 1, -1 or 'all', got ${String(acksIn)}`)
  const acks = acksIn === 'all' ? -1 : acksIn
  const transactionalId = o.transactionalId ?? null
  if (transactionalId !== null && (typeof transactionalId !== 'string' || transactionalId.length === 0))
    throw new ConfigError('transactionalId must be a non-empty string')
  let idempotent = o.idempotent ?? (o.acks === undefined || acks === -1)
  if (transactionalId !== null) {
    if (o.idempotent === false)
      throw new ConfigError('a transactional producer is idempotent: idempotent cannot be false')
    idempotent = true
  }
  if (idempotent && acks !== -1)
    throw new ConfigError(
      `an idempotent producer needs acks 'all' (got ${acksIn}); set idempotent: false to use acks ${acksIn}`,
    )
  const maxInFlight = num('maxInFlight', 5)
  if (idempotent && maxInFlight > 5)
    throw new ConfigError(`an idempotent producer keeps at most 5 requests in flight (got maxInFlight ${maxInFlight})`)
  const c = o.compression ?? 'none'
  const compression =
    typeof c === 'string'
      ? { default: c, topics: new Map<string, CompressionOption>() }
      : { default: c.default ?? 'none', topics: new Map(Object.entries(c.topics ?? {})) }
  for (const codec of [compression.default, ...compression.topics.values()])
    if (!CODECS.has(codec)) throw new ConfigError(`unknown compression ${JSON.stringify(codec)}`)
  const partitioner = o.partitioner ?? 'default'
  if (typeof partitioner !== 'function' && !['default', 'murmur2', 'sticky'].includes(partitioner))
    throw new ConfigError(`unknown partitioner ${JSON.stringify(partitioner)}`)
  const batchBytes = num('batchBytes', 1024 * 1024, 64)
  const maxRequestBytes = num('maxRequestBytes', 16 * 1024 * 1024, 1024)
  const retryBackoffMs = num('retryBackoffMs', 100)
  return {
    acks,
    idempotent,
    lingerMs: num('lingerMs', 5, 0),
    batchBytes,
    maxRequestBytes,
    bufferBytes: num('bufferBytes', 32 * 1024 * 1024, 1024),
    maxBlockMs: num('maxBlockMs', 60_000, 0),
    compression,
    partitioner,
    deliveryTimeoutMs: num('deliveryTimeoutMs', 120_000),
    retryBackoffMs,
    retryBackoffMaxMs: Math.max(retryBackoffMs, num('retryBackoffMaxMs', 1_000)),
    maxInFlight,
    requestTimeoutMs: o.requestTimeoutMs === undefined ? undefined : num('requestTimeoutMs', 30_000),
    transactionalId,
    transactionTimeoutMs: num('transactionTimeoutMs', 60_000),
  }
}
