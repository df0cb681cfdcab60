// OffsetCommit (key 8): versions 2-10, flexible from 8. Spec: OffsetCommitRequest.json, OffsetCommitResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, field, int16, int32, int64, string, struct, uuid } from '../schema.js'

const OffsetCommitRequestPartition = struct('OffsetCommitRequestPartition', {
  partitionIndex: int32,
  /** The next offset to consume (last processed + 1). */
  committedOffset: int64,
  committedLeaderEpoch: field(int32, { versions: '6+', default: -1, ignorable: true }),
  committedMetadata: field(string, { nullable: '0+' }),
})

const OffsetCommitRequestTopic = struct('OffsetCommitRequestTopic', {
  name: field(string, { versions: '0-9', ignorable: true }),
  // v10+: topics by id (KIP-848); names are absent and the broker may answer UNKNOWN_TOPIC_ID.
  topicId: field(uuid, { versions: '10+', ignorable: true }),
  partitions: array(OffsetCommitRequestPartition),
})

const OffsetCommitResponsePartition = struct('OffsetCommitResponsePartition', {
  partitionIndex: int32,
  errorCode: int16,
})

const OffsetCommitResponseTopic = struct('OffsetCommitResponseTopic', {
  name: field(string, { versions: '0-9', ignorable: true }),
  topicId: field(uuid, { versions: '10+', ignorable: true }),
  partitions: array(OffsetCommitResponsePartition),
})

export const OffsetCommit = defineApi({
  key: 8,
  name: 'OffsetCommit',
  versions: '2-10',
  flexibleVersions: '8+',
  request: struct('OffsetCommitRequest', {
    groupId: string,
    // The classic protocol's generation id, or the member epoch of a consumer-protocol group (v9+, KIP-848).
    // -1 (with an empty memberId) commits as a standalone consumer outside any group membership.
    generationIdOrMemberEpoch: field(int32, { versions: '1+', default: -1, ignorable: true }),
    memberId: field(string, { versions: '1+', ignorable: true }),
    groupInstanceId: field(string, { versions: '7+', nullable: '7+', default: null }),
    /** v2-4 only; from v5 retention is the broker's offsets.retention.minutes. */
    retentionTimeMs: field(int64, { versions: '2-4', default: -1n, ignorable: true }),
    topics: array(OffsetCommitRequestTopic),
  }),
  response: struct('OffsetCommitResponse', {
    throttleTimeMs: field(int32, { versions: '3+', ignorable: true }),
    topics: array(OffsetCommitResponseTopic),
  }),
})

export type OffsetCommitRequest = RequestOf<typeof OffsetCommit>
export type OffsetCommitResponse = ResponseOf<typeof OffsetCommit>
