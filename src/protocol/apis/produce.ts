// Produce (key 0): versions 3-13, flexible from 9. Spec: ProduceRequest.json, ProduceResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, field, int16, int32, int64, records, string, struct, uuid } from '../schema.js'

// Kafka 4.0 rejects Produce v0-2 but still advertises v0 in ApiVersions (KAFKA-18659), so the minimum comes from
// this table, not from the broker's answer.

const PartitionProduceData = struct('PartitionProduceData', {
  index: int32,
  /** One or more record batches (magic v2, so v3+ only) for this partition. */
  records: field(records, { nullable: '0+' }),
})

const TopicProduceData = struct('TopicProduceData', {
  name: field(string, { versions: '0-12', ignorable: true }),
  // v13+: topics by id (KIP-516); names are absent and the broker may answer UNKNOWN_TOPIC_ID.
  topicId: field(uuid, { versions: '13+', ignorable: true }),
  partitionData: array(PartitionProduceData),
})

const BatchIndexAndErrorMessage = struct('BatchIndexAndErrorMessage', {
  /** Index within the batch of a record that made the broker drop the whole batch (KIP-467). */
  batchIndex: field(int32, { versions: '8+' }),
  batchIndexErrorMessage: field(string, { versions: '8+', nullable: '8+', default: null }),
})

const LeaderIdAndEpoch = struct('LeaderIdAndEpoch', {
  leaderId: field(int32, { versions: '10+', default: -1 }),
  leaderEpoch: field(int32, { versions: '10+', default: -1 }),
})

const PartitionProduceResponse = struct('PartitionProduceResponse', {
  index: int32,
  errorCode: int16,
  baseOffset: int64,
  /** -1 unless the topic uses LogAppendTime, then the broker's append time. */
  logAppendTimeMs: field(int64, { versions: '2+', default: -1n, ignorable: true }),
  logStartOffset: field(int64, { versions: '5+', default: -1n, ignorable: true }),
  recordErrors: field(array(BatchIndexAndErrorMessage), { versions: '8+', ignorable: true }),
  errorMessage: field(string, { versions: '8+', nullable: '8+', default: null, ignorable: true }),
  // v10+ (KIP-951): with NOT_LEADER_OR_FOLLOWER the new leader comes back here, so the producer can retry
  // without waiting for a metadata refresh; its endpoint is in the response's nodeEndpoints.
  currentLeader: field(LeaderIdAndEpoch, { versions: '10+', tag: 0 }),
})

const TopicProduceResponse = struct('TopicProduceResponse', {
  name: field(string, { versions: '0-12', ignorable: true }),
  topicId: field(uuid, { versions: '13+', ignorable: true }),
  partitionResponses: array(PartitionProduceResponse),
})

const NodeEndpoint = struct('NodeEndpoint', {
  nodeId: field(int32, { versions: '10+' }),
  host: field(string, { versions: '10+' }),
  port: field(int32, { versions: '10+' }),
  rack: field(string, { versions: '10+', nullable: '10+', default: null }),
})

export const Produce = defineApi({
  key: 0,
  name: 'Produce',
  versions: '3-13',
  flexibleVersions: '9+',
  request: struct('ProduceRequest', {
    /** Needed inside a transaction; with transactions v2 (KIP-890, v12+) the produce also adds the partition. */
    transactionalId: field(string, { versions: '3+', nullable: '3+', default: null }),
    /** 0: no acknowledgement (the broker sends no response at all), 1: the leader only, -1: the full ISR. */
    acks: int16,
    timeoutMs: int32,
    topicData: array(TopicProduceData),
  }),
  response: struct('ProduceResponse', {
    responses: array(TopicProduceResponse),
    throttleTimeMs: field(int32, { versions: '1+', default: 0, ignorable: true }),
    nodeEndpoints: field(array(NodeEndpoint), { versions: '10+', tag: 0 }),
  }),
})

export type ProduceRequest = RequestOf<typeof Produce>
export type ProduceResponse = ResponseOf<typeof Produce>
