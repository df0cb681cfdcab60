import { describe, expect, test } from 'vitest'
import type { EncodableResponseOf } from '../../../../src/protocol/api.js'
import { SyncGroup, type SyncGroupRequest } from '../../../../src/protocol/apis/sync-group.js'
import {
  decodeRequest,
  decodeResponse,
  decodeResponseBody,
  encodeRequest,
  encodeRequestBody,
  encodeResponse,
} from '../../../../src/protocol/frame.js'

const hex = (s: string) => s.replace(/\s+/g, '')
// Stand-ins for ConsumerProtocolAssignment bytes: opaque to this API.
const ASSIGNMENT_A = Buffer.from('00030000000100066f726465727300000002000000000000000100000000', 'hex')
const ASSIGNMENT_B = Buffer.from('00030000000100066f72646572730000000100000002ffffffff', 'hex')

function requestRoundTrip(version: number, body: SyncGroupRequest) {
  const frame = encodeRequest(SyncGroup, version, 21, 'skiff', body)
  const { header, body: decoded } = decodeRequest(SyncGroup, frame.subarray(4))
  expect(header).toEqual({ apiKey: 14, apiVersion: version, correlationId: 21, clientId: 'skiff' })
  return decoded
}

function responseRoundTrip(version: number, body: EncodableResponseOf<typeof SyncGroup>) {
  return decodeResponse(SyncGroup, version, encodeResponse(SyncGroup, version, 21, body).subarray(4))
}

describe('SyncGroup requests', () => {
  test('v0: the leader hands out every member’s assignment', () => {
    const body = {
      groupId: 'billing',
      generationId: 1,
      memberId: 'member-a',
      assignments: [
        { memberId: 'member-a', assignment: ASSIGNMENT_A },
        { memberId: 'member-b', assignment: ASSIGNMENT_B },
      ],
    }
    expect(requestRoundTrip(0, body)).toEqual({
      ...body,
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
    })
  })

  test('v4, the first flexible version: a static follower sends no assignments', () => {
    const body = {
      groupId: 'billing',
      generationId: 2,
      memberId: 'member-b',
      groupInstanceId: 'billing-host-2',
      assignments: [],
    }
    expect(requestRoundTrip(4, body)).toEqual({ ...body, protocolType: null, protocolName: null })
  })

  test('v5, the maximum: with the protocol type and name the group chose (KIP-559)', () => {
    const body = {
      groupId: 'billing',
      generationId: 2,
      memberId: 'member-a',
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [{ memberId: 'member-a', assignment: ASSIGNMENT_A }],
    }
    expect(requestRoundTrip(5, body)).toEqual(body)
  })

  test('v5 adds the protocol type and name; v4 leaves them out (they are ignorable)', () => {
    const body = {
      groupId: 'g',
      generationId: 1,
      memberId: 'm',
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [],
    }
    expect(encodeRequestBody(SyncGroup, 5, body).toString('hex')).toBe(
      hex('0267 00000001 026d 00 09 636f6e73756d6572 06 72616e6765 01 00'),
    )
    expect(encodeRequestBody(SyncGroup, 4, body).toString('hex')).toBe(hex('0267 00000001 026d 00 01 00'))
  })
})

describe('SyncGroup responses', () => {
  test('v0: the member’s assignment', () => {
    expect(responseRoundTrip(0, { errorCode: 0, assignment: ASSIGNMENT_B })).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      protocolType: null,
      protocolName: null,
      assignment: ASSIGNMENT_B,
    })
  })

  test('v4: a rebalance started meanwhile, no assignment', () => {
    const body = { throttleTimeMs: 0, errorCode: 27, assignment: Buffer.alloc(0) } // REBALANCE_IN_PROGRESS
    expect(responseRoundTrip(4, body)).toEqual({ ...body, protocolType: null, protocolName: null })
  })

  test('v5, the maximum', () => {
    const body = {
      throttleTimeMs: 0,
      errorCode: 0,
      protocolType: 'consumer',
      protocolName: 'range',
      assignment: ASSIGNMENT_A,
    }
    expect(responseRoundTrip(5, body)).toEqual(body)
  })

  test('a v3 response body decodes from hand-written bytes', () => {
    expect(decodeResponseBody(SyncGroup, 3, Buffer.from(hex('00000000 0000 00000002 abcd'), 'hex'))).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      protocolType: null,
      protocolName: null,
      assignment: Buffer.from('abcd', 'hex'),
    })
  })
})
