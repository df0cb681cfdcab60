// SaslHandshake (key 17): versions 0-1, never flexible. Spec: SaslHandshakeRequest.json, SaslHandshakeResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, int16, string, struct } from '../schema.js'

// v1 means the SASL tokens that follow travel in SaslAuthenticate requests (KIP-152); v0 sent them as raw
// size-prefixed frames. Kafka can never add a v2 or make this API flexible: clients up to 2.4 pick the version
// wrongly (KAFKA-9577).
export const SaslHandshake = defineApi({
  key: 17,
  name: 'SaslHandshake',
  versions: '0-1',
  flexibleVersions: 'none',
  request: struct('SaslHandshakeRequest', {
    mechanism: string,
  }),
  response: struct('SaslHandshakeResponse', {
    errorCode: int16,
    /** The mechanisms the broker has enabled; useful when errorCode is UNSUPPORTED_SASL_MECHANISM. */
    mechanisms: array(string),
  }),
})

export type SaslHandshakeRequest = RequestOf<typeof SaslHandshake>
export type SaslHandshakeResponse = ResponseOf<typeof SaslHandshake>
