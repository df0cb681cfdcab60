import { Admin } from '../../src/client/admin/index.js'
import { Producer } from '../../src/client/producer/index.js'
import { decodeCommitMetadata } from '../../src/stream/commit-metadata.js'
import { OffsetRanges } from '../../src/stream/offset-ranges.js'
import { uniqueTopic } from './kafka.js'

/**
 * A topic of `partitions` × `perPartition` records, value "<partition>:<index>", key `key(partition, index)` (default
 * `k<index mod 50>`), written with the public Producer.
 */
export async function filledTopic(
  bootstrap: string,
  partitions: number,
  perPartition: number,
  key: (partition: number, index: number) => string | null = (_p, i) => `k${i % 50}`,
): Promise<string> {
  const admin = new Admin({ bootstrap })
  const topic = uniqueTopic('stream')
  try {
    const [created] = await admin.createTopics([{ name: topic, partitions }])
    if (created!.error) throw created!.error
  } finally {
    await admin.close()
  }
  const producer = new Producer({ bootstrap, compression: 'lz4', lingerMs: 5 })
  try {
    const sends: Promise<unknown>[] = []
    for (let p = 0; p < partitions; p++) {
      for (let i = 0; i < perPartition; i += 1000) {
        const n = Math.min(1000, perPartition - i)
        sends.push(
          producer.send({
            topic,
            messages: Array.from({ length: n }, (_, j) => ({
              partition: p,
              key: key(p, i + j),
              value: `${p}:${i + j}`,
            })),
          }),
        )
      }
    }
    await Promise.all(sends)
  } finally {
    await producer.close()
  }
  return topic
}

/** What a group has committed for a topic, per partition: the offset and the ranges done above it (decoded). */
export async function committedProgress(bootstrap: string, groupId: string, topic: string) {
  const admin = new Admin({ bootstrap })
  try {
    const out = new Map<number, { offset: number; metadata: string | null; done: OffsetRanges; ranges: number }>()
    for (const o of await admin.listGroupOffsets(groupId, { topics: [topic] })) {
      if (o.error) throw o.error
      const offset = Number(o.offset)
      const decoded = decodeCommitMetadata(o.metadata, offset)
      const ranges = decoded.kind === 'ranges' ? decoded.ranges : []
      out.set(o.partition, {
        offset,
        metadata: o.metadata,
        done: new OffsetRanges(offset, ranges),
        ranges: ranges.length,
      })
    }
    return out
  } finally {
    await admin.close()
  }
}
