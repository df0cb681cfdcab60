// ApiVersions (key 18): versions 0-5, flexible from 3. Spec: ApiVersionsRequest.json, ApiVersionsResponse.json
import { defineApi } from '../api.js'
import { array, bool, field, int16, int32, int64, string, struct } from '../schema.js'

const ApiVersion = struct('ApiVersion', {
  apiKey: int16,
  minVersion: int16,
  maxVersion: int16,
})

const SupportedFeatureKey = struct('SupportedFeatureKey', {
  name: string,
  minVersion: int16,
  maxVersion: int16,
})

const FinalizedFeatureKey = struct('FinalizedFeatureKey', {
  name: string,
  maxVersionLevel: int16,
  minVersionLevel: int16,
})

export const ApiVersions = defineApi({
  key: 18,
  name: 'ApiVersions',
  versions: '0-5',
  flexibleVersions: '3+',
  // KIP-511: the broker answers an unsupported ApiVersions version with a v0 body and header v0, so the
  // header is v0 at every version (see negotiateApiVersions for the body fallback).
  responseHeaderAlwaysV0: true,
  request: struct('ApiVersionsRequest', {
    clientSoftwareName: field(string, { versions: '3+', ignorable: true }),
    clientSoftwareVersion: field(string, { versions: '3+', ignorable: true }),
    clusterId: field(string, { versions: '5+', nullable: '5+', default: null, ignorable: true }),
    nodeId: field(int32, { versions: '5+', default: -1, ignorable: true }),
  }),
  response: struct('ApiVersionsResponse', {
    errorCode: int16,
    apiKeys: array(ApiVersion),
    throttleTimeMs: field(int32, { versions: '1+', ignorable: true }),
    supportedFeatures: field(array(SupportedFeatureKey), { versions: '3+', tag: 0, ignorable: true }),
    finalizedFeaturesEpoch: field(int64, { versions: '3+', tag: 1, default: -1n, ignorable: true }),
    finalizedFeatures: field(array(FinalizedFeatureKey), { versions: '3+', tag: 2, ignorable: true }),
    zkMigrationReady: field(bool, { versions: '3+', tag: 3, default: false, ignorable: true }),
  }),
})
