export { CooperativeStickyAssignor } from './assignors/cooperative-sticky.js'
export { RangeAssignor } from './assignors/range.js'
export { RoundRobinAssignor } from './assignors/roundrobin.js'
export type { AssignorMember, AssignorTopic, GroupAssignment, PartitionAssignor } from './assignors/types.js'
export {
  CommitFailedError,
  GroupMemberStateError,
  GroupTimeoutError,
  RebalanceInProgressError,
  UnsupportedGroupProtocolError,
} from './errors.js'
export {
  type CommittedOffset,
  GroupMember,
  type GroupMemberOptions,
  type OffsetToCommit,
  type RebalanceEvent,
  type RebalanceHooks,
} from './member.js'
export { RebalanceHookError } from './shared.js'
