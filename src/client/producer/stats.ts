/** Counters a producer keeps; `producer.stats()` returns a copy. */
export interface ProducerStats {
  /** Records accepted by `send`/`produce`. */
  recordsSent: number
  /** Records the brokers acknowledged (with acks 0: records written to the socket). */
  recordsAcked: number
  /** Records that failed (their callbacks or sends got an error). */
  recordsFailed: number
  /** Produce requests sent. */
  requests: number
  /** Batch sends, retries included. */
  batchesSent: number
  /** Batches sent again after a retriable error. */
  retries: number
  /** Batches split in two after the broker refused them as too large (MESSAGE_TOO_LARGE). */
  splits: number
  /** Times a partition's batches went to a different broker than the previous batch of that partition. */
  leaderChanges: number
  /** Metadata refreshes the producer asked for (unknown leaders, NOT_LEADER_OR_FOLLOWER, disconnects...). */
  metadataRefreshes: number
  /**
   * Epoch bumps: local ones of the idempotent producer resolving a sequence gap (KIP-360), and the transaction
   * coordinator's at each transaction end under transactions v2 (KIP-890).
   */
  epochBumps: number
  /** Producer ids obtained (InitProducerId). */
  producerIds: number
  /** Errors seen, by Kafka error name or error class (`ConnectionError`, `RequestTimeoutError`...). */
  errors: Record<string, number>
  /** Produce requests awaiting a response now. */
  inFlightRequests: number
  /** Batches queued now, not yet sent (or waiting for a retry). */
  queuedBatches: number
  /** Bytes of `bufferBytes` in use now. */
  bufferedBytes: number
  /** Records waiting for buffer room now. */
  bufferWaiters: number
}

export function emptyStats(): ProducerStats {
  return {
    recordsSent: 0,
    recordsAcked: 0,
    recordsFailed: 0,
    requests: 0,
    batchesSent: 0,
    retries: 0,
    splits: 0,
    leaderChanges: 0,
    metadataRefreshes: 0,
    epochBumps: 0,
    producerIds: 0,
    errors: {},
    inFlightRequests: 0,
    queuedBatches: 0,
    bufferedBytes: 0,
    bufferWaiters: 0,
  }
}

export function countError(stats: ProducerStats, err: unknown): void {
  const name =
    err && typeof err === 'object' && 'errorName' in err
      ? String((err as { errorName: unknown }).errorName)
      : err instanceof Error
        ? err.name
        : 'unknown'
  stats.errors[name] = (stats.errors[name] ?? 0) + 1
}
