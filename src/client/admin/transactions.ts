import { DescribeProducers } from '../../protocol/apis/describe-producers.js'
import { DescribeTransactions } from '../../protocol/apis/describe-transactions.js'
import { ListTransactions } from '../../protocol/apis/list-transactions.js'
import { ErrorCode } from '../../protocol/error-codes.js'
import { KafkaError } from '../../protocol/kafka-error.js'
import { ConfigError } from '../errors.js'
import { fanOut, groupRoutes } from './fan-out.js'
import { byTopic, checkPartition, tpKey } from './records.js'
import { firstDuplicate, routeToCoordinators, routeToLeaders } from './routing.js'
import type { AdminRuntime } from './runtime.js'
import type { AdminCallOptions, BrokerFailure, Outcome, TopicPartition } from './types.js'

/** Options of `listTransactions`. */
export interface ListTransactionsOptions extends AdminCallOptions {
  /** Only transactions in these states, e.g. `['Ongoing']`. Default all. */
  states?: readonly string[]
  /** Only transactions of these producer ids. Default all. */
  producerIds?: ReadonlyArray<bigint | number>
  /** Only transactions open for longer than this many ms (ListTransactions v1+, KIP-994). */
  minDurationMs?: number
  /** Only transactional ids matching this (Java) regular expression (ListTransactions v2+, KIP-1152). */
  transactionalIdPattern?: string
}

/** A transaction as ListTransactions reports it. */
export interface ListedTransaction {
  transactionalId: string
  producerId: bigint
  /** Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, Empty, Dead, PrepareEpochFence. */
  state: string
  /** Node id of the transaction coordinator (the broker that listed it). */
  coordinator: number
}

/** Every broker's transactions; brokers that could not list theirs are in `errors`. */
export interface TransactionListing {
  /** Ordered by transactional id. */
  transactions: ListedTransaction[]
  /** State filters some broker did not recognise. */
  unknownStates: string[]
  errors: BrokerFailure[]
}

/** Lists transactions: every broker is asked for those its transaction coordinator owns (ListTransactions, KIP-664). */
export async function listTransactions(
  rt: AdminRuntime,
  options: ListTransactionsOptions = {},
): Promise<TransactionListing> {
  for (const id of options.producerIds ?? [])
    if (typeof id === 'number' && !Number.isInteger(id))
      throw new ConfigError(`listTransactions: producer id ${id} is not an integer`)
  if (options.minDurationMs !== undefined && (!Number.isInteger(options.minDurationMs) || options.minDurationMs < 0))
    throw new ConfigError(
      `listTransactions: minDurationMs must be a non-negative integer, got ${options.minDurationMs}`,
    )
  const call = rt.call('listTransactions', options)
  try {
    const brokers = await rt.brokers(call)
    type Answer =
      | { broker: number; transactions: ListedTransaction[]; unknownStates: string[]; error?: undefined }
      | BrokerFailure
    const answers = await fanOut<number, Answer>(
      rt,
      call,
      brokers.map((b) => b.nodeId),
      {
        route: async (ids) => ({ routes: groupRoutes(ids.map((id) => [id, rt.broker(id)])) }),
        send: async (conn, ids) => {
          const broker = ids[0]!
          const version = conn.versionFor(ListTransactions)
          const needs =
            options.transactionalIdPattern !== undefined && version < 2
              ? 'transactionalIdPattern needs ListTransactions v2+'
              : options.minDurationMs !== undefined && version < 1
                ? 'minDurationMs needs ListTransactions v1+'
                : undefined
          if (needs) {
            const errorMessage = `${needs}; the broker speaks up to v${version}`
            const error = KafkaError.fromCode(ErrorCode.UNSUPPORTED_VERSION, {
              api: 'ListTransactions',
              broker,
              errorMessage,
            })
            return new Map([[broker, { broker, error }]])
          }
          const res = await call.request(
            conn,
            ListTransactions,
            {
              stateFilters: [...(options.states ?? [])],
              producerIdFilters: (options.producerIds ?? []).map((id) => BigInt(id)),
              ...(options.minDurationMs !== undefined ? { durationFilter: BigInt(options.minDurationMs) } : {}),
              ...(options.transactionalIdPattern !== undefined
                ? { transactionalIdPattern: options.transactionalIdPattern }
                : {}),
            },
            version,
          )
          if (res.errorCode) throw KafkaError.fromCode(res.errorCode, { api: 'ListTransactions', broker })
          const transactions = res.transactionStates.map((t) => ({
            transactionalId: t.transactionalId,
            producerId: t.producerId,
            state: t.transactionState,
            coordinator: broker,
          }))
          return new Map([[broker, { broker, transactions, unknownStates: res.unknownStateFilters }]])
        },
        fail: (broker, error) => ({ broker, error }),
      },
    )
    const transactions: ListedTransaction[] = []
    const unknownStates = new Set<string>()
    const errors: BrokerFailure[] = []
    for (const a of answers) {
      if (a.error) {
        errors.push({ broker: a.broker, error: a.error })
        continue
      }
      const ok = a as Extract<Answer, { transactions: unknown }>
      transactions.push(...ok.transactions)
      for (const s of ok.unknownStates) unknownStates.add(s)
    }
    transactions.sort((a, b) =>
      a.transactionalId < b.transactionalId ? -1 : a.transactionalId > b.transactionalId ? 1 : 0,
    )
    return { transactions, unknownStates: [...unknownStates], errors }
  } finally {
    call.finish()
  }
}

/** A described transaction, or why not (TRANSACTIONAL_ID_NOT_FOUND for an id never used). */
export type TransactionDescription = Outcome<
  { transactionalId: string },
  {
    state: string
    producerId: bigint
    producerEpoch: number
    /** The transaction timeout the producer asked for. */
    timeoutMs: number
    /** When the current transaction started (ms since the epoch), or null when none is open. */
    startTimeMs: number | null
    /** Node id of the transaction coordinator. */
    coordinator: number
    /** Partitions in the transaction (while it completes: only those still awaiting their markers). */
    topics: Array<{ topic: string; partitions: number[] }>
  }
>

/** Describes transactions at their coordinators (DescribeTransactions, KIP-664). Results in the order given. */
export async function describeTransactions(
  rt: AdminRuntime,
  transactionalIds: readonly string[],
  options: AdminCallOptions = {},
): Promise<TransactionDescription[]> {
  for (const id of transactionalIds)
    if (typeof id !== 'string' || id === '')
      throw new ConfigError('describeTransactions: a transactional id must be a non-empty string')
  const call = rt.call('describeTransactions', options)
  try {
    return await fanOut(rt, call, [...new Set(transactionalIds)], {
      route: (ids) => routeToCoordinators(rt, 'transaction', ids, (id) => id, call),
      send: async (conn, ids, _call, target) => {
        const res = await call.request(conn, DescribeTransactions, { transactionalIds: [...ids] })
        const out = new Map<string, TransactionDescription>()
        for (const t of res.transactionStates) {
          if (!ids.includes(t.transactionalId)) continue
          if (t.errorCode !== ErrorCode.NONE) {
            const context = { api: 'DescribeTransactions', broker: conn.broker, transactionalId: t.transactionalId }
            out.set(t.transactionalId, {
              transactionalId: t.transactionalId,
              error: KafkaError.fromCode(t.errorCode, context),
            })
            continue
          }
          out.set(t.transactionalId, {
            transactionalId: t.transactionalId,
            state: t.transactionState,
            producerId: t.producerId,
            producerEpoch: t.producerEpoch,
            timeoutMs: t.transactionTimeoutMs,
            startTimeMs: t.transactionStartTimeMs >= 0n ? Number(t.transactionStartTimeMs) : null,
            coordinator: target.nodeId,
            topics: t.topics.map((x) => ({ topic: x.topic, partitions: x.partitions })),
          })
        }
        return out
      },
      fail: (transactionalId, error) => ({ transactionalId, error }),
    })
  } finally {
    call.finish()
  }
}

/** A producer writing to a partition, as the partition's leader knows it. */
export interface ProducerState {
  producerId: bigint
  producerEpoch: number
  /** The last sequence number appended (-1 if none). */
  lastSequence: number
  /** The timestamp of the last record appended (-1 if none). */
  lastTimestamp: bigint
  coordinatorEpoch: number
  /** The first offset of the producer's open transaction on this partition, or null when none is open. */
  currentTransactionStartOffset: bigint | null
}

/** A partition's active producers, or why they could not be described. */
export type PartitionProducers = Outcome<TopicPartition, { producers: ProducerState[] }>

/** Describes the active producers of partitions (DescribeProducers, KIP-664), asking each partition's leader. */
export async function describeProducers(
  rt: AdminRuntime,
  partitions: readonly TopicPartition[],
  options: AdminCallOptions = {},
): Promise<PartitionProducers[]> {
  for (const p of partitions) checkPartition('describeProducers', p)
  const dup = firstDuplicate(partitions, tpKey)
  if (dup !== undefined) throw new ConfigError(`describeProducers: ${dup} is listed twice`)
  const call = rt.call('describeProducers', options)
  try {
    return await fanOut(rt, call, partitions, {
      route: (items) => routeToLeaders(rt, items, call, 'DescribeProducers'),
      send: async (conn, items) => {
        const res = await call.request(conn, DescribeProducers, {
          topics: byTopic(items).map(([name, ps]) => ({ name, partitionIndexes: ps.map((p) => p.partition) })),
        })
        const answers = new Map(
          res.topics.flatMap((t) =>
            t.partitions.map((p) => [tpKey({ topic: t.name, partition: p.partitionIndex }), p]),
          ),
        )
        const out = new Map<TopicPartition, PartitionProducers>()
        for (const item of items) {
          const p = answers.get(tpKey(item))
          if (!p) continue
          const id = { topic: item.topic, partition: item.partition }
          if (p.errorCode !== ErrorCode.NONE) {
            const context = { api: 'DescribeProducers', broker: conn.broker, ...id, errorMessage: p.errorMessage }
            out.set(item, { ...id, error: KafkaError.fromCode(p.errorCode, context) })
            continue
          }
          out.set(item, {
            ...id,
            producers: p.activeProducers.map((s) => ({
              producerId: s.producerId,
              producerEpoch: s.producerEpoch,
              lastSequence: s.lastSequence,
              lastTimestamp: s.lastTimestamp,
              coordinatorEpoch: s.coordinatorEpoch,
              currentTransactionStartOffset: s.currentTxnStartOffset >= 0n ? s.currentTxnStartOffset : null,
            })),
          })
        }
        return out
      },
      fail: (item, error) => ({ topic: item.topic, partition: item.partition, error }),
    })
  } finally {
    call.finish()
  }
}
