// SaslAuthenticate (key 36): versions 0-2, flexible from 2. Spec: SaslAuthenticateRequest.json, SaslAuthenticateResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { bytes, field, int16, int64, string, struct } from '../schema.js'

export const SaslAuthenticate = defineApi({
  key: 36,
  name: 'SaslAuthenticate',
  versions: '0-2',
  flexibleVersions: '2+',
  request: struct('SaslAuthenticateRequest', {
    authBytes: bytes,
  }),
  response: struct('SaslAuthenticateResponse', {
    errorCode: int16,
    errorMessage: field(string, { nullable: '0+' }),
    authBytes: bytes,
    // KIP-368: when positive, the connection must re-authenticate before this many ms have passed or the broker
    // closes it; 0 means the session does not expire.
    sessionLifetimeMs: field(int64, { versions: '1+', default: 0n, ignorable: true }),
  }),
})

export type SaslAuthenticateRequest = RequestOf<typeof SaslAuthenticate>
export type SaslAuthenticateResponse = ResponseOf<typeof SaslAuthenticate>
