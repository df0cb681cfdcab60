import { Admin } from '../../src/client/admin/index.js'
import { Producer } from '../../src/client/producer/index.js'
import { decodeCommitMetadata } from '../../src/stream/commit-metadata.js'
import { OffsetRanges } from '../../src/stream/offset-ranges.js'
import { uniqueTopic } from './kafka.js'

/**
 * A topic of `partitions` × `perPartition` records, value "<partition>:<index>", key `key(partition, index)` (default
 * `k<index mod 50>`), written with the public Producer: `produce` without waiting per record (only for `drain` when
 * the buffer is full), the partitions interleaved so that every request carries a batch of each, yielding to the
 * event loop every 8k records; then one flush. A million records take about 2 s.
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
  const producer = new Producer({ bootstrap, compression: 'lz4', lingerMs: 10 })
  try {
    let failed: Error | undefined
    const onDelivery = (err: Error | null) => {
      if (err) failed ??= err
    }
    let sinceYield = 0
    for (let i = 0; i < perPartition; i++) {
      for (let p = 0; p < partitions; p++) {
        if (!producer.produce({ topic, partition: p, key: key(p, i), value: `${p}:${i}` }, onDelivery))
          await new Promise((r) => producer.once('drain', r))
      }
      // Let the sender run now and then: batches go out while the rest is produced (one synchronous loop over a
      // million records would hold them all, and take several times as long).
      if ((sinceYield += partitions) >= 8192) {
        sinceYield = 0
        await new Promise((r) => setImmediate(r))
        if (failed) throw failed
      }
    }
    await producer.flush()
    if (failed) throw failed
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
