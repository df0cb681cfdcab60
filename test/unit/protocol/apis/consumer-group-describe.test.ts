import { describe, expect, test } from 'vitest'
import { ConsumerGroupDescribe } from '../../../../src/protocol/apis/consumer-group-describe.js'
import { hex, receiveResponse, requestHex, responseHex, sendRequest } from './wire.js'

const ORDERS_ID = 'x7Yb3Q9pRmKzL2vN8wJ4tA'

const member = {
  memberId: 'Sc3QmXq9T0uUYy1V6oHq2g',
  instanceId: null,
  rackId: 'eu-west-1a',
  memberEpoch: 12,
  clientId: 'orders-consumer-1',
  clientHost: '/10.0.0.7',
  subscribedTopicNames: ['orders'],
  subscribedTopicRegex: null,
  assignment: { topicPartitions: [{ topicId: ORDERS_ID, topicName: 'orders', partitions: [0, 1] }] },
  targetAssignment: { topicPartitions: [{ topicId: ORDERS_ID, topicName: 'orders', partitions: [0] }] },
  memberType: 1,
}

const group = {
  errorCode: 0,
  errorMessage: null,
  groupId: 'orders',
  groupState: 'Reconciling',
  groupEpoch: 13,
  assignmentEpoch: 13,
  assignorName: 'uniform',
  members: [member],
  authorizedOperations: -2147483648,
}

describe('ConsumerGroupDescribe', () => {
  test('v0 round-trips; the member type is unknown (-1) before v1', () => {
    const request = { groupIds: ['orders'], includeAuthorizedOperations: false }
    expect(sendRequest(ConsumerGroupDescribe, 0, request)).toEqual(request)
    expect(receiveResponse(ConsumerGroupDescribe, 0, { throttleTimeMs: 0, groups: [group] })).toEqual({
      throttleTimeMs: 0,
      groups: [{ ...group, members: [{ ...member, memberType: -1 }] }],
    })
  })

  test('v1 round-trips the member type (KIP-1099) and a group that is not found', () => {
    const request = { groupIds: ['orders', 'missing'], includeAuthorizedOperations: true }
    expect(sendRequest(ConsumerGroupDescribe, 1, request)).toEqual(request)
    const response = {
      throttleTimeMs: 0,
      groups: [
        { ...group, members: [member, { ...member, memberId: 'classic-1', memberType: 0 }] },
        {
          errorCode: 69,
          errorMessage: 'Group missing not found.',
          groupId: 'missing',
          groupState: '',
          groupEpoch: 0,
          assignmentEpoch: 0,
          assignorName: '',
          members: [],
          authorizedOperations: -2147483648,
        },
      ],
    }
    expect(receiveResponse(ConsumerGroupDescribe, 1, response)).toEqual(response)
  })

  test('is flexible from v0; v1 appends the member type', () => {
    expect(requestHex(ConsumerGroupDescribe, 0, { groupIds: ['g'], includeAuthorizedOperations: true })).toBe(
      hex('02 02 67 01 00'),
    )
    const small = {
      memberId: 'm',
      memberEpoch: 1,
      clientId: 'c',
      clientHost: 'h',
      subscribedTopicNames: [],
      assignment: { topicPartitions: [] },
      targetAssignment: { topicPartitions: [] },
      memberType: 1,
    }
    const body = {
      throttleTimeMs: 0,
      groups: [
        {
          errorCode: 0,
          groupId: 'g',
          groupState: 'Empty',
          groupEpoch: 1,
          assignmentEpoch: 1,
          assignorName: 'u',
          members: [small],
          authorizedOperations: 0,
        },
      ],
    }
    // memberId, instanceId null, rackId null, memberEpoch, clientId, clientHost, no topics, regex null, two assignments
    const memberFields = '02 6d 00 00 00000001 02 63 02 68 01 00 01 00 01 00'
    expect(responseHex(ConsumerGroupDescribe, 0, body)).toBe(
      hex(`00000000 02 0000 00 02 67 06 456d707479 00000001 00000001 02 75
           02 ${memberFields} 00 00000000 00 00`),
    )
    expect(responseHex(ConsumerGroupDescribe, 1, body)).toBe(
      hex(`00000000 02 0000 00 02 67 06 456d707479 00000001 00000001 02 75
           02 ${memberFields} 01 00 00000000 00 00`),
    )
  })
})
