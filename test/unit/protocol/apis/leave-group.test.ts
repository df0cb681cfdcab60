import { describe, expect, test } from 'vitest'
import type { EncodableResponseOf } from '../../../../src/protocol/api.js'
import { LeaveGroup, type LeaveGroupRequest } from '../../../../src/protocol/apis/leave-group.js'
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

function requestRoundTrip(version: number, body: LeaveGroupRequest) {
  const frame = encodeRequest(LeaveGroup, version, 17, 'skiff', body)
  const { header, body: decoded } = decodeRequest(LeaveGroup, frame.subarray(4))
  expect(header).toEqual({ apiKey: 13, apiVersion: version, correlationId: 17, clientId: 'skiff' })
  return decoded
}

function responseRoundTrip(version: number, body: EncodableResponseOf<typeof LeaveGroup>) {
  return decodeResponse(LeaveGroup, version, encodeResponse(LeaveGroup, version, 17, body).subarray(4))
}

describe('LeaveGroup requests', () => {
  test('v0: one member leaves by member id', () => {
    expect(requestRoundTrip(0, { groupId: 'billing', memberId: 'member-a' })).toEqual({
      groupId: 'billing',
      memberId: 'member-a',
      members: [],
    })
  })

  test('v3: a batch of members, static and dynamic', () => {
    const body = {
      groupId: 'billing',
      members: [
        { memberId: 'member-a', groupInstanceId: 'billing-host-1' },
        { memberId: 'member-b', groupInstanceId: null },
      ],
    }
    expect(requestRoundTrip(3, body)).toEqual({
      groupId: 'billing',
      memberId: '',
      members: body.members.map((m) => ({ ...m, reason: null })),
    })
  })

  test('v5, the maximum: with a reason (KIP-800)', () => {
    const body = {
      groupId: 'billing',
      members: [{ memberId: 'member-a', groupInstanceId: null, reason: 'the consumer is being closed' }],
    }
    expect(requestRoundTrip(5, body)).toEqual({ ...body, memberId: '' })
  })

  test('v2 names one member; v3 sends a list of identities', () => {
    expect(encodeRequestBody(LeaveGroup, 2, { groupId: 'g', memberId: 'm' }).toString('hex')).toBe(
      hex('0001 67 0001 6d'),
    )
    expect(
      encodeRequestBody(LeaveGroup, 3, { groupId: 'g', members: [{ memberId: 'm', groupInstanceId: 'i' }] }).toString(
        'hex',
      ),
    ).toBe(hex('0001 67 00000001 0001 6d 0001 69'))
    expect(() => encodeRequestBody(LeaveGroup, 2, { groupId: 'g', members: [{ memberId: 'm' }] })).toThrow(
      UnsupportedVersionError,
    )
  })
})

describe('LeaveGroup responses', () => {
  test('v0: only the error code', () => {
    expect(responseRoundTrip(0, { errorCode: 25 })).toEqual({ throttleTimeMs: 0, errorCode: 25, members: [] }) // UNKNOWN_MEMBER_ID
  })

  test('v3: one answer per member', () => {
    const body = {
      throttleTimeMs: 0,
      errorCode: 0,
      members: [
        { memberId: 'member-a', groupInstanceId: 'billing-host-1', errorCode: 0 },
        { memberId: 'member-b', groupInstanceId: null, errorCode: 25 },
      ],
    }
    expect(responseRoundTrip(3, body)).toEqual(body)
  })

  test('v5, the maximum', () => {
    const body = {
      throttleTimeMs: 3,
      errorCode: 0,
      members: [{ memberId: 'member-a', groupInstanceId: null, errorCode: 0 }],
    }
    expect(responseRoundTrip(5, body)).toEqual(body)
  })

  test('a v4 response body decodes from hand-written bytes', () => {
    const bytes = hex('00000000 0000 02 0261 00 0000 00 00')
    expect(decodeResponseBody(LeaveGroup, 4, Buffer.from(bytes, 'hex'))).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      members: [{ memberId: 'a', groupInstanceId: null, errorCode: 0 }],
    })
  })
})
