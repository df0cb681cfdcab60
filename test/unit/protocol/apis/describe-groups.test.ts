import { describe, expect, test } from 'vitest'
import { DescribeGroups } from '../../../../src/protocol/apis/describe-groups.js'
import { UnsupportedVersionError } from '../../../../src/protocol/errors.js'
import { hex, receiveResponse, requestHex, responseHex, sendRequest } from './wire.js'

const member = {
  memberId: 'consumer-1-5f0c',
  groupInstanceId: 'checkout-0',
  clientId: 'consumer-1',
  clientHost: '/10.0.0.7',
  memberMetadata: Buffer.from('0003000000010006', 'hex'),
  memberAssignment: Buffer.from('000300000000', 'hex'),
}

const stable = {
  errorCode: 0,
  errorMessage: null,
  groupId: 'orders',
  groupState: 'Stable',
  protocolType: 'consumer',
  protocolData: 'range',
  members: [member],
  authorizedOperations: 0x0ff8,
}

describe('DescribeGroups', () => {
  test('v0 round-trips, with the fields of later versions at their defaults', () => {
    expect(sendRequest(DescribeGroups, 0, { groups: ['orders', 'payments'] })).toEqual({
      groups: ['orders', 'payments'],
      includeAuthorizedOperations: false,
    })
    const response = receiveResponse(DescribeGroups, 0, {
      groups: [{ ...stable, authorizedOperations: undefined }],
    })
    expect(response).toEqual({
      throttleTimeMs: 0,
      groups: [
        {
          ...stable,
          members: [{ ...member, groupInstanceId: null }],
          authorizedOperations: -2147483648,
        },
      ],
    })
  })

  test('v6 round-trips every field, including the error message of GROUP_ID_NOT_FOUND (KIP-1043)', () => {
    const request = { groups: ['orders', 'missing'], includeAuthorizedOperations: true }
    expect(sendRequest(DescribeGroups, 6, request)).toEqual(request)
    const response = {
      throttleTimeMs: 12,
      groups: [
        stable,
        {
          errorCode: 69,
          errorMessage: 'Group missing not found.',
          groupId: 'missing',
          groupState: 'Dead',
          protocolType: '',
          protocolData: '',
          members: [],
          authorizedOperations: -2147483648,
        },
      ],
    }
    expect(receiveResponse(DescribeGroups, 6, response)).toEqual(response)
  })

  test('asking for authorized operations below v3 is refused rather than silently dropped', () => {
    expect(() => sendRequest(DescribeGroups, 2, { groups: ['g'], includeAuthorizedOperations: true })).toThrow(
      UnsupportedVersionError,
    )
  })

  test('the request is classic before v5 and compact from v5', () => {
    // v4: int32 count, int16 length + "g", bool
    expect(requestHex(DescribeGroups, 4, { groups: ['g'], includeAuthorizedOperations: true })).toBe(
      hex('00000001 0001 67 01'),
    )
    // v5: uvarint count+1, uvarint length+1 + "g", bool, empty tag section
    expect(requestHex(DescribeGroups, 5, { groups: ['g'], includeAuthorizedOperations: true })).toBe(
      hex('02 02 67 01 00'),
    )
  })

  test('a v5 response body carries a tag section per struct', () => {
    const dead = {
      errorCode: 0,
      groupId: 'g',
      groupState: 'Dead',
      protocolType: '',
      protocolData: '',
      members: [],
      authorizedOperations: 8,
    }
    expect(responseHex(DescribeGroups, 5, { throttleTimeMs: 0, groups: [dead] })).toBe(
      hex(`00000000 02
           0000 02 67 05 44656164 01 01 01 00000008 00
           00`),
    )
  })
})
