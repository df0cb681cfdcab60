import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, expect, test } from 'vitest'
import { Consumer } from '../../../../src/client/consumer/consumer.js'
import { encodeAssignment } from '../../../../src/protocol/apis/consumer-protocol.js'
import { Fetch } from '../../../../src/protocol/apis/fetch.js'
import { FindCoordinator } from '../../../../src/protocol/apis/find-coordinator.js'
import { Heartbeat } from '../../../../src/protocol/apis/heartbeat.js'
import { JoinGroup } from '../../../../src/protocol/apis/join-group.js'
import { LeaveGroup } from '../../../../src/protocol/apis/leave-group.js'
import { OffsetCommit } from '../../../../src/protocol/apis/offset-commit.js'
import { OffsetFetch } from '../../../../src/protocol/apis/offset-fetch.js'
import { SyncGroup } from '../../../../src/protocol/apis/sync-group.js'
import { ErrorCode } from '../../../../src/protocol/error-codes.js'
import { encodeRecordBatch } from '../../../../src/protocol/records/index.js'
import { fakeCluster } from '../admin/fake-cluster.js'

/**
 * The consumer's commits around work the application does meanwhile, against a scripted broker: the loop keeps
 * running while a commit is in flight. Both cases were found by the consumer-group heavy test
 * (test/conformance/consumer-group.heavy.test.ts), as records the next owner of a partition read again although
 * they had been finished before the partition moved.
 */

const TOPIC = 't'
const TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAQ'

let cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanup) await c()
  cleanup = []
})

/** One broker, one partition of 5 records; OffsetCommit can be held; commits are remembered and fetched back. */
function scriptedBroker() {
  const fake = fakeCluster(1, { topics: new Map([[TOPIC, { topicId: TOPIC_ID, leaders: [1] }]]) })
  const b = fake.brokers[0]!
  b.on(FindCoordinator, (body, v) =>
    v >= 4
      ? {
          coordinators: body.coordinatorKeys.map((key) => ({
            key,
            nodeId: 1,
            host: '127.0.0.1',
            port: b.port,
            errorCode: 0,
            errorMessage: null,
          })),
        }
      : { errorCode: 0, errorMessage: null, nodeId: 1, host: '127.0.0.1', port: b.port },
  )
  const batch = encodeRecordBatch({
    records: Array.from({ length: 5 }, (_, i) => ({ key: null, value: Buffer.from(`r${i}`) })),
  })
  b.on(Fetch, async (body) => {
    const p = body.topics[0]?.partitions[0]
    if (!p || p.fetchOffset >= 5n) await sleep(20)
    return {
      errorCode: 0,
      sessionId: 0,
      responses: p
        ? [
            {
              topic: TOPIC,
              topicId: TOPIC_ID,
              partitions: [
                {
                  partitionIndex: 0,
                  errorCode: 0,
                  highWatermark: 5n,
                  lastStableOffset: 5n,
                  logStartOffset: 0n,
                  abortedTransactions: null,
                  records: p.fetchOffset < 5n ? batch : Buffer.alloc(0),
                },
              ],
            },
          ]
        : [],
    }
  })
  const script = {
    committed: 0,
    holdCommits: false,
    release: () => {},
    heartbeatCodes: [] as number[],
    generation: 0,
  }
  let held = Promise.resolve()
  const hold = () => {
    held = new Promise<void>((r) => {
      script.release = r
    })
    script.holdCommits = true
  }
  b.on(OffsetCommit, async (body) => {
    if (script.holdCommits) await held
    for (const t of body.topics) for (const p of t.partitions) script.committed = Number(p.committedOffset)
    return {
      topics: body.topics.map((t) => ({
        name: t.name,
        topicId: t.topicId,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: 0 })),
      })),
    }
  })
  b.on(OffsetFetch, (body) => ({
    groups: body.groups.map((g) => ({
      groupId: g.groupId,
      errorCode: 0,
      topics: (g.topics ?? []).map((t) => ({
        name: t.name,
        topicId: t.topicId,
        partitions: t.partitionIndexes.map((partitionIndex) => ({
          partitionIndex,
          committedOffset: BigInt(script.committed),
          metadata: '',
          errorCode: 0,
        })),
      })),
    })),
  }))
  // A one-member classic group: it leads and assigns itself the partition; heartbeats answer what is scripted.
  b.on(JoinGroup, (body) => {
    if (body.memberId === '')
      return { errorCode: ErrorCode.MEMBER_ID_REQUIRED, memberId: 'm-1', leader: '', protocolName: null, members: [] }
    script.generation++
    return {
      errorCode: 0,
      generationId: script.generation,
      protocolType: 'consumer',
      protocolName: body.protocols[0]!.name,
      leader: body.memberId,
      memberId: body.memberId,
      members: [{ memberId: body.memberId, groupInstanceId: null, metadata: body.protocols[0]!.metadata }],
    }
  })
  b.on(SyncGroup, (body) => ({
    errorCode: 0,
    protocolType: 'consumer',
    protocolName: body.protocolName,
    assignment:
      body.assignments.find((a) => a.memberId === body.memberId)?.assignment ??
      encodeAssignment(0, { assignedPartitions: [] }),
  }))
  b.on(Heartbeat, () => ({ errorCode: script.heartbeatCodes.shift() ?? 0 }))
  b.on(LeaveGroup, (body) => ({
    errorCode: 0,
    members: (body.members ?? []).map((m) => ({ memberId: m.memberId, groupInstanceId: null, errorCode: 0 })),
  }))
  const sentCommits = () =>
    fake.requests('OffsetCommit').map((r) => Number(r.body.topics[0].partitions[0].committedOffset))
  return { fake, script, hold, sentCommits }
}

test('records finished while a commit is in flight are committed by the next commit', async () => {
  const { fake, script, hold, sentCommits } = scriptedBroker()
  const consumer = new Consumer({ cluster: fake.cluster, groupId: 'g', autoCommit: false, maxWaitMs: 20 })
  cleanup.push(async () => {
    script.release()
    await consumer.close()
  })
  const reported: number[] = []
  consumer.on('commit', (os: Array<{ offset: number }>) => reported.push(...os.map((o) => o.offset)))
  await consumer.assign([{ topic: TOPIC, partition: 0, offset: 0 }])
  const it = consumer[Symbol.asyncIterator]()
  expect((await it.next()).value.offset).toBe(0)
  expect((await it.next()).value.offset).toBe(1) // record 0 is finished
  hold()
  const first = consumer.commit()
  await sleep(10)
  expect((await it.next()).value.offset).toBe(2) // record 1 finished while the commit is held
  expect((await it.next()).value.offset).toBe(3) // record 2 too
  script.release()
  await first
  await consumer.commit()
  expect(sentCommits()).toEqual([1, 3])
  expect(reported).toEqual([1, 3])
})

test('a revoked partition hands out no more records while its offsets are being committed', async () => {
  const { fake, script, hold, sentCommits } = scriptedBroker()
  const consumer = new Consumer({
    cluster: fake.cluster,
    groupId: 'g',
    group: { assignors: ['range'], heartbeatIntervalMs: 20, sessionTimeoutMs: 10_000 },
    autoCommitIntervalMs: 60_000,
    resetPolicy: 'earliest',
    maxWaitMs: 20,
  })
  cleanup.push(async () => {
    script.release()
    await consumer.close()
  })
  const revoked: number[] = []
  consumer.on('revoked', () => revoked.push(Date.now()))
  await consumer.subscribe([TOPIC])
  const it = consumer[Symbol.asyncIterator]()
  expect((await it.next()).value.offset).toBe(0)
  expect((await it.next()).value.offset).toBe(1) // record 0 finished; record 1 in the application's hands
  // The group rebalances: the eager protocol revokes the partition, and the revocation's commit is held.
  hold()
  script.heartbeatCodes.push(ErrorCode.REBALANCE_IN_PROGRESS)
  const deadline = Date.now() + 5000
  while (sentCommits().length === 0 && Date.now() < deadline) await sleep(5)
  expect(sentCommits()).toEqual([1])
  // The loop asks for more meanwhile: the rest of the chunk (records 2-4) is no longer this consumer's to give.
  const next = it.next()
  const early = await Promise.race([next.then((r) => r.value.offset as number), sleep(200).then(() => 'nothing')])
  expect(early).toBe('nothing')
  script.release()
  // Assigned again after the rebalance, the partition is read from the committed offset: record 1, whose body was
  // still running when the partition was revoked, is read again; nothing after it was handed out before.
  expect((await next).value.offset).toBe(1)
  expect(revoked).toHaveLength(1)
  expect(sentCommits()).toEqual([1])
})
