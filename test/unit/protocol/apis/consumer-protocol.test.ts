import { describe, expect, test } from 'vitest'
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from '../../../../src/protocol/apis/consumer-protocol.js'
import { ProtocolError, UnsupportedVersionError } from '../../../../src/protocol/errors.js'
import { hex } from './wire.js'

const subscription = {
  topics: ['orders', 'payments'],
  userData: Buffer.from('sticky-v2'),
  ownedPartitions: [
    { topic: 'orders', partitions: [0, 2] },
    { topic: 'payments', partitions: [1] },
  ],
  generationId: 8,
  rackId: 'eu-west-1a',
}

const assignment = {
  assignedPartitions: [
    { topic: 'orders', partitions: [0, 1, 2] },
    { topic: 'payments', partitions: [] },
  ],
  userData: null,
}

describe('ConsumerProtocolSubscription', () => {
  test('v0 carries topics and user data; later fields read back at their defaults', () => {
    expect(decodeSubscription(encodeSubscription(0, subscription))).toEqual({
      version: 0,
      value: {
        topics: subscription.topics,
        userData: subscription.userData,
        ownedPartitions: [],
        generationId: -1,
        rackId: null,
      },
    })
  })

  test('v3 round-trips owned partitions (KIP-429), generation (KIP-792) and rack (KIP-881)', () => {
    expect(decodeSubscription(encodeSubscription(3, subscription))).toEqual({ version: 3, value: subscription })
  })

  test('is an int16 version then the classic encoding of the struct', () => {
    expect(encodeSubscription(0, { topics: ['t'], userData: null }).toString('hex')).toBe(
      hex('0000 00000001 0001 74 ffffffff'),
    )
    const v3 = { topics: ['t'], userData: Buffer.from([0xaa]), ownedPartitions: [{ topic: 't', partitions: [4] }] }
    expect(encodeSubscription(3, v3).toString('hex')).toBe(
      hex('0003 00000001 0001 74 00000001 aa 00000001 0001 74 00000001 00000004 ffffffff ffff'),
    )
  })

  test('a newer version is read with the newest format we know, its extra fields skipped (Kafka’s rule)', () => {
    const v3 = encodeSubscription(3, subscription)
    const v9 = Buffer.concat([Buffer.from([0x00, 0x09]), v3.subarray(2), Buffer.from('future fields')])
    expect(decodeSubscription(v9)).toEqual({ version: 9, value: subscription })
  })

  test('malformed metadata is a ProtocolError, never a RangeError', () => {
    const good = encodeSubscription(1, subscription)
    expect(() => decodeSubscription(Buffer.alloc(0))).toThrow(ProtocolError)
    expect(() => decodeSubscription(Buffer.from([0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]))).toThrow(
      /unknown version -1/,
    )
    expect(() => decodeSubscription(good.subarray(0, good.length - 3))).toThrow(ProtocolError)
    expect(() => decodeSubscription(Buffer.concat([good, Buffer.from([0])]))).toThrow(/1 unread bytes/)
    expect(() => decodeSubscription(Buffer.from('0000 7fffffff', 'hex'))).toThrow(ProtocolError)
  })

  test('only versions 0-3 can be written', () => {
    expect(() => encodeSubscription(4, subscription)).toThrow(UnsupportedVersionError)
    expect(() => encodeSubscription(-1, subscription)).toThrow(UnsupportedVersionError)
  })
})

describe('ConsumerProtocolAssignment', () => {
  test.each([0, 3])('v%i round-trips', (v) => {
    expect(decodeAssignment(encodeAssignment(v, assignment))).toEqual({ version: v, value: assignment })
    const withData = { ...assignment, userData: Buffer.from([1, 2, 3]) }
    expect(decodeAssignment(encodeAssignment(v, withData))).toEqual({ version: v, value: withData })
  })

  test('every version has the same body after the version prefix', () => {
    const small = { assignedPartitions: [{ topic: 't', partitions: [0, 1] }], userData: null }
    expect(encodeAssignment(1, small).toString('hex')).toBe(
      hex('0001 00000001 0001 74 00000002 00000000 00000001 ffffffff'),
    )
    expect(encodeAssignment(3, small).subarray(2)).toEqual(encodeAssignment(0, small).subarray(2))
  })

  test('a newer version is read as v3; truncation is a ProtocolError', () => {
    const body = encodeAssignment(3, assignment).subarray(2)
    expect(decodeAssignment(Buffer.concat([Buffer.from([0x00, 0x04]), body, Buffer.from([7, 7])]))).toEqual({
      version: 4,
      value: assignment,
    })
    expect(() => decodeAssignment(Buffer.concat([Buffer.from([0x00, 0x00]), body.subarray(0, 9)]))).toThrow(
      ProtocolError,
    )
  })
})
