// ConsumerProtocolSubscription, ConsumerProtocolAssignment: versions 0-3, never flexible. Spec: ConsumerProtocolSubscription.json, ConsumerProtocolAssignment.json
import { UnsupportedVersionError } from '../errors.js'
import { Reader } from '../reader.js'
import { array, bytes, field, int32, type StructType, string, struct } from '../schema.js'
import { Writer } from '../writer.js'

/**
 * The classic group protocol's consumer payloads: a member's subscription travels as the metadata of each
 * protocol in JoinGroup, the leader's assignments as the assignment bytes of SyncGroup. Each is an int16 version
 * followed by the struct at that version, in the classic (non-flexible) encodings.
 */

const MIN_VERSION = 0
const MAX_VERSION = 3

const SubscriptionTopicPartition = struct('TopicPartition', {
  topic: field(string, { versions: '1+' }),
  partitions: field(array(int32), { versions: '1+' }),
})

export const ConsumerProtocolSubscription = struct('ConsumerProtocolSubscription', {
  topics: array(string),
  userData: field(bytes, { nullable: '0+', default: null }),
  /** v1+: lets a cooperative assignor keep partitions where they are (KIP-429). */
  ownedPartitions: field(array(SubscriptionTopicPartition), { versions: '1+', ignorable: true }),
  /** v2+: the generation ownedPartitions date from, so the leader can discard stale claims (KIP-792). */
  generationId: field(int32, { versions: '2+', default: -1, ignorable: true }),
  /** v3+: for rack-aware assignment (KIP-881). */
  rackId: field(string, { versions: '3+', nullable: '3+', default: null, ignorable: true }),
})

const AssignmentTopicPartition = struct('TopicPartition', {
  topic: string,
  partitions: array(int32),
})

// Every version of the assignment is the same on the wire; Kafka bumps it in step with the subscription.
export const ConsumerProtocolAssignment = struct('ConsumerProtocolAssignment', {
  assignedPartitions: array(AssignmentTopicPartition),
  userData: field(bytes, { nullable: '0+', default: null }),
})

type DecodedOf<T> = T extends StructType<infer O, any> ? O : never
type EncodableOf<T> = T extends StructType<any, infer I> ? I : never

export type ConsumerSubscription = DecodedOf<typeof ConsumerProtocolSubscription>
export type ConsumerSubscriptionInput = EncodableOf<typeof ConsumerProtocolSubscription>
export type ConsumerAssignment = DecodedOf<typeof ConsumerProtocolAssignment>
export type ConsumerAssignmentInput = EncodableOf<typeof ConsumerProtocolAssignment>

export interface VersionedPayload<T> {
  /** The version written in the payload, which may be newer than the newest we know (then read as that). */
  version: number
  value: T
}

function encode<I>(type: StructType<unknown, I>, version: number, value: I): Buffer {
  if (!Number.isInteger(version) || version < MIN_VERSION || version > MAX_VERSION) {
    throw new UnsupportedVersionError(
      `${type.typeName} version ${version} is not supported; this client writes versions ${MIN_VERSION}-${MAX_VERSION}`,
    )
  }
  const w = new Writer(64)
  w.version = version
  w.flexible = false
  w.int16(version)
  type.write(w, value, type.typeName)
  return Buffer.from(w.view())
}

// Kafka's rule for these payloads (ConsumerProtocol.checkSubscriptionVersion / checkAssignmentVersion): a version
// newer than ours is read with our newest format, because new versions may only append fields; the bytes such
// fields take are skipped. At a version we know, leftover bytes mean the payload is not what it claims to be.
function decode<O>(type: StructType<O, unknown>, buf: Buffer): VersionedPayload<O> {
  const rd = new Reader(buf)
  rd.label = type.typeName
  rd.flexible = false
  const version = rd.int16('Version')
  if (version < MIN_VERSION) rd.fail(`unknown version ${version}`, 'Version', 0)
  rd.version = Math.min(version, MAX_VERSION)
  const value = type.read(rd, type.typeName)
  if (version <= MAX_VERSION && rd.remaining !== 0) {
    rd.fail(`${rd.remaining} unread bytes after a version ${version} ${type.typeName}`)
  }
  return { version, value }
}

/** The JoinGroup protocol metadata of a consumer: `int16 version` + ConsumerProtocolSubscription. */
export function encodeSubscription(version: number, subscription: ConsumerSubscriptionInput): Buffer {
  return encode(ConsumerProtocolSubscription, version, subscription)
}

/** Reads JoinGroup protocol metadata; throws ProtocolError on malformed bytes. */
export function decodeSubscription(buf: Buffer): VersionedPayload<ConsumerSubscription> {
  return decode(ConsumerProtocolSubscription, buf)
}

/** One member's SyncGroup assignment bytes: `int16 version` + ConsumerProtocolAssignment. */
export function encodeAssignment(version: number, assignment: ConsumerAssignmentInput): Buffer {
  return encode(ConsumerProtocolAssignment, version, assignment)
}

/** Reads a member's SyncGroup assignment bytes; throws ProtocolError on malformed bytes. */
export function decodeAssignment(buf: Buffer): VersionedPayload<ConsumerAssignment> {
  return decode(ConsumerProtocolAssignment, buf)
}
