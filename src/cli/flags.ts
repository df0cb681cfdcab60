// Connection flags shared by every command, the config file that can carry the same keys, and opening a cluster
// with a diagnosis a person can act on when it cannot be reached.
import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import type { ConnectionOptions as TlsOptions } from 'node:tls'
import { type ParseArgsConfig, parseArgs } from 'node:util'
import {
  type ClientOptions,
  Cluster,
  Connection,
  ConnectionError,
  Metadata,
  SaslAuthenticationError,
} from '../index.js'
import { ConnectFailure, oneLine, toCliError, UsageError } from './errors.js'
import { joinNegativeValues, parseDuration } from './parse.js'

/** parseArgs definitions of the connection flags (every command but `broker` takes them). */
export const CONNECTION_FLAGS = {
  bootstrap: { type: 'string', short: 'b' },
  'sasl-mechanism': { type: 'string' },
  'sasl-username': { type: 'string' },
  'sasl-password': { type: 'string' },
  tls: { type: 'boolean' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'client-id': { type: 'string' },
  timeout: { type: 'string' },
  config: { type: 'string' },
} as const

/** Flags every command takes. */
export const COMMON_FLAGS = {
  help: { type: 'boolean', short: 'h' },
  debug: { type: 'boolean' },
} as const

/** The help text's section on connection flags. */
export const CONNECTION_HELP = `Connection (every command):
  -b, --bootstrap HOST:PORT[,...]   brokers to start from (required, here or in the config file)
  --sasl-mechanism M                PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
  --sasl-username U                 SASL user
  --sasl-password P                 SASL password (or env SKIFF_SASL_PASSWORD; keeps it out of ps and history)
  --tls                             connect with TLS (implied by --ca, --cert, --tls-key)
  --ca FILE, --tls-ca FILE          PEM of the CA(s) to trust instead of the system's
  --cert FILE, --tls-cert FILE      PEM client certificate (mutual TLS)
  --tls-key FILE                    PEM key of the client certificate
  --client-id ID                    client.id the brokers log (default skiff-cli)
  --timeout DURATION                connect and request timeout: ms, or 10s, 2m (default 10s connect, 30s requests)
  --config FILE                     JSON file with any of these keys (bootstrap, sasl-mechanism, sasl-username,
                                    sasl-password, tls, ca, cert, key, client-id, timeout); env SKIFF_CONFIG
                                    names one too. Flags win over the file.
  --debug                           stack traces and causes on errors`

/** Keys a config file may hold: the flag names (with `key` for the TLS key). */
const CONFIG_KEYS = [
  'bootstrap',
  'sasl-mechanism',
  'sasl-username',
  'sasl-password',
  'tls',
  'ca',
  'cert',
  'key',
  'client-id',
  'timeout',
] as const

type ConfigKey = (typeof CONFIG_KEYS)[number]
type FlagValues = Partial<Record<string, string | boolean | string[] | undefined>>

/** Where to connect and how, resolved from flags, environment and config file. */
export interface ResolvedConnection {
  client: ClientOptions
  /** The bootstrap as given, for messages. */
  bootstrap: string
  /** The --timeout, when given: also bounds admin calls. */
  timeoutMs: number | undefined
}

const SASL = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const

/**
 * Resolves the connection flags. Precedence: flags, then the environment (SKIFF_SASL_PASSWORD), then the config
 * file (--config, else SKIFF_CONFIG). File paths in a config file are relative to the file.
 */
export function resolveConnection(values: FlagValues, env: NodeJS.ProcessEnv = process.env): ResolvedConnection {
  const configPath = str(values.config) ?? (env.SKIFF_CONFIG || undefined)
  const file = configPath === undefined ? {} : readConfigFile(configPath, values.config === undefined)
  const fileDir = configPath === undefined ? process.cwd() : dirname(resolve(configPath))
  const fromFile = (k: ConfigKey): string | undefined => {
    const v = file[k]
    if (v === undefined || v === null) return undefined
    if (Array.isArray(v) && k === 'bootstrap') return v.join(',')
    return String(v)
  }

  const bootstrap = str(values.bootstrap) ?? fromFile('bootstrap')
  if (!bootstrap)
    throw new UsageError('no brokers given: pass -b host:port (or "bootstrap" in a --config file / SKIFF_CONFIG)')

  const client: ClientOptions = {
    bootstrap,
    clientId: str(values['client-id']) ?? fromFile('client-id') ?? 'skiff-cli',
  }

  const timeoutText = str(values.timeout) ?? fromFile('timeout')
  const timeoutMs = timeoutText === undefined ? undefined : parseDuration(timeoutText, '--timeout')
  if (timeoutMs !== undefined) {
    client.connectTimeoutMs = timeoutMs
    client.requestTimeoutMs = timeoutMs
  }

  const mechanismText = str(values['sasl-mechanism']) ?? fromFile('sasl-mechanism')
  const username = str(values['sasl-username']) ?? fromFile('sasl-username')
  const password = str(values['sasl-password']) ?? (env.SKIFF_SASL_PASSWORD || undefined) ?? fromFile('sasl-password')
  if (mechanismText !== undefined) {
    const mechanism = mechanismText.toUpperCase()
    if (!(SASL as readonly string[]).includes(mechanism))
      throw new UsageError(
        `unknown --sasl-mechanism ${JSON.stringify(mechanismText)}: the CLI speaks ${SASL.join(', ')} (OAUTHBEARER needs the library's token provider)`,
      )
    if (username === undefined) throw new UsageError(`--sasl-mechanism ${mechanism} needs --sasl-username`)
    if (password === undefined)
      throw new UsageError(`--sasl-mechanism ${mechanism} needs a password: --sasl-password or env SKIFF_SASL_PASSWORD`)
    client.sasl = { mechanism: mechanism as (typeof SASL)[number], username, password }
  } else if (username !== undefined) {
    throw new UsageError(`--sasl-username needs --sasl-mechanism (${SASL.join(', ')})`)
  }

  const ca = str(values.ca) ?? str(values['tls-ca'])
  const cert = str(values.cert) ?? str(values['tls-cert'])
  const key = str(values['tls-key'])
  const tlsFlag = values.tls === true || file.tls === true || file.tls === 'true'
  const tls: TlsOptions = {}
  const pem = (flagValue: string | undefined, k: ConfigKey, flag: string) => {
    if (flagValue !== undefined) return readPem(flagValue, flag, process.cwd())
    const v = fromFile(k)
    return v === undefined ? undefined : readPem(v, `"${k}" in ${configPath}`, fileDir)
  }
  const caPem = pem(ca, 'ca', '--ca')
  const certPem = pem(cert, 'cert', '--cert')
  const keyPem = pem(key, 'key', '--tls-key')
  if (caPem !== undefined) tls.ca = caPem
  if (certPem !== undefined) tls.cert = certPem
  if (keyPem !== undefined) tls.key = keyPem
  if ((certPem === undefined) !== (keyPem === undefined))
    throw new UsageError('mutual TLS needs both --cert and --tls-key')
  if (tlsFlag || Object.keys(tls).length > 0) client.tls = Object.keys(tls).length > 0 ? tls : true

  return { client, bootstrap, timeoutMs }
}

function str(v: string | boolean | string[] | undefined): string | undefined {
  if (Array.isArray(v)) return v[v.length - 1]
  return typeof v === 'string' ? v : undefined
}

function readConfigFile(path: string, fromEnv: boolean): Partial<Record<ConfigKey, unknown>> {
  const where = fromEnv ? `SKIFF_CONFIG file ${path}` : `--config file ${path}`
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new UsageError(`cannot read ${where}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`${where} is not JSON: ${(err as Error).message}`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new UsageError(`${where} must hold a JSON object such as {"bootstrap": "host:9092"}`)
  const unknown = Object.keys(parsed).filter((k) => !(CONFIG_KEYS as readonly string[]).includes(k))
  if (unknown.length > 0)
    throw new UsageError(
      `${where} has unknown key ${JSON.stringify(unknown[0])}; known keys: ${CONFIG_KEYS.join(', ')}`,
    )
  return parsed as Partial<Record<ConfigKey, unknown>>
}

/** A PEM given inline (it starts with -----BEGIN) or as a file path. */
function readPem(value: string, what: string, base: string): string {
  if (value.trimStart().startsWith('-----BEGIN')) return value
  const path = isAbsolute(value) ? value : resolve(base, value)
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new UsageError(
      `cannot read ${what} ${value}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    )
  }
}

/**
 * A Cluster that has answered one Metadata request (for `topics`, so their partitions are known), or a
 * ConnectFailure saying which address failed how: each bootstrap address is then tried on its own to find out
 * (refused, unknown host, no answer, not Kafka, TLS or SASL trouble).
 */
export async function openCluster(conn: ResolvedConnection, topics: readonly string[] = []): Promise<Cluster> {
  const cluster = new Cluster(conn.client)
  try {
    await cluster.metadata.refresh(topics)
    return cluster
  } catch (err) {
    await cluster.close().catch(() => {})
    if (err instanceof ConnectionError) throw await diagnose(conn, err)
    throw toCliError(err)
  }
}

async function diagnose(conn: ResolvedConnection, original: ConnectionError): Promise<Error> {
  const addresses = conn.bootstrap
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const findings: Array<{ address: string; finding: string }> = []
  for (const address of addresses) {
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address)
    if (!m) continue
    try {
      const c = await Connection.connect({
        host: m[1]!,
        port: Number(m[2]),
        clientId: conn.client.clientId,
        tls: conn.client.tls,
        sasl: conn.client.sasl,
        connectTimeoutMs: conn.client.connectTimeoutMs ?? 10_000,
        requestTimeoutMs: conn.client.requestTimeoutMs ?? 30_000,
      })
      try {
        // ApiVersions is answered before authentication; Metadata is what a listener needing SASL refuses.
        await c.request(Metadata, { topics: [], allowAutoTopicCreation: false })
        findings.push({ address, finding: 'answered on a second try' })
      } finally {
        await c.close()
      }
    } catch (err) {
      if (err instanceof SaslAuthenticationError) return toCliError(err)
      findings.push({ address, finding: explainConnectError(err, conn) })
    }
  }
  const detail =
    findings.length === 0
      ? oneLine(original.message)
      : findings.length === 1
        ? findings[0]!.finding
        : findings.map((f) => `${f.address}: ${f.finding}`).join('; ')
  const hint = /tls|sasl|http|kafka/i.test(detail) ? '' : '; check -b and that the broker is running'
  return new ConnectFailure(`cannot reach Kafka at ${conn.bootstrap}: ${detail}${hint}`, original)
}

/** What a failed connection attempt means, in a few words. */
export function explainConnectError(err: unknown, conn?: ResolvedConnection): string {
  const e = err as Error & { cause?: NodeJS.ErrnoException }
  const code = e.cause?.code ?? (e as NodeJS.ErrnoException).code
  const message = e?.message ?? String(err)
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused'
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unknown host'
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable'
    case 'ECONNRESET':
      return conn?.client.tls
        ? 'connection reset by the broker (is this a TLS listener? try without --tls)'
        : 'connection reset by the broker'
  }
  if (/no connection within (\d+) ms/.test(message)) return `no answer within ${/within (\d+) ms/.exec(message)![1]} ms`
  // A Kafka frame starts with its length: "HTTP" read as an int32 is 1213486160.
  if (/frame of 1213486160 bytes/.test(message)) return 'answered with HTTP, not the Kafka protocol (wrong port?)'
  if (/frame of \d+ bytes exceeds/.test(message) && !conn?.client.tls)
    return 'answered with something that is not Kafka (a TLS listener? try --tls)'
  if (/closed by the broker/.test(message)) {
    if (conn?.client.sasl === undefined && !conn?.client.tls)
      return 'the broker closed the connection (does this listener need --tls or --sasl-mechanism?)'
    return 'the broker closed the connection (check --tls and the SASL flags against the listener)'
  }
  if (code !== undefined && /^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED)/.test(code))
    return `TLS failed: ${oneLine(e.cause?.message ?? message)} (pass the broker's CA with --ca)`
  if (/wrong version number|SSL routines/i.test(message))
    return `TLS failed: ${oneLine(message)} (is this a TLS listener?)`
  return oneLine(message.replace(/ \(broker [^)]*\)$/, ''))
}

/** node:util parseArgs with the CLI's conventions: strict, `-o -10` allowed for the flags named in `negatable`. */
export function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(
  args: readonly string[],
  options: O,
  { positionals = false, negatable = [] as readonly string[] } = {},
): ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: true }>> {
  return parseArgs({
    args: joinNegativeValues(args, negatable),
    options,
    strict: true,
    allowPositionals: positionals as true,
  })
}
