import { Produce, type ProduceRequest, type ProduceResponse } from '../../protocol/apis/produce.js'
import type { Connection } from '../connection.js'
import { ConnectionError, RequestTimeoutError } from '../errors.js'
import type { PartitionQueue } from './accumulator.js'
import type { ProducerBatch } from './batch.js'
import type { Sender } from './sender.js'

/** A Produce request being assembled or on the wire. */
export interface OutRequest {
  batches: ProducerBatch[]
  /** How the response names each batch's topic: its name (v≤12) or id (v13+), set when written. */
  keys: string[]
  /** Topics named by id (Produce v13+). */
  byId: boolean
  /** Every batch is encoded (compression done). */
  ready: boolean
  encoding: Promise<void> | undefined
}

/**
 * The produce path to one broker: drains the ready batches of the partitions it leads into Produce requests of at
 * most `maxRequestBytes`, one batch per partition per request, keeps at most `maxInFlight` requests outstanding, and
 * writes them strictly in the order they were drained (so sequence numbers reach the broker in order even when some
 * batches are still being compressed). Responses go back to the {@link Sender}.
 */
export class Sink {
  private conn: Connection | undefined
  private connecting = false
  private inFlight = 0
  private readonly outbox: OutRequest[] = []
  private readonly wire = new Set<OutRequest>()
  private rr = 0

  constructor(
    readonly nodeId: number,
    private readonly sender: Sender,
  ) {}

  /** Requests written and awaiting their response, or waiting to be written. */
  get requests(): number {
    return this.inFlight + this.outbox.length
  }

  /** Every batch this sink holds (on the wire or about to be). */
  batches(): ProducerBatch[] {
    const out: ProducerBatch[] = []
    for (const r of this.outbox) out.push(...r.batches)
    for (const r of this.wire) out.push(...r.batches)
    return out
  }

  /** Sends what it can of the ready partitions `qs` (all led by this broker). */
  drain(qs: PartitionQueue[], now: number): void {
    const conn = this.conn
    if (conn === undefined || conn.isClosed) {
      this.conn = undefined
      this.connect()
      return
    }
    const max = this.sender.maxRequestsInFlight
    while (this.inFlight + this.outbox.length < max) {
      const batches = this.collect(qs, now)
      if (batches === undefined) break
      this.outbox.push({ batches, keys: [], byId: false, ready: false, encoding: undefined })
    }
    this.flushOutbox()
  }

  /** One request's worth of head batches, round-robin over the partitions so none is starved. */
  private collect(qs: PartitionQueue[], now: number): ProducerBatch[] | undefined {
    const s = this.sender
    const acc = s.accumulator
    const maxBytes = s.maxRequestBytes
    let out: ProducerBatch[] | undefined
    let bytes = 0
    const n = qs.length
    const start = this.rr++ % n
    for (let i = 0; i < n; i++) {
      const q = qs[(start + i) % n]!
      if (!acc.isReady(q, now)) continue
      const head = q.batches[0]!
      if (out !== undefined && bytes + head.sizeBytes > maxBytes) continue
      if (!s.mayDrain(q, head)) continue
      acc.take(q)
      s.drained(q, head, this.nodeId)
      if (out === undefined) out = [head]
      else out.push(head)
      bytes += head.sizeBytes
    }
    return out
  }

  private flushOutbox(): void {
    while (this.outbox.length > 0) {
      const req = this.outbox[0]!
      // Batches failed while waiting here (the producer was fenced or closed) are not sent.
      if (req.batches.some((b) => b.done)) req.batches = this.sender.dropDone(req.batches)
      if (!req.ready) {
        if (req.encoding) return
        const pending = this.encodeAll(req)
        if (pending) {
          req.encoding = pending.then(() => {
            req.ready = true
            req.encoding = undefined
            this.flushOutbox()
          })
          return
        }
        req.ready = true
      }
      this.outbox.shift()
      if (req.batches.length > 0) this.write(req)
    }
  }

  /** Encodes the request's batches; a promise when some are being compressed. Batches that fail are dropped. */
  private encodeAll(req: OutRequest): Promise<void> | undefined {
    let pending: Promise<unknown>[] | undefined
    let failed: Array<[ProducerBatch, unknown]> | undefined
    for (const b of req.batches) {
      try {
        const e = b.encode()
        if (e instanceof Promise) (pending ??= []).push(e.catch((err) => (failed ??= []).push([b, err])))
      } catch (err) {
        ;(failed ??= []).push([b, err])
      }
    }
    const settle = () => {
      if (!failed) return
      for (const [b, err] of failed) this.sender.encodeFailed(b, err)
      const bad = new Set(failed.map(([b]) => b))
      req.batches = req.batches.filter((b) => !bad.has(b))
    }
    if (!pending) {
      settle()
      return undefined
    }
    return Promise.all(pending).then(settle)
  }

  private write(req: OutRequest): void {
    const s = this.sender
    const conn = this.conn
    if (conn === undefined || conn.isClosed) {
      s.requestFailed(this.nodeId, req.batches, new ConnectionError('connection closed', `node ${this.nodeId}`))
      return
    }
    let version: number
    try {
      version = Math.min(conn.versionFor(Produce), s.produceMaxVersion)
    } catch (err) {
      s.requestFailed(this.nodeId, req.batches, err)
      return
    }
    const byId = version >= 13
    req.byId = byId
    type PartitionData = { index: number; records: Buffer }
    const topics = new Map<string, { name: string; topicId: string | undefined; partitionData: PartitionData[] }>()
    for (const b of req.batches) {
      const name = b.topic
      let t = topics.get(name)
      if (t === undefined) {
        const topicId = s.topicIdOf(name)
        t = { name, topicId, partitionData: [] }
        topics.set(name, t)
      }
      req.keys.push(byId ? t.topicId! : name)
      t.partitionData.push({ index: b.partition, records: b.encode() as Buffer })
      b.sentSequence = b.baseSequence
    }
    const body: ProduceRequest = {
      transactionalId: s.transactionalId,
      acks: s.acks,
      timeoutMs: s.requestTimeoutMs,
      topicData: [...topics.values()],
    }
    this.inFlight++
    s.stats.requests++
    if (s.acks === 0) {
      conn.requestNoResponse(Produce, body, { version }).then(
        () => {
          this.inFlight--
          s.writtenWithoutAck(req.batches)
        },
        (err) => {
          this.inFlight--
          s.requestFailed(this.nodeId, req.batches, err)
        },
      )
      return
    }
    this.wire.add(req)
    conn.request(Produce, body, { version, timeoutMs: s.requestTimeoutMs }).then(
      (res: ProduceResponse) => {
        this.inFlight--
        this.wire.delete(req)
        s.responded(this.nodeId, req, res)
      },
      (err) => {
        this.inFlight--
        this.wire.delete(req)
        // A timed-out produce leaves the broker's answers to it (and to the requests behind it) in doubt: close the
        // connection, as the Java client does, so every request after it fails too and is retried in order.
        if (err instanceof RequestTimeoutError)
          conn.destroy(new ConnectionError('connection closed by the client after a Produce timed out', conn.broker))
        if (conn.isClosed && this.conn === conn) this.conn = undefined
        s.requestFailed(this.nodeId, req.batches, err)
      },
    )
  }

  private connect(): void {
    if (this.connecting) return
    this.connecting = true
    this.sender.cluster.connectionTo(this.nodeId, 'produce').then(
      (conn) => {
        this.connecting = false
        this.conn = conn
        this.sender.wake()
      },
      (err) => {
        this.connecting = false
        this.sender.connectFailed(this.nodeId, err)
      },
    )
  }
}
