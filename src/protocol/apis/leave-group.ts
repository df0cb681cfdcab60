// LeaveGroup (key 13): versions 0-5, flexible from 4. Spec: LeaveGroupRequest.json, LeaveGroupResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, field, int16, int32, string, struct } from '../schema.js'

// v0-2 remove one member by memberId; v3+ remove a batch of members, by memberId and/or groupInstanceId (KIP-345).

const MemberIdentity = struct('MemberIdentity', {
  memberId: field(string, { versions: '3+' }),
  groupInstanceId: field(string, { versions: '3+', nullable: '3+', default: null }),
  reason: field(string, { versions: '5+', nullable: '5+', default: null, ignorable: true }),
})

const MemberResponse = struct('MemberResponse', {
  memberId: field(string, { versions: '3+' }),
  groupInstanceId: field(string, { versions: '3+', nullable: '3+' }),
  errorCode: field(int16, { versions: '3+' }),
})

export const LeaveGroup = defineApi({
  key: 13,
  name: 'LeaveGroup',
  versions: '0-5',
  flexibleVersions: '4+',
  request: struct('LeaveGroupRequest', {
    groupId: string,
    memberId: field(string, { versions: '0-2' }),
    members: field(array(MemberIdentity), { versions: '3+' }),
  }),
  response: struct('LeaveGroupResponse', {
    throttleTimeMs: field(int32, { versions: '1+', ignorable: true }),
    errorCode: int16,
    members: field(array(MemberResponse), { versions: '3+' }),
  }),
})

export type LeaveGroupRequest = RequestOf<typeof LeaveGroup>
export type LeaveGroupResponse = ResponseOf<typeof LeaveGroup>
