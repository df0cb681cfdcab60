// AddOffsetsToTxn (key 25): versions 0-4, flexible from 3. Spec: AddOffsetsToTxnRequest.json, AddOffsetsToTxnResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { int16, int32, int64, string, struct } from '../schema.js'

// v4 only adds the TRANSACTION_ABORTABLE error (KIP-890). With transactions v2 (KIP-890 part 2) a
// TxnOffsetCommit v5+ does this call's work itself and AddOffsetsToTxn is not sent at all.
export const AddOffsetsToTxn = defineApi({
  key: 25,
  name: 'AddOffsetsToTxn',
  versions: '0-4',
  flexibleVersions: '3+',
  request: struct('AddOffsetsToTxnRequest', {
    transactionalId: string,
    producerId: int64,
    producerEpoch: int16,
    groupId: string,
  }),
  response: struct('AddOffsetsToTxnResponse', {
    throttleTimeMs: int32,
    errorCode: int16,
  }),
})

export type AddOffsetsToTxnRequest = RequestOf<typeof AddOffsetsToTxn>
export type AddOffsetsToTxnResponse = ResponseOf<typeof AddOffsetsToTxn>
