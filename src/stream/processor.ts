import { EventEmitter } from 'node:events'
import { Admin } from '../client/admin/index.js'
import {
  Consumer,
  type ConsumerOptions,
  type ConsumerRecord,
  type MessageBatch,
  type OffsetToCommit,
  type SkippedBatch,
} from '../client/consumer/index.js'
import { AbortedError, ConfigError } from '../client/errors.js'
import { Producer } from '../client/producer/index.js'
import {
  DEFAULT_METADATA_MAX_CHARS,
  decodeCommitMetadata,
  encodeCommitMetadata,
  runsEncodedChars,
  uvarintSize,
} from './commit-metadata.js'
import {
  batchCopy,
  type DeadLetterCopy,
  type DeadLetterOptions,
  type DeadLetterReason,
  dlqTopicFor,
  recordCopy,
} from './dead-letter.js'
import { CommitMetadataTooLargeError, DeserializationError, HandlerFailedError } from './errors.js'
import { OffsetRanges } from './offset-ranges.js'

/** What a handler is told besides the record. */
export interface HandlerContext {
  /** 1 for the first run of this record, then 2, 3… for retries. */
  attempt: number
  /**
   * Aborted when the processor gives up on this run: the partition was revoked or lost and the revoke timeout
   * passed, or `close()` timed out. The record then counts as unfinished (it is handled again later).
   */
  signal: AbortSignal
  /** What `deserialize` made of the record (undefined without that option). */
  value: unknown
}

/** Handles one record; a rejection (or throw) is retried with backoff. */
export type RecordHandler = (record: ConsumerRecord, context: HandlerContext) => void | Promise<void>

/**
 * - `partition`: records of a partition one at a time, in offset order (parallel across partitions);
 * - `key`: records of a key one at a time, in offset order (parallel across keys; records without a key are not
 *   ordered among themselves);
 * - `unordered`: any record whenever there is capacity.
 */
export type Ordering = 'partition' | 'key' | 'unordered'

/** Options of a {@link StreamProcessor}. */
export interface StreamProcessorOptions {
  /**
   * The consumer to read with (`groupId` required). The processor owns it: `autoCommit` is turned off (the
   * processor commits offsets with their metadata itself) and its rebalance hooks are wrapped (yours still run,
   * after the processor's work).
   */
  consumer: ConsumerOptions
  /** Topics to subscribe to. */
  topics: string[] | RegExp
  handler: RecordHandler
  /** Most handler runs at once, across partitions. Default 16. */
  concurrency?: number
  /** Default 'partition'. */
  ordering?: Ordering
  /** Commit completed work this often. Default 5000. */
  commitIntervalMs?: number
  /** The broker's `offset.metadata.max.bytes` (characters). Default 4096, Kafka's default. */
  metadataMaxChars?: number
  /** Try deflate on the metadata. Default true. */
  compressMetadata?: boolean
  /** Retries after a handler's first failure. Default 3. */
  retries?: number
  /** First retry delay; doubled each retry, with jitter. Default 100. */
  retryBackoffMs?: number
  /** Most delay between retries. Default 5000. */
  retryBackoffMaxMs?: number
  /**
   * After the last retry fails: `stop` (default) stops the processor (`run()` rejects with the
   * {@link HandlerFailedError}; the record stays unfinished, so it is handled again after a restart); `skip` reports
   * the error as an 'error' event and counts the record done. Not used with a `deadLetter` lane: the record goes
   * there instead.
   */
  failurePolicy?: 'stop' | 'skip'
  /** Records held (queued or running) for one partition before fetching it pauses. Default max(500, 8 × concurrency). */
  maxBufferedPerPartition?: number
  /** Records held in all before the processor stops taking more from the consumer. Default max(2000, 32 × concurrency). */
  maxBuffered?: number
  /** How long a revocation waits for the partition's running handlers before aborting them. Default 30 000. */
  revokeTimeoutMs?: number
  /**
   * Turns a record into the value handed to the handler as `context.value`, once per record. When it throws, the
   * record goes to the dead-letter lane at once (no retries), or — without one — counts as a failed handler run.
   */
  deserialize?: (record: ConsumerRecord) => unknown
  /**
   * The dead-letter lane. With it, a record whose handler fails every attempt (instead of `failurePolicy`), or
   * whose `deserialize` throws (or whose handler throws a {@link DeserializationError}), is copied to the lane with
   * headers naming its topic, partition, offset, timestamp and the error ({@link DLQ_HEADERS}); a batch that cannot
   * be opened (over the consumer's decompression limits, or corrupt) is copied whole, its raw compressed bytes as
   * the value (the consumer's `badBatchPolicy` is then `skip`). An offset counts as done only once its copy is
   * acknowledged by the broker; a copy that cannot be written stops the processor (the record stays unfinished).
   */
  deadLetter?: DeadLetterOptions
}

/** Emitted as 'commit': what was committed for one partition. */
export interface ProcessorCommit {
  topic: string
  partition: number
  /** The Kafka offset committed: the lowest offset not done. */
  offset: number
  /** Done ranges above it, stored in the metadata. */
  ranges: number
  metadata: string
}

/** Emitted as 'backpressure' when a partition starts (`active: true`) or stops being held back. */
export interface ProcessorBackpressure {
  topic: string
  partition: number
  /**
   * - `metadata`: its completed ranges would not fit the commit metadata with more records running: only its oldest
   *   unfinished record may start until they do;
   * - `buffer`: `maxBufferedPerPartition` records are held for it: fetching it is paused.
   */
  reason: 'metadata' | 'buffer'
  active: boolean
}

/** Counters of a processor. */
export interface ProcessorStats {
  /** Handler runs that succeeded (a record retried and then successful counts once). */
  handled: number
  /** Handler runs that threw. */
  failures: number
  /** Records given up on after the last retry (under `skip`). */
  skippedFailed: number
  /** Records not handled because the commit metadata says they were done already. */
  skippedDone: number
  /** Copies acknowledged in the dead-letter lane (records, and batches that could not be opened). */
  deadLettered: number
  /** Commits made (each covering one or more partitions). */
  commits: number
  inFlight: number
  buffered: number
  /** Partitions currently held back because of their metadata size. */
  metadataPressure: number
}

type TaskStatus = 'queued' | 'ready' | 'running' | 'done' | 'dropped'

interface Task {
  record: ConsumerRecord
  /** Offsets from here up to the record's are settled with it (offsets the consumer never delivered: markers, gaps). */
  gapStart: number
  part: PartitionState
  lane: Lane | undefined
  status: TaskStatus
  /** Set for a batch that could not be opened: the task writes its dead-letter copy; `record` stands in for it. */
  batch: (SkippedBatch & { raw: Buffer }) | undefined
  /** One past the last offset this task settles: the record's offset + 1, or the batch's last offset + 1. */
  end: number
}

interface Lane {
  key: string | null
  queue: Task[]
  /** Its head is ready or running. */
  busy: boolean
}

/** A FIFO with O(1) shift; tasks that left the ready state are skipped lazily. */
class TaskQueue {
  private items: Task[] = []
  private head = 0

  push(t: Task): void {
    this.items.push(t)
  }

  shift(): Task | undefined {
    while (this.head < this.items.length) {
      const t = this.items[this.head++]!
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head)
        this.head = 0
      }
      if (t.status === 'ready') return t
    }
    return undefined
  }

  clear(): void {
    this.items = []
    this.head = 0
  }
}

interface PartitionState {
  topic: string
  partition: number
  key: string
  /** False once revoked, lost or closed: nothing more is taken in or started. */
  open: boolean
  /** False once forgotten (after a revoke's commit, a loss, the close): completions no longer count. */
  live: boolean
  /** Known once the committed offset and metadata are read (or, with nothing committed, at the first record). */
  ranges: OffsetRanges | undefined
  loaded: boolean
  /** Records that arrived before the committed metadata was read. */
  incoming: ConsumerRecord[]
  /** The offset after the last record received. */
  nextExpected: number
  /** Received, not done, by offset (insertion order = offset order): the first is the oldest unfinished. */
  pending: Map<number, Task>
  ready: TaskQueue
  readyCount: number
  lanes: Map<string | null, Lane>
  partitionLane: Lane
  inFlight: number
  paused: boolean
  pressured: boolean
  /** Metadata size cache, by `ranges.version`. */
  sizeVersion: number
  sizeChars: number
  lastCommitted: { offset: number; metadata: string | null } | undefined
  controller: AbortController
  idle: (() => void) | undefined
}

const SLACK_CHARS = 16

/**
 * Runs a handler over the records of a consumer group's partitions with bounded concurrency, in the chosen
 * ordering, and commits progress as ranges: the Kafka offset is the lowest offset not yet done, and the commit's
 * metadata holds the completed ranges above it (see `commit-metadata.ts`) and the timestamp of the oldest unfinished
 * record. After a crash or a rebalance, whoever gets the partition reads that metadata and skips the ranges already
 * done: finished work is not redone, unfinished work is (at-least-once), and a slow record does not hold back the
 * commits of those after it.
 *
 * ```ts
 * const processor = new StreamProcessor({
 *   consumer: { client: { bootstrap: 'localhost:9092' }, groupId: 'billing' },
 *   topics: ['orders'],
 *   ordering: 'key',
 *   concurrency: 64,
 *   handler: async (record, { signal }) => { await charge(record, signal) },
 * })
 * process.on('SIGTERM', () => processor.close())
 * await processor.run()     // until close(); rejects if a record fails every retry (failurePolicy 'stop')
 * ```
 *
 * Events: 'commit' (ProcessorCommit[]), 'backpressure' (ProcessorBackpressure), 'dead-letter' (DeadLetterCopy, once
 * a copy is acknowledged), 'error' (non-fatal problems: a
 * failed commit, retried at the next; unreadable metadata, read as a plain offset; a record skipped after its
 * retries — only emitted when someone listens; fatal errors reject `run()`).
 */
export class StreamProcessor extends EventEmitter {
  /** The consumer the processor reads with (for `assignment()`, `position()`, its events). */
  readonly consumer: Consumer
  private readonly admin: Admin
  private readonly groupId: string
  private readonly handler: RecordHandler
  private readonly topics: string[] | RegExp
  private readonly ordering: Ordering
  private readonly concurrency: number
  private readonly commitIntervalMs: number
  private readonly maxChars: number
  private readonly compress: boolean
  private readonly retries: number
  private readonly backoffMs: number
  private readonly backoffMaxMs: number
  private readonly failurePolicy: 'stop' | 'skip'
  private readonly maxBufferedPerPartition: number
  private readonly maxBuffered: number
  private readonly revokeTimeoutMs: number
  private readonly userHooks: Pick<ConsumerOptions, 'onAssigned' | 'onRevoked' | 'onLost'>
  private readonly deserialize: ((record: ConsumerRecord) => unknown) | undefined
  private readonly deadLetter: DeadLetterOptions | undefined
  private readonly dlqProducer: Producer | undefined
  /** Stand-in records of batches that could not be opened, on their way through `receive()`. */
  private readonly badBatches = new WeakMap<ConsumerRecord, SkippedBatch & { raw: Buffer }>()

  private readonly states = new Map<string, PartitionState>()
  /** Partitions with a task that may start, in turn order. */
  private readonly readyParts = new Set<PartitionState>()
  private readonly toLoad = new Set<PartitionState>()
  private loadScheduled = false
  private inFlight = 0
  private buffered = 0
  private roomWaiter: (() => void) | undefined
  private allIdle: (() => void) | undefined
  private commitChain: Promise<unknown> = Promise.resolve()
  private commitTimer: NodeJS.Timeout | undefined
  private running = false
  private stopping = false
  private closing: Promise<void> | undefined
  private fatal: unknown
  private readonly stopController = new AbortController()
  private readonly counters = { handled: 0, failures: 0, skippedFailed: 0, skippedDone: 0, deadLettered: 0, commits: 0 }

  constructor(options: StreamProcessorOptions) {
    super()
    if (!options || typeof options !== 'object') throw new ConfigError('stream processor options are required')
    if (typeof options.handler !== 'function') throw new ConfigError('handler must be a function')
    const c = options.consumer
    if (!c || typeof c.groupId !== 'string' || c.groupId === '')
      throw new ConfigError('the processor commits for a group: consumer.groupId is required')
    const int = (name: string, v: number | undefined, def: number, min = 1): number => {
      if (v === undefined) return def
      if (!Number.isSafeInteger(v) || v < min) throw new ConfigError(`${name} must be an integer ≥ ${min}, got ${v}`)
      return v
    }
    this.concurrency = int('concurrency', options.concurrency, 16)
    this.commitIntervalMs = int('commitIntervalMs', options.commitIntervalMs, 5000)
    this.maxChars = int('metadataMaxChars', options.metadataMaxChars, DEFAULT_METADATA_MAX_CHARS, 32)
    this.retries = int('retries', options.retries, 3, 0)
    this.backoffMs = int('retryBackoffMs', options.retryBackoffMs, 100, 0)
    this.backoffMaxMs = int('retryBackoffMaxMs', options.retryBackoffMaxMs, 5000, 0)
    this.maxBufferedPerPartition = int(
      'maxBufferedPerPartition',
      options.maxBufferedPerPartition,
      Math.max(500, 8 * this.concurrency),
    )
    this.maxBuffered = int('maxBuffered', options.maxBuffered, Math.max(2000, 32 * this.concurrency))
    this.revokeTimeoutMs = int('revokeTimeoutMs', options.revokeTimeoutMs, 30_000, 0)
    const ordering = options.ordering ?? 'partition'
    if (!['partition', 'key', 'unordered'].includes(ordering))
      throw new ConfigError(`ordering must be 'partition', 'key' or 'unordered', got ${String(ordering)}`)
    this.ordering = ordering
    const policy = options.failurePolicy ?? 'stop'
    if (policy !== 'stop' && policy !== 'skip') throw new ConfigError(`failurePolicy must be 'stop' or 'skip'`)
    this.failurePolicy = policy
    this.compress = options.compressMetadata ?? true
    this.handler = options.handler
    this.topics = options.topics
    this.groupId = c.groupId
    this.userHooks = { onAssigned: c.onAssigned, onRevoked: c.onRevoked, onLost: c.onLost }
    this.deserialize = options.deserialize
    this.deadLetter = options.deadLetter
    this.consumer = new Consumer({
      ...c,
      autoCommit: false,
      ...(options.deadLetter ? { badBatchPolicy: 'skip' as const } : {}),
      onAssigned: (tps) => this.onAssigned(tps),
      onRevoked: (tps) => this.onRevoked(tps),
      onLost: (tps) => this.onLost(tps),
    })
    this.consumer.on('error', (err: unknown) => this.report(err))
    this.admin = new Admin({ cluster: this.consumer.cluster })
    if (options.deadLetter) {
      this.dlqProducer = new Producer(options.deadLetter.producer ?? { cluster: this.consumer.cluster })
      this.consumer.on('skipped', (b: SkippedBatch) => this.acceptBadBatch(b))
    }
  }

  /**
   * Subscribes and processes until `close()` (or `signal` aborts, which closes). Resolves once closed; rejects with
   * what stopped the processor otherwise (a {@link HandlerFailedError} under `failurePolicy: 'stop'`, a consumer
   * error), after closing (what was done is committed).
   */
  async run(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.running) throw new ConfigError('run() was called already')
    if (this.closing) throw new ConfigError('the processor is closed')
    this.running = true
    const onAbort = () => void this.close()
    options.signal?.addEventListener('abort', onAbort, { once: true })
    try {
      if (options.signal?.aborted) return
      await this.consumer.subscribe(this.topics, { signal: options.signal })
      this.commitTimer = setInterval(() => {
        this.commit().catch((err) => this.report(err))
      }, this.commitIntervalMs)
      this.commitTimer.unref()
      await this.loop()
    } catch (err) {
      // Once stopping, the consumer closing under a pending read is expected.
      if (!this.stopping) this.fatal ??= err
    } finally {
      options.signal?.removeEventListener('abort', onAbort)
      await this.close()
    }
    if (this.fatal !== undefined) throw this.fatal
  }

  /**
   * Stops: nothing new starts, queued records are let go (unfinished: handled again by whoever reads next), running
   * handlers get until `timeoutMs` (default 30 000) to finish — then their signals abort — what is done is
   * committed, and the consumer leaves the group. Idempotent.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closing ??= this.doClose(options.timeoutMs ?? 30_000)
    return this.closing
  }

  /**
   * Commits every partition whose progress changed since its last commit: offset = lowest offset not done, metadata
   * = completed ranges above it. A partition whose ranges do not fit is left at its previous commit (reported as a
   * {@link CommitMetadataTooLargeError} 'error' event) — never committed with less than is known. Commits are made
   * one at a time.
   */
  commit(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    return this.commitStates([...this.states.values()], options)
  }

  /** Counters and current levels. */
  stats(): ProcessorStats {
    let pressure = 0
    for (const s of this.states.values()) if (s.pressured) pressure++
    return { ...this.counters, inFlight: this.inFlight, buffered: this.buffered, metadataPressure: pressure }
  }

  // --- intake ----------------------------------------------------------------------------------------------------

  private async loop(): Promise<void> {
    const batches = this.consumer.batches()[Symbol.asyncIterator]()
    while (!this.stopping) {
      if (this.buffered >= this.maxBuffered) {
        await new Promise<void>((resolve) => {
          this.roomWaiter = resolve
        })
        continue
      }
      const next = await batches.next()
      if (next.done) break
      this.accept(next.value)
    }
  }

  private accept(batch: MessageBatch): void {
    if (this.stopping || batch.messages.length === 0) return
    const key = tpKey(batch.topic, batch.partition)
    let s = this.states.get(key)
    if (!s) {
      // Records can arrive before the assignment hook has run; anything else is from a partition no longer ours.
      if (!this.consumer.assignment().some((tp) => tp.topic === batch.topic && tp.partition === batch.partition)) return
      s = this.stateFor(batch.topic, batch.partition)
    }
    if (!s.open) return
    if (!s.loaded) {
      for (const m of batch.messages) s.incoming.push(m)
      this.buffered += batch.messages.length
      this.checkBuffer(s)
      return
    }
    for (const m of batch.messages) this.receive(s, m)
    this.checkBuffer(s)
    this.touch(s)
    this.pump()
  }

  private receive(s: PartitionState, record: ConsumerRecord): void {
    const batch = this.badBatches.get(record)
    if (batch && s.ranges && record.offset < s.nextExpected) {
      // Records of the batch decoded before it failed were delivered already: the copy settles the rest.
      if (s.nextExpected > batch.lastOffset) return
      record.offset = s.nextExpected
    }
    if (!s.ranges || record.offset < s.nextExpected) {
      if (s.pending.has(record.offset)) return
      // The first record, or the position moved back (a reset to an earlier offset, a truncated log): what is known
      // done above it no longer describes these records.
      if (!s.ranges || record.offset < s.ranges.base || s.ranges.isDone(record.offset)) {
        s.ranges = new OffsetRanges(record.offset)
      }
      s.nextExpected = record.offset
    }
    const gapStart = s.nextExpected
    const end = batch ? batch.lastOffset + 1 : record.offset + 1
    s.nextExpected = end
    if (s.ranges.isDone(record.offset)) {
      s.ranges.markDone(gapStart, end)
      this.counters.skippedDone++
      return
    }
    const task: Task = { record, gapStart, part: s, lane: undefined, status: 'queued', batch, end }
    s.pending.set(record.offset, task)
    this.buffered++
    // A batch's copy waits for nothing: what follows it in the partition is not held back.
    if (this.ordering === 'unordered' || batch) {
      this.makeReady(task)
      return
    }
    let lane: Lane
    if (this.ordering === 'partition') lane = s.partitionLane
    else {
      const k = record.key === null ? null : record.key.toString('latin1')
      if (k === null) {
        this.makeReady(task)
        return
      }
      lane = s.lanes.get(k) ?? { key: k, queue: [], busy: false }
      s.lanes.set(k, lane)
    }
    task.lane = lane
    if (lane.busy) lane.queue.push(task)
    else {
      lane.busy = true
      this.makeReady(task)
    }
  }

  private makeReady(task: Task): void {
    task.status = 'ready'
    task.part.ready.push(task)
    task.part.readyCount++
  }

  /** Pauses fetching a partition holding too many records (resumed at half). */
  private checkBuffer(s: PartitionState): void {
    const held = s.pending.size + s.incoming.length
    if (!s.paused && held >= this.maxBufferedPerPartition) {
      s.paused = true
      this.safely(() => this.consumer.pause([{ topic: s.topic, partition: s.partition }]))
      this.emitBackpressure(s, 'buffer', true)
    } else if (s.paused && held <= this.maxBufferedPerPartition / 2) {
      s.paused = false
      if (s.live) this.safely(() => this.consumer.resume([{ topic: s.topic, partition: s.partition }]))
      this.emitBackpressure(s, 'buffer', false)
    }
  }

  // --- dispatch --------------------------------------------------------------------------------------------------

  private touch(s: PartitionState): void {
    if (s.open && s.readyCount > 0) this.readyParts.add(s)
  }

  /** Starts tasks while there is capacity, partitions taking turns. */
  private pump(): void {
    while (this.inFlight < this.concurrency && !this.stopping) {
      const s = this.readyParts.values().next().value as PartitionState | undefined
      if (!s) return
      this.readyParts.delete(s)
      const task = this.take(s)
      if (!task) continue
      this.launch(task)
      this.touch(s)
    }
  }

  private take(s: PartitionState): Task | undefined {
    if (!s.open || s.readyCount === 0) return undefined
    if (this.underPressure(s)) {
      // Only the oldest unfinished record may start: finishing it never adds a range, and moves the base up.
      const oldest = s.pending.values().next().value as Task | undefined
      if (oldest?.status !== 'ready') return undefined
      oldest.status = 'queued'
      s.readyCount--
      return oldest
    }
    const t = s.ready.shift()
    if (t) {
      t.status = 'queued'
      s.readyCount--
    }
    return t
  }

  /**
   * True when one more running record could leave more ranges than the metadata holds: each running record may
   * add a range when it finishes, costing at most two varints of the span (base to the newest offset received).
   */
  private underPressure(s: PartitionState): boolean {
    const ranges = s.ranges!
    const span = Math.max(1, s.nextExpected - ranges.base)
    const perRange = Math.ceil((2 * uvarintSize(span) * 4) / 3) + 1
    const headroom = (s.inFlight + 1) * perRange + SLACK_CHARS
    if (s.sizeVersion !== ranges.version) {
      const state = { offset: ranges.base, ranges: ranges.ranges() }
      let chars = runsEncodedChars(state)
      if (chars + headroom > this.maxChars) {
        const enc = encodeCommitMetadata(state, { maxChars: Number.MAX_SAFE_INTEGER, compress: this.compress })
        chars = enc.fits ? enc.metadata.length : enc.chars
      }
      s.sizeVersion = ranges.version
      s.sizeChars = chars
    }
    return this.setPressure(s, s.sizeChars + headroom > this.maxChars)
  }

  private setPressure(s: PartitionState, on: boolean): boolean {
    if (s.pressured !== on) {
      s.pressured = on
      this.emitBackpressure(s, 'metadata', on)
    }
    return on
  }

  private launch(task: Task): void {
    task.status = 'running'
    const s = task.part
    s.inFlight++
    this.inFlight++
    void this.execute(task).then(
      (outcome) => this.settle(task, outcome),
      (err) => {
        this.report(err)
        this.settle(task, 'abandoned')
      },
    )
  }

  /** Runs the handler with retries: 'done', or 'abandoned' (aborted, or failed under 'stop': stays unfinished). */
  private async execute(task: Task): Promise<'done' | 'abandoned'> {
    const { record } = task
    const signal = task.part.controller.signal
    if (task.batch) return this.toDeadLetter(task, 'batch', task.batch.error, 0)
    let value: unknown
    if (this.deserialize) {
      try {
        value = this.deserialize(record)
      } catch (err) {
        const failed = new DeserializationError(record.topic, record.partition, record.offset, err)
        if (this.deadLetter) return this.toDeadLetter(task, 'deserialize', failed, 0)
        this.counters.failures++
        return this.giveUp(new HandlerFailedError(record.topic, record.partition, record.offset, 1, failed))
      }
    }
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) return 'abandoned'
      try {
        await this.handler(record, { attempt, signal, value })
        this.counters.handled++
        return 'done'
      } catch (err) {
        this.counters.failures++
        if (signal.aborted) return 'abandoned'
        if (err instanceof DeserializationError && this.deadLetter)
          return this.toDeadLetter(task, 'deserialize', err, attempt)
        if (attempt > this.retries) {
          const failed = new HandlerFailedError(record.topic, record.partition, record.offset, attempt, err)
          if (this.deadLetter) return this.toDeadLetter(task, 'handler', failed, attempt)
          return this.giveUp(failed)
        }
        const delay = Math.min(this.backoffMaxMs, this.backoffMs * 2 ** (attempt - 1))
        await sleep(delay * (0.5 + Math.random() / 2), signal)
      }
    }
  }

  /** After the last attempt, without a dead-letter lane: the failure policy decides. */
  private giveUp(failed: HandlerFailedError): 'done' | 'abandoned' {
    if (this.failurePolicy === 'skip') {
      this.counters.skippedFailed++
      this.report(failed)
      return 'done'
    }
    this.fail(failed)
    return 'abandoned'
  }

  /**
   * Writes the dead-letter copy of a record or of a batch that could not be opened: 'done' once the broker
   * acknowledged it. A copy that cannot be written stops the processor, leaving the offsets unfinished.
   */
  private async toDeadLetter(
    task: Task,
    reason: DeadLetterReason,
    error: Error,
    attempts: number,
  ): Promise<'done' | 'abandoned'> {
    const { record, batch } = task
    const signal = task.part.controller.signal
    const topic = dlqTopicFor(this.deadLetter!.topic, record.topic)
    const message = batch ? batchCopy(batch) : recordCopy(record, reason as 'handler' | 'deserialize', error, attempts)
    try {
      const [meta] = await this.dlqProducer!.send({ topic, messages: [message] })
      this.counters.deadLettered++
      const copy: DeadLetterCopy = {
        reason,
        topic: record.topic,
        partition: record.partition,
        offset: batch ? batch.baseOffset : record.offset,
        lastOffset: task.end - 1,
        dlqTopic: topic,
        dlqPartition: meta!.partition,
        dlqOffset: meta!.offset,
        error,
      }
      this.emit('dead-letter', copy)
      return 'done'
    } catch (err) {
      if (signal.aborted || this.stopping) return 'abandoned'
      this.fail(err)
      return 'abandoned'
    }
  }

  /** A batch the consumer could not open: a stand-in record enters the partition's intake in its place. */
  private acceptBadBatch(b: SkippedBatch): void {
    if (this.stopping || !b.raw) return
    const stand: ConsumerRecord = {
      topic: b.topic,
      partition: b.partition,
      offset: b.baseOffset,
      timestamp: -1,
      key: null,
      value: null,
      headers: [],
    }
    this.badBatches.set(stand, { ...b, raw: b.raw })
    this.accept({ topic: b.topic, partition: b.partition, messages: [stand], highWatermark: -1, lastStableOffset: -1 })
  }

  private settle(task: Task, outcome: 'done' | 'abandoned'): void {
    const s = task.part
    s.inFlight--
    this.inFlight--
    if (s.live) {
      this.buffered--
      if (outcome === 'done') {
        task.status = 'done'
        s.pending.delete(task.record.offset)
        s.ranges!.markDone(task.gapStart, task.end)
        const lane = task.lane
        if (lane) {
          const next = lane.queue.shift()
          if (next && s.open) this.makeReady(next)
          else {
            lane.busy = false
            if (lane !== s.partitionLane) s.lanes.delete(lane.key)
          }
        }
      } else {
        // Left unfinished (aborted, or failed with the processor stopping): it keeps the commit below it, and its
        // lane does not move on, so nothing after it in order starts.
        task.status = 'dropped'
      }
      this.checkBuffer(s)
      this.touch(s)
    } else task.status = outcome === 'done' ? 'done' : 'dropped'
    if (s.inFlight === 0) s.idle?.()
    if (this.inFlight === 0) this.allIdle?.()
    this.wakeIntake()
    this.pump()
  }

  /** Lets the intake loop take more from the consumer when there is room (or when stopping). */
  private wakeIntake(): void {
    if (this.roomWaiter && (this.buffered < this.maxBuffered || this.stopping)) {
      const wake = this.roomWaiter
      this.roomWaiter = undefined
      wake()
    }
  }

  // --- assignment ------------------------------------------------------------------------------------------------

  private stateFor(topic: string, partition: number): PartitionState {
    const key = tpKey(topic, partition)
    const existing = this.states.get(key)
    if (existing) return existing
    const s: PartitionState = {
      topic,
      partition,
      key,
      open: true,
      live: true,
      ranges: undefined,
      loaded: false,
      incoming: [],
      nextExpected: 0,
      pending: new Map(),
      ready: new TaskQueue(),
      readyCount: 0,
      lanes: new Map(),
      partitionLane: { key: null, queue: [], busy: false },
      inFlight: 0,
      paused: false,
      pressured: false,
      sizeVersion: -1,
      sizeChars: 0,
      lastCommitted: undefined,
      controller: new AbortController(),
      idle: undefined,
    }
    this.states.set(key, s)
    this.toLoad.add(s)
    if (!this.loadScheduled) {
      this.loadScheduled = true
      queueMicrotask(() => void this.loadCommitted())
    }
    return s
  }

  /** Reads the committed offsets and metadata of the partitions waiting for them (one request per batch of them). */
  private async loadCommitted(): Promise<void> {
    this.loadScheduled = false
    const waiting = [...this.toLoad]
    this.toLoad.clear()
    for (let attempt = 0; ; attempt++) {
      const states = waiting.filter((s) => s.live)
      if (states.length === 0 || this.stopping) return
      try {
        const topics = [...new Set(states.map((s) => s.topic))]
        const committed = await this.admin.listGroupOffsets(this.groupId, {
          topics,
          signal: this.stopController.signal,
        })
        const byKey = new Map(committed.map((o) => [tpKey(o.topic, o.partition), o]))
        for (const s of states) {
          const o = byKey.get(s.key)
          if (o?.error) throw o.error
          this.loaded(s, o && o.offset >= 0n ? { offset: Number(o.offset), metadata: o.metadata } : undefined)
        }
        this.pump()
        return
      } catch (err) {
        if (this.stopping) return
        this.report(err)
        await sleep(Math.min(5000, 100 * 2 ** attempt), this.stopController.signal)
      }
    }
  }

  private loaded(s: PartitionState, committed: { offset: number; metadata: string | null } | undefined): void {
    if (!s.live || s.loaded) return
    if (committed) {
      const decoded = decodeCommitMetadata(committed.metadata, committed.offset)
      if (decoded.kind === 'plain' && decoded.error) this.report(decoded.error)
      s.ranges = new OffsetRanges(committed.offset, decoded.kind === 'ranges' ? decoded.ranges : [])
      s.nextExpected = committed.offset
      s.lastCommitted = committed
    }
    s.loaded = true
    const incoming = s.incoming
    s.incoming = []
    this.buffered -= incoming.length
    for (const m of incoming) this.receive(s, m)
    this.checkBuffer(s)
    this.touch(s)
    this.wakeIntake()
  }

  private async onAssigned(tps: Array<{ topic: string; partition: number }>): Promise<void> {
    for (const tp of tps) this.stateFor(tp.topic, tp.partition)
    await this.userHooks.onAssigned?.(tps)
  }

  /** Lets the partitions' running handlers finish (up to revokeTimeoutMs), commits them, forgets them. */
  private async onRevoked(tps: Array<{ topic: string; partition: number }>): Promise<void> {
    const states = this.takeStates(tps)
    for (const s of states) this.release(s)
    await this.waitIdle(states, this.revokeTimeoutMs)
    for (const s of states)
      if (s.inFlight > 0) s.controller.abort(new AbortedError(`handling ${s.topic}[${s.partition}]`))
    await this.commitStates(states, { timeoutMs: this.revokeTimeoutMs }).catch((err) => this.report(err))
    for (const s of states) this.forget(s)
    await this.userHooks.onRevoked?.(tps)
  }

  /** Partitions lost without a chance to commit: their running handlers are aborted, their state dropped. */
  private async onLost(tps: Array<{ topic: string; partition: number }>): Promise<void> {
    for (const s of this.takeStates(tps)) {
      this.release(s)
      s.controller.abort(new AbortedError(`handling ${s.topic}[${s.partition}]`))
      this.forget(s)
    }
    await this.userHooks.onLost?.(tps)
  }

  private takeStates(tps: Array<{ topic: string; partition: number }>): PartitionState[] {
    const out: PartitionState[] = []
    for (const tp of tps) {
      const s = this.states.get(tpKey(tp.topic, tp.partition))
      if (s) out.push(s)
    }
    return out
  }

  /** Nothing more starts on this partition; its queued records are let go (they stay unfinished). */
  private release(s: PartitionState): void {
    s.open = false
    this.readyParts.delete(s)
    this.buffered -= s.incoming.length
    s.incoming = []
    for (const t of s.pending.values()) {
      if (t.status === 'queued' || t.status === 'ready') {
        t.status = 'dropped'
        this.buffered--
      }
    }
    s.ready.clear()
    s.readyCount = 0
    s.lanes.clear()
    s.partitionLane.queue = []
    this.wakeIntake()
  }

  /** Forgets a partition; completions still running no longer count. */
  private forget(s: PartitionState): void {
    if (!s.live) return
    if (s.open) this.release(s)
    s.live = false
    for (const t of s.pending.values()) if (t.status === 'running') this.buffered--
    this.states.delete(s.key)
    this.toLoad.delete(s)
    this.wakeIntake()
  }

  private async waitIdle(states: PartitionState[], timeoutMs: number): Promise<void> {
    const busy = states.filter((s) => s.inFlight > 0)
    if (busy.length === 0) return
    const all = Promise.all(
      busy.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.idle = resolve
          }),
      ),
    )
    let timer: NodeJS.Timeout | undefined
    await Promise.race([all, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))])
    clearTimeout(timer)
  }

  // --- commits ---------------------------------------------------------------------------------------------------

  private commitStates(states: PartitionState[], options: { signal?: AbortSignal; timeoutMs?: number }): Promise<void> {
    const run = this.commitChain.then(() => this.doCommit(states, options))
    this.commitChain = run.catch(() => {})
    return run
  }

  private async doCommit(
    states: PartitionState[],
    options: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<void> {
    const offsets: OffsetToCommit[] = []
    const made: ProcessorCommit[] = []
    for (const s of states) {
      const ranges = s.ranges
      if (!s.loaded || !ranges) continue
      const oldest = s.pending.values().next().value as Task | undefined
      const ts = oldest?.record.timestamp
      const list = ranges.ranges()
      const enc = encodeCommitMetadata(
        { offset: ranges.base, ranges: list, oldestUnfinishedTimestamp: ts !== undefined && ts >= 0 ? ts : undefined },
        { maxChars: this.maxChars, compress: this.compress },
      )
      if (!enc.fits) {
        this.report(new CommitMetadataTooLargeError(s.topic, s.partition, enc.chars, enc.maxChars))
        continue
      }
      const last = s.lastCommitted
      if (last && last.offset === ranges.base && last.metadata === enc.metadata) continue
      offsets.push({ topic: s.topic, partition: s.partition, offset: ranges.base, metadata: enc.metadata })
      made.push({
        topic: s.topic,
        partition: s.partition,
        offset: ranges.base,
        ranges: list.length,
        metadata: enc.metadata,
      })
    }
    if (offsets.length === 0) return
    await this.consumer.commit(offsets, options)
    for (const o of offsets) {
      const s = this.states.get(tpKey(o.topic, o.partition))
      if (s) s.lastCommitted = { offset: o.offset, metadata: o.metadata ?? null }
    }
    this.counters.commits++
    this.emit('commit', made)
  }

  // --- stopping --------------------------------------------------------------------------------------------------

  private fail(err: unknown): void {
    this.fatal ??= err
    void this.close()
  }

  private async doClose(timeoutMs: number): Promise<void> {
    this.stopping = true
    clearInterval(this.commitTimer)
    const deadline = Date.now() + timeoutMs
    const states = [...this.states.values()]
    for (const s of states) this.release(s)
    this.readyParts.clear()
    this.wakeIntake()
    if (this.inFlight > 0) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        new Promise<void>((resolve) => {
          this.allIdle = resolve
        }),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ])
      clearTimeout(timer)
      for (const s of states) if (s.inFlight > 0) s.controller.abort(new AbortedError('closing the stream processor'))
    }
    this.stopController.abort(new AbortedError('closing the stream processor'))
    if (this.running) {
      await this.commitStates([...this.states.values()], { timeoutMs: Math.max(1000, deadline - Date.now()) }).catch(
        (err) => this.report(err),
      )
    }
    for (const s of [...this.states.values()]) this.forget(s)
    try {
      await this.consumer.close({ timeoutMs: Math.max(1000, deadline - Date.now()) })
    } finally {
      await this.dlqProducer?.close().catch((err) => this.report(err))
      await this.admin.close()
    }
  }

  // --- reporting -------------------------------------------------------------------------------------------------

  private report(err: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', err)
  }

  private emitBackpressure(s: PartitionState, reason: 'metadata' | 'buffer', active: boolean): void {
    const e: ProcessorBackpressure = { topic: s.topic, partition: s.partition, reason, active }
    this.emit('backpressure', e)
  }

  private safely(f: () => void): void {
    try {
      f()
    } catch {
      // The partition is no longer assigned: nothing to pause or resume.
    }
  }
}

function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}
