// DescribeConfigs (key 32): versions 1-4, flexible from 4. Spec: DescribeConfigsRequest.json, DescribeConfigsResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, bool, field, int8, int16, int32, string, struct } from '../schema.js'

const DescribeConfigsResource = struct('DescribeConfigsResource', {
  /** 2 = topic, 4 = broker, 8 = broker logger, 16 = client metrics, 32 = group. */
  resourceType: int8,
  resourceName: string,
  /** null to list every configuration key. */
  configurationKeys: field(array(string), { nullable: '0+' }),
})

const DescribeConfigsSynonym = struct('DescribeConfigsSynonym', {
  name: field(string, { versions: '1+' }),
  value: field(string, { versions: '1+', nullable: '0+' }),
  source: field(int8, { versions: '1+' }),
})

const DescribeConfigsResourceResult = struct('DescribeConfigsResourceResult', {
  name: string,
  value: field(string, { nullable: '0+' }),
  readOnly: bool,
  configSource: field(int8, { versions: '1+', default: -1, ignorable: true }),
  isSensitive: bool,
  synonyms: field(array(DescribeConfigsSynonym), { versions: '1+', ignorable: true }),
  configType: field(int8, { versions: '3+', default: 0, ignorable: true }),
  documentation: field(string, { versions: '3+', nullable: '0+', ignorable: true }),
})

const DescribeConfigsResult = struct('DescribeConfigsResult', {
  errorCode: int16,
  errorMessage: field(string, { nullable: '0+' }),
  resourceType: int8,
  resourceName: string,
  configs: array(DescribeConfigsResourceResult),
})

export const DescribeConfigs = defineApi({
  key: 32,
  name: 'DescribeConfigs',
  versions: '1-4',
  flexibleVersions: '4+',
  request: struct('DescribeConfigsRequest', {
    resources: array(DescribeConfigsResource),
    includeSynonyms: field(bool, { versions: '1+', default: false }),
    includeDocumentation: field(bool, { versions: '3+', default: false }),
  }),
  response: struct('DescribeConfigsResponse', {
    throttleTimeMs: int32,
    results: array(DescribeConfigsResult),
  }),
})

export type DescribeConfigsRequest = RequestOf<typeof DescribeConfigs>
export type DescribeConfigsResponse = ResponseOf<typeof DescribeConfigs>
