// InitProducerId (key 22): versions 0-6, flexible from 2. Spec: InitProducerIdRequest.json, InitProducerIdResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { bool, field, int16, int32, int64, string, struct } from '../schema.js'

// The request schema marks its latest version unstable ("latestVersionUnstable": true): brokers advertise v6
// (2PC, KIP-939) only with unstable.api.versions.enable, so negotiation normally settles on v5.
export const InitProducerId = defineApi({
  key: 22,
  name: 'InitProducerId',
  versions: '0-6',
  flexibleVersions: '2+',
  request: struct('InitProducerIdRequest', {
    /** null for an idempotent (non-transactional) producer. */
    transactionalId: field(string, { nullable: '0+' }),
    transactionTimeoutMs: int32,
    // v3+ (KIP-360): the current producer id and epoch, so a producer can bump its epoch and carry on after
    // INVALID_PRODUCER_EPOCH / UNKNOWN_PRODUCER_ID instead of starting over; -1/-1 asks for a new id.
    producerId: field(int64, { versions: '3+', default: -1n }),
    producerEpoch: field(int16, { versions: '3+', default: -1 }),
    enable2Pc: field(bool, { versions: '6+', default: false }),
    keepPreparedTxn: field(bool, { versions: '6+', default: false }),
  }),
  response: struct('InitProducerIdResponse', {
    throttleTimeMs: field(int32, { ignorable: true }),
    errorCode: int16,
    producerId: field(int64, { default: -1n }),
    producerEpoch: int16,
    ongoingTxnProducerId: field(int64, { versions: '6+', default: -1n }),
    ongoingTxnProducerEpoch: field(int16, { versions: '6+', default: -1 }),
  }),
})

export type InitProducerIdRequest = RequestOf<typeof InitProducerId>
export type InitProducerIdResponse = ResponseOf<typeof InitProducerId>
