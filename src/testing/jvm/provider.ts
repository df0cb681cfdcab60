import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HarnessError } from '../errors.js'
import { freePorts } from '../ports.js'
import { waitForBrokers } from '../ready.js'
import type { KafkaCluster, ListenerInfo, ListenerKind, SaslUser, StartKafkaOptions, TestBroker } from '../types.js'
import {
  type ClusterConfig,
  LISTENER_NAMES,
  log4j2Config,
  log4jConfig,
  type NodeConfig,
  serverProperties,
} from './config.js'
import { isKafka3, resolveKafka } from './maven.js'
import { JvmProcess, runJava } from './process.js'
import { generateTlsKeystore } from './tls.js'

const HOST = '127.0.0.1'
const live = new Set<JvmCluster>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  // Runs on normal exit and after uncaught exceptions; SIGKILL is covered by the guardian (see process.ts).
  process.on('exit', () => {
    for (const c of live) c.killNowSync()
  })
}

function javaBinary(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java'
}

/** A Kafka cluster-id: 16 random bytes as URL-safe base64, not starting with '-' (which Kafka's tools reject). */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

interface NodeState {
  config: NodeConfig
  propsFile: string
  logFile: string
  process: JvmProcess | undefined
}

class JvmCluster implements KafkaCluster {
  readonly provider = 'jvm' as const
  readonly listeners: Partial<Record<ListenerKind, ListenerInfo>> = {}
  readonly brokers: TestBroker[] = []
  tlsCa?: string
  private stopped = false

  constructor(
    readonly version: string,
    readonly clusterId: string,
    readonly classpath: string,
    readonly saslUsers: readonly SaslUser[],
    private readonly dir: string,
    private readonly nodes: NodeState[],
    private readonly jvmArgs: string[],
    listenerKinds: ListenerKind[],
  ) {
    for (const kind of listenerKinds) {
      const addrs = nodes.map((n) => `${HOST}:${n.config.clientPorts[kind]}`)
      this.listeners[kind] = {
        bootstrap: addrs.join(','),
        brokers: addrs,
        securityProtocol: LISTENER_NAMES[kind].protocol,
      }
    }
    for (const n of nodes) {
      this.brokers.push({
        nodeId: n.config.nodeId,
        ports: { ...n.config.clientPorts },
        running: false,
        logFile: n.logFile,
      })
    }
  }

  get bootstrap(): string {
    const first = Object.values(this.listeners)[0]
    return first ? first.bootstrap : ''
  }

  private node(nodeId: number): NodeState {
    const n = this.nodes.find((x) => x.config.nodeId === nodeId)
    if (!n)
      throw new HarnessError(
        `no broker with node id ${nodeId}; the cluster has ${this.nodes.map((x) => x.config.nodeId).join(', ')}`,
      )
    return n
  }

  private setRunning(nodeId: number, running: boolean): void {
    const b = this.brokers.find((x) => x.nodeId === nodeId)
    if (b) b.running = running
  }

  launch(n: NodeState): void {
    n.process = new JvmProcess({
      java: javaBinary(),
      args: [...this.jvmArgs, 'kafka.Kafka', n.propsFile],
      logFile: n.logFile,
      cleanupDir: this.dir,
    })
    this.setRunning(n.config.nodeId, true)
    void n.process.exited.then(() => this.setRunning(n.config.nodeId, false))
  }

  /** Waits until every running broker serves and sees all the running brokers in its metadata. */
  async waitReady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const running = this.nodes.filter((n) => n.process?.running)
    await waitForBrokers(
      running.map((n) => ({
        host: HOST,
        port: n.config.internalPort,
        nodeId: n.config.nodeId,
        failed: () => (n.process?.running ? undefined : `broker ${n.config.nodeId} exited:\n${n.process?.logTail()}`),
      })),
      running.map((n) => n.config.nodeId),
      timeoutMs,
      signal,
    )
  }

  async stopBroker(nodeId: number): Promise<void> {
    const n = this.node(nodeId)
    await n.process?.stop(30_000)
    this.setRunning(nodeId, false)
  }

  async killBroker(nodeId: number): Promise<void> {
    const n = this.node(nodeId)
    if (!n.process?.running) return
    await n.process.signal('SIGKILL')
    await n.process.exited
    this.setRunning(nodeId, false)
  }

  async restartBroker(nodeId: number, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    const n = this.node(nodeId)
    if (this.stopped) throw new HarnessError('the cluster has been stopped')
    if (n.process?.running) await this.stopBroker(nodeId)
    this.launch(n)
    await this.waitReady(options.timeoutMs ?? 90_000, options.signal)
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await Promise.all(this.nodes.map((n) => n.process?.stop(10_000)))
    for (const b of this.brokers) b.running = false
    live.delete(this)
    rmSync(this.dir, { recursive: true, force: true })
  }

  killNowSync(): void {
    for (const n of this.nodes) n.process?.killNow()
    try {
      rmSync(this.dir, { recursive: true, force: true })
    } catch {}
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop()
  }
}

/** Starts a KRaft cluster from Maven Central jars with the local `java`. */
export async function startJvmKafka(
  options: Required<Pick<StartKafkaOptions, 'version' | 'brokers' | 'listeners' | 'timeoutMs'>> & StartKafkaOptions,
): Promise<KafkaCluster> {
  const { version, brokers: count, listeners, signal } = options
  const deadline = Date.now() + options.timeoutMs
  const resolved = await resolveKafka(version, signal)
  const saslUsers = options.saslUsers ?? [{ username: 'skiff', password: 'skiff-secret' }]
  const dir = mkdtempSync(join(tmpdir(), 'skiff-kafka-'))
  installExitHook()
  let cluster: JvmCluster | undefined
  try {
    const ports = await freePorts(count * (2 + listeners.length))
    const nodes: NodeConfig[] = []
    for (let i = 0; i < count; i++) {
      const clientPorts: Partial<Record<ListenerKind, number>> = {}
      for (const kind of listeners) clientPorts[kind] = ports.pop()!
      const dataDir = join(dir, `node-${i + 1}`, 'data')
      mkdirSync(dataDir, { recursive: true })
      nodes.push({ nodeId: i + 1, dataDir, internalPort: ports.pop()!, controllerPort: ports.pop()!, clientPorts })
    }
    const needsTls = listeners.includes('tls') || listeners.includes('sasl_tls')
    const tls = needsTls ? await generateTlsKeystore(dir, javaBinary(), signal) : undefined
    const clusterConfig: ClusterConfig = {
      nodes,
      saslUsers,
      tls: tls && { keystore: tls.keystore, password: tls.password },
      overrides: options.serverProperties ?? {},
    }
    const kafka3 = isKafka3(version)
    const logConfig = join(dir, kafka3 ? 'log4j.properties' : 'log4j2.properties')
    writeFileSync(logConfig, kafka3 ? log4jConfig() : log4j2Config())
    const logArgs = kafka3 ? [`-Dlog4j.configuration=file:${logConfig}`] : [`-Dlog4j2.configurationFile=${logConfig}`]
    const heapMb = options.heapMb ?? (count === 1 ? 512 : 384)
    const jvmArgs = [
      `-Xms${Math.min(128, heapMb)}m`,
      `-Xmx${heapMb}m`,
      '-XX:+UseSerialGC',
      '-XX:MaxDirectMemorySize=256m',
      '-Djava.awt.headless=true',
      ...logArgs,
      '-cp',
      resolved.classpath,
    ]

    const clusterId = newClusterId()
    const states: NodeState[] = nodes.map((config) => {
      const nodeDir = join(dir, `node-${config.nodeId}`)
      const propsFile = join(nodeDir, 'server.properties')
      writeFileSync(propsFile, serverProperties(clusterConfig, config))
      return { config, propsFile, logFile: join(nodeDir, 'server.log'), process: undefined }
    })

    // Format every node's storage (in parallel: each is a short JVM; C1 only, since it runs for a second).
    const scram = saslUsers.flatMap((u) =>
      ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => [
        '--add-scram',
        `${m}=[name=${u.username},password=${u.password}]`,
      ]),
    )
    const needsScram = listeners.includes('sasl') || listeners.includes('sasl_tls')
    await Promise.all(
      states.map(async (s) => {
        const args = [
          '-XX:TieredStopAtLevel=1',
          ...jvmArgs.filter((a) => !a.startsWith('-Xms') && !a.startsWith('-Xmx')),
          '-Xmx256m',
          'kafka.tools.StorageTool',
          'format',
          '-t',
          clusterId,
          '-c',
          s.propsFile,
          ...(needsScram ? scram : []),
        ]
        const { code, output } = await runJava(javaBinary(), args, Math.max(1000, deadline - Date.now()), signal)
        if (code !== 0)
          throw new HarnessError(
            `formatting KRaft storage of broker ${s.config.nodeId} failed (exit ${code}):\n${output.slice(-3000)}`,
          )
      }),
    )

    cluster = new JvmCluster(version, clusterId, resolved.classpath, saslUsers, dir, states, jvmArgs, listeners)
    if (tls) cluster.tlsCa = readFileSync(tls.caPem, 'utf8')
    live.add(cluster)
    for (const s of states) cluster.launch(s)
    await cluster.waitReady(Math.max(1000, deadline - Date.now()), signal)
    return cluster
  } catch (err) {
    if (cluster) await cluster.stop().catch(() => {})
    else rmSync(dir, { recursive: true, force: true })
    throw err
  }
}
