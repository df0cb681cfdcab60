import { describe, expect, test } from 'vitest'
import type { EncodableResponseOf } from '../../../../src/protocol/api.js'
import { FindCoordinator, type FindCoordinatorRequest } from '../../../../src/protocol/apis/find-coordinator.js'
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

function requestRoundTrip(version: number, body: FindCoordinatorRequest) {
  const frame = encodeRequest(FindCoordinator, version, 1, 'skiff', body)
  const { header, body: decoded } = decodeRequest(FindCoordinator, frame.subarray(4))
  expect(header).toEqual({ apiKey: 10, apiVersion: version, correlationId: 1, clientId: 'skiff' })
  return decoded
}

function responseRoundTrip(version: number, body: EncodableResponseOf<typeof FindCoordinator>) {
  return decodeResponse(FindCoordinator, version, encodeResponse(FindCoordinator, version, 1, body).subarray(4))
}

describe('FindCoordinator requests', () => {
  test('v0: a group coordinator, the only kind v0 knows', () => {
    expect(requestRoundTrip(0, { key: 'billing' })).toEqual({ key: 'billing', keyType: 0, coordinatorKeys: [] })
  })

  test('v3, the first flexible version: a transaction coordinator', () => {
    expect(requestRoundTrip(3, { key: 'payments-tx-1', keyType: 1 })).toEqual({
      key: 'payments-tx-1',
      keyType: 1,
      coordinatorKeys: [],
    })
  })

  test('v6, the maximum: a batch of share-group keys', () => {
    const body = {
      keyType: 2,
      coordinatorKeys: ['billing:AAECAwQFBgcICQoLDA0ODw:0', 'billing:AAECAwQFBgcICQoLDA0ODw:1'],
    }
    expect(requestRoundTrip(6, body)).toEqual({ ...body, key: '' })
  })

  test('v0 is the key alone, v1 adds the key type, v4 replaces the key with a list', () => {
    expect(encodeRequestBody(FindCoordinator, 0, { key: 'g' }).toString('hex')).toBe(hex('0001 67'))
    expect(encodeRequestBody(FindCoordinator, 1, { key: 'g', keyType: 1 }).toString('hex')).toBe(hex('0001 67 01'))
    expect(encodeRequestBody(FindCoordinator, 4, { keyType: 1, coordinatorKeys: ['g'] }).toString('hex')).toBe(
      hex('01 02 0267 00'),
    )
    // Neither the key type nor the key list is ignorable: v0 cannot find a transaction coordinator.
    expect(() => encodeRequestBody(FindCoordinator, 0, { key: 'g', keyType: 1 })).toThrow(UnsupportedVersionError)
    expect(() => encodeRequestBody(FindCoordinator, 3, { coordinatorKeys: ['g'] })).toThrow(UnsupportedVersionError)
  })
})

describe('FindCoordinator responses', () => {
  test('v0: one coordinator at the top level', () => {
    const decoded = responseRoundTrip(0, { errorCode: 0, nodeId: 2, host: 'broker-2.kafka', port: 9092 })
    expect(decoded).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: '',
      nodeId: 2,
      host: 'broker-2.kafka',
      port: 9092,
      coordinators: [],
    })
  })

  test('v3: an error with its message', () => {
    const body = {
      throttleTimeMs: 0,
      errorCode: 15, // COORDINATOR_NOT_AVAILABLE
      errorMessage: 'The coordinator is not available.',
      nodeId: -1,
      host: '',
      port: -1,
    }
    expect(responseRoundTrip(3, body)).toEqual({ ...body, coordinators: [] })
  })

  test('v6: one answer per key', () => {
    const body = {
      throttleTimeMs: 0,
      coordinators: [
        { key: 'billing', nodeId: 1, host: 'broker-1.kafka', port: 9092, errorCode: 0, errorMessage: null },
        { key: 'audit', nodeId: -1, host: '', port: -1, errorCode: 14, errorMessage: null }, // COORDINATOR_LOAD_IN_PROGRESS
      ],
    }
    expect(responseRoundTrip(6, body)).toEqual({
      ...body,
      errorCode: 0,
      errorMessage: '',
      nodeId: 0,
      host: '',
      port: 0,
    })
  })

  test('v1 and v4 response bodies decode from hand-written bytes', () => {
    const v1 = hex('00000000 0000 ffff 00000002 0002 6232 00002384')
    expect(decodeResponseBody(FindCoordinator, 1, Buffer.from(v1, 'hex'))).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      nodeId: 2,
      host: 'b2',
      port: 9092,
      coordinators: [],
    })
    const v4 = hex('00000000 02 0267 00000002 03 6232 00002384 0000 00 00 00')
    expect(decodeResponseBody(FindCoordinator, 4, Buffer.from(v4, 'hex')).coordinators).toEqual([
      { key: 'g', nodeId: 2, host: 'b2', port: 9092, errorCode: 0, errorMessage: null },
    ])
  })
})
