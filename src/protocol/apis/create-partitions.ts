// CreatePartitions (key 37): versions 0-3, flexible from 2. Spec: CreatePartitionsRequest.json, CreatePartitionsResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, bool, field, int16, int32, string, struct } from '../schema.js'

const CreatePartitionsAssignment = struct('CreatePartitionsAssignment', {
  brokerIds: array(int32),
})

const CreatePartitionsTopic = struct('CreatePartitionsTopic', {
  name: string,
  /** The new total partition count, not the number to add. */
  count: int32,
  /** One entry per new partition, or null to let the controller place them. */
  assignments: field(array(CreatePartitionsAssignment), { nullable: '0+' }),
})

const CreatePartitionsTopicResult = struct('CreatePartitionsTopicResult', {
  name: string,
  errorCode: int16,
  errorMessage: field(string, { nullable: '0+', default: null }),
})

// v3 is v2 on the wire but may answer THROTTLING_QUOTA_EXCEEDED (KIP-599).
export const CreatePartitions = defineApi({
  key: 37,
  name: 'CreatePartitions',
  versions: '0-3',
  flexibleVersions: '2+',
  request: struct('CreatePartitionsRequest', {
    topics: array(CreatePartitionsTopic),
    timeoutMs: int32,
    validateOnly: bool,
  }),
  response: struct('CreatePartitionsResponse', {
    throttleTimeMs: int32,
    results: array(CreatePartitionsTopicResult),
  }),
})

export type CreatePartitionsRequest = RequestOf<typeof CreatePartitions>
export type CreatePartitionsResponse = ResponseOf<typeof CreatePartitions>
