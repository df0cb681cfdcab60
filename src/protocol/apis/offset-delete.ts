// OffsetDelete (key 47): version 0, never flexible. Spec: OffsetDeleteRequest.json, OffsetDeleteResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, field, int16, int32, string, struct } from '../schema.js'

const OffsetDeleteRequestPartition = struct('OffsetDeleteRequestPartition', {
  partitionIndex: int32,
})

const OffsetDeleteRequestTopic = struct('OffsetDeleteRequestTopic', {
  name: string,
  partitions: array(OffsetDeleteRequestPartition),
})

const OffsetDeleteResponsePartition = struct('OffsetDeleteResponsePartition', {
  partitionIndex: int32,
  errorCode: int16,
})

const OffsetDeleteResponseTopic = struct('OffsetDeleteResponseTopic', {
  name: string,
  partitions: array(OffsetDeleteResponsePartition),
})

export const OffsetDelete = defineApi({
  key: 47,
  name: 'OffsetDelete',
  versions: '0',
  flexibleVersions: 'none',
  request: struct('OffsetDeleteRequest', {
    groupId: string,
    topics: array(OffsetDeleteRequestTopic),
  }),
  response: struct('OffsetDeleteResponse', {
    // Unusually, the error code comes before the throttle time.
    errorCode: int16,
    throttleTimeMs: field(int32, { ignorable: true }),
    topics: array(OffsetDeleteResponseTopic),
  }),
})

export type OffsetDeleteRequest = RequestOf<typeof OffsetDelete>
export type OffsetDeleteResponse = ResponseOf<typeof OffsetDelete>
