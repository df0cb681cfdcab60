import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Connection } from '../../src/client/connection.js'
import { CreateTopics } from '../../src/protocol/apis/create-topics.js'
import { Produce } from '../../src/protocol/apis/produce.js'
import {
  decodeBatchRecords,
  encodeRecordBatchAsync,
  type KafkaRecord,
  type RecordBatch,
} from '../../src/protocol/records/index.js'
import { describeTopic, fetchBatches } from '../helpers/fetch.js'
import { connectTestBroker, testKafka, uniqueTopic } from '../helpers/kafka.js'
import { kcatAvailable, kcatConsume, kcatProduce } from '../helpers/kcat.js'

const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const
type Codec = (typeof CODECS)[number]
const CODEC_ID: Record<Codec, number> = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 }

/**
 * Every codec, both ways, against independent implementations: batches kcat (librdkafka) compresses decode to what
 * kcat reports; batches Skiff compresses are read back by kcat; batches the broker recompresses (topic
 * `compression.type`) decode too.
 */
describe.skipIf(!kcatAvailable())(`compressed batches with kcat and the broker (Kafka ${testKafka().version})`, () => {
  let conn: Connection
  const bootstrap = testKafka().bootstrap
  beforeAll(async () => {
    conn = await connectTestBroker()
  })
  afterAll(async () => {
    await conn?.close()
  })

  async function topicWith(configs: Array<{ name: string; value: string }> = []) {
    const name = uniqueTopic('codec')
    const res = await conn.request(CreateTopics, {
      topics: [{ name, numPartitions: 1, replicationFactor: 1, configs }],
    })
    expect(res.topics[0]!.errorCode).toBe(0)
    await describeTopic(conn, name)
    return name
  }

  async function decodeAll(topic: string): Promise<{ batches: RecordBatch[]; records: KafkaRecord[] }> {
    const { batches } = await fetchBatches(conn, topic, 0)
    const records: KafkaRecord[] = []
    for (const b of batches) records.push(...(await decodeBatchRecords(b, { chunkBytes: 4096 })))
    return { batches, records }
  }

  const lines = Array.from(
    { length: 400 },
    (_, i) => `k${i}:{"event":"page_view","n":${i},"path":"/items/${i % 17}","note":"${'ü'.repeat(i % 9)}"}`,
  )

  for (const codec of CODECS) {
    test(`${codec}: kcat-compressed batches decode to what kcat reports`, async () => {
      const topic = await topicWith([{ name: 'compression.type', value: 'producer' }])
      kcatProduce(bootstrap, topic, lines, ['-K', ':', '-z', codec, '-H', 'src=kcat', '-p', '0', '-X', 'linger.ms=50'])
      const { batches, records } = await decodeAll(topic)
      expect(batches.every((b) => b.compressionCode === CODEC_ID[codec])).toBe(true)
      const theirs = kcatConsume(bootstrap, topic, 0)
      expect(records).toHaveLength(lines.length)
      for (const [i, r] of records.entries()) {
        expect(r.offset).toBe(theirs[i]!.offset)
        expect(r.timestamp).toBe(theirs[i]!.ts)
        expect(r.key?.toString()).toBe(theirs[i]!.key)
        expect(r.value?.toString()).toBe(theirs[i]!.payload)
        expect(r.headers.map((h) => [h.key, h.value?.toString()])).toEqual([['src', 'kcat']])
      }
    })

    test(`${codec}: batches Skiff compresses are read back by kcat`, async () => {
      const topic = await topicWith([{ name: 'compression.type', value: 'producer' }])
      const { topicId } = await describeTopic(conn, topic)
      const records = lines.map((l, i) => ({
        key: Buffer.from(l.split(':')[0]!),
        value: Buffer.from(l.slice(l.indexOf(':') + 1)),
        headers: [{ key: 'src', value: Buffer.from('skiff') }],
        timestamp: 1_700_000_000_000 + i,
      }))
      const batch = await encodeRecordBatchAsync({ compression: codec, records })
      const res = await conn.request(Produce, {
        acks: -1,
        timeoutMs: 10_000,
        topicData: [{ name: topic, topicId, partitionData: [{ index: 0, records: batch }] }],
      })
      expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(0)
      const theirs = kcatConsume(bootstrap, topic, 0)
      expect(theirs.map((m) => [m.offset, m.ts, m.key, m.payload, m.headers])).toEqual(
        records.map((r, i) => [i, r.timestamp, r.key.toString(), r.value.toString(), ['src', 'skiff']]),
      )
      const { batches } = await decodeAll(topic)
      expect(batches.map((b) => b.compressionCode)).toEqual([CODEC_ID[codec]])
    })

    test(`${codec}: batches the broker recompressed (topic compression.type=${codec}) decode`, async () => {
      const topic = await topicWith([{ name: 'compression.type', value: codec }])
      const { topicId } = await describeTopic(conn, topic)
      // Sent uncompressed (and once as gzip, or lz4 for the gzip topic): the broker rewrites the batch with its codec.
      for (const sent of ['none', codec === 'gzip' ? 'lz4' : 'gzip'] as const) {
        const batch = await encodeRecordBatchAsync({
          compression: sent,
          records: lines.slice(0, 50).map((l) => ({ key: null, value: Buffer.from(`${sent}:${l}`) })),
        })
        const res = await conn.request(Produce, {
          acks: -1,
          timeoutMs: 10_000,
          topicData: [{ name: topic, topicId, partitionData: [{ index: 0, records: batch }] }],
        })
        expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(0)
      }
      const { batches, records } = await decodeAll(topic)
      expect(batches.map((b) => b.compressionCode)).toEqual([CODEC_ID[codec], CODEC_ID[codec]])
      expect(records.map((r) => r.value?.toString())).toEqual([
        ...lines.slice(0, 50).map((l) => `none:${l}`),
        ...lines.slice(0, 50).map((l) => `${codec === 'gzip' ? 'lz4' : 'gzip'}:${l}`),
      ])
      expect(records.map((r) => r.offset)).toEqual(Array.from({ length: 100 }, (_, i) => i))
    })
  }
})
