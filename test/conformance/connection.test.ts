import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Connection } from '../../src/client/connection.js'
import { AbortedError, ConfigError, ConnectionError, RequestTimeoutError } from '../../src/client/errors.js'
import { CreateTopics } from '../../src/protocol/apis/create-topics.js'
import { Fetch } from '../../src/protocol/apis/fetch.js'
import { Metadata } from '../../src/protocol/apis/metadata.js'
import { ProtocolError } from '../../src/protocol/errors.js'
import { freePorts } from '../../src/testing/ports.js'
import { testKafka, uniqueTopic } from '../helpers/kafka.js'

const broker = () => {
  const [host, port] = testKafka().bootstrap.split(',')[0]!.split(':')
  return { host: host!, port: Number(port) }
}

describe(`a connection to Kafka ${testKafka().version}`, () => {
  let topic: string
  let topicId: string
  beforeAll(async () => {
    const conn = await Connection.connect(broker())
    topic = uniqueTopic('conn')
    const res = await conn.request(CreateTopics, { topics: [{ name: topic, numPartitions: 1, replicationFactor: 1 }] })
    expect(res.topics[0]!.errorCode).toBe(0)
    topicId = res.topics[0]!.topicId
    await conn.close()
  })

  /** A fetch on the empty topic: the broker holds it for maxWaitMs before answering. */
  const slowFetch = (maxWaitMs: number) => ({
    maxWaitMs,
    minBytes: 1,
    topics: [{ topic, topicId, partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1024 }] }],
  })

  test('pipelines many requests, never more in flight than maxInFlight, each answered correctly', async () => {
    const conn = await Connection.connect({ ...broker(), maxInFlight: 4 })
    let peak = 0
    const results = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const p = conn.request(Metadata, { topics: i % 2 === 0 ? [{ name: topic }] : [] })
        peak = Math.max(peak, conn.inFlightCount)
        return { i, md: await p }
      }),
    )
    expect(peak).toBe(4)
    for (const { i, md } of results) expect(md.topics.map((t) => t.name)).toEqual(i % 2 === 0 ? [topic] : [])
    expect(conn.inFlightCount).toBe(0)
    await conn.close()
  })

  test('a timed-out request rejects, and its late response is dropped without desynchronising the stream', async () => {
    const conn = await Connection.connect(broker())
    const t0 = Date.now()
    await expect(conn.request(Fetch, slowFetch(1500), { timeoutMs: 200 })).rejects.toBeInstanceOf(RequestTimeoutError)
    expect(Date.now() - t0).toBeLessThan(1000)
    // Requests sent while the late response is still pending, and after it has arrived, get their own answers.
    const during = await conn.request(Metadata, { topics: [{ name: topic }] })
    expect(during.topics[0]!.name).toBe(topic)
    await sleep(1700)
    const after = await conn.request(Metadata, { topics: [] })
    expect(after.topics).toEqual([])
    expect(conn.isClosed).toBe(false)
    await conn.close()
  })

  test('an AbortSignal cancels a waiting request with AbortedError, and the connection stays usable', async () => {
    const conn = await Connection.connect(broker())
    const ac = new AbortController()
    const pending = conn.request(Fetch, slowFetch(2000), { signal: ac.signal })
    setTimeout(() => ac.abort(new Error('user gave up')), 100)
    const err = await pending.catch((e) => e)
    expect(err).toBeInstanceOf(AbortedError)
    expect((err as AbortedError).cause).toEqual(new Error('user gave up'))
    expect((await conn.request(Metadata, { topics: [] })).brokers.length).toBeGreaterThan(0)
    const already = new AbortController()
    already.abort()
    await expect(conn.request(Metadata, { topics: [] }, { signal: already.signal })).rejects.toBeInstanceOf(
      AbortedError,
    )
    await conn.close()
  })

  test('a response frame above maxResponseBytes is refused before it is buffered', async () => {
    const err = await Connection.connect({ ...broker(), maxResponseBytes: 64 }).catch((e) => e)
    expect(err).toBeInstanceOf(ProtocolError)
    expect((err as Error).message).toMatch(/exceeds maxResponseBytes 64/)
  })

  test('close() rejects requests in flight with ConnectionError and later requests fail fast', async () => {
    const conn = await Connection.connect(broker())
    const pending = conn.request(Fetch, slowFetch(3000)).catch((e) => e)
    const closedEvent = new Promise((resolve) => conn.once('close', resolve))
    await conn.close()
    expect(await pending).toBeInstanceOf(ConnectionError)
    expect(await closedEvent).toBeInstanceOf(ConnectionError)
    await expect(conn.request(Metadata, { topics: [] })).rejects.toThrow(/closed by the client/)
  })

  afterAll(async () => {
    const conn = await Connection.connect(broker())
    await conn.request((await import('../../src/protocol/apis/delete-topics.js')).DeleteTopics, {
      topics: [{ name: topic }],
      topicNames: [topic],
      timeoutMs: 10_000,
    })
    await conn.close()
  })
})

describe('connecting', () => {
  test('an unreachable broker is a ConnectionError naming the address', async () => {
    const [port] = await freePorts(1)
    const err = await Connection.connect({ host: '127.0.0.1', port: port! }).catch((e) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect((err as ConnectionError).broker).toBe(`127.0.0.1:${port}`)
    expect((err as Error).message).toMatch(/ECONNREFUSED/)
    expect((err as ConnectionError).retriable).toBe(true)
  })

  test('bad options are a ConfigError', async () => {
    await expect(Connection.connect({ host: '', port: 9092 })).rejects.toBeInstanceOf(ConfigError)
    await expect(Connection.connect({ host: 'localhost', port: 70000 })).rejects.toBeInstanceOf(ConfigError)
    await expect(Connection.connect({ ...broker(), requestTimeoutMs: -1 })).rejects.toBeInstanceOf(ConfigError)
  })

  test('an already-aborted signal stops the connect', async () => {
    const ac = new AbortController()
    ac.abort()
    await expect(Connection.connect({ ...broker(), signal: ac.signal })).rejects.toBeInstanceOf(AbortedError)
  })
})
