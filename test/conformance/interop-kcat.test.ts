import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Connection } from '../../src/client/connection.js'
import { CreateTopics } from '../../src/protocol/apis/create-topics.js'
import { DeleteTopics } from '../../src/protocol/apis/delete-topics.js'
import { Produce } from '../../src/protocol/apis/produce.js'
import { encodeRecordBatch } from '../../src/protocol/records/index.js'
import { describeTopic, fetchBatches, fetchRecords } from '../helpers/fetch.js'
import { connectTestBroker, testKafka, uniqueTopic } from '../helpers/kafka.js'
import { kcatAvailable, kcatConsume, kcatProduce } from '../helpers/kcat.js'

/**
 * Interop with an independent implementation: kcat (librdkafka, from Debian). Batches it writes must decode to the
 * records it reports; batches we write must be read back by it unchanged.
 */
describe.skipIf(!kcatAvailable())(`record batches and kcat (librdkafka) on Kafka ${testKafka().version}`, () => {
  let conn: Connection
  const topics: string[] = []
  const bootstrap = testKafka().bootstrap

  async function createTopic(prefix: string, partitions = 1) {
    const name = uniqueTopic(prefix)
    const res = await conn.request(CreateTopics, {
      topics: [{ name, numPartitions: partitions, replicationFactor: 1 }],
    })
    expect(res.topics[0]!.errorCode).toBe(0)
    topics.push(name)
    await describeTopic(conn, name)
    return name
  }

  beforeAll(async () => {
    conn = await connectTestBroker()
  })
  afterAll(async () => {
    if (topics.length > 0)
      await conn.request(DeleteTopics, {
        topics: topics.map((name) => ({ name })),
        topicNames: topics,
        timeoutMs: 10_000,
      })
    await conn?.close()
  })

  test('batches written by kcat decode to the keys, values, headers and timestamps kcat reports', async () => {
    const topic = await createTopic('from-kcat')
    const lines = [
      'k1:hello',
      ':no key',
      'k3:',
      'ключ:üñíçødé ✓',
      'k5:{"level":"info","n":5}',
      `big:${'x'.repeat(5000)}`,
    ]
    // -K: splits key and value; -Z turns an empty key or value into NULL (a tombstone for the value).
    kcatProduce(bootstrap, topic, lines, ['-K', ':', '-Z', '-H', 'trace=abc123', '-H', 'empty=', '-p', '0'])
    const fromKcat = kcatConsume(bootstrap, topic, 0)
    const ours = await fetchRecords(conn, topic, 0)
    expect(ours).toHaveLength(lines.length)
    expect(fromKcat).toHaveLength(lines.length)
    for (const [i, r] of ours.entries()) {
      const k = fromKcat[i]!
      expect(r.offset, `record ${i}`).toBe(k.offset)
      expect(r.timestamp, `record ${i}`).toBe(k.ts)
      expect(r.key?.toString('utf8') ?? null, `record ${i}`).toBe(k.key)
      expect(r.value?.toString('utf8') ?? null, `record ${i}`).toBe(k.payload)
      expect(r.headers.flatMap((h) => [h.key, h.value?.toString('utf8') ?? null])).toEqual(k.headers)
    }
    // And what kcat was given, independently of its own reading:
    expect(ours.map((r) => r.key?.toString() ?? null)).toEqual(['k1', null, 'k3', 'ключ', 'k5', 'big'])
    expect(ours.map((r) => r.value?.toString() ?? null)).toEqual([
      'hello',
      'no key',
      null,
      'üñíçødé ✓',
      '{"level":"info","n":5}',
      'x'.repeat(5000),
    ])
  })

  test('batches Skiff encodes are accepted by the broker, read back by kcat, and fetched back byte-identical but for the broker-assigned fields', async () => {
    const topic = await createTopic('from-skiff')
    const { topicId } = await describeTopic(conn, topic)
    const t0 = Date.now() - 60_000
    const records = Array.from({ length: 50 }, (_, i) => ({
      key: i % 7 === 0 ? null : Buffer.from(`key-${i}`),
      value: i % 11 === 0 ? null : Buffer.from(`value ${i} ${'•'.repeat(i)}`),
      headers:
        i % 3 === 0
          ? [
              { key: 'h', value: Buffer.from(String(i)) },
              { key: 'nil', value: null },
            ]
          : [],
      timestamp: t0 + i * 17,
    }))
    const sent = [
      encodeRecordBatch({ records: records.slice(0, 30) }),
      encodeRecordBatch({ records: records.slice(30) }),
    ]
    for (const batch of sent) {
      const res = await conn.request(Produce, {
        acks: -1,
        timeoutMs: 10_000,
        topicData: [{ name: topic, topicId, partitionData: [{ index: 0, records: batch }] }],
      })
      expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(0)
    }

    const { batches } = await fetchBatches(conn, topic, 0)
    expect(batches.map((b) => b.baseOffset)).toEqual([0, 30])
    for (const [i, b] of batches.entries()) {
      // The broker assigns baseOffset (bytes 0-7) and partitionLeaderEpoch (12-15); the CRC does not cover them.
      expect(b.bytes.subarray(16)).toEqual(sent[i]!.subarray(16))
      expect(b.bytes.subarray(8, 12)).toEqual(sent[i]!.subarray(8, 12))
      expect(b.partitionLeaderEpoch).toBeGreaterThanOrEqual(0)
      expect(b.crcMatches()).toBe(true)
    }

    const read = kcatConsume(bootstrap, topic, 0)
    expect(read).toHaveLength(records.length)
    for (const [i, m] of read.entries()) {
      const r = records[i]!
      expect(m.offset).toBe(i)
      expect(m.ts).toBe(r.timestamp)
      expect(m.key).toBe(r.key?.toString() ?? null)
      expect(m.payload).toBe(r.value?.toString() ?? null)
      expect(m.headers ?? []).toEqual(r.headers.flatMap((h) => [h.key, h.value?.toString() ?? null]))
    }
  })
})
