// OffsetForLeaderEpoch (key 23): versions 2-4, flexible from 4. Spec: OffsetForLeaderEpochRequest.json, OffsetForLeaderEpochResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, field, int16, int32, int64, string, struct } from '../schema.js'

const OffsetForLeaderPartition = struct('OffsetForLeaderPartition', {
  partition: int32,
  currentLeaderEpoch: field(int32, { versions: '2+', default: -1, ignorable: true }),
  /** The epoch of the consumer's last consumed record: the answer is where that epoch ended on the leader. */
  leaderEpoch: int32,
})

const OffsetForLeaderTopic = struct('OffsetForLeaderTopic', {
  topic: string,
  partitions: array(OffsetForLeaderPartition),
})

const EpochEndOffset = struct('EpochEndOffset', {
  errorCode: int16,
  partition: int32,
  leaderEpoch: field(int32, { versions: '1+', default: -1, ignorable: true }),
  /** If below the consumer's position, the log was truncated: reset to it (KIP-320). */
  endOffset: field(int64, { default: -1n }),
})

const OffsetForLeaderTopicResult = struct('OffsetForLeaderTopicResult', {
  topic: string,
  partitions: array(EpochEndOffset),
})

export const OffsetForLeaderEpoch = defineApi({
  key: 23,
  name: 'OffsetForLeaderEpoch',
  versions: '2-4',
  flexibleVersions: '4+',
  request: struct('OffsetForLeaderEpochRequest', {
    // The default -2 is the "debug" replica, which may see past the high watermark; consumers send -1, as the
    // Java consumer does, and followers their broker id.
    replicaId: field(int32, { versions: '3+', default: -2, ignorable: true }),
    topics: array(OffsetForLeaderTopic),
  }),
  response: struct('OffsetForLeaderEpochResponse', {
    throttleTimeMs: field(int32, { versions: '2+', ignorable: true }),
    topics: array(OffsetForLeaderTopicResult),
  }),
})

export type OffsetForLeaderEpochRequest = RequestOf<typeof OffsetForLeaderEpoch>
export type OffsetForLeaderEpochResponse = ResponseOf<typeof OffsetForLeaderEpoch>
