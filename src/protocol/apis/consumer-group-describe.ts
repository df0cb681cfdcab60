// ConsumerGroupDescribe (key 69): versions 0-1, flexible from 0. Spec: ConsumerGroupDescribeRequest.json, ConsumerGroupDescribeResponse.json
import { defineApi, type RequestOf, type ResponseOf } from '../api.js'
import { array, bool, field, int8, int16, int32, string, struct, uuid } from '../schema.js'

const TopicPartitions = struct('TopicPartitions', {
  topicId: uuid,
  topicName: string,
  partitions: array(int32),
})

const Assignment = struct('Assignment', {
  topicPartitions: array(TopicPartitions),
})

const Member = struct('Member', {
  memberId: string,
  instanceId: field(string, { nullable: '0+', default: null }),
  rackId: field(string, { nullable: '0+', default: null }),
  memberEpoch: int32,
  clientId: string,
  clientHost: string,
  subscribedTopicNames: array(string),
  subscribedTopicRegex: field(string, { nullable: '0+', default: null }),
  assignment: Assignment,
  targetAssignment: Assignment,
  /** -1 unknown, 0 classic, 1 consumer: a classic member may sit in a consumer group during migration (KIP-1099). */
  memberType: field(int8, { versions: '1+', default: -1, ignorable: true }),
})

const DescribedGroup = struct('DescribedGroup', {
  errorCode: int16,
  errorMessage: field(string, { nullable: '0+', default: null }),
  groupId: string,
  groupState: string,
  groupEpoch: int32,
  assignmentEpoch: int32,
  assignorName: string,
  members: array(Member),
  authorizedOperations: field(int32, { default: -2147483648 }),
})

export const ConsumerGroupDescribe = defineApi({
  key: 69,
  name: 'ConsumerGroupDescribe',
  versions: '0-1',
  flexibleVersions: '0+',
  request: struct('ConsumerGroupDescribeRequest', {
    groupIds: array(string),
    includeAuthorizedOperations: bool,
  }),
  response: struct('ConsumerGroupDescribeResponse', {
    throttleTimeMs: int32,
    groups: array(DescribedGroup),
  }),
})

export type ConsumerGroupDescribeRequest = RequestOf<typeof ConsumerGroupDescribe>
export type ConsumerGroupDescribeResponse = ResponseOf<typeof ConsumerGroupDescribe>
