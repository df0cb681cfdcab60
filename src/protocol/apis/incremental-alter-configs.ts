// IncrementalAlterConfigs (key 44): versions 0-1, flexible from 1. Spec: IncrementalAlterConfigsRequest.json, IncrementalAlterConfigsResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, bool, field, int8, int16, int32, string, struct } from '../schema.js'

const AlterableConfig = struct('AlterableConfig', {
  name: string,
  /** 0 = SET, 1 = DELETE, 2 = APPEND, 3 = SUBTRACT (KIP-339). */
  configOperation: int8,
  value: field(string, { nullable: '0+' }),
})

const AlterConfigsResource = struct('AlterConfigsResource', {
  resourceType: int8,
  resourceName: string,
  configs: array(AlterableConfig),
})

const AlterConfigsResourceResponse = struct('AlterConfigsResourceResponse', {
  errorCode: int16,
  errorMessage: field(string, { nullable: '0+' }),
  resourceType: int8,
  resourceName: string,
})

export const IncrementalAlterConfigs = defineApi({
  key: 44,
  name: 'IncrementalAlterConfigs',
  versions: '0-1',
  flexibleVersions: '1+',
  request: struct('IncrementalAlterConfigsRequest', {
    resources: array(AlterConfigsResource),
    validateOnly: bool,
  }),
  response: struct('IncrementalAlterConfigsResponse', {
    throttleTimeMs: int32,
    responses: array(AlterConfigsResourceResponse),
  }),
})

export type IncrementalAlterConfigsRequest = RequestOf<typeof IncrementalAlterConfigs>
export type IncrementalAlterConfigsResponse = ResponseOf<typeof IncrementalAlterConfigs>
