// What a command gets to talk to the world: its streams, environment, an interrupt signal, and diagnostics on
// stderr (data goes to stdout, everything else to stderr).
import { useColor } from './format.js'

export interface CliContext {
  /** Where `skiff produce` reads its lines. */
  stdin: NodeJS.ReadableStream
  stdout: NodeJS.WriteStream
  stderr: NodeJS.WriteStream
  env: NodeJS.ProcessEnv
  /** Aborted by the first SIGINT, for commands that stop cleanly (see `handleInterrupt`). */
  interrupt: AbortSignal
  /** A command that stops cleanly on SIGINT calls this; otherwise SIGINT ends the process at once (exit 130). */
  handleInterrupt(): void
  /** Diagnostics: `skiff: ...` on stderr, colored on a terminal unless NO_COLOR is set. */
  warn(message: string): void
  info(message: string): void
  /** Called before a diagnostic is printed (the fetch progress line erases itself). */
  beforeDiagnostic?: () => void
}

const YELLOW = '\x1b[33m'
const RED = '\x1b[31m'
const RESET = '\x1b[0m'

/** The context of the real process. */
export function processContext(interrupt: AbortSignal, onHandle: () => void): CliContext {
  return streamContext({
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    interrupt,
    handleInterrupt: onHandle,
  })
}

/** A context over the given streams (the process's, or a test's), with `warn` and `info` writing to its stderr. */
export function streamContext(parts: Omit<CliContext, 'warn' | 'info' | 'beforeDiagnostic'>): CliContext {
  const stderr = parts.stderr
  const color = useColor(stderr, parts.env)
  const ctx: CliContext = {
    ...parts,
    warn(message) {
      ctx.beforeDiagnostic?.()
      stderr.write(`${color ? YELLOW : ''}skiff: ${message}${color ? RESET : ''}\n`)
    },
    info(message) {
      ctx.beforeDiagnostic?.()
      stderr.write(`skiff: ${message}\n`)
    },
  }
  return ctx
}

/** `skiff: error: ...` in red on a terminal. */
export function errorLine(message: string, stderr: NodeJS.WriteStream, env: NodeJS.ProcessEnv): string {
  const color = useColor(stderr, env)
  return `${color ? RED : ''}skiff: error: ${message}${color ? RESET : ''}\n`
}
