import { afterEach, describe, expect, test } from 'vitest'
import { ConnectionError } from '../../../../src/client/errors.js'
import { Producer, type RecordMetadata } from '../../../../src/client/producer/index.js'
import { AddPartitionsToTxn } from '../../../../src/protocol/apis/add-partitions-to-txn.js'
import { EndTxn } from '../../../../src/protocol/apis/end-txn.js'
import { FindCoordinator } from '../../../../src/protocol/apis/find-coordinator.js'
import { InitProducerId } from '../../../../src/protocol/apis/init-producer-id.js'
import { Produce } from '../../../../src/protocol/apis/produce.js'
import { ErrorCode } from '../../../../src/protocol/error-codes.js'
import { RecordBatch } from '../../../../src/protocol/records/index.js'
import { type FakeBroker, type FakeCluster, fakeCluster } from '../admin/fake-cluster.js'

const TOPIC_ID = Buffer.alloc(16, 1).toString('base64url')

/**
 * One partition's log as an idempotent broker keeps it (shared by every fake broker, as replication would): appends
 * a batch whose sequence follows the last, answers a batch it already has with its first offset, refuses a gap with
 * OUT_OF_ORDER_SEQUENCE_NUMBER, and an unknown producer (after `forget()`) with UNKNOWN_PRODUCER_ID.
 */
class IdempotentLog {
  readonly values: string[] = []
  readonly batches: Array<{ epoch: number; seq: number; count: number; offset: number }> = []
  private known = true
  /** Batches answered as already written (retries of lost responses). */
  duplicates = 0
  epoch = -1
  lastSeq = -1

  forget(): void {
    this.known = false
  }

  append(records: Buffer): { errorCode: number; baseOffset: bigint; logStartOffset: bigint } {
    const b = new RecordBatch(records)
    const answer = (errorCode: number, baseOffset = -1) => ({
      errorCode,
      baseOffset: BigInt(baseOffset),
      logStartOffset: 0n,
    })
    const dup = this.batches.find(
      (x) => x.epoch === b.producerEpoch && x.seq === b.baseSequence && x.count === b.recordCount,
    )
    if (dup && this.known) {
      this.duplicates++
      return answer(0, dup.offset)
    }
    if (!this.known) {
      if (b.producerEpoch <= this.epoch || b.baseSequence !== 0) return answer(ErrorCode.UNKNOWN_PRODUCER_ID)
      this.known = true
    } else if (b.producerEpoch > this.epoch) {
      if (b.baseSequence !== 0 && this.epoch >= 0) return answer(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)
    } else if (b.producerEpoch < this.epoch) return answer(ErrorCode.INVALID_PRODUCER_EPOCH)
    else if (b.baseSequence !== this.lastSeq + 1) return answer(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)
    const offset = this.values.length
    for (const r of b.records()) this.values.push(r.value!.toString())
    this.epoch = b.producerEpoch
    this.lastSeq = b.baseSequence + b.recordCount - 1
    this.batches.push({ epoch: b.producerEpoch, seq: b.baseSequence, count: b.recordCount, offset })
    return answer(0, offset)
  }
}

interface Setup {
  fc: FakeCluster
  log: IdempotentLog
  leader: number
  /** Called before each Produce reaches the log; may throw (a lost response after `appendFirst`). */
  intercept?: (broker: FakeBroker, n: number) => 'ok' | 'drop-after-append' | 'drop' | number
}

function setup(): Setup {
  const fc = fakeCluster(2, { topics: new Map([['t', { topicId: TOPIC_ID, leaders: [1] }]]) })
  const s: Setup = { fc, log: new IdempotentLog(), leader: 1 }
  let n = 0
  for (const broker of fc.brokers) {
    broker.on(InitProducerId, () => ({ errorCode: 0, producerId: 5n, producerEpoch: 0, throttleTimeMs: 0 }))
    broker.on(Produce, (body, _v, b) => {
      const i = n++
      const verdict = s.intercept?.(b, i) ?? 'ok'
      if (verdict === 'drop') throw new ConnectionError('connection reset', b.broker)
      const responses = body.topicData.map((t) => ({
        name: t.name,
        topicId: t.topicId,
        partitionResponses: t.partitionData.map((p) => {
          if (b.nodeId !== s.leader)
            return { index: p.index, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, baseOffset: -1n }
          if (typeof verdict === 'number') return { index: p.index, errorCode: verdict, baseOffset: -1n }
          return { index: p.index, ...s.log.append(p.records!) }
        }),
      }))
      // Written, but the answer never arrives.
      if (verdict === 'drop-after-append') throw new ConnectionError('connection reset', b.broker)
      return { responses, throttleTimeMs: 0 }
    })
  }
  return s
}

const producers: Producer[] = []
afterEach(async () => {
  await Promise.all(producers.splice(0).map((p) => p.close({ timeoutMs: 1000 })))
})

function producer(s: Setup, options: Record<string, unknown> = {}) {
  // batchBytes 64: one record per batch, so every record is its own request.
  const p = new Producer({
    cluster: s.fc.cluster,
    lingerMs: 0,
    batchBytes: 64,
    retryBackoffMs: 2,
    retryBackoffMaxMs: 10,
    ...options,
  })
  producers.push(p)
  return p
}

/** Produces `n` records `v0..v{n-1}` to partition 0, one batch each, and waits for every callback. */
async function produceAll(p: Producer, n: number) {
  const results: Array<[Error | null, RecordMetadata | undefined]> = []
  await new Promise<void>((resolve) => {
    for (let i = 0; i < n; i++)
      p.produce({ topic: 't', value: `v${i}`, partition: 0 }, (err, meta) => {
        results[i] = [err, meta]
        if (results.filter(Boolean).length === n) resolve()
      })
  })
  return results
}

describe('the sender against scripted brokers', () => {
  test('responses lost after the write and a leader move: retries go to the new leader in order, each record once', async () => {
    const s = setup()
    const p = producer(s)
    await p.send({ topic: 't', messages: [{ value: 'warm', partition: 0 }] })
    s.log.values.length = 0
    s.log.batches.length = 0
    // Requests 3 and 4 are written by broker 1 but their answers are lost; then broker 1 is no longer the leader.
    s.intercept = (b, n) => {
      if (b.nodeId === 1 && (n === 3 || n === 4)) return 'drop-after-append'
      if (b.nodeId === 1 && n >= 5) {
        s.leader = 2
        s.fc.state.topics.get('t')!.leaders = [2]
      }
      return 'ok'
    }
    const results = await produceAll(p, 40)
    expect(results.filter(([err]) => err)).toEqual([])
    expect(s.log.values.slice(0, 40)).toEqual(Array.from({ length: 40 }, (_, i) => `v${i}`))
    expect(s.log.values).toHaveLength(40)
    // The two batches whose answers were lost were sent again and recognised as written.
    expect(s.log.duplicates).toBe(2)
    // The metadata each callback got is where the record is.
    expect(results.map(([, m]) => s.log.values[m!.offset])).toEqual(Array.from({ length: 40 }, (_, i) => `v${i}`))
    const stats = p.stats()
    expect(stats.retries).toBeGreaterThan(0)
    expect(stats.leaderChanges).toBe(1)
    expect(stats.errors.ConnectionError).toBeGreaterThan(0)
    expect(s.fc.requests('Produce').some((r) => r.broker === 2)).toBe(true)
  })

  test('UNKNOWN_PRODUCER_ID (the broker lost our state): the epoch is bumped and the partition renumbered from 0', async () => {
    const s = setup()
    const p = producer(s)
    await p.send({ topic: 't', messages: [{ value: 'a', partition: 0 }] })
    s.log.forget()
    const [r] = await p.send({ topic: 't', messages: [{ value: 'b', partition: 0 }] })
    expect(r!.offset).toBe(1)
    expect(s.log.batches.map((b) => [b.epoch, b.seq])).toEqual([
      [0, 0],
      [1, 0],
    ])
    expect(p.stats().epochBumps).toBe(1)
    expect(p.producerIdentity).toEqual({ producerId: 5n, producerEpoch: 1 })
  })

  test('DUPLICATE_SEQUENCE_NUMBER is success: the broker has the batch, only its offset is unknown', async () => {
    const s = setup()
    const p = producer(s)
    s.intercept = (_b, n) => (n === 0 ? ErrorCode.DUPLICATE_SEQUENCE_NUMBER : 'ok')
    const [r] = await p.send({ topic: 't', messages: [{ value: 'x', partition: 0 }] })
    expect(r!.offset).toBe(-1)
  })

  test('a non-retriable error fails exactly the batch it answers, naming topic and partition', async () => {
    const s = setup()
    const p = producer(s)
    s.intercept = (_b, n) => (n === 1 ? ErrorCode.INVALID_RECORD : 'ok')
    const results = await produceAll(p, 3)
    expect(results.map(([err]) => err?.message ?? null)).toEqual([
      null,
      expect.stringMatching(/^INVALID_RECORD \(87\) from Produce on broker 1 for t\[0\]/),
      null,
    ])
    // The batch after the refused one took over its sequence number.
    expect(s.log.batches.map((b) => b.seq)).toEqual([0, 1])
  })
})

describe('the transaction coordinator', () => {
  test('FindCoordinator and EndTxn retry NOT_COORDINATOR (finding it again) and CONCURRENT_TRANSACTIONS; v1 adds partitions first', async () => {
    const s = setup()
    const [one, two] = s.fc.brokers as [FakeBroker, FakeBroker]
    let finds = 0
    for (const b of s.fc.brokers) {
      b.on(FindCoordinator, () => {
        finds++
        const node = finds === 1 ? 0 : finds === 2 ? 1 : 2
        const errorCode = node === 0 ? ErrorCode.COORDINATOR_NOT_AVAILABLE : 0
        return {
          throttleTimeMs: 0,
          coordinators: [
            { key: 'tx', nodeId: node, host: '127.0.0.1', port: 19000 + node, errorCode, errorMessage: null },
          ],
        }
      })
      b.on(AddPartitionsToTxn, (body) => ({
        throttleTimeMs: 0,
        resultsByTopicV3AndBelow: body.v3AndBelowTopics.map((t) => ({
          name: t.name,
          resultsByPartition: t.partitions.map((partitionIndex) => ({ partitionIndex, partitionErrorCode: 0 })),
        })),
      }))
    }
    one.on(EndTxn, () => ({ throttleTimeMs: 0, errorCode: ErrorCode.NOT_COORDINATOR }))
    let ends = 0
    two.on(EndTxn, () => ({
      throttleTimeMs: 0,
      errorCode: ends++ === 0 ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.NONE,
    }))
    const p = producer(s, { transactionalId: 'tx' })
    const tx = await p.transaction()
    expect(tx.usesTransactionsV2).toBe(false)
    await tx.send({ topic: 't', messages: [{ value: 'in-txn', partition: 0 }] })
    await tx.commit()
    const trail = s.fc.sent
      .filter((r) => ['FindCoordinator', 'InitProducerId', 'AddPartitionsToTxn', 'Produce', 'EndTxn'].includes(r.api))
      .map((r) => `${r.api}@${r.broker}`)
    expect(trail).toEqual([
      'FindCoordinator@1',
      'FindCoordinator@1',
      'InitProducerId@1',
      'AddPartitionsToTxn@1',
      'Produce@1',
      'EndTxn@1',
      'FindCoordinator@1',
      'EndTxn@2',
      'EndTxn@2',
    ])
    // Transactions v1 caps Produce at v11.
    expect(s.fc.requests('Produce')[0]!.version).toBeLessThanOrEqual(11)
    expect(s.fc.requests('Produce')[0]!.body.transactionalId).toBe('tx')
  })
})
