import { CorruptRecordError, type RecordContext } from './errors.js'
import { LegacyMessageBatch } from './legacy.js'
import { LOG_OVERHEAD, MAGIC_OFFSET, RecordBatch } from './record-batch.js'

/** The record batches of one partition in a Fetch response, parsed lazily (headers only). */
export interface RecordSet {
  batches: Array<RecordBatch | LegacyMessageBatch>
  /**
   * Bytes of a batch cut short at the end of the record set. Normal in Kafka: the broker fills a response up to
   * the fetch size limits and may stop inside a batch; the consumer fetches it again from its offset.
   */
  partialBytes: number
}

/** Smallest valid size after the 12-byte log overhead: a v0 message (crc, magic, attributes, key, value). */
const MIN_ENTRY_SIZE = 14

/**
 * Splits a partition's `records` bytes into batches without decoding any record. v2 batches become
 * {@link RecordBatch}; magic 0/1 message sets (old segments, e.g. of long-lived compacted topics) become
 * {@link LegacyMessageBatch}. A cut-off last batch is reported in `partialBytes`, not thrown.
 */
export function readRecordSet(records: Buffer | null, context: RecordContext = {}): RecordSet {
  const batches: RecordSet['batches'] = []
  if (!records) return { batches, partialBytes: 0 }
  const len = records.length
  let pos = 0
  while (pos < len) {
    if (len - pos < LOG_OVERHEAD + 5) break
    const size = records.readInt32BE(pos + 8)
    if (size < MIN_ENTRY_SIZE) {
      throw new CorruptRecordError(`batch size ${size} is below the minimum ${MIN_ENTRY_SIZE}`, {
        ...context,
        offset: pos + 8,
      })
    }
    const end = pos + LOG_OVERHEAD + size
    if (end > len) break
    const view = records.subarray(pos, end)
    const magic = records[pos + MAGIC_OFFSET]
    if (magic === 2) batches.push(new RecordBatch(view, context))
    else if (magic === 0 || magic === 1) batches.push(new LegacyMessageBatch(view, context))
    else throw new CorruptRecordError(`unknown record batch magic ${magic}`, { ...context, offset: pos + MAGIC_OFFSET })
    pos = end
  }
  return { batches, partialBytes: len - pos }
}
