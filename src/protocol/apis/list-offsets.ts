// ListOffsets (key 2): versions 1-11, flexible from 6. Spec: ListOffsetsRequest.json, ListOffsetsResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, field, int8, int16, int32, int64, string, struct } from '../schema.js'

const ListOffsetsPartition = struct('ListOffsetsPartition', {
  partitionIndex: int32,
  currentLeaderEpoch: field(int32, { versions: '4+', default: -1, ignorable: true }),
  // A time in ms (the first offset whose timestamp is at or after it), or a special value, each needing a minimum
  // version: -1 latest, -2 earliest, -3 max timestamp (v7+, KIP-734), -4 earliest local (v8+, KIP-405),
  // -5 latest tiered (v9+, KIP-1005), -6 earliest pending upload (v11+, KIP-1023).
  timestamp: int64,
})

const ListOffsetsTopic = struct('ListOffsetsTopic', {
  name: string,
  partitions: array(ListOffsetsPartition),
})

const ListOffsetsPartitionResponse = struct('ListOffsetsPartitionResponse', {
  partitionIndex: int32,
  errorCode: int16,
  timestamp: field(int64, { versions: '1+', default: -1n }),
  /** -1 when no offset matches (e.g. a timestamp later than every record). */
  offset: field(int64, { versions: '1+', default: -1n }),
  leaderEpoch: field(int32, { versions: '4+', default: -1 }),
})

const ListOffsetsTopicResponse = struct('ListOffsetsTopicResponse', {
  name: string,
  partitions: array(ListOffsetsPartitionResponse),
})

export const ListOffsets = defineApi({
  key: 2,
  name: 'ListOffsets',
  versions: '1-11',
  flexibleVersions: '6+',
  request: struct('ListOffsetsRequest', {
    /** -1 for consumers. */
    replicaId: int32,
    /** 0: read_uncommitted, 1: read_committed (latest means the last stable offset). */
    isolationLevel: field(int8, { versions: '2+' }),
    topics: array(ListOffsetsTopic),
    /** v10+: how long the broker may wait on remote (tiered) storage (KIP-1075). */
    timeoutMs: field(int32, { versions: '10+', ignorable: true }),
  }),
  response: struct('ListOffsetsResponse', {
    throttleTimeMs: field(int32, { versions: '2+', ignorable: true }),
    topics: array(ListOffsetsTopicResponse),
  }),
})

export type ListOffsetsRequest = RequestOf<typeof ListOffsets>
export type ListOffsetsResponse = ResponseOf<typeof ListOffsets>
