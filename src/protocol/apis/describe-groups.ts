// DescribeGroups (key 15): versions 0-6, flexible from 5. Spec: DescribeGroupsRequest.json, DescribeGroupsResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, bool, bytes, field, int16, int32, string, struct } from '../schema.js'

const DescribedGroupMember = struct('DescribedGroupMember', {
  memberId: string,
  groupInstanceId: field(string, { versions: '4+', nullable: '4+', default: null, ignorable: true }),
  clientId: string,
  clientHost: string,
  /** Only filled in while the group is Stable: the member's JoinGroup metadata for the chosen protocol. */
  memberMetadata: bytes,
  /** Only filled in while the group is Stable: the leader's assignment (SyncGroup bytes) for this member. */
  memberAssignment: bytes,
})

const DescribedGroup = struct('DescribedGroup', {
  errorCode: int16,
  errorMessage: field(string, { versions: '6+', nullable: '6+', default: null }),
  groupId: string,
  groupState: string,
  protocolType: string,
  /** The chosen protocol (assignor) name; only filled in while the group is Stable. */
  protocolData: string,
  /** Always empty for a Dead group. */
  members: array(DescribedGroupMember),
  authorizedOperations: field(int32, { versions: '3+', default: -2147483648 }),
})

export const DescribeGroups = defineApi({
  key: 15,
  name: 'DescribeGroups',
  versions: '0-6',
  flexibleVersions: '5+',
  request: struct('DescribeGroupsRequest', {
    groups: array(string),
    includeAuthorizedOperations: field(bool, { versions: '3+' }),
  }),
  response: struct('DescribeGroupsResponse', {
    throttleTimeMs: field(int32, { versions: '1+', ignorable: true }),
    // Before v6 an unknown group comes back as errorCode 0 with state Dead; v6 says GROUP_ID_NOT_FOUND (KIP-1043).
    groups: array(DescribedGroup),
  }),
})

export type DescribeGroupsRequest = RequestOf<typeof DescribeGroups>
export type DescribeGroupsResponse = ResponseOf<typeof DescribeGroups>
