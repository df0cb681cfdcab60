import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { CooperativeStickyAssignor } from '../../../../src/client/consumer/group/assignors/cooperative-sticky.js'
import {
  JavaHashOrder,
  javaHashMapOrder,
  javaStringHash,
  javaTopicPartitionHash,
} from '../../../../src/client/consumer/group/assignors/java-order.js'
import { RangeAssignor } from '../../../../src/client/consumer/group/assignors/range.js'
import { RoundRobinAssignor } from '../../../../src/client/consumer/group/assignors/roundrobin.js'
import type { PartitionAssignor } from '../../../../src/client/consumer/group/assignors/types.js'
import { type AssignorScenario, documentedScenarios, scenarioInput } from '../../../helpers/java-assignors.js'

const fixture = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../../fixtures/group-member/assignors-java.json'), 'utf8'),
) as { kafkaClients: string; scenarios: Array<AssignorScenario & { expected: Record<string, string[]> }> }

const assignorFor = (name: AssignorScenario['assignor']): PartitionAssignor =>
  name === 'range'
    ? new RangeAssignor()
    : name === 'roundrobin'
      ? new RoundRobinAssignor()
      : new CooperativeStickyAssignor()

/** Runs Skiff's assignor; each member's partitions as `topic:partition`, sorted. */
function skiff(s: AssignorScenario): Record<string, string[]> {
  const { members, topics } = scenarioInput(s)
  const result = assignorFor(s.assignor).assign(members, topics)
  return Object.fromEntries([...result].map(([m, tps]) => [m, tps.map((tp) => `${tp.topic}:${tp.partition}`).sort()]))
}

const sorted = (r: Record<string, string[]>) =>
  Object.fromEntries(Object.entries(r).map(([m, l]) => [m, [...l].sort()]))
const documented = (id: string) => skiff(documentedScenarios().find((s) => s.id === id)!)

describe('the assignors compute what Kafka documents', () => {
  test('range: per topic, contiguous ranges in member order, the first members taking the remainder', () => {
    expect(documented('range-javadoc')).toEqual({ C0: ['t0:0', 't0:1', 't1:0', 't1:1'], C1: ['t0:2', 't1:2'] })
  })

  test('range: static members are ordered by group.instance.id, not by member id', () => {
    expect(documented('range-static')).toEqual({ C2: ['t0:0', 't0:1', 't1:0', 't1:1'], C3: ['t0:2', 't1:2'] })
  })

  test('roundrobin: partitions dealt in turn across topics', () => {
    expect(documented('roundrobin-javadoc')).toEqual({ C0: ['t0:0', 't0:2', 't1:1'], C1: ['t0:1', 't1:0', 't1:2'] })
  })

  test('roundrobin: members not subscribed to a topic are skipped, which can unbalance', () => {
    expect(documented('roundrobin-javadoc-differing')).toEqual({
      C0: ['t0:0'],
      C1: ['t1:0'],
      C2: ['t1:1', 't2:0', 't2:1', 't2:2'],
    })
  })

  test('sticky: from scratch the StickyAssignor Javadoc example 1 is 3/3/2', () => {
    expect(documented('sticky-javadoc-1')).toEqual({
      C0: ['t0:0', 't1:1', 't3:0'],
      C1: ['t0:1', 't2:0', 't3:1'],
      C2: ['t1:0', 't2:1'],
    })
  })

  test('sticky: when C1 leaves, C0 and C2 keep all they had and split what C1 had', () => {
    const r = documented('sticky-javadoc-1-c1-leaves')
    expect(r.C0).toEqual(expect.arrayContaining(['t0:0', 't1:1', 't3:0']))
    expect(r.C2).toEqual(expect.arrayContaining(['t1:0', 't2:1']))
    expect([r.C0!.length, r.C2!.length]).toEqual([4, 4])
  })

  test('sticky: differing subscriptions are balanced better than round robin (Javadoc example 2), and stay put', () => {
    expect(documented('sticky-javadoc-2')).toEqual({ C0: ['t0:0'], C1: ['t1:0', 't1:1'], C2: ['t2:0', 't2:1', 't2:2'] })
    expect(documented('sticky-javadoc-2-c0-leaves')).toEqual({
      C1: ['t0:0', 't1:0', 't1:1'],
      C2: ['t2:0', 't2:1', 't2:2'],
    })
  })

  test('cooperative (KIP-429): a newcomer gets nothing while the owner revokes; the freed partitions come next round', () => {
    expect(documented('cooperative-join-first-round')).toEqual({ A: ['t:0', 't:1', 't:2'], B: [] })
    expect(documented('cooperative-join-second-round')).toEqual({ A: ['t:0', 't:1', 't:2'], B: ['t:3', 't:4', 't:5'] })
  })

  test('cooperative: a partition two members claim in the same generation goes to neither this round', () => {
    expect(documented('cooperative-double-claim')).toEqual({ A: ['t:0'], B: ['t:2', 't:3'] })
  })

  test('rack-aware (KIP-881): members get the partitions with a replica on their rack', () => {
    expect(documented('range-racks')).toEqual({ C0: ['t:1', 't:3'], C1: ['t:0', 't:2'] })
    expect(documented('sticky-racks')).toEqual({ C0: ['t:1', 't:3'], C1: ['t:0', 't:2'] })
  })

  test('cooperative-sticky user data is the last generation as an int32 (COOPERATIVE_STICKY_ASSIGNOR_USER_DATA_V0)', () => {
    const a = new CooperativeStickyAssignor()
    expect(a.subscriptionUserData()).toEqual(Buffer.from([0xff, 0xff, 0xff, 0xff]))
    a.onAssignment(7)
    expect(a.subscriptionUserData()).toEqual(Buffer.from([0, 0, 0, 7]))
  })
})

describe(`the assignors agree with Kafka's own (kafka-clients ${fixture.kafkaClients}) on ${fixture.scenarios.length} recorded inputs`, () => {
  for (const name of ['range', 'roundrobin', 'cooperative-sticky'] as const) {
    const scenarios = fixture.scenarios.filter((s) => s.assignor === name)
    test(`${name}: ${scenarios.length} inputs, every member gets the partitions the Java leader gave it`, () => {
      for (const s of scenarios) expect(skiff(s), s.id).toEqual(sorted(s.expected))
    })
  }
})

describe("Java's HashMap iteration order, which the sticky assignor's result depends on", () => {
  test('String.hashCode and TopicPartition.hashCode', () => {
    expect(javaStringHash('')).toBe(0)
    expect(javaStringHash('hello')).toBe(99162322)
    // Overflows int32 like Java: "polygenelubricants".hashCode() == Integer.MIN_VALUE.
    expect(javaStringHash('polygenelubricants')).toBe(-2147483648)
    expect(javaTopicPartitionHash('t', 0)).toBe(31 * 31 + 116)
  })

  test('keys iterate by bucket, then insertion order; the table doubles past 0.75 load', () => {
    // "Aa" and "BB" share a hash code (2112): same bucket, insertion order.
    expect(javaHashMapOrder(['BB', 'Aa'])).toEqual(['BB', 'Aa'])
    expect(javaHashMapOrder(['Aa', 'BB'])).toEqual(['Aa', 'BB'])
    // Single characters hash to their code; with 16 buckets 'q' (113 → 1) comes before 'c' (99 → 3).
    expect(javaHashMapOrder(['c', 'q'])).toEqual(['q', 'c'])
    const order = new JavaHashOrder<string>(javaStringHash)
    for (const k of 'abcdefghijklm'.split('')) order.add(k)
    // 13 keys: the table grew to 32, so 'a' (97 → 1) ... 'm' (109 → 13) iterate in code order.
    expect(order.keys().join('')).toBe('abcdefghijklm')
  })
})
