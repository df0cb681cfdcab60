import type { KafkaError } from '../../protocol/kafka-error.js'

/** Options every admin call takes. */
export interface AdminCallOptions {
  /**
   * How long the whole call may take, retries included (default: the admin's `defaultTimeoutMs`, 60 000 unless
   * set). Each request within it is also bounded by the client's `requestTimeoutMs`.
   */
  timeoutMs?: number
  /** Cancels the call: it rejects with an `AbortedError` and no further request is sent. */
  signal?: AbortSignal
}

/** One partition of one topic. */
export interface TopicPartition {
  topic: string
  partition: number
}

/**
 * One item's outcome in a call that addresses several: the fields naming the item, then either the result (with
 * `error` undefined) or the error Kafka gave for that item alone. Narrow with `if (r.error)`.
 */
export type Outcome<Key, Value = unknown> =
  | (Key & Value & { readonly error?: undefined })
  | (Key & { readonly error: KafkaError })

/** A broker's failure in a call sent to every broker (listGroups, listTransactions): the others' answers still count. */
export interface BrokerFailure {
  /** Node id of the broker that failed to answer, or answered with this error. */
  broker: number
  error: KafkaError
}

/**
 * An ACL operation, as Kafka's `AclOperation` names it, in kebab case. Describe calls report the operations the
 * caller may perform on a resource (KIP-430) when asked to.
 */
export type AclOperation =
  | 'unknown'
  | 'any'
  | 'all'
  | 'read'
  | 'write'
  | 'create'
  | 'delete'
  | 'alter'
  | 'describe'
  | 'cluster-action'
  | 'describe-configs'
  | 'alter-configs'
  | 'idempotent-write'
  | 'create-tokens'
  | 'describe-tokens'
  | 'two-phase-commit'

/** AclOperation codes (Kafka's `AclOperation.code()`), which are also the bit positions of authorized-operations. */
const ACL_OPERATIONS: readonly AclOperation[] = [
  'unknown',
  'any',
  'all',
  'read',
  'write',
  'create',
  'delete',
  'alter',
  'describe',
  'cluster-action',
  'describe-configs',
  'alter-configs',
  'idempotent-write',
  'create-tokens',
  'describe-tokens',
  'two-phase-commit',
]

/** The value a response carries in an authorized-operations field that was not asked for. */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648

/**
 * Decodes an authorized-operations bit field (bit n set: operation with code n allowed), or `undefined` when the
 * broker left it out (INT32_MIN). Bits of codes this client does not know are ignored.
 */
export function decodeAuthorizedOperations(bits: number): AclOperation[] | undefined {
  if (bits === AUTHORIZED_OPERATIONS_OMITTED) return undefined
  const out: AclOperation[] = []
  for (let code = 0; code < ACL_OPERATIONS.length; code++) if ((bits >>> code) & 1) out.push(ACL_OPERATIONS[code]!)
  return out
}
