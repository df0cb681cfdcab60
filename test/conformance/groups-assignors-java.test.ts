import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { CooperativeStickyAssignor } from '../../src/client/consumer/group/assignors/cooperative-sticky.js'
import { RangeAssignor } from '../../src/client/consumer/group/assignors/range.js'
import { RoundRobinAssignor } from '../../src/client/consumer/group/assignors/roundrobin.js'
import {
  type AssignorScenario,
  documentedScenarios,
  javaAssignors,
  randomScenarios,
  type ScenarioResult,
  scenarioInput,
} from '../helpers/java-assignors.js'
import { testKafka } from '../helpers/kafka.js'
import { note } from '../helpers/protocol.js'

function skiff(s: AssignorScenario): ScenarioResult {
  const { members, topics } = scenarioInput(s)
  const assignor =
    s.assignor === 'range'
      ? new RangeAssignor()
      : s.assignor === 'roundrobin'
        ? new RoundRobinAssignor()
        : new CooperativeStickyAssignor()
  try {
    const result = assignor.assign(members, topics)
    return Object.fromEntries([...result].map(([m, tps]) => [m, tps.map((tp) => `${tp.topic}:${tp.partition}`).sort()]))
  } catch (err) {
    return { error: String(err) }
  }
}

const sorted = (r: ScenarioResult | undefined) =>
  r === undefined || 'error' in r
    ? r
      ? 'error'
      : 'missing'
    : Object.fromEntries(Object.entries(r).map(([m, l]) => [m, [...l].sort()]))

describe(`the classic assignors against kafka-clients ${testKafka().version}`, () => {
  const java = javaAssignors(testKafka().version)

  test("fresh random inputs: Skiff's range, roundrobin and cooperative-sticky give every member what Kafka's give it", (ctx) => {
    if (!java) {
      note('java/javac or the kafka-clients jar missing: assignors not compared with Kafka live')
      return ctx.skip()
    }
    const seed = Math.floor(Math.random() * 2 ** 31)
    const scenarios = [
      ...randomScenarios(150, seed, 'range'),
      ...randomScenarios(150, seed, 'roundrobin'),
      ...randomScenarios(300, seed, 'cooperative-sticky'),
      ...randomScenarios(30, seed + 1, 'cooperative-sticky', { members: 30, partitions: 48 }),
    ]
    const expected = java(scenarios)
    for (const s of scenarios) {
      // Kafka's general sticky builder can fail on odd inputs (members owning partitions of topics they no longer
      // subscribe to); then Skiff's must fail too.
      const java = expected.get(s.id)
      const mine = skiff(s)
      const what = `${s.id} (seed ${seed}): ${JSON.stringify(s)}; Java: ${JSON.stringify(java)}`
      expect('error' in mine ? 'error' : mine, what).toEqual(sorted(java))
    }
  })

  // SKIFF_WRITE_ASSIGNOR_FIXTURE=1 rewrites the recorded expectations the unit tests check without Java.
  test.runIf(process.env.SKIFF_WRITE_ASSIGNOR_FIXTURE === '1')(
    'rewrite test/fixtures/group-member/assignors-java.json',
    () => {
      const scenarios = [
        ...documentedScenarios(),
        ...randomScenarios(60, 2024, 'range'),
        ...randomScenarios(60, 2024, 'roundrobin'),
        ...randomScenarios(120, 2024, 'cooperative-sticky'),
        ...randomScenarios(20, 4048, 'cooperative-sticky', { members: 30, partitions: 48 }),
      ]
      const results = java!(scenarios)
      const file = join(import.meta.dirname, '../fixtures/group-member/assignors-java.json')
      const about =
        "Assignments computed by Kafka's own RangeAssignor, RoundRobinAssignor and CooperativeStickyAssignor " +
        `(kafka-clients ${testKafka().version}) for these inputs, by test/fixtures/group-member/JavaAssignors.java; ` +
        'rewritten by SKIFF_WRITE_ASSIGNOR_FIXTURE=1 with test/conformance/groups-assignors-java.test.ts'
      writeFileSync(
        file,
        `${JSON.stringify({ about, kafkaClients: testKafka().version, scenarios: scenarios.map((s) => ({ ...s, expected: results.get(s.id) })) })}\n`,
      )
    },
  )
})
