import { describe, expect, test } from 'vitest'
import type { EncodableResponseOf } from '../../../../src/protocol/api.js'
import { Heartbeat, type HeartbeatRequest } from '../../../../src/protocol/apis/heartbeat.js'
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '../../../../src/protocol/frame.js'

const hex = (s: string) => s.replace(/\s+/g, '')

function requestRoundTrip(version: number, body: HeartbeatRequest) {
  const frame = encodeRequest(Heartbeat, version, 13, 'skiff', body)
  const { header, body: decoded } = decodeRequest(Heartbeat, frame.subarray(4))
  expect(header).toEqual({ apiKey: 12, apiVersion: version, correlationId: 13, clientId: 'skiff' })
  return decoded
}

function responseRoundTrip(version: number, body: EncodableResponseOf<typeof Heartbeat>) {
  return decodeResponse(Heartbeat, version, encodeResponse(Heartbeat, version, 13, body).subarray(4))
}

describe('Heartbeat requests', () => {
  test('v0: a dynamic member', () => {
    const body = { groupId: 'billing', generationId: 3, memberId: 'member-a' }
    expect(requestRoundTrip(0, body)).toEqual({ ...body, groupInstanceId: null })
  })

  test('v3: a static member', () => {
    const body = { groupId: 'billing', generationId: 3, memberId: 'member-a', groupInstanceId: 'billing-host-1' }
    expect(requestRoundTrip(3, body)).toEqual(body)
  })

  test('v4, the maximum and first flexible version', () => {
    const body = { groupId: 'billing', generationId: 4, memberId: 'member-a', groupInstanceId: null }
    expect(requestRoundTrip(4, body)).toEqual(body)
  })

  test('whole frames: v3 uses request header v1 and classic strings, v4 header v2 and compact strings', () => {
    const body = { groupId: 'g', generationId: 2, memberId: 'm', groupInstanceId: null }
    expect(encodeRequest(Heartbeat, 3, 1, 'c', body).toString('hex')).toBe(
      hex('00000017 000c 0003 00000001 0001 63   0001 67 00000002 0001 6d ffff'),
    )
    expect(encodeRequest(Heartbeat, 4, 1, 'c', body).toString('hex')).toBe(
      hex('00000016 000c 0004 00000001 0001 63 00   0267 00000002 026d 00 00'),
    )
  })
})

describe('Heartbeat responses', () => {
  test('v0: only an error code', () => {
    expect(responseRoundTrip(0, { errorCode: 27 })).toEqual({ throttleTimeMs: 0, errorCode: 27 }) // REBALANCE_IN_PROGRESS
  })

  test('v2: throttled', () => {
    expect(responseRoundTrip(2, { throttleTimeMs: 30, errorCode: 0 })).toEqual({ throttleTimeMs: 30, errorCode: 0 })
  })

  test('v4: a fenced static member', () => {
    expect(responseRoundTrip(4, { throttleTimeMs: 0, errorCode: 82 })).toEqual({ throttleTimeMs: 0, errorCode: 82 }) // FENCED_INSTANCE_ID
  })

  test('whole frames: v3 uses response header v0, v4 header v1 with its tag section', () => {
    expect(encodeResponse(Heartbeat, 3, 1, { throttleTimeMs: 0, errorCode: 27 }).toString('hex')).toBe(
      hex('0000000a 00000001 00000000 001b'),
    )
    expect(encodeResponse(Heartbeat, 4, 1, { throttleTimeMs: 0, errorCode: 27 }).toString('hex')).toBe(
      hex('0000000c 00000001 00 00000000 001b 00'),
    )
  })
})
