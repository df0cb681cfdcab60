import type { RecordBatch } from '../../protocol/records/index.js'

export interface AbortedTransaction {
  producerId: bigint
  firstOffset: bigint
}

/**
 * read_committed filtering (KIP-98), as the Java consumer does it: the Fetch response lists the aborted transactions
 * that overlap the returned records (producer id + first offset). Walking batches in offset order, a transaction
 * becomes "open-aborted" once a batch reaches its first offset; that producer's transactional batches are dropped
 * until its ABORT marker (a control batch) closes it. Control batches themselves are never delivered.
 */
export class AbortedTransactionFilter {
  /** Aborted transactions not yet reached, ascending by first offset. */
  private readonly pending: Array<{ producerId: bigint; firstOffset: number }>
  private readonly open = new Set<bigint>()

  constructor(aborted: readonly AbortedTransaction[] | null) {
    this.pending = (aborted ?? [])
      .map((a) => ({ producerId: a.producerId, firstOffset: Number(a.firstOffset) }))
      .sort((a, b) => a.firstOffset - b.firstOffset)
  }

  /** Should this batch's records be delivered? Also consumes control batches (never delivered). */
  accept(batch: RecordBatch): boolean {
    while (this.pending.length > 0 && this.pending[0]!.firstOffset <= batch.lastOffset) {
      this.open.add(this.pending.shift()!.producerId)
    }
    if (batch.isControl) {
      if (batch.isTransactional && this.open.has(batch.producerId)) {
        const marker = batch.compressionCode === 0 ? batch.controlRecord() : null
        if (marker === null || marker.type === 'abort') this.open.delete(batch.producerId)
      }
      return false
    }
    return !(batch.isTransactional && this.open.has(batch.producerId))
  }
}
