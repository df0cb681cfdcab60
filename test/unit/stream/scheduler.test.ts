import { describe, expect, test } from 'vitest'
import { LazyQueue, PriorityScheduler, resolvePriority } from '../../../src/stream/scheduler.js'

const err = (m: string) => new Error(m)

describe('the priority scheduler', () => {
  test('defaults: weights 4:1, a reserve of ⌈concurrency / 8⌉ slots, half the buffer for batch work', () => {
    expect(resolvePriority(undefined, 64, 2048, err)).toEqual({
      realtimeWeight: 4,
      batchWeight: 1,
      batchSlots: 56,
      batchBuffer: 1024,
    })
    // One slot: none is kept back, or batch work could never run.
    expect(resolvePriority(undefined, 1, 10, err).batchSlots).toBe(1)
  })

  test('bad settings are refused with what is wrong', () => {
    expect(() => resolvePriority({ weights: { realtime: 0, batch: 1 } }, 8, 100, err)).toThrow(/weights/)
    expect(() => resolvePriority({ weights: { realtime: 1, batch: -1 } }, 8, 100, err)).toThrow(/weights/)
    expect(() => resolvePriority({ realtimeReserve: 8 }, 8, 100, err)).toThrow(/realtimeReserve/)
    expect(() => resolvePriority({ batchBufferShare: 1 }, 8, 100, err)).toThrow(/batchBufferShare/)
  })

  test('both waiting: starts follow the weights; batch alone gets every slot but the reserve; realtime alone all', () => {
    const s = new PriorityScheduler<string>(resolvePriority({ weights: { realtime: 3, batch: 1 } }, 16, 100, err))
    const picks: string[] = []
    for (let i = 0; i < 400; i++) {
      s.add('rt', 'realtime')
      s.add('bt', 'batch')
      picks.push(s.next()!)
    }
    expect(picks.filter((p) => p === 'rt').length).toBe(300)
    expect(picks.filter((p) => p === 'bt').length).toBe(100)

    const only = new PriorityScheduler<string>(resolvePriority(undefined, 16, 100, err))
    only.add('bt', 'batch')
    only.running.batch = 13
    expect(only.next()).toBe('bt')
    only.add('bt', 'batch')
    only.running.batch = 14 // 16 − ⌈16 / 8⌉: the reserve is left for realtime
    expect(only.next()).toBeUndefined()
    only.add('rt', 'realtime')
    expect(only.next()).toBe('rt')
    expect(only.next()).toBeUndefined()
  })

  test('batch weight 0: batch starts only when no realtime record waits', () => {
    const s = new PriorityScheduler<string>(resolvePriority({ weights: { realtime: 1, batch: 0 } }, 8, 100, err))
    for (let i = 0; i < 50; i++) {
      s.add('rt', 'realtime')
      s.add('bt', 'batch')
      expect(s.next()).toBe('rt')
    }
    expect(s.next()).toBe('bt')
  })

  test('sources take turns within a priority; a deleted one is gone from both', () => {
    const s = new PriorityScheduler<string>(resolvePriority(undefined, 8, 100, err))
    s.add('a', 'realtime')
    s.add('b', 'realtime')
    s.add('c', 'batch')
    s.delete('b')
    expect(s.next()).toBe('a')
    expect(s.next()).toBe('c')
    expect(s.next()).toBeUndefined()
  })

  test('the lazy queue skips items no longer wanted and compacts as it goes', () => {
    const items = Array.from({ length: 5000 }, (_, i) => ({ i, ok: i % 3 !== 0 }))
    const q = new LazyQueue<{ i: number; ok: boolean }>((x) => x.ok)
    for (const x of items) q.push(x)
    const out: number[] = []
    for (let x = q.shift(); x; x = q.shift()) out.push(x.i)
    expect(out).toEqual(items.filter((x) => x.ok).map((x) => x.i))
  })
})
