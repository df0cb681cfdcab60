import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { ProtocolError } from '../../../../src/protocol/errors.js'
import {
  BATCH_HEADER_BYTES,
  CorruptRecordError,
  controlRecord,
  crc32c,
  encodeRecordBatch,
  type KafkaRecord,
  RecordBatch,
  type RecordInput,
  RecordTooLargeError,
  readRecordSet,
} from '../../../../src/protocol/records/index.js'

const bytes = (s: string) => Buffer.from(s)
/** Scales the fuzz cases: `npm run fuzz` raises it for millions of cases. */
const HOSTILE = Number(process.env.SKIFF_HOSTILE_CASES ?? 1000) / 1000

const recordArb: fc.Arbitrary<RecordInput> = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 40 }).map(Buffer.from), { nil: null }),
  value: fc.option(fc.uint8Array({ maxLength: 300 }).map(Buffer.from), { nil: null }),
  headers: fc.array(
    fc.record({
      key: fc.string({ maxLength: 12 }),
      value: fc.option(fc.uint8Array({ maxLength: 20 }).map(Buffer.from), { nil: null }),
    }),
    { maxLength: 3 },
  ),
  timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
})

/** Expected records, as a reader should see them after the broker assigned `baseOffset`. */
function expected(records: RecordInput[], baseOffset: number): KafkaRecord[] {
  return records.map((r, i) => ({
    offset: baseOffset + i,
    timestamp: r.timestamp!,
    key: r.key ? Buffer.from(r.key) : null,
    value: r.value ? Buffer.from(r.value) : null,
    headers: (r.headers ?? []).map((h) => ({ key: h.key, value: h.value ? Buffer.from(h.value) : null })),
  }))
}

/** Splits `b` at the given cut points (any order, duplicates allowed). */
function chunks(b: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y)
  const out: Buffer[] = []
  let prev = 0
  for (const p of points) {
    out.push(b.subarray(prev, p))
    prev = p
  }
  out.push(b.subarray(prev))
  return out
}

describe('record batch v2', () => {
  test('the header is laid out as KIP-98 specifies, with a CRC-32C over attributes..end', () => {
    const b = encodeRecordBatch({
      records: [{ key: bytes('k'), value: bytes('v'), timestamp: 1_700_000_000_000 }],
      baseOffset: 42,
      partitionLeaderEpoch: 7,
      producerId: 99n,
      producerEpoch: 3,
      baseSequence: 11,
      transactional: true,
    })
    expect(b.readBigInt64BE(0)).toBe(42n)
    expect(b.readInt32BE(8)).toBe(b.length - 12)
    expect(b.readInt32BE(12)).toBe(7)
    expect(b[16]).toBe(2)
    expect(b.readUInt32BE(17)).toBe(crc32c(b.subarray(21)))
    expect(b.readInt16BE(21)).toBe(0x10)
    expect(b.readInt32BE(23)).toBe(0) // lastOffsetDelta
    expect(b.readBigInt64BE(27)).toBe(1_700_000_000_000n)
    expect(b.readBigInt64BE(43)).toBe(99n)
    expect(b.readInt16BE(51)).toBe(3)
    expect(b.readInt32BE(53)).toBe(11)
    expect(b.readInt32BE(57)).toBe(1)
    // One record: length 7+2, attributes 0, tsDelta 0, offsetDelta 0, key len 1 'k', value len 1 'v', 0 headers.
    expect(b.subarray(BATCH_HEADER_BYTES)).toEqual(Buffer.from([0x10, 0, 0, 0, 2, 0x6b, 2, 0x76, 0]))
    const batch = new RecordBatch(b)
    expect(batch).toMatchObject({
      baseOffset: 42,
      partitionLeaderEpoch: 7,
      producerId: 99n,
      recordCount: 1,
      isTransactional: true,
    })
    expect(batch.crcMatches()).toBe(true)
  })

  test('any records round-trip: keys, values, nulls, headers, timestamps (negative deltas too)', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { minLength: 1, maxLength: 30 }), fc.nat(2 ** 40), (records, baseOffset) => {
        const b = encodeRecordBatch({ records, baseOffset })
        const { batches, partialBytes } = readRecordSet(b)
        expect(partialBytes).toBe(0)
        const batch = batches[0] as RecordBatch
        batch.verifyCrc()
        expect(batch.maxTimestamp).toBe(Math.max(...records.map((r) => r.timestamp!)))
        expect(batch.records()).toEqual(expected(records, baseOffset))
      }),
      { numRuns: 300 },
    )
  })

  test('records decode the same whatever the chunking of their bytes (the decompressor hands over chunks)', () => {
    fc.assert(
      fc.property(
        fc.array(recordArb, { minLength: 1, maxLength: 20 }),
        fc.array(fc.nat(5000), { maxLength: 30 }),
        (records, cuts) => {
          const batch = new RecordBatch(encodeRecordBatch({ records }))
          const d = batch.decoder()
          const out: KafkaRecord[] = []
          for (const c of chunks(batch.payload, cuts)) d.push(c, out)
          d.finish()
          expect(out).toEqual(expected(records, 0))
        },
      ),
      { numRuns: 300 },
    )
  })

  test('keys and values are views of the fetched bytes, not copies', () => {
    const b = encodeRecordBatch({ records: [{ key: bytes('key'), value: bytes('value') }] })
    const [r] = new RecordBatch(b).records()
    const v = r!.value!
    expect(v.buffer).toBe(b.buffer)
    // ...and they behave as Buffers in every way users check.
    expect(Buffer.isBuffer(v)).toBe(true)
    expect(v).toBeInstanceOf(Buffer)
    expect(v.constructor).toBe(Buffer)
    expect(v.toString('utf8')).toBe('value')
    expect(v.equals(Buffer.from('value'))).toBe(true)
    expect(v).toEqual(Buffer.from('value'))
    expect(Buffer.isBuffer(v.subarray(1, 3))).toBe(true)
    expect(v.subarray(1, 3).toString()).toBe('al')
    expect(JSON.stringify(v)).toBe(JSON.stringify(Buffer.from('value')))
  })

  test('LOG_APPEND_TIME batches give every record the batch max timestamp', () => {
    const b = encodeRecordBatch({
      records: [
        { value: bytes('a'), timestamp: 10 },
        { value: bytes('b'), timestamp: 20 },
      ],
      logAppendTime: true,
    })
    b.writeBigInt64BE(5000n, 35) // the broker rewrites maxTimestamp with its append time and the CRC
    b.writeUInt32BE(crc32c(b, 21), 17)
    const batch = new RecordBatch(b)
    expect(batch.logAppendTime).toBe(true)
    expect(batch.records().map((r) => r.timestamp)).toEqual([5000, 5000])
  })

  test('control batches surface as commit/abort markers', () => {
    for (const type of ['commit', 'abort'] as const) {
      const b = encodeRecordBatch({
        records: [controlRecord(type, 5)],
        control: true,
        transactional: true,
        baseOffset: 9,
        timestamp: 77,
      })
      const batch = new RecordBatch(b)
      expect(batch.isControl).toBe(true)
      expect(batch.controlRecord()).toEqual({
        type,
        typeCode: type === 'commit' ? 1 : 0,
        coordinatorEpoch: 5,
        offset: 9,
        timestamp: 77,
      })
    }
    expect(new RecordBatch(encodeRecordBatch({ records: [{ value: null }] })).controlRecord()).toBeNull()
  })

  test('a CRC mismatch is a CorruptRecordError naming the batch', () => {
    const b = encodeRecordBatch({ records: [{ value: bytes('payload') }], baseOffset: 100 })
    b[b.length - 2] ^= 0xff
    const batch = readRecordSet(b, { topic: 'orders', partition: 3 }).batches[0] as RecordBatch
    expect(batch.crcMatches()).toBe(false)
    expect(() => batch.verifyCrc()).toThrow(CorruptRecordError)
    expect(() => batch.verifyCrc()).toThrow(/orders\[3\] batch at offset 100\.\.100.*CRC-32C mismatch/)
  })
})

describe('record sets', () => {
  const a = encodeRecordBatch({ records: [{ value: bytes('a') }, { value: bytes('b') }], baseOffset: 0 })
  const b = encodeRecordBatch({ records: [{ value: bytes('c') }], baseOffset: 2 })

  test('batches are read lazily and a cut-off last batch is reported, not thrown (normal in Fetch responses)', () => {
    for (let cut = 0; cut < b.length; cut++) {
      const set = readRecordSet(Buffer.concat([a, b.subarray(0, cut)]))
      expect(set.batches).toHaveLength(1)
      expect(set.partialBytes).toBe(cut)
    }
    const whole = readRecordSet(Buffer.concat([a, b]))
    expect(whole.batches.map((x) => [x.baseOffset, (x as RecordBatch).nextOffset])).toEqual([
      [0, 2],
      [2, 3],
    ])
    expect(readRecordSet(null)).toEqual({ batches: [], partialBytes: 0 })
  })

  test('an unknown magic byte or an impossible size is corrupt', () => {
    const bad = Buffer.from(a)
    bad[16] = 7
    expect(() => readRecordSet(bad)).toThrow(/unknown record batch magic 7/)
    const small = Buffer.from(a)
    small.writeInt32BE(3, 8)
    expect(() => readRecordSet(small)).toThrow(CorruptRecordError)
  })
})

describe('hostile batches', () => {
  test('a header whose record count lies is refused, not looped over', () => {
    const b = encodeRecordBatch({ records: [{ value: bytes('x') }, { value: bytes('y') }] })
    for (const lie of [1, 3, 2 ** 31 - 1]) {
      const m = Buffer.from(b)
      m.writeInt32BE(lie, 57)
      expect(() => new RecordBatch(m).records(), `count ${lie}`).toThrow(CorruptRecordError)
    }
  })

  test('a record length beyond maxRecordBytes is refused before the record is assembled', () => {
    const b = encodeRecordBatch({ records: [{ value: Buffer.alloc(1000) }] })
    const batch = new RecordBatch(b)
    expect(() => batch.records({ maxRecordBytes: 100 })).toThrow(RecordTooLargeError)
    expect(() => batch.records({ maxRecordBytes: 100 })).toThrow(
      /record at offset 0 is 1007 bytes, over maxRecordBytes \(100 bytes\)/,
    )
  })

  test('any mutation of a valid batch decodes or throws a ProtocolError; never a RangeError, never a hang', () => {
    const base = encodeRecordBatch({
      records: [
        { key: bytes('k1'), value: bytes('hello'), headers: [{ key: 'h', value: bytes('v') }], timestamp: 1000 },
        { key: null, value: null, timestamp: 900 },
        { key: bytes(''), value: Buffer.alloc(70, 1), timestamp: 2 ** 41 },
      ],
      baseOffset: 5,
    })
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(255)), { minLength: 1, maxLength: 6 }),
        fc.nat(base.length),
        fc.boolean(),
        (edits, cut, fixLength) => {
          const m = Buffer.from(base)
          for (const [at, v] of edits) m[at] = v
          const input = m.subarray(0, cut)
          if (fixLength && cut >= 12) input.writeInt32BE(cut - 12, 8)
          try {
            for (const batch of readRecordSet(input).batches) {
              if (batch instanceof RecordBatch && batch.compressionCode === 0) {
                batch.records()
                batch.controlRecord()
              }
            }
          } catch (err) {
            if (!(err instanceof ProtocolError)) throw err
          }
        },
      ),
      { numRuns: Math.round(5000 * HOSTILE) },
    )
  })

  test('random bytes as a record set decode or throw a ProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (raw) => {
        try {
          for (const batch of readRecordSet(Buffer.from(raw)).batches) {
            if (batch instanceof RecordBatch && batch.compressionCode === 0) batch.records()
          }
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err
        }
      }),
      { numRuns: Math.round(3000 * HOSTILE) },
    )
  })
})
