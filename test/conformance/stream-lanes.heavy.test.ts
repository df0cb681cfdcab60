import { describe, expect, test } from 'vitest'
import { testKafka } from '../helpers/kafka.js'
import { expectRealtimeUnharmed, runLanesScenario } from '../helpers/lanes-scenario.js'

describe(`lanes, heavy (Kafka ${testKafka().version})`, () => {
  test('a batch-lane backfill of 1M records does not raise realtime p99 beyond the bound; written into the realtime topic instead, it does', async () => {
    const r = await runLanesScenario({ bootstrap: testKafka().bootstrap, batchRecords: 1_000_000, timeoutMs: 240_000 })
    process.stderr.write(`[stream] lanes, 1M batch records: ${JSON.stringify(r)}\n`)
    expectRealtimeUnharmed(r, 1_000_000, 100)
    // Controls: the same processor reading both topics alike (no priority; reported), and no batch lane at all (the
    // backfill written into the realtime topic, behind which live records then queue; it must break the bound).
    const noPriority = await runLanesScenario({
      bootstrap: testKafka().bootstrap,
      batchRecords: 1_000_000,
      timeoutMs: 240_000,
      mode: 'no-priority',
    })
    process.stderr.write(`[stream] control, no priority, 1M batch records: ${JSON.stringify(noPriority)}\n`)
    expect(noPriority.batchDistinct).toBe(1_000_000)
    const control = await runLanesScenario({
      bootstrap: testKafka().bootstrap,
      batchRecords: 1_000_000,
      timeoutMs: 240_000,
      mode: 'one-topic',
    })
    process.stderr.write(`[stream] control, one topic (no lanes), 1M batch records: ${JSON.stringify(control)}\n`)
    // Without a batch lane the same backfill breaks the bound the lanes keep: live records queue behind it.
    expect(control.backfill.p99).toBeGreaterThan(control.baseline.p99 + 100)
    expect(control.batchDistinct).toBe(1_000_000)
  })
})
