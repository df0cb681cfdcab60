// CreateTopics (key 19): versions 2-7, flexible from 5. Spec: CreateTopicsRequest.json, CreateTopicsResponse.json
import { defineApi } from '../api.js'
import { array, bool, field, int8, int16, int32, string, struct, uuid } from '../schema.js'

const CreatableReplicaAssignment = struct('CreatableReplicaAssignment', {
  partitionIndex: int32,
  brokerIds: array(int32),
})

const CreatableTopicConfig = struct('CreatableTopicConfig', {
  name: string,
  value: field(string, { nullable: '0+' }),
})

const CreatableTopic = struct('CreatableTopic', {
  name: string,
  /** -1 for the broker's default (`num.partitions`), with empty assignments. */
  numPartitions: int32,
  /** -1 for the broker's default (`default.replication.factor`), with empty assignments. */
  replicationFactor: int16,
  assignments: field(array(CreatableReplicaAssignment), {}),
  configs: field(array(CreatableTopicConfig), {}),
})

const CreatableTopicConfigs = struct('CreatableTopicConfigs', {
  name: field(string, { versions: '5+' }),
  value: field(string, { versions: '5+', nullable: '5+' }),
  readOnly: field(bool, { versions: '5+' }),
  configSource: field(int8, { versions: '5+', default: -1, ignorable: true }),
  isSensitive: field(bool, { versions: '5+' }),
})

const CreatableTopicResult = struct('CreatableTopicResult', {
  name: string,
  topicId: field(uuid, { versions: '7+', ignorable: true }),
  errorCode: int16,
  errorMessage: field(string, { versions: '1+', nullable: '0+', ignorable: true }),
  topicConfigErrorCode: field(int16, { versions: '5+', tag: 0, ignorable: true }),
  numPartitions: field(int32, { versions: '5+', default: -1, ignorable: true }),
  replicationFactor: field(int16, { versions: '5+', default: -1, ignorable: true }),
  configs: field(array(CreatableTopicConfigs), { versions: '5+', nullable: '5+', ignorable: true }),
})

export const CreateTopics = defineApi({
  key: 19,
  name: 'CreateTopics',
  versions: '2-7',
  flexibleVersions: '5+',
  request: struct('CreateTopicsRequest', {
    topics: array(CreatableTopic),
    timeoutMs: field(int32, { default: 60000 }),
    validateOnly: field(bool, { versions: '1+', default: false }),
  }),
  response: struct('CreateTopicsResponse', {
    throttleTimeMs: field(int32, { versions: '2+', ignorable: true }),
    topics: array(CreatableTopicResult),
  }),
})
