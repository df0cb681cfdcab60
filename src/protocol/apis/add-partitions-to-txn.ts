// AddPartitionsToTxn (key 24): versions 0-3, flexible from 3. Spec: AddPartitionsToTxnRequest.json, AddPartitionsToTxnResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, bool, field, int16, int32, int64, string, struct } from '../schema.js'

// The schema goes to v5, but "versions 3 and below will be exclusively used by clients and versions 4 and above
// will be used by brokers": v4+ batch several transactions so that partition leaders can verify them with the
// transaction coordinator (KIP-890), and the broker accepts them only from a principal allowed CLUSTER_ACTION.
// The v4+ fields are still declared below so the structs read like the schema; the API stops at v3.

const AddPartitionsToTxnTopic = struct('AddPartitionsToTxnTopic', {
  name: string,
  partitions: array(int32),
})

const AddPartitionsToTxnTransaction = struct('AddPartitionsToTxnTransaction', {
  transactionalId: field(string, { versions: '4+' }),
  producerId: field(int64, { versions: '4+' }),
  producerEpoch: field(int16, { versions: '4+' }),
  verifyOnly: field(bool, { versions: '4+', default: false }),
  topics: field(array(AddPartitionsToTxnTopic), { versions: '4+' }),
})

const AddPartitionsToTxnPartitionResult = struct('AddPartitionsToTxnPartitionResult', {
  partitionIndex: int32,
  partitionErrorCode: int16,
})

const AddPartitionsToTxnTopicResult = struct('AddPartitionsToTxnTopicResult', {
  name: string,
  resultsByPartition: array(AddPartitionsToTxnPartitionResult),
})

const AddPartitionsToTxnResult = struct('AddPartitionsToTxnResult', {
  transactionalId: field(string, { versions: '4+' }),
  topicResults: field(array(AddPartitionsToTxnTopicResult), { versions: '4+' }),
})

export const AddPartitionsToTxn = defineApi({
  key: 24,
  name: 'AddPartitionsToTxn',
  versions: '0-3',
  flexibleVersions: '3+',
  request: struct('AddPartitionsToTxnRequest', {
    transactions: field(array(AddPartitionsToTxnTransaction), { versions: '4+' }),
    v3AndBelowTransactionalId: field(string, { versions: '0-3' }),
    v3AndBelowProducerId: field(int64, { versions: '0-3' }),
    v3AndBelowProducerEpoch: field(int16, { versions: '0-3' }),
    v3AndBelowTopics: field(array(AddPartitionsToTxnTopic), { versions: '0-3' }),
  }),
  response: struct('AddPartitionsToTxnResponse', {
    throttleTimeMs: int32,
    errorCode: field(int16, { versions: '4+', ignorable: true }),
    resultsByTransaction: field(array(AddPartitionsToTxnResult), { versions: '4+' }),
    resultsByTopicV3AndBelow: field(array(AddPartitionsToTxnTopicResult), { versions: '0-3' }),
  }),
})

export type AddPartitionsToTxnRequest = RequestOf<typeof AddPartitionsToTxn>
export type AddPartitionsToTxnResponse = ResponseOf<typeof AddPartitionsToTxn>
