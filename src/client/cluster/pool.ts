import { setTimeout as sleep } from 'node:timers/promises'
import { raceAbort } from '../abort.js'
import { Connection } from '../connection.js'
import { AbortedError, ConnectionError } from '../errors.js'
import { backoffMs } from './backoff.js'
import type { BrokerAddress, ResolvedClientOptions } from './options.js'

/**
 * Which traffic a connection carries. Each kind gets its own connection per broker, so a long-polling fetch cannot
 * hold up a produce, and neither can delay a group heartbeat (as the Java client and franz-go separate them).
 * `fetch:<name>` gives an independent reader its own fetch connections: a broker answers one request per connection
 * at a time, so two readers' long polls on one connection would wait for each other.
 */
export type ConnectionKind = 'produce' | 'fetch' | 'group' | 'admin' | 'metadata' | `fetch:${string}`

interface Slot {
  conn?: Connection
  connecting?: Promise<Connection>
}

interface Failures {
  attempts: number
  nextAttemptAt: number
}

/**
 * Connections per broker and kind, opened on demand, reused while open, dropped when they close. A broker that
 * refused or dropped us is retried only after an exponential backoff with jitter; callers that ask sooner wait for
 * it (within their own signal).
 */
export class ConnectionPool {
  private readonly slots = new Map<string, Slot>()
  private readonly failures = new Map<string, Failures>()
  private closed = false

  constructor(private readonly options: ResolvedClientOptions) {}

  /** An open connection of `kind` to the broker at `address` (`nodeId` only names it in the pool). */
  async get(address: BrokerAddress, kind: ConnectionKind, signal?: AbortSignal): Promise<Connection> {
    if (this.closed) throw new ConnectionError('the client is closed', `${address.host}:${address.port}`)
    const key = `${address.host}:${address.port}/${kind}`
    let slot = this.slots.get(key)
    if (!slot) {
      slot = {}
      this.slots.set(key, slot)
    }
    if (slot.conn && !slot.conn.isClosed) return slot.conn
    if (!slot.connecting) {
      const s = slot
      // Shared by every caller, so not tied to any one caller's signal: each races its own (below).
      s.connecting = this.open(address).then(
        (conn) => {
          s.conn = conn
          s.connecting = undefined
          conn.once('close', () => {
            if (s.conn === conn) s.conn = undefined
          })
          if (this.closed) conn.destroy()
          return conn
        },
        (err) => {
          s.connecting = undefined
          throw err
        },
      )
    }
    const connecting = slot.connecting!
    return signal ? raceAbort(connecting, signal, `connecting to ${key}`) : connecting
  }

  /** Tries each address in turn (starting at a random one) until one connects: bootstrap failover. */
  async getAny(addresses: readonly BrokerAddress[], kind: ConnectionKind, signal?: AbortSignal): Promise<Connection> {
    // Prefer a broker we already have a connection to, then ones not backing off, then the rest.
    const open = addresses.find((a) => this.slots.get(`${a.host}:${a.port}/${kind}`)?.conn?.isClosed === false)
    if (open) return this.get(open, kind, signal)
    const start = Math.floor(Math.random() * addresses.length)
    const ordered = addresses.map((_, i) => addresses[(start + i) % addresses.length]!)
    ordered.sort((a, b) => this.waitFor(a) - this.waitFor(b))
    const errors: string[] = []
    for (const a of ordered) {
      try {
        return await this.get(a, kind, signal)
      } catch (err) {
        if (signal?.aborted) throw err
        errors.push(`${a.host}:${a.port}: ${(err as Error).message}`)
      }
    }
    throw new ConnectionError(
      `no broker answered (tried ${ordered.length}: ${errors.join('; ')})`,
      ordered.map((a) => `${a.host}:${a.port}`).join(','),
    )
  }

  /** Milliseconds until `address` may be tried again (0 when it may now). */
  waitFor(address: BrokerAddress): number {
    const f = this.failures.get(`${address.host}:${address.port}`)
    return f ? Math.max(0, f.nextAttemptAt - Date.now()) : 0
  }

  private async open(address: BrokerAddress): Promise<Connection> {
    const broker = `${address.host}:${address.port}`
    const wait = this.waitFor(address)
    if (wait > 0) await sleep(wait, undefined, { ref: false })
    const o = this.options
    try {
      const conn = await Connection.connect({
        host: address.host,
        port: address.port,
        clientId: o.clientId,
        tls: o.tls,
        sasl: o.sasl,
        connectTimeoutMs: o.connectTimeoutMs,
        requestTimeoutMs: o.requestTimeoutMs,
        maxInFlight: o.maxInFlight,
        maxResponseBytes: o.maxResponseBytes,
      })
      this.failures.delete(broker)
      conn.once('close', (err?: Error) => {
        // A broker that drops us is backed off like one that refused us, unless we closed it ourselves.
        if (err && !/closed by the client/.test(err.message)) this.noteFailure(broker)
      })
      return conn
    } catch (err) {
      if (!(err instanceof AbortedError)) this.noteFailure(broker)
      throw err
    }
  }

  private noteFailure(broker: string): void {
    const f = this.failures.get(broker) ?? { attempts: 0, nextAttemptAt: 0 }
    f.nextAttemptAt =
      Date.now() + backoffMs(f.attempts, this.options.reconnectBackoffMs, this.options.reconnectBackoffMaxMs)
    f.attempts++
    this.failures.set(broker, f)
  }

  /** Connections currently open, by `host:port/kind` (for diagnostics and tests). */
  openConnections(): string[] {
    return [...this.slots].filter(([, s]) => s.conn && !s.conn.isClosed).map(([k]) => k)
  }

  async close(): Promise<void> {
    this.closed = true
    const closing: Promise<void>[] = []
    for (const slot of this.slots.values()) {
      if (slot.conn) closing.push(slot.conn.close())
      if (slot.connecting) closing.push(slot.connecting.then((c) => c.close()).catch(() => {}))
    }
    this.slots.clear()
    await Promise.all(closing)
  }
}
