// FindCoordinator (key 10): versions 0-6, flexible from 3. Spec: FindCoordinatorRequest.json, FindCoordinatorResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, field, int8, int16, int32, string, struct } from '../schema.js'

// v0-3 look up one key and answer one coordinator at the top level; v4+ batch keys and answer a list (KIP-699).

const Coordinator = struct('Coordinator', {
  key: field(string, { versions: '4+' }),
  nodeId: field(int32, { versions: '4+' }),
  host: field(string, { versions: '4+' }),
  port: field(int32, { versions: '4+' }),
  errorCode: field(int16, { versions: '4+' }),
  errorMessage: field(string, { versions: '4+', nullable: '4+', ignorable: true }),
})

export const FindCoordinator = defineApi({
  key: 10,
  name: 'FindCoordinator',
  versions: '0-6',
  flexibleVersions: '3+',
  request: struct('FindCoordinatorRequest', {
    key: field(string, { versions: '0-3' }),
    /** 0: group, 1: transaction, 2: share group (v6+, KIP-932; key "groupId:topicId:partition"). */
    keyType: field(int8, { versions: '1+', default: 0 }),
    coordinatorKeys: field(array(string), { versions: '4+' }),
  }),
  response: struct('FindCoordinatorResponse', {
    throttleTimeMs: field(int32, { versions: '1+', ignorable: true }),
    errorCode: field(int16, { versions: '0-3' }),
    errorMessage: field(string, { versions: '1-3', nullable: '1-3', ignorable: true }),
    nodeId: field(int32, { versions: '0-3' }),
    host: field(string, { versions: '0-3' }),
    port: field(int32, { versions: '0-3' }),
    coordinators: field(array(Coordinator), { versions: '4+' }),
  }),
})

export type FindCoordinatorRequest = RequestOf<typeof FindCoordinator>
export type FindCoordinatorResponse = ResponseOf<typeof FindCoordinator>
