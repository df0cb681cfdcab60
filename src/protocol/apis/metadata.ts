// Metadata (key 3): versions 0-13, flexible from 9. Spec: MetadataRequest.json, MetadataResponse.json
import { defineApi } from '../api.js'
import { array, bool, field, int16, int32, string, struct, uuid } from '../schema.js'

const MetadataRequestTopic = struct('MetadataRequestTopic', {
  topicId: field(uuid, { versions: '10+', ignorable: true }),
  name: field(string, { nullable: '10+' }),
})

const MetadataResponseBroker = struct('MetadataResponseBroker', {
  nodeId: int32,
  host: string,
  port: int32,
  rack: field(string, { versions: '1+', nullable: '1+', default: null, ignorable: true }),
})

const MetadataResponsePartition = struct('MetadataResponsePartition', {
  errorCode: int16,
  partitionIndex: int32,
  leaderId: int32,
  leaderEpoch: field(int32, { versions: '7+', default: -1, ignorable: true }),
  replicaNodes: array(int32),
  isrNodes: array(int32),
  offlineReplicas: field(array(int32), { versions: '5+', ignorable: true }),
})

const MetadataResponseTopic = struct('MetadataResponseTopic', {
  errorCode: int16,
  name: field(string, { nullable: '12+' }),
  topicId: field(uuid, { versions: '10+', ignorable: true }),
  isInternal: field(bool, { versions: '1+', default: false, ignorable: true }),
  partitions: array(MetadataResponsePartition),
  topicAuthorizedOperations: field(int32, { versions: '8+', default: -2147483648 }),
})

export const Metadata = defineApi({
  key: 3,
  name: 'Metadata',
  versions: '0-13',
  flexibleVersions: '9+',
  request: struct('MetadataRequest', {
    /** null (v1+) asks for every topic; an empty array for none. */
    topics: field(array(MetadataRequestTopic), { nullable: '1+' }),
    allowAutoTopicCreation: field(bool, { versions: '4+', default: true }),
    includeClusterAuthorizedOperations: field(bool, { versions: '8-10' }),
    includeTopicAuthorizedOperations: field(bool, { versions: '8+' }),
  }),
  response: struct('MetadataResponse', {
    throttleTimeMs: field(int32, { versions: '3+', ignorable: true }),
    brokers: array(MetadataResponseBroker),
    clusterId: field(string, { versions: '2+', nullable: '2+', default: null, ignorable: true }),
    controllerId: field(int32, { versions: '1+', default: -1, ignorable: true }),
    topics: array(MetadataResponseTopic),
    clusterAuthorizedOperations: field(int32, { versions: '8-10', default: -2147483648 }),
    errorCode: field(int16, { versions: '13+', ignorable: true }),
  }),
})
