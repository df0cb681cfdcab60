import { describe, expect, test } from 'vitest'
import { configSource, configValueType } from '../../../../src/client/admin/configs.js'
import { classicGroup } from '../../../../src/client/admin/groups.js'
import { offsetSpecTimestamp } from '../../../../src/client/admin/offsets.js'
import { decodeAuthorizedOperations } from '../../../../src/client/admin/types.js'
import { ConfigError } from '../../../../src/client/errors.js'
import { encodeAssignment, encodeSubscription } from '../../../../src/protocol/apis/consumer-protocol.js'

/** How the admin client turns wire values into its results. */

describe('admin result mapping', () => {
  test('authorized operations: bit n is the ACL operation with code n; INT32_MIN means not asked', () => {
    // READ (3), WRITE (4), DESCRIBE (8), DESCRIBE_CONFIGS (10), and bit 20, which no operation has yet.
    const bits = (1 << 3) | (1 << 4) | (1 << 8) | (1 << 10) | (1 << 20)
    expect(decodeAuthorizedOperations(bits)).toEqual(['read', 'write', 'describe', 'describe-configs'])
    expect(decodeAuthorizedOperations(-2147483648)).toBeUndefined()
    expect(decodeAuthorizedOperations(0)).toEqual([])
  })

  test('config sources and value types follow the DescribeConfigs enums; unknown codes are "unknown"', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 42].map(configSource)).toEqual([
      'unknown',
      'topic',
      'dynamic-broker',
      'dynamic-default-broker',
      'static-broker',
      'default',
      'dynamic-broker-logger',
      'client-metrics',
      'group',
      'unknown',
    ])
    expect([1, 3, 5, 7, 9, 99].map(configValueType)).toEqual(['boolean', 'int', 'long', 'list', 'password', 'unknown'])
  })

  test('offset specs map to ListOffsets timestamps; bad ones are a ConfigError', () => {
    expect(offsetSpecTimestamp('latest')).toBe(-1n)
    expect(offsetSpecTimestamp('earliest')).toBe(-2n)
    expect(offsetSpecTimestamp('max-timestamp')).toBe(-3n)
    expect(offsetSpecTimestamp({ timestamp: 1_700_000_000_000 })).toBe(1_700_000_000_000n)
    expect(offsetSpecTimestamp({ timestamp: new Date(5) })).toBe(5n)
    expect(offsetSpecTimestamp({ timestamp: 7n })).toBe(7n)
    expect(() => offsetSpecTimestamp({ timestamp: -1 })).toThrow(ConfigError)
    expect(() => offsetSpecTimestamp({ timestamp: 1.5 })).toThrow(ConfigError)
    expect(() => offsetSpecTimestamp('newest' as never)).toThrow(/unknown offset spec "newest"/)
  })

  test("a classic consumer group's members: subscription and assignment decoded; other protocols and garbage keep raw bytes", () => {
    const metadata = encodeSubscription(3, {
      topics: ['t'],
      userData: null,
      ownedPartitions: [],
      generationId: 4,
      rackId: 'r1',
    })
    const assignment = encodeAssignment(1, { assignedPartitions: [{ topic: 't', partitions: [2, 0] }] })
    const member = (memberId: string, memberMetadata: Buffer, memberAssignment: Buffer) => ({
      memberId,
      groupInstanceId: null,
      clientId: 'c',
      clientHost: '/10.0.0.1',
      memberMetadata,
      memberAssignment,
    })
    const g = classicGroup(
      {
        errorCode: 0,
        errorMessage: null,
        groupId: 'g',
        groupState: 'Stable',
        protocolType: 'consumer',
        protocolData: 'range',
        members: [member('m1', metadata, assignment), member('m2', Buffer.from([0xff]), Buffer.from([1, 2, 3]))],
        authorizedOperations: -2147483648,
      },
      3,
    )
    expect(g).toEqual({
      groupId: 'g',
      type: 'classic',
      state: 'Stable',
      protocolType: 'consumer',
      assignor: 'range',
      coordinator: 3,
      members: [
        {
          memberId: 'm1',
          instanceId: null,
          clientId: 'c',
          clientHost: '/10.0.0.1',
          assignment: [{ topic: 't', partitions: [2, 0] }],
          subscribedTopics: ['t'],
          rackId: 'r1',
          protocolMetadata: metadata,
          protocolAssignment: assignment,
        },
        {
          memberId: 'm2',
          instanceId: null,
          clientId: 'c',
          clientHost: '/10.0.0.1',
          assignment: [],
          protocolMetadata: Buffer.from([0xff]),
          protocolAssignment: Buffer.from([1, 2, 3]),
        },
      ],
    })
    const connect = classicGroup(
      {
        errorCode: 0,
        errorMessage: null,
        groupId: 'w',
        groupState: 'Stable',
        protocolType: 'connect',
        protocolData: 'sessioned',
        members: [member('w1', assignment, assignment)],
        authorizedOperations: 1 << 8,
      },
      1,
    )
    expect(connect.error ? [] : [connect.members[0]!.assignment, connect.authorizedOperations]).toEqual([
      [],
      ['describe'],
    ])
  })
})
