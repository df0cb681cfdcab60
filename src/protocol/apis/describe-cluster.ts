// DescribeCluster (key 60): versions 0-2, flexible from 0. Spec: DescribeClusterRequest.json, DescribeClusterResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, bool, field, int8, int16, int32, string, struct } from '../schema.js'

const DescribeClusterBroker = struct('DescribeClusterBroker', {
  brokerId: int32,
  host: string,
  port: int32,
  rack: field(string, { nullable: '0+', default: null }),
  isFenced: field(bool, { versions: '2+' }),
})

export const DescribeCluster = defineApi({
  key: 60,
  name: 'DescribeCluster',
  versions: '0-2',
  flexibleVersions: '0+',
  request: struct('DescribeClusterRequest', {
    includeClusterAuthorizedOperations: bool,
    /** 1 = brokers, 2 = controllers (KIP-919). */
    endpointType: field(int8, { versions: '1+', default: 1 }),
    includeFencedBrokers: field(bool, { versions: '2+' }),
  }),
  response: struct('DescribeClusterResponse', {
    throttleTimeMs: int32,
    errorCode: int16,
    errorMessage: field(string, { nullable: '0+', default: null }),
    endpointType: field(int8, { versions: '1+', default: 1 }),
    clusterId: string,
    controllerId: field(int32, { default: -1 }),
    brokers: array(DescribeClusterBroker),
    clusterAuthorizedOperations: field(int32, { default: -2147483648 }),
  }),
})

export type DescribeClusterRequest = RequestOf<typeof DescribeCluster>
export type DescribeClusterResponse = ResponseOf<typeof DescribeCluster>
