import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { ProcessorStats } from '../../src/stream/processor.js'
import { uniqueTopic } from './kafka.js'
import { committedProgress, filledTopic } from './stream.js'
import type { StreamChildArgs } from './stream-child-args.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function until(what: string, f: () => boolean, timeoutMs: number, everyMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(everyMs)
  }
}

export interface StreamCrashScenario {
  bootstrap: string
  partitions: number
  perPartition: number
  /** The handler sleeps a random 0–latencyMaxMs ms per attempt. */
  latencyMaxMs: number
  /** Default 64. */
  concurrency?: number
  /** Default 250. */
  commitIntervalMs?: number
  /** The first process is killed once it has handled this share of the records... Default 0.4. */
  killAtShare?: number
  /** ...and committed at least this many times. Default 2. */
  killAfterCommits?: number
  /** How long the first process may take to get there. */
  killTimeoutMs: number
  /** How long the restarted process may take to cover every record. */
  coverTimeoutMs: number
  /** How long the restarted process may take to exit after SIGTERM. Default 30 000. */
  closeTimeoutMs?: number
}

export interface StreamCrashResult {
  records: number
  partitions: number
  concurrency: number
  latencyMaxMs: number
  /** Lines in the first process's log: successful handlings before the kill. */
  firstHandled: number
  /** Lines of the first log for a record it already had (must be 0: one successful handling per process). */
  firstDuplicates: number
  /** Commits the first process reported before the kill, and its handler failures as of the last of them. */
  commitsAtKill: number
  failuresAtKill: number
  /** Records the broker held as done (below the committed offset or in a committed range) after the kill. */
  committedDoneAtKill: number
  /** Ranges above the committed offsets in the metadata after the kill. */
  rangesAtKill: number
  /** Committed-done records that the first process never handled (must be 0), and a few of them. */
  unsound: number
  unsoundSample: string[]
  /** Lines in the restarted process's log. */
  secondHandled: number
  secondDuplicates: number
  /** Records the restart handled that the first process had handled but not committed as done. */
  redoneUncommitted: number
  /** Records the restart handled that were committed as done (must be 0), and a few of them. */
  redoneCommitted: number
  redoneCommittedSample: string[]
  /** Records handled by either process (must be all of them). */
  covered: number
  /** The restarted process: exit code after SIGTERM, its stats. */
  secondExit: number | null
  secondStats: ProcessorStats | undefined
  /** Per partition, [committed offset, ranges] at the end. */
  end: Array<[number, number]>
  /** 'error …' lines the processes printed. */
  errors: string[]
  fillMs: number
  /** Start of the first process to its death. */
  firstMs: number
  /** Reading what was committed at the kill and checking it against the first log. */
  checkMs: number
  /** Start of the restarted process to its exit. */
  secondMs: number
}

/**
 * A handler's log of "<partition> <offset>" lines, read incrementally as it grows, into a count per offset (one
 * Uint8Array per partition, saturating at 255): a million lines cost a few MB, not a million strings.
 */
class HandledLog {
  readonly counts: Uint8Array[]
  lines = 0
  duplicates = 0
  private fd: number | undefined
  private pos = 0
  private readonly buf = Buffer.allocUnsafe(1 << 20)
  private field = 0
  private p = 0
  private o = 0

  constructor(
    readonly path: string,
    private readonly perPartition: number,
    partitions: number,
    /** Called for the first line of every record in this log. */
    private readonly onFirst: (partition: number, offset: number) => void,
  ) {
    this.counts = Array.from({ length: partitions }, () => new Uint8Array(perPartition))
  }

  /** Reads what was appended since the last call; returns the lines read so far. */
  poll(): number {
    if (this.fd === undefined) {
      try {
        this.fd = openSync(this.path, 'r')
      } catch {
        return 0
      }
    }
    const size = fstatSync(this.fd).size
    while (this.pos < size) {
      const n = readSync(this.fd, this.buf, 0, Math.min(this.buf.length, size - this.pos), this.pos)
      if (n === 0) break
      this.pos += n
      this.parse(n)
    }
    return this.lines
  }

  private parse(n: number): void {
    const b = this.buf
    for (let i = 0; i < n; i++) {
      const c = b[i]!
      if (c === 10) {
        this.line(this.p, this.o)
        this.field = this.p = this.o = 0
      } else if (c === 32) this.field = 1
      else if (c >= 48 && c <= 57) {
        if (this.field === 0) this.p = this.p * 10 + (c - 48)
        else this.o = this.o * 10 + (c - 48)
      } else throw new Error(`${this.path}: unexpected byte ${c} near ${this.pos}`)
    }
  }

  private line(p: number, o: number): void {
    const counts = this.counts[p]
    if (counts === undefined || o >= this.perPartition) throw new Error(`${this.path}: no record ${p}/${o}`)
    this.lines++
    const c = counts[o]!
    if (c === 0) this.onFirst(p, o)
    else this.duplicates++
    if (c < 255) counts[o] = c + 1
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }
}

interface Child {
  process: ChildProcess
  commits: number
  failures: number
  stats: ProcessorStats | undefined
  errors: string[]
  stderr: string
  exited: Promise<number | null>
}

const alive = (c: Child) => c.process.exitCode === null && c.process.signalCode === null

function spawnChild(args: StreamChildArgs): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/stream-child.ts', JSON.stringify(args)], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const c: Child = {
    process: child,
    commits: 0,
    failures: 0,
    stats: undefined,
    errors: [],
    stderr: '',
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  }
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith('commit ')) {
      c.commits++
      c.failures = Number(line.split(' ')[2])
    } else if (line.startsWith('stats ')) c.stats = JSON.parse(line.slice(6)) as ProcessorStats
    else if (line.startsWith('error ')) c.errors.push(line)
  })
  child.stderr!.on('data', (d: Buffer) => {
    c.stderr += d.toString()
  })
  return c
}

/**
 * The stream processor's crash proof, with a real process crash. A topic of `partitions` × `perPartition` records
 * (keys k0..k99 per partition) is processed by a child process (test/helpers/stream-child.ts: key order, handler with
 * random latency and ~1% transient first-attempt failures, a log line per successful handling). Once it has handled
 * `killAtShare` of the records and committed `killAfterCommits` times it is killed with SIGKILL. What the group has
 * committed is read from the broker and checked against the first log; then a second child process (same group,
 * same static member id, its own log) runs until every record was handled by one process or the other, and gets
 * SIGTERM (it closes gracefully). Returns the counts; the caller asserts on them.
 */
export async function runStreamCrashScenario(o: StreamCrashScenario): Promise<StreamCrashResult> {
  const { bootstrap, partitions, perPartition, latencyMaxMs } = o
  const concurrency = o.concurrency ?? 64
  const total = partitions * perPartition
  const tFill = Date.now()
  const topic = await filledTopic(bootstrap, partitions, perPartition, (_p, i) => `k${i % 100}`)
  const fillMs = Date.now() - tFill
  const groupId = uniqueTopic('group')
  const groupInstanceId = uniqueTopic('instance')
  const dir = mkdtempSync(join(tmpdir(), 'skiff-stream-'))
  const children: Child[] = []
  const covered = Array.from({ length: partitions }, () => new Uint8Array(perPartition))
  let coveredCount = 0
  const cover = (p: number, off: number) => {
    if (covered[p]![off] === 0) {
      covered[p]![off] = 1
      coveredCount++
    }
  }
  const first = new HandledLog(join(dir, 'first.log'), perPartition, partitions, cover)
  const second = new HandledLog(join(dir, 'second.log'), perPartition, partitions, cover)
  const args = (log: string): StreamChildArgs => ({
    bootstrap,
    groupId,
    groupInstanceId,
    topic,
    log,
    concurrency,
    commitIntervalMs: o.commitIntervalMs ?? 250,
    latencyMaxMs,
  })
  try {
    // The first process, killed (as a crash would: no close, no final commit) once well into the run and committed.
    const t0 = Date.now()
    const a = spawnChild(args(first.path))
    children.push(a)
    const killAt = total * (o.killAtShare ?? 0.4)
    const minCommits = o.killAfterCommits ?? 2
    await until(
      `the first process to handle ${killAt} records and commit ${minCommits} times`,
      () => {
        if (!alive(a)) throw new Error(`the first process exited (${a.process.exitCode}): ${a.stderr}`)
        return first.poll() >= killAt && a.commits >= minCommits
      },
      o.killTimeoutMs,
    )
    a.process.kill('SIGKILL')
    await a.exited
    const commitsAtKill = a.commits
    const failuresAtKill = a.failures
    const firstMs = Date.now() - t0
    first.poll()

    // What was committed before the kill, read from the broker; checked against the handler's own log.
    const t1 = Date.now()
    const atKill = await committedProgress(bootstrap, groupId, topic)
    const committed = Array.from({ length: partitions }, () => new Uint8Array(perPartition))
    let committedDoneAtKill = 0
    let rangesAtKill = 0
    let unsound = 0
    const unsoundSample: string[] = []
    for (const [p, c] of atKill) {
      rangesAtKill += c.ranges
      const done = committed[p]!
      for (const [from, to] of [[0, c.offset] as [number, number], ...c.done.ranges()])
        done.fill(1, from, Math.min(to, perPartition))
      const handled = first.counts[p]!
      for (let off = 0; off < perPartition; off++) {
        if (done[off] === 0) continue
        committedDoneAtKill++
        if (handled[off] === 0 && unsound++ < 10) unsoundSample.push(`${p}/${off}`)
      }
    }
    const checkMs = Date.now() - t1

    // The restart: a new process in the same group with the same static member id (it replaces the dead member
    // without waiting for its session to expire); stopped with SIGTERM once every record was handled by either.
    const t2 = Date.now()
    const b = spawnChild(args(second.path))
    children.push(b)
    await until(
      'every record to be handled',
      () => {
        if (!alive(b)) throw new Error(`the restarted process exited (${b.process.exitCode}): ${b.stderr}`)
        second.poll()
        return coveredCount === total
      },
      o.coverTimeoutMs,
    )
    b.process.kill('SIGTERM')
    const closeTimeoutMs = o.closeTimeoutMs ?? 30_000
    let timer: NodeJS.Timeout | undefined
    const secondExit = await Promise.race([
      b.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(new Error(`the restarted process did not exit within ${closeTimeoutMs} ms of SIGTERM: ${b.stderr}`)),
          closeTimeoutMs,
        )
      }),
    ]).finally(() => clearTimeout(timer))
    const secondMs = Date.now() - t2
    second.poll()

    let redoneUncommitted = 0
    let redoneCommitted = 0
    const redoneCommittedSample: string[] = []
    for (let p = 0; p < partitions; p++) {
      const h1 = first.counts[p]!
      const h2 = second.counts[p]!
      const done = committed[p]!
      for (let off = 0; off < perPartition; off++) {
        if (h2[off] === 0) continue
        if (done[off] !== 0) {
          if (redoneCommitted++ < 10) redoneCommittedSample.push(`${p}/${off}`)
        } else if (h1[off] !== 0) redoneUncommitted++
      }
    }
    const endProgress = await committedProgress(bootstrap, groupId, topic)
    const end = Array.from({ length: partitions }, (_, p): [number, number] => {
      const c = endProgress.get(p)
      return c ? [c.offset, c.ranges] : [-1, -1]
    })
    return {
      records: total,
      partitions,
      concurrency,
      latencyMaxMs,
      firstHandled: first.lines,
      firstDuplicates: first.duplicates,
      commitsAtKill,
      failuresAtKill,
      committedDoneAtKill,
      rangesAtKill,
      unsound,
      unsoundSample,
      secondHandled: second.lines,
      secondDuplicates: second.duplicates,
      redoneUncommitted,
      redoneCommitted,
      redoneCommittedSample,
      covered: coveredCount,
      secondExit,
      secondStats: b.stats,
      end,
      errors: [...a.errors, ...b.errors],
      fillMs,
      firstMs,
      checkMs,
      secondMs,
    }
  } finally {
    for (const c of children) if (alive(c)) c.process.kill('SIGKILL')
    first.close()
    second.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The `[stream] …` line the crash tests print. */
export function crashSummary(r: StreamCrashResult): string {
  const f2 = r.secondStats?.failures ?? Number.NaN
  return (
    `[stream] ${r.records} records, ${r.partitions} partitions, key order, concurrency ${r.concurrency}, handler ` +
    `latency 0–${r.latencyMaxMs} ms: child killed (SIGKILL) after ${r.firstHandled} handled (${r.firstMs} ms, ` +
    `${r.commitsAtKill} commits); committed done at the kill ${r.committedDoneAtKill} (${r.rangesAtKill} ranges ` +
    `above the offsets); restarted child handled ${r.secondHandled} (${r.redoneUncommitted} handled before the kill ` +
    `but not yet committed, ${r.redoneCommitted} of the committed), ${r.failuresAtKill + f2} transient failures ` +
    `retried (${r.failuresAtKill} by the first child's last commit, ${f2} in the restart); fill ${r.fillMs} ms, ` +
    `check at the kill ${r.checkMs} ms, restart to exit ${r.secondMs} ms` +
    (r.errors.length > 0 ? `; ${r.errors.length} processor errors, the first: ${r.errors[0]}` : '') +
    '\n'
  )
}
