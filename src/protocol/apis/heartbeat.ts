// Heartbeat (key 12): versions 0-4, flexible from 4. Spec: HeartbeatRequest.json, HeartbeatResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { field, int16, int32, string, struct } from '../schema.js'

export const Heartbeat = defineApi({
  key: 12,
  name: 'Heartbeat',
  versions: '0-4',
  flexibleVersions: '4+',
  request: struct('HeartbeatRequest', {
    groupId: string,
    generationId: int32,
    memberId: string,
    groupInstanceId: field(string, { versions: '3+', nullable: '3+', default: null }),
  }),
  response: struct('HeartbeatResponse', {
    throttleTimeMs: field(int32, { versions: '1+', ignorable: true }),
    /** REBALANCE_IN_PROGRESS tells the member to rejoin. */
    errorCode: int16,
  }),
})

export type HeartbeatRequest = RequestOf<typeof Heartbeat>
export type HeartbeatResponse = ResponseOf<typeof Heartbeat>
