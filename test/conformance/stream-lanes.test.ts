import { describe, expect, test } from 'vitest'
import { testKafka } from '../helpers/kafka.js'
import { expectRealtimeUnharmed, runLanesScenario } from '../helpers/lanes-scenario.js'

describe(`lanes (Kafka ${testKafka().version})`, () => {
  test('a batch-lane backfill of 100k records does not raise realtime p99 beyond the bound; the same without lanes for comparison', async () => {
    const bootstrap = testKafka().bootstrap
    const r = await runLanesScenario({ bootstrap, batchRecords: 100_000, timeoutMs: 90_000 })
    process.stderr.write(`[stream] lanes, 100k batch records: ${JSON.stringify(r)}\n`)
    expectRealtimeUnharmed(r, 100_000, 300)
    // The control: both topics read alike (no priority). Reported, not asserted: the machine decides how much worse.
    const control = await runLanesScenario({ bootstrap, batchRecords: 100_000, timeoutMs: 90_000, lanes: false })
    process.stderr.write(`[stream] no lanes (control), 100k batch records: ${JSON.stringify(control)}\n`)
    expect(control.batchDistinct).toBe(100_000)
  })
})
