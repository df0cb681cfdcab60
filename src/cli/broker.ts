// `skiff broker`: a local Kafka for trying things out, from the same harness the tests use. Prints the bootstrap
// address on stdout (so `B=$(skiff broker &)`-style scripting can read it), the rest on stderr; runs until Ctrl-C.
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_KAFKA_VERSION, type ListenerKind, startKafka } from '../testing/index.js'
import type { CliContext } from './context.js'
import { EXIT, type ExitCode, UsageError } from './errors.js'
import { COMMON_FLAGS, parseFlags } from './flags.js'
import { formatDuration } from './format.js'
import { parseChoice, parseCount, parseKeyValue } from './parse.js'

export const BROKER_HELP = `Usage: skiff broker [options]

Starts a local Apache Kafka (KRaft) with Skiff's test harness, prints its bootstrap address on stdout, and runs
until interrupted (Ctrl-C), then stops it and removes its data. Needs Java 17+ and Maven (the first start resolves
Kafka from Maven Central into ~/.cache/skiff/kafka), or Docker (the apache/kafka image).

Options:
  --version VERSION              Kafka version (default ${DEFAULT_KAFKA_VERSION}, or $SKIFF_KAFKA_VERSION)
  --listeners LIST               comma-separated: plaintext (default), sasl, tls, sasl_tls; the first one is the
                                 bootstrap printed on stdout
  --brokers 1|3                  one combined node (default) or a 3-node KRaft quorum
  --provider jvm|testcontainers  default: testcontainers when Docker answers, else jvm
  --set KEY=VALUE                a server.properties entry (repeatable), e.g. --set num.partitions=3

Examples:
  skiff broker
  skiff broker --version 3.9.2 --listeners plaintext,sasl
  skiff broker --set auto.create.topics.enable=true --set num.partitions=6`

const BROKER_FLAGS = {
  ...COMMON_FLAGS,
  version: { type: 'string' },
  listeners: { type: 'string' },
  brokers: { type: 'string' },
  provider: { type: 'string' },
  set: { type: 'string', multiple: true },
} as const

const LISTENERS = ['plaintext', 'sasl', 'tls', 'sasl_tls'] as const

export async function brokerCommand(args: readonly string[], ctx: CliContext): Promise<ExitCode> {
  const { values } = parseFlags(args, BROKER_FLAGS)
  if (values.help) {
    ctx.stdout.write(`${BROKER_HELP}\n`)
    return EXIT.ok
  }
  const listeners = (values.listeners ?? 'plaintext')
    .split(',')
    .map((l) => parseChoice(l.trim().toLowerCase(), '--listeners', LISTENERS)) as ListenerKind[]
  const brokers = values.brokers === undefined ? 1 : parseCount(values.brokers, '--brokers')
  if (brokers !== 1 && brokers !== 3) throw new UsageError('--brokers must be 1 or 3')
  const provider =
    values.provider === undefined
      ? undefined
      : parseChoice(values.provider, '--provider', ['jvm', 'testcontainers'] as const)
  const serverProperties = Object.fromEntries((values.set ?? []).map((s) => parseKeyValue(s, '--set')))

  ctx.handleInterrupt()
  const t0 = Date.now()
  ctx.info(`starting Kafka ${values.version ?? process.env.SKIFF_KAFKA_VERSION ?? DEFAULT_KAFKA_VERSION}...`)
  const kafka = await startKafka({
    version: values.version,
    brokers,
    listeners,
    serverProperties,
    provider,
    signal: ctx.interrupt,
  })
  try {
    ctx.stdout.write(`${kafka.bootstrap}\n`)
    ctx.info(
      `Kafka ${kafka.version} (${kafka.provider}) up in ${formatDuration(Date.now() - t0)}, cluster ${kafka.clusterId}`,
    )
    for (const [kind, l] of Object.entries(kafka.listeners))
      ctx.info(`  ${kind.padEnd(10)} ${l.bootstrap}  (${l.securityProtocol})`)
    if (listeners.some((l) => l.startsWith('sasl')))
      ctx.info(
        `  SASL users (PLAIN, SCRAM-SHA-256/512): ${kafka.saslUsers.map((u) => `${u.username}/${u.password}`).join(', ')}`,
      )
    if (kafka.tlsCa) {
      const caFile = join(tmpdir(), `skiff-broker-ca-${process.pid}.pem`)
      writeFileSync(caFile, kafka.tlsCa)
      ctx.info(`  TLS CA: ${caFile}  (pass it with --ca)`)
    }
    ctx.info('Ctrl-C stops it and removes its data')
    // The harness unrefs the broker's process and pipes so a test run can end without stopping it: without a handle
    // of our own, Node would find nothing left to wait for and exit (code 13, an unsettled top-level await).
    const keepAlive = setInterval(() => {}, 1 << 30)
    await new Promise<void>((resolve) => {
      if (ctx.interrupt.aborted) return resolve()
      ctx.interrupt.addEventListener('abort', () => resolve(), { once: true })
      process.once('SIGTERM', () => resolve())
    }).finally(() => clearInterval(keepAlive))
  } finally {
    ctx.info('stopping Kafka...')
    await kafka.stop()
  }
  return EXIT.ok
}
