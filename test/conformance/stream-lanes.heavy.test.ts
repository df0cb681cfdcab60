import { describe, test } from 'vitest'
import { testKafka } from '../helpers/kafka.js'
import { expectRealtimeUnharmed, runLanesScenario } from '../helpers/lanes-scenario.js'

describe(`lanes, heavy (Kafka ${testKafka().version})`, () => {
  test('a batch-lane backfill of 1M records does not raise realtime p99 beyond the bound', async () => {
    const r = await runLanesScenario({ bootstrap: testKafka().bootstrap, batchRecords: 1_000_000, timeoutMs: 240_000 })
    process.stderr.write(`[stream] lanes, 1M batch records: ${JSON.stringify(r)}\n`)
    expectRealtimeUnharmed(r, 1_000_000, 100)
  })
})
