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
import { BackfillReader } from './backfill.js'
import {
  DEFAULT_METADATA_MAX_CHARS,
  type DecodedCommitMetadata,
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
import {
  type Feed,
  newFeed,
  type OrderQueue,
  oldestTask,
  type PartitionState,
  type Task,
  tpKey,
} from './partition-state.js'
import type {
  Ordering,
  ProcessorBackpressure,
  ProcessorCommit,
  ProcessorStats,
  RecordHandler,
  StreamProcessorOptions,
} from './processor-options.js'
import { PriorityScheduler, resolvePriority } from './scheduler.js'

export type {
  HandlerContext,
  Ordering,
  ProcessorBackpressure,
  ProcessorCommit,
  ProcessorStats,
  RecordHandler,
  StreamProcessorOptions,
} from './processor-options.js'

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
  /** Feeds with a task that may start, by priority, in turn order. */
  private readonly scheduler: PriorityScheduler<Feed>
  private readonly batchTopics: Set<string>
  private readonly batchBuffer: number
  /** Most records the group consumer's intake holds beyond batch work: the rest of `maxBuffered`. */
  private readonly liveBuffer: number
  private readonly backfillMinLag: number | undefined
  private readonly consumerOptions: ConsumerOptions
  /** The second reader of partitions split into a backfill and a live cursor (made at the first split). */
  private backfillReader: BackfillReader | undefined
  private backfillTimer: NodeJS.Timeout | undefined
  private readonly toLoad = new Set<PartitionState>()
  private loadScheduled = false
  private inFlight = 0
  /** Records held: taken from a consumer and not yet done (or let go). */
  private buffered = 0
  /** Of those, batch-priority records (batch lane, backfill). */
  private bufferedBatch = 0
  /** Batch feeds are paused because batch work holds its whole share of the buffer. */
  private batchHeld = false
  private roomWaiters: Array<{ reader: 'live' | 'backfill'; wake: () => void }> = []
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
    const lanes = options.lanes
    const topics = options.topics ?? (lanes ? [lanes.realtime, lanes.batch] : undefined)
    if (!topics) throw new ConfigError('topics (or lanes) are required')
    this.topics = topics
    this.batchTopics = new Set(lanes ? [lanes.batch] : [])
    const priority = resolvePriority(
      options.priority,
      this.concurrency,
      this.maxBuffered,
      (message) => new ConfigError(message),
    )
    this.scheduler = new PriorityScheduler(priority)
    this.batchBuffer = priority.batchBuffer
    // With batch work around, the intake of the group consumer counts only what is not batch work, so that a backlog
    // taken in a large fetch at a time never blocks realtime records from coming in.
    const batchWork = this.batchTopics.size > 0 || options.backfill !== undefined
    this.liveBuffer = batchWork ? Math.max(1, this.maxBuffered - this.batchBuffer) : this.maxBuffered
    if (options.backfill !== undefined) {
      const minLag = options.backfill?.minLag
      if (!Number.isSafeInteger(minLag) || minLag < 1)
        throw new ConfigError(`backfill.minLag must be a positive integer, got ${minLag}`)
      this.backfillMinLag = minLag
    }
    this.groupId = c.groupId
    this.userHooks = { onAssigned: c.onAssigned, onRevoked: c.onRevoked, onLost: c.onLost }
    this.deserialize = options.deserialize
    this.deadLetter = lanes
      ? { ...options.deadLetter, topic: options.deadLetter?.topic ?? lanes.dlq }
      : options.deadLetter
    this.consumerOptions = {
      ...c,
      autoCommit: false,
      ...(this.deadLetter ? { badBatchPolicy: 'skip' as const } : {}),
    }
    this.consumer = new Consumer({
      ...this.consumerOptions,
      onAssigned: (tps) => this.onAssigned(tps),
      onRevoked: (tps) => this.onRevoked(tps),
      onLost: (tps) => this.onLost(tps),
    })
    this.consumer.on('error', (err: unknown) => this.report(err))
    this.admin = new Admin({ cluster: this.consumer.cluster })
    if (this.deadLetter) {
      this.dlqProducer = new Producer(this.deadLetter.producer ?? { cluster: this.consumer.cluster })
      this.consumer.on('skipped', (b: SkippedBatch) => this.acceptBadBatch(b, 'live'))
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
    let backfilling = 0
    for (const s of this.states.values()) if (s.backfill) backfilling++
    return {
      ...this.counters,
      inFlight: this.inFlight,
      buffered: this.buffered,
      metadataPressure: pressure,
      backfilling,
      running: { ...this.scheduler.running },
    }
  }

  // --- intake ----------------------------------------------------------------------------------------------------

  private async loop(): Promise<void> {
    const batches = this.consumer.batches()[Symbol.asyncIterator]()
    while (!this.stopping) {
      const wait = this.room('live')
      if (wait) {
        await wait
        continue
      }
      const next = await batches.next()
      if (next.done) break
      this.accept(next.value)
    }
  }

  /** Undefined when there is room for more records; else resolves once there is (or when stopping). */
  private room(reader: 'live' | 'backfill'): Promise<void> | undefined {
    if (this.hasRoom(reader)) return undefined
    return new Promise<void>((wake) => this.roomWaiters.push({ reader, wake }))
  }

  /**
   * The group consumer's intake may take more while what it holds beyond batch work is under its share (batch-lane
   * partitions are paused separately, at their own share); the backfill reader's, while batch work is under its own.
   */
  private hasRoom(reader: 'live' | 'backfill'): boolean {
    if (this.stopping) return true
    return reader === 'live'
      ? this.buffered - this.bufferedBatch < this.liveBuffer
      : this.bufferedBatch < this.batchBuffer
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
      this.checkBuffer(s.main)
      return
    }
    for (const m of batch.messages) this.receive(s.main, m)
    this.afterReceive(s.main)
  }

  /** Records of the backfill reader. */
  private acceptBackfill(batch: MessageBatch): void {
    const s = this.states.get(tpKey(batch.topic, batch.partition))
    const f = s?.backfill
    if (this.stopping || !s?.open || !f) return
    for (const m of batch.messages) this.receive(f, m)
    this.afterReceive(f)
    this.checkBackfillEnd(f)
  }

  private afterReceive(f: Feed): void {
    this.checkBuffer(f)
    this.checkBatchHold()
    this.touchPart(f.part)
    this.pump()
  }

  private receive(f: Feed, record: ConsumerRecord): void {
    const s = f.part
    const batch = this.badBatches.get(record)
    if (batch && s.ranges && record.offset < f.nextExpected) {
      // Records of the batch decoded before it failed were delivered already: the copy settles the rest.
      if (f.nextExpected > batch.lastOffset) return
      record.offset = f.nextExpected
    }
    if (f.cursor === 'backfill') {
      // The backfill reads up to the live cursor's start, and never moves back.
      if (record.offset >= f.until || record.offset < f.nextExpected) return
    } else if (!s.ranges || record.offset < f.nextExpected) {
      if (f.pending.has(record.offset)) return
      // Below the live start while a backfill works there: that reader's part (a record fetched before the split).
      if (s.backfill && record.offset < s.backfill.until) return
      // The first record, or the position moved back (a reset to an earlier offset, a truncated log): what is known
      // done above it no longer describes these records.
      if (!s.ranges || record.offset < s.ranges.base) {
        this.stopBackfill(s)
        s.ranges = new OffsetRanges(record.offset)
      } else if (s.ranges.isDone(record.offset)) {
        if (s.liveStart === undefined) s.ranges = new OffsetRanges(record.offset)
        else {
          // A split partition keeps what is known below: the backlog's progress stays, and the backfill goes on
          // unless the live cursor moved back into its part (then the live cursor reads it, skipping what is done).
          if (s.backfill && record.offset < s.backfill.until) this.stopBackfill(s)
          s.ranges = s.ranges.truncatedAt(record.offset)
        }
      }
      f.nextExpected = record.offset
    }
    const ranges = s.ranges!
    const gapStart = f.nextExpected
    const end = Math.min(batch ? batch.lastOffset + 1 : record.offset + 1, f.until)
    f.nextExpected = end
    if (ranges.isDone(record.offset)) {
      ranges.markDone(gapStart, end)
      this.counters.skippedDone++
      return
    }
    const task: Task = { record, gapStart, part: s, feed: f, order: undefined, status: 'queued', batch, end }
    f.pending.set(record.offset, task)
    this.buffered++
    if (f.priority === 'batch') this.bufferedBatch++
    // A batch's copy waits for nothing: what follows it in the partition is not held back.
    if (this.ordering === 'unordered' || batch) {
      this.makeReady(task)
      return
    }
    let order: OrderQueue
    if (this.ordering === 'partition') order = f.partitionQueue
    else {
      const k = record.key === null ? null : record.key.toString('latin1')
      if (k === null) {
        this.makeReady(task)
        return
      }
      order = f.keyQueues.get(k) ?? { key: k, queue: [], busy: false }
      f.keyQueues.set(k, order)
    }
    task.order = order
    if (order.busy) order.queue.push(task)
    else {
      order.busy = true
      this.makeReady(task)
    }
  }

  private makeReady(task: Task): void {
    task.status = 'ready'
    task.feed.ready.push(task)
    task.feed.readyCount++
  }

  /** A task no longer held (done, or let go). */
  private unhold(task: Task): void {
    this.buffered--
    if (task.feed.priority === 'batch') this.bufferedBatch--
  }

  /** Marks a feed full at `maxBufferedPerPartition` records held (no longer at half). */
  private checkBuffer(f: Feed): void {
    const held = f.pending.size + (f.cursor === 'live' ? f.part.incoming.length : 0)
    if (!f.full && held >= this.maxBufferedPerPartition) {
      f.full = true
      this.emitBackpressure(f.part, 'buffer', true)
    } else if (f.full && held <= this.maxBufferedPerPartition / 2) {
      f.full = false
      this.emitBackpressure(f.part, 'buffer', false)
    }
    this.syncPause(f)
  }

  /** Batch work holding its share of the buffer pauses every batch feed (resumed at half). */
  private checkBatchHold(): void {
    const held = this.bufferedBatch >= this.batchBuffer
    const released = this.bufferedBatch <= this.batchBuffer / 2
    if (this.batchHeld ? !released : !held) return
    this.batchHeld = !this.batchHeld
    for (const s of this.states.values()) {
      if (s.main.priority === 'batch') this.syncPause(s.main)
      if (s.backfill) this.syncPause(s.backfill)
    }
  }

  /** Pauses or resumes fetching a feed's partition on its reader, to match what holds it back. */
  private syncPause(f: Feed): void {
    const want = f.part.tracked && (f.full || (f.priority === 'batch' && this.batchHeld))
    if (want === f.paused) return
    const tp = [{ topic: f.part.topic, partition: f.part.partition }]
    const reader = f.cursor === 'live' ? this.consumer : this.backfillReader?.consumer
    if (!reader) return
    try {
      if (want) reader.pause(tp)
      else reader.resume(tp)
      f.paused = want
    } catch {
      // Not assigned to that reader (yet, or any more): applied once it is (see split()).
    }
  }

  // --- dispatch --------------------------------------------------------------------------------------------------

  private touch(f: Feed | undefined): void {
    if (f?.part.open && f.readyCount > 0) this.scheduler.add(f, f.priority)
  }

  private touchPart(s: PartitionState): void {
    this.touch(s.main)
    this.touch(s.backfill)
  }

  /** Starts tasks while there is capacity: realtime first, batch with the weighted spare (see scheduler.ts). */
  private pump(): void {
    while (this.inFlight < this.concurrency && !this.stopping) {
      const f = this.scheduler.next()
      if (!f) return
      const task = this.take(f)
      if (!task) continue
      this.launch(task)
      this.touch(f)
    }
  }

  private take(f: Feed): Task | undefined {
    const s = f.part
    if (!s.open || f.readyCount === 0) return undefined
    if (this.underPressure(s)) {
      // Only the oldest unfinished record may start: finishing it never adds a range, and moves the base up.
      const oldest = oldestTask(s)
      if (oldest?.feed !== f || oldest.status !== 'ready') return undefined
      oldest.status = 'queued'
      f.readyCount--
      return oldest
    }
    const t = f.ready.shift()
    if (t) {
      t.status = 'queued'
      f.readyCount--
    }
    return t
  }

  /**
   * True when one more running record could leave more ranges than the metadata holds: each running record may
   * add a range when it finishes, costing at most two varints of the span (base to the newest offset received).
   */
  private underPressure(s: PartitionState): boolean {
    const ranges = s.ranges!
    const span = Math.max(1, s.main.nextExpected - ranges.base)
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
    this.scheduler.running[task.feed.priority]++
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
  private acceptBadBatch(b: SkippedBatch, cursor: 'live' | 'backfill'): void {
    // Without a dead-letter lane the batch is skipped as the consumer's policy says: the next record settles its gap.
    if (this.stopping || !b.raw || !this.deadLetter) return
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
    const batch = { topic: b.topic, partition: b.partition, messages: [stand], highWatermark: -1, lastStableOffset: -1 }
    if (cursor === 'live') this.accept(batch)
    else this.acceptBackfill(batch)
  }

  private settle(task: Task, outcome: 'done' | 'abandoned'): void {
    const s = task.part
    const f = task.feed
    s.inFlight--
    this.inFlight--
    this.scheduler.running[f.priority]--
    if (s.tracked) this.unhold(task)
    if (f.detached) {
      f.pending.delete(task.record.offset)
      if (f.pending.size === 0) s.retired = s.retired.filter((r) => r !== f)
    }
    if (s.tracked && !f.detached) {
      if (outcome === 'done') {
        task.status = 'done'
        f.pending.delete(task.record.offset)
        s.ranges!.markDone(task.gapStart, task.end)
        const order = task.order
        if (order) {
          const next = order.queue.shift()
          if (next && s.open) this.makeReady(next)
          else {
            order.busy = false
            if (order !== f.partitionQueue) f.keyQueues.delete(order.key)
          }
        }
      } else {
        // Left unfinished (aborted, or failed with the processor stopping): it keeps the commit below it, and its
        // order queue does not move on, so nothing after it in order starts.
        task.status = 'dropped'
      }
      this.checkBuffer(f)
      if (f.cursor === 'backfill') this.checkBackfillEnd(f)
      this.touchPart(s)
    } else task.status = outcome === 'done' ? 'done' : 'dropped'
    this.checkBatchHold()
    if (s.inFlight === 0) s.idle?.()
    if (this.inFlight === 0) this.allIdle?.()
    this.wakeIntake()
    this.pump()
  }

  /** Lets the intake loops take more from their readers when there is room (or when stopping). */
  private wakeIntake(): void {
    if (this.roomWaiters.length === 0) return
    const waiting = this.roomWaiters
    this.roomWaiters = []
    for (const w of waiting) {
      if (this.hasRoom(w.reader)) w.wake()
      else this.roomWaiters.push(w)
    }
  }

  // --- backfill --------------------------------------------------------------------------------------------------

  /**
   * Splits a partition: the group consumer (the live cursor) moves to `liveStart` — or past what is done there —
   * and a backfill cursor reads `[ranges.base, liveStart)`.
   */
  private split(s: PartitionState, liveStart: number): void {
    const ranges = s.ranges!
    const liveFrom = ranges.doneUntil(liveStart)
    s.liveStart = liveStart
    s.main.nextExpected = liveFrom
    const tp = { topic: s.topic, partition: s.partition }
    this.safely(() => this.consumer.seek(tp, liveFrom))
    // What the group consumer delivered before the split is read again: below the live start by the backfill, from it
    // by the group consumer after the seek. Keeping any of it would hand those records out twice.
    this.buffered -= s.incoming.length
    s.incoming = []
    const f = newFeed(s, 'backfill', 'batch', ranges.base, liveStart)
    s.backfill = f
    this.backfillReader ??= new BackfillReader(this.consumerOptions, this.consumer.cluster, {
      acceptBackfill: (batch) => this.acceptBackfill(batch),
      acceptBackfillSkipped: (batch) => this.acceptBadBatch(batch, 'backfill'),
      room: () => this.room('backfill'),
      report: (err) => this.report(err),
      fail: (err) => this.fail(err),
    })
    if (!this.backfillTimer) {
      // A backfill whose last records are control records or aborted ones ends on the reader's position alone.
      this.backfillTimer = setInterval(() => {
        for (const st of this.states.values()) if (st.backfill) this.checkBackfillEnd(st.backfill)
      }, 200)
      this.backfillTimer.unref()
    }
    this.backfillReader.add(s.topic, s.partition, ranges.base).then(
      () => {
        if (s.backfill === f && s.open) this.syncPause(f)
        else this.unassignBackfill(s)
      },
      (err) => {
        if (!this.stopping && s.backfill === f) this.fail(err)
      },
    )
  }

  /**
   * Ends a backfill cursor once it has read up to the live start: offsets it never got (control records, aborted
   * records) are settled from the reader's position, its partition is let go, and — once its last record is done —
   * the feed is dropped (the live start stays in the metadata until the base passes it).
   */
  private checkBackfillEnd(f: Feed): void {
    const s = f.part
    if (s.backfill !== f || !s.tracked) return
    const reader = this.backfillReader
    if (f.nextExpected < f.until && reader?.assigned(s.topic, s.partition)) {
      const position = reader.position(s.topic, s.partition)
      if (position >= f.until) {
        s.ranges!.markDone(f.nextExpected, f.until)
        f.nextExpected = f.until
      }
    }
    if (f.nextExpected < f.until) return
    if (reader?.assigned(s.topic, s.partition)) this.safely(() => reader.remove(s.topic, s.partition))
    if (f.pending.size === 0) {
      s.backfill = undefined
      this.scheduler.delete(f)
    }
  }

  /** Takes a partition away from the backfill reader, if it has it. */
  private unassignBackfill(s: PartitionState): void {
    const reader = this.backfillReader
    if (reader?.assigned(s.topic, s.partition)) this.safely(() => reader.remove(s.topic, s.partition))
  }

  /** Drops a partition's backfill cursor (the partition is let go, or its live position moved back below it). */
  private stopBackfill(s: PartitionState): void {
    const f = s.backfill
    if (!f) return
    this.dropQueued(f)
    f.detached = true
    // Its running records stay listed (forget() and settle() account for them) but no longer count as its work.
    if (f.pending.size > 0) s.retired.push(f)
    s.backfill = undefined
    s.liveStart = undefined
    this.unassignBackfill(s)
  }

  /** Lets go of a feed's records that have not started. */
  private dropQueued(f: Feed): void {
    for (const t of f.pending.values()) {
      if (t.status === 'queued' || t.status === 'ready') {
        t.status = 'dropped'
        this.unhold(t)
      }
    }
    f.ready.clear()
    f.readyCount = 0
    f.keyQueues.clear()
    f.partitionQueue.queue = []
    this.scheduler.delete(f)
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
      tracked: true,
      ranges: undefined,
      loaded: false,
      incoming: [],
      main: undefined as unknown as Feed,
      backfill: undefined,
      retired: [],
      liveStart: undefined,
      inFlight: 0,
      pressured: false,
      sizeVersion: -1,
      sizeChars: 0,
      lastCommitted: undefined,
      controller: new AbortController(),
      idle: undefined,
    }
    s.main = newFeed(s, 'live', this.batchTopics.has(topic) ? 'batch' : 'realtime', 0, Number.POSITIVE_INFINITY)
    this.states.set(key, s)
    this.toLoad.add(s)
    if (!this.loadScheduled) {
      this.loadScheduled = true
      queueMicrotask(() => void this.loadCommitted())
    }
    return s
  }

  /**
   * Reads the committed offsets and metadata of the partitions waiting for them (one request per batch of them),
   * and — with `backfill` — where their logs start and end, to decide which to split.
   */
  private async loadCommitted(): Promise<void> {
    this.loadScheduled = false
    const waiting = [...this.toLoad]
    this.toLoad.clear()
    for (let attempt = 0; ; attempt++) {
      const states = waiting.filter((s) => s.tracked && s.open)
      if (states.length === 0 || this.stopping) return
      try {
        const signal = this.stopController.signal
        const topics = [...new Set(states.map((s) => s.topic))]
        const committed = await this.admin.listGroupOffsets(this.groupId, { topics, signal })
        const byKey = new Map(committed.map((o) => [tpKey(o.topic, o.partition), o]))
        // Each partition's metadata is decoded once, here.
        const loads = states.map((s) => {
          const o = byKey.get(s.key)
          if (o?.error) throw o.error
          if (!o || o.offset < 0n) return { s, committed: undefined }
          const offset = Number(o.offset)
          return { s, committed: { offset, metadata: o.metadata, decoded: decodeCommitMetadata(o.metadata, offset) } }
        })
        // Log bounds decide splits, and check a live start read back from the metadata (a recreated topic).
        const needBounds =
          this.backfillMinLag !== undefined ||
          loads.some(({ committed: c }) => c?.decoded.kind === 'ranges' && c.decoded.liveStart !== undefined)
        const bounds = needBounds ? await this.logBounds(states, signal) : undefined
        for (const { s, committed: c } of loads) this.loaded(s, c, bounds?.get(s.key))
        this.pump()
        return
      } catch (err) {
        if (this.stopping) return
        this.report(err)
        await sleep(Math.min(5000, 100 * 2 ** attempt), this.stopController.signal)
      }
    }
  }

  /** Log start and end offsets of partitions. */
  private async logBounds(
    states: PartitionState[],
    signal: AbortSignal,
  ): Promise<Map<string, { start: number; end: number }>> {
    const isolation = this.consumerOptions.isolation
    const query = (spec: 'earliest' | 'latest') =>
      this.admin.listOffsets(
        states.map((s) => ({ topic: s.topic, partition: s.partition, spec })),
        isolation ? { signal, isolation } : { signal },
      )
    const [starts, ends] = await Promise.all([query('earliest'), query('latest')])
    const out = new Map<string, { start: number; end: number }>()
    const startOf = new Map(starts.map((o) => [tpKey(o.topic, o.partition), o]))
    for (const e of ends) {
      const st = startOf.get(tpKey(e.topic, e.partition))
      if (e.error || !st || st.error) continue
      out.set(tpKey(e.topic, e.partition), { start: Number(st.offset), end: Number(e.offset) })
    }
    return out
  }

  private loaded(
    s: PartitionState,
    committed: { offset: number; metadata: string | null; decoded: DecodedCommitMetadata } | undefined,
    bounds: { start: number; end: number } | undefined,
  ): void {
    if (!s.tracked || !s.open || s.loaded) return
    let liveStart: number | undefined
    if (committed) {
      const decoded = committed.decoded
      if (decoded.kind === 'plain' && decoded.error) this.report(decoded.error)
      s.ranges = new OffsetRanges(committed.offset, decoded.kind === 'ranges' ? decoded.ranges : [])
      // A live start past the log's end belongs to a log that is gone (the topic was recreated): not resumed.
      if (decoded.kind === 'ranges' && !(bounds && (decoded.liveStart ?? 0) > bounds.end)) liveStart = decoded.liveStart
      s.main.nextExpected = committed.offset
      s.lastCommitted = { offset: committed.offset, metadata: committed.metadata }
    }
    if (liveStart === undefined && bounds && this.backfillMinLag !== undefined) {
      // Where the group stands: its commit, or — with none — where an 'earliest' reset puts it.
      const from = committed
        ? Math.max(committed.offset, bounds.start)
        : this.consumerOptions.resetPolicy === 'earliest'
          ? bounds.start
          : undefined
      if (from !== undefined && bounds.end - from >= this.backfillMinLag) {
        if (!s.ranges || s.ranges.base < from) s.ranges = new OffsetRanges(from)
        liveStart = bounds.end
      }
    }
    s.loaded = true
    if (liveStart !== undefined && s.ranges && liveStart > s.ranges.base) this.split(s, liveStart)
    const incoming = s.incoming
    s.incoming = []
    this.buffered -= incoming.length
    for (const m of incoming) this.receive(s.main, m)
    this.checkBuffer(s.main)
    this.checkBatchHold()
    this.touchPart(s)
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
    this.buffered -= s.incoming.length
    s.incoming = []
    this.dropQueued(s.main)
    if (s.backfill) this.dropQueued(s.backfill)
    this.unassignBackfill(s)
    this.checkBatchHold()
    this.wakeIntake()
  }

  /** Forgets a partition; completions still running no longer count. */
  private forget(s: PartitionState): void {
    if (!s.tracked) return
    if (s.open) this.release(s)
    s.tracked = false
    for (const f of [s.main, s.backfill, ...s.retired]) {
      if (f) for (const t of f.pending.values()) if (t.status === 'running') this.unhold(t)
    }
    this.unassignBackfill(s)
    this.states.delete(s.key)
    this.toLoad.delete(s)
    this.checkBatchHold()
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
      const ts = oldestTask(s)?.record.timestamp
      const list = ranges.ranges()
      // The live start matters while the backfill below it is unfinished; once the base passes it, it is history.
      if (s.liveStart !== undefined && s.liveStart <= ranges.base && !s.backfill) s.liveStart = undefined
      const liveStart = s.liveStart !== undefined && s.liveStart > ranges.base ? s.liveStart : undefined
      const enc = encodeCommitMetadata(
        {
          offset: ranges.base,
          ranges: list,
          oldestUnfinishedTimestamp: ts !== undefined && ts >= 0 ? ts : undefined,
          liveStart,
        },
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
    clearInterval(this.backfillTimer)
    for (const s of states) this.release(s)
    this.scheduler.clear()
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
      await Promise.all([
        this.consumer.close({ timeoutMs: Math.max(1000, deadline - Date.now()) }),
        this.backfillReader?.close(Math.max(1000, deadline - Date.now())),
      ])
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
