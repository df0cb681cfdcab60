import { describe, expect, expectTypeOf, it } from 'vitest'
import { SkiffError } from '../../../src/errors.js'
import { ErrorCode, errorByCode, errorByName, KAFKA_ERRORS } from '../../../src/protocol/error-codes.js'
import { KafkaError, throwIfError } from '../../../src/protocol/kafka-error.js'

/** Codes whose Java exception class extends RetriableException in Kafka 4.x (walked up each `extends` chain). */
const JAVA_RETRIABLE = [
  'CORRUPT_MESSAGE',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  'REQUEST_TIMED_OUT',
  'REPLICA_NOT_AVAILABLE',
  'NETWORK_EXCEPTION',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'NOT_CONTROLLER',
  'CONCURRENT_TRANSACTIONS',
  'KAFKA_STORAGE_ERROR',
  'FETCH_SESSION_ID_NOT_FOUND',
  'INVALID_FETCH_SESSION_EPOCH',
  'LISTENER_NOT_FOUND',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'OFFSET_NOT_AVAILABLE',
  'PREFERRED_LEADER_NOT_AVAILABLE',
  'ELIGIBLE_LEADERS_NOT_AVAILABLE',
  'ELECTION_NOT_NEEDED',
  'UNSTABLE_OFFSET_COMMIT',
  'THROTTLING_QUOTA_EXCEEDED',
  'UNKNOWN_TOPIC_ID',
  'INCONSISTENT_TOPIC_ID',
  'FETCH_SESSION_TOPIC_ID_ERROR',
  'SHARE_SESSION_NOT_FOUND',
  'INVALID_SHARE_SESSION_EPOCH',
  'SHARE_SESSION_LIMIT_REACHED',
]

/** InvalidMetadataException subclasses, plus the codes a client must also answer with a metadata refresh. */
const REFRESH_METADATA = [
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  'REPLICA_NOT_AVAILABLE',
  'NETWORK_EXCEPTION',
  'NOT_CONTROLLER',
  'KAFKA_STORAGE_ERROR',
  'LISTENER_NOT_FOUND',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'OFFSET_NOT_AVAILABLE',
  'PREFERRED_LEADER_NOT_AVAILABLE',
  'ELIGIBLE_LEADERS_NOT_AVAILABLE',
  'ELECTION_NOT_NEEDED',
  'UNKNOWN_TOPIC_ID',
  'INCONSISTENT_TOPIC_ID',
  'REBOOTSTRAP_REQUIRED',
]

const namesWhere = (flag: 'retriable' | 'refreshMetadata' | 'findCoordinator') =>
  KAFKA_ERRORS.filter((e) => e[flag])
    .map((e) => e.name)
    .sort()

describe('Kafka error table', () => {
  it('holds every code from -1 to 133 exactly once, in ascending order', () => {
    const codes = KAFKA_ERRORS.map((e) => e.code)
    expect(codes[0]).toBe(-1)
    expect(codes.at(-1)).toBe(133)
    expect(new Set(codes).size).toBe(codes.length)
    expect(codes).toEqual(Array.from({ length: 135 }, (_, i) => i - 1))
  })

  it('has unique, upper-snake-case names', () => {
    const names = KAFKA_ERRORS.map((e) => e.name)
    expect(new Set(names).size).toBe(names.length)
    for (const name of names) expect(name).toMatch(/^[A-Z][A-Z0-9_]*[A-Z0-9]$/)
  })

  it("carries Kafka's default message for every code but NONE", () => {
    for (const e of KAFKA_ERRORS) {
      if (e.code === 0) expect(e.message).toBe('')
      else expect(e.message, e.name).toMatch(/^\S.*\.$/)
      expect(e.known).toBe(true)
    }
  })

  it('is immutable', () => {
    expect(Object.isFrozen(KAFKA_ERRORS)).toBe(true)
    expect(Object.isFrozen(KAFKA_ERRORS[0])).toBe(true)
    expect(Object.isFrozen(ErrorCode)).toBe(true)
  })

  it('round-trips every entry through errorByCode, errorByName and ErrorCode', () => {
    const map: Record<string, number> = ErrorCode
    expect(Object.keys(map)).toHaveLength(KAFKA_ERRORS.length)
    for (const e of KAFKA_ERRORS) {
      expect(errorByCode(e.code)).toBe(e)
      expect(errorByName(e.name)).toBe(e)
      expect(map[e.name]).toBe(e.code)
    }
  })

  it.each([
    // code, name, retriable, refreshMetadata, findCoordinator
    [-1, 'UNKNOWN_SERVER_ERROR', false, false, false],
    [0, 'NONE', false, false, false],
    [1, 'OFFSET_OUT_OF_RANGE', false, false, false],
    [2, 'CORRUPT_MESSAGE', true, false, false],
    [3, 'UNKNOWN_TOPIC_OR_PARTITION', true, true, false],
    [5, 'LEADER_NOT_AVAILABLE', true, true, false],
    [6, 'NOT_LEADER_OR_FOLLOWER', true, true, false],
    [7, 'REQUEST_TIMED_OUT', true, false, false],
    [10, 'MESSAGE_TOO_LARGE', false, false, false],
    [13, 'NETWORK_EXCEPTION', true, true, false],
    [14, 'COORDINATOR_LOAD_IN_PROGRESS', true, false, false],
    [15, 'COORDINATOR_NOT_AVAILABLE', true, false, true],
    [16, 'NOT_COORDINATOR', true, false, true],
    [19, 'NOT_ENOUGH_REPLICAS', true, false, false],
    [22, 'ILLEGAL_GENERATION', false, false, false],
    [25, 'UNKNOWN_MEMBER_ID', false, false, false],
    [27, 'REBALANCE_IN_PROGRESS', false, false, false],
    [29, 'TOPIC_AUTHORIZATION_FAILED', false, false, false],
    [35, 'UNSUPPORTED_VERSION', false, false, false],
    [36, 'TOPIC_ALREADY_EXISTS', false, false, false],
    [41, 'NOT_CONTROLLER', true, true, false],
    [45, 'OUT_OF_ORDER_SEQUENCE_NUMBER', false, false, false],
    [47, 'INVALID_PRODUCER_EPOCH', false, false, false],
    [51, 'CONCURRENT_TRANSACTIONS', true, false, false],
    [56, 'KAFKA_STORAGE_ERROR', true, true, false],
    [58, 'SASL_AUTHENTICATION_FAILED', false, false, false],
    [59, 'UNKNOWN_PRODUCER_ID', false, false, false],
    [74, 'FENCED_LEADER_EPOCH', true, true, false],
    [75, 'UNKNOWN_LEADER_EPOCH', true, true, false],
    [78, 'OFFSET_NOT_AVAILABLE', true, true, false],
    [79, 'MEMBER_ID_REQUIRED', false, false, false],
    [82, 'FENCED_INSTANCE_ID', false, false, false],
    [89, 'THROTTLING_QUOTA_EXCEEDED', true, false, false],
    [90, 'PRODUCER_FENCED', false, false, false],
    [100, 'UNKNOWN_TOPIC_ID', true, true, false],
    [103, 'INCONSISTENT_TOPIC_ID', true, true, false],
    [110, 'FENCED_MEMBER_EPOCH', false, false, false],
    [113, 'STALE_MEMBER_EPOCH', false, false, false],
    [120, 'TRANSACTION_ABORTABLE', false, false, false],
    [121, 'INVALID_RECORD_STATE', false, false, false],
    [128, 'INVALID_REGULAR_EXPRESSION', false, false, false],
    [129, 'REBOOTSTRAP_REQUIRED', false, true, false],
    [130, 'STREAMS_INVALID_TOPOLOGY', false, false, false],
    [133, 'SHARE_SESSION_LIMIT_REACHED', true, false, false],
  ] as const)('%i is %s (retriable %s, refresh %s, coordinator %s)', (code, name, retriable, refresh, coordinator) => {
    const e = errorByCode(code)
    expect(e.name).toBe(name)
    expect(e.retriable).toBe(retriable)
    expect(e.refreshMetadata).toBe(refresh)
    expect(e.findCoordinator).toBe(coordinator)
  })

  it('marks exactly the codes whose Java exception is a RetriableException as retriable', () => {
    expect(namesWhere('retriable')).toEqual([...JAVA_RETRIABLE].sort())
  })

  it('asks for a metadata refresh on exactly the stale-metadata codes', () => {
    expect(namesWhere('refreshMetadata')).toEqual([...REFRESH_METADATA].sort())
  })

  it('asks to re-find the coordinator only for COORDINATOR_NOT_AVAILABLE and NOT_COORDINATOR', () => {
    expect(namesWhere('findCoordinator')).toEqual(['COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR'])
  })

  it('only flags refresh or coordinator lookups that are followed by a retry, except a rebootstrap', () => {
    for (const e of KAFKA_ERRORS) {
      if (e.findCoordinator) expect(e.retriable, e.name).toBe(true)
      if (e.refreshMetadata && e.name !== 'REBOOTSTRAP_REQUIRED') expect(e.retriable, e.name).toBe(true)
      expect(e.refreshMetadata && e.findCoordinator, e.name).toBe(false)
    }
  })

  it('keeps the default message text Kafka uses', () => {
    expect(errorByCode(6).message).toBe(
      'For requests intended only for the leader, this error indicates that the broker is not the current leader. ' +
        'For requests intended for any replica, this error indicates that the broker is not a replica of the topic partition.',
    )
    expect(errorByCode(3).message).toBe('This server does not host this topic-partition.')
    expect(errorByCode(14).message).toBe("The coordinator is loading and hence can't process requests.")
  })

  it('gives ErrorCode entries their literal numbers, at run time and in the type system', () => {
    expect(ErrorCode.NOT_LEADER_OR_FOLLOWER).toBe(6)
    expect(ErrorCode.UNKNOWN_SERVER_ERROR).toBe(-1)
    expect(ErrorCode.NONE).toBe(0)
    expect(ErrorCode.SHARE_SESSION_LIMIT_REACHED).toBe(133)
    expectTypeOf(ErrorCode.NOT_LEADER_OR_FOLLOWER).toEqualTypeOf<6>()
    expectTypeOf(ErrorCode.PRODUCER_FENCED).toEqualTypeOf<90>()
  })
})

describe('unknown codes and names', () => {
  it.each([-2, 134, 999, 32767, -32768])('gives a synthetic, non-retriable entry for %i', (code) => {
    const e = errorByCode(code)
    expect(e).toMatchObject({
      code,
      name: `UNKNOWN_ERROR_CODE_${code}`,
      retriable: false,
      refreshMetadata: false,
      findCoordinator: false,
      known: false,
    })
    expect(e.message).toContain(String(code))
  })

  it('returns undefined for names Kafka does not define, including Object.prototype keys', () => {
    expect(errorByName('NOT_A_KAFKA_ERROR')).toBeUndefined()
    expect(errorByName('not_leader_or_follower')).toBeUndefined()
    expect(errorByName('constructor')).toBeUndefined()
    expect(errorByName('__proto__')).toBeUndefined()
    expect(errorByName('UNKNOWN_ERROR_CODE_999')).toBeUndefined()
  })
})

describe('KafkaError', () => {
  it('carries the code, name and flags, and is a retriable SkiffError when Kafka says so', () => {
    const err = KafkaError.fromCode(ErrorCode.NOT_LEADER_OR_FOLLOWER, { api: 'Produce', topic: 'orders', partition: 3 })
    expect(err).toBeInstanceOf(KafkaError)
    expect(err).toBeInstanceOf(SkiffError)
    expect(err).toBeInstanceOf(Error)
    expect(err.name).toBe('KafkaError')
    expect(err.code).toBe(6)
    expect(err.errorName).toBe('NOT_LEADER_OR_FOLLOWER')
    expect(err.retriable).toBe(true)
    expect(err.refreshMetadata).toBe(true)
    expect(err.findCoordinator).toBe(false)
    expect(err.errorMessage).toBeUndefined()
    expect(err.context).toEqual({ api: 'Produce', topic: 'orders', partition: 3 })
    expect(err.message).toBe(`NOT_LEADER_OR_FOLLOWER (6) from Produce for orders[3]: ${errorByCode(6).message}`)
  })

  it('is not retriable for a fatal code', () => {
    const err = KafkaError.fromCode(ErrorCode.PRODUCER_FENCED, { api: 'InitProducerId', transactionalId: 'tx-1' })
    expect(err.retriable).toBe(false)
    expect(err.message).toBe(
      'PRODUCER_FENCED (90) from InitProducerId for transactional id tx-1: ' +
        'There is a newer producer with the same transactionalId which fences the current one.',
    )
  })

  it('formats with no context at all', () => {
    expect(KafkaError.fromCode(36).message).toBe('TOPIC_ALREADY_EXISTS (36): Topic with this name already exists.')
  })

  it('folds broker, group, member, topic id and lone partitions into the message', () => {
    expect(
      KafkaError.fromCode(ErrorCode.NOT_COORDINATOR, { api: 'JoinGroup', broker: 2, group: 'billing', memberId: 'm-1' })
        .message,
    ).toBe(
      'NOT_COORDINATOR (16) from JoinGroup on broker 2 for group billing, member m-1: This is not the correct coordinator.',
    )
    expect(KafkaError.fromCode(100, { api: 'Fetch', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partition: 0 }).message).toMatch(
      /^UNKNOWN_TOPIC_ID \(100\) from Fetch for AAAAAAAAAAAAAAAAAAAAAA\[0\]: /,
    )
    expect(KafkaError.fromCode(3, { partition: 7 }).message).toMatch(
      /^UNKNOWN_TOPIC_OR_PARTITION \(3\) for partition 7: /,
    )
    expect(KafkaError.fromCode(3, { broker: 'kafka-1:9092' }).message).toMatch(/ on broker kafka-1:9092: /)
  })

  it("shows the broker's own error message in place of Kafka's default, and keeps it raw", () => {
    const err = KafkaError.fromCode(ErrorCode.INVALID_REQUEST, {
      api: 'CreateTopics',
      errorMessage: 'Bad config\nline',
    })
    expect(err.errorMessage).toBe('Bad config\nline')
    expect(err.message).toBe('INVALID_REQUEST (42) from CreateTopics: Bad config line')
  })

  it("falls back to Kafka's default when the broker message is null or empty", () => {
    expect(KafkaError.fromCode(7, { errorMessage: null }).message).toBe('REQUEST_TIMED_OUT (7): The request timed out.')
    expect(KafkaError.fromCode(7, { errorMessage: '' }).errorMessage).toBeUndefined()
  })

  it('caps a huge broker message in Error.message', () => {
    const huge = 'x'.repeat(100_000)
    const err = KafkaError.fromCode(-1, { errorMessage: huge })
    expect(err.errorMessage).toBe(huge)
    expect(err.message.length).toBeLessThan(1100)
    expect(err.message.endsWith('…')).toBe(true)
  })

  it('names unknown codes and treats them as not retriable', () => {
    const err = KafkaError.fromCode(4242, { api: 'Metadata' })
    expect(err.errorName).toBe('UNKNOWN_ERROR_CODE_4242')
    expect(err.retriable).toBe(false)
    expect(err.message).toMatch(/^UNKNOWN_ERROR_CODE_4242 \(4242\) from Metadata: .*4242/)
  })

  it('keeps the cause', () => {
    const cause = new Error('underlying')
    expect(KafkaError.fromCode(13, { cause }).cause).toBe(cause)
    expect(KafkaError.fromCode(13).cause).toBeUndefined()
  })

  it('refuses code 0, which is success', () => {
    expect(() => KafkaError.fromCode(ErrorCode.NONE)).toThrow(RangeError)
  })
})

describe('throwIfError', () => {
  it('returns for NONE', () => {
    expect(throwIfError(0, { api: 'Produce' })).toBeUndefined()
  })

  it('throws a KafkaError with the context for any other code', () => {
    let thrown: unknown
    try {
      throwIfError(ErrorCode.REBALANCE_IN_PROGRESS, { api: 'SyncGroup', group: 'g' })
    } catch (e) {
      thrown = e
    }
    expect(thrown).toBeInstanceOf(KafkaError)
    const err = thrown as KafkaError
    expect(err.code).toBe(27)
    expect(err.retriable).toBe(false)
    expect(err.message).toBe(
      'REBALANCE_IN_PROGRESS (27) from SyncGroup for group g: The group is rebalancing, so a rejoin is needed.',
    )
  })

  it('throws for unknown codes too', () => {
    expect(() => throwIfError(-7)).toThrow(/UNKNOWN_ERROR_CODE_-7 \(-7\)/)
  })
})
