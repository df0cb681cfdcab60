// DescribeTransactions (key 65): version 0, flexible from 0. Spec: DescribeTransactionsRequest.json, DescribeTransactionsResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, int16, int32, int64, string, struct } from '../schema.js'

const TopicData = struct('TopicData', {
  topic: string,
  partitions: array(int32),
})

const TransactionState = struct('TransactionState', {
  errorCode: int16,
  transactionalId: string,
  transactionState: string,
  transactionTimeoutMs: int32,
  transactionStartTimeMs: int64,
  producerId: int64,
  producerEpoch: int16,
  /** While the transaction is preparing to commit or abort, only the partitions still without markers. */
  topics: array(TopicData),
})

// KIP-664: sent to the transaction coordinator of the transactional ids.
export const DescribeTransactions = defineApi({
  key: 65,
  name: 'DescribeTransactions',
  versions: '0',
  flexibleVersions: '0+',
  request: struct('DescribeTransactionsRequest', {
    transactionalIds: array(string),
  }),
  response: struct('DescribeTransactionsResponse', {
    throttleTimeMs: int32,
    transactionStates: array(TransactionState),
  }),
})

export type DescribeTransactionsRequest = RequestOf<typeof DescribeTransactions>
export type DescribeTransactionsResponse = ResponseOf<typeof DescribeTransactions>
