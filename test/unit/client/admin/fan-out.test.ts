import { describe, expect, test } from 'vitest'
import { type AdminConnection, Call } from '../../../../src/client/admin/call.js'
import { AdminTimeoutError } from '../../../../src/client/admin/errors.js'
import { type FanOutSpec, fanOut, groupRoutes } from '../../../../src/client/admin/fan-out.js'
import type { AdminRuntime, Target } from '../../../../src/client/admin/runtime.js'
import { AbortedError, ConnectionError } from '../../../../src/client/errors.js'
import { UnsupportedVersionError } from '../../../../src/protocol/errors.js'
import { KafkaError } from '../../../../src/protocol/kafka-error.js'

/**
 * The engine behind every multi-item admin call, on scripted destinations: which items are retried, what happens
 * at the deadline, and when the call as a whole fails.
 */

const settings = { defaultTimeoutMs: 1_000, requestTimeoutMs: 1_000, retryBackoffMs: 1, retryBackoffMaxMs: 5 }
const noted: unknown[] = []
const rt = { noteFailure: (e: unknown) => noted.push(e) } as unknown as AdminRuntime

type Result = { item: string; ok?: number; error?: KafkaError }

const target = (id: string, up = true): Target => ({
  id,
  nodeId: Number(id.slice(1)),
  connect: async () => {
    if (!up) throw new ConnectionError('connection refused', `127.0.0.1:${id}`)
    return { broker: id } as AdminConnection
  },
})

const err = (name: string) =>
  KafkaError.fromCode(
    {
      NONE: 0,
      NOT_LEADER_OR_FOLLOWER: 6,
      LEADER_NOT_AVAILABLE: 5,
      UNKNOWN_TOPIC_OR_PARTITION: 3,
      COORDINATOR_LOAD_IN_PROGRESS: 14,
      INVALID_CONFIG: 40,
      CLUSTER_AUTHORIZATION_FAILED: 31,
    }[name]!,
  )

/** A spec whose items are routed by their first letter ('a…' to b1, others to b2) and answered by `answer`. */
function spec(
  answer: (item: string, attempt: number) => number | KafkaError,
  overrides: Partial<FanOutSpec<string, Result>> = {},
) {
  const attempts = new Map<string, number>()
  const requests: string[][] = []
  const s: FanOutSpec<string, Result> = {
    route: async (items) => ({
      routes: groupRoutes(items.map((i) => [i, i.startsWith('a') ? target('b1') : target('b2')] as [string, Target])),
    }),
    send: async (_conn, items) => {
      requests.push([...items])
      const out = new Map<string, Result>()
      for (const item of items) {
        const n = (attempts.get(item) ?? 0) + 1
        attempts.set(item, n)
        const a = answer(item, n)
        out.set(item, a instanceof KafkaError ? { item, error: a } : { item, ok: a })
      }
      return out
    },
    fail: (item, error) => ({ item, error }),
    ...overrides,
  }
  return { spec: s, requests, attempts }
}

async function run(
  items: string[],
  s: FanOutSpec<string, Result>,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
) {
  const call = new Call('test', settings, options)
  try {
    return await fanOut(rt, call, items, s)
  } finally {
    call.finish()
  }
}

describe('fanOut: one request per destination, retries per item, a deadline for all', () => {
  test('items are batched per destination and results come back in the order given', async () => {
    const { spec: s, requests } = spec((item) => item.length)
    const res = await run(['a1', 'bb2', 'a333', 'c4'], s)
    expect(res).toEqual([
      { item: 'a1', ok: 2 },
      { item: 'bb2', ok: 3 },
      { item: 'a333', ok: 4 },
      { item: 'c4', ok: 2 },
    ])
    expect(requests.map((r) => r.sort())).toEqual([
      ['a1', 'a333'],
      ['bb2', 'c4'],
    ])
  })

  test('only the items that failed retriably are sent again; a non-retriable error settles its item at once', async () => {
    const { spec: s, requests } = spec((item, n) =>
      item === 'a-moved' && n < 3 ? err('NOT_LEADER_OR_FOLLOWER') : item === 'b-bad' ? err('INVALID_CONFIG') : n,
    )
    const res = await run(['a-ok', 'a-moved', 'b-bad'], s)
    expect(res.map((r) => [r.item, r.error?.errorName ?? r.ok])).toEqual([
      ['a-ok', 1],
      ['a-moved', 3],
      ['b-bad', 'INVALID_CONFIG'],
    ])
    expect(requests).toEqual([['a-ok', 'a-moved'], ['b-bad'], ['a-moved'], ['a-moved']])
  })

  test('a custom retry rule decides which errors are worth another round', async () => {
    const { spec: s, attempts } = spec(() => err('UNKNOWN_TOPIC_OR_PARTITION'), {
      retriable: (e) => e.errorName !== 'UNKNOWN_TOPIC_OR_PARTITION',
    })
    expect((await run(['a'], s)).map((r) => r.error?.errorName)).toEqual(['UNKNOWN_TOPIC_OR_PARTITION'])
    expect(attempts.get('a')).toBe(1)
  })

  test('a request-level Kafka error applies to every item of that request only', async () => {
    const { spec: base } = spec((_, n) => n)
    const s: FanOutSpec<string, Result> = {
      ...base,
      send: async (conn, items, call, t) => {
        if (t.id === 'b2') throw err('CLUSTER_AUTHORIZATION_FAILED')
        return base.send(conn, items, call, t)
      },
    }
    const res = await run(['a1', 'b1', 'b2'], s)
    expect(res.map((r) => r.error?.errorName ?? 'NONE')).toEqual([
      'NONE',
      'CLUSTER_AUTHORIZATION_FAILED',
      'CLUSTER_AUTHORIZATION_FAILED',
    ])
  })

  test('at the deadline, unanswered items carry their last retriable error, or REQUEST_TIMED_OUT / NETWORK_EXCEPTION', async () => {
    const { spec: base } = spec((item) => (item === 'a-stuck' ? err('COORDINATOR_LOAD_IN_PROGRESS') : 1))
    const s: FanOutSpec<string, Result> = {
      ...base,
      route: async (items) => ({
        routes: groupRoutes(items.map((i) => [i, i.startsWith('a') ? target('b1') : target('b2', false)])),
      }),
    }
    const t0 = Date.now()
    const res = await run(['a-ok', 'a-stuck', 'b-down'], s, { timeoutMs: 150 })
    expect(Date.now() - t0).toBeLessThan(1_000)
    expect(res.map((r) => [r.item, r.error?.errorName ?? r.ok])).toEqual([
      ['a-ok', 1],
      ['a-stuck', 'COORDINATOR_LOAD_IN_PROGRESS'],
      ['b-down', 'NETWORK_EXCEPTION'],
    ])
    expect(res[2]!.error!.cause).toBeInstanceOf(ConnectionError)
    expect(res[2]!.error!.message).toMatch(/no answer within 150 ms; last failure: connection refused/)
  })

  test('when no broker answered for any item, the call fails as a whole with AdminTimeoutError', async () => {
    const { spec: base } = spec(() => 1)
    const s: FanOutSpec<string, Result> = {
      ...base,
      route: async (items) => ({ routes: groupRoutes(items.map((i) => [i, target('b1', false)])) }),
    }
    const e = await run(['a', 'b'], s, { timeoutMs: 100 }).catch((x) => x)
    expect(e).toBeInstanceOf(AdminTimeoutError)
    expect(e.message).toMatch(/test did not complete within 100 ms; last error: connection refused/)
    expect(e.cause).toBeInstanceOf(ConnectionError)
  })

  test('routing failures are retried too: a metadata lookup that fails once is asked again', async () => {
    let lookups = 0
    const { spec: base } = spec((_, n) => n)
    const s: FanOutSpec<string, Result> = {
      ...base,
      route: async (items) => {
        if (++lookups === 1) throw new ConnectionError('connection reset', '127.0.0.1:1')
        return base.route(items, undefined as never)
      },
    }
    expect((await run(['a', 'b'], s)).map((r) => r.ok)).toEqual([1, 1])
    expect(lookups).toBe(2)
  })

  test("the caller's abort rejects the call with AbortedError; a non-retriable failure rejects it as is", async () => {
    const controller = new AbortController()
    const { spec: base } = spec(() => err('LEADER_NOT_AVAILABLE'))
    const pending = run(['a'], base, { signal: controller.signal, timeoutMs: 5_000 })
    setTimeout(() => controller.abort(new Error('stop')), 20)
    await expect(pending).rejects.toBeInstanceOf(AbortedError)

    const { spec: s2 } = spec(() => 1)
    const broken: FanOutSpec<string, Result> = {
      ...s2,
      send: async () => {
        throw new UnsupportedVersionError('no common version')
      },
    }
    await expect(run(['a'], broken)).rejects.toBeInstanceOf(UnsupportedVersionError)
  })
})
