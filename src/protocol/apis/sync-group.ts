// SyncGroup (key 14): versions 0-5, flexible from 4. Spec: SyncGroupRequest.json, SyncGroupResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, bytes, field, int16, int32, string, struct } from '../schema.js'

const SyncGroupRequestAssignment = struct('SyncGroupRequestAssignment', {
  memberId: string,
  /** For protocolType "consumer": a ConsumerProtocolAssignment. */
  assignment: bytes,
})

export const SyncGroup = defineApi({
  key: 14,
  name: 'SyncGroup',
  versions: '0-5',
  flexibleVersions: '4+',
  request: struct('SyncGroupRequest', {
    groupId: string,
    generationId: int32,
    memberId: string,
    groupInstanceId: field(string, { versions: '3+', nullable: '3+', default: null }),
    // v5+: the coordinator rejects the request with INCONSISTENT_GROUP_PROTOCOL if these differ from what the
    // group chose at JoinGroup (KIP-559).
    protocolType: field(string, { versions: '5+', nullable: '5+', default: null, ignorable: true }),
    protocolName: field(string, { versions: '5+', nullable: '5+', default: null, ignorable: true }),
    /** The leader sends every member's assignment; the other members send an empty list. */
    assignments: array(SyncGroupRequestAssignment),
  }),
  response: struct('SyncGroupResponse', {
    throttleTimeMs: field(int32, { versions: '1+', ignorable: true }),
    errorCode: int16,
    protocolType: field(string, { versions: '5+', nullable: '5+', default: null, ignorable: true }),
    protocolName: field(string, { versions: '5+', nullable: '5+', default: null, ignorable: true }),
    /** This member's assignment. */
    assignment: bytes,
  }),
})

export type SyncGroupRequest = RequestOf<typeof SyncGroup>
export type SyncGroupResponse = ResponseOf<typeof SyncGroup>
