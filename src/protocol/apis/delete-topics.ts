// DeleteTopics (key 20): versions 1-6, flexible from 4. Spec: DeleteTopicsRequest.json, DeleteTopicsResponse.json
import { defineApi } from '../api.js'
import { array, field, int16, int32, string, struct, uuid } from '../schema.js'

const DeleteTopicState = struct('DeleteTopicState', {
  name: field(string, { versions: '6+', nullable: '6+', default: null }),
  topicId: field(uuid, { versions: '6+' }),
})

const DeletableTopicResult = struct('DeletableTopicResult', {
  name: field(string, { nullable: '6+' }),
  topicId: field(uuid, { versions: '6+', ignorable: true }),
  errorCode: int16,
  errorMessage: field(string, { versions: '5+', nullable: '5+', default: null, ignorable: true }),
})

export const DeleteTopics = defineApi({
  key: 20,
  name: 'DeleteTopics',
  versions: '1-6',
  flexibleVersions: '4+',
  request: struct('DeleteTopicsRequest', {
    /** v6+: topics by name or by id. */
    topics: field(array(DeleteTopicState), { versions: '6+' }),
    /** v1-5: topics by name. */
    topicNames: field(array(string), { versions: '0-5', ignorable: true }),
    timeoutMs: int32,
  }),
  response: struct('DeleteTopicsResponse', {
    throttleTimeMs: field(int32, { versions: '1+', ignorable: true }),
    responses: array(DeletableTopicResult),
  }),
})
