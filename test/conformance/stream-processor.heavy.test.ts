import { describe, expect, test } from 'vitest'
import { testKafka } from '../helpers/kafka.js'
import { crashSummary, runStreamCrashScenario } from '../helpers/stream-crash-scenario.js'

const PARTITIONS = 8
const PER_PARTITION = 125_000

/**
 * The stream processor's crash proof at a million records (the default suite runs it at 20k): a consumer process
 * (test/helpers/stream-child.ts: key order, concurrency 64, 0–2 ms handlers, ~1% transient first-attempt failures)
 * is killed with SIGKILL once it has handled 40% of the records and committed twice, and a new process takes over.
 * Every record is handled at least once, none that the broker held as done at the kill is handled again, and at the
 * end every partition is committed at its end with no ranges left. See test/helpers/stream-crash-scenario.ts.
 */
describe(`the stream processor at 1M records (Kafka ${testKafka().version})`, () => {
  test('1M records, consumer process killed -9 mid-run and restarted: every record handled, none committed as done handled again, all committed at the end', async () => {
    const t0 = Date.now()
    const r = await runStreamCrashScenario({
      bootstrap: testKafka().bootstrap,
      partitions: PARTITIONS,
      perPartition: PER_PARTITION,
      latencyMaxMs: 2,
      killTimeoutMs: 90_000,
      coverTimeoutMs: 120_000,
    })
    process.stderr.write(crashSummary(r))
    process.stderr.write(`[stream] 1M crash scenario: ${Date.now() - t0} ms in all\n`)
    expect(r.records).toBe(1_000_000)
    expect(r.firstDuplicates).toBe(0)
    expect(r.firstHandled).toBeGreaterThanOrEqual(400_000)
    expect(r.firstHandled).toBeLessThan(r.records)
    expect([r.unsound, r.unsoundSample]).toEqual([0, []])
    expect(r.committedDoneAtKill).toBeGreaterThan(0)
    expect(r.covered).toBe(r.records)
    expect(r.secondDuplicates).toBe(0)
    expect([r.redoneCommitted, r.redoneCommittedSample]).toEqual([0, []])
    expect(r.secondExit).toBe(0)
    expect(r.end).toEqual(Array(PARTITIONS).fill([PER_PARTITION, 0]))
  })
})
