// EndTxn (key 26): versions 0-5, flexible from 3. Spec: EndTxnRequest.json, EndTxnResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { bool, field, int16, int32, int64, string, struct } from '../schema.js'

export const EndTxn = defineApi({
  key: 26,
  name: 'EndTxn',
  versions: '0-5',
  flexibleVersions: '3+',
  request: struct('EndTxnRequest', {
    transactionalId: string,
    producerId: int64,
    producerEpoch: int16,
    /** true to commit, false to abort. */
    committed: bool,
  }),
  response: struct('EndTxnResponse', {
    throttleTimeMs: int32,
    errorCode: int16,
    // v5 (transactions v2, KIP-890 part 2): the coordinator bumps the epoch at every transaction end and returns
    // the producer id and epoch the producer must use from now on.
    producerId: field(int64, { versions: '5+', default: -1n, ignorable: true }),
    producerEpoch: field(int16, { versions: '5+', default: -1, ignorable: true }),
  }),
})

export type EndTxnRequest = RequestOf<typeof EndTxn>
export type EndTxnResponse = ResponseOf<typeof EndTxn>
