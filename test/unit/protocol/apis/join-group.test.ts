import { describe, expect, test } from 'vitest'
import type { EncodableResponseOf } from '../../../../src/protocol/api.js'
import { JoinGroup, type JoinGroupRequest } from '../../../../src/protocol/apis/join-group.js'
import {
  decodeRequest,
  decodeResponse,
  decodeResponseBody,
  encodeRequest,
  encodeRequestBody,
  encodeResponse,
} from '../../../../src/protocol/frame.js'

const hex = (s: string) => s.replace(/\s+/g, '')
// Stand-ins for ConsumerProtocolSubscription bytes: opaque to this API.
const SUBSCRIPTION = Buffer.from('0003000000010006 6f7264657273 ffffffff'.replace(/\s+/g, ''), 'hex')
const OTHER_SUBSCRIPTION = Buffer.from('000300000000ffffffff', 'hex')

function requestRoundTrip(version: number, body: JoinGroupRequest) {
  const frame = encodeRequest(JoinGroup, version, 9, 'skiff', body)
  const { header, body: decoded } = decodeRequest(JoinGroup, frame.subarray(4))
  expect(header).toEqual({ apiKey: 11, apiVersion: version, correlationId: 9, clientId: 'skiff' })
  return decoded
}

function responseRoundTrip(version: number, body: EncodableResponseOf<typeof JoinGroup>) {
  return decodeResponse(JoinGroup, version, encodeResponse(JoinGroup, version, 9, body).subarray(4))
}

function responseBody(version: number, body: EncodableResponseOf<typeof JoinGroup>) {
  return encodeResponse(JoinGroup, version, 0, body).subarray(JoinGroup.isFlexible(version) ? 9 : 8)
}

describe('JoinGroup requests', () => {
  test('v0: a first join, with no rebalance timeout (the session timeout stands in)', () => {
    const body = {
      groupId: 'billing',
      sessionTimeoutMs: 45_000,
      memberId: '',
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: SUBSCRIPTION }],
    }
    expect(requestRoundTrip(0, body)).toEqual({
      ...body,
      rebalanceTimeoutMs: -1,
      groupInstanceId: null,
      reason: null,
    })
  })

  test('v5: a static member rejoins with its assigned member id, offering two assignors', () => {
    const body = {
      groupId: 'billing',
      sessionTimeoutMs: 45_000,
      rebalanceTimeoutMs: 300_000,
      memberId: 'skiff-billing-host-1-3b1d',
      groupInstanceId: 'billing-host-1',
      protocolType: 'consumer',
      protocols: [
        { name: 'cooperative-sticky', metadata: SUBSCRIPTION },
        { name: 'range', metadata: SUBSCRIPTION },
      ],
    }
    expect(requestRoundTrip(5, body)).toEqual({ ...body, reason: null })
  })

  test('v9, the maximum: a rejoin with a reason (KIP-800)', () => {
    const body = {
      groupId: 'billing',
      sessionTimeoutMs: 45_000,
      rebalanceTimeoutMs: 300_000,
      memberId: 'skiff-billing-3b1d',
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: SUBSCRIPTION }],
      reason: 'rebalance failed due to UnknownMemberIdException',
    }
    expect(requestRoundTrip(9, body)).toEqual(body)
  })

  test('v1 adds the rebalance timeout after the session timeout', () => {
    const body = {
      groupId: 'g',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 60_000,
      memberId: '',
      protocolType: 'consumer',
      protocols: [],
    }
    expect(encodeRequestBody(JoinGroup, 0, body).toString('hex')).toBe(
      hex('0001 67 00002710 0000 0008 636f6e73756d6572 00000000'),
    )
    expect(encodeRequestBody(JoinGroup, 1, body).toString('hex')).toBe(
      hex('0001 67 00002710 0000ea60 0000 0008 636f6e73756d6572 00000000'),
    )
  })
})

describe('JoinGroup responses', () => {
  test('v0: the leader gets every member’s subscription', () => {
    const decoded = responseRoundTrip(0, {
      errorCode: 0,
      generationId: 1,
      protocolName: 'range',
      leader: 'member-a',
      memberId: 'member-a',
      members: [
        { memberId: 'member-a', metadata: SUBSCRIPTION },
        { memberId: 'member-b', metadata: OTHER_SUBSCRIPTION },
      ],
    })
    expect(decoded).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      generationId: 1,
      protocolType: null,
      protocolName: 'range',
      leader: 'member-a',
      skipAssignment: false,
      memberId: 'member-a',
      members: [
        { memberId: 'member-a', groupInstanceId: null, metadata: SUBSCRIPTION },
        { memberId: 'member-b', groupInstanceId: null, metadata: OTHER_SUBSCRIPTION },
      ],
    })
  })

  test('v5: static members come back with their instance ids', () => {
    const body = {
      throttleTimeMs: 0,
      errorCode: 0,
      generationId: 8,
      protocolName: 'cooperative-sticky',
      leader: 'member-a',
      memberId: 'member-a',
      members: [{ memberId: 'member-a', groupInstanceId: 'billing-host-1', metadata: SUBSCRIPTION }],
    }
    expect(responseRoundTrip(5, body)).toEqual({ ...body, protocolType: null, skipAssignment: false })
  })

  test('v9, the maximum: a static leader told to skip the assignment (KIP-814)', () => {
    const body = {
      throttleTimeMs: 0,
      errorCode: 0,
      generationId: 9,
      protocolType: 'consumer',
      protocolName: 'range',
      leader: 'member-a',
      skipAssignment: true,
      memberId: 'member-a',
      members: [{ memberId: 'member-a', groupInstanceId: 'billing-host-1', metadata: SUBSCRIPTION }],
    }
    expect(responseRoundTrip(9, body)).toEqual(body)
  })

  test('v7 sends MEMBER_ID_REQUIRED with null protocol type and name; v6 cannot null the name', () => {
    const body = {
      errorCode: 79, // MEMBER_ID_REQUIRED
      generationId: -1,
      protocolType: null,
      protocolName: null,
      leader: '',
      memberId: 'm-1',
      members: [],
    }
    expect(responseBody(7, body).toString('hex')).toBe(hex('00000000 004f ffffffff 00 00 01 04 6d2d31 01 00'))
    expect(decodeResponseBody(JoinGroup, 7, responseBody(7, body))).toEqual({
      ...body,
      throttleTimeMs: 0,
      skipAssignment: false,
    })
    expect(() => responseBody(6, body)).toThrow(TypeError)
  })
})
