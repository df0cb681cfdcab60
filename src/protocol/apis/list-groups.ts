// ListGroups (key 16): versions 0-5, flexible from 3. Spec: ListGroupsRequest.json, ListGroupsResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, field, int16, int32, string, struct } from '../schema.js'

const ListedGroup = struct('ListedGroup', {
  groupId: string,
  protocolType: string,
  groupState: field(string, { versions: '4+', ignorable: true }),
  groupType: field(string, { versions: '5+', ignorable: true }),
})

export const ListGroups = defineApi({
  key: 16,
  name: 'ListGroups',
  versions: '0-5',
  flexibleVersions: '3+',
  request: struct('ListGroupsRequest', {
    /** Empty for every state (KIP-518). */
    statesFilter: field(array(string), { versions: '4+' }),
    /** Empty for every type: `classic`, `consumer`, `share`, `streams` (KIP-848). */
    typesFilter: field(array(string), { versions: '5+' }),
  }),
  response: struct('ListGroupsResponse', {
    throttleTimeMs: field(int32, { versions: '1+', ignorable: true }),
    errorCode: int16,
    groups: array(ListedGroup),
  }),
})

export type ListGroupsRequest = RequestOf<typeof ListGroups>
export type ListGroupsResponse = ResponseOf<typeof ListGroups>
