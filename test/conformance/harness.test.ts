import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Connection } from '../../src/client/connection.js'
import { ConnectionError } from '../../src/client/errors.js'
import { Metadata } from '../../src/protocol/apis/metadata.js'
import { SaslHandshake } from '../../src/protocol/apis/sasl-handshake.js'
import { HarnessError, type KafkaCluster, startKafka } from '../../src/testing/index.js'
import { testKafka } from '../helpers/kafka.js'

const hostPort = (addr: string) => {
  const [host, port] = addr.split(':')
  return { host: host!, port: Number(port) }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('startKafka with SASL and TLS listeners', () => {
  let kafka: KafkaCluster
  beforeAll(async () => {
    kafka = await startKafka({ version: testKafka().version, listeners: ['plaintext', 'sasl', 'tls'] })
  })
  afterAll(async () => {
    await kafka?.stop()
  })

  test('each listener gets its own port and the plaintext one serves metadata', async () => {
    expect(Object.keys(kafka.listeners)).toEqual(['plaintext', 'sasl', 'tls'])
    expect(kafka.bootstrap).toBe(kafka.listeners.plaintext!.bootstrap)
    expect(kafka.listeners.sasl!.securityProtocol).toBe('SASL_PLAINTEXT')
    const conn = await Connection.connect(hostPort(kafka.bootstrap))
    const md = await conn.request(Metadata, { topics: [] })
    expect(md.clusterId).toBe(kafka.clusterId)
    expect(md.brokers).toEqual([
      expect.objectContaining({ nodeId: 1, host: '127.0.0.1', port: kafka.brokers[0]!.ports.plaintext }),
    ])
    await conn.close()
  })

  test('the SASL listener offers PLAIN, SCRAM and OAUTHBEARER', async () => {
    const conn = await Connection.connect({ ...hostPort(kafka.listeners.sasl!.bootstrap), handshake: true })
    const res = await conn.request(SaslHandshake, { mechanism: 'SCRAM-SHA-512' })
    expect(res.errorCode).toBe(0)
    expect(res.mechanisms.sort()).toEqual(['OAUTHBEARER', 'PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'])
    await conn.close()
  })

  test('the TLS listener serves the generated certificate, which clients can trust', async () => {
    expect(kafka.tlsCa).toMatch(/-----BEGIN CERTIFICATE-----/)
    const conn = await Connection.connect({ ...hostPort(kafka.listeners.tls!.bootstrap), tls: { ca: kafka.tlsCa } })
    const md = await conn.request(Metadata, { topics: [] })
    expect(md.brokers[0]!.port).toBe(kafka.brokers[0]!.ports.tls)
    await conn.close()
    // Without trusting it, the handshake fails with a typed error rather than hanging.
    await expect(Connection.connect({ ...hostPort(kafka.listeners.tls!.bootstrap), tls: true })).rejects.toBeInstanceOf(
      ConnectionError,
    )
  })
})

describe('startKafka validation', () => {
  test('bad options are refused before anything starts', async () => {
    await expect(startKafka({ brokers: 2 as 1 })).rejects.toThrow(HarnessError)
    await expect(startKafka({ listeners: [] })).rejects.toThrow(/non-empty/)
    await expect(startKafka({ version: 'latest' })).rejects.toThrow(/not a Kafka version/)
    await expect(startKafka({ provider: 'podman' as 'jvm' })).rejects.toThrow(/unknown provider/)
  })
})

describe('cleanup', () => {
  test('a test process killed with SIGKILL leaves no broker and no temp dir behind', async () => {
    const before = new Set(readdirSync(tmpdir()).filter((d) => d.startsWith('skiff-kafka-')))
    const scriptFile = join(tmpdir(), `skiff-harness-child-${process.pid}.mts`)
    writeFileSync(
      scriptFile,
      [
        `import { startKafka } from ${JSON.stringify(join(process.cwd(), 'src/testing/index.ts'))}`,
        `const k = await startKafka({ version: ${JSON.stringify(testKafka().version)} })`,
        'process.stdout.write(JSON.stringify({ bootstrap: k.bootstrap }) + "\\n")',
        'setInterval(() => {}, 1000)',
      ].join('\n'),
    )
    const child = spawn(process.execPath, ['--import', 'tsx', scriptFile], { stdio: ['ignore', 'pipe', 'inherit'] })
    try {
      let out = ''
      child.stdout.on('data', (d) => (out += d))
      for (let i = 0; i < 1200 && !out.includes('\n') && child.exitCode === null; i++) await sleep(100)
      const { bootstrap } = JSON.parse(out.split('\n')[0]!) as { bootstrap: string }
      const { port } = hostPort(bootstrap)
      // Only this child's broker: other test files (and other runs on a shared machine) start brokers meanwhile.
      const childJvm = descendants(child.pid!).filter((pid) => {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
        return argv[0]!.endsWith('java') && argv.includes('kafka.Kafka')
      })
      expect(childJvm).toHaveLength(1)
      const jvmArgv = readFileSync(`/proc/${childJvm[0]}/cmdline`, 'utf8')
      const created = newDirsIn(jvmArgv, before)
      expect(created.length).toBeGreaterThanOrEqual(1)
      const conn = await Connection.connect({ host: '127.0.0.1', port })
      await conn.close()

      child.kill('SIGKILL')
      for (let i = 0; i < 600 && (pidAlive(childJvm[0]!) || created.some((d) => existsSync(join(tmpdir(), d)))); i++) {
        await sleep(100)
      }
      expect(pidAlive(childJvm[0]!), 'broker JVM killed').toBe(false)
      expect(
        created.filter((d) => existsSync(join(tmpdir(), d))),
        'temp dirs removed',
      ).toEqual([])
      await expect(Connection.connect({ host: '127.0.0.1', port, connectTimeoutMs: 1000 })).rejects.toBeInstanceOf(
        ConnectionError,
      )
    } finally {
      child.kill('SIGKILL')
      rmSync(scriptFile, { force: true })
    }
  })
})

/** Every process below `pid` (children, grandchildren, ...), from /proc. */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      // pid (comm) state ppid ...; comm may contain spaces, so split after its closing parenthesis.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      parentOf.set(Number(entry), ppid)
    } catch {
      // the process ended while we looked
    }
  }
  const out: number[] = []
  const queue = [pid]
  while (queue.length > 0) {
    const p = queue.pop()!
    for (const [child, parent] of parentOf) {
      if (parent !== p) continue
      out.push(child)
      queue.push(child)
    }
  }
  return out
}

/** The skiff-kafka-* temp dirs a broker's command line names that did not exist before the test. */
function newDirsIn(cmdline: string, before: Set<string>): string[] {
  const names = new Set(cmdline.match(/skiff-kafka-[A-Za-z0-9]+/g) ?? [])
  return [...names].filter((d) => !before.has(d))
}
