import { dockerEngineAnswers } from './docker.js'
import { HarnessError } from './errors.js'
import { startJvmKafka } from './jvm/provider.js'
import type { KafkaCluster, ListenerKind, StartKafkaOptions } from './types.js'

/** The Kafka version test clusters run unless told otherwise: the newest 4.x that resolves from Maven Central. */
export const DEFAULT_KAFKA_VERSION = '4.4.0'

const LISTENER_KINDS: readonly ListenerKind[] = ['plaintext', 'sasl', 'tls', 'sasl_tls']

/**
 * Starts a real Apache Kafka cluster (KRaft) for tests, demos and benchmarks, and resolves once every broker serves.
 *
 * ```ts
 * import { startKafka } from 'skiff/testing'
 * const kafka = await startKafka({ brokers: 1 })
 * // ... connect to kafka.bootstrap ...
 * await kafka.stop()
 * ```
 *
 * Provider `jvm` resolves the broker's jars from Maven Central with Maven (once, into `~/.cache/skiff/kafka`) and
 * runs them with the local `java`; provider `testcontainers` runs the `apache/kafka` image and is chosen when a
 * Docker engine answers. Brokers left running when the process exits, crashes or is killed are stopped and their
 * data removed.
 */
export async function startKafka(options: StartKafkaOptions = {}): Promise<KafkaCluster> {
  const version = options.version ?? process.env.SKIFF_KAFKA_VERSION ?? DEFAULT_KAFKA_VERSION
  const brokers = options.brokers ?? 1
  if (brokers !== 1 && brokers !== 3) throw new HarnessError(`brokers must be 1 or 3, got ${brokers}`)
  const listeners = options.listeners ?? ['plaintext']
  if (listeners.length === 0 || listeners.some((l) => !LISTENER_KINDS.includes(l))) {
    throw new HarnessError(`listeners must be a non-empty list of ${LISTENER_KINDS.join(', ')}`)
  }
  if (new Set(listeners).size !== listeners.length) throw new HarnessError('listeners must not repeat')
  const timeoutMs = options.timeoutMs ?? 180_000
  const requested = options.provider ?? (process.env.SKIFF_KAFKA_PROVIDER as 'jvm' | 'testcontainers' | undefined)
  if (requested !== undefined && requested !== 'jvm' && requested !== 'testcontainers') {
    throw new HarnessError(`unknown provider ${JSON.stringify(requested)}: use 'jvm' or 'testcontainers'`)
  }
  const provider = requested ?? ((await dockerEngineAnswers()) ? 'testcontainers' : 'jvm')
  const resolved = { ...options, version, brokers, listeners, timeoutMs } as const
  if (provider === 'testcontainers') {
    const { startContainerKafka } = await import('./providers/testcontainers.js')
    return startContainerKafka(resolved)
  }
  return startJvmKafka(resolved)
}
