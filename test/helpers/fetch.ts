import { setTimeout as sleep } from 'node:timers/promises'
import type { Connection } from '../../src/client/connection.js'
import { Fetch } from '../../src/protocol/apis/fetch.js'
import { ListOffsets } from '../../src/protocol/apis/list-offsets.js'
import { Metadata } from '../../src/protocol/apis/metadata.js'
import { type KafkaRecord, RecordBatch, readRecordSet } from '../../src/protocol/records/index.js'

/**
 * The topic's metadata, waiting for a just-created topic until every partition's leader serves it (ListOffsets
 * answers without error): Metadata can name a leader a moment before that leader accepts Produce and Fetch.
 */
export async function describeTopic(conn: Connection, topic: string) {
  for (let i = 0; ; i++) {
    const md = await conn.request(Metadata, { topics: [{ name: topic }], allowAutoTopicCreation: false })
    const t = md.topics[0]!
    if (t.errorCode === 0 && t.partitions.length > 0 && t.partitions.every((p) => p.leaderId >= 0)) {
      const lo = await conn.request(ListOffsets, {
        replicaId: -1,
        topics: [
          { name: topic, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, timestamp: -1n })) },
        ],
      })
      if (lo.topics[0]!.partitions.every((p) => p.errorCode === 0)) return t
    }
    if (i > 100) throw new Error(`topic ${topic} not served after 10 s (error ${t.errorCode})`)
    await sleep(100)
  }
}

/**
 * Every batch of one partition from `fromOffset` up to the high watermark, with plain Fetch requests (the
 * consumer comes later). Compressed batches are returned undecoded.
 */
export async function fetchBatches(
  conn: Connection,
  topic: string,
  partition: number,
  fromOffset = 0,
  isolationLevel = 0,
) {
  const { topicId } = await describeTopic(conn, topic)
  const batches: RecordBatch[] = []
  let offset = fromOffset
  for (let round = 0; round < 10_000; round++) {
    const res = await conn.request(Fetch, {
      maxWaitMs: 100,
      minBytes: 1,
      maxBytes: 8 * 1024 * 1024,
      isolationLevel,
      topics: [
        {
          topic,
          topicId,
          partitions: [{ partition, fetchOffset: BigInt(offset), partitionMaxBytes: 4 * 1024 * 1024 }],
        },
      ],
    })
    const p = res.responses[0]!.partitions[0]!
    if (p.errorCode !== 0) throw new Error(`fetch error ${p.errorCode} on ${topic}[${partition}]`)
    const set = readRecordSet(p.records, { topic, partition })
    for (const b of set.batches) {
      if (!(b instanceof RecordBatch)) throw new Error('legacy batch in a test topic')
      if (b.nextOffset <= offset) continue
      batches.push(b)
      offset = b.nextOffset
    }
    if (BigInt(offset) >= p.highWatermark) return { batches, highWatermark: Number(p.highWatermark), response: p }
  }
  throw new Error('fetchBatches did not reach the high watermark')
}

/** Every record of the uncompressed, non-control batches of a partition. */
export async function fetchRecords(
  conn: Connection,
  topic: string,
  partition: number,
  fromOffset = 0,
): Promise<KafkaRecord[]> {
  const { batches } = await fetchBatches(conn, topic, partition, fromOffset)
  const out: KafkaRecord[] = []
  for (const b of batches) {
    b.verifyCrc()
    if (!b.isControl) b.records({}, out)
  }
  return out.filter((r) => r.offset >= fromOffset)
}
