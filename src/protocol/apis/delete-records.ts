// DeleteRecords (key 21): versions 0-2, flexible from 2. Spec: DeleteRecordsRequest.json, DeleteRecordsResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, int16, int32, int64, string, struct } from '../schema.js'

const DeleteRecordsPartition = struct('DeleteRecordsPartition', {
  partitionIndex: int32,
  /** Records before this offset are deleted; -1 means up to the high watermark. */
  offset: int64,
})

const DeleteRecordsTopic = struct('DeleteRecordsTopic', {
  name: string,
  partitions: array(DeleteRecordsPartition),
})

const DeleteRecordsPartitionResult = struct('DeleteRecordsPartitionResult', {
  partitionIndex: int32,
  lowWatermark: int64,
  errorCode: int16,
})

const DeleteRecordsTopicResult = struct('DeleteRecordsTopicResult', {
  name: string,
  partitions: array(DeleteRecordsPartitionResult),
})

export const DeleteRecords = defineApi({
  key: 21,
  name: 'DeleteRecords',
  versions: '0-2',
  flexibleVersions: '2+',
  request: struct('DeleteRecordsRequest', {
    topics: array(DeleteRecordsTopic),
    timeoutMs: int32,
  }),
  response: struct('DeleteRecordsResponse', {
    throttleTimeMs: int32,
    topics: array(DeleteRecordsTopicResult),
  }),
})

export type DeleteRecordsRequest = RequestOf<typeof DeleteRecords>
export type DeleteRecordsResponse = ResponseOf<typeof DeleteRecords>
