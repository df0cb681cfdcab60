// The admin client: one module per area, composed by `Admin`.
export { Admin, type AdminOptions, type AdminSettings } from './admin.js'
export type {
  BrokerApi,
  BrokerApiVersions,
  BrokerDescription,
  ClusterDescription,
  DescribeClusterOptions,
} from './cluster-info.js'
export type {
  AlterConfigOp,
  AlterConfigsOptions,
  AlterConfigsResource,
  AlteredConfigs,
  ConfigDescription,
  ConfigEntry,
  ConfigResource,
  ConfigResourceType,
  ConfigSource,
  ConfigSynonym,
  ConfigValueType,
  DescribeConfigsOptions,
  DescribeConfigsResource,
} from './configs.js'
export { AdminTimeoutError } from './errors.js'
export type {
  AssignedPartitions,
  CommittedGroupOffset,
  DeletedGroup,
  DeletedGroupOffset,
  DescribeGroupsOptions,
  GroupDescription,
  GroupListing,
  GroupMember,
  GroupOffset,
  GroupOffsetToCommit,
  ListedGroup,
  ListGroupOffsetsOptions,
  ListGroupsOptions,
} from './groups.js'
export type { ListedOffset, ListOffsetsOptions, OffsetQuery, OffsetSpec } from './offsets.js'
export type { DeletedRecords, RecordsToDelete } from './records.js'
export type {
  CreatedPartitions,
  CreatedTopic,
  CreatePartitionsOptions,
  CreateTopicsOptions,
  DeletedTopic,
  DescribeTopicsOptions,
  ListTopicsOptions,
  NewPartitions,
  NewTopic,
  PartitionDescription,
  TopicDescription,
  TopicListing,
  TopicRef,
} from './topics.js'
export type {
  ListedTransaction,
  ListTransactionsOptions,
  PartitionProducers,
  ProducerState,
  TransactionDescription,
  TransactionListing,
} from './transactions.js'
export type { AclOperation, AdminCallOptions, BrokerFailure, Outcome, TopicPartition } from './types.js'
