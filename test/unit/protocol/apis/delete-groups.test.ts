import { describe, expect, test } from 'vitest'
import { DeleteGroups } from '../../../../src/protocol/apis/delete-groups.js'
import { hex, receiveResponse, requestHex, responseHex, sendRequest } from './wire.js'

describe('DeleteGroups', () => {
  test('v0 round-trips; the per-group error message arrives only from v3', () => {
    expect(sendRequest(DeleteGroups, 0, { groupsNames: ['old-etl', 'orders'] })).toEqual({
      groupsNames: ['old-etl', 'orders'],
    })
    const response = receiveResponse(DeleteGroups, 0, {
      throttleTimeMs: 0,
      results: [
        { groupId: 'old-etl', errorCode: 0 },
        // ignorable in the schema: a message the version cannot carry is dropped, not refused
        { groupId: 'orders', errorCode: 68, errorMessage: 'The group is not empty.' },
      ],
    })
    expect(response).toEqual({
      throttleTimeMs: 0,
      results: [
        { groupId: 'old-etl', errorCode: 0, errorMessage: null },
        { groupId: 'orders', errorCode: 68, errorMessage: null },
      ],
    })
  })

  test('v3 round-trips the error message', () => {
    expect(sendRequest(DeleteGroups, 3, { groupsNames: ['orders'] })).toEqual({ groupsNames: ['orders'] })
    const response = {
      throttleTimeMs: 10,
      results: [
        { groupId: 'old-etl', errorCode: 0, errorMessage: null },
        { groupId: 'orders', errorCode: 68, errorMessage: 'The group is not empty.' },
      ],
    }
    expect(receiveResponse(DeleteGroups, 3, response)).toEqual(response)
  })

  test('v1 is classic, v2 compact, v3 adds the nullable message', () => {
    expect(requestHex(DeleteGroups, 1, { groupsNames: ['g'] })).toBe(hex('00000001 0001 67'))
    expect(requestHex(DeleteGroups, 2, { groupsNames: ['g'] })).toBe(hex('02 02 67 00'))
    const body = { throttleTimeMs: 0, results: [{ groupId: 'g', errorCode: 0, errorMessage: null }] }
    expect(responseHex(DeleteGroups, 1, body)).toBe(hex('00000000 00000001 0001 67 0000'))
    expect(responseHex(DeleteGroups, 2, body)).toBe(hex('00000000 02 02 67 0000 00 00'))
    expect(responseHex(DeleteGroups, 3, body)).toBe(hex('00000000 02 02 67 0000 00 00 00'))
  })
})
