// JoinGroup (key 11): versions 0-9, flexible from 6. Spec: JoinGroupRequest.json, JoinGroupResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, bool, bytes, field, int16, int32, string, struct } from '../schema.js'

const JoinGroupRequestProtocol = struct('JoinGroupRequestProtocol', {
  /** The assignor name, e.g. "range" or "cooperative-sticky". */
  name: string,
  /** For protocolType "consumer": a ConsumerProtocolSubscription. */
  metadata: bytes,
})

const JoinGroupResponseMember = struct('JoinGroupResponseMember', {
  memberId: string,
  groupInstanceId: field(string, { versions: '5+', nullable: '5+', default: null, ignorable: true }),
  metadata: bytes,
})

export const JoinGroup = defineApi({
  key: 11,
  name: 'JoinGroup',
  versions: '0-9',
  flexibleVersions: '6+',
  request: struct('JoinGroupRequest', {
    groupId: string,
    sessionTimeoutMs: int32,
    /** v0 has no rebalance timeout: the coordinator uses sessionTimeoutMs instead. */
    rebalanceTimeoutMs: field(int32, { versions: '1+', default: -1, ignorable: true }),
    // Empty on the first join. From v4 the coordinator answers MEMBER_ID_REQUIRED with the assigned memberId,
    // and the member joins again with it (KIP-394).
    memberId: string,
    /** Static membership (KIP-345): the member's group.instance.id, or null. */
    groupInstanceId: field(string, { versions: '5+', nullable: '5+', default: null }),
    /** "consumer" for consumer groups. */
    protocolType: string,
    protocols: array(JoinGroupRequestProtocol),
    reason: field(string, { versions: '8+', nullable: '8+', default: null, ignorable: true }),
  }),
  response: struct('JoinGroupResponse', {
    throttleTimeMs: field(int32, { versions: '2+', ignorable: true }),
    errorCode: int16,
    generationId: field(int32, { default: -1 }),
    protocolType: field(string, { versions: '7+', nullable: '7+', default: null, ignorable: true }),
    protocolName: field(string, { nullable: '7+' }),
    /** The leader's memberId; when it equals memberId, this member computes the assignment. */
    leader: string,
    /** v9+: the leader must not assign (a static leader rejoined and the group kept its assignment, KIP-814). */
    skipAssignment: field(bool, { versions: '9+', default: false }),
    memberId: string,
    /** Only the leader gets the members and their subscriptions; others get an empty list. */
    members: array(JoinGroupResponseMember),
  }),
})

export type JoinGroupRequest = RequestOf<typeof JoinGroup>
export type JoinGroupResponse = ResponseOf<typeof JoinGroup>
