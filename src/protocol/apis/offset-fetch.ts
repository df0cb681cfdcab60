// OffsetFetch (key 9): versions 1-10, flexible from 6. Spec: OffsetFetchRequest.json, OffsetFetchResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, bool, field, int16, int32, int64, string, struct, uuid } from '../schema.js'

// v1-7 ask about one group (groupId/topics); v8+ batch several groups in `groups` (KIP-709), each with its own
// error code. The two shapes share no fields.

const OffsetFetchRequestTopic = struct('OffsetFetchRequestTopic', {
  name: field(string, { versions: '0-7' }),
  partitionIndexes: field(array(int32), { versions: '0-7' }),
})

const OffsetFetchRequestTopics = struct('OffsetFetchRequestTopics', {
  name: field(string, { versions: '8-9', ignorable: true }),
  // v10+: topics by id (KIP-848); names are absent and the broker may answer UNKNOWN_TOPIC_ID.
  topicId: field(uuid, { versions: '10+', ignorable: true }),
  partitionIndexes: field(array(int32), { versions: '8+' }),
})

const OffsetFetchRequestGroup = struct('OffsetFetchRequestGroup', {
  groupId: field(string, { versions: '8+' }),
  /** v9+: set (with memberEpoch) by members of a consumer-protocol group (KIP-848), else null. */
  memberId: field(string, { versions: '9+', nullable: '9+', default: null, ignorable: true }),
  memberEpoch: field(int32, { versions: '9+', default: -1, ignorable: true }),
  /** null for every partition the group has committed offsets for. */
  topics: field(array(OffsetFetchRequestTopics), { versions: '8+', nullable: '8+' }),
})

const OffsetFetchResponsePartition = struct('OffsetFetchResponsePartition', {
  partitionIndex: field(int32, { versions: '0-7' }),
  /** -1 when the group has no committed offset for the partition. */
  committedOffset: field(int64, { versions: '0-7' }),
  committedLeaderEpoch: field(int32, { versions: '5-7', default: -1, ignorable: true }),
  metadata: field(string, { versions: '0-7', nullable: '0-7' }),
  errorCode: field(int16, { versions: '0-7' }),
})

const OffsetFetchResponseTopic = struct('OffsetFetchResponseTopic', {
  name: field(string, { versions: '0-7' }),
  partitions: field(array(OffsetFetchResponsePartition), { versions: '0-7' }),
})

const OffsetFetchResponsePartitions = struct('OffsetFetchResponsePartitions', {
  partitionIndex: field(int32, { versions: '8+' }),
  /** -1 when the group has no committed offset for the partition. */
  committedOffset: field(int64, { versions: '8+' }),
  committedLeaderEpoch: field(int32, { versions: '8+', default: -1, ignorable: true }),
  metadata: field(string, { versions: '8+', nullable: '8+' }),
  errorCode: field(int16, { versions: '8+' }),
})

const OffsetFetchResponseTopics = struct('OffsetFetchResponseTopics', {
  name: field(string, { versions: '8-9', ignorable: true }),
  topicId: field(uuid, { versions: '10+', ignorable: true }),
  partitions: field(array(OffsetFetchResponsePartitions), { versions: '8+' }),
})

const OffsetFetchResponseGroup = struct('OffsetFetchResponseGroup', {
  groupId: field(string, { versions: '8+' }),
  topics: field(array(OffsetFetchResponseTopics), { versions: '8+' }),
  errorCode: field(int16, { versions: '8+', default: 0 }),
})

export const OffsetFetch = defineApi({
  key: 9,
  name: 'OffsetFetch',
  versions: '1-10',
  flexibleVersions: '6+',
  request: struct('OffsetFetchRequest', {
    groupId: field(string, { versions: '0-7' }),
    /** null (v2+) for every partition the group has committed offsets for. */
    topics: field(array(OffsetFetchRequestTopic), { versions: '0-7', nullable: '2-7' }),
    groups: field(array(OffsetFetchRequestGroup), { versions: '8+' }),
    /** v7+: answer UNSTABLE_OFFSET_COMMIT (retriable) while a transactional commit is pending (KIP-447). */
    requireStable: field(bool, { versions: '7+', default: false }),
  }),
  response: struct('OffsetFetchResponse', {
    throttleTimeMs: field(int32, { versions: '3+', ignorable: true }),
    topics: field(array(OffsetFetchResponseTopic), { versions: '0-7' }),
    errorCode: field(int16, { versions: '2-7', default: 0, ignorable: true }),
    groups: field(array(OffsetFetchResponseGroup), { versions: '8+' }),
  }),
})

export type OffsetFetchRequest = RequestOf<typeof OffsetFetch>
export type OffsetFetchResponse = ResponseOf<typeof OffsetFetch>
