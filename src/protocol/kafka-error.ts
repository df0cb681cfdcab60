import { SkiffError } from '../errors.js'
import { ErrorCode, errorByCode, type KafkaErrorInfo } from './error-codes.js'

/** Where a broker error code came from. Every field is optional; the ones given are folded into the message. */
export interface KafkaErrorContext {
  /** The API whose response carried the code, e.g. `Produce`, `JoinGroup`. */
  api?: string
  /** The broker that answered: its node id, or `host:port` before the node id is known. */
  broker?: number | string
  /** The topic the code applies to. */
  topic?: string
  /** The topic id, when the response names topics by id rather than by name. */
  topicId?: string
  /** The partition the code applies to. */
  partition?: number
  /** The consumer, share or streams group. */
  group?: string
  /** The group member id. */
  memberId?: string
  /** The producer's transactional id. */
  transactionalId?: string
  /** The broker-supplied `ErrorMessage` field, when the response has one (`null` when the broker sent none). */
  errorMessage?: string | null
  /** The underlying failure, if any. */
  cause?: unknown
}

/** Longest broker-supplied text copied into `Error.message`; the full text stays in `errorMessage`. */
const MAX_BROKER_TEXT = 1000

/**
 * A broker answered with a non-zero Kafka error code. Carries the code, Kafka's name for it, and the flags that
 * say what to do next: retry (`retriable`), refresh metadata (`refreshMetadata`), re-find the coordinator
 * (`findCoordinator`). The message reads like
 * `NOT_LEADER_OR_FOLLOWER (6) from Produce for orders[3]: For requests intended only for the leader, ...`.
 */
export class KafkaError extends SkiffError {
  override name = 'KafkaError'
  /** The int16 error code from the response. */
  readonly code: number
  /** Kafka's name for the code, e.g. `NOT_LEADER_OR_FOLLOWER`, or `UNKNOWN_ERROR_CODE_<n>` for an unknown code. */
  readonly errorName: string
  /** The client's cluster metadata is stale: refresh it before retrying. */
  readonly refreshMetadata: boolean
  /** The coordinator must be looked up again (FindCoordinator) before retrying. */
  readonly findCoordinator: boolean
  /** The broker-supplied error message, when the response carried a non-empty one. */
  readonly errorMessage: string | undefined
  /** Where the code came from, as given to the constructor. */
  readonly context: Readonly<KafkaErrorContext>

  /**
   * @param code A non-zero Kafka error code.
   * @param context Where the code came from; folded into the message.
   * @throws RangeError when `code` is 0 (NONE), which is not an error.
   */
  constructor(code: number, context: KafkaErrorContext = {}) {
    if (code === ErrorCode.NONE) throw new RangeError('KafkaError needs a non-zero error code; 0 (NONE) means success')
    const info = errorByCode(code)
    const errorMessage = context.errorMessage ? context.errorMessage : undefined
    super(KafkaError.describe(info, context, errorMessage), { cause: context.cause, retriable: info.retriable })
    this.code = code
    this.errorName = info.name
    this.refreshMetadata = info.refreshMetadata
    this.findCoordinator = info.findCoordinator
    this.errorMessage = errorMessage
    this.context = Object.freeze({ ...context })
  }

  /**
   * The error for a non-zero Kafka error code, e.g. `KafkaError.fromCode(6, { api: 'Produce', topic, partition })`.
   * Unknown codes give a non-retriable error named `UNKNOWN_ERROR_CODE_<n>`.
   * @throws RangeError when `code` is 0 (NONE); use {@link throwIfError} when the code may be 0.
   */
  static fromCode(code: number, context?: KafkaErrorContext): KafkaError {
    return new KafkaError(code, context)
  }

  private static describe(info: KafkaErrorInfo, c: KafkaErrorContext, errorMessage: string | undefined): string {
    let head = `${info.name} (${info.code})`
    if (c.api) head += ` from ${c.api}`
    if (c.broker !== undefined) head += ` on broker ${c.broker}`
    const targets: string[] = []
    const topic = c.topic ?? c.topicId
    if (topic !== undefined) targets.push(c.partition === undefined ? topic : `${topic}[${c.partition}]`)
    else if (c.partition !== undefined) targets.push(`partition ${c.partition}`)
    if (c.group !== undefined) targets.push(`group ${c.group}`)
    if (c.memberId !== undefined) targets.push(`member ${c.memberId}`)
    if (c.transactionalId !== undefined) targets.push(`transactional id ${c.transactionalId}`)
    if (targets.length > 0) head += ` for ${targets.join(', ')}`
    const text = errorMessage === undefined ? info.message : printable(errorMessage)
    return `${head}: ${text}`
  }
}

/**
 * Throws a {@link KafkaError} for a non-zero error code; returns for 0 (NONE).
 * Use it on each error code field of a response: `throwIfError(p.errorCode, { api: 'Produce', topic, partition })`.
 */
export function throwIfError(code: number, context?: KafkaErrorContext): void {
  if (code === ErrorCode.NONE) return
  throw new KafkaError(code, context)
}

/** Broker text made safe for a one-line message: control characters become spaces, and it is capped in length. */
function printable(text: string): string {
  let out = ''
  for (const ch of text.length > MAX_BROKER_TEXT ? text.slice(0, MAX_BROKER_TEXT) : text) {
    const c = ch.codePointAt(0)!
    out += c < 0x20 || (c >= 0x7f && c < 0xa0) ? ' ' : ch
  }
  return text.length > MAX_BROKER_TEXT ? `${out}…` : out
}
