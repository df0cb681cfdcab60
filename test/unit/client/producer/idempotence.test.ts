import { describe, expect, test } from 'vitest'
import { Accumulator, type PartitionQueue } from '../../../../src/client/producer/accumulator.js'
import type { ProducerBatch } from '../../../../src/client/producer/batch.js'
import { Idempotence, incrementSequence } from '../../../../src/client/producer/idempotence.js'
import { toQueuedRecord } from '../../../../src/client/producer/record.js'

const NOW = 1_700_000_000_000

/** A partition with `sizes.length` batches of `sizes[i]` records each, queued. */
function partition(sizes: number[], partitionIndex = 0, acc = newAccumulator()) {
  const t = acc.topic('t')
  for (const n of sizes) {
    for (let i = 0; i < n; i++) acc.append(t, partitionIndex, toQueuedRecord({ value: 'v' }, NOW), undefined, 0, 1, NOW)
    // Close the batch so the next records open a new one.
    const q = t.queue(partitionIndex)
    q.open!.closed = true
    q.open = undefined
  }
  return { acc, q: t.queue(partitionIndex) }
}

function newAccumulator() {
  return new Accumulator({
    lingerMs: 0,
    batchBytes: 1 << 20,
    deliveryTimeoutMs: 60_000,
    transactional: false,
    codecFor: () => 'none',
  })
}

/** Drains the head batch the way a sink does: asks, takes, marks it on the wire with the sequence it carries. */
function send(idem: Idempotence, acc: Accumulator, q: PartitionQueue, maxOnWire = 5): ProducerBatch | undefined {
  const head = q.batches[0]
  if (!head || !idem.prepare(q.sequences, head, q.onWire, maxOnWire)) return undefined
  acc.take(q)
  q.onWire++
  head.attempts++
  head.sentSequence = head.baseSequence
  return head
}

function landed(q: PartitionQueue) {
  q.onWire--
}

const seqs = (bs: Array<ProducerBatch | undefined>) => bs.map((b) => b?.baseSequence)

describe('sequence numbers of an idempotent producer', () => {
  test('nothing goes out before the producer has an id', () => {
    const idem = new Idempotence(false)
    const { acc, q } = partition([1])
    expect(send(idem, acc, q)).toBeUndefined()
    idem.setId(9n, 0)
    expect(send(idem, acc, q)?.baseSequence).toBe(0)
  })

  test('are assigned when a batch is first drained, consecutively by record count, with the id and epoch', () => {
    const idem = new Idempotence(false)
    idem.setId(42n, 3)
    const { acc, q } = partition([3, 1, 5])
    const sent = [send(idem, acc, q), send(idem, acc, q), send(idem, acc, q)]
    expect(seqs(sent)).toEqual([0, 3, 4])
    expect(sent.map((b) => [b!.producerId, b!.producerEpoch])).toEqual([
      [42n, 3],
      [42n, 3],
      [42n, 3],
    ])
    expect(q.sequences.next).toBe(9)
    expect(q.sequences.unacked).toEqual(sent)
  })

  test('at most 5 batches of a partition are on the wire', () => {
    const idem = new Idempotence(false)
    idem.setId(1n, 0)
    const { acc, q } = partition([1, 1, 1, 1, 1, 1, 1])
    const sent: Array<ProducerBatch | undefined> = []
    for (let i = 0; i < 7; i++) sent.push(send(idem, acc, q))
    expect(seqs(sent)).toEqual([0, 1, 2, 3, 4, undefined, undefined])
    landed(q)
    idem.acked(q.sequences, sent[0]!)
    expect(q.sequences.lastAcked).toBe(0)
    expect(send(idem, acc, q)?.baseSequence).toBe(5)
  })

  test('a retry keeps its sequence and goes out only once every batch before it has settled', () => {
    const idem = new Idempotence(false)
    idem.setId(1n, 0)
    const { acc, q } = partition([2, 2, 2, 2])
    const [a, b, c] = [send(idem, acc, q)!, send(idem, acc, q)!, send(idem, acc, q)!]
    // a and b fail retriably (NOT_LEADER_OR_FOLLOWER); c is still on the wire.
    landed(q)
    landed(q)
    acc.requeue(b)
    acc.requeue(a)
    expect(q.batches.map((x) => x.baseSequence)).toEqual([0, 2, -1])
    // a is the first unsettled: it goes. b waits for a (it is not first), and the new batch waits behind b.
    expect(send(idem, acc, q)).toBe(a)
    expect(send(idem, acc, q)).toBeUndefined()
    landed(q)
    idem.acked(q.sequences, a)
    expect(send(idem, acc, q)).toBe(b)
    expect(b.baseSequence).toBe(2)
    // c came back OUT_OF_ORDER (b was missing when it arrived): a retry, no new epoch.
    landed(q)
    expect(idem.outOfOrder(q.sequences, c)).toBe('retry')
  })

  test('OUT_OF_ORDER for the batch right after the last acknowledged one means the broker lost us: bump', () => {
    const idem = new Idempotence(false)
    idem.setId(1n, 0)
    const { acc, q } = partition([1, 1])
    const a = send(idem, acc, q)!
    landed(q)
    idem.acked(q.sequences, a)
    const b = send(idem, acc, q)!
    landed(q)
    expect(idem.outOfOrder(q.sequences, b)).toBe('bump-and-retry')
  })

  test('a batch refused outright (MESSAGE_TOO_LARGE) gives its numbers to the batches after it', () => {
    const idem = new Idempotence(false)
    idem.setId(1n, 0)
    const { acc, q } = partition([3, 2, 4, 1])
    const [a, b, c] = [send(idem, acc, q)!, send(idem, acc, q)!, send(idem, acc, q)!]
    expect(seqs([a, b, c])).toEqual([0, 3, 5])
    landed(q)
    idem.acked(q.sequences, a)
    landed(q)
    idem.failed(q.sequences, b, false)
    // c, on the wire with 5, now carries 3; the attempt on the wire is stale, so its OUT_OF_ORDER is retried.
    expect(c.baseSequence).toBe(3)
    expect(c.sentSequence).toBe(5)
    expect(idem.outOfOrder(q.sequences, c)).toBe('retry')
    expect(q.sequences.next).toBe(7)
    landed(q)
    acc.requeue(c)
    expect(send(idem, acc, q)).toBe(c)
    expect(c.sentSequence).toBe(3)
    // The batch after c continues the renumbered sequence, pipelined behind it.
    expect(send(idem, acc, q)?.baseSequence).toBe(7)
  })

  test('a gap of unknown outcome (an expired batch) is closed by a new epoch, renumbering from 0', () => {
    const idem = new Idempotence(false)
    idem.setId(7n, 0)
    const { acc, q } = partition([2, 3, 1])
    const a = send(idem, acc, q)!
    const b = send(idem, acc, q)!
    landed(q)
    landed(q)
    acc.requeue(b)
    // a timed out after being sent: maybe written, maybe not.
    idem.failed(q.sequences, a, 'unknown')
    expect(q.sequences.needsBump).toBe(true)
    const retried = send(idem, acc, q)!
    expect(retried).toBe(b)
    expect([b.producerEpoch, b.baseSequence, idem.epoch, idem.bumps]).toEqual([1, 0, 1, 1])
    // The partition now numbers under epoch 1: the new batch follows b, pipelined.
    const c = send(idem, acc, q)!
    expect([c.producerEpoch, c.baseSequence]).toEqual([1, 3])
    landed(q)
    idem.acked(q.sequences, b)
    expect(q.sequences.lastAcked).toBe(2)
  })

  test('no bump while a batch of the partition is on the wire', () => {
    const idem = new Idempotence(false)
    idem.setId(7n, 0)
    const { acc, q } = partition([1, 1])
    send(idem, acc, q)
    idem.requestBump(q.sequences)
    expect(send(idem, acc, q)).toBeUndefined()
    expect(idem.epoch).toBe(0)
  })

  test('after a bump, other partitions move to the new epoch only once their old batches have settled', () => {
    const idem = new Idempotence(false)
    idem.setId(7n, 0)
    const acc = newAccumulator()
    const p0 = partition([1, 1], 0, acc).q
    const p1 = partition([1, 1], 1, acc).q
    const p1a = send(idem, acc, p1)!
    const p0a = send(idem, acc, p0)!
    landed(p0)
    idem.failed(p0.sequences, p0a, 'unknown')
    expect(send(idem, acc, p0)?.producerEpoch).toBe(1)
    // p1 still has a batch of epoch 0 unsettled: its new batch waits.
    expect(send(idem, acc, p1)).toBeUndefined()
    landed(p1)
    idem.acked(p1.sequences, p1a)
    const p1b = send(idem, acc, p1)!
    expect([p1b.producerEpoch, p1b.baseSequence]).toEqual([1, 0])
  })

  test('an exhausted epoch asks for a new producer id instead', () => {
    const idem = new Idempotence(false)
    idem.setId(7n, 32767)
    const { acc, q } = partition([1, 1])
    const a = send(idem, acc, q)!
    landed(q)
    idem.failed(q.sequences, a, 'unknown')
    expect(send(idem, acc, q)).toBeUndefined()
    expect([idem.needsNewId, idem.hasId]).toEqual([true, false])
    idem.setId(8n, 0)
    expect(send(idem, acc, q)?.producerId).toBe(8n)
  })

  test('transactional producers never bump locally', () => {
    const idem = new Idempotence(true)
    idem.setId(7n, 0)
    const { acc, q } = partition([1, 1])
    const a = send(idem, acc, q)!
    landed(q)
    idem.failed(q.sequences, a, 'unknown')
    idem.requestBump(q.sequences)
    expect(q.sequences.needsBump).toBe(false)
  })

  test('the epoch adopted from EndTxn v5 restarts every settled partition at sequence 0', () => {
    const idem = new Idempotence(true)
    idem.setId(7n, 0)
    const { acc, q } = partition([2, 1])
    const a = send(idem, acc, q)!
    landed(q)
    idem.acked(q.sequences, a)
    idem.setId(7n, 1)
    const b = send(idem, acc, q)!
    expect([b.producerEpoch, b.baseSequence]).toEqual([1, 0])
  })

  test('sequences wrap past 2^31 - 1 to 0, as Kafka', () => {
    expect(incrementSequence(0x7fffffff, 1)).toBe(0)
    expect(incrementSequence(0x7ffffffe, 5)).toBe(3)
    expect(incrementSequence(3, -5)).toBe(0x7ffffffe)
    expect(incrementSequence(10, 5)).toBe(15)
    const idem = new Idempotence(false)
    idem.setId(1n, 0)
    const { acc, q } = partition([3, 1])
    q.sequences.producerId = 1n
    q.sequences.epoch = 0
    q.sequences.next = 0x7ffffffe
    expect(seqs([send(idem, acc, q), send(idem, acc, q)])).toEqual([0x7ffffffe, 1])
  })
})
