// ListTransactions (key 66): versions 0-2, flexible from 0. Spec: ListTransactionsRequest.json, ListTransactionsResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, field, int16, int32, int64, string, struct } from '../schema.js'

const TransactionState = struct('TransactionState', {
  transactionalId: string,
  producerId: int64,
  transactionState: string,
})

// KIP-664: sent to every broker, each listing the transactions its transaction coordinator partitions own.
export const ListTransactions = defineApi({
  key: 66,
  name: 'ListTransactions',
  versions: '0-2',
  flexibleVersions: '0+',
  request: struct('ListTransactionsRequest', {
    /** Empty for every state. */
    stateFilters: array(string),
    /** Empty for every producer id. */
    producerIdFilters: array(int64),
    /** Only transactions open longer than this many ms; negative for all (KIP-994). */
    durationFilter: field(int64, { versions: '1+', default: -1n }),
    /** A regular expression over transactional ids; null or empty for all (KIP-1152). */
    transactionalIdPattern: field(string, { versions: '2+', nullable: '2+', default: null }),
  }),
  response: struct('ListTransactionsResponse', {
    throttleTimeMs: int32,
    errorCode: int16,
    unknownStateFilters: array(string),
    transactionStates: array(TransactionState),
  }),
})

export type ListTransactionsRequest = RequestOf<typeof ListTransactions>
export type ListTransactionsResponse = ResponseOf<typeof ListTransactions>
