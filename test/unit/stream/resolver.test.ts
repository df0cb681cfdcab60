import { describe, expect, test } from 'vitest'
import { AbortedError } from '../../../src/client/errors.js'
import { StreamResolverError, StreamTimeoutError } from '../../../src/stream/errors.js'
import { parseStreamTarget, type StreamChange, StreamResolver, sameTarget } from '../../../src/stream/resolver.js'

const a = { bootstrap: 'a:9092', topic: 'orders' }
const b = { bootstrap: 'b:9092', topic: 'orders-v2' }

describe('StreamResolver over a static map', () => {
  test('resolves names, and update() changes a target at runtime with one change event', () => {
    const r = StreamResolver.fromMap({ orders: a })
    const changes: StreamChange[] = []
    r.on('change', (c) => changes.push(c))
    expect(r.resolve('orders')).toEqual(a)
    expect(r.resolve('nope')).toBeUndefined()
    r.update('orders', { ...a }) // same places: no event
    r.update('orders', b)
    r.update('orders', null)
    expect(changes).toEqual([
      { stream: 'orders', target: b, previous: a },
      { stream: 'orders', target: undefined, previous: b },
    ])
  })

  test('a mirror counts as part of the target', () => {
    expect(sameTarget(a, { ...a, mirror: b })).toBe(false)
    expect(sameTarget({ ...a, mirror: b }, { ...a, mirror: { ...b } })).toBe(true)
    expect(sameTarget(undefined, undefined)).toBe(true)
  })

  test('waitFor resolves on the change, times out with StreamTimeoutError, and honours its signal', async () => {
    const r = StreamResolver.fromMap({ orders: a })
    const waiting = r.waitFor('orders', (t) => t?.topic === 'orders-v2', { timeoutMs: 1000 })
    r.update('orders', b)
    await expect(waiting).resolves.toEqual(b)
    await expect(r.waitFor('orders', () => false, { timeoutMs: 20 })).rejects.toBeInstanceOf(StreamTimeoutError)
    const ac = new AbortController()
    const aborted = r.waitFor('orders', () => false, { timeoutMs: 10_000, signal: ac.signal })
    ac.abort()
    await expect(aborted).rejects.toBeInstanceOf(AbortedError)
    expect(r.listenerCount('change')).toBe(0)
  })
})

describe('control-topic values', () => {
  test('a JSON target with an optional mirror is read; extra fields are dropped', () => {
    expect(parseStreamTarget('s', JSON.stringify({ ...a, mirror: b, note: 'x' }))).toEqual({ ...a, mirror: b })
  })

  test.each([
    ['not json', '{'],
    ['no topic', JSON.stringify({ bootstrap: 'a:1' })],
    ['a number', '42'],
    ['a bad mirror', JSON.stringify({ ...a, mirror: { bootstrap: 1 } })],
  ])('%s is refused with StreamResolverError naming the stream', (_, raw) => {
    expect(() => parseStreamTarget('orders', raw)).toThrow(StreamResolverError)
    expect(() => parseStreamTarget('orders', raw)).toThrow(/orders/)
  })
})
