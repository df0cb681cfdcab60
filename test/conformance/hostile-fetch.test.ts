import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Connection } from '../../src/client/connection.js'
import { SkiffError } from '../../src/errors.js'
import { CreateTopics } from '../../src/protocol/apis/create-topics.js'
import { Fetch, type FetchResponse } from '../../src/protocol/apis/fetch.js'
import { Produce } from '../../src/protocol/apis/produce.js'
import {
  CorruptRecordError,
  crc32c,
  decodeBatchRecords,
  encodeRecordBatchAsync,
  type RecordBatch,
  readRecordSet,
} from '../../src/protocol/records/index.js'
import { describeTopic } from '../helpers/fetch.js'
import { type FetchProxy, startFetchProxy } from '../helpers/fetch-proxy.js'
import { connectTestBroker, testKafka, uniqueTopic } from '../helpers/kafka.js'

/** Rewrites one batch (by index) of partition 0's records; `edit` gets a copy of the batch bytes. */
type BatchEdit = (batch: Buffer) => Buffer

/** Recomputes a v2 batch's length field and CRC after an edit, so only the lie under test remains. */
function reseal(b: Buffer): Buffer {
  b.writeInt32BE(b.length - 12, 8)
  b.writeUInt32BE(crc32c(b, 21), 17)
  return b
}

/**
 * Bytes a broker will not store (a header that lies about its record count, a truncated record inside a complete
 * batch, a CRC mismatch, an lz4 block that lies about its size), served by a proxy that rewrites real Fetch
 * responses on a real connection. Each is a typed error naming the batch; the other partition's records still arrive.
 */
describe(`hostile Fetch responses on a real connection to Kafka ${testKafka().version}`, () => {
  let topic: string
  let proxy: FetchProxy
  let conn: Connection
  let edit: { batchIndex: number; fn: BatchEdit } | undefined
  let topicId: string

  beforeAll(async () => {
    const admin = await connectTestBroker()
    topic = uniqueTopic('hostile')
    await admin.request(CreateTopics, { topics: [{ name: topic, numPartitions: 2, replicationFactor: 1 }] })
    topicId = (await describeTopic(admin, topic)).topicId
    const records = (tag: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ key: Buffer.from(`${tag}${i}`), value: Buffer.from(`value ${tag} ${i}`) }))
    const produce = async (partition: number, batch: Buffer) => {
      const res = await admin.request(Produce, {
        acks: -1,
        timeoutMs: 10_000,
        topicData: [{ name: topic, topicId, partitionData: [{ index: partition, records: batch }] }],
      })
      expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(0)
    }
    await produce(0, await encodeRecordBatchAsync({ records: records('a', 5) }))
    await produce(0, await encodeRecordBatchAsync({ records: records('b', 5), compression: 'lz4' }))
    await produce(1, await encodeRecordBatchAsync({ records: records('c', 3), compression: 'zstd' }))
    await admin.close()

    const [host, port] = testKafka().bootstrap.split(',')[0]!.split(':')
    proxy = await startFetchProxy({ host: host!, port: Number(port) }, (res: FetchResponse) => {
      if (!edit) return res
      for (const t of res.responses) {
        for (const p of t.partitions) {
          if (p.partitionIndex !== 0 || !p.records) continue
          const { batches } = readRecordSet(p.records)
          const parts: Buffer[] = batches.map((b) => Buffer.from(b.bytes))
          parts[edit.batchIndex] = edit.fn(parts[edit.batchIndex]!)
          p.records = Buffer.concat(parts)
        }
      }
      return res
    })
    conn = await Connection.connect({ host: '127.0.0.1', port: proxy.port })
  })

  afterAll(async () => {
    await conn?.close()
    await proxy?.close()
  })

  /** Fetches both partitions through the proxy and decodes every batch, collecting records and errors. */
  async function consume() {
    const res = await conn.request(Fetch, {
      maxWaitMs: 100,
      minBytes: 1,
      topics: [
        {
          topic,
          topicId,
          partitions: [0, 1].map((partition) => ({ partition, fetchOffset: 0n, partitionMaxBytes: 1024 * 1024 })),
        },
      ],
    })
    const out = { values: { 0: [] as string[], 1: [] as string[] }, errors: [] as Error[] }
    for (const p of res.responses[0]!.partitions) {
      const values = out.values[p.partitionIndex as 0 | 1]
      try {
        for (const b of readRecordSet(p.records, { topic, partition: p.partitionIndex }).batches) {
          try {
            for (const r of await decodeBatchRecords(b as RecordBatch)) values.push(r.value!.toString())
          } catch (err) {
            out.errors.push(err as Error)
          }
        }
      } catch (err) {
        out.errors.push(err as Error)
      }
    }
    return out
  }

  test('untouched, everything decodes (the proxy is transparent)', async () => {
    edit = undefined
    const { values, errors } = await consume()
    expect(errors).toEqual([])
    expect(values[0]).toHaveLength(10)
    expect(values[1]).toEqual(['value c 0', 'value c 1', 'value c 2'])
  })

  const cases: Array<[string, number, BatchEdit, RegExp]> = [
    [
      'a header that claims more records than the batch holds',
      0,
      (b) => {
        b.writeInt32BE(8, 57)
        return reseal(b)
      },
      /batch at offset 0\.\.4: header says 8 records, the batch holds 5/,
    ],
    [
      'a compressed batch whose header claims fewer records than it holds',
      1,
      (b) => {
        b.writeInt32BE(2, 57)
        return reseal(b)
      },
      /batch at offset 5\.\.9: more records than the 2 the header declares/,
    ],
    [
      'a header whose record count is 2^31-1',
      0,
      (b) => {
        b.writeInt32BE(2 ** 31 - 1, 57)
        return reseal(b)
      },
      /record count 2147483647 cannot fit/,
    ],
    [
      'a record cut short inside a complete batch',
      0,
      (b) => reseal(Buffer.from(b.subarray(0, b.length - 3))),
      /record bytes end inside a record|overruns its record|truncated/,
    ],
    [
      'a CRC that does not match',
      0,
      (b) => {
        b[b.length - 2] ^= 0x55
        return b
      },
      /CRC-32C mismatch/,
    ],
    [
      'an lz4 block that declares more than the frame allows',
      1,
      (b) => {
        b.writeUInt32LE(0x7fffffff, 61 + 7) // the first block's size field, after the 7-byte frame header
        return reseal(b)
      },
      /corrupt lz4 data/,
    ],
  ]
  for (const [what, batchIndex, fn, message] of cases) {
    test(`${what} is a typed error naming the batch; the other partition still delivers`, async () => {
      edit = { batchIndex, fn }
      const { values, errors } = await consume()
      expect(errors).toHaveLength(1)
      expect(errors[0]).toBeInstanceOf(CorruptRecordError)
      expect(errors[0]!.message).toMatch(new RegExp(`${topic}\\[0\\]`))
      expect(errors[0]!.message).toMatch(message)
      expect(values[1]).toEqual(['value c 0', 'value c 1', 'value c 2'])
    })
  }

  test('random corruption of fetched batches only ever surfaces as typed errors', async () => {
    let seed = 42
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed
    }
    for (let i = 0; i < 150; i++) {
      const batchIndex = i % 2
      edit = {
        batchIndex,
        fn: (b) => {
          for (let k = 0; k < 1 + (rnd() % 4); k++) b[21 + (rnd() % (b.length - 21))] = rnd() & 0xff
          return i % 3 === 0 ? b : reseal(b) // mostly with a valid CRC, so the decoders see the damage
        },
      }
      const { errors, values } = await consume()
      for (const e of errors) expect(e, String(e)).toBeInstanceOf(SkiffError)
      expect(values[1]).toHaveLength(3)
    }
  })
})
