// DeleteGroups (key 42): versions 0-3, flexible from 2. Spec: DeleteGroupsRequest.json, DeleteGroupsResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, field, int16, int32, string, struct } from '../schema.js'

const DeletableGroupResult = struct('DeletableGroupResult', {
  groupId: string,
  errorCode: int16,
  errorMessage: field(string, { versions: '3+', nullable: '3+', default: null, ignorable: true }),
})

// v3 changes only the response: a per-group error message, e.g. the cause of GROUP_DELETION_FAILED.
export const DeleteGroups = defineApi({
  key: 42,
  name: 'DeleteGroups',
  versions: '0-3',
  flexibleVersions: '2+',
  request: struct('DeleteGroupsRequest', {
    groupsNames: array(string),
  }),
  response: struct('DeleteGroupsResponse', {
    throttleTimeMs: int32,
    results: array(DeletableGroupResult),
  }),
})

export type DeleteGroupsRequest = RequestOf<typeof DeleteGroups>
export type DeleteGroupsResponse = ResponseOf<typeof DeleteGroups>
