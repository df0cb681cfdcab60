import { describe, expect, test } from 'vitest'
import { ListTransactions } from '../../../../src/protocol/apis/list-transactions.js'
import { UnsupportedVersionError } from '../../../../src/protocol/errors.js'
import { hex, receiveResponse, requestHex, sendRequest } from './wire.js'

const response = {
  throttleTimeMs: 0,
  errorCode: 0,
  unknownStateFilters: ['Bogus'],
  transactionStates: [
    { transactionalId: 'payments-tx-0', producerId: 4001n, transactionState: 'Ongoing' },
    { transactionalId: 'payments-tx-1', producerId: 4002n, transactionState: 'PrepareCommit' },
  ],
}

describe('ListTransactions', () => {
  test('v0 round-trips, without duration or pattern filters', () => {
    const request = { stateFilters: ['Ongoing', 'Bogus'], producerIdFilters: [4001n, 4002n] }
    expect(sendRequest(ListTransactions, 0, request)).toEqual({
      ...request,
      durationFilter: -1n,
      transactionalIdPattern: null,
    })
    expect(receiveResponse(ListTransactions, 0, response)).toEqual(response)
  })

  test('v2 filters by duration (KIP-994) and transactional id pattern (KIP-1152)', () => {
    const request = {
      stateFilters: [],
      producerIdFilters: [],
      durationFilter: 900_000n,
      transactionalIdPattern: '^payments-.*',
    }
    expect(sendRequest(ListTransactions, 2, request)).toEqual(request)
    expect(receiveResponse(ListTransactions, 2, response)).toEqual(response)
  })

  test('a duration filter cannot be sent at v0', () => {
    expect(() =>
      sendRequest(ListTransactions, 0, { stateFilters: [], producerIdFilters: [], durationFilter: 1000n }),
    ).toThrow(UnsupportedVersionError)
  })

  test('is flexible from v0; each version appends its field', () => {
    const small = { stateFilters: [], producerIdFilters: [7n], durationFilter: -1n, transactionalIdPattern: null }
    expect(requestHex(ListTransactions, 0, small)).toBe(hex('01 02 0000000000000007 00'))
    expect(requestHex(ListTransactions, 1, small)).toBe(hex('01 02 0000000000000007 ffffffffffffffff 00'))
    expect(requestHex(ListTransactions, 2, small)).toBe(hex('01 02 0000000000000007 ffffffffffffffff 00 00'))
  })
})
