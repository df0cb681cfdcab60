// Fetch (key 1): versions 4-18, flexible from 12. Spec: FetchRequest.json, FetchResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, field, int8, int16, int32, int64, records, string, struct, uuid } from '../schema.js'

const ReplicaState = struct('ReplicaState', {
  replicaId: field(int32, { versions: '15+', default: -1 }),
  replicaEpoch: field(int64, { versions: '15+', default: -1n }),
})

const FetchPartition = struct('FetchPartition', {
  partition: int32,
  /** Fences fetches made with stale metadata (KIP-320): FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH. */
  currentLeaderEpoch: field(int32, { versions: '9+', default: -1, ignorable: true }),
  fetchOffset: int64,
  /** Epoch of the last fetched record; lets the leader report a divergingEpoch (log truncation) in the response. */
  lastFetchedEpoch: field(int32, { versions: '12+', default: -1 }),
  /** Followers only; consumers send -1. */
  logStartOffset: field(int64, { versions: '5+', default: -1n, ignorable: true }),
  partitionMaxBytes: int32,
  /** Followers only (KIP-853). */
  replicaDirectoryId: field(uuid, { versions: '17+', tag: 0, ignorable: true }),
  /** Followers only (KIP-1166). */
  highWatermark: field(int64, { versions: '18+', tag: 1, default: 9223372036854775807n, ignorable: true }),
})

const FetchTopic = struct('FetchTopic', {
  topic: field(string, { versions: '0-12', ignorable: true }),
  // v13+: topics by id (KIP-516); names are absent and the broker may answer UNKNOWN_TOPIC_ID.
  topicId: field(uuid, { versions: '13+', ignorable: true }),
  partitions: array(FetchPartition),
})

const ForgottenTopic = struct('ForgottenTopic', {
  topic: field(string, { versions: '7-12', ignorable: true }),
  topicId: field(uuid, { versions: '13+', ignorable: true }),
  partitions: field(array(int32), { versions: '7+' }),
})

const EpochEndOffset = struct('EpochEndOffset', {
  epoch: field(int32, { versions: '12+', default: -1 }),
  endOffset: field(int64, { versions: '12+', default: -1n }),
})

const LeaderIdAndEpoch = struct('LeaderIdAndEpoch', {
  leaderId: field(int32, { versions: '12+', default: -1 }),
  leaderEpoch: field(int32, { versions: '12+', default: -1 }),
})

const SnapshotId = struct('SnapshotId', {
  endOffset: field(int64, { default: -1n }),
  epoch: field(int32, { default: -1 }),
})

const AbortedTransaction = struct('AbortedTransaction', {
  producerId: field(int64, { versions: '4+' }),
  firstOffset: field(int64, { versions: '4+' }),
})

const PartitionData = struct('PartitionData', {
  partitionIndex: int32,
  errorCode: int16,
  highWatermark: int64,
  lastStableOffset: field(int64, { versions: '4+', default: -1n, ignorable: true }),
  logStartOffset: field(int64, { versions: '5+', default: -1n, ignorable: true }),
  /** The log diverged from lastFetchedEpoch: truncate to this epoch's end offset before fetching again. */
  divergingEpoch: field(EpochEndOffset, { versions: '12+', tag: 0 }),
  /** With NOT_LEADER_OR_FOLLOWER / FENCED_LEADER_EPOCH, the new leader (KIP-951: its endpoint is in nodeEndpoints). */
  currentLeader: field(LeaderIdAndEpoch, { versions: '12+', tag: 1 }),
  /** KRaft followers only. */
  snapshotId: field(SnapshotId, { versions: '12+', tag: 2 }),
  /** read_committed only: the aborted transactions overlapping the returned records; null when there are none. */
  abortedTransactions: field(array(AbortedTransaction), { versions: '4+', nullable: '4+', ignorable: true }),
  /** Rack-aware fetching (KIP-392): the replica to fetch from next, or -1 to stay on the leader. */
  preferredReadReplica: field(int32, { versions: '11+', default: -1 }),
  /** Record batches; the last one may be cut short by the size limits and must be dropped. */
  records: field(records, { nullable: '0+' }),
})

const FetchableTopicResponse = struct('FetchableTopicResponse', {
  topic: field(string, { versions: '0-12', ignorable: true }),
  topicId: field(uuid, { versions: '13+', ignorable: true }),
  partitions: array(PartitionData),
})

const NodeEndpoint = struct('NodeEndpoint', {
  nodeId: field(int32, { versions: '16+' }),
  host: field(string, { versions: '16+' }),
  port: field(int32, { versions: '16+' }),
  rack: field(string, { versions: '16+', nullable: '16+', default: null }),
})

export const Fetch = defineApi({
  key: 1,
  name: 'Fetch',
  versions: '4-18',
  flexibleVersions: '12+',
  request: struct('FetchRequest', {
    /** KRaft controllers only. */
    clusterId: field(string, { versions: '12+', nullable: '12+', tag: 0, default: null, ignorable: true }),
    // Consumers send replicaId -1 (v4-14) and no replicaState (v15+); followers moved to replicaState (KIP-903).
    replicaId: field(int32, { versions: '0-14', default: -1 }),
    replicaState: field(ReplicaState, { versions: '15+', tag: 1 }),
    maxWaitMs: int32,
    minBytes: int32,
    maxBytes: field(int32, { versions: '3+', default: 0x7fffffff, ignorable: true }),
    /** 0: read_uncommitted, 1: read_committed (stops at the last stable offset). */
    isolationLevel: field(int8, { versions: '4+', default: 0, ignorable: true }),
    // Incremental fetch sessions (KIP-227): sessionId 0 with epoch 0 opens a session, epoch -1 fetches without
    // one; within a session only changed partitions are sent, and removed ones go in forgottenTopicsData.
    sessionId: field(int32, { versions: '7+', default: 0, ignorable: true }),
    sessionEpoch: field(int32, { versions: '7+', default: -1, ignorable: true }),
    topics: array(FetchTopic),
    forgottenTopicsData: field(array(ForgottenTopic), { versions: '7+' }),
    /** The consumer's client.rack, for follower fetching (KIP-392). */
    rackId: field(string, { versions: '11+', default: '', ignorable: true }),
  }),
  response: struct('FetchResponse', {
    throttleTimeMs: field(int32, { versions: '1+', ignorable: true }),
    errorCode: field(int16, { versions: '7+', ignorable: true }),
    sessionId: field(int32, { versions: '7+', default: 0 }),
    responses: array(FetchableTopicResponse),
    nodeEndpoints: field(array(NodeEndpoint), { versions: '16+', tag: 0 }),
  }),
})

export type FetchRequest = RequestOf<typeof Fetch>
export type FetchResponse = ResponseOf<typeof Fetch>
/** One partition of a fetch response. */
export type FetchPartitionData = FetchResponse['responses'][number]['partitions'][number]
