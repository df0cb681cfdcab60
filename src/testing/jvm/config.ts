import type { ListenerKind, SaslUser } from '../types.js'

/** Kafka's listener name and security protocol for each client listener kind. */
export const LISTENER_NAMES: Record<
  ListenerKind,
  { name: string; protocol: 'PLAINTEXT' | 'SASL_PLAINTEXT' | 'SSL' | 'SASL_SSL' }
> = {
  plaintext: { name: 'CLIENT', protocol: 'PLAINTEXT' },
  sasl: { name: 'CLIENT_SASL', protocol: 'SASL_PLAINTEXT' },
  tls: { name: 'CLIENT_TLS', protocol: 'SSL' },
  sasl_tls: { name: 'CLIENT_SASL_TLS', protocol: 'SASL_SSL' },
}

export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const

export interface NodeConfig {
  nodeId: number
  dataDir: string
  /** Broker-to-broker listener (always PLAINTEXT), also used by the harness to check readiness. */
  internalPort: number
  controllerPort: number
  clientPorts: Partial<Record<ListenerKind, number>>
}

export interface ClusterConfig {
  nodes: NodeConfig[]
  saslUsers: SaslUser[]
  tls?: { keystore: string; password: string }
  overrides: Record<string, string | number | boolean>
}

const HOST = '127.0.0.1'

/**
 * server.properties for one combined broker+controller node of a test cluster: static KRaft voters (works the same
 * on 3.9 and 4.x, for one node and for three), small memory, and timeouts short enough for kill/rejoin tests.
 */
export function serverProperties(cluster: ClusterConfig, node: NodeConfig): string {
  const n = cluster.nodes.length
  const rf = Math.min(3, n)
  const listeners: string[] = [`INTERNAL://${HOST}:${node.internalPort}`, `CONTROLLER://${HOST}:${node.controllerPort}`]
  const advertised: string[] = [`INTERNAL://${HOST}:${node.internalPort}`]
  const protocolMap: string[] = ['INTERNAL:PLAINTEXT', 'CONTROLLER:PLAINTEXT']
  let sasl = false
  let tls = false
  for (const [kind, port] of Object.entries(node.clientPorts) as Array<[ListenerKind, number]>) {
    const l = LISTENER_NAMES[kind]
    listeners.push(`${l.name}://${HOST}:${port}`)
    advertised.push(`${l.name}://${HOST}:${port}`)
    protocolMap.push(`${l.name}:${l.protocol}`)
    if (kind === 'sasl' || kind === 'sasl_tls') sasl = true
    if (kind === 'tls' || kind === 'sasl_tls') tls = true
  }

  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': node.nodeId,
    'controller.quorum.voters': cluster.nodes.map((c) => `${c.nodeId}@${HOST}:${c.controllerPort}`).join(','),
    listeners: listeners.join(','),
    'advertised.listeners': advertised.join(','),
    'listener.security.protocol.map': protocolMap.join(','),
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'INTERNAL',
    'log.dirs': node.dataDir,

    // Small footprint: the machine has 2 cores shared with the tests.
    'num.network.threads': 2,
    'num.io.threads': 4,
    'num.recovery.threads.per.data.dir': 1,
    'background.threads': 4,
    // The cleaner requires > 1 MiB per cleaner thread; the 128 MiB default is wasted on tests.
    'log.cleaner.dedupe.buffer.size': 2 * 1024 * 1024 + 1,
    'log.cleaner.threads': 1,
    'offsets.topic.num.partitions': 5,
    'offsets.topic.replication.factor': rf,
    'transaction.state.log.num.partitions': 5,
    'transaction.state.log.replication.factor': rf,
    'transaction.state.log.min.isr': Math.min(2, rf),
    'share.coordinator.state.topic.num.partitions': 3,
    'share.coordinator.state.topic.replication.factor': rf,
    'share.coordinator.state.topic.min.isr': Math.min(2, rf),
    'num.partitions': 1,
    'default.replication.factor': 1,

    // Test timeouts. Classic groups: no initial rebalance delay, 1 s minimum session.
    'group.initial.rebalance.delay.ms': 0,
    'group.min.session.timeout.ms': 1000,
    // KIP-848 groups: the broker's minimum session timeout is 45 s by default; tests kill members.
    'group.consumer.min.session.timeout.ms': 3000,
    'group.consumer.session.timeout.ms': 10000,
    'group.consumer.min.heartbeat.interval.ms': 500,
    'group.consumer.heartbeat.interval.ms': 1000,
    // KRaft fences a broker that misses heartbeats for broker.session.timeout.ms (9 s by default).
    'broker.heartbeat.interval.ms': 500,
    'broker.session.timeout.ms': 3000,
    // Faster failover of partition leadership and controller elections on a loopback cluster.
    'controller.quorum.election.timeout.ms': 1000,
    'controller.quorum.fetch.timeout.ms': 2000,
    'replica.lag.time.max.ms': 5000,
    'controlled.shutdown.enable': true,
  }

  if (sasl) {
    props['sasl.enabled.mechanisms'] = SASL_MECHANISMS.join(',')
    for (const kind of ['sasl', 'sasl_tls'] as const) {
      if (node.clientPorts[kind] === undefined) continue
      const prefix = `listener.name.${LISTENER_NAMES[kind].name.toLowerCase()}`
      const plainUsers = cluster.saslUsers.map((u) => `user_${u.username}=${jaasQuote(u.password)}`).join(' ')
      props[`${prefix}.plain.sasl.jaas.config`] =
        `org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`
      props[`${prefix}.scram-sha-256.sasl.jaas.config`] =
        'org.apache.kafka.common.security.scram.ScramLoginModule required;'
      props[`${prefix}.scram-sha-512.sasl.jaas.config`] =
        'org.apache.kafka.common.security.scram.ScramLoginModule required;'
      // OAUTHBEARER with Kafka's unsecured (test-only) token validator: any unsigned JWS with a `sub` claim.
      props[`${prefix}.oauthbearer.sasl.jaas.config`] =
        'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="skiff";'
    }
  }
  if (tls && cluster.tls) {
    props['ssl.keystore.type'] = 'PKCS12'
    props['ssl.keystore.location'] = cluster.tls.keystore
    props['ssl.keystore.password'] = cluster.tls.password
    props['ssl.key.password'] = cluster.tls.password
    props['ssl.client.auth'] = 'none'
  }
  Object.assign(props, cluster.overrides)
  return `${Object.entries(props)
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`)
    .join('\n')}\n`
}

function jaasQuote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

/** Escapes a value for a Java .properties file (backslashes; leading whitespace). */
function escapeProperty(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/^\s/, (m) => `\\${m}`)
}

/** Quiet logging: warnings and errors, plus the line that says the server started. */
export function log4j2Config(): string {
  return [
    'status = error',
    'appender.out.type = Console',
    'appender.out.name = OUT',
    'appender.out.layout.type = PatternLayout',
    'appender.out.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = WARN',
    'rootLogger.appenderRef.out.ref = OUT',
    'logger.started.name = kafka.server.KafkaRaftServer',
    'logger.started.level = INFO',
    '',
  ].join('\n')
}

/** Kafka 3.9 logs through reload4j (log4j 1 syntax). */
export function log4jConfig(): string {
  return [
    'log4j.rootLogger=WARN, stdout',
    'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
    'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
    'log4j.logger.kafka.server.KafkaRaftServer=INFO',
    '',
  ].join('\n')
}
