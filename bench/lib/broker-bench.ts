/**
 * What bench/produce.ts and bench/consume.ts share: the broker they start, the records they send, Skiff bundled as
 * users get it, the long-lived child process each Node client runs in, timing of external tools, and the tables.
 */
import { execFileSync, fork, spawn, spawnSync } from 'node:child_process'
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type * as SkiffModule from '../../src/index.js'
import { type KafkaCluster, startKafka } from '../../src/testing/index.js'

export type Skiff = typeof SkiffModule

export const root = fileURLToPath(new URL('../..', import.meta.url))

// ---------------------------------------------------------------------------------------------------------------
// Command line

export function argValue(name: string): string | undefined {
  const prefix = `--${name}=`
  const a = process.argv.find((x) => x.startsWith(prefix))
  return a?.slice(prefix.length)
}

export function flag(name: string): boolean {
  return process.argv.includes(`--${name}`)
}

export function intArg(name: string, def: number): number {
  const v = argValue(name)
  if (v === undefined) return def
  const n = Number(v.replace(/_/g, ''))
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${v}`)
  return n
}

export function listArg<T extends string>(name: string, all: readonly T[]): T[] {
  const v = argValue(name)
  if (v === undefined) return [...all]
  const picked = v.split(',').map((s) => s.trim()) as T[]
  for (const p of picked) if (!all.includes(p)) throw new Error(`--${name}: unknown ${p}; one of ${all.join(', ')}`)
  return picked
}

// ---------------------------------------------------------------------------------------------------------------
// The records: 1 KiB values, the same bytes for every client

export const VALUE_BYTES = 1024
export const MB = 1e6

function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * The values every client sends, as a pool the record at index i takes entry `i % pool.length` of (kcat, Skiff and
 * the peers), or a random entry of (the Java tools' `--payload-file`). Each entry is exactly 1024 ASCII bytes, no
 * newline (kcat and the Java tools read them as lines).
 *
 * - `json` (default): 10 000 distinct JSON log lines (random trace ids, user ids, routes, templated messages), which
 *   lz4 shrinks about 2-3x, as real logs: compression costs and pays as it would in production.
 * - `same`: one random line of A-Z sent as every record, which is what ProducerPerformance `--record-size` does;
 *   lz4 then shrinks a 1 MiB batch to a few KB and the compressed runs measure little but the batch framing.
 */
export function payloadPool(kind: 'json' | 'same'): Buffer[] {
  const rnd = mulberry32(0x5eed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
  const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(rnd() * 16)]).join('')
  if (kind === 'same') {
    const s = Array.from({ length: VALUE_BYTES }, () => String.fromCharCode(65 + Math.floor(rnd() * 26))).join('')
    return [Buffer.from(s, 'latin1')]
  }
  const services = ['checkout', 'payments', 'search', 'inventory', 'auth', 'shipping', 'catalog', 'reviews']
  const routes = ['/api/v1/orders', '/api/v1/cart', '/api/v2/search', '/api/v1/users', '/healthz', '/api/v1/items']
  const levels = ['info', 'info', 'info', 'debug', 'warn', 'error']
  const words = (
    'request completed processed upstream cache miss hit retry timeout connection pool acquired released user ' +
    'session token refreshed order created updated payment authorized declined inventory reserved shipment label ' +
    'printed query executed rows returned slow fast queue depth latency budget exceeded within'
  ).split(' ')
  const pool: Buffer[] = []
  for (let i = 0; i < 10_000; i++) {
    const head = JSON.stringify({
      ts: new Date(1_760_000_000_000 + i * 1237).toISOString(),
      level: pick(levels),
      service: pick(services),
      trace_id: hex(32),
      span_id: hex(16),
      user: `u-${Math.floor(rnd() * 1e7)}`,
      route: `${pick(routes)}/${Math.floor(rnd() * 1e6)}`,
      status: pick([200, 200, 200, 201, 204, 400, 404, 500]),
      latency_ms: Math.round(rnd() * 2e5) / 100,
    })
    let msg = ''
    while (msg.length < VALUE_BYTES) msg += `${pick(words)} `
    const line = `${head.slice(0, -1)},"msg":"${msg}`.slice(0, VALUE_BYTES - 2)
    pool.push(Buffer.from(`${line}"}`, 'latin1'))
  }
  for (const b of pool) if (b.length !== VALUE_BYTES || b.includes(10)) throw new Error('bad payload line')
  return pool
}

/** The pool as a text file, one value per line (for `--payload-file`). */
export function writePayloadFile(file: string, pool: readonly Buffer[]): void {
  writeFileSync(file, Buffer.concat(pool.flatMap((b) => [b, Buffer.from('\n')])))
}

// ---------------------------------------------------------------------------------------------------------------
// Skiff as shipped

/**
 * Bundles src/index.ts with tsup (format, target and platform as tsup.config.ts builds dist/) into .bench-tmp/<dir>:
 * running the TypeScript through tsx would add esbuild's keepNames wrappers, which users never run.
 */
export function bundleSkiff(dir: string): string {
  const out = join(root, '.bench-tmp', dir)
  if (!flag('no-build') || !existsSync(join(out, 'index.js'))) {
    const args = ['src/index.ts', '--format', 'esm', '--target', 'node20', '--platform', 'node', '--sourcemap']
    execFileSync(join(root, 'node_modules', '.bin', 'tsup'), [...args, '-d', out, '--no-config', '--silent'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    })
  }
  return join(out, 'index.js')
}

export async function loadSkiff(bundle: string): Promise<Skiff> {
  return (await import(pathToFileURL(bundle).href)) as Skiff
}

// ---------------------------------------------------------------------------------------------------------------
// The broker

/**
 * Broker settings on top of the harness's test defaults: deleted topics' files go within a second (each run writes
 * up to 1 GB into a fresh topic, deleted after it), and batches up to 2 MiB (a 1 MiB batch plus framing must pass).
 */
export const BROKER_PROPERTIES = {
  'log.segment.delete.delay.ms': 1000,
  'message.max.bytes': 2 * 1024 * 1024,
  'num.io.threads': 4,
  'num.network.threads': 2,
} as const
export const BROKER_HEAP_MB = 1024

export async function startBroker(): Promise<KafkaCluster> {
  return startKafka({ provider: 'jvm', heapMb: BROKER_HEAP_MB, serverProperties: { ...BROKER_PROPERTIES } })
}

/** Bytes of a topic's log segments on the broker's disk (jvm provider): shows whether and how well batches compress. */
export function topicLogBytes(kafka: KafkaCluster, topic: string, partitions: number): number {
  const logFile = kafka.brokers[0]?.logFile
  if (!logFile) return Number.NaN
  let total = 0
  for (let p = 0; p < partitions; p++) {
    const dir = join(dirname(logFile), 'data', `${topic}-${p}`)
    if (!existsSync(dir)) continue
    for (const f of readdirSync(dir)) if (f.endsWith('.log')) total += statSync(join(dir, f)).size
  }
  return total
}

export function packageVersion(name: string): string {
  const file = join(root, 'node_modules', name, 'package.json')
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
}

export function kcatVersion(): string {
  const r = spawnSync('kcat', ['-V'], { encoding: 'utf8' })
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`
  const kcat = /^Version (\S+)/m.exec(out)?.[1] ?? '?'
  const rdkafka = /librdkafka (\S+)/.exec(out)?.[1]
  return `kcat ${kcat}${rdkafka ? ` (librdkafka ${rdkafka})` : ''}`
}

export function javaVersion(): string {
  const r = spawnSync('java', ['-version'], { encoding: 'utf8' })
  const m = /version "([^"]+)"/.exec(`${r.stderr ?? ''}${r.stdout ?? ''}`)
  return `java ${m?.[1] ?? '?'}`
}

/** The commit Skiff was bundled from, and whether the working tree differed from it. */
export function skiffRevision(): string {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: root, encoding: 'utf8' }).stdout?.trim() ?? ''
  const sha = git('rev-parse', '--short', 'HEAD') || '?'
  return `skiff ${sha}${git('status', '--porcelain', '--', 'src') ? ' + uncommitted changes in src/' : ''}`
}

export function loadText(): string {
  return `load ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')} on ${cpus().length} CPUs`
}

// ---------------------------------------------------------------------------------------------------------------
// External tools, timed

export interface ToolRun {
  code: number
  stdout: string
  stderr: string
  /** Wall time of the whole process, ms. */
  ms: number
  /** User + system CPU of the whole process (and its children), seconds, from /usr/bin/time. */
  cpuSec: number
}

const TIME_MARK = '@@bench-time'

/**
 * Runs a command under /usr/bin/time (for its CPU time) and times it with the monotonic clock. `stdin`/`stdout`
 * may name files (stdout '/dev/null' discards).
 */
export function runTool(
  cmd: string,
  args: readonly string[],
  options: { stdin?: string; stdout?: string; timeoutMs?: number } = {},
): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const hasTime = existsSync('/usr/bin/time')
    const file = hasTime ? '/usr/bin/time' : cmd
    const argv = hasTime ? ['-f', `${TIME_MARK} %U %S`, cmd, ...args] : [...args]
    const stdio: Array<'pipe' | 'ignore' | number> = ['ignore', 'pipe', 'pipe']
    const fds: number[] = []
    if (options.stdin) {
      const fd = openSync(options.stdin, 'r')
      fds.push(fd)
      stdio[0] = fd
    }
    if (options.stdout) {
      const fd = openSync(options.stdout, 'w')
      fds.push(fd)
      stdio[1] = fd
    }
    const t0 = performance.now()
    const child = spawn(file, argv, { stdio: stdio as never })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (d) => (stdout += d))
    child.stderr?.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30 * 60_000)
    child.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.on('close', (code) => {
      const ms = performance.now() - t0
      clearTimeout(timer)
      for (const fd of fds) closeSync(fd)
      let cpuSec = Number.NaN
      const lines = stderr.split('\n')
      const i = lines.findIndex((l) => l.startsWith(TIME_MARK))
      if (i >= 0) {
        const [, u, s] = lines[i]!.split(' ')
        cpuSec = Number(u) + Number(s)
        lines.splice(i, 1)
        stderr = lines.join('\n')
      }
      resolve({ code: code ?? 1, stdout, stderr, ms, cpuSec })
    })
  })
}

// ---------------------------------------------------------------------------------------------------------------
// Node clients, each in its own long-lived child process

/** What a child reports about one run. */
export interface ChildResult {
  ms: number
  /** Records the client acknowledged (produce) or handed out (consume). */
  records: number
  /** Value bytes it counted (consume), or sent (produce). */
  bytes: number
  /** CPU seconds of the child process over the run (user + system, all threads). */
  cpuSec: number
  /** Top self-time functions, when the run was profiled. */
  profile?: string[]
  extra?: Record<string, unknown>
}

type ToChild = { id: number; order: unknown }
type FromChild = { ready: true } | { id: number; result?: ChildResult; error?: string }

export interface NodeChild {
  run(order: unknown): Promise<ChildResult>
  exit(): void
}

/**
 * Forks `script --child=<client>` with the parent's loader flags (tsx): fresh JIT state and heap per client, and a
 * process the parent can ask for one run at a time.
 */
export function spawnChild(script: string, client: string, args: readonly string[] = []): Promise<NodeChild> {
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--cpu-prof'))
  return new Promise((resolve, reject) => {
    const child = fork(script, [`--child=${client}`, ...args], {
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    const waiting = new Map<number, { res: (r: ChildResult) => void; rej: (e: Error) => void }>()
    let next = 0
    let exited = false
    child.on('error', reject)
    child.on('exit', (code) => {
      exited = true
      const e = new Error(`${client} child exited with ${code}`)
      for (const w of waiting.values()) w.rej(e)
      waiting.clear()
      reject(e)
    })
    child.on('message', (m: FromChild) => {
      if ('ready' in m) {
        resolve({
          run(order) {
            if (exited) return Promise.reject(new Error(`${client} child has exited`))
            const id = ++next
            return new Promise((res, rej) => {
              waiting.set(id, { res, rej })
              child.send({ id, order } satisfies ToChild)
            })
          },
          exit() {
            if (!exited) child.disconnect()
          },
        })
        return
      }
      const w = waiting.get(m.id)
      if (!w) return
      waiting.delete(m.id)
      if (m.error !== undefined) w.rej(new Error(`${client}: ${m.error}`))
      else w.res(m.result!)
    })
  })
}

/** In a child: answers the parent's orders one at a time until it disconnects. */
export function serveChild(handle: (order: any) => Promise<ChildResult>): void {
  let queue = Promise.resolve()
  process.on('message', (m: ToChild) => {
    queue = queue.then(async () => {
      try {
        const result = await handle(m.order)
        process.send!({ id: m.id, result } satisfies FromChild)
      } catch (e) {
        const err = e as Error
        process.send!({ id: m.id, error: err?.stack ?? String(e) } satisfies FromChild)
      }
    })
  })
  process.on('disconnect', () => process.exit(0))
  process.send!({ ready: true } satisfies FromChild)
}

/** Runs `fn`, reporting its wall time and the process's CPU time; profiled (V8 sampling profiler) when `file` is set. */
export async function measured<T extends Omit<ChildResult, 'ms' | 'cpuSec' | 'profile'>>(
  fn: () => Promise<T & { ms?: number }>,
  profileFile?: string,
): Promise<ChildResult> {
  const profiler = profileFile ? await startProfiler() : undefined
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const r = await fn()
  const ms = r.ms ?? performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  const profile = profiler ? await profiler.stop(profileFile!) : undefined
  return { ...r, ms, cpuSec: (cpu.user + cpu.system) / 1e6, profile }
}

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

async function startProfiler(): Promise<{ stop(file: string): Promise<string[]> }> {
  const { Session } = await import('node:inspector/promises')
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 200 })
  await session.post('Profiler.start')
  return {
    async stop(file) {
      const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile }
      session.disconnect()
      writeFileSync(file, JSON.stringify(profile))
      const self = new Map<string, number>()
      const byId = new Map(profile.nodes.map((n) => [n.id, n]))
      let total = 0
      profile.samples.forEach((id, i) => {
        const dt = profile.timeDeltas[i] ?? 0
        const f = byId.get(id)!.callFrame
        const line = f.lineNumber >= 0 && f.url ? `:${f.lineNumber + 1}` : ''
        const where = f.url ? `${basename(f.url)}${line}` : ''
        const key = `${f.functionName || '(anonymous)'} ${where}`.trim()
        self.set(key, (self.get(key) ?? 0) + dt)
        total += dt
      })
      const idle = self.get('(idle)') ?? 0
      const lines = [
        `profile ${file}: ${(total / 1e6).toFixed(2)} s sampled, ${((100 * idle) / total).toFixed(0)}% idle`,
      ]
      for (const [fn, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
        lines.push(`${((100 * t) / total).toFixed(1).padStart(6)}%  ${fn}`)
      }
      return lines
    },
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Numbers and tables

export function median(xs: readonly number[]): number {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (s.length === 0) return Number.NaN
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a'
}

export function fmtK(n: number): string {
  if (!Number.isFinite(n)) return 'n/a'
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${Math.round(n / 1000)}k`
}

export interface Column {
  title: string
  align?: 'left' | 'right'
}

/** A plain-text table: first column left-aligned, the others right-aligned. */
export function table(columns: readonly Column[], rows: readonly (readonly string[])[]): string[] {
  const widths = columns.map((c, i) => Math.max(c.title.length, ...rows.map((r) => (r[i] ?? '').length)))
  const cell = (s: string, i: number) =>
    (columns[i]!.align ?? (i === 0 ? 'left' : 'right')) === 'left' ? s.padEnd(widths[i]!) : s.padStart(widths[i]!)
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => cell(c, i))
      .join('   ')
      .trimEnd()
  return [line(columns.map((c) => c.title)), ...rows.map((r) => line(r))]
}
