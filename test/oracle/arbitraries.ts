/**
 * Random messages driven by a Kafka JSON schema (not by Skiff's TypeScript types), as fast-check arbitraries.
 *
 * For a version, every field present in that version is generated: nulls where the version makes the field
 * nullable, empty and non-empty arrays (occasionally long enough for a two-byte count), tagged fields sometimes
 * at their default (so left out of the encoding) and sometimes set, defaults for plain fields now and then,
 * unicode strings, integer extremes, random uuids and bytes. In flexible versions a struct may carry
 * `UNKNOWN_TAGS`: extra tagged fields with numbers the schema does not define, which decoders must skip.
 *
 * Like the interpreter, this imports nothing from `src/`.
 */
import fc from 'fast-check'
import {
  defaultOf,
  has,
  type PrimitiveName,
  type SchemaField,
  type SchemaStruct,
  type SchemaType,
  UNKNOWN_TAGS,
  type UnknownTags,
  ZERO_UUID_TEXT,
} from './schema-interpreter.js'

export interface GenerateOptions {
  /** Attach unknown tagged fields to structs in flexible versions (default true). */
  unknownTags?: boolean
}

const INT64_MIN = -(1n << 63n)
const INT64_MAX = (1n << 63n) - 1n

function intArb(min: number, max: number): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(min, max, 0, -1 >= min ? -1 : 1) },
    { weight: 4, arbitrary: fc.integer({ min, max }) },
  )
}

const stringArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 10 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
  { weight: 1, arbitrary: fc.constant('') },
  // Long enough for a two-byte compact length prefix.
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-composite', minLength: 130, maxLength: 160 }) },
)

const bytesArb: fc.Arbitrary<Buffer> = fc
  .oneof(
    { weight: 5, arbitrary: fc.uint8Array({ maxLength: 16 }) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 127, maxLength: 200 }) },
  )
  .map((b) => Buffer.from(b))

const uuidArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(ZERO_UUID_TEXT) },
  {
    weight: 6,
    arbitrary: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('base64url')),
  },
)

const int64Arb: fc.Arbitrary<bigint> = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(INT64_MIN, INT64_MAX, -1n, 0n, 1n) },
  { weight: 4, arbitrary: fc.bigInt({ min: INT64_MIN, max: INT64_MAX }) },
)

const PRIMITIVE_ARBS: Record<PrimitiveName, fc.Arbitrary<unknown>> = {
  int8: intArb(-128, 127),
  int16: intArb(-32768, 32767),
  uint16: intArb(0, 65535),
  int32: intArb(-2147483648, 2147483647),
  uint32: intArb(0, 4294967295),
  int64: int64Arb,
  float64: fc.double(),
  bool: fc.boolean(),
  string: stringArb,
  bytes: bytesArb,
  records: fc.uint8Array({ maxLength: 48 }).map((b) => Buffer.from(b)),
  uuid: uuidArb,
}

/** Tag numbers a struct defines in any version: never used for unknown tags. */
function knownTags(st: SchemaStruct): Set<number> {
  const s = new Set<number>()
  for (const f of st.fields) if (f.tag !== undefined) s.add(f.tag)
  return s
}

function unknownTagsArb(st: SchemaStruct): fc.Arbitrary<UnknownTags> {
  const known = knownTags(st)
  const tagNumber = fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 40 }) },
    { weight: 1, arbitrary: fc.constantFrom(127, 128, 16383, 16384, 2 ** 31 - 1) },
  )
  const entries = fc.uniqueArray(fc.tuple(tagNumber, fc.uint8Array({ maxLength: 6 })), {
    maxLength: 3,
    selector: (e) => e[0],
  })
  return fc.oneof(
    { weight: 5, arbitrary: fc.constant([] as UnknownTags) },
    { weight: 1, arbitrary: entries.map((list) => list.filter(([tag]) => !known.has(tag))) },
  )
}

/** Array lengths shrink with nesting depth to keep messages small. */
const MAX_ARRAY = [4, 3, 2, 2, 1, 1]

export class MessageArbitraries {
  private readonly cache = new Map<string, fc.Arbitrary<Record<string, unknown>>>()

  constructor(
    readonly version: number,
    readonly flexible: boolean,
    readonly options: GenerateOptions = {},
  ) {}

  struct(st: SchemaStruct, depth = 0): fc.Arbitrary<Record<string, unknown>> {
    const key = `${st.name}@${depth}`
    const hit = this.cache.get(key)
    if (hit) return hit
    const v = this.version
    const shape: Record<string, fc.Arbitrary<unknown>> = {}
    for (const f of st.fields) {
      if (!has(f.versions, v)) continue
      shape[f.key] = this.field(f, depth)
    }
    let arb: fc.Arbitrary<Record<string, unknown>> = fc.record(shape, { noNullPrototype: true })
    if (this.flexible && (this.options.unknownTags ?? true)) {
      arb = fc.tuple(arb, unknownTagsArb(st)).map(([o, tags]) => {
        if (tags.length > 0) (o as { [UNKNOWN_TAGS]?: UnknownTags })[UNKNOWN_TAGS] = tags
        return o
      })
    }
    this.cache.set(key, arb)
    return arb
  }

  field(f: SchemaField, depth: number): fc.Arbitrary<unknown> {
    const v = this.version
    let arb = this.type(f.type, depth)
    if (has(f.nullableVersions, v)) arb = fc.option(arb, { nil: null, freq: 4 })
    const def = defaultOf(f)
    const tagged = f.tag !== undefined && has(f.taggedVersions, v)
    // Tagged fields are left out at their default, so generate it often; plain fields now and then.
    return fc.oneof({ weight: tagged ? 3 : 1, arbitrary: fc.constant(def) }, { weight: 5, arbitrary: arb })
  }

  type(t: SchemaType, depth: number): fc.Arbitrary<unknown> {
    if (t.kind === 'primitive') return PRIMITIVE_ARBS[t.name]
    if (t.kind === 'struct') return this.struct(t.struct, depth + 1)
    const element = this.type(t.element, depth + 1)
    const maxLength = MAX_ARRAY[Math.min(depth, MAX_ARRAY.length - 1)]!
    const small = fc.array(element, { maxLength })
    if (t.element.kind !== 'primitive' || depth > 1) return small
    // Occasionally long enough for a two-byte compact count.
    return fc.oneof(
      { weight: 8, arbitrary: small },
      { weight: 1, arbitrary: fc.array(element, { minLength: 127, maxLength: 130 }) },
    )
  }
}

/** Messages for `st` at `version`. */
export function messageArbitrary(
  st: SchemaStruct,
  version: number,
  flexible: boolean,
  options: GenerateOptions = {},
): fc.Arbitrary<Record<string, unknown>> {
  return new MessageArbitraries(version, flexible, options).struct(st)
}

// ---------------------------------------------------------------------------------------------------------------
// A deterministic "everything set" message, for structural comparisons

function nonDefaultPrimitive(name: PrimitiveName, def: unknown): unknown {
  switch (name) {
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
      return def === 7 ? 8 : 7
    case 'int64':
      return def === 7n ? 8n : 7n
    case 'float64':
      return def === 1.5 ? 2.5 : 1.5
    case 'bool':
      return def !== true
    case 'string':
      return def === 'x' ? 'y' : 'x'
    case 'bytes':
    case 'records':
      return Buffer.from([1, 2, 3])
    case 'uuid':
      return Buffer.alloc(16, 7).toString('base64url')
  }
}

function skeletonOf(t: SchemaType, version: number, def: unknown): unknown {
  if (t.kind === 'primitive') return nonDefaultPrimitive(t.name, def)
  if (t.kind === 'struct') return skeletonMessage(t.struct, version)
  return [skeletonOf(t.element, version, undefined)]
}

/**
 * Every field present at `version` set to a non-default, non-null value, every array with one element: a message
 * whose encoding exercises every field of the version, tagged ones included.
 */
export function skeletonMessage(st: SchemaStruct, version: number): Record<string, unknown> {
  const o: Record<string, unknown> = {}
  for (const f of st.fields) {
    if (!has(f.versions, version)) continue
    o[f.key] = skeletonOf(f.type, version, defaultOf(f))
  }
  return o
}

/**
 * A non-default value for a field, built from the first version the field exists in: what a caller would set
 * to use the field, for checking what a codec does with it at a version without the field.
 */
export function nonDefaultValue(f: SchemaField): unknown {
  return skeletonOf(f.type, f.versions.lo, defaultOf(f))
}
