import { afterAll, describe, expect, test } from 'vitest'
import { Producer } from '../../src/client/producer/index.js'
import { decodeCommitMetadata } from '../../src/stream/commit-metadata.js'
import { type ProcessorCommit, StreamProcessor, type StreamProcessorOptions } from '../../src/stream/processor.js'
import { testKafka, uniqueTopic } from '../helpers/kafka.js'
import { committedProgress, filledTopic } from '../helpers/stream.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function until(what: string, f: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

describe(`one partition read from two positions at once (Kafka ${testKafka().version})`, () => {
  const bootstrap = testKafka().bootstrap
  const processors: StreamProcessor[] = []
  afterAll(async () => {
    await Promise.all(processors.map((p) => p.close({ timeoutMs: 2000 })))
  })

  const processor = (groupId: string, topic: string, extra: Partial<StreamProcessorOptions>) => {
    const p = new StreamProcessor({
      consumer: { client: { bootstrap }, groupId, resetPolicy: 'earliest', maxWaitMs: 50 },
      topics: [topic],
      commitIntervalMs: 150,
      concurrency: 16,
      handler: () => {},
      ...extra,
    })
    processors.push(p)
    return p
  }

  test('a backlogged partition gets a live cursor at the head and a backfill cursor behind it, both kept in the commit metadata; a restart resumes both', async () => {
    const partitions = 2
    const backlog = 6000
    const live = 300
    const topic = await filledTopic(bootstrap, partitions, backlog)
    const groupId = uniqueTopic('group')
    const total = partitions * (backlog + live)

    // Handlings, per partition and offset, of each processor.
    const first: Array<Map<number, number>> = [new Map(), new Map()]
    const second: Array<Map<number, number>> = [new Map(), new Map()]
    const liveLatencies: number[] = []
    const commits: ProcessorCommit[] = []
    const a = processor(groupId, topic, {
      backfill: { minLag: 1000 },
      handler: async (r) => {
        // Backlog records are slow; live ones fast: without the split, live records would wait ~10 s behind them.
        if (r.offset < backlog) await sleep(4)
        else liveLatencies.push(Date.now() - r.timestamp)
        first[r.partition]!.set(r.offset, (first[r.partition]!.get(r.offset) ?? 0) + 1)
      },
    })
    a.on('commit', (c: ProcessorCommit[]) => commits.push(...c))
    const runA = a.run()
    await until('the split', () => a.stats().backfilling === partitions)

    // Live traffic while the backfill works: each record is handled at once, at the head, not after the backlog.
    const producer = new Producer({ bootstrap, lingerMs: 0 })
    try {
      for (let i = 0; i < live / 2; i++) {
        await producer.send({
          topic,
          messages: [0, 1].map((partition) => ({ partition, key: `live${i}`, value: `live:${i}` })),
        })
        await sleep(5)
      }
    } finally {
      await producer.close()
    }
    await until('the live records handled', () =>
      first.every((m) => [...m.keys()].filter((o) => o >= backlog).length === live / 2),
    )
    const backlogDoneWhenLiveDone = first.reduce((n, m) => n + [...m.keys()].filter((o) => o < backlog).length, 0)
    expect(backlogDoneWhenLiveDone).toBeLessThan(partitions * backlog) // the live records did not wait for the backlog
    expect(a.stats().backfilling).toBe(partitions)

    // What is committed meanwhile holds both positions: the backfill's (the Kafka offset) and the live start.
    await until('a commit with both positions', () =>
      commits.some((c) => {
        const d = decodeCommitMetadata(c.metadata, c.offset)
        return d.kind === 'ranges' && d.liveStart === backlog && c.offset < backlog && c.ranges > 0
      }),
    )
    await a.close()
    await runA
    const atClose = await committedProgress(bootstrap, groupId, topic)
    for (const [p, c] of atClose) {
      const d = decodeCommitMetadata(c.metadata, c.offset)
      expect(d.kind, `partition ${p}`).toBe('ranges')
      if (d.kind !== 'ranges') continue
      expect(d.liveStart).toBe(backlog)
      expect(c.offset).toBeLessThan(backlog)
      // Every live record A handled is committed as done above the live start.
      for (let o = backlog; o < backlog + live / 2; o++) expect(c.done.isDone(o)).toBe(true)
    }

    // The restart: no new split is decided (minLag is out of reach) — both cursors come back from the metadata.
    let resumedSplit = 0
    const b = processor(groupId, topic, {
      backfill: { minLag: 1_000_000_000 },
      handler: async (r) => {
        resumedSplit = Math.max(resumedSplit, b.stats().backfilling)
        second[r.partition]!.set(r.offset, (second[r.partition]!.get(r.offset) ?? 0) + 1)
      },
    })
    const runB = b.run()
    await until('every record handled', () => {
      for (let p = 0; p < partitions; p++)
        for (let o = 0; o < backlog + live / 2; o++) if (!first[p]!.has(o) && !second[p]!.has(o)) return false
      return true
    })
    await until('the backfill to end', () => b.stats().backfilling === 0)
    await sleep(400) // a commit after the last record
    await b.close()
    await runB

    let redone = 0
    let fromB = 0
    for (const [p, c] of atClose) {
      for (const o of second[p]!.keys()) {
        fromB++
        if (c.done.isDone(o)) redone++
      }
    }
    expect(resumedSplit).toBe(partitions)
    expect(redone).toBe(0)
    for (const m of [...first, ...second]) for (const n of m.values()) expect(n).toBe(1)
    const end = await committedProgress(bootstrap, groupId, topic)
    for (const c of end.values()) {
      expect(c.offset).toBe(backlog + live / 2)
      expect(c.ranges).toBe(0)
    }
    liveLatencies.sort((x, y) => x - y)
    const p99 = liveLatencies[Math.floor(liveLatencies.length * 0.99)]!
    process.stderr.write(
      `[stream] backfill: ${total - partitions * (live / 2)} records over ${partitions} partitions; A split both ` +
        `(live start ${backlog}), handled ${live} live records (p99 ${p99} ms from produce) while ${backlogDoneWhenLiveDone} ` +
        `of ${partitions * backlog} backlog records were done; B resumed ${resumedSplit} splits from the metadata, handled ${fromB}, ` +
        `0 of the committed redone\n`,
    )
  })

  test('a small backlog split: every record handled once, the backfills end and the live start leaves the metadata', async () => {
    const partitions = 3
    const backlog = 300
    const topic = await filledTopic(bootstrap, partitions, backlog)
    const groupId = uniqueTopic('group')
    const counts = Array.from({ length: partitions }, () => new Uint8Array(backlog))
    let splitSeen = 0
    const p = processor(groupId, topic, {
      backfill: { minLag: 50 },
      ordering: 'unordered',
      handler: (r) => {
        splitSeen = Math.max(splitSeen, p.stats().backfilling)
        counts[r.partition]![r.offset]!++
      },
    })
    const running = p.run()
    await until('every record handled', () => counts.every((c) => c.every((n) => n > 0)))
    await until('the backfills to end', () => p.stats().backfilling === 0)
    await sleep(400)
    await p.close()
    await running
    expect(splitSeen).toBeGreaterThan(0)
    for (const c of counts) expect([...c].filter((n) => n !== 1)).toEqual([])
    const end = await committedProgress(bootstrap, groupId, topic)
    for (const c of end.values()) {
      expect(c.offset).toBe(backlog)
      expect(c.ranges).toBe(0)
      expect(decodeCommitMetadata(c.metadata, c.offset)).not.toMatchObject({ liveStart: expect.anything() })
    }
  })
})
