/**
 * An independent interpreter of Apache Kafka's JSON message schemas (`clients/src/main/resources/common/message`),
 * used as a test oracle for Skiff's hand-written codecs.
 *
 * It is written from the schema semantics alone and deliberately imports nothing from `src/`: it has its own
 * version ranges, defaults, byte sink and byte source, so a mistake in Skiff's shared protocol core cannot hide
 * by being made twice.
 *
 * Semantics implemented (as Kafka's message generator defines them):
 * - `versions`, `nullableVersions`, `taggedVersions` + `tag`, message `flexibleVersions` and the field-level
 *   `flexibleVersions` override (RequestHeader.ClientId is `"none"`: a classic string even in flexible versions);
 * - nested struct types (`"type": "[]Foo"` or `"type": "Foo"` with inline `fields`) and `commonStructs`;
 * - `default` values (decimal or hex integers, `"null"`, booleans, strings), used for fields absent at a version
 *   and as the value at which a tagged field is left out;
 * - classic encodings (int16 string length, int32 bytes length and array count, -1 for null) and compact ones
 *   (unsigned varint of length + 1, 0 for null) in flexible versions;
 * - the tagged-field section ending every struct in a flexible version: known tags written only when the value
 *   differs from the default, in ascending tag order; unknown tags skipped on decode;
 * - nullable structs as an int8 marker (-1 null, 1 present) before the struct.
 *
 * Decoded views use the representations Skiff documents: int64 as bigint, bytes/records as Buffer, uuid as the
 * 22-character base64url text, field keys as the schema name with its first letter lower-cased. A view holds
 * every field the schema declares for the struct, absent-at-this-version ones at their default.
 */
import { readFileSync } from 'node:fs'

// ---------------------------------------------------------------------------------------------------------------
// Version ranges

export interface Range {
  readonly lo: number
  /** Inclusive; Infinity for `"N+"`. `lo > hi` is the empty range (`"none"`). */
  readonly hi: number
}

export const NONE: Range = { lo: 0, hi: -1 }

export function range(text: string | undefined, fallback: Range = NONE): Range {
  if (text === undefined) return fallback
  const t = String(text).trim()
  if (t === 'none' || t === '') return NONE
  const plus = /^(\d+)\+$/.exec(t)
  if (plus) return { lo: Number(plus[1]), hi: Number.POSITIVE_INFINITY }
  const span = /^(\d+)-(\d+)$/.exec(t)
  if (span) return { lo: Number(span[1]), hi: Number(span[2]) }
  if (/^\d+$/.test(t)) return { lo: Number(t), hi: Number(t) }
  throw new SchemaError(`bad version range ${JSON.stringify(text)}`)
}

export function has(r: Range, v: number): boolean {
  return v >= r.lo && v <= r.hi
}

export function showRange(r: Range): string {
  if (r.lo > r.hi) return 'none'
  if (r.hi === Number.POSITIVE_INFINITY) return `${r.lo}+`
  return r.lo === r.hi ? `${r.lo}` : `${r.lo}-${r.hi}`
}

// ---------------------------------------------------------------------------------------------------------------
// Schema model

export class SchemaError extends Error {
  override name = 'SchemaError'
}

/** A malformed byte string seen by the oracle's decoder (the oracle only decodes what it produced itself). */
export class OracleDecodeError extends Error {
  override name = 'OracleDecodeError'
}

export type PrimitiveName =
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'bool'
  | 'string'
  | 'bytes'
  | 'records'
  | 'uuid'

const PRIMITIVES: ReadonlySet<string> = new Set([
  'int8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'float64',
  'bool',
  'string',
  'bytes',
  'records',
  'uuid',
])

export type SchemaType =
  | { readonly kind: 'primitive'; readonly name: PrimitiveName }
  | { readonly kind: 'array'; readonly element: SchemaType }
  | { readonly kind: 'struct'; readonly struct: SchemaStruct }

export interface SchemaField {
  /** As in the schema, e.g. `ErrorCode`. */
  readonly name: string
  /** Key in decoded views: `name` with its first letter lower-cased. */
  readonly key: string
  /** As in the schema, e.g. `[]MetadataResponseTopic`. */
  readonly typeText: string
  readonly type: SchemaType
  readonly versions: Range
  readonly nullableVersions: Range
  /** NONE for fields that are never tagged. */
  readonly taggedVersions: Range
  readonly tag: number | undefined
  /** Field-level override of the message's flexible versions (strings/bytes), e.g. `"none"`. */
  readonly flexibleVersions: Range | undefined
  readonly ignorable: boolean
  /** The raw `default`, if any. */
  readonly defaultSpec: unknown
}

export interface SchemaStruct {
  readonly name: string
  readonly fields: readonly SchemaField[]
}

export interface MessageSchema {
  readonly name: string
  /** `request`, `response`, `header`, `data`, ... */
  readonly type: string
  readonly apiKey: number | undefined
  readonly validVersions: Range
  readonly flexibleVersions: Range
  readonly struct: SchemaStruct
  readonly file: string | undefined
}

export const lowerFirst = (name: string): string => (name.length === 0 ? name : name[0]!.toLowerCase() + name.slice(1))

/**
 * Removes `//` and `/* *\/` comments outside JSON strings (Kafka reads these files with comments allowed).
 */
export function stripJsonComments(text: string): string {
  let out = ''
  let i = 0
  const n = text.length
  while (i < n) {
    const c = text[i]!
    if (c === '"') {
      let j = i + 1
      while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      out += text.slice(i, j + 1)
      i = j + 1
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2)
      i = end < 0 ? n : end + 2
    } else {
      out += c
      i++
    }
  }
  return out
}

interface RawField {
  name: string
  type: string
  versions?: string
  nullableVersions?: string
  taggedVersions?: string
  tag?: number
  flexibleVersions?: string
  ignorable?: boolean
  default?: unknown
  fields?: RawField[]
}

interface RawMessage {
  name: string
  type: string
  apiKey?: number
  validVersions: string
  flexibleVersions?: string
  fields?: RawField[]
  commonStructs?: Array<{ name: string; fields: RawField[] }>
}

export function parseSchema(text: string, file?: string): MessageSchema {
  const raw = JSON.parse(stripJsonComments(text)) as RawMessage
  if (typeof raw.name !== 'string' || typeof raw.validVersions !== 'string') {
    throw new SchemaError(`${file ?? 'schema'}: missing name or validVersions`)
  }
  const common = new Map<string, RawField[]>()
  for (const cs of raw.commonStructs ?? []) common.set(cs.name, cs.fields)
  const built = new Map<string, SchemaStruct>()

  const buildStruct = (name: string, rawFields: RawField[], where: string): SchemaStruct => {
    const fields: SchemaField[] = []
    const s: SchemaStruct = { name, fields }
    built.set(name, s)
    for (const rf of rawFields) fields.push(buildField(rf, `${where}.${rf.name}`))
    const tags = new Set<number>()
    for (const f of fields) {
      if (f.tag === undefined) continue
      if (tags.has(f.tag)) throw new SchemaError(`${where}: duplicate tag ${f.tag}`)
      tags.add(f.tag)
    }
    return s
  }

  const resolveType = (typeText: string, inline: RawField[] | undefined, where: string): SchemaType => {
    if (typeText.startsWith('[]')) {
      return { kind: 'array', element: resolveType(typeText.slice(2), inline, where) }
    }
    if (PRIMITIVES.has(typeText)) {
      if (inline) throw new SchemaError(`${where}: primitive ${typeText} with fields`)
      return { kind: 'primitive', name: typeText as PrimitiveName }
    }
    if (inline) return { kind: 'struct', struct: buildStruct(typeText, inline, where) }
    const existing = built.get(typeText)
    if (existing) return { kind: 'struct', struct: existing }
    const c = common.get(typeText)
    if (!c) throw new SchemaError(`${where}: unknown type ${typeText}`)
    return { kind: 'struct', struct: buildStruct(typeText, c, typeText) }
  }

  const buildField = (rf: RawField, where: string): SchemaField => {
    if (typeof rf.name !== 'string' || typeof rf.type !== 'string') throw new SchemaError(`${where}: bad field`)
    const versions = range(rf.versions)
    const tag = rf.tag
    const taggedVersions = tag === undefined ? NONE : range(rf.taggedVersions, versions)
    return {
      name: rf.name,
      key: lowerFirst(rf.name),
      typeText: rf.type,
      type: resolveType(rf.type, rf.fields, where),
      versions,
      nullableVersions: range(rf.nullableVersions),
      taggedVersions,
      tag,
      flexibleVersions: rf.flexibleVersions === undefined ? undefined : range(rf.flexibleVersions),
      ignorable: rf.ignorable === true,
      defaultSpec: rf.default,
    }
  }

  const struct = buildStruct(raw.name, raw.fields ?? [], raw.name)
  return {
    name: raw.name,
    type: raw.type,
    apiKey: raw.apiKey,
    validVersions: range(raw.validVersions),
    flexibleVersions: range(raw.flexibleVersions ?? 'none'),
    struct,
    file,
  }
}

export function loadSchemaFile(path: string): MessageSchema {
  return parseSchema(readFileSync(path, 'utf8'), path)
}

// ---------------------------------------------------------------------------------------------------------------
// Defaults and value equality

export const ZERO_UUID_TEXT = 'AAAAAAAAAAAAAAAAAAAAAA'

const INT_LIMITS: Record<string, readonly [number, number]> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
}
const INT64_MIN = -(1n << 63n)
const INT64_MAX = (1n << 63n) - 1n

/** Integer.decode / Long.decode: optional sign, decimal or 0x hex. */
function parseIntegerText(text: string, where: string): bigint {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|\d+)$/.exec(text.trim())
  if (!m) throw new SchemaError(`${where}: bad integer default ${JSON.stringify(text)}`)
  const magnitude = BigInt(m[2]!)
  return m[1] === '-' ? -magnitude : magnitude
}

/** The default value of a field (a fresh object each call for arrays, structs and bytes). */
export function defaultOf(field: SchemaField): unknown {
  return defaultForType(field.type, field.defaultSpec, field.name)
}

function defaultForType(type: SchemaType, spec: unknown, where: string): unknown {
  const text = spec === undefined ? undefined : String(spec)
  if (type.kind === 'array') {
    if (text === 'null') return null
    if (text !== undefined && text !== '') throw new SchemaError(`${where}: arrays can only default to null`)
    return []
  }
  if (type.kind === 'struct') {
    if (text === 'null') return null
    return structDefault(type.struct)
  }
  switch (type.name) {
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32': {
      if (text === undefined) return 0
      const n = Number(parseIntegerText(text, where))
      const [lo, hi] = INT_LIMITS[type.name]!
      if (n < lo || n > hi) throw new SchemaError(`${where}: default ${text} out of ${type.name} range`)
      return n
    }
    case 'int64': {
      if (text === undefined) return 0n
      const n = parseIntegerText(text, where)
      if (n < INT64_MIN || n > INT64_MAX) throw new SchemaError(`${where}: default ${text} out of int64 range`)
      return n
    }
    case 'float64':
      return text === undefined ? 0 : Number(text)
    case 'bool':
      if (text === undefined || text === 'false') return false
      if (text === 'true') return true
      throw new SchemaError(`${where}: bad bool default ${text}`)
    case 'string':
      if (text === 'null') return null
      return text ?? ''
    case 'bytes':
      if (text === 'null') return null
      return Buffer.alloc(0)
    case 'records':
      return null
    case 'uuid':
      return text === undefined || text === '' ? ZERO_UUID_TEXT : text
  }
}

/** A struct with every field at its default (Kafka's no-argument constructor). */
export function structDefault(s: SchemaStruct): Record<string, unknown> {
  const o: Record<string, unknown> = {}
  for (const f of s.fields) o[f.key] = defaultOf(f)
  return o
}

/**
 * Value equality as Kafka's generated `equals` sees it: numbers by `===` (so -0 equals 0, NaN nothing), bytes
 * by content, arrays element-wise, structs field by field (only declared fields; unknown tags are ignored).
 */
export function valueEquals(type: SchemaType, a: unknown, b: unknown): boolean {
  if (a === null || b === null || a === undefined || b === undefined) return a === b
  if (type.kind === 'array') {
    const x = a as unknown[]
    const y = b as unknown[]
    if (x.length !== y.length) return false
    for (let i = 0; i < x.length; i++) if (!valueEquals(type.element, x[i], y[i])) return false
    return true
  }
  if (type.kind === 'struct') {
    const x = a as Record<string, unknown>
    const y = b as Record<string, unknown>
    for (const f of type.struct.fields) {
      const fx = x[f.key] === undefined ? defaultOf(f) : x[f.key]
      const fy = y[f.key] === undefined ? defaultOf(f) : y[f.key]
      if (!valueEquals(f.type, fx, fy)) return false
    }
    return true
  }
  if (type.name === 'bytes' || type.name === 'records') return Buffer.compare(a as Uint8Array, b as Uint8Array) === 0
  return a === b
}

// ---------------------------------------------------------------------------------------------------------------
// Unknown tagged fields

/**
 * Attach to a struct value (an object being encoded) to make the oracle write extra tagged fields with tag
 * numbers the schema does not define; a conforming decoder must skip them. `[tag, raw bytes]`.
 */
export const UNKNOWN_TAGS: unique symbol = Symbol('oracle.unknownTags')

export type UnknownTags = ReadonlyArray<readonly [number, Uint8Array]>

// ---------------------------------------------------------------------------------------------------------------
// Encoding

/** One span of the encoded bytes and the schema field it belongs to (for diagnosing byte mismatches). */
export interface TraceEntry {
  readonly start: number
  readonly end: number
  /** e.g. `Topics[0].Partitions[2].LeaderEpoch`, with `#length`, `#count`, `#null-marker`, `#tags` suffixes. */
  readonly path: string
  readonly what: string
}

class Sink {
  buf = new Uint8Array(256)
  view = new DataView(this.buf.buffer)
  len = 0

  room(n: number): number {
    const p = this.len
    if (p + n > this.buf.length) {
      let cap = this.buf.length * 2
      while (cap < p + n) cap *= 2
      const next = new Uint8Array(cap)
      next.set(this.buf.subarray(0, p))
      this.buf = next
      this.view = new DataView(next.buffer)
    }
    this.len = p + n
    return p
  }

  // Each reserves first, then reads `this.view`: growth replaces the buffer and its view.
  int8(v: number): void {
    const p = this.room(1)
    this.view.setInt8(p, v)
  }

  int16(v: number): void {
    const p = this.room(2)
    this.view.setInt16(p, v)
  }

  uint16(v: number): void {
    const p = this.room(2)
    this.view.setUint16(p, v)
  }

  int32(v: number): void {
    const p = this.room(4)
    this.view.setInt32(p, v)
  }

  uint32(v: number): void {
    const p = this.room(4)
    this.view.setUint32(p, v)
  }

  int64(v: bigint): void {
    const p = this.room(8)
    this.view.setBigInt64(p, v)
  }

  float64(v: number): void {
    const p = this.room(8)
    this.view.setFloat64(p, v)
  }

  byte(b: number): void {
    const p = this.room(1)
    this.buf[p] = b
  }

  put(bytes: Uint8Array): void {
    const p = this.room(bytes.length)
    this.buf.set(bytes, p)
  }

  /** Unsigned LEB128, 0 ≤ v < 2^32. */
  unsignedVarint(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`unsigned varint out of range: ${v}`)
    do {
      let b = v % 128
      v = Math.floor(v / 128)
      if (v > 0) b += 128
      this.byte(b)
    } while (v > 0)
  }

  result(): Buffer {
    return Buffer.from(this.buf.buffer, this.buf.byteOffset, this.len)
  }
}

export interface EncodeOptions {
  /** Collect the byte span of every field written. */
  trace?: TraceEntry[]
  /** Write the `UNKNOWN_TAGS` attached to struct values (default true). */
  unknownTags?: boolean
}

interface EncodeContext {
  readonly version: number
  readonly trace: TraceEntry[] | undefined
  readonly unknownTags: boolean
}

function checkInt(name: string, v: unknown, path: string): number {
  const [lo, hi] = INT_LIMITS[name]!
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw new RangeError(`${path}: ${String(v)} is not a ${name}`)
  }
  return v
}

function writePrimitive(s: Sink, name: PrimitiveName, compact: boolean, v: unknown, path: string): void {
  switch (name) {
    case 'int8':
      s.int8(checkInt(name, v, path))
      return
    case 'int16':
      s.int16(checkInt(name, v, path))
      return
    case 'uint16':
      s.uint16(checkInt(name, v, path))
      return
    case 'int32':
      s.int32(checkInt(name, v, path))
      return
    case 'uint32':
      s.uint32(checkInt(name, v, path))
      return
    case 'int64':
      if (typeof v !== 'bigint' || v < INT64_MIN || v > INT64_MAX) throw new RangeError(`${path}: not an int64`)
      s.int64(v)
      return
    case 'float64':
      if (typeof v !== 'number') throw new RangeError(`${path}: not a float64`)
      s.float64(v)
      return
    case 'bool':
      if (typeof v !== 'boolean') throw new RangeError(`${path}: not a bool`)
      s.byte(v ? 1 : 0)
      return
    case 'uuid': {
      if (typeof v !== 'string') throw new RangeError(`${path}: not a uuid`)
      const raw = Buffer.from(v, 'base64url')
      if (raw.length !== 16 || raw.toString('base64url') !== v) throw new RangeError(`${path}: not a uuid`)
      s.put(raw)
      return
    }
    case 'string': {
      if (typeof v !== 'string') throw new RangeError(`${path}: not a string`)
      const utf8 = Buffer.from(v, 'utf8')
      if (compact) s.unsignedVarint(utf8.length + 1)
      else {
        if (utf8.length > 32767) throw new RangeError(`${path}: string too long for a classic encoding`)
        s.int16(utf8.length)
      }
      s.put(utf8)
      return
    }
    case 'bytes':
    case 'records': {
      if (!(v instanceof Uint8Array)) throw new RangeError(`${path}: not bytes`)
      if (compact) s.unsignedVarint(v.length + 1)
      else s.int32(v.length)
      s.put(v)
      return
    }
  }
}

function writeNull(s: Sink, type: SchemaType, compact: boolean): void {
  if (type.kind === 'struct') s.int8(-1)
  else if (compact) s.unsignedVarint(0)
  else if (type.kind === 'primitive' && type.name === 'string') s.int16(-1)
  else s.int32(-1)
}

function fieldCompact(f: SchemaField, version: number, flexible: boolean): boolean {
  return f.flexibleVersions === undefined ? flexible : has(f.flexibleVersions, version)
}

function writeValue(
  s: Sink,
  ctx: EncodeContext,
  type: SchemaType,
  nullable: boolean,
  compact: boolean,
  flexible: boolean,
  v: unknown,
  path: string,
): void {
  const start = s.len
  const tr = ctx.trace
  if (v === null) {
    if (!nullable) throw new RangeError(`${path}: null in version ${ctx.version}, where it is not nullable`)
    writeNull(s, type, compact)
    tr?.push({ start, end: s.len, path: `${path}#null`, what: 'null' })
    return
  }
  if (type.kind === 'primitive') {
    writePrimitive(s, type.name, compact, v, path)
    tr?.push({ start, end: s.len, path, what: type.name })
    return
  }
  if (type.kind === 'struct') {
    if (nullable) {
      s.int8(1)
      tr?.push({ start, end: s.len, path: `${path}#present-marker`, what: 'int8' })
    }
    writeStruct(s, ctx, type.struct, flexible, v as Record<string, unknown>, path)
    return
  }
  if (!Array.isArray(v)) throw new RangeError(`${path}: not an array`)
  if (compact) s.unsignedVarint(v.length + 1)
  else s.int32(v.length)
  tr?.push({ start, end: s.len, path: `${path}#count`, what: compact ? 'compact count' : 'int32 count' })
  for (let i = 0; i < v.length; i++) {
    writeValue(s, ctx, type.element, false, compact, flexible, v[i], tr ? `${path}[${i}]` : path)
  }
}

function writeStruct(
  s: Sink,
  ctx: EncodeContext,
  st: SchemaStruct,
  flexible: boolean,
  o: Record<string, unknown>,
  path: string,
): void {
  if (o === null || typeof o !== 'object') throw new RangeError(`${path}: not a struct`)
  const v = ctx.version
  const tr = ctx.trace
  const tagged: Array<{ tag: number; write: (sub: Sink) => void; path: string }> = []
  for (const f of st.fields) {
    const p = tr ? (path ? `${path}.${f.name}` : f.name) : ''
    const given = o[f.key]
    const value = given === undefined ? defaultOf(f) : given
    if (!has(f.versions, v)) {
      if (given !== undefined && !f.ignorable && !valueEquals(f.type, value, defaultOf(f))) {
        throw new RangeError(`${p || f.name}: non-default value for a field absent in version ${v}`)
      }
      continue
    }
    const nullable = has(f.nullableVersions, v)
    const compact = fieldCompact(f, v, flexible)
    if (f.tag !== undefined && has(f.taggedVersions, v)) {
      if (!flexible) throw new SchemaError(`${st.name}.${f.name}: tagged in non-flexible version ${v}`)
      if (valueEquals(f.type, value, defaultOf(f))) continue
      tagged.push({
        tag: f.tag,
        path: p,
        write: (sub) => writeValue(sub, { ...ctx, trace: undefined }, f.type, nullable, compact, flexible, value, p),
      })
      continue
    }
    writeValue(s, ctx, f.type, nullable, compact, flexible, value, p)
  }
  if (!flexible) return
  const extra = ctx.unknownTags ? ((o as { [UNKNOWN_TAGS]?: UnknownTags })[UNKNOWN_TAGS] ?? []) : []
  for (const [tag, raw] of extra) {
    tagged.push({ tag, path: `${path}#unknown-tag-${tag}`, write: (sub) => sub.put(raw) })
  }
  tagged.sort((a, b) => a.tag - b.tag)
  for (let i = 1; i < tagged.length; i++) {
    if (tagged[i]!.tag === tagged[i - 1]!.tag) throw new RangeError(`${path}: tag ${tagged[i]!.tag} written twice`)
  }
  const start = s.len
  s.unsignedVarint(tagged.length)
  tr?.push({ start, end: s.len, path: `${path ? `${path}.` : ''}#tagged-field-count`, what: 'unsigned varint' })
  for (const t of tagged) {
    const sub = new Sink()
    t.write(sub)
    const tagStart = s.len
    s.unsignedVarint(t.tag)
    s.unsignedVarint(sub.len)
    s.put(sub.buf.subarray(0, sub.len))
    tr?.push({ start: tagStart, end: s.len, path: `${t.path} (tag ${t.tag})`, what: 'tagged field' })
  }
}

/** Encodes a struct value at `version`; `flexible` selects compact encodings and tagged-field sections. */
export function encodeStruct(
  st: SchemaStruct,
  version: number,
  flexible: boolean,
  value: Record<string, unknown>,
  options: EncodeOptions = {},
): Buffer {
  const s = new Sink()
  writeStruct(s, { version, trace: options.trace, unknownTags: options.unknownTags ?? true }, st, flexible, value, '')
  return s.result()
}

export function isFlexible(schema: MessageSchema, version: number): boolean {
  return has(schema.flexibleVersions, version)
}

/** Encodes a whole message body at `version` (flexibility from the schema's `flexibleVersions`). */
export function encodeMessage(
  schema: MessageSchema,
  version: number,
  value: Record<string, unknown>,
  options: EncodeOptions = {},
): Buffer {
  if (!has(schema.validVersions, version)) throw new RangeError(`${schema.name} has no version ${version}`)
  return encodeStruct(schema.struct, version, isFlexible(schema, version), value, options)
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

class Source {
  pos: number
  readonly view: DataView

  constructor(
    readonly bytes: Uint8Array,
    pos: number,
    public end: number,
  ) {
    this.pos = pos
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  take(n: number, what: string): number {
    if (n < 0 || this.pos + n > this.end) {
      throw new OracleDecodeError(`${what}: needs ${n} bytes at ${this.pos}, only ${this.end - this.pos} left`)
    }
    const p = this.pos
    this.pos += n
    return p
  }

  unsignedVarint(what: string): number {
    let result = 0
    let mul = 1
    for (let i = 0; i < 5; i++) {
      const b = this.bytes[this.take(1, what)]!
      result += (b & 0x7f) * mul
      if (b < 0x80) {
        if (result > 0xffffffff) throw new OracleDecodeError(`${what}: varint exceeds 32 bits`)
        return result
      }
      mul *= 128
    }
    throw new OracleDecodeError(`${what}: varint longer than 5 bytes`)
  }
}

function readPrimitive(src: Source, name: PrimitiveName, compact: boolean, nullable: boolean, path: string): unknown {
  const dv = src.view
  switch (name) {
    case 'int8':
      return dv.getInt8(src.take(1, path))
    case 'int16':
      return dv.getInt16(src.take(2, path))
    case 'uint16':
      return dv.getUint16(src.take(2, path))
    case 'int32':
      return dv.getInt32(src.take(4, path))
    case 'uint32':
      return dv.getUint32(src.take(4, path))
    case 'int64':
      return dv.getBigInt64(src.take(8, path))
    case 'float64':
      return dv.getFloat64(src.take(8, path))
    case 'bool':
      return src.bytes[src.take(1, path)] !== 0
    case 'uuid': {
      const p = src.take(16, path)
      return Buffer.from(src.bytes.buffer, src.bytes.byteOffset + p, 16).toString('base64url')
    }
    case 'string':
    case 'bytes':
    case 'records': {
      let len: number
      if (compact) len = src.unsignedVarint(path) - 1
      else len = name === 'string' ? dv.getInt16(src.take(2, path)) : dv.getInt32(src.take(4, path))
      if (len === -1) {
        if (!nullable) throw new OracleDecodeError(`${path}: null where not nullable`)
        return null
      }
      if (len < -1) throw new OracleDecodeError(`${path}: negative length ${len}`)
      const p = src.take(len, path)
      const raw = Buffer.from(src.bytes.buffer, src.bytes.byteOffset + p, len)
      return name === 'string' ? raw.toString('utf8') : Buffer.from(raw)
    }
  }
}

function readValue(
  src: Source,
  version: number,
  type: SchemaType,
  nullable: boolean,
  compact: boolean,
  flexible: boolean,
  path: string,
): unknown {
  if (type.kind === 'primitive') return readPrimitive(src, type.name, compact, nullable, path)
  if (type.kind === 'struct') {
    if (nullable) {
      const marker = src.view.getInt8(src.take(1, path))
      if (marker < 0) return null
    }
    return readStruct(src, version, type.struct, flexible, path)
  }
  const n = compact ? src.unsignedVarint(path) - 1 : src.view.getInt32(src.take(4, path))
  if (n === -1) {
    if (!nullable) throw new OracleDecodeError(`${path}: null array where not nullable`)
    return null
  }
  if (n < -1 || n > src.end - src.pos) throw new OracleDecodeError(`${path}: bad array count ${n}`)
  const out: unknown[] = []
  for (let i = 0; i < n; i++) out.push(readValue(src, version, type.element, false, compact, flexible, path))
  return out
}

function readStruct(src: Source, version: number, st: SchemaStruct, flexible: boolean, path: string): unknown {
  const o: Record<string, unknown> = {}
  const byTag = new Map<number, SchemaField>()
  for (const f of st.fields) {
    const present = has(f.versions, version)
    if (present && f.tag !== undefined && has(f.taggedVersions, version)) {
      byTag.set(f.tag, f)
      o[f.key] = defaultOf(f)
    } else if (present) {
      const nullable = has(f.nullableVersions, version)
      o[f.key] = readValue(src, version, f.type, nullable, fieldCompact(f, version, flexible), flexible, f.name)
    } else {
      o[f.key] = defaultOf(f)
    }
  }
  if (flexible) {
    const count = src.unsignedVarint(`${path}#tagged-field-count`)
    let previous = -1
    for (let i = 0; i < count; i++) {
      const tag = src.unsignedVarint(`${path}#tag`)
      if (tag <= previous) throw new OracleDecodeError(`${path}: tags out of order (${tag} after ${previous})`)
      previous = tag
      const size = src.unsignedVarint(`${path}#tag-size`)
      const start = src.take(size, `${path}#tag-${tag}`)
      const f = byTag.get(tag)
      if (!f) continue
      const inner = new Source(src.bytes, start, start + size)
      const nullable = has(f.nullableVersions, version)
      o[f.key] = readValue(inner, version, f.type, nullable, fieldCompact(f, version, flexible), flexible, f.name)
      if (inner.pos !== inner.end)
        throw new OracleDecodeError(`${path}: tag ${tag} has ${inner.end - inner.pos} extra bytes`)
    }
  }
  return o
}

/** Decodes a struct at `version`; the whole of `bytes` must be consumed. */
export function decodeStruct(
  st: SchemaStruct,
  version: number,
  flexible: boolean,
  bytes: Uint8Array,
): Record<string, unknown> {
  const src = new Source(bytes, 0, bytes.length)
  const o = readStruct(src, version, st, flexible, '') as Record<string, unknown>
  if (src.pos !== src.end) throw new OracleDecodeError(`${src.end - src.pos} bytes left after ${st.name}`)
  return o
}

export function decodeMessage(schema: MessageSchema, version: number, bytes: Uint8Array): Record<string, unknown> {
  return decodeStruct(schema.struct, version, isFlexible(schema, version), bytes)
}

// ---------------------------------------------------------------------------------------------------------------
// Queries used by the tests

export function isTaggedAt(f: SchemaField, version: number): boolean {
  return f.tag !== undefined && has(f.versions, version) && has(f.taggedVersions, version)
}

/** Every struct reachable from `st`, itself included. */
export function reachableStructs(st: SchemaStruct, into = new Set<SchemaStruct>()): Set<SchemaStruct> {
  if (into.has(st)) return into
  into.add(st)
  for (const f of st.fields) {
    let t = f.type
    while (t.kind === 'array') t = t.element
    if (t.kind === 'struct') reachableStructs(t.struct, into)
  }
  return into
}

/** The struct inside a field type (through arrays), if any. */
export function structOf(type: SchemaType): SchemaStruct | undefined {
  let t = type
  while (t.kind === 'array') t = t.element
  return t.kind === 'struct' ? t.struct : undefined
}
