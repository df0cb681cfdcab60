// DescribeProducers (key 61): version 0, flexible from 0. Spec: DescribeProducersRequest.json, DescribeProducersResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, field, int16, int32, int64, string, struct } from '../schema.js'

const TopicRequest = struct('TopicRequest', {
  name: string,
  partitionIndexes: array(int32),
})

const ProducerState = struct('ProducerState', {
  producerId: int64,
  /** int32 here although producer epochs are int16 everywhere else. */
  producerEpoch: int32,
  lastSequence: field(int32, { default: -1 }),
  lastTimestamp: field(int64, { default: -1n }),
  coordinatorEpoch: int32,
  /** -1 when the producer has no open transaction on the partition. */
  currentTxnStartOffset: field(int64, { default: -1n }),
})

const PartitionResponse = struct('PartitionResponse', {
  partitionIndex: int32,
  errorCode: int16,
  errorMessage: field(string, { nullable: '0+', default: null }),
  activeProducers: array(ProducerState),
})

const TopicResponse = struct('TopicResponse', {
  name: string,
  partitions: array(PartitionResponse),
})

// KIP-664: sent to each partition's leader, which reports the producer state it holds for the partition.
export const DescribeProducers = defineApi({
  key: 61,
  name: 'DescribeProducers',
  versions: '0',
  flexibleVersions: '0+',
  request: struct('DescribeProducersRequest', {
    topics: array(TopicRequest),
  }),
  response: struct('DescribeProducersResponse', {
    throttleTimeMs: int32,
    topics: array(TopicResponse),
  }),
})

export type DescribeProducersRequest = RequestOf<typeof DescribeProducers>
export type DescribeProducersResponse = ResponseOf<typeof DescribeProducers>
