// Every API Skiff speaks, one module each. `ALL_APIS` is ordered by api key.

import type { Api } from '../api.js'
import { AddOffsetsToTxn } from './add-offsets-to-txn.js'
import { AddPartitionsToTxn } from './add-partitions-to-txn.js'
import { ApiVersions } from './api-versions.js'
import { ConsumerGroupDescribe } from './consumer-group-describe.js'
import { ConsumerGroupHeartbeat } from './consumer-group-heartbeat.js'
import { CreatePartitions } from './create-partitions.js'
import { CreateTopics } from './create-topics.js'
import { DeleteGroups } from './delete-groups.js'
import { DeleteRecords } from './delete-records.js'
import { DeleteTopics } from './delete-topics.js'
import { DescribeCluster } from './describe-cluster.js'
import { DescribeConfigs } from './describe-configs.js'
import { DescribeGroups } from './describe-groups.js'
import { DescribeProducers } from './describe-producers.js'
import { DescribeTransactions } from './describe-transactions.js'
import { EndTxn } from './end-txn.js'
import { Fetch } from './fetch.js'
import { FindCoordinator } from './find-coordinator.js'
import { Heartbeat } from './heartbeat.js'
import { IncrementalAlterConfigs } from './incremental-alter-configs.js'
import { InitProducerId } from './init-producer-id.js'
import { JoinGroup } from './join-group.js'
import { LeaveGroup } from './leave-group.js'
import { ListGroups } from './list-groups.js'
import { ListOffsets } from './list-offsets.js'
import { ListTransactions } from './list-transactions.js'
import { Metadata } from './metadata.js'
import { OffsetCommit } from './offset-commit.js'
import { OffsetDelete } from './offset-delete.js'
import { OffsetFetch } from './offset-fetch.js'
import { OffsetForLeaderEpoch } from './offset-for-leader-epoch.js'
import { Produce } from './produce.js'
import { SaslAuthenticate } from './sasl-authenticate.js'
import { SaslHandshake } from './sasl-handshake.js'
import { SyncGroup } from './sync-group.js'
import { TxnOffsetCommit } from './txn-offset-commit.js'

export * from './add-offsets-to-txn.js'
export * from './add-partitions-to-txn.js'
export * from './api-versions.js'
export * from './consumer-group-describe.js'
export * from './consumer-group-heartbeat.js'
export * from './consumer-protocol.js'
export * from './create-partitions.js'
export * from './create-topics.js'
export * from './delete-groups.js'
export * from './delete-records.js'
export * from './delete-topics.js'
export * from './describe-cluster.js'
export * from './describe-configs.js'
export * from './describe-groups.js'
export * from './describe-producers.js'
export * from './describe-transactions.js'
export * from './end-txn.js'
export * from './fetch.js'
export * from './find-coordinator.js'
export * from './heartbeat.js'
export * from './incremental-alter-configs.js'
export * from './init-producer-id.js'
export * from './join-group.js'
export * from './leave-group.js'
export * from './list-groups.js'
export * from './list-offsets.js'
export * from './list-transactions.js'
export * from './metadata.js'
export * from './offset-commit.js'
export * from './offset-delete.js'
export * from './offset-fetch.js'
export * from './offset-for-leader-epoch.js'
export * from './produce.js'
export * from './sasl-authenticate.js'
export * from './sasl-handshake.js'
export * from './sync-group.js'
export * from './txn-offset-commit.js'

/** Every API this client implements, by api key. */
export const ALL_APIS: readonly Api[] = [
  Produce,
  Fetch,
  ListOffsets,
  Metadata,
  OffsetCommit,
  OffsetFetch,
  FindCoordinator,
  JoinGroup,
  Heartbeat,
  LeaveGroup,
  SyncGroup,
  DescribeGroups,
  ListGroups,
  SaslHandshake,
  ApiVersions,
  CreateTopics,
  DeleteTopics,
  DeleteRecords,
  InitProducerId,
  OffsetForLeaderEpoch,
  AddPartitionsToTxn,
  AddOffsetsToTxn,
  EndTxn,
  TxnOffsetCommit,
  DescribeConfigs,
  SaslAuthenticate,
  CreatePartitions,
  DeleteGroups,
  IncrementalAlterConfigs,
  OffsetDelete,
  DescribeCluster,
  DescribeProducers,
  DescribeTransactions,
  ListTransactions,
  ConsumerGroupHeartbeat,
  ConsumerGroupDescribe,
]
