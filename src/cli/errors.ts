// Exit codes and one-line error messages. Every failure the CLI can meet is turned into a CliError here, with an
// exit code a script can branch on and a message a person can act on; stacks only with --debug.
import {
  AdminTimeoutError,
  ConfigError,
  ConnectionError,
  DecompressionBudgetExceededError,
  KafkaError,
  RecordTooLargeError,
  RequestTimeoutError,
  SaslAuthenticationError,
} from '../index.js'
import { formatBytes } from './format.js'

/** 0 ok, 1 runtime error, 2 usage error, 3 authentication or connection error. 130 after an interrupted bounded fetch. */
export const EXIT = { ok: 0, runtime: 1, usage: 2, connection: 3, interrupted: 130 } as const
export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

/** A failure with the exit code it ends the process with. The message is one line, ready for stderr. */
export class CliError extends Error {
  override name = 'CliError'
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** The command line is wrong: unknown flag, missing or malformed value. Exit 2. */
export class UsageError extends CliError {
  override name = 'UsageError'
  constructor(message: string) {
    super(message, EXIT.usage)
  }
}

/** Kafka could not be reached or refused our credentials. Exit 3. */
export class ConnectFailure extends CliError {
  override name = 'ConnectFailure'
  constructor(message: string, cause?: unknown) {
    super(message, EXIT.connection, { cause })
  }
}

/** Kafka error names that mean "you are not allowed": reported as exit 3 with the credentials to check. */
const AUTH_ERRORS = new Set([
  'SASL_AUTHENTICATION_FAILED',
  'ILLEGAL_SASL_STATE',
  'UNSUPPORTED_SASL_MECHANISM',
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'DELEGATION_TOKEN_AUTHORIZATION_FAILED',
])

/** Turns anything thrown into a CliError: the exit code and a one-line message. */
export function toCliError(err: unknown): CliError {
  if (err instanceof CliError) return err
  if (isParseArgsError(err)) return new UsageError(parseArgsMessage(err as Error))
  if (err instanceof ConfigError) return new UsageError(err.message)
  if (err instanceof SaslAuthenticationError) return new ConnectFailure(authMessage(err), err)
  if (err instanceof ConnectionError)
    return new ConnectFailure(`lost the connection to Kafka: ${oneLine(err.message)}`, err)
  if (err instanceof RequestTimeoutError)
    return new ConnectFailure(`${err.message}; the broker is reachable but not answering (raise --timeout?)`, err)
  if (err instanceof AdminTimeoutError) {
    const cause = err.cause
    if (cause instanceof ConnectionError || cause instanceof SaslAuthenticationError)
      return new ConnectFailure(oneLine(err.message), err)
    return new CliError(oneLine(err.message), EXIT.runtime, { cause: err })
  }
  if (err instanceof KafkaError) return kafkaError(err)
  if (err instanceof DecompressionBudgetExceededError)
    return new CliError(
      `${oversizedBatch(err)}; pass --skip-oversized to skip it, or raise --max-decompressed-bytes`,
      EXIT.runtime,
      { cause: err },
    )
  if (err instanceof RecordTooLargeError)
    return new CliError(
      `${oneLine(err.message.replace(/; skip it or raise the limit$/, ''))}; pass --skip-oversized to skip its batch`,
      EXIT.runtime,
      { cause: err },
    )
  if (err instanceof Error) return new CliError(oneLine(err.message), EXIT.runtime, { cause: err })
  return new CliError(String(err), EXIT.runtime)
}

/** `zstd batch at logs[0] offsets 200..6199 expands past --max-decompressed-bytes 1 MiB (29.8 KiB compressed, ...)`. */
export function oversizedBatch(err: DecompressionBudgetExceededError): string {
  const d = err.details
  const tp = d.topic === undefined ? 'a partition' : `${d.topic}[${d.partition ?? '?'}]`
  const how = d.detail ?? `stopped after ${formatBytes(d.producedBytes)}`
  return (
    `${d.codec} batch at ${tp} offsets ${d.baseOffset}..${d.lastOffset} expands past --max-decompressed-bytes ` +
    `${formatBytes(d.limitBytes)} (${formatBytes(d.compressedBytes)} compressed; ${oneLine(how)})`
  )
}

function kafkaError(err: KafkaError): CliError {
  const ctx = err.context
  if (err.errorName === 'UNKNOWN_TOPIC_OR_PARTITION' && ctx.topic !== undefined) {
    const what = ctx.partition === undefined ? `topic ${ctx.topic}` : `partition ${ctx.topic}[${ctx.partition}]`
    return new CliError(`${what} does not exist (UNKNOWN_TOPIC_OR_PARTITION)`, EXIT.runtime, { cause: err })
  }
  if (AUTH_ERRORS.has(err.errorName)) {
    const hint = err.errorName.endsWith('AUTHORIZATION_FAILED')
      ? '; the user lacks an ACL for this'
      : '; check --sasl-mechanism, --sasl-username and --sasl-password'
    return new ConnectFailure(`${oneLine(err.message)}${hint}`, err)
  }
  return new CliError(oneLine(err.message), EXIT.runtime, { cause: err })
}

function authMessage(err: SaslAuthenticationError): string {
  const where = err.broker ? ` at ${err.broker}` : ''
  let msg = `${err.mechanism} authentication failed${where}: ${oneLine(err.reason)}`
  if (err.enabledMechanisms?.length) msg += ` (the broker offers ${err.enabledMechanisms.join(', ')})`
  return `${msg}; check --sasl-mechanism, --sasl-username and --sasl-password`
}

function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')
}

/** node:util parseArgs messages, minus the advice that does not fit a CLI ("To specify a positional argument..."). */
function parseArgsMessage(err: Error): string {
  const m = err.message
  const unknown = /^Unknown option '([^']+)'/.exec(m)
  if (unknown) return `unknown option ${unknown[1]}`
  const positional = /^Unexpected argument '([^']+)'/.exec(m)
  if (positional) return `unexpected argument ${JSON.stringify(positional[1])}`
  const missing = /^Option '([^']+)' argument missing/.exec(m)
  if (missing) return `${missing[1]!.replace(/ <value>$/, '')} needs a value`
  const ambiguous = /^Option '([^']+)' argument is ambiguous/.exec(m)
  if (ambiguous)
    return `${ambiguous[1]!.replace(/ <value>$/, '')} needs a value (a value starting with - goes as --flag=-value)`
  return oneLine(m.split('. To ')[0]!)
}

/** Collapses line breaks (broker texts, nested causes) so a message stays one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim()
}

/** The full story for --debug: stack and the chain of causes. */
export function debugDetail(err: unknown): string {
  const parts: string[] = []
  let e: unknown = err
  for (let depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    parts.push(e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e))
    e = e instanceof Error ? e.cause : undefined
    if (e !== undefined) parts.push('caused by:')
  }
  return parts.join('\n')
}
