// The `skiff` command without the process around it: dispatches to one module per command and turns every failure
// into an exit code and a one-line message. index.ts runs it as the process; tests call `main` with their own context.
import { readFileSync } from 'node:fs'
import { type CliContext, errorLine } from './context.js'
import { debugDetail, EXIT, type ExitCode, toCliError, UsageError } from './errors.js'

type Command = (args: readonly string[], ctx: CliContext) => Promise<ExitCode>

/** Commands load on demand: `skiff fetch` does not pay for the harness `skiff broker` needs. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  fetch: {
    summary: 'read records to stdout (like kcat -C): JSON lines, text or raw; bounded or --follow',
    load: async () => (await import('./fetch.js')).fetchCommand,
  },
  lag: {
    summary: "a consumer group's lag per partition: committed, end, messages behind, age of the oldest unread",
    load: async () => (await import('./lag.js')).lagCommand,
  },
  topics: {
    summary: 'list, describe, create and delete topics',
    load: async () => (await import('./topics.js')).topicsCommand,
  },
  produce: {
    summary: 'write stdin lines or JSON lines as records',
    load: async () => (await import('./produce.js')).produceCommand,
  },
  broker: {
    summary: 'start a local Kafka (the test harness) and print its bootstrap address',
    load: async () => (await import('./broker.js')).brokerCommand,
  },
}

export function mainHelp(): string {
  const names = Object.keys(COMMANDS)
  const width = Math.max(...names.map((n) => n.length))
  return `Usage: skiff <command> [options]      (skiff <command> --help for its options and examples)

Skiff's command line: a Kafka client in pure TypeScript.

Commands:
${names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n]!.summary}`).join('\n')}

Options:
  -h, --help       this help
  -V, --version    print the version

Examples:
  skiff broker                                          # a local Kafka; prints its bootstrap address
  skiff topics create -b localhost:9092 orders --partitions 3
  seq 1 100 | skiff produce -b localhost:9092 -t orders
  skiff fetch -b localhost:9092 -t orders -o -5 -f text
  skiff lag -b localhost:9092 -g billing

Exit codes: 0 ok, 1 runtime error, 2 usage error, 3 connection or authentication error.
Environment: SKIFF_CONFIG (a JSON file of connection settings), SKIFF_SASL_PASSWORD, NO_COLOR.`
}

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

/** Runs the CLI with `argv` (without node and the script) and resolves with the exit code. */
export async function main(argv: readonly string[], ctx: CliContext): Promise<ExitCode> {
  const debug = argv.includes('--debug')
  try {
    const [first, ...rest] = argv
    if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
      if (first === 'help' && rest[0] && COMMANDS[rest[0]])
        return await (await COMMANDS[rest[0]]!.load())(['--help'], ctx)
      ;(first === undefined ? ctx.stderr : ctx.stdout).write(`${mainHelp()}\n`)
      return first === undefined ? EXIT.usage : EXIT.ok
    }
    if (first === '-V' || first === '--version') {
      ctx.stdout.write(`skiff ${version()} (node ${process.versions.node})\n`)
      return EXIT.ok
    }
    const command = COMMANDS[first]
    if (!command) {
      // Usage errors get "(see skiff --help)" below.
      const hint = first.startsWith('-') ? 'a command comes first' : `commands: ${Object.keys(COMMANDS).join(', ')}`
      throw new UsageError(`unknown command ${JSON.stringify(first)} (${hint})`)
    }
    return await (await command.load())(rest, ctx)
  } catch (err) {
    const e = toCliError(err)
    const command = argv[0] !== undefined && COMMANDS[argv[0]] ? `skiff ${argv[0]}` : 'skiff'
    const hint = e.exitCode === EXIT.usage ? ` (see ${command} --help)` : ''
    ctx.beforeDiagnostic?.()
    ctx.stderr.write(errorLine(e.message + hint, ctx.stderr, ctx.env))
    if (debug) ctx.stderr.write(`${debugDetail(err)}\n`)
    return e.exitCode
  }
}
