import { describe, expect, test } from 'vitest'
import { Accumulator, Appended } from '../../../../src/client/producer/accumulator.js'
import type { DeliveryCallback } from '../../../../src/client/producer/delivery.js'
import { BufferMemory, type MemoryWaiter } from '../../../../src/client/producer/memory.js'
import { bufferCharge, type RecordMetadata, toQueuedRecord } from '../../../../src/client/producer/record.js'
import { RecordBatch } from '../../../../src/protocol/records/index.js'

const NOW = 1_700_000_000_000

function accumulator(o: { lingerMs?: number; batchBytes?: number; deliveryTimeoutMs?: number } = {}) {
  return new Accumulator({
    lingerMs: o.lingerMs ?? 5,
    batchBytes: o.batchBytes ?? 1024,
    deliveryTimeoutMs: o.deliveryTimeoutMs ?? 120_000,
    transactional: false,
    codecFor: () => 'none',
  })
}

function rec(value: string, key: string | null = null, timestamp = NOW) {
  return toQueuedRecord({ key, value, timestamp }, NOW)
}

describe('the accumulator', () => {
  test('a batch is ready once it has lingered lingerMs, not before', () => {
    const acc = accumulator({ lingerMs: 20 })
    const t = acc.topic('t')
    expect(acc.append(t, 0, rec('a'), undefined, 0, 10, NOW)).toBe(Appended.NEW_BATCH)
    expect(acc.append(t, 0, rec('b'), undefined, 0, 10, NOW + 5)).toBe(0)
    const q = t.queue(0)
    expect(acc.isReady(q, NOW + 19)).toBe(false)
    expect(acc.readyAt(q)).toBe(NOW + 20)
    expect(acc.isReady(q, NOW + 20)).toBe(true)
  })

  test('lingerMs 0: ready at once', () => {
    const acc = accumulator({ lingerMs: 0 })
    const t = acc.topic('t')
    acc.append(t, 0, rec('a'), undefined, 0, 10, NOW)
    expect(acc.isReady(t.queue(0), NOW)).toBe(true)
  })

  test('a flush makes every batch ready regardless of linger', () => {
    const acc = accumulator({ lingerMs: 60_000 })
    const t = acc.topic('t')
    acc.append(t, 3, rec('a'), undefined, 0, 10, NOW)
    expect(acc.isReady(t.queue(3), NOW)).toBe(false)
    acc.flushing++
    expect(acc.isReady(t.queue(3), NOW)).toBe(true)
  })

  test('batches are cut at batchBytes (their exact encoded size), and a full batch is ready at once', () => {
    const acc = accumulator({ batchBytes: 1000, lingerMs: 60_000 })
    const t = acc.topic('t')
    const q = t.queue(0)
    let flags = 0
    let n = 0
    while ((flags & Appended.FULL) === 0) flags = acc.append(t, 0, rec('x'.repeat(90), `k${n++}`), undefined, 0, 1, NOW)
    // The record that did not fit opened the second batch and closed the first.
    expect(q.batches).toHaveLength(2)
    const [first, second] = q.batches
    expect(first!.closed).toBe(true)
    expect(first!.sizeBytes).toBeLessThanOrEqual(1000)
    expect(first!.sizeBytes + 100).toBeGreaterThan(1000)
    expect(second!.recordCount).toBe(1)
    expect(acc.isReady(q, NOW)).toBe(true)
    // The size the accumulator counted is the size the encoder writes.
    const encoded = first!.encode() as Buffer
    expect(encoded.length).toBe(first!.sizeBytes)
    expect(first!.recordCount + second!.recordCount).toBe(n)
  })

  test('the encoded size is exact with headers, null keys and values, and timestamps before the first', () => {
    const acc = accumulator({ batchBytes: 1 << 20 })
    const t = acc.topic('t')
    const records = [
      toQueuedRecord({ key: null, value: null }, NOW),
      toQueuedRecord({ key: 'k', value: 'v', headers: { a: 'x', b: [null, 'y'] }, timestamp: NOW - 100_000 }, NOW),
      toQueuedRecord({ key: Buffer.alloc(300), value: 'ü'.repeat(200), headers: [['h', Buffer.alloc(2)]] }, NOW),
      toQueuedRecord({ value: 'late', timestamp: NOW + 3_600_000 }, NOW),
    ]
    for (const r of records) acc.append(t, 0, r, undefined, 0, 1, NOW)
    const b = t.queue(0).batches[0]!
    const encoded = b.encode() as Buffer
    expect(encoded.length).toBe(b.sizeBytes)
    const parsed = new RecordBatch(encoded)
    expect(parsed.crcMatches()).toBe(true)
    expect(parsed.records().map((r) => [r.timestamp, r.headers.length])).toEqual([
      [NOW, 0],
      [NOW - 100_000, 3],
      [NOW, 1],
      [NOW + 3_600_000, 0],
    ])
  })

  test('a record larger than batchBytes goes alone in its own batch', () => {
    const acc = accumulator({ batchBytes: 200 })
    const t = acc.topic('t')
    acc.append(t, 0, rec('small'), undefined, 0, 1, NOW)
    const flags = acc.append(t, 0, rec('y'.repeat(5000)), undefined, 0, 1, NOW)
    expect(flags).toBe(Appended.NEW_BATCH | Appended.FULL)
    acc.append(t, 0, rec('after'), undefined, 0, 1, NOW)
    expect(t.queue(0).batches.map((b) => b.recordCount)).toEqual([1, 1, 1])
  })

  test('partitions have their own queues; take and requeue keep creation (hence sequence) order', () => {
    const acc = accumulator({ batchBytes: 100, lingerMs: 0 })
    const t = acc.topic('t')
    for (let i = 0; i < 4; i++) acc.append(t, 1, rec('z'.repeat(60)), undefined, 0, 1, NOW)
    acc.append(t, 2, rec('other'), undefined, 0, 1, NOW)
    const q = t.queue(1)
    expect(q.batches).toHaveLength(4)
    expect(acc.nonEmpty.size).toBe(2)
    const [a, b, c] = [acc.take(q), acc.take(q), acc.take(q)]
    expect(q.batches).toHaveLength(1)
    acc.requeue(b)
    acc.requeue(a)
    acc.requeue(c)
    expect(q.batches.map((x) => x.order)).toEqual([a.order, b.order, c.order, a.order + 3])
    while (q.batches.length) acc.take(q)
    expect(acc.nonEmpty.has(q)).toBe(false)
  })

  test('a requeued batch waits out its retry backoff', () => {
    const acc = accumulator({ lingerMs: 0 })
    const t = acc.topic('t')
    acc.append(t, 0, rec('a'), undefined, 0, 1, NOW)
    const q = t.queue(0)
    const b = acc.take(q)
    b.attempts = 1
    b.retryAt = NOW + 100
    acc.requeue(b)
    expect(acc.isReady(q, NOW + 99)).toBe(false)
    expect(acc.readyAt(q)).toBe(NOW + 100)
    expect(acc.isReady(q, NOW + 100)).toBe(true)
  })

  test('batches past their delivery deadline are handed back for failing, oldest first', () => {
    const acc = accumulator({ deliveryTimeoutMs: 1000, batchBytes: 100 })
    const t = acc.topic('t')
    acc.append(t, 0, rec('z'.repeat(60)), undefined, 0, 1, NOW)
    acc.append(t, 0, rec('z'.repeat(60)), undefined, 0, 1, NOW + 500)
    expect(acc.nextDeadline()).toBe(NOW + 1000)
    expect(acc.expired(NOW + 999)).toEqual([])
    expect(acc.expired(NOW + 1000)).toHaveLength(1)
    expect(acc.expired(NOW + 1500)).toHaveLength(1)
    expect(acc.nonEmpty.size).toBe(0)
  })

  test('completion reports offsets base+i, create times, or the broker append time; failure reaches each record', () => {
    const acc = accumulator()
    const t = acc.topic('t')
    const seen: Array<[Error | null, RecordMetadata | undefined]> = []
    const cb: DeliveryCallback = (err, m) => seen.push([err, m])
    acc.append(t, 2, rec('a', null, NOW + 1), cb, 0, 1, NOW)
    acc.append(t, 2, rec('b', null, NOW + 2), undefined, 0, 1, NOW)
    acc.append(t, 2, rec('c', null, NOW + 3), cb, 0, 1, NOW)
    const b = acc.take(t.queue(2))
    b.encode()
    b.complete(40, -1)
    expect(seen).toEqual([
      [null, { topic: 't', partition: 2, offset: 40, timestamp: NOW + 1 }],
      [null, { topic: 't', partition: 2, offset: 42, timestamp: NOW + 3 }],
    ])
    seen.length = 0
    acc.append(t, 2, rec('d'), cb, 0, 1, NOW)
    const b2 = acc.take(t.queue(2))
    b2.encode()
    b2.complete(43, NOW + 999)
    expect(seen).toEqual([[null, { topic: 't', partition: 2, offset: 43, timestamp: NOW + 999 }]])
    seen.length = 0
    acc.append(t, 2, rec('e'), cb, 0, 1, NOW)
    const b3 = acc.take(t.queue(2))
    const err = new Error('nope')
    b3.fail(err)
    b3.complete(1, -1)
    expect(seen).toEqual([[err, undefined]])
  })
})

describe('the batch encoding', () => {
  test('is done once; a new epoch or sequence stamps the producer fields and the CRC on a copy, leaving what an earlier request references intact', () => {
    const acc = accumulator()
    const t = acc.topic('t')
    for (let i = 0; i < 3; i++) acc.append(t, 0, rec(`v${i}`, `k${i}`), undefined, 0, 1, NOW)
    const b = acc.take(t.queue(0))
    b.setProducerState(77n, 3, 10)
    const first = b.encode() as Buffer
    const a = new RecordBatch(first)
    expect([a.producerId, a.producerEpoch, a.baseSequence, a.crcMatches()]).toEqual([77n, 3, 10, true])
    b.setProducerState(77n, 4, 0)
    const second = b.encode() as Buffer
    expect(second).not.toBe(first)
    expect(b.encode()).toBe(second)
    const c = new RecordBatch(second)
    expect([c.producerId, c.producerEpoch, c.baseSequence, c.crcMatches()]).toEqual([77n, 4, 0, true])
    expect(c.records().map((r) => r.key?.toString())).toEqual(['k0', 'k1', 'k2'])
    const untouched = new RecordBatch(first)
    expect([untouched.producerEpoch, untouched.baseSequence, untouched.crcMatches()]).toEqual([3, 10, true])
  })

  test('a batch refused as too large splits in two halves keeping records, callbacks, charge and sequences', async () => {
    const acc = accumulator({ batchBytes: 1 << 20 })
    const t = acc.topic('t')
    const seen: number[] = []
    for (let i = 0; i < 5; i++)
      acc.append(t, 0, rec(`v${i}`, `k${i}`, NOW + i), (err, m) => seen.push(err ? -1 : m!.offset), 0, 10, NOW)
    const b = acc.take(t.queue(0))
    b.setProducerState(9n, 2, 100)
    b.encode()
    const [x, y] = b.splitInTwo(await b.records_())
    expect(b.done).toBe(true)
    expect([x.recordCount, y.recordCount, x.charged + y.charged]).toEqual([3, 2, 50])
    expect([x.baseSequence, y.baseSequence, x.producerEpoch, y.producerId]).toEqual([100, 103, 2, 9n])
    expect(x.order < y.order && y.order < b.order + 1).toBe(true)
    const decoded = new RecordBatch(y.encode() as Buffer).records()
    expect(decoded.map((r) => [r.key?.toString(), r.timestamp])).toEqual([
      ['k3', NOW + 3],
      ['k4', NOW + 4],
    ])
    x.complete(0, -1)
    y.complete(3, -1)
    expect(seen).toEqual([0, 1, 2, 3, 4])
  })

  test('compressed batches are encoded asynchronously and restamped the same way', async () => {
    const acc = new Accumulator({
      lingerMs: 0,
      batchBytes: 1 << 20,
      deliveryTimeoutMs: 1000,
      transactional: true,
      codecFor: () => 'gzip',
    })
    const t = acc.topic('t')
    for (let i = 0; i < 50; i++) acc.append(t, 0, rec('compressible '.repeat(20)), undefined, 0, 1, NOW)
    const b = acc.take(t.queue(0))
    b.setProducerState(5n, 0, 0)
    const pending = b.encode()
    expect(pending).toBeInstanceOf(Promise)
    b.setProducerState(5n, 1, 7)
    const buf = await pending
    const parsed = new RecordBatch(buf)
    expect([parsed.compression, parsed.isTransactional, parsed.producerEpoch, parsed.baseSequence]).toEqual([
      'gzip',
      true,
      1,
      7,
    ])
    expect(parsed.crcMatches()).toBe(true)
    expect(buf.length).toBeLessThan(b.sizeBytes / 5)
  })
})

class Waiter implements MemoryWaiter {
  cancelled = false
  state: 'waiting' | 'granted' | 'expired' = 'waiting'
  constructor(
    readonly bytes: number,
    readonly deadline: number,
  ) {}
  granted() {
    this.state = 'granted'
  }
  expired() {
    this.state = 'expired'
  }
}

describe('buffer memory (bufferBytes)', () => {
  test('reserves until full, then queues first come first served, and serves waiters as bytes come back', () => {
    let rooms = 0
    const m = new BufferMemory(100, () => rooms++)
    expect(m.tryReserve(60)).toBe(true)
    expect(m.tryReserve(50)).toBe(false)
    const big = new Waiter(50, Date.now() + 60_000)
    const small = new Waiter(10, Date.now() + 60_000)
    m.wait(big)
    // Room for the small one, but it is behind the big one: order is kept.
    expect(m.tryReserve(10)).toBe(false)
    m.wait(small)
    m.release(5)
    expect([big.state, small.state]).toEqual(['waiting', 'waiting'])
    m.release(35)
    expect([big.state, small.state, m.used, rooms]).toEqual(['granted', 'granted', 80, 1])
    expect(m.tryReserve(20)).toBe(true)
    expect(m.used).toBe(100)
  })

  test('a waiter whose deadline passes expires; the ones behind it keep their place', async () => {
    let rooms = 0
    const m = new BufferMemory(100, () => rooms++)
    expect(m.tryReserve(100)).toBe(true)
    const soon = new Waiter(10, Date.now() + 30)
    const later = new Waiter(10, Date.now() + 10_000)
    m.wait(soon)
    m.wait(later)
    await new Promise((r) => setTimeout(r, 80))
    expect([soon.state, later.state, m.waiting]).toEqual(['expired', 'waiting', 1])
    m.release(10)
    expect(later.state).toBe('granted')
    expect(rooms).toBeGreaterThanOrEqual(1)
    m.failAll()
  })

  test('a cancelled waiter is skipped; failAll expires the rest', () => {
    const m = new BufferMemory(10)
    m.tryReserve(10)
    const a = new Waiter(5, Date.now() + 10_000)
    const b = new Waiter(5, Date.now() + 10_000)
    const c = new Waiter(5, Date.now() + 10_000)
    m.wait(a)
    m.wait(b)
    m.wait(c)
    a.cancelled = true
    expect([...m.waiters()]).toEqual([b, c])
    m.release(5)
    expect([a.state, b.state, c.state]).toEqual(['waiting', 'granted', 'waiting'])
    m.failAll()
    expect(c.state).toBe('expired')
    expect(m.waiting).toBe(0)
  })

  test('what a record is charged: its key, value and headers plus per-record overhead', () => {
    const r = toQueuedRecord({ key: 'k', value: Buffer.alloc(1000), headers: { h: 'v' } }, NOW)
    expect(bufferCharge(r)).toBeGreaterThanOrEqual(1000 + 1 + 2 + 16)
    expect(bufferCharge(r)).toBeLessThan(1100)
  })
})
