import net from 'node:net'
import { afterEach, describe, expect, test } from 'vitest'
import { Connection } from '../../../src/client/connection.js'
import { ConnectionError, RequestTimeoutError } from '../../../src/client/errors.js'
import { ALL_APIS } from '../../../src/protocol/apis/index.js'
import { Metadata } from '../../../src/protocol/apis/metadata.js'
import { ProtocolError } from '../../../src/protocol/errors.js'
import { decodeRequestHeader, encodeResponse, type RequestHeader } from '../../../src/protocol/frame.js'

/**
 * Edge cases a real broker will not produce (byte-at-a-time frames, unknown correlation ids, negative sizes,
 * silence), served by a scripted TCP peer. Everything a broker does produce is tested against the real one.
 */
type Reply = (header: RequestHeader, socket: net.Socket) => void

const flexibleOf = (key: number, version: number) => ALL_APIS.find((a) => a.key === key)?.isFlexible(version) ?? false
const servers: net.Server[] = []

async function fakeBroker(reply: Reply): Promise<{ port: number; headers: RequestHeader[] }> {
  const headers: RequestHeader[] = []
  const server = net.createServer((socket) => {
    let buf = Buffer.alloc(0)
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d])
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const size = buf.readInt32BE(0)
        const { header } = decodeRequestHeader(buf.subarray(4, 4 + size), flexibleOf)
        buf = buf.subarray(4 + size)
        headers.push(header)
        reply(header, socket)
      }
    })
    socket.on('error', () => {})
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { port: (server.address() as net.AddressInfo).port, headers }
}

const metadataAnswer = (h: RequestHeader, clusterId = 'fake') =>
  encodeResponse(Metadata, h.apiVersion, h.correlationId, { brokers: [], clusterId, topics: [] })

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
})

describe('connection framing', () => {
  test('a response arriving one byte at a time is reassembled', async () => {
    const { port } = await fakeBroker((h, s) => {
      const frame = metadataAnswer(h)
      for (let i = 0; i < frame.length; i++) setTimeout(() => s.write(frame.subarray(i, i + 1)), i)
    })
    const conn = await Connection.connect({ host: '127.0.0.1', port, handshake: false })
    const md = await conn.request(Metadata, { topics: [] }, { version: 12 })
    expect(md.clusterId).toBe('fake')
    await conn.close()
  })

  test('many responses in one chunk are all matched to their requests', async () => {
    let held: Buffer[] = []
    const { port } = await fakeBroker((h, s) => {
      held.push(metadataAnswer(h, `c${h.correlationId}`))
      if (held.length === 5) {
        s.write(Buffer.concat(held))
        held = []
      }
    })
    const conn = await Connection.connect({ host: '127.0.0.1', port, handshake: false })
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => conn.request(Metadata, { topics: [] }, { version: 12 })),
    )
    expect(answers.map((a) => a.clusterId)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4'])
    await conn.close()
  })

  test('correlation ids wrap from 2^31-1 to 0', async () => {
    const { port, headers } = await fakeBroker((h, s) => s.write(metadataAnswer(h)))
    const conn = await Connection.connect({ host: '127.0.0.1', port, handshake: false })
    ;(conn as unknown as { nextCorrelationId: number }).nextCorrelationId = 2 ** 31 - 2
    for (let i = 0; i < 3; i++) await conn.request(Metadata, { topics: [] }, { version: 12 })
    expect(headers.map((h) => h.correlationId)).toEqual([2 ** 31 - 2, 2 ** 31 - 1, 0])
    await conn.close()
  })

  test('a response with a correlation id never sent closes the connection with a ProtocolError', async () => {
    const { port } = await fakeBroker((h, s) =>
      s.write(metadataAnswer({ ...h, correlationId: h.correlationId + 1000 })),
    )
    const conn = await Connection.connect({ host: '127.0.0.1', port, handshake: false })
    const err = await conn.request(Metadata, { topics: [] }, { version: 12 }).catch((e) => e)
    expect(err).toBeInstanceOf(ProtocolError)
    expect((err as Error).message).toMatch(/unknown correlation id 1000/)
    expect(conn.isClosed).toBe(true)
  })

  test('a negative frame size closes the connection with a ProtocolError', async () => {
    const { port } = await fakeBroker((_, s) => s.write(Buffer.from([0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0])))
    const conn = await Connection.connect({ host: '127.0.0.1', port, handshake: false })
    const err = await conn.request(Metadata, { topics: [] }, { version: 12 }).catch((e) => e)
    expect(err).toBeInstanceOf(ProtocolError)
    expect((err as Error).message).toMatch(/too small for a header/)
  })

  test('a body that does not decode at the requested version is a ProtocolError, not a crash', async () => {
    const { port } = await fakeBroker((h, s) => {
      s.write(metadataAnswer(h).fill(0xff, 8)) // a garbage body behind a valid size and correlation id
    })
    const conn = await Connection.connect({ host: '127.0.0.1', port, handshake: false })
    const patched = await conn.request(Metadata, { topics: [] }, { version: 12 }).catch((e) => e)
    expect(patched).toBeInstanceOf(ProtocolError)
    await conn.close()
  })

  test('a peer that never answers the handshake times out, and the socket is closed', async () => {
    let closed = false
    const server = net.createServer((s) => s.resume().on('close', () => (closed = true)))
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as net.AddressInfo).port
    const t0 = Date.now()
    const err = await Connection.connect({ host: '127.0.0.1', port, connectTimeoutMs: 300 }).catch((e) => e)
    expect(err).toBeInstanceOf(RequestTimeoutError)
    expect(Date.now() - t0).toBeLessThan(2000)
    await new Promise((r) => setTimeout(r, 100))
    expect(closed).toBe(true)
  })

  test('a peer that hangs up mid-response rejects the request with ConnectionError', async () => {
    const { port } = await fakeBroker((h, s) => {
      s.write(metadataAnswer(h).subarray(0, 10))
      s.destroy()
    })
    const conn = await Connection.connect({ host: '127.0.0.1', port, handshake: false })
    const err = await conn.request(Metadata, { topics: [] }, { version: 12 }).catch((e) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect((err as Error).message).toMatch(/closed by the broker/)
  })
})
