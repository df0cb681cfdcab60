import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { HarnessError } from '../errors.js'

/**
 * The JVM runs under a small bash guardian that holds a pipe from this process on fd 3. If this process dies in
 * any way (even SIGKILL, when no exit handler runs), the pipe reaches EOF and the guardian kills the JVM and removes
 * the cluster's temp dir, so a crashed test run leaves no broker behind.
 */
const GUARDIAN = `
cleanup_dir="$1"; log="$2"; shift 2
exec 3<&0
"$@" </dev/null >>"$log" 2>&1 &
jpid=$!
echo "$jpid"
# Watch both the parent's pipe and the JVM. EOF on the pipe (read status 1) means the parent is gone: kill the JVM
# and remove the cluster's files. A timeout (status > 128) just polls the JVM again; once the JVM has ended on its
# own (a stop or kill by the harness), the watcher leaves quietly and the data stays for a restart.
{
  while :; do
    read -r -t 0.25 _ <&3
    rc=$?
    if [ "$rc" -gt 0 ] && [ "$rc" -le 128 ]; then kill -9 "$jpid" 2>/dev/null; rm -rf "$cleanup_dir"; exit 0; fi
    kill -0 "$jpid" 2>/dev/null || exit 0
  done
} &
wpid=$!
wait "$jpid"
code=$?
wait "$wpid"
exit $code
`

export interface JvmProcessOptions {
  java: string
  args: string[]
  logFile: string
  /** Removed by the guardian if this process dies while the JVM runs. */
  cleanupDir: string
  env?: NodeJS.ProcessEnv
}

/** One running JVM (a broker, or a short-lived Kafka tool). */
export class JvmProcess {
  readonly exited: Promise<number | null>
  private readonly child: ChildProcess
  private jvmPid = 0
  private readonly pidKnown: Promise<number>
  private done = false

  constructor(readonly options: JvmProcessOptions) {
    this.child = spawn(
      'bash',
      ['-c', GUARDIAN, 'skiff-kafka-guardian', options.cleanupDir, options.logFile, options.java, ...options.args],
      {
        stdio: ['pipe', 'pipe', 'ignore'],
        env: options.env ?? process.env,
      },
    )
    // Keep the guardian's pipe open but do not let it hold this process's event loop open.
    ;(this.child.stdin as unknown as { unref?: () => void })?.unref?.()
    ;(this.child.stdout as unknown as { unref?: () => void })?.unref?.()
    this.child.unref()
    this.pidKnown = new Promise((resolve, reject) => {
      let out = ''
      this.child.stdout!.on('data', (d: Buffer) => {
        out += d.toString()
        const m = /^(\d+)\n/.exec(out)
        if (m && this.jvmPid === 0) {
          this.jvmPid = Number(m[1])
          resolve(this.jvmPid)
        }
      })
      this.child.once('error', (err) =>
        reject(new HarnessError(`cannot start bash for the broker: ${err.message}`, err)),
      )
      this.child.once('exit', () => {
        if (this.jvmPid === 0) reject(new HarnessError(`broker JVM did not start; see ${options.logFile}`))
      })
    })
    this.pidKnown.catch(() => {})
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code) => {
        this.done = true
        resolve(code)
      })
    })
  }

  get running(): boolean {
    return !this.done
  }

  pid(): Promise<number> {
    return this.pidKnown
  }

  /** Sends a signal to the JVM itself (not the guardian). */
  async signal(sig: NodeJS.Signals): Promise<void> {
    if (this.done) return
    const pid = await this.pidKnown
    try {
      process.kill(pid, sig)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err
    }
  }

  /** Synchronous last-resort kill, for process exit handlers. */
  killNow(): void {
    if (this.done) return
    try {
      if (this.jvmPid) process.kill(this.jvmPid, 'SIGKILL')
    } catch {}
    try {
      this.child.kill('SIGKILL')
    } catch {}
  }

  /** SIGTERM (Kafka's controlled shutdown), then SIGKILL after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    if (this.done) return
    await this.signal('SIGTERM')
    const timer = setTimeout(() => void this.signal('SIGKILL'), graceMs)
    try {
      await this.exited
    } finally {
      clearTimeout(timer)
    }
  }

  logTail(lines = 40): string {
    try {
      return readFileSync(this.options.logFile, 'utf8').split('\n').slice(-lines).join('\n')
    } catch {
      return '(no log)'
    }
  }
}

/** Runs a Kafka tool (a short-lived JVM) to completion, returning its output. */
export function runJava(java: string, args: string[], timeoutMs: number, signal?: AbortSignal) {
  return new Promise<{ code: number; output: string }>((resolve, reject) => {
    let output = ''
    const child = spawn(java, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      signal,
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    })
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    child.on('error', (err) => reject(new HarnessError(`cannot run ${java}: ${err.message}`, err)))
    child.on('close', (code, sig) => resolve({ code: code ?? (sig ? 128 : 1), output }))
  })
}
