import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { expect } from 'vitest'
import type { Connection } from '../../src/client/connection.js'
import type { Api } from '../../src/protocol/api.js'
import { CreateTopics } from '../../src/protocol/apis/create-topics.js'
import { DescribeGroups } from '../../src/protocol/apis/describe-groups.js'
import { DescribeTransactions } from '../../src/protocol/apis/describe-transactions.js'
import { Fetch } from '../../src/protocol/apis/fetch.js'
import { FindCoordinator } from '../../src/protocol/apis/find-coordinator.js'
import { ListOffsets } from '../../src/protocol/apis/list-offsets.js'
import { Metadata } from '../../src/protocol/apis/metadata.js'
import { Produce } from '../../src/protocol/apis/produce.js'
import { ErrorCode, errorByCode } from '../../src/protocol/error-codes.js'
import { encodeRecordBatch, type RecordBatchInput, type RecordInput } from '../../src/protocol/records/index.js'
import { testKafka, uniqueTopic } from './kafka.js'

/** Every version of `api` both this client and the broker speak, ascending. */
export function versionsBoth(conn: Connection, api: Api): number[] {
  const b = conn.apiVersions.get(api.key)
  if (!b) return []
  const out: number[] = []
  for (let v = Math.max(b.min, api.versions.min); v <= Math.min(b.max, api.versions.max); v++) out.push(v)
  return out
}

/** The versions of `api` in `[from, to]` that both sides speak. */
export function versionsBetween(conn: Connection, api: Api, from: number, to = Number.MAX_SAFE_INTEGER): number[] {
  return versionsBoth(conn, api).filter((v) => v >= from && v <= to)
}

/** Kafka's name for an error code, so a failed assertion reads `expected 'NONE', got 'NOT_COORDINATOR'`. */
export function errName(code: number): string {
  return errorByCode(code).name
}

/** Says what a test could not check against this broker, and why (visible in the run's output). */
export function note(message: string): void {
  process.stderr.write(`[skiff] Kafka ${testKafka().version}: ${message}\n`)
}

/** Polls `probe` until `done` holds (or the deadline passes, then returns the last value for the caller to assert). */
export async function eventually<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 10_000, intervalMs = 100 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (done(value) || Date.now() > deadline) return value
    await sleep(intervalMs)
  }
}

export interface TestTopic {
  name: string
  topicId: string
  partitions: number
  /** Leader epoch of each partition, from Metadata. */
  leaderEpochs: number[]
}

/**
 * Creates a topic and waits until every partition has a leader that serves it (ListOffsets answers NONE), so the
 * test's first Produce or Fetch is not racing the metadata propagation.
 */
export async function createTopic(
  conn: Connection,
  options: { prefix?: string; partitions?: number; configs?: Array<{ name: string; value: string }> } = {},
): Promise<TestTopic> {
  const name = uniqueTopic(options.prefix)
  const partitions = options.partitions ?? 1
  const created = await conn.request(CreateTopics, {
    topics: [{ name, numPartitions: partitions, replicationFactor: 1, configs: options.configs ?? [] }],
    timeoutMs: 30_000,
  })
  expect(errName(created.topics[0]!.errorCode), `create ${name}`).toBe('NONE')
  const indexes = Array.from({ length: partitions }, (_, i) => i)
  const served = await eventually(
    () =>
      conn.request(ListOffsets, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [{ name, partitions: indexes.map((p) => ({ partitionIndex: p, timestamp: -1n })) }],
      }),
    (r) => r.topics[0]!.partitions.every((p) => p.errorCode === 0),
  )
  expect(served.topics[0]!.partitions.map((p) => errName(p.errorCode))).toEqual(indexes.map(() => 'NONE'))
  const md = await eventually(
    () => conn.request(Metadata, { topics: [{ name }], allowAutoTopicCreation: false }),
    (m) => m.topics[0]!.errorCode === 0 && m.topics[0]!.partitions.length === partitions,
  )
  const topic = md.topics[0]!
  const leaderEpochs = indexes.map((p) => topic.partitions.find((x) => x.partitionIndex === p)!.leaderEpoch)
  return { name, topicId: created.topics[0]!.topicId, partitions, leaderEpochs }
}

/** Records with distinct keys, values and a header each, for comparing what comes back. */
export function sampleRecords(count: number, tag = 'r', timestamps?: number[]): RecordInput[] {
  return Array.from({ length: count }, (_, i) => ({
    key: Buffer.from(`${tag}-key-${i}`),
    value: Buffer.from(`${tag}-value-${i}-${'x'.repeat(i * 7)}`),
    headers: [{ key: 'idx', value: Buffer.from(String(i)) }],
    timestamp: timestamps?.[i],
  }))
}

export function batch(records: readonly RecordInput[], options: Omit<RecordBatchInput, 'records'> = {}): Buffer {
  return encodeRecordBatch({ timestamp: Date.now(), ...options, records })
}

/**
 * One Produce of one record set to one partition; resolves with that partition's response, after checking the
 * response names the topic as the request did (by name up to v12, by id from v13).
 */
export async function produce(
  conn: Connection,
  topic: Pick<TestTopic, 'name' | 'topicId'>,
  partition: number,
  records: Buffer,
  options: { acks?: number; version?: number; transactionalId?: string | null } = {},
) {
  const version = options.version ?? conn.versionFor(Produce)
  const res = await conn.request(
    Produce,
    {
      transactionalId: options.transactionalId ?? null,
      acks: options.acks ?? -1,
      timeoutMs: 10_000,
      topicData: [{ name: topic.name, topicId: topic.topicId, partitionData: [{ index: partition, records }] }],
    },
    { version },
  )
  expect(res.responses, `Produce v${version}`).toHaveLength(1)
  const t = res.responses[0]!
  if (version >= 13) expect(t.topicId, `Produce v${version} topicId`).toBe(topic.topicId)
  else expect(t.name, `Produce v${version} name`).toBe(topic.name)
  expect(t.partitionResponses.map((p) => p.index)).toEqual([partition])
  return t.partitionResponses[0]!
}

/** One Fetch of one partition; resolves with that partition's data after checking the response names the topic. */
export async function fetchPartition(
  conn: Connection,
  topic: Pick<TestTopic, 'name' | 'topicId'>,
  partition: number,
  fetchOffset: bigint,
  options: { version?: number; isolationLevel?: 0 | 1; maxWaitMs?: number; partitionMaxBytes?: number } = {},
) {
  const version = options.version ?? conn.versionFor(Fetch)
  const res = await conn.request(
    Fetch,
    {
      maxWaitMs: options.maxWaitMs ?? 100,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: options.isolationLevel ?? 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: topic.name,
          topicId: topic.topicId,
          partitions: [{ partition, fetchOffset, partitionMaxBytes: options.partitionMaxBytes ?? 1 << 20 }],
        },
      ],
      forgottenTopicsData: [],
    },
    { version },
  )
  expect(errName(res.errorCode), `Fetch v${version}`).toBe('NONE')
  expect(res.responses, `Fetch v${version}`).toHaveLength(1)
  const t = res.responses[0]!
  if (version >= 13) expect(t.topicId, `Fetch v${version} topicId`).toBe(topic.topicId)
  else expect(t.topic, `Fetch v${version} topic`).toBe(topic.name)
  return t.partitions[0]!
}

/** ListOffsets of one partition at one timestamp (or -1 latest, -2 earliest, -3 max timestamp). */
export async function listOffset(
  conn: Connection,
  topic: string,
  partition: number,
  timestamp: bigint,
  options: { version?: number; isolationLevel?: 0 | 1 } = {},
) {
  const res = await conn.request(
    ListOffsets,
    {
      replicaId: -1,
      isolationLevel: options.isolationLevel ?? 0,
      topics: [{ name: topic, partitions: [{ partitionIndex: partition, timestamp }] }],
      timeoutMs: 10_000,
    },
    { version: options.version },
  )
  expect(res.topics[0]!.name).toBe(topic)
  return res.topics[0]!.partitions[0]!
}

/**
 * The coordinator of a group (keyType 0) or transactional id (keyType 1). The first lookup creates
 * `__consumer_offsets` / `__transaction_state`, so COORDINATOR_NOT_AVAILABLE is retried for a while. On the
 * single-broker test cluster the coordinator is the broker we are connected to, which is asserted.
 */
export async function findCoordinator(conn: Connection, key: string, keyType: 0 | 1 = 0): Promise<number> {
  // v0-3 look up one `key`; v4+ a list of `coordinatorKeys` (KIP-699).
  const request = conn.versionFor(FindCoordinator) >= 4 ? { keyType, coordinatorKeys: [key] } : { key, keyType }
  const res = await eventually(
    () => conn.request(FindCoordinator, request),
    (r) => {
      const code = r.coordinators[0]?.errorCode ?? r.errorCode
      return code !== ErrorCode.COORDINATOR_NOT_AVAILABLE && code !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  )
  const c = res.coordinators[0] ?? { errorCode: res.errorCode, nodeId: res.nodeId, host: res.host, port: res.port }
  expect(errName(c.errorCode), `FindCoordinator ${key}`).toBe('NONE')
  expect(`${c.host}:${c.port}`).toBe(conn.broker)
  return c.nodeId
}

/**
 * Waits until the group coordinator has loaded every `__consumer_offsets` partition. FindCoordinator answers as soon
 * as the topic exists, but each partition then loads on its own, and until it has, a request for a group hashed to
 * it is answered COORDINATOR_LOAD_IN_PROGRESS (retriable); on a fresh broker that makes the first tests flaky.
 */
export async function groupCoordinatorReady(conn: Connection): Promise<void> {
  await findCoordinator(conn, `skiff-warmup-${randomBytes(4).toString('hex')}`)
  // 40 random ids cover the 5 partitions of the test cluster's __consumer_offsets (all but surely).
  const groups = Array.from({ length: 40 }, () => `skiff-warmup-${randomBytes(4).toString('hex')}`)
  // Loaded: an unknown group is Dead (v0-5) or GROUP_ID_NOT_FOUND (v6).
  const loaded = (code: number) => code === ErrorCode.NONE || code === ErrorCode.GROUP_ID_NOT_FOUND
  const res = await eventually(
    () => conn.request(DescribeGroups, { groups }),
    (r) => r.groups.every((g) => loaded(g.errorCode)),
    { timeoutMs: 30_000, intervalMs: 200 },
  )
  expect(res.groups.filter((g) => !loaded(g.errorCode)).map((g) => errName(g.errorCode))).toEqual([])
}

/**
 * The same for the transaction coordinator and `__transaction_state`: until a partition has loaded, requests for
 * transactional ids hashed to it are answered NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS.
 */
export async function transactionCoordinatorReady(conn: Connection): Promise<void> {
  await findCoordinator(conn, `skiff-warmup-${randomBytes(4).toString('hex')}`, 1)
  const ids = Array.from({ length: 40 }, () => `skiff-warmup-${randomBytes(4).toString('hex')}`)
  const loaded = (code: number) => code === ErrorCode.TRANSACTIONAL_ID_NOT_FOUND
  const res = await eventually(
    () => conn.request(DescribeTransactions, { transactionalIds: ids }),
    (r) => r.transactionStates.every((s) => loaded(s.errorCode)),
    { timeoutMs: 30_000, intervalMs: 200 },
  )
  expect(res.transactionStates.filter((s) => !loaded(s.errorCode)).map((s) => errName(s.errorCode))).toEqual([])
}

/** Retries a coordinator request while the broker answers with one of `retriable` (e.g. CONCURRENT_TRANSACTIONS). */
export async function retryOn<T>(
  send: () => Promise<T>,
  errorOf: (value: T) => number,
  retriable: readonly number[] = [
    ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    ErrorCode.COORDINATOR_NOT_AVAILABLE,
    ErrorCode.CONCURRENT_TRANSACTIONS,
  ],
  timeoutMs = 15_000,
): Promise<T> {
  return eventually(send, (v) => !retriable.includes(errorOf(v)), { timeoutMs, intervalMs: 50 })
}
