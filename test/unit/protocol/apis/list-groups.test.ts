import { describe, expect, test } from 'vitest'
import { ListGroups } from '../../../../src/protocol/apis/list-groups.js'
import { UnsupportedVersionError } from '../../../../src/protocol/errors.js'
import { hex, receiveResponse, requestHex, responseHex, sendRequest } from './wire.js'

describe('ListGroups', () => {
  test('v0 has an empty request body and answers without state or type', () => {
    expect(sendRequest(ListGroups, 0, {})).toEqual({ statesFilter: [], typesFilter: [] })
    expect(requestHex(ListGroups, 0, {})).toBe('')
    const response = receiveResponse(ListGroups, 0, {
      errorCode: 0,
      groups: [
        { groupId: 'orders', protocolType: 'consumer', groupState: 'Stable', groupType: 'classic' },
        { groupId: 'connect-sink', protocolType: 'connect' },
      ],
    })
    expect(response).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      groups: [
        { groupId: 'orders', protocolType: 'consumer', groupState: '', groupType: '' },
        { groupId: 'connect-sink', protocolType: 'connect', groupState: '', groupType: '' },
      ],
    })
  })

  test('v5 filters by state (KIP-518) and type (KIP-848)', () => {
    const request = { statesFilter: ['Stable', 'Empty'], typesFilter: ['consumer', 'classic'] }
    expect(sendRequest(ListGroups, 5, request)).toEqual(request)
    const response = {
      throttleTimeMs: 3,
      errorCode: 0,
      groups: [
        { groupId: 'orders', protocolType: 'consumer', groupState: 'Stable', groupType: 'consumer' },
        { groupId: 'legacy', protocolType: 'consumer', groupState: 'Empty', groupType: 'classic' },
      ],
    }
    expect(receiveResponse(ListGroups, 5, response)).toEqual(response)
  })

  test('a states filter cannot be sent before v4', () => {
    expect(() => sendRequest(ListGroups, 3, { statesFilter: ['Stable'] })).toThrow(UnsupportedVersionError)
  })

  test('the response is classic at v2 and compact at v3', () => {
    const body = { throttleTimeMs: 0, errorCode: 0, groups: [{ groupId: 'g', protocolType: 'consumer' }] }
    expect(responseHex(ListGroups, 2, body)).toBe(hex('00000000 0000 00000001 0001 67 0008 636f6e73756d6572'))
    expect(responseHex(ListGroups, 3, body)).toBe(hex('00000000 0000 02 02 67 09 636f6e73756d6572 00 00'))
  })
})
