import { afterAll, describe, expect, test } from 'vitest'
import { groupLag, renderLag } from '../../src/cli/lag.js'
import { Admin } from '../../src/client/admin/index.js'
import { Producer } from '../../src/client/producer/index.js'
import { lag } from '../../src/stream/lag.js'
import { StreamProcessor } from '../../src/stream/processor.js'
import { testKafka, uniqueTopic } from '../helpers/kafka.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe(`wall-clock lag of a group (Kafka ${testKafka().version})`, () => {
  const bootstrap = testKafka().bootstrap
  const admin = new Admin({ bootstrap })
  afterAll(() => admin.close())

  async function newTopic(): Promise<string> {
    const topic = uniqueTopic('lag')
    const [created] = await admin.createTopics([{ name: topic, partitions: 1 }])
    if (created!.error) throw created!.error
    return topic
  }

  /** Produces `n` records to partition 0 in one batch stamped with the time it was sent; returns their stamps. */
  async function produceStamped(topic: string, n: number, from = 0): Promise<number[]> {
    const producer = new Producer({ bootstrap, lingerMs: 0 })
    try {
      const timestamp = Date.now()
      const messages = Array.from({ length: n }, (_, i) => ({ partition: 0, value: `r${from + i}`, timestamp }))
      await producer.send({ topic, messages })
      return messages.map(() => timestamp)
    } finally {
      await producer.close()
    }
  }

  test('a StreamProcessor group stopped for a measured time reports that time lag (within 1 s), from its commit metadata', async () => {
    const topic = await newTopic()
    const stamps = await produceStamped(topic, 5)
    const groupId = uniqueTopic('lag-group')
    // Offset 5 never finishes (its handler waits until aborted); the others do, so 6..9 are done above the commit.
    const p = new StreamProcessor({
      consumer: { client: { bootstrap }, groupId, resetPolicy: 'earliest', maxWaitMs: 100 },
      topics: [topic],
      ordering: 'unordered',
      commitIntervalMs: 100,
      handler: (r, { signal }) =>
        r.offset === 5 ? new Promise<void>((_, reject) => signal.addEventListener('abort', reject)) : undefined,
    })
    const running = p.run()
    const deadline = Date.now() + 20_000
    while (p.stats().handled < 5 && Date.now() < deadline) await sleep(20)
    // The group is live and caught up; the next records arrive just before it stops.
    stamps.push(...(await produceStamped(topic, 5, 5)))
    while (p.stats().handled < 9 && Date.now() < deadline) await sleep(20)
    expect(p.stats().handled).toBe(9)
    await p.close({ timeoutMs: 200 })
    await running.catch(() => {})
    const stoppedAt = Date.now()
    await sleep(3000)

    const result = await lag(groupId, admin)
    const measuredAt = Date.now()
    const [row] = result.partitions
    expect(row).toMatchObject({
      topic,
      partition: 0,
      committed: 5,
      end: 10,
      doneAbove: 4,
      lag: 1,
      timeLagSource: 'metadata',
      oldestUnconsumedTimestamp: stamps[5],
    })
    const stopped = measuredAt - stoppedAt
    const error = Math.abs(row!.timeLagMs! - stopped)
    // The time lag is the age of the oldest unfinished record, measured against the clock when lag() ran.
    const age = measuredAt - stamps[5]!
    expect(row!.timeLagMs!).toBeLessThanOrEqual(age)
    expect(age - row!.timeLagMs!).toBeLessThan(200)
    console.log(
      `stream lag: stopped ${stopped} ms, time lag ${row!.timeLagMs} ms (record age ${age} ms), error ${error} ms`,
    )
    expect(error).toBeLessThan(1000)
    expect(result.maxTimeLagMs).toBe(row!.timeLagMs)

    // `skiff lag` shows the same, from the metadata (marked *), with the records done above the commit not counted.
    const shown = await groupLag(admin.cluster, groupId, undefined, 10_000)
    expect(shown.partitions[0]).toMatchObject({ lag: 1, timeLagSource: 'metadata' })
    expect(Math.abs(shown.partitions[0]!.timeLagMs! - row!.timeLagMs!)).toBeLessThan(1000)
    expect(renderLag(shown)).toMatch(new RegExp(`${topic} +0 +5 +10 +1 +[\\d.]+ \\w+\\*`))
  })

  test('a group committed by another client: time lag from the record at its committed offset; 0 when caught up', async () => {
    const topic = await newTopic()
    const stamps = await produceStamped(topic, 6)
    const groupId = uniqueTopic('lag-group')
    const [c] = await admin.alterGroupOffsets(groupId, [{ topic, partition: 0, offset: 2, metadata: 'not ours' }])
    if (c!.error) throw c!.error
    const stoppedAt = Date.now()
    await sleep(2000)
    const result = await lag(groupId, { bootstrap })
    const measuredAt = Date.now()
    const [row] = result.partitions
    expect(row).toMatchObject({
      committed: 2,
      end: 6,
      lag: 4,
      doneAbove: 0,
      timeLagSource: 'record',
      oldestUnconsumedTimestamp: stamps[2],
    })
    const error = Math.abs(row!.timeLagMs! - (measuredAt - stoppedAt))
    console.log(`plain lag: stopped ${measuredAt - stoppedAt} ms, time lag ${row!.timeLagMs} ms, error ${error} ms`)
    expect(error).toBeLessThan(1000)

    await admin.alterGroupOffsets(groupId, [{ topic, partition: 0, offset: 6 }])
    const caughtUp = await lag(groupId, admin)
    expect(caughtUp.partitions[0]).toMatchObject({ lag: 0, timeLagMs: 0, timeLagSource: 'caught-up' })
    expect(caughtUp.totalLag).toBe(0)
  })
})
