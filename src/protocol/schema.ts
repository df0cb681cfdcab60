import { UnsupportedVersionError } from './errors.js'
import type { Reader } from './reader.js'
import { ZERO_UUID } from './uuid.js'
import { inRange, parseVersions, type VersionRange } from './versions.js'
import type { Writer } from './writer.js'

/**
 * The building blocks API codecs are written with. An API's request and response are declared as structs whose
 * fields carry the version notation of Kafka's JSON schemas, so each codec reads like the schema it implements
 * and the version differences live with the fields as data (see `apis/`). One declaration gives both directions:
 * the client encodes requests and decodes responses; tests and test proxies use the other two.
 *
 * `O` is the decoded shape, `I` the shape accepted for encoding (defaulted fields optional).
 */
export interface Type<O, I = O> {
  readonly typeName: string
  read(rd: Reader, field: string): O
  write(w: Writer, value: I, field: string): void
  /** Present when the schema type can be null in some version (strings, bytes, arrays, structs). */
  readNullable?(rd: Reader, field: string): O | null
  writeNullable?(w: Writer, value: I | null, field: string): void
  /** The value of a field absent at the version being read, unless the field names its own default. */
  zero(): O
}

const scalar = <T>(typeName: string, zero: T, read: Type<T>['read'], write: Type<T>['write']): Type<T> => ({
  typeName,
  read,
  write,
  zero: () => zero,
})

export const int8 = scalar<number>(
  'int8',
  0,
  (rd, f) => rd.int8(f),
  (w, v) => w.int8(v),
)
export const int16 = scalar<number>(
  'int16',
  0,
  (rd, f) => rd.int16(f),
  (w, v) => w.int16(v),
)
export const uint16 = scalar<number>(
  'uint16',
  0,
  (rd, f) => rd.uint16(f),
  (w, v) => w.uint16(v),
)
export const int32 = scalar<number>(
  'int32',
  0,
  (rd, f) => rd.int32(f),
  (w, v) => w.int32(v),
)
export const uint32 = scalar<number>(
  'uint32',
  0,
  (rd, f) => rd.uint32(f),
  (w, v) => w.uint32(v),
)
export const int64 = scalar<bigint>(
  'int64',
  0n,
  (rd, f) => rd.int64(f),
  (w, v) => w.int64(v),
)
export const float64 = scalar<number>(
  'float64',
  0,
  (rd, f) => rd.float64(f),
  (w, v) => w.float64(v),
)
export const bool = scalar<boolean>(
  'bool',
  false,
  (rd, f) => rd.bool(f),
  (w, v) => w.bool(v),
)
export const uuid = scalar<string>(
  'uuid',
  ZERO_UUID,
  (rd, f) => rd.uuid(f),
  (w, v) => w.uuid(v),
)

export const string: Type<string> = {
  typeName: 'string',
  read: (rd, f) => rd.string(f),
  write: (w, v) => w.string(v),
  readNullable: (rd, f) => rd.nullableString(f),
  writeNullable: (w, v) => w.nullableString(v),
  zero: () => '',
}

const EMPTY = Buffer.alloc(0)

export const bytes: Type<Buffer, Uint8Array> = {
  typeName: 'bytes',
  read: (rd, f) => rd.bytes(f),
  write: (w, v) => w.bytes(v),
  readNullable: (rd, f) => rd.nullableBytes(f),
  writeNullable: (w, v) => w.nullableBytes(v),
  zero: () => EMPTY,
}

/**
 * A record set (`"type": "records"` in the schemas): on the wire exactly like nullable bytes. Decoding returns a
 * view of the frame; the record-batch decoder parses it lazily.
 */
export const records: Type<Buffer | null, Uint8Array | null> = {
  typeName: 'records',
  read: (rd, f) => rd.nullableBytes(f),
  write: (w, v) => w.nullableBytes(v),
  readNullable: (rd, f) => rd.nullableBytes(f),
  writeNullable: (w, v) => w.nullableBytes(v),
  zero: () => null,
}

export function array<O, I>(element: Type<O, I>): Type<O[], readonly I[]> {
  const readElement = (rd: Reader) => element.read(rd, element.typeName)
  const writeElement = (w: Writer, v: I) => element.write(w, v, element.typeName)
  return {
    typeName: `[]${element.typeName}`,
    read: (rd, f) => rd.array(readElement, f),
    write: (w, v) => void w.array(v, writeElement),
    readNullable: (rd, f) => rd.nullableArray(readElement, f),
    writeNullable: (w, v) => void w.nullableArray(v, writeElement),
    zero: () => [],
  }
}

/** How a field appears in one version of its struct. */
const ABSENT = 0
const NORMAL = 1
const TAGGED = 2

export interface FieldOptions<T> {
  /** Versions the field exists in, as in the schema (`"3+"`, `"0-4"`); default all. */
  versions?: string
  /** Versions in which the field may be null. */
  nullable?: string
  /** Tag number, for tagged fields. */
  tag?: number
  /** Versions in which the field is tagged; defaults to `versions`. */
  taggedVersions?: string
  /** Value for versions without the field (and the value a tagged field is omitted at). */
  default?: T
  /** May a request drop a non-default value at a version without the field? (schema `ignorable`) */
  ignorable?: boolean
}

export interface Field<O, I, Opt extends boolean> {
  readonly type: Type<O, I>
  readonly versions: VersionRange
  readonly nullable: VersionRange | null
  readonly tag: number | undefined
  readonly taggedVersions: VersionRange | null
  readonly default: O | undefined
  readonly ignorable: boolean
  /** Phantom marker: whether the field may be left out when encoding. */
  readonly __optional?: Opt
}

/** A field with versions, nullability, a tag or a default. Plain types in a struct shape are fields of every version. */
export function field<O, I>(
  type: Type<O, I>,
  options: FieldOptions<O> & { nullable: string },
): Field<O | null, I | null, true>
export function field<O, I>(type: Type<O, I>, options: FieldOptions<O>): Field<O, I, true>
export function field<O, I>(type: Type<O, I>, options: FieldOptions<O>): Field<O, I, true> {
  const tagged = options.tag !== undefined
  return {
    type,
    versions: parseVersions(options.versions ?? '0+'),
    nullable: options.nullable === undefined ? null : parseVersions(options.nullable),
    tag: options.tag,
    taggedVersions: tagged ? parseVersions(options.taggedVersions ?? options.versions ?? '0+') : null,
    default: options.default,
    ignorable: options.ignorable ?? false,
  }
}

type AnyField = Type<any, any> | Field<any, any, boolean>
export type Shape = Record<string, AnyField>

type OutOf<F> = F extends Field<infer O, any, any> ? O : F extends Type<infer O, any> ? O : never
type InOf<F> = F extends Field<any, infer I, any> ? I : F extends Type<any, infer I> ? I : never
type RequiredKeys<S extends Shape> = { [K in keyof S]: S[K] extends Field<any, any, true> ? never : K }[keyof S]
type OptionalKeys<S extends Shape> = Exclude<keyof S, RequiredKeys<S>>

export type Decoded<S extends Shape> = { [K in keyof S]: OutOf<S[K]> }
export type Encodable<S extends Shape> = { [K in RequiredKeys<S>]: InOf<S[K]> } & {
  [K in OptionalKeys<S>]?: InOf<S[K]> | undefined
}

interface CompiledField {
  readonly key: string
  /** `Struct.key`, used to name the field in ProtocolErrors. */
  readonly label: string
  readonly type: Type<any, any>
  readonly mode: number
  readonly nullable: boolean
  readonly tag: number
  readonly ignorable: boolean
  readonly def: () => unknown
}

interface Plan {
  /** Every field in declaration order, so decoded objects always have the same shape. */
  readonly all: readonly CompiledField[]
  readonly normal: readonly CompiledField[]
  /** Tagged fields of this version, ascending by tag. */
  readonly tagged: readonly CompiledField[]
  readonly byTag: ReadonlyMap<number, CompiledField>
  /** Fields missing at this version that a request may not silently drop. */
  readonly strictAbsent: readonly CompiledField[]
}

export interface StructType<O, I> extends Type<O, I> {
  readonly fields: Readonly<Record<string, AnyField>>
}

function isDefaultValue(value: unknown, def: unknown): boolean {
  if (value === def) return true
  if (Array.isArray(value)) return value.length === 0 && Array.isArray(def) && def.length === 0
  if (value instanceof Uint8Array) return value.length === 0 && def instanceof Uint8Array && def.length === 0
  // A struct is at its default when every field is (Kafka compares with a default-constructed instance), so a
  // decoded struct-typed field absent at a version re-encodes, and a default tagged struct is left out.
  if (typeof value === 'object' && value !== null && typeof def === 'object' && def !== null && !Array.isArray(def)) {
    const o = value as Record<string, unknown>
    const d = def as Record<string, unknown>
    for (const k of Object.keys(d)) {
      if (o[k] !== undefined && !isDefaultValue(o[k], d[k])) return false
    }
    return true
  }
  return false
}

/**
 * A struct: the fields of a request, a response, or an element of one of their arrays.
 * In flexible versions every struct ends with a tagged-field section (KIP-482); unknown tags are skipped.
 */
export function struct<S extends Shape>(name: string, shape: S): StructType<Decoded<S>, Encodable<S>> {
  const entries = Object.entries(shape).map(([key, f]) => {
    const asField: Field<any, any, boolean> =
      'type' in f && 'versions' in f ? (f as Field<any, any, boolean>) : field(f as Type<any, any>, {})
    return [key, asField] as const
  })
  const plans: Plan[] = []

  const plan = (v: number): Plan => {
    const cached = plans[v]
    if (cached) return cached
    const all: CompiledField[] = []
    for (const [key, f] of entries) {
      const exists = inRange(v, f.versions)
      const tagged = exists && f.taggedVersions !== null && inRange(v, f.taggedVersions)
      const explicit = f.default
      all.push({
        key,
        label: `${name}.${key}`,
        type: f.type,
        mode: !exists ? ABSENT : tagged ? TAGGED : NORMAL,
        nullable: f.nullable !== null && inRange(v, f.nullable),
        tag: f.tag ?? -1,
        ignorable: f.ignorable,
        def: explicit === undefined ? () => f.type.zero() : () => explicit,
      })
    }
    const tagged = all.filter((c) => c.mode === TAGGED).sort((a, b) => a.tag - b.tag)
    const p: Plan = {
      all,
      normal: all.filter((c) => c.mode === NORMAL),
      tagged,
      byTag: new Map(tagged.map((c) => [c.tag, c])),
      strictAbsent: all.filter((c) => c.mode === ABSENT && !c.ignorable),
    }
    plans[v] = p
    return p
  }

  const readValue = (c: CompiledField, rd: Reader) =>
    c.nullable ? c.type.readNullable!(rd, c.label) : c.type.read(rd, c.label)

  const read = (rd: Reader): Decoded<S> => {
    const p = plan(rd.version)
    const o: Record<string, unknown> = {}
    const all = p.all
    for (let i = 0; i < all.length; i++) {
      const c = all[i]!
      o[c.key] = c.mode === NORMAL ? readValue(c, rd) : c.def()
    }
    if (rd.flexible) {
      const byTag = p.byTag
      rd.taggedFields(
        byTag.size === 0
          ? undefined
          : (tag, r) => {
              const c = byTag.get(tag)
              if (c) o[c.key] = readValue(c, r)
            },
        name,
      )
    }
    return o as Decoded<S>
  }

  const writeValue = (c: CompiledField, w: Writer, value: unknown) => {
    if (value === null) {
      if (!c.nullable) {
        throw new TypeError(`${c.label} cannot be null in version ${w.version}`)
      }
      c.type.writeNullable!(w, null, c.label)
    } else if (c.nullable) c.type.writeNullable!(w, value, c.label)
    else c.type.write(w, value, c.label)
  }

  const write = (w: Writer, value: Encodable<S>): void => {
    const p = plan(w.version)
    const o = value as Record<string, unknown>
    const normal = p.normal
    for (let i = 0; i < normal.length; i++) {
      const c = normal[i]!
      const v = o[c.key]
      writeValue(c, w, v === undefined ? c.def() : v)
    }
    const strict = p.strictAbsent
    for (let i = 0; i < strict.length; i++) {
      const c = strict[i]!
      const v = o[c.key]
      if (v !== undefined && !isDefaultValue(v, c.def())) {
        throw new UnsupportedVersionError(
          `${c.label} is not supported at version ${w.version}; the value ${describe(v)} cannot be sent`,
        )
      }
    }
    if (w.flexible) {
      const tags: Array<readonly [number, (w: Writer) => void]> = []
      for (const c of p.tagged) {
        const v = o[c.key]
        if (v === undefined || isDefaultValue(v, c.def())) continue
        tags.push([c.tag, (tw: Writer) => writeValue(c, tw, v)] as const)
      }
      w.taggedFields(tags)
    }
  }

  return {
    typeName: name,
    fields: shape,
    read,
    write,
    // A nullable struct is an int8 marker: -1 for null, 1 for present (Kafka's generated code).
    readNullable: (rd, f) => {
      const marker = rd.int8(f)
      if (marker < 0) return null
      return read(rd)
    },
    writeNullable: (w, v) => {
      if (v === null) w.int8(-1)
      else {
        w.int8(1)
        write(w, v)
      }
    },
    zero: () => read0(),
  }

  function read0(): Decoded<S> {
    const o: Record<string, unknown> = {}
    for (const [key, f] of entries) o[key] = f.default === undefined ? f.type.zero() : f.default
    return o as Decoded<S>
  }
}

function describe(v: unknown): string {
  if (typeof v === 'bigint') return `${v}`
  if (Array.isArray(v)) return `[${v.length} items]`
  if (v instanceof Uint8Array) return `<${v.length} bytes>`
  try {
    return JSON.stringify(v) ?? String(v)
  } catch {
    return String(v)
  }
}
