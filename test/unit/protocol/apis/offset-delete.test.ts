import { describe, expect, test } from 'vitest'
import { OffsetDelete } from '../../../../src/protocol/apis/offset-delete.js'
import { hex, receiveResponse, requestHex, responseHex, sendRequest } from './wire.js'

describe('OffsetDelete', () => {
  test('v0 round-trips', () => {
    const request = {
      groupId: 'orders',
      topics: [{ name: 'retired-topic', partitions: [{ partitionIndex: 0 }, { partitionIndex: 1 }] }],
    }
    expect(sendRequest(OffsetDelete, 0, request)).toEqual(request)
    const response = {
      errorCode: 0,
      throttleTimeMs: 0,
      topics: [
        {
          name: 'retired-topic',
          partitions: [
            { partitionIndex: 0, errorCode: 0 },
            // 86 = GROUP_SUBSCRIBED_TO_TOPIC: the group still consumes it
            { partitionIndex: 1, errorCode: 86 },
          ],
        },
      ],
    }
    expect(receiveResponse(OffsetDelete, 0, response)).toEqual(response)
  })

  test('is classic only, with the error code ahead of the throttle time', () => {
    expect(OffsetDelete.isFlexible(0)).toBe(false)
    expect(
      requestHex(OffsetDelete, 0, { groupId: 'g', topics: [{ name: 't', partitions: [{ partitionIndex: 7 }] }] }),
    ).toBe(hex('0001 67 00000001 0001 74 00000001 00000007'))
    expect(responseHex(OffsetDelete, 0, { errorCode: 30, throttleTimeMs: 9, topics: [] })).toBe(
      hex('001e 00000009 00000000'),
    )
  })
})
