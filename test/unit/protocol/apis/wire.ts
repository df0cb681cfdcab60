import type { Api, DecodedRequestOf, EncodableResponseOf, RequestOf, ResponseOf } from '../../../../src/protocol/api.js'
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeRequestBody,
  encodeResponse,
} from '../../../../src/protocol/frame.js'

/** Shared by the API codec tests: whole frames through the frame.ts helpers, as a client and a broker see them. */

export const CLIENT_ID = 'skiff-test'

/** Encodes a request frame and decodes it back as a broker would; checks the header on the way. */
export function sendRequest<A extends Api>(api: A, version: number, body: RequestOf<A>): DecodedRequestOf<A> {
  const frame = encodeRequest(api, version, 4242, CLIENT_ID, body)
  if (frame.readInt32BE(0) !== frame.length - 4) throw new Error('request size prefix does not match the frame')
  const decoded = decodeRequest(api, frame.subarray(4))
  const { header } = decoded
  if (header.apiKey !== api.key || header.apiVersion !== version || header.correlationId !== 4242) {
    throw new Error(`request header came back as ${JSON.stringify(header)}`)
  }
  return decoded.body
}

/** Encodes a response frame as a broker would and decodes it as the client does. */
export function receiveResponse<A extends Api>(api: A, version: number, body: EncodableResponseOf<A>): ResponseOf<A> {
  const frame = encodeResponse(api, version, 4242, body)
  if (frame.readInt32BE(0) !== frame.length - 4) throw new Error('response size prefix does not match the frame')
  return decodeResponse(api, version, frame.subarray(4))
}

/** A request body's bytes (no header) as hex, for byte-level expectations. */
export function requestHex<A extends Api>(api: A, version: number, body: RequestOf<A>): string {
  return encodeRequestBody(api, version, body).toString('hex')
}

/** A response body's bytes (no size prefix, no header) as hex. */
export function responseHex<A extends Api>(api: A, version: number, body: EncodableResponseOf<A>): string {
  const frame = encodeResponse(api, version, 0, body)
  const headerSize = api.isFlexible(version) && !api.responseHeaderAlwaysV0 ? 5 : 4
  return frame.subarray(4 + headerSize).toString('hex')
}

/** Hex with spaces and newlines allowed, for readable expectations. */
export const hex = (text: string): string => text.replace(/\s+/g, '')
