import { describe, expect, test } from 'vitest'
import { testKafka } from '../helpers/kafka.js'
import { expectRealtimeUnharmed, runLanesScenario } from '../helpers/lanes-scenario.js'

describe(`lanes, heavy (Kafka ${testKafka().version})`, () => {
  test('a batch-lane backfill of 1M records does not raise realtime p99 beyond the bound', async () => {
    const r = await runLanesScenario({ bootstrap: testKafka().bootstrap, batchRecords: 1_000_000, timeoutMs: 240_000 })
    process.stderr.write(`[stream] lanes, 1M batch records: ${JSON.stringify(r)}\n`)
    expectRealtimeUnharmed(r, 1_000_000, 100)
    // The control: the same processor reading both topics alike (no priority). Reported next to it, not asserted:
    // on this machine the processor's per-partition turns already keep a 100 rec/s realtime partition moving, and
    // how much worse it gets without priority depends on the load.
    const control = await runLanesScenario({
      bootstrap: testKafka().bootstrap,
      batchRecords: 1_000_000,
      timeoutMs: 240_000,
      lanes: false,
    })
    process.stderr.write(`[stream] no lanes (control), 1M batch records: ${JSON.stringify(control)}\n`)
    expect(control.batchDistinct).toBe(1_000_000)
  })
})
