import { describe, expect, test } from 'vitest'
import type { EncodableResponseOf } from '../../../../src/protocol/api.js'
import { InitProducerId, type InitProducerIdRequest } from '../../../../src/protocol/apis/init-producer-id.js'
import { UnsupportedVersionError } from '../../../../src/protocol/errors.js'
import {
  decodeRequest,
  decodeResponse,
  decodeResponseBody,
  encodeRequest,
  encodeRequestBody,
  encodeResponse,
} from '../../../../src/protocol/frame.js'

const hex = (s: string) => s.replace(/\s+/g, '')

function requestRoundTrip(version: number, body: InitProducerIdRequest) {
  const frame = encodeRequest(InitProducerId, version, 2, 'skiff', body)
  const { header, body: decoded } = decodeRequest(InitProducerId, frame.subarray(4))
  expect(header).toEqual({ apiKey: 22, apiVersion: version, correlationId: 2, clientId: 'skiff' })
  return decoded
}

function responseRoundTrip(version: number, body: EncodableResponseOf<typeof InitProducerId>) {
  return decodeResponse(InitProducerId, version, encodeResponse(InitProducerId, version, 2, body).subarray(4))
}

describe('InitProducerId requests', () => {
  test('v0: an idempotent producer asks for an id', () => {
    expect(requestRoundTrip(0, { transactionalId: null, transactionTimeoutMs: 60_000 })).toEqual({
      transactionalId: null,
      transactionTimeoutMs: 60_000,
      producerId: -1n,
      producerEpoch: -1,
      enable2Pc: false,
      keepPreparedTxn: false,
    })
  })

  test('v3: a transactional producer bumps its epoch after INVALID_PRODUCER_EPOCH (KIP-360)', () => {
    const body = { transactionalId: 'payments-tx-1', transactionTimeoutMs: 60_000, producerId: 4000n, producerEpoch: 2 }
    expect(requestRoundTrip(3, body)).toEqual({ ...body, enable2Pc: false, keepPreparedTxn: false })
  })

  test('v6, the maximum: two-phase commit, keeping the prepared transaction (KIP-939)', () => {
    const body = {
      transactionalId: 'payments-tx-1',
      transactionTimeoutMs: 60_000,
      producerId: -1n,
      producerEpoch: -1,
      enable2Pc: true,
      keepPreparedTxn: true,
    }
    expect(requestRoundTrip(6, body)).toEqual(body)
  })

  test('v3 adds the current producer id and epoch; v2 cannot carry them', () => {
    expect(
      encodeRequestBody(InitProducerId, 2, { transactionalId: null, transactionTimeoutMs: 60_000 }).toString('hex'),
    ).toBe(hex('00 0000ea60 00'))
    const resume = { transactionalId: null, transactionTimeoutMs: 60_000, producerId: 4000n, producerEpoch: 2 }
    expect(encodeRequestBody(InitProducerId, 3, resume).toString('hex')).toBe(
      hex('00 0000ea60 0000000000000fa0 0002 00'),
    )
    expect(() => encodeRequestBody(InitProducerId, 2, resume)).toThrow(UnsupportedVersionError)
  })
})

describe('InitProducerId responses', () => {
  test('v0: a new producer id at epoch 0', () => {
    const body = { throttleTimeMs: 0, errorCode: 0, producerId: 4000n, producerEpoch: 0 }
    expect(responseRoundTrip(0, body)).toEqual({ ...body, ongoingTxnProducerId: -1n, ongoingTxnProducerEpoch: -1 })
  })

  test('v3: the epoch bumped', () => {
    const body = { throttleTimeMs: 0, errorCode: 0, producerId: 4000n, producerEpoch: 3 }
    expect(responseRoundTrip(3, body)).toEqual({ ...body, ongoingTxnProducerId: -1n, ongoingTxnProducerEpoch: -1 })
  })

  test('v6, the maximum: the id and epoch of the transaction left prepared', () => {
    const body = {
      throttleTimeMs: 0,
      errorCode: 0,
      producerId: 4000n,
      producerEpoch: 4,
      ongoingTxnProducerId: 4000n,
      ongoingTxnProducerEpoch: 3,
    }
    expect(responseRoundTrip(6, body)).toEqual(body)
  })

  test('a v1 response body decodes from hand-written bytes', () => {
    expect(
      decodeResponseBody(InitProducerId, 1, Buffer.from(hex('00000000 0000 0000000000000fa0 0000'), 'hex')),
    ).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      producerId: 4000n,
      producerEpoch: 0,
      ongoingTxnProducerId: -1n,
      ongoingTxnProducerEpoch: -1,
    })
  })
})
