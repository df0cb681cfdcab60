// `skiff fetch`: read a topic to stdout, like `kcat -C`. Without --follow it stops at the end offsets taken when it
// started (kcat -e), so a script gets exactly what was there; with --follow it keeps reading until interrupted.
import {
  Admin,
  type Cluster,
  Consumer,
  type ConsumerOptions,
  type ConsumerRecord,
  DecompressionBudgetExceededError,
  type ListedOffset,
  type OffsetQuery,
  RecordTooLargeError,
  type SkippedBatch,
} from '../index.js'
import type { CliContext } from './context.js'
import { CliError, EXIT, type ExitCode, oneLine, oversizedBatch, toCliError, UsageError } from './errors.js'
import { COMMON_FLAGS, CONNECTION_FLAGS, CONNECTION_HELP, openCluster, parseFlags, resolveConnection } from './flags.js'
import {
  ENCODINGS,
  formatBytes,
  formatCount,
  formatDuration,
  OUTPUT_FORMATS,
  Output,
  RecordFormatter,
  useColor,
} from './format.js'
import {
  type OffsetArg,
  parseChoice,
  parseCount,
  parseOffset,
  parsePartitions,
  parseSize,
  parseUntil,
  type UntilArg,
} from './parse.js'
import { ProgressLine } from './progress.js'

export const FETCH_HELP = `Usage: skiff fetch -b HOST:PORT -t TOPIC [options]

Reads records to stdout, one per line (JSON by default), and stops at the end offsets taken when it started.

Options:
  -t, --topic TOPIC                 topic to read (required)
  -p, --partition N                 only these partitions (repeat, or 0,2,5); default all
  -o, --offset OFFSET               where to start: beginning (default), end, N (an offset), -N (N before the end),
                                    @MS (first record at/after ms since the epoch), @ISO-DATE (e.g. @2024-05-01T12:00Z)
  -c, --count N                     stop after N records (all partitions together)
  --until end|N|@TIME               stop before offset N, or before the first record at/after TIME (default: end,
                                    the end offsets at start; with --follow: never)
  --follow                          keep reading new records until interrupted (Ctrl-C)
  -f, --format json|text|raw        json: one object per line {topic, partition, offset, timestamp, key, value,
                                    headers}; text: tab-separated partition:offset, time, key, value; raw: each
                                    value's bytes and a newline
  --key ENC, --value ENC            utf8 (default), json (embed as JSON), hex, base64 (binary-safe), none (omit)
  --headers                         text format: add a column of headers (json always has them)
  -g, --group GROUP                 read as consumer group GROUP and commit what was printed; starts from the
                                    group's committed offsets (-o beginning|end: where to start without one).
                                    With -p: reads those partitions without joining, committing to GROUP
  --isolation read_committed        hide records of aborted transactions (and stop at the last stable offset)
  --max-decompressed-bytes SIZE     most one compressed batch may expand to (default 128MiB); e.g. 1MiB, 512KiB
  --skip-oversized                  skip (and report on stderr) batches over that limit instead of failing
${CONNECTION_HELP}

Exit codes: 0 done, 1 runtime error, 2 usage error, 3 connection/authentication error, 130 interrupted before the end.

Examples:
  skiff fetch -b localhost:9092 -t orders                         # everything there now, as JSON lines
  skiff fetch -b localhost:9092 -t orders -o -10 -f text          # the last 10 records of each partition
  skiff fetch -b localhost:9092 -t orders -p 3 -o 1200 -c 50      # 50 records from partition 3, offset 1200
  skiff fetch -b localhost:9092 -t logs -o @2024-05-01T00:00Z --until @2024-05-02T00:00Z
  skiff fetch -b localhost:9092 -t logs -o end --follow | jq .value
  skiff fetch -b localhost:9092 -t blobs --value base64 > blobs.jsonl
  skiff fetch -b localhost:9092 -t logs --max-decompressed-bytes 16MiB --skip-oversized
  skiff fetch -b localhost:9092 -t orders -g billing-replay --isolation read_committed`

const FETCH_FLAGS = {
  ...CONNECTION_FLAGS,
  ...COMMON_FLAGS,
  topic: { type: 'string', short: 't' },
  partition: { type: 'string', short: 'p', multiple: true },
  offset: { type: 'string', short: 'o' },
  count: { type: 'string', short: 'c' },
  until: { type: 'string' },
  follow: { type: 'boolean' },
  format: { type: 'string', short: 'f' },
  key: { type: 'string' },
  value: { type: 'string' },
  headers: { type: 'boolean' },
  group: { type: 'string', short: 'g' },
  isolation: { type: 'string' },
  'max-decompressed-bytes': { type: 'string' },
  'skip-oversized': { type: 'boolean' },
} as const

/** Everything `skiff fetch` was asked to do, validated before any connection is made. */
export interface FetchRequest {
  topic: string
  partitions: number[] | undefined
  offset: OffsetArg | undefined
  count: number | undefined
  until: UntilArg | undefined
  follow: boolean
  format: (typeof OUTPUT_FORMATS)[number]
  key: (typeof ENCODINGS)[number]
  value: (typeof ENCODINGS)[number]
  headers: boolean
  group: string | undefined
  isolation: 'read_uncommitted' | 'read_committed'
  maxDecompressedBytes: number | undefined
  skipOversized: boolean
}

/** Parses and checks `skiff fetch` arguments (usage errors exit 2 before anything is sent). */
export function parseFetchArgs(args: readonly string[]) {
  const { values } = parseFlags(args, FETCH_FLAGS, { negatable: ['-o', '--offset'] })
  if (values.help) return { help: true as const, values }
  if (!values.topic) throw new UsageError('fetch needs a topic: -t TOPIC')
  const request: FetchRequest = {
    topic: values.topic,
    partitions: values.partition ? parsePartitions(values.partition) : undefined,
    offset: values.offset === undefined ? undefined : parseOffset(values.offset),
    count: values.count === undefined ? undefined : parseCount(values.count, '-c', { min: 1 }),
    until: values.until === undefined ? undefined : parseUntil(values.until),
    follow: values.follow === true,
    format: parseChoice(values.format ?? 'json', '-f', OUTPUT_FORMATS),
    key: parseChoice(values.key ?? 'utf8', '--key', ENCODINGS),
    value: parseChoice(values.value ?? 'utf8', '--value', ENCODINGS),
    headers: values.headers === true,
    group: values.group,
    isolation: parseChoice(values.isolation ?? 'read_uncommitted', '--isolation', [
      'read_uncommitted',
      'read_committed',
    ] as const),
    maxDecompressedBytes:
      values['max-decompressed-bytes'] === undefined
        ? undefined
        : parseSize(values['max-decompressed-bytes'], '--max-decompressed-bytes'),
    skipOversized: values['skip-oversized'] === true,
  }
  if (request.group !== undefined && request.partitions === undefined && request.offset !== undefined) {
    const k = request.offset.kind
    if (k !== 'beginning' && k !== 'end')
      throw new UsageError(
        '-o with --group can only be beginning or end (where to start when the group has no committed offset); add -p to read given partitions from an exact position',
      )
  }
  return { help: false as const, values, request }
}

/** What is known about one partition being read. */
interface PartitionPlan {
  partition: number
  /** Where reading starts; undefined when the group's committed offset decides. */
  start: number | undefined
  /** Reading stops before this offset (Infinity: never). */
  stopAt: number
  /** --until @time without a matching offset yet (with --follow): stop at the first record at/after it. */
  stopAtTime: number | undefined
  /** Offset after the last record printed; -1 before any. */
  next: number
  done: boolean
}

export async function fetchCommand(args: readonly string[], ctx: CliContext): Promise<ExitCode> {
  const parsed = parseFetchArgs(args)
  if (parsed.help) {
    ctx.stdout.write(`${FETCH_HELP}\n`)
    return EXIT.ok
  }
  const req = parsed.request
  const conn = resolveConnection(parsed.values, ctx.env)
  ctx.handleInterrupt()
  const cluster = await openCluster(conn, [req.topic])
  try {
    return await new FetchRun(req, ctx, cluster, conn.timeoutMs).run()
  } finally {
    await cluster.close().catch(() => {})
  }
}

/** One `skiff fetch`: plan the partitions, read, render, stop. */
class FetchRun {
  private readonly admin: Admin
  private readonly output: Output
  private readonly formatter: RecordFormatter
  private readonly plans = new Map<number, PartitionPlan>()
  private consumer: Consumer | undefined
  private records = 0
  private bytes = 0
  private skippedBatches = 0
  private skippedOffsets = 0
  private stopping: Promise<void> | undefined
  private fatal: CliError | undefined
  private progress: ProgressLine | undefined
  private offsetsTotal = 0
  /** Subscribed as a group member (partitions come and go); else assigned. */
  private readonly subscribed: boolean

  constructor(
    private readonly req: FetchRequest,
    private readonly ctx: CliContext,
    private readonly cluster: Cluster,
    timeoutMs: number | undefined,
  ) {
    this.admin = new Admin({ cluster, defaultTimeoutMs: timeoutMs ?? 60_000 })
    this.output = new Output(ctx.stdout)
    this.formatter = new RecordFormatter({
      format: req.format,
      key: req.key,
      value: req.value,
      headers: req.headers,
      color: req.format === 'text' && useColor(ctx.stdout, ctx.env),
      warn: (m) => ctx.warn(m),
    })
    this.subscribed = req.group !== undefined && req.partitions === undefined
  }

  async run(): Promise<ExitCode> {
    const req = this.req
    const info = await this.cluster.metadata.topic(req.topic)
    const count = info.partitions.length
    const partitions = req.partitions ?? [...Array(count).keys()]
    const missing = partitions.find((p) => p >= count)
    if (missing !== undefined)
      throw new CliError(
        `partition ${req.topic}[${missing}] does not exist: the topic has ${count} partition${count === 1 ? '' : 's'} (0..${count - 1})`,
        EXIT.runtime,
      )
    await this.plan(partitions)
    const startable = [...this.plans.values()].filter((p) => !p.done)
    if (startable.length === 0) return EXIT.ok

    const interrupted = () => void this.stop()
    this.ctx.interrupt.addEventListener('abort', interrupted, { once: true })
    let commitTimer: NodeJS.Timeout | undefined
    try {
      const consumer = this.createConsumer()
      if (this.subscribed) {
        await consumer.subscribe([req.topic])
        if (req.follow) commitTimer = setInterval(() => void this.commit().catch(() => {}), 5000)
      } else {
        await consumer.assign(
          startable.map((p) => ({
            topic: req.topic,
            partition: p.partition,
            ...(p.start === undefined ? {} : { offset: p.start }),
          })),
        )
      }
      if (!req.follow && !this.subscribed && (this.ctx.stderr as { isTTY?: boolean }).isTTY) this.startProgress()
      await this.read(consumer)
    } catch (err) {
      // After Ctrl-C, a join or read cut short by the closing consumer is not an error.
      if (!this.ctx.interrupt.aborted) this.fatal ??= toCliError(err)
    } finally {
      clearInterval(commitTimer)
      this.ctx.interrupt.removeEventListener('abort', interrupted)
      await this.stop()
      await this.output.flush().catch(() => {})
      if (this.progress) {
        this.progress.stop()
        this.ctx.stderr.write(
          `skiff: ${formatCount(this.records)} records, ${formatBytes(this.bytes)} in ${formatDuration(this.progress.elapsedMs)}\n`,
        )
      }
    }
    if (this.skippedBatches > 0)
      this.ctx.warn(
        `skipped ${this.skippedBatches} batch${this.skippedBatches === 1 ? '' : 'es'} (${formatCount(this.skippedOffsets)} offsets) over the decompression limit`,
      )
    if (this.fatal) throw this.fatal
    if (this.ctx.interrupt.aborted && !req.follow && !this.allDone()) return EXIT.interrupted
    return EXIT.ok
  }

  /** Start and stop offsets per partition, from ListOffsets (one request per leader and kind). */
  private async plan(partitions: number[]): Promise<void> {
    const { topic, offset, until, follow, isolation } = this.req
    const lookup = async (spec: OffsetQuery['spec'], iso = isolation) => {
      const got = await this.admin.listOffsets(
        partitions.map((partition) => ({ topic, partition, spec })),
        { isolation: iso },
      )
      return new Map(got.map((o) => [o.partition, offsetOf(o)]))
    }
    const needEarliest = !this.subscribed && (offset === undefined || offset.kind !== 'end')
    const [earliest, end, startAtTime, untilAtTime] = await Promise.all([
      needEarliest ? lookup('earliest') : undefined,
      lookup('latest'),
      offset?.kind === 'timestamp' && !this.subscribed ? lookup({ timestamp: offset.timestamp }) : undefined,
      until?.kind === 'timestamp' ? lookup({ timestamp: until.timestamp }) : undefined,
    ])
    for (const partition of partitions) {
      const first = earliest?.get(partition) ?? 0
      const last = end.get(partition)!
      let start: number | undefined
      if (this.req.group !== undefined && offset === undefined) start = undefined
      else if (this.subscribed) start = undefined
      else {
        const o = offset ?? { kind: 'beginning' as const }
        switch (o.kind) {
          case 'beginning':
            start = first
            break
          case 'end':
            start = last
            break
          case 'fromEnd':
            start = Math.max(first, last - o.count)
            break
          case 'offset':
            // As librdkafka resets an out-of-range offset: before the log start reads from it, past the end waits there.
            start = Math.min(Math.max(o.offset, first), last)
            break
          case 'timestamp': {
            const t = startAtTime!.get(partition)!
            start = t < 0 ? last : t
          }
        }
      }
      let stopAt = follow ? Number.POSITIVE_INFINITY : last
      let stopAtTime: number | undefined
      if (until?.kind === 'end') stopAt = last
      else if (until?.kind === 'offset') stopAt = follow ? until.offset : Math.min(until.offset, last)
      else if (until?.kind === 'timestamp') {
        const t = untilAtTime!.get(partition)!
        if (t >= 0) stopAt = Math.min(stopAt, t)
        else if (follow) stopAtTime = until.timestamp
      }
      const done = start !== undefined && start >= stopAt
      this.plans.set(partition, { partition, start, stopAt, stopAtTime, next: start ?? -1, done })
      if (start !== undefined && Number.isFinite(stopAt)) this.offsetsTotal += Math.max(0, stopAt - start)
    }
  }

  private createConsumer(): Consumer {
    const req = this.req
    const reset = req.offset?.kind === 'end' ? 'latest' : 'earliest'
    const options: ConsumerOptions = {
      cluster: this.cluster,
      isolation: req.isolation,
      resetPolicy: reset,
      badBatchPolicy: req.skipOversized ? 'skip' : 'fail',
      // Larger than the Java default (1 MiB): a CLI reading to the end wants few, full fetches per partition.
      partitionMaxBytes: 8 * 1024 * 1024,
      // A bounded fetch reads only what is already there, so it long-polls only when it is done, and closing then
      // waits out that poll (the session close queues behind it on the same connection): with the default 500 ms
      // every `skiff fetch` took half a second longer than its reading.
      ...(req.follow ? {} : { maxWaitMs: 50 }),
      ...(req.maxDecompressedBytes === undefined
        ? {}
        : { decompression: { maxBatchDecompressedBytes: req.maxDecompressedBytes } }),
      ...(req.group === undefined
        ? {}
        : {
            groupId: req.group,
            // Commits are ours: exactly what was printed, not the end of the chunk it came in.
            autoCommit: false,
            onRevoked: (partitions) => this.commit(partitions.map((p) => p.partition)),
          }),
    }
    const consumer = new Consumer(options)
    this.consumer = consumer
    consumer.on('skipped', (s: SkippedBatch) => this.onSkipped(s))
    consumer.on('truncated', (e: Error) => this.ctx.warn(oneLine(e.message)))
    consumer.on('reset', (e: { topic: string; partition: number; from: number; policy: string }) =>
      this.ctx.warn(`${e.topic}[${e.partition}] offset ${e.from} is out of range; reading from the ${e.policy} offset`),
    )
    consumer.on('error', (e: Error) => this.ctx.warn(oneLine(e.message)))
    return consumer
  }

  private async read(consumer: Consumer): Promise<void> {
    const { topic, count } = this.req
    const iterator = consumer.batches()[Symbol.asyncIterator]()
    // Partitions can be finished without a record arriving (transaction markers, aborted or skipped batches at
    // the end): positions are checked on a timer too.
    const watchdog = setInterval(() => {
      if (this.checkPositions()) void this.stop()
    }, 100)
    try {
      if (this.checkPositions()) return
      for (;;) {
        const step = await iterator.next()
        if (step.done || this.stopping) break
        const batch = step.value
        const plan = this.plans.get(batch.partition)
        if (!plan || plan.done) continue
        const messages = batch.messages
        let to = clip(messages, plan)
        if (count !== undefined) to = Math.min(to, count - this.records)
        if (to > 0) {
          this.account(messages, to, plan)
          await this.output.write(this.formatter.render(messages, 0, to))
          if (this.output.closed) break
        }
        if (to < messages.length || plan.next >= plan.stopAt) {
          plan.done = true
          // The group may have taken the partition away meanwhile (a rebalance, or the close under way).
          if (consumer.assignment().some((tp) => tp.partition === plan.partition))
            consumer.pause([{ topic, partition: plan.partition }])
        }
        if ((count !== undefined && this.records >= count) || this.allDone()) break
      }
    } finally {
      clearInterval(watchdog)
    }
  }

  private account(messages: readonly ConsumerRecord[], to: number, plan: PartitionPlan): void {
    let bytes = 0
    for (let i = 0; i < to; i++) {
      const m = messages[i]!
      bytes += (m.key?.length ?? 0) + (m.value?.length ?? 0)
    }
    this.bytes += bytes
    this.records += to
    plan.next = messages[to - 1]!.offset + 1
  }

  /** Marks partitions whose position reached their stop offset; true when every one is done. */
  private checkPositions(): boolean {
    const consumer = this.consumer
    if (!consumer) return false
    const assigned = consumer.assignment()
    if (this.subscribed && assigned.length === 0) return false
    for (const tp of assigned) {
      const plan = this.plans.get(tp.partition)
      if (!plan || plan.done || !Number.isFinite(plan.stopAt)) continue
      const position = consumer.position(tp)
      if (position >= plan.stopAt) {
        plan.done = true
        plan.next = Math.max(plan.next, Math.min(position, plan.stopAt))
      }
    }
    if (this.subscribed) return assigned.every((tp) => this.plans.get(tp.partition)?.done !== false)
    return this.allDone()
  }

  private allDone(): boolean {
    for (const p of this.plans.values()) if (!p.done) return false
    return true
  }

  private onSkipped(s: SkippedBatch): void {
    const e = s.error
    if (e instanceof DecompressionBudgetExceededError) {
      this.ctx.warn(`skipped ${oversizedBatch(e)}`)
    } else if (e instanceof RecordTooLargeError) {
      this.ctx.warn(
        `skipped batch at ${s.topic}[${s.partition}] offsets ${s.baseOffset}..${s.lastOffset}: ${oneLine(e.message.replace(/; skip it or raise the limit$/, ''))}`,
      )
    } else {
      // --skip-oversized is about size; a corrupt batch is a different problem and stops the fetch.
      this.fatal ??= new CliError(
        `batch at ${s.topic}[${s.partition}] offsets ${s.baseOffset}..${s.lastOffset} cannot be decoded: ${oneLine(e.message)}`,
        EXIT.runtime,
        { cause: e },
      )
      void this.stop()
      return
    }
    this.skippedBatches++
    this.skippedOffsets += s.lastOffset - s.baseOffset + 1
  }

  private startProgress(): void {
    const progress = new ProgressLine(this.ctx.stderr, () => ({
      records: this.records,
      bytes: this.bytes,
      offsetsTotal: this.offsetsTotal,
      offsetsDone: [...this.plans.values()].reduce(
        (sum, p) =>
          sum + (p.start === undefined ? 0 : Math.max(0, (p.done ? p.stopAt : Math.max(p.next, p.start)) - p.start)),
        0,
      ),
    }))
    this.progress = progress
    this.ctx.beforeDiagnostic = () => progress.clear()
  }

  /** Commits what was printed (with --group), for the given partitions or all. */
  private async commit(only?: number[]): Promise<void> {
    const consumer = this.consumer
    if (!consumer || this.req.group === undefined) return
    const offsets = [...this.plans.values()]
      .filter((p) => p.next >= 0 && (only === undefined || only.includes(p.partition)))
      .map((p) => ({ topic: this.req.topic, partition: p.partition, offset: p.next }))
    if (offsets.length === 0) return
    await consumer.commit(offsets)
  }

  /** Stops reading: commits (with --group), then closes the consumer; a pending read returns done. Idempotent. */
  private stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.req.group !== undefined && !this.fatal) {
        await this.commit().catch((err) => this.ctx.warn(`could not commit offsets: ${toCliError(err).message}`))
      }
      await this.consumer?.close({ timeoutMs: 10_000 }).catch(() => {})
    })()
    return this.stopping
  }
}

/** How many of a chunk's records come before the partition's stop (offset or time). */
function clip(messages: readonly ConsumerRecord[], plan: PartitionPlan): number {
  const n = messages.length
  if (n === 0) return 0
  if (messages[n - 1]!.offset < plan.stopAt && plan.stopAtTime === undefined) return n
  for (let i = 0; i < n; i++) {
    const m = messages[i]!
    if (m.offset >= plan.stopAt) return i
    if (plan.stopAtTime !== undefined && m.timestamp >= plan.stopAtTime) return i
  }
  return n
}

function offsetOf(o: ListedOffset): number {
  if (o.error) throw o.error
  return Number(o.offset)
}
