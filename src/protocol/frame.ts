import type { Api, DecodedRequestOf, EncodableResponseOf, RequestOf, ResponseOf } from './api.js'
import { ProtocolError } from './errors.js'
import { Reader } from './reader.js'
import { Writer } from './writer.js'

/**
 * Request and response framing: a 4-byte size, then a header, then the body.
 * Request header v1 = api key, api version, correlation id, client id (a classic nullable string even in flexible
 * versions); v2 adds a tagged-field section and is used from an API's first flexible version on.
 * Response header v0 = correlation id; v1 adds tagged fields (flexible versions, except ApiVersions: always v0).
 */

export interface RequestHeader {
  apiKey: number
  apiVersion: number
  correlationId: number
  clientId: string | null
}

function requestLabel(api: Api, version: number): string {
  return `${api.name} v${version} request`
}

function responseLabel(api: Api, version: number): string {
  return `${api.name} v${version} response`
}

/** Encodes a whole request frame, size prefix included. */
export function encodeRequest<A extends Api>(
  api: A,
  version: number,
  correlationId: number,
  clientId: string | null,
  body: RequestOf<A>,
  w: Writer = new Writer(),
): Buffer {
  const flexible = api.isFlexible(version)
  w.pos = 0
  w.version = version
  w.flexible = false
  w.reserve(4)
  w.int16(api.key).int16(version).int32(correlationId).nullableString(clientId)
  w.flexible = flexible
  if (flexible) w.taggedFields()
  api.request.write(w, body, api.name)
  const frame = w.view()
  frame.writeInt32BE(frame.length - 4, 0)
  return frame
}

/**
 * The same frame as `encodeRequest`, as a list of buffers to write in order (one writev): large byte fields (record
 * batches) are not copied into the frame but referenced, so they must not change until written. The size prefix is
 * in the first buffer.
 */
export function encodeRequestChunks<A extends Api>(
  api: A,
  version: number,
  correlationId: number,
  clientId: string | null,
  body: RequestOf<A>,
): Uint8Array[] {
  const w = new Writer()
  w.version = version
  w.flexible = false
  w.startChunks()
  w.reserve(4)
  w.int16(api.key).int16(version).int32(correlationId).nullableString(clientId)
  w.flexible = api.isFlexible(version)
  if (w.flexible) w.taggedFields()
  api.request.write(w, body, api.name)
  const size = w.pos - 4 + w.external
  const chunks = w.takeChunks()
  const first = chunks[0]!
  Buffer.from(first.buffer, first.byteOffset, first.length).writeInt32BE(size, 0)
  return chunks
}

/** Reads the correlation id at the start of a response frame (size prefix already removed). */
export function peekCorrelationId(frame: Buffer): number {
  if (frame.length < 4) throw new ProtocolError(`response frame of ${frame.length} bytes has no correlation id`)
  return frame.readInt32BE(0)
}

/** Decodes a response frame whose size prefix has been removed. Trailing bytes are an error: they mean the
 * frame was read at the wrong version. */
export function decodeResponse<A extends Api>(api: A, version: number, frame: Buffer): ResponseOf<A> {
  const rd = new Reader(frame)
  rd.label = responseLabel(api, version)
  rd.version = version
  rd.int32('CorrelationId')
  const flexible = api.isFlexible(version)
  if (flexible && !api.responseHeaderAlwaysV0) {
    rd.flexible = true
    rd.taggedFields(undefined, 'ResponseHeader')
  }
  rd.flexible = flexible
  const body = api.response.read(rd, api.name) as ResponseOf<A>
  if (rd.remaining !== 0) rd.fail(`${rd.remaining} unread bytes after the response body`)
  return body
}

/** Reads a request header (size prefix removed), leaving the reader at the body. For brokers-in-tests and proxies. */
export function decodeRequestHeader(frame: Buffer, flexibleOf: (apiKey: number, version: number) => boolean) {
  const rd = new Reader(frame)
  rd.label = 'request header'
  const apiKey = rd.int16('RequestApiKey')
  const apiVersion = rd.int16('RequestApiVersion')
  const correlationId = rd.int32('CorrelationId')
  const clientId = rd.nullableString('ClientId')
  const flexible = flexibleOf(apiKey, apiVersion)
  if (flexible) {
    rd.flexible = true
    rd.taggedFields(undefined, 'RequestHeader')
  }
  const header: RequestHeader = { apiKey, apiVersion, correlationId, clientId }
  return { header, reader: rd }
}

/** Decodes a request frame (size prefix removed) of a known API. */
export function decodeRequest<A extends Api>(
  api: A,
  frame: Buffer,
): { header: RequestHeader; body: DecodedRequestOf<A> } {
  const { header, reader: rd } = decodeRequestHeader(frame, (_, v) => api.isFlexible(v))
  if (header.apiKey !== api.key) rd.fail(`request for api key ${header.apiKey}, expected ${api.name} (${api.key})`)
  rd.label = requestLabel(api, header.apiVersion)
  rd.version = header.apiVersion
  rd.flexible = api.isFlexible(header.apiVersion)
  const body = api.request.read(rd, api.name) as DecodedRequestOf<A>
  if (rd.remaining !== 0) rd.fail(`${rd.remaining} unread bytes after the request body`)
  return { header, body }
}

/** Encodes a whole response frame, size prefix included. */
export function encodeResponse<A extends Api>(
  api: A,
  version: number,
  correlationId: number,
  body: EncodableResponseOf<A>,
  w: Writer = new Writer(),
): Buffer {
  const flexible = api.isFlexible(version)
  w.pos = 0
  w.version = version
  w.flexible = flexible
  w.reserve(4)
  w.int32(correlationId)
  if (flexible && !api.responseHeaderAlwaysV0) w.taggedFields()
  api.response.write(w, body, api.name)
  const frame = w.view()
  frame.writeInt32BE(frame.length - 4, 0)
  return frame
}

/** Encodes just a request body (no header), e.g. for byte-level comparisons in tests. */
export function encodeRequestBody<A extends Api>(api: A, version: number, body: RequestOf<A>): Buffer {
  const w = new Writer()
  w.version = version
  w.flexible = api.isFlexible(version)
  api.request.write(w, body, api.name)
  return Buffer.from(w.view())
}

export function decodeResponseBody<A extends Api>(api: A, version: number, bytes: Buffer): ResponseOf<A> {
  const rd = new Reader(bytes)
  rd.label = responseLabel(api, version)
  rd.version = version
  rd.flexible = api.isFlexible(version)
  const body = api.response.read(rd, api.name) as ResponseOf<A>
  if (rd.remaining !== 0) rd.fail(`${rd.remaining} unread bytes after the response body`)
  return body
}
