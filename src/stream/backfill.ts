import { Consumer, type ConsumerOptions, type MessageBatch, type SkippedBatch } from '../client/consumer/index.js'

type Cluster = Consumer['cluster']

/** When a {@link StreamProcessor} reads a partition from two positions at once. */
export interface BackfillOptions {
  /**
   * A partition assigned with at least this many records between where its group stands (the committed offset, or —
   * with nothing committed and `resetPolicy: 'earliest'` — the log start) and its end is split: a live cursor starts
   * at the end, and a backfill cursor works through the backlog up to it, at batch priority. Both positions are kept
   * in the commit metadata, so a restart resumes both.
   */
  minLag: number
}

/** What the backfill reader hands its records to. */
export interface BackfillSink {
  acceptBackfill(batch: MessageBatch): void
  acceptBackfillSkipped(batch: SkippedBatch): void
  /** Resolves when there is room for more records (immediately when there is). */
  room(): Promise<void> | undefined
  report(err: unknown): void
  /** The reader stopped on an error (a bad batch under the `fail` policy, a reset under `none`). */
  fail(err: unknown): void
}

/**
 * The second reader of split partitions: a group-less consumer on the processor's cluster connections (with its own
 * fetch connections and sessions, as any independent reader), assigned the backlog of each split partition from the
 * committed offset. The processor takes its records at batch priority and unassigns a partition once its backfill
 * reaches the live cursor's start.
 */
export class BackfillReader {
  readonly consumer: Consumer
  private loop: Promise<void> | undefined
  private closed = false

  constructor(
    options: ConsumerOptions,
    cluster: Cluster,
    private readonly sink: BackfillSink,
  ) {
    const {
      client: _client,
      groupId: _groupId,
      group: _group,
      groupProtocol: _protocol,
      onAssigned: _a,
      onRevoked: _r,
      onLost: _l,
      ...fetch
    } = options
    // Its own fetch connections: a named reader's name with a suffix, else a name of its own (the default).
    const name = fetch.name === undefined ? undefined : `${fetch.name}-backfill`
    // 'earliest' whatever the processor's policy: a backlog position deleted by retention resumes at the log start
    // (the offsets in between are gone, and settled as such), never at the end, which would skip records still there.
    this.consumer = new Consumer({ ...fetch, cluster, autoCommit: false, name, resetPolicy: 'earliest' })
    this.consumer.on('error', (err: unknown) => sink.report(err))
    this.consumer.on('skipped', (b: SkippedBatch) => sink.acceptBackfillSkipped(b))
  }

  /** Starts reading a partition's backlog from `offset`. */
  async add(topic: string, partition: number, offset: number): Promise<void> {
    await this.consumer.assign([{ topic, partition, offset }])
    this.loop ??= this.read()
  }

  remove(topic: string, partition: number): void {
    this.consumer.unassign([{ topic, partition }])
  }

  /** The next offset it hands out for a partition (past control batches and aborted records too). */
  position(topic: string, partition: number): number {
    return this.consumer.position({ topic, partition })
  }

  assigned(topic: string, partition: number): boolean {
    return this.consumer.assignment().some((tp) => tp.topic === topic && tp.partition === partition)
  }

  async close(timeoutMs: number): Promise<void> {
    this.closed = true
    await this.consumer.close({ timeoutMs })
    await this.loop
  }

  private async read(): Promise<void> {
    try {
      const batches = this.consumer.batches()[Symbol.asyncIterator]()
      while (!this.closed) {
        await this.sink.room()
        if (this.closed) break
        const next = await batches.next()
        if (next.done) break
        this.sink.acceptBackfill(next.value)
      }
    } catch (err) {
      if (!this.closed) this.sink.fail(err)
    }
  }
}
