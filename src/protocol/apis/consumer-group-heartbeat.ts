// ConsumerGroupHeartbeat (key 68): versions 0-1, flexible from 0. Spec: ConsumerGroupHeartbeatRequest.json, ConsumerGroupHeartbeatResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, field, int16, int32, string, struct, uuid } from '../schema.js'

// The request's inline TopicPartitions and the response's common struct of the same name are identical, so
// one declaration serves both.
const TopicPartitions = struct('TopicPartitions', {
  topicId: uuid,
  partitions: array(int32),
})

const Assignment = struct('Assignment', {
  /** Partitions the member may consume now; a partition still being revoked by another member is left out. */
  topicPartitions: array(TopicPartitions),
})

// The consumer rebalance protocol (KIP-848). A null field in the request means "unchanged since my last
// heartbeat", so only the first heartbeat (memberEpoch 0) and changes need to carry values.
export const ConsumerGroupHeartbeat = defineApi({
  key: 68,
  name: 'ConsumerGroupHeartbeat',
  versions: '0-1',
  flexibleVersions: '0+',
  request: struct('ConsumerGroupHeartbeatRequest', {
    groupId: string,
    /** From v1 the consumer generates its own member id (a UUID) and keeps it for its lifetime (KIP-1082). */
    memberId: string,
    /** 0 to join, -1 to leave, -2 for a static member leaving to rejoin later; the current epoch otherwise. */
    memberEpoch: int32,
    instanceId: field(string, { nullable: '0+', default: null }),
    rackId: field(string, { nullable: '0+', default: null }),
    rebalanceTimeoutMs: field(int32, { default: -1 }),
    subscribedTopicNames: field(array(string), { nullable: '0+', default: null }),
    /** A RE2/J regular expression evaluated by the broker (v1+). */
    subscribedTopicRegex: field(string, { versions: '1+', nullable: '1+', default: null }),
    serverAssignor: field(string, { nullable: '0+', default: null }),
    topicPartitions: field(array(TopicPartitions), { nullable: '0+', default: null }),
  }),
  response: struct('ConsumerGroupHeartbeatResponse', {
    throttleTimeMs: int32,
    errorCode: int16,
    errorMessage: field(string, { nullable: '0+', default: null }),
    memberId: field(string, { nullable: '0+', default: null }),
    memberEpoch: int32,
    heartbeatIntervalMs: int32,
    /** null when the assignment has not changed. */
    assignment: field(Assignment, { nullable: '0+', default: null }),
  }),
})

export type ConsumerGroupHeartbeatRequest = RequestOf<typeof ConsumerGroupHeartbeat>
export type ConsumerGroupHeartbeatResponse = ResponseOf<typeof ConsumerGroupHeartbeat>
