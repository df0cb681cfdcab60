import { describe, expect, test } from 'vitest'
import { ConsumerGroupHeartbeat } from '../../../../src/protocol/apis/consumer-group-heartbeat.js'
import { UnsupportedVersionError } from '../../../../src/protocol/errors.js'
import { hex, receiveResponse, requestHex, responseHex, sendRequest } from './wire.js'

const ORDERS_ID = 'x7Yb3Q9pRmKzL2vN8wJ4tA'
const MEMBER_ID = 'Sc3QmXq9T0uUYy1V6oHq2g'

describe('ConsumerGroupHeartbeat', () => {
  test('v0: a first heartbeat joins with the full subscription; the next ones send only changes', () => {
    const join = {
      groupId: 'orders',
      memberId: '',
      memberEpoch: 0,
      instanceId: null,
      rackId: 'eu-west-1a',
      rebalanceTimeoutMs: 300000,
      subscribedTopicNames: ['orders'],
      serverAssignor: 'uniform',
      topicPartitions: [],
    }
    expect(sendRequest(ConsumerGroupHeartbeat, 0, join)).toEqual({ ...join, subscribedTopicRegex: null })
    expect(sendRequest(ConsumerGroupHeartbeat, 0, { groupId: 'orders', memberId: MEMBER_ID, memberEpoch: 5 })).toEqual({
      groupId: 'orders',
      memberId: MEMBER_ID,
      memberEpoch: 5,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: -1,
      subscribedTopicNames: null,
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: null,
    })
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      memberId: MEMBER_ID,
      memberEpoch: 1,
      heartbeatIntervalMs: 5000,
      assignment: { topicPartitions: [{ topicId: ORDERS_ID, partitions: [0, 1, 2] }] },
    }
    expect(receiveResponse(ConsumerGroupHeartbeat, 0, response)).toEqual(response)
  })

  test('v1 subscribes by regular expression with a client-generated member id (KIP-1082)', () => {
    const request = {
      groupId: 'orders',
      memberId: MEMBER_ID,
      memberEpoch: 0,
      instanceId: 'orders-0',
      rackId: null,
      rebalanceTimeoutMs: 300000,
      subscribedTopicNames: null,
      subscribedTopicRegex: 'orders\\..*',
      serverAssignor: null,
      topicPartitions: [{ topicId: ORDERS_ID, partitions: [3] }],
    }
    expect(sendRequest(ConsumerGroupHeartbeat, 1, request)).toEqual(request)
    const unchanged = {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      memberId: MEMBER_ID,
      memberEpoch: 7,
      heartbeatIntervalMs: 5000,
      assignment: null,
    }
    expect(receiveResponse(ConsumerGroupHeartbeat, 1, unchanged)).toEqual(unchanged)
    const fenced = { ...unchanged, errorCode: 110, errorMessage: 'The member epoch is fenced.', memberId: null }
    expect(receiveResponse(ConsumerGroupHeartbeat, 1, fenced)).toEqual(fenced)
  })

  test('a regular expression cannot be sent at v0', () => {
    expect(() =>
      sendRequest(ConsumerGroupHeartbeat, 0, {
        groupId: 'g',
        memberId: '',
        memberEpoch: 0,
        subscribedTopicRegex: '.*',
      }),
    ).toThrow(UnsupportedVersionError)
  })

  test('nulls are compact (0x00) and the assignment is a nullable struct with an int8 marker', () => {
    expect(requestHex(ConsumerGroupHeartbeat, 0, { groupId: 'g', memberId: '', memberEpoch: -1 })).toBe(
      hex('02 67 01 ffffffff 00 00 ffffffff 00 00 00 00'),
    )
    expect(requestHex(ConsumerGroupHeartbeat, 1, { groupId: 'g', memberId: '', memberEpoch: -1 })).toBe(
      hex('02 67 01 ffffffff 00 00 ffffffff 00 00 00 00 00'),
    )
    const base = { throttleTimeMs: 0, errorCode: 0, memberId: null, memberEpoch: 1, heartbeatIntervalMs: 2 }
    expect(responseHex(ConsumerGroupHeartbeat, 0, { ...base, assignment: null })).toBe(
      hex('00000000 0000 00 00 00000001 00000002 ff 00'),
    )
    expect(responseHex(ConsumerGroupHeartbeat, 0, { ...base, assignment: { topicPartitions: [] } })).toBe(
      hex('00000000 0000 00 00 00000001 00000002 01 01 00 00'),
    )
  })
})
