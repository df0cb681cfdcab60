// TxnOffsetCommit (key 28): versions 0-6, flexible from 3. Spec: TxnOffsetCommitRequest.json, TxnOffsetCommitResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, field, int16, int32, int64, string, struct, uuid } from '../schema.js'

const TxnOffsetCommitRequestPartition = struct('TxnOffsetCommitRequestPartition', {
  partitionIndex: int32,
  committedOffset: int64,
  committedLeaderEpoch: field(int32, { versions: '2+', default: -1, ignorable: true }),
  committedMetadata: field(string, { nullable: '0+' }),
})

const TxnOffsetCommitRequestTopic = struct('TxnOffsetCommitRequestTopic', {
  /** v0-5: topics by name. */
  name: field(string, { versions: '0-5', ignorable: true }),
  /** v6+: topics by id (KIP-1319). */
  topicId: field(uuid, { versions: '6+', ignorable: true }),
  partitions: array(TxnOffsetCommitRequestPartition),
})

const TxnOffsetCommitResponsePartition = struct('TxnOffsetCommitResponsePartition', {
  partitionIndex: int32,
  errorCode: int16,
})

const TxnOffsetCommitResponseTopic = struct('TxnOffsetCommitResponseTopic', {
  name: field(string, { versions: '0-5', ignorable: true }),
  topicId: field(uuid, { versions: '6+', ignorable: true }),
  partitions: array(TxnOffsetCommitResponsePartition),
})

// v5 is v4 on the wire, but with transactions v2 (KIP-890 part 2) it also adds the group to the transaction, the
// work AddOffsetsToTxn does otherwise; without transactions v2 a client must stay at v4 or below inside a
// transaction.
export const TxnOffsetCommit = defineApi({
  key: 28,
  name: 'TxnOffsetCommit',
  versions: '0-6',
  flexibleVersions: '3+',
  request: struct('TxnOffsetCommitRequest', {
    transactionalId: string,
    groupId: string,
    producerId: int64,
    producerEpoch: int16,
    /** The generation (classic protocol) or member epoch (consumer protocol), so the coordinator can fence zombies (KIP-447). */
    generationIdOrMemberEpoch: field(int32, { versions: '3+', default: -1 }),
    memberId: field(string, { versions: '3+', default: '' }),
    groupInstanceId: field(string, { versions: '3+', nullable: '3+', default: null }),
    topics: array(TxnOffsetCommitRequestTopic),
  }),
  response: struct('TxnOffsetCommitResponse', {
    throttleTimeMs: int32,
    topics: array(TxnOffsetCommitResponseTopic),
  }),
})

export type TxnOffsetCommitRequest = RequestOf<typeof TxnOffsetCommit>
export type TxnOffsetCommitResponse = ResponseOf<typeof TxnOffsetCommit>
