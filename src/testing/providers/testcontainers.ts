import { HarnessError } from '../errors.js'
import { freePorts } from '../ports.js'
import { waitForBrokers } from '../ready.js'
import type { KafkaCluster, ListenerInfo, ListenerKind, StartKafkaOptions, TestBroker } from '../types.js'

/**
 * The same cluster on the official `apache/kafka` image, for machines with a Docker engine. The image turns
 * `KAFKA_*` environment variables into server.properties entries. Each client listener binds the same port inside
 * and outside the container so the advertised address needs no rewriting after start.
 *
 * testcontainers is imported lazily: it is an optional peer, and only 11.x imports cleanly on Node 20.
 * Supported listeners here: plaintext and sasl (PLAIN). SCRAM users and TLS need storage-format and keystore steps
 * that only the jvm provider performs.
 */
export async function startContainerKafka(
  options: Required<Pick<StartKafkaOptions, 'version' | 'brokers' | 'listeners' | 'timeoutMs'>> & StartKafkaOptions,
): Promise<KafkaCluster> {
  const unsupported = options.listeners.filter((l) => l !== 'plaintext' && l !== 'sasl')
  if (unsupported.length > 0) {
    throw new HarnessError(
      `the testcontainers provider supports plaintext and sasl listeners, not ${unsupported.join(', ')}; use provider 'jvm'`,
    )
  }
  let tc: typeof import('testcontainers')
  try {
    tc = await import('testcontainers')
  } catch (err) {
    throw new HarnessError('the testcontainers provider needs the `testcontainers` package (11.x on Node 20)', err)
  }
  const { GenericContainer, Network, Wait, getContainerRuntimeClient } = tc
  const host = (await getContainerRuntimeClient()).info.containerRuntime.host
  const count = options.brokers
  const saslUsers = options.saslUsers ?? [{ username: 'skiff', password: 'skiff-secret' }]
  const clusterId = 'c2tpZmYtdGVzdC1jbHVzdGVy' // any 16-byte base64url id; fixed, since every container needs it
  const network = await new Network().start()
  const ports = await freePorts(count * options.listeners.length)
  const names = { plaintext: 'CLIENT', sasl: 'CLIENT_SASL' } as const
  const nodes = Array.from({ length: count }, (_, i) => {
    const clientPorts: Partial<Record<ListenerKind, number>> = {}
    for (const kind of options.listeners) clientPorts[kind] = ports.pop()!
    return { nodeId: i + 1, alias: `kafka-${i + 1}`, clientPorts }
  })
  const voters = nodes.map((n) => `${n.nodeId}@${n.alias}:9093`).join(',')
  const rf = String(Math.min(3, count))

  const containers = await Promise.all(
    nodes.map((n) => {
      const listeners = ['INTERNAL://0.0.0.0:19092', 'CONTROLLER://0.0.0.0:9093']
      const advertised = [`INTERNAL://${n.alias}:19092`]
      const protocols = ['INTERNAL:PLAINTEXT', 'CONTROLLER:PLAINTEXT']
      for (const [kind, port] of Object.entries(n.clientPorts) as Array<[keyof typeof names, number]>) {
        listeners.push(`${names[kind]}://0.0.0.0:${port}`)
        advertised.push(`${names[kind]}://${host}:${port}`)
        protocols.push(`${names[kind]}:${kind === 'sasl' ? 'SASL_PLAINTEXT' : 'PLAINTEXT'}`)
      }
      const env: Record<string, string> = {
        CLUSTER_ID: clusterId,
        KAFKA_NODE_ID: String(n.nodeId),
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_CONTROLLER_QUORUM_VOTERS: voters,
        KAFKA_LISTENERS: listeners.join(','),
        KAFKA_ADVERTISED_LISTENERS: advertised.join(','),
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: protocols.join(','),
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_INTER_BROKER_LISTENER_NAME: 'INTERNAL',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: rf,
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: rf,
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: String(Math.min(2, count)),
        KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: rf,
        KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: String(Math.min(2, count)),
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        KAFKA_GROUP_CONSUMER_MIN_SESSION_TIMEOUT_MS: '3000',
        KAFKA_GROUP_CONSUMER_SESSION_TIMEOUT_MS: '10000',
        KAFKA_BROKER_SESSION_TIMEOUT_MS: '3000',
        KAFKA_BROKER_HEARTBEAT_INTERVAL_MS: '500',
      }
      if (n.clientPorts.sasl !== undefined) {
        env.KAFKA_SASL_ENABLED_MECHANISMS = 'PLAIN'
        env.KAFKA_LISTENER_NAME_CLIENT_SASL_PLAIN_SASL_JAAS_CONFIG = `org.apache.kafka.common.security.plain.PlainLoginModule required ${saslUsers
          .map((u) => `user_${u.username}="${u.password}"`)
          .join(' ')};`
      }
      for (const [k, v] of Object.entries(options.serverProperties ?? {})) {
        env[`KAFKA_${k.toUpperCase().replace(/\./g, '_')}`] = String(v)
      }
      return new GenericContainer(`apache/kafka:${options.version}`)
        .withNetwork(network)
        .withNetworkAliases(n.alias)
        .withEnvironment(env)
        .withExposedPorts(...Object.values(n.clientPorts).map((p) => ({ container: p, host: p })))
        .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
        .withStartupTimeout(options.timeoutMs)
        .start()
    }),
  )

  const listenerInfo: Partial<Record<ListenerKind, ListenerInfo>> = {}
  for (const kind of options.listeners) {
    const brokers = nodes.map((n) => `${host}:${n.clientPorts[kind]}`)
    listenerInfo[kind] = {
      bootstrap: brokers.join(','),
      brokers,
      securityProtocol: kind === 'sasl' ? 'SASL_PLAINTEXT' : 'PLAINTEXT',
    }
  }
  const brokers: TestBroker[] = nodes.map((n) => ({ nodeId: n.nodeId, ports: n.clientPorts, running: true }))
  const byId = (id: number) => {
    const i = nodes.findIndex((n) => n.nodeId === id)
    if (i < 0) throw new HarnessError(`no broker with node id ${id}`)
    return i
  }
  let stopped = false
  const cluster: KafkaCluster = {
    provider: 'testcontainers',
    version: options.version,
    clusterId,
    bootstrap: Object.values(listenerInfo)[0]!.bootstrap,
    listeners: listenerInfo,
    brokers,
    saslUsers,
    async stopBroker(id) {
      await containers[byId(id)]!.stop({ remove: false, timeout: 30_000 })
      brokers[byId(id)]!.running = false
    },
    async killBroker(id) {
      await containers[byId(id)]!.stop({ remove: false, timeout: 0 })
      brokers[byId(id)]!.running = false
    },
    async restartBroker(id, o = {}) {
      await containers[byId(id)]!.restart()
      brokers[byId(id)]!.running = true
      if (options.listeners.includes('plaintext')) {
        const targets = nodes
          .filter((_, i) => brokers[i]!.running)
          .map((n) => ({ host, port: n.clientPorts.plaintext!, nodeId: n.nodeId }))
        await waitForBrokers(
          targets,
          targets.map((t) => t.nodeId),
          o.timeoutMs ?? 90_000,
          o.signal,
        )
      }
    },
    async stop() {
      if (stopped) return
      stopped = true
      await Promise.all(containers.map((c) => c.stop().catch(() => {})))
      await network.stop().catch(() => {})
    },
    [Symbol.asyncDispose]() {
      return this.stop()
    },
  }
  if (options.listeners.includes('plaintext')) {
    const targets = nodes.map((n) => ({ host, port: n.clientPorts.plaintext!, nodeId: n.nodeId }))
    await waitForBrokers(
      targets,
      targets.map((t) => t.nodeId),
      options.timeoutMs,
      options.signal,
    )
  }
  return cluster
}
