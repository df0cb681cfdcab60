import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { ProtocolError } from '../../../src/protocol/errors.js'
import { Reader } from '../../../src/protocol/reader.js'
import { ZERO_UUID } from '../../../src/protocol/uuid.js'
import { uvarintSize, varintSize, Writer } from '../../../src/protocol/writer.js'

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const written = (f: (w: Writer) => void, flexible = false) => {
  const w = new Writer(1)
  w.flexible = flexible
  f(w)
  return Buffer.from(w.view())
}
const reader = (b: Buffer, flexible = false) => {
  const rd = new Reader(b)
  rd.flexible = flexible
  return rd
}
/** Runs `f` and returns the ProtocolError it throws; fails the test if it throws anything else or nothing. */
const protocolError = (f: () => unknown): ProtocolError => {
  try {
    f()
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError)
    return err as ProtocolError
  }
  throw new Error('expected a ProtocolError, nothing was thrown')
}

describe('fixed-width integers', () => {
  test('encode big-endian at their boundaries and read back', () => {
    expect(written((w) => w.int8(-128).int8(127))).toEqual(hex('80 7f'))
    expect(written((w) => w.int16(-32768).int16(32767))).toEqual(hex('8000 7fff'))
    expect(written((w) => w.int32(-1).int32(0x12345678))).toEqual(hex('ffffffff 12345678'))
    expect(written((w) => w.uint32(0xfffffffe))).toEqual(hex('fffffffe'))
    expect(written((w) => w.int64(-(2n ** 63n)).int64(2n ** 63n - 1n))).toEqual(
      hex('8000000000000000 7fffffffffffffff'),
    )
    const rd = reader(hex('80 8000 ffffffff 8000000000000000 fffe'))
    expect([rd.int8(), rd.int16(), rd.int32(), rd.int64(), rd.uint16()]).toEqual([
      -128,
      -32768,
      -1,
      -(2n ** 63n),
      0xfffe,
    ])
    expect(rd.remaining).toBe(0)
  })

  test('round-trip any value', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -128, max: 127 }),
        fc.integer({ min: -32768, max: 32767 }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        fc.double({ noNaN: true }),
        fc.boolean(),
        (a, b, c, d, e, f) => {
          const rd = reader(written((w) => w.int8(a).int16(b).int32(c).int64(d).float64(e).bool(f)))
          expect([rd.int8(), rd.int16(), rd.int32(), rd.int64(), rd.float64(), rd.bool()]).toEqual([a, b, c, d, e, f])
        },
      ),
    )
  })

  test('a truncated integer is a ProtocolError naming the field and offset, never a RangeError', () => {
    const rd = reader(hex('0000 00'))
    rd.label = 'Test v1 response'
    rd.int16('First')
    const err = protocolError(() => rd.int32('Partition'))
    expect(err.message).toContain('Test v1 response')
    expect(err.message).toContain('field Partition')
    expect(err.message).toContain('byte 2')
    expect(err.context).toMatchObject({ field: 'Partition', offset: 2 })
    protocolError(() => reader(hex('00')).int64())
    protocolError(() => reader(Buffer.alloc(0)).int8())
    protocolError(() => reader(hex('0102030405060708090a0b0c0d0e0f')).uuid())
  })
})

describe('varints', () => {
  test('unsigned varints use LEB128 with known encodings', () => {
    const cases: Array<[number, string]> = [
      [0, '00'],
      [1, '01'],
      [127, '7f'],
      [128, '8001'],
      [300, 'ac02'],
      [16383, 'ff7f'],
      [16384, '808001'],
      [2 ** 32 - 1, 'ffffffff0f'],
    ]
    for (const [v, h] of cases) {
      expect(written((w) => w.uvarint(v))).toEqual(hex(h))
      expect(reader(hex(h)).uvarint()).toBe(v)
      expect(uvarintSize(v)).toBe(hex(h).length)
    }
  })

  test('signed varints are zig-zag encoded', () => {
    const cases: Array<[number, string]> = [
      [0, '00'],
      [-1, '01'],
      [1, '02'],
      [-2, '03'],
      [63, '7e'],
      [-64, '7f'],
      [64, '8001'],
      [2 ** 31 - 1, 'feffffff0f'],
      [-(2 ** 31), 'ffffffff0f'],
    ]
    for (const [v, h] of cases) {
      expect(written((w) => w.varint(v))).toEqual(hex(h))
      expect(reader(hex(h)).varint()).toBe(v)
      expect(varintSize(v)).toBe(hex(h).length)
    }
  })

  test('varlongs cover the whole int64 range', () => {
    expect(written((w) => w.varlong(-1n))).toEqual(hex('01'))
    expect(written((w) => w.varlong(2n ** 63n - 1n))).toEqual(hex('feffffffffffffffff01'))
    expect(written((w) => w.varlong(-(2n ** 63n)))).toEqual(hex('ffffffffffffffffff01'))
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (v) => {
        const b = written((w) => w.varlong(v))
        const rd = reader(b)
        expect(rd.varlong()).toBe(v)
        expect(rd.remaining).toBe(0)
      }),
    )
  })

  test('varlongNumber agrees with varlong within the safe integer range and refuses beyond it', () => {
    fc.assert(
      fc.property(fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), (v) => {
        const b = written((w) => w.varlong(v))
        expect(reader(b).varlongNumber()).toBe(v)
      }),
    )
    protocolError(() => reader(written((w) => w.varlong(2n ** 62n))).varlongNumber())
    protocolError(() => reader(written((w) => w.varlong(2n ** 54n))).varlongNumber())
  })

  test('malformed varints are refused: too long, overflowing, truncated', () => {
    protocolError(() => reader(hex('ffffffff7f')).uvarint()) // 5th byte > 0x0f: more than 32 bits
    protocolError(() => reader(hex('8080808080')).uvarint())
    protocolError(() => reader(hex('80')).uvarint())
    protocolError(() => reader(hex('')).varint())
    protocolError(() => reader(hex('ffffffffffffffffff02')).varlong()) // 10th byte > 1
    protocolError(() => reader(hex('ffffffffffffffffffff01')).varlong())
    protocolError(() => reader(hex('8080')).varlong())
    expect(() => written((w) => w.uvarint(-1))).toThrow(RangeError)
    expect(() => written((w) => w.uvarint(2 ** 32))).toThrow(RangeError)
    expect(() => written((w) => w.varint(2 ** 31))).toThrow(RangeError)
  })
})

describe('strings and bytes', () => {
  test('classic strings have an int16 length, compact ones an unsigned varint of length + 1', () => {
    expect(written((w) => w.string('héllo'))).toEqual(Buffer.concat([hex('0006'), Buffer.from('héllo')]))
    expect(written((w) => w.string('héllo'), true)).toEqual(Buffer.concat([hex('07'), Buffer.from('héllo')]))
    expect(written((w) => w.nullableString(null))).toEqual(hex('ffff'))
    expect(written((w) => w.nullableString(null), true)).toEqual(hex('00'))
    expect(written((w) => w.string(''), true)).toEqual(hex('01'))
    fc.assert(
      fc.property(fc.option(fc.string({ unit: 'binary' }), { nil: null }), fc.boolean(), (s, flexible) => {
        const rd = reader(
          written((w) => w.nullableString(s), flexible),
          flexible,
        )
        expect(rd.nullableString()).toBe(s)
        expect(rd.remaining).toBe(0)
      }),
    )
  })

  test('null where the schema allows none, negative and overlong lengths are ProtocolErrors', () => {
    protocolError(() => reader(hex('ffff')).string('Name'))
    protocolError(() => reader(hex('00'), true).string('Name'))
    protocolError(() => reader(hex('fffe')).nullableString())
    protocolError(() => reader(hex('0005 6162')).string())
    protocolError(() => reader(hex('06 6162'), true).string())
    protocolError(() => reader(hex('ffffffff'), false).bytes())
    protocolError(() => reader(hex('fffffffe'), false).nullableBytes())
    protocolError(() => reader(hex('7fffffff 00'), false).bytes())
    protocolError(() => reader(hex('ffffffff0f'), true).bytes())
  })

  test('bytes are returned as views of the frame, not copies', () => {
    const frame = written((w) => w.bytes(Buffer.from('payload')).nullableBytes(null))
    const rd = reader(frame)
    const b = rd.bytes()
    expect(b.toString()).toBe('payload')
    expect(b.buffer).toBe(frame.buffer)
    expect(rd.nullableBytes()).toBeNull()
    const compact = written((w) => w.bytes(Buffer.from('xy')).nullableBytes(null), true)
    expect(compact).toEqual(hex('03 7879 00'))
  })

  test('a string longer than int16 cannot be written in a classic version', () => {
    expect(() => written((w) => w.string('x'.repeat(40000)))).toThrow(RangeError)
    expect(
      reader(
        written((w) => w.string('x'.repeat(40000)), true),
        true,
      ).string(),
    ).toHaveLength(40000)
  })
})

describe('arrays', () => {
  test('classic arrays have an int32 count, compact ones count + 1, null is -1 / 0', () => {
    expect(written((w) => w.array([1, 2], (w, v) => w.int8(v)))).toEqual(hex('00000002 01 02'))
    expect(written((w) => w.array([1, 2], (w, v) => w.int8(v)), true)).toEqual(hex('03 01 02'))
    expect(written((w) => w.nullableArray(null, (w, v: number) => w.int8(v)))).toEqual(hex('ffffffff'))
    expect(written((w) => w.nullableArray(null, (w, v: number) => w.int8(v)), true)).toEqual(hex('00'))
    expect(reader(hex('ffffffff')).nullableArray((r) => r.int8())).toBeNull()
    expect(reader(hex('03 01 02'), true).array((r) => r.int8())).toEqual([1, 2])
  })

  test('a count larger than the bytes left is refused before anything is allocated', () => {
    const err = protocolError(() => reader(hex('7fffffff 01 02 03')).array((r) => r.int8(), 'Topics'))
    expect(err.message).toMatch(/2147483647 elements cannot fit in 3 bytes/)
    protocolError(() => reader(hex('ffffffff0f'), true).array((r) => r.int8()))
    protocolError(() => reader(hex('fffffffe')).nullableArray((r) => r.int8()))
    protocolError(() => reader(hex('ffffffff')).array((r) => r.int8())) // null where not nullable
  })
})

describe('tagged fields', () => {
  const tagged = written((w) => {
    w.version = 3
    w.taggedFields([
      [0, (t) => t.int32(7)],
      [5, (t) => t.string('later field')],
    ])
  }, true)

  test('are written as count, then tag, size and value for each', () => {
    expect(tagged.subarray(0, 7)).toEqual(hex('02 00 04 00000007'))
    expect(written((w) => w.taggedFields(), true)).toEqual(hex('00'))
  })

  test('known tags are read from exactly their bytes; unknown tags are skipped', () => {
    const seen: unknown[] = []
    const rd = reader(Buffer.concat([tagged, hex('aa')]), true)
    rd.taggedFields((tag, r) => {
      if (tag === 0) seen.push(r.int32())
    })
    expect(seen).toEqual([7])
    expect(rd.int8()).toBe(-86) // the byte after the section: the unknown tag 5 was skipped whole
    const all = reader(tagged, true)
    all.taggedFields()
    expect(all.remaining).toBe(0)
  })

  test('a tag may hold more bytes than its reader needs (a newer broker); the rest is skipped', () => {
    const rd = reader(hex('01 00 03 0a0b0c ee'), true)
    let v = 0
    rd.taggedFields((_, r) => {
      v = r.int8()
    })
    expect(v).toBe(10)
    expect(rd.uint8()).toBe(0xee)
  })

  test('a tag whose reader runs past its size, or whose size runs past the frame, is a ProtocolError', () => {
    protocolError(() => reader(hex('01 00 01 0a0b0c0d'), true).taggedFields((_, r) => r.int32()))
    protocolError(() => reader(hex('01 00 09 0a0b'), true).taggedFields())
    protocolError(() => reader(hex('ffffffff0f'), true).taggedFields())
  })
})

describe('uuids', () => {
  test('are 16 bytes on the wire and Kafka base64url text in memory', () => {
    const b = written((w) => w.uuid('AAAAAAAAAAAAAAAAAAAAAQ'))
    expect(b).toEqual(hex('00000000000000000000000000000001'))
    expect(reader(b).uuid()).toBe('AAAAAAAAAAAAAAAAAAAAAQ')
    expect(reader(Buffer.alloc(16)).uuid()).toBe(ZERO_UUID)
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const text = reader(Buffer.from(bytes)).uuid()
        expect(written((w) => w.uuid(text))).toEqual(Buffer.from(bytes))
      }),
    )
  })

  test('text that is not a Kafka uuid is refused when writing', () => {
    expect(() => written((w) => w.uuid('not-a-uuid'))).toThrow(TypeError)
    expect(() => written((w) => w.uuid('AAAAAAAAAAAAAAAAAAAAA='))).toThrow(TypeError)
  })
})

describe('hostile bytes', () => {
  test('any read of any byte string either succeeds or throws ProtocolError', () => {
    const ops: Array<(rd: Reader) => unknown> = [
      (rd) => rd.int8(),
      (rd) => rd.int16(),
      (rd) => rd.int32(),
      (rd) => rd.int64(),
      (rd) => rd.uvarint(),
      (rd) => rd.varint(),
      (rd) => rd.varlong(),
      (rd) => rd.varlongNumber(),
      (rd) => rd.nullableString(),
      (rd) => rd.nullableBytes(),
      (rd) => rd.uuid(),
      (rd) => rd.nullableArray((r) => r.nullableString()),
      (rd) => rd.taggedFields((_, r) => r.nullableString()),
    ]
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.boolean(),
        fc.array(fc.nat(ops.length - 1), { minLength: 1, maxLength: 12 }),
        (bytes, flexible, program) => {
          const rd = reader(Buffer.from(bytes), flexible)
          try {
            for (const i of program) ops[i]!(rd)
          } catch (err) {
            if (!(err instanceof ProtocolError)) throw err
          }
          expect(rd.pos).toBeLessThanOrEqual(bytes.length)
        },
      ),
      { numRuns: 5000 },
    )
  })
})

describe('writer', () => {
  test('grows from a tiny buffer without losing bytes', () => {
    const w = new Writer(1)
    for (let i = 0; i < 10000; i++) w.int32(i)
    const rd = new Reader(Buffer.from(w.view()))
    for (let i = 0; i < 10000; i++) expect(rd.int32()).toBe(i)
  })
})
