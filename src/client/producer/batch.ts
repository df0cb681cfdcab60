import {
  BATCH_HEADER_BYTES,
  crc32c,
  decodeBatchRecords,
  encodeRecordBatchAsync,
  encodeRecordBatchWith,
  type KafkaRecord,
  RecordBatch,
} from '../../protocol/records/index.js'
import type { PartitionQueue } from './accumulator.js'
import { type DeliveryTarget, deliver, type FlushWaiter } from './delivery.js'
import type { CompressionOption } from './options.js'
import { type QueuedRecord, recordBytes, toQueuedRecord } from './record.js'

/**
 * The records bound for one partition in one record batch: appended while open, encoded once when first drained
 * (with its producer id, epoch and base sequence), sent, maybe re-sent, then completed or failed as a whole.
 */
export class ProducerBatch {
  /** The records until the batch is encoded; dropped then (their timestamps are kept for the metadata). */
  private records: QueuedRecord[] | undefined = []
  private timestamps: number[] | undefined
  private readonly targets: DeliveryTarget[] = []
  private readonly indexes: number[] = []
  private count = 0
  /** Encoded size before compression. */
  sizeBytes = BATCH_HEADER_BYTES
  /** Bytes of `bufferBytes` this batch holds. */
  charged = 0
  baseTimestamp = 0
  /** No more appends: full, or drained. */
  closed = false
  deadline: number
  /** Times this batch's records were split off a larger batch. */
  splits = 0
  /** Creation order within the producer: queues keep batches (and so sequences) in this order. */
  order = 0

  /** Times sent. */
  attempts = 0
  /** Not to be re-sent before this time. */
  retryAt = 0
  /** The last error a send ended with. */
  lastError: unknown
  producerId = -1n
  producerEpoch = -1
  /** -1 until the batch is first drained by an idempotent producer. */
  baseSequence = -1
  /** The base sequence of the attempt on the wire (differs from `baseSequence` once that is rewritten). */
  sentSequence = -1
  /** On the wire: in a request awaiting its response. */
  inFlight = false
  done = false
  flushWaiters: FlushWaiter[] | undefined

  private encoded: Buffer | undefined
  private encoding: Promise<Buffer> | undefined
  private stampedSequence = -1
  private stampedEpoch = -1
  private stampedId = -1n

  constructor(
    readonly queue: PartitionQueue,
    readonly codec: CompressionOption,
    readonly transactional: boolean,
    readonly createdAt: number,
    deliveryTimeoutMs: number,
  ) {
    this.deadline = createdAt + deliveryTimeoutMs
  }

  get topic(): string {
    return this.queue.topic
  }

  get partition(): number {
    return this.queue.partition
  }

  get recordCount(): number {
    return this.count
  }

  /**
   * Appends a record unless that would take the batch past `maxBytes` (a record always fits an empty batch).
   * Returns the bytes the record adds, or 0 when it does not fit.
   */
  tryAppend(r: QueuedRecord, target: DeliveryTarget, index: number, charge: number, maxBytes: number): number {
    const n = this.count
    if (n === 0) this.baseTimestamp = r.timestamp
    const bytes = recordBytes(r, n, this.baseTimestamp)
    if (n > 0 && this.sizeBytes + bytes > maxBytes) return 0
    this.records!.push(r)
    this.targets.push(target)
    this.indexes.push(index)
    this.count = n + 1
    this.sizeBytes += bytes
    this.charged += charge
    return bytes
  }

  /** Sets the producer fields (idempotent producers) before the batch is first encoded or re-sent. */
  setProducerState(producerId: bigint, producerEpoch: number, baseSequence: number): void {
    this.producerId = producerId
    this.producerEpoch = producerEpoch
    this.baseSequence = baseSequence
  }

  /** The encoded batch with the current producer fields, compressing on first use (asynchronously). */
  encode(): Buffer | Promise<Buffer> {
    if (this.encoded) return this.stamp(this.encoded)
    if (this.encoding) return this.encoding.then((b) => this.stamp(b))
    const records = this.records!
    const input = {
      records,
      timestamp: this.baseTimestamp,
      transactional: this.transactional,
      producerId: this.producerId,
      producerEpoch: this.producerEpoch,
      baseSequence: this.baseSequence,
    }
    this.keepTimestamps(records)
    if (this.codec === 'none') return this.encodedAs(encodeRecordBatchWith(input, 0, undefined) as Buffer, input)
    this.encoding = encodeRecordBatchAsync({ ...input, compression: this.codec }).then(
      (b) => this.encodedAs(b, input),
      (err) => {
        this.encoding = undefined
        throw err
      },
    )
    return this.encoding
  }

  /** True once `encode()` has a buffer ready (no compression pending). */
  get isEncoded(): boolean {
    return this.encoded !== undefined
  }

  private keepTimestamps(records: QueuedRecord[]): void {
    let any = false
    for (let i = 0; i < this.targets.length; i++)
      if (this.targets[i] !== undefined) {
        any = true
        break
      }
    if (!any) return
    const ts = new Array<number>(records.length)
    for (let i = 0; i < records.length; i++) ts[i] = records[i]!.timestamp
    this.timestamps = ts
  }

  private encodedAs(b: Buffer, as: { producerId: bigint; producerEpoch: number; baseSequence: number }): Buffer {
    this.encoded = b
    this.encoding = undefined
    this.records = undefined
    this.stampedId = as.producerId
    this.stampedEpoch = as.producerEpoch
    this.stampedSequence = as.baseSequence
    return this.stamp(b)
  }

  /** Rewrites the producer fields of an encoded batch (after an epoch bump or a sequence rewrite) and its CRC. */
  private stamp(b: Buffer): Buffer {
    if (
      this.stampedSequence !== this.baseSequence ||
      this.stampedEpoch !== this.producerEpoch ||
      this.stampedId !== this.producerId
    ) {
      // Requests reference the batch rather than copy it (see Writer's chunked mode), and an earlier send of it may
      // still be queued on a socket: a retry with new producer fields stamps a copy (retries are rare).
      const copy = Buffer.from(b)
      if (this.encoded === b) this.encoded = copy
      b = copy
      b.writeBigInt64BE(this.producerId, 43)
      b.writeInt16BE(this.producerEpoch, 51)
      b.writeInt32BE(this.baseSequence, 53)
      b.writeUInt32BE(crc32c(b, 21), 17)
      this.stampedId = this.producerId
      this.stampedEpoch = this.producerEpoch
      this.stampedSequence = this.baseSequence
    }
    return b
  }

  /**
   * The batch's records again, read back from its encoding (decompressed when needed), to split it after the broker
   * refused it as too large.
   */
  records_(): QueuedRecord[] | Promise<QueuedRecord[]> {
    if (this.records) return this.records
    const encoded = this.encoded
    if (!encoded) throw new Error('batch has neither records nor an encoding')
    const batch = new RecordBatch(encoded)
    const convert = (rs: KafkaRecord[]) =>
      rs.map((r) => toQueuedRecord({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp }, 0))
    if (batch.compressionCode === 0) return convert(batch.records())
    return decodeBatchRecords(batch).then(convert)
  }

  /**
   * Splits the batch in two halves that take over its records, callbacks, buffer charge, deadline, attempts, place
   * in the queue and (when it has them) its sequence numbers; this batch is then done without telling anyone.
   */
  splitInTwo(records: QueuedRecord[]): [ProducerBatch, ProducerBatch] {
    const half = Math.ceil(records.length / 2)
    const parts: [ProducerBatch, ProducerBatch] = [
      new ProducerBatch(this.queue, this.codec, this.transactional, this.createdAt, 0),
      new ProducerBatch(this.queue, this.codec, this.transactional, this.createdAt, 0),
    ]
    for (let i = 0; i < records.length; i++) {
      const part = parts[i < half ? 0 : 1]
      part.tryAppend(records[i]!, this.targets[i], this.indexes[i]!, 0, Number.POSITIVE_INFINITY)
    }
    let seq = this.baseSequence
    for (const [k, part] of parts.entries()) {
      part.deadline = this.deadline
      part.attempts = this.attempts
      part.lastError = this.lastError
      part.closed = true
      // Between this batch and the next one's order, first half first.
      part.order = this.order + k / 2 ** (this.splits + 1)
      part.splits = this.splits + 1
      part.setProducerState(this.producerId, this.producerEpoch, seq)
      if (seq >= 0) seq = (seq + part.count) % 0x80000000
    }
    parts[0].charged = Math.floor(this.charged / 2)
    parts[1].charged = this.charged - parts[0].charged
    this.charged = 0
    const waiters = this.flushWaiters
    this.flushWaiters = undefined
    for (const w of waiters ?? []) {
      w.add(parts[0])
      w.add(parts[1])
    }
    this.done = true
    this.release()
    for (const w of waiters ?? []) w.done()
    return parts
  }

  /** Delivers every record's metadata. `logAppendTime` is -1 unless the topic stamps append times. */
  complete(baseOffset: number, logAppendTime: number): void {
    if (this.done) return
    this.done = true
    const topic = this.queue.topic
    const partition = this.queue.partition
    const ts = this.timestamps
    const records = this.records
    for (let i = 0; i < this.count; i++) {
      const t = this.targets[i]
      if (t === undefined) continue
      const timestamp = logAppendTime >= 0 ? logAppendTime : ts ? ts[i]! : records![i]!.timestamp
      deliver(t, this.indexes[i]!, null, { topic, partition, offset: baseOffset < 0 ? -1 : baseOffset + i, timestamp })
    }
    this.release()
  }

  /** Fails every record with `err` (or, with `errorFor`, a per-record error). */
  fail(err: Error, errorFor?: (index: number) => Error): void {
    if (this.done) return
    this.done = true
    for (let i = 0; i < this.count; i++) {
      const t = this.targets[i]
      if (t !== undefined) deliver(t, this.indexes[i]!, errorFor ? errorFor(i) : err, undefined)
    }
    this.release()
  }

  private release(): void {
    this.records = undefined
    this.encoded = undefined
    this.timestamps = undefined
    const waiters = this.flushWaiters
    if (waiters) {
      this.flushWaiters = undefined
      for (const w of waiters) w.done()
    }
  }
}
