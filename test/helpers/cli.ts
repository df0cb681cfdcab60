import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { streamContext } from '../../src/cli/context.js'
import { main } from '../../src/cli/main.js'

const ROOT = join(import.meta.dirname, '..', '..')
const ENTRY = join(ROOT, 'src', 'cli', 'index.ts')

export interface CliResult {
  /** The exit code `main` resolved with (in-process) or the process exited with. */
  code: number | null
  stdout: Buffer
  /** stdout as UTF-8. */
  out: string
  /** stderr as UTF-8. */
  err: string
  /** The lines of stdout, without the final newline's empty line. */
  lines: string[]
}

function result(code: number | null, stdout: Buffer, stderr: Buffer): CliResult {
  const out = stdout.toString('utf8')
  return {
    code,
    stdout,
    out,
    err: stderr.toString('utf8'),
    lines: out === '' ? [] : out.replace(/\n$/, '').split('\n'),
  }
}

/** A stream that keeps what is written to it. */
function sink(): { stream: NodeJS.WriteStream; bytes: () => Buffer } {
  const chunks: Buffer[] = []
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))
      done()
    },
  })
  return { stream: stream as unknown as NodeJS.WriteStream, bytes: () => Buffer.concat(chunks) }
}

/**
 * Runs `skiff ...args` in this process through `main()` with captured streams and a clean environment (only what
 * `env` adds): fast, and what most tests need. Exit codes and stderr are the CLI's own; what only a real process
 * shows (signals, the exit itself) is for {@link runSkiffProcess}.
 */
export async function runSkiff(
  args: readonly string[],
  options: { stdin?: string | Buffer; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  // A fetch that never ends is stopped as Ctrl-C would stop it: a bounded fetch then exits 130, which fails the test.
  const interrupt = new AbortController()
  const timer = setTimeout(() => interrupt.abort(), options.timeoutMs ?? 30_000)
  const stdout = sink()
  const stderr = sink()
  const ctx = streamContext({
    stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
    stdout: stdout.stream,
    stderr: stderr.stream,
    env: options.env ?? {},
    interrupt: interrupt.signal,
    handleInterrupt() {},
  })
  try {
    const code = await main(args, ctx)
    return result(code, stdout.bytes(), stderr.bytes())
  } finally {
    clearTimeout(timer)
  }
}

/** What a child `skiff` inherits: enough to find node, java, Docker and the Kafka cache, and no SKIFF_CONFIG. */
function inherited(): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'JAVA_HOME', 'XDG_CACHE_HOME', 'SKIFF_KAFKA_CACHE', 'DOCKER_HOST']
  return Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]))
}

/** `skiff ...args` as a child process (`node --import tsx src/cli/index.ts`), as a user runs it. */
export function spawnSkiff(args: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}): SkiffProcess {
  return new SkiffProcess(
    spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
      cwd: ROOT,
      env: { ...inherited(), ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  )
}

/** Runs `skiff ...args` as a child process to its end; `input` goes to its stdin. */
export async function runSkiffProcess(
  args: readonly string[],
  options: { input?: string | Buffer; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult & { signal: NodeJS.Signals | null }> {
  const p = spawnSkiff(args, options)
  p.child.stdin!.end(options.input ?? '')
  return p.exited(options.timeoutMs)
}

/** A running `skiff`, with its output collected as it comes. */
export class SkiffProcess {
  private readonly stdoutChunks: Buffer[] = []
  private readonly stderrChunks: Buffer[] = []
  private readonly exit: Promise<[number | null, NodeJS.Signals | null]>

  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (c: Buffer) => this.stdoutChunks.push(c))
    child.stderr!.on('data', (c: Buffer) => this.stderrChunks.push(c))
    // 'close' rather than 'exit': by then stdout and stderr are read to their end.
    this.exit = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>
  }

  get out(): string {
    return Buffer.concat(this.stdoutChunks).toString('utf8')
  }

  get err(): string {
    return Buffer.concat(this.stderrChunks).toString('utf8')
  }

  /** Waits until `done` holds for what has been printed (stdout, stderr); throws with both after `timeoutMs`. */
  async waitFor(done: (out: string, err: string) => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!done(this.out, this.err)) {
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(`skiff exited (${this.child.exitCode ?? this.child.signalCode}) first; stderr: ${this.err}`)
      if (Date.now() > deadline) throw new Error(`timed out; stdout: ${this.out.slice(-2000)} stderr: ${this.err}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  /** Resolves when the process has exited and its output is read; kills it after `timeoutMs`. */
  async exited(timeoutMs = 60_000): Promise<CliResult & { signal: NodeJS.Signals | null }> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs)
    try {
      const [code, signal] = await this.exit
      return { ...result(code, Buffer.concat(this.stdoutChunks), Buffer.concat(this.stderrChunks)), signal }
    } finally {
      clearTimeout(timer)
    }
  }
}
