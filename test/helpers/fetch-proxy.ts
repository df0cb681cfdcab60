import net from 'node:net'
import { Fetch, type FetchResponse } from '../../src/protocol/apis/fetch.js'
import { ALL_APIS } from '../../src/protocol/apis/index.js'
import { decodeRequestHeader, decodeResponse, encodeResponse } from '../../src/protocol/frame.js'

/**
 * A man-in-the-middle between a client and a real broker that lets a test rewrite Fetch responses: every other
 * byte passes through untouched. This is how bytes the broker would never store (a batch whose header lies about
 * its record count, a corrupted CRC, a truncated record) reach the client on a real connection.
 */
export interface FetchProxy {
  port: number
  close(): Promise<void>
}

export type FetchRewrite = (response: FetchResponse, version: number) => FetchResponse

const flexibleOf = (key: number, version: number) => ALL_APIS.find((a) => a.key === key)?.isFlexible(version) ?? false

/** Splits a byte stream into size-prefixed frames. */
function frames(onFrame: (frame: Buffer) => void) {
  let buf: Buffer = Buffer.alloc(0)
  return (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
    while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
      const size = buf.readInt32BE(0)
      onFrame(buf.subarray(0, 4 + size))
      buf = buf.subarray(4 + size)
    }
  }
}

export async function startFetchProxy(
  broker: { host: string; port: number },
  rewrite: FetchRewrite,
): Promise<FetchProxy> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(broker)
    sockets.add(client).add(upstream)
    const pending = new Map<number, { apiKey: number; version: number }>()
    client.on(
      'data',
      frames((frame) => {
        const { header } = decodeRequestHeader(frame.subarray(4), flexibleOf)
        pending.set(header.correlationId, { apiKey: header.apiKey, version: header.apiVersion })
        upstream.write(frame)
      }),
    )
    upstream.on(
      'data',
      frames((frame) => {
        const correlationId = frame.readInt32BE(4)
        const req = pending.get(correlationId)
        pending.delete(correlationId)
        if (req?.apiKey !== Fetch.key) {
          client.write(frame)
          return
        }
        const res = decodeResponse(Fetch, req.version, frame.subarray(4))
        client.write(encodeResponse(Fetch, req.version, correlationId, rewrite(res, req.version)))
      }),
    )
    const end = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('close', end).on('error', end)
    upstream.on('close', end).on('error', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
