/**
 * The bridge between the schema oracle (`test/oracle/`, which knows nothing of Skiff) and Skiff's codecs:
 * discovery of the API modules in `src/protocol/apis/`, the schema fixtures indexed by api key and name,
 * Skiff's decode/encode of a bare body, and comparison helpers that name the field and version at fault.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Api } from '../../../src/protocol/api.js'
import { Reader } from '../../../src/protocol/reader.js'
import { Writer } from '../../../src/protocol/writer.js'
import {
  has,
  type MessageSchema,
  parseSchema,
  type Range,
  type SchemaField,
  type SchemaStruct,
  type SchemaType,
  showRange,
  type TraceEntry,
} from '../../oracle/schema-interpreter.js'

export const FIXTURES_DIR = fileURLToPath(new URL('../../fixtures/kafka-spec/', import.meta.url))
export const APIS_DIR = fileURLToPath(new URL('../../../src/protocol/apis/', import.meta.url))

/** What the tests need of a Skiff struct (`StructType` from schema.ts), typed loosely on purpose. */
export interface SkiffStruct {
  readonly typeName: string
  read(rd: Reader, field: string): unknown
  write(w: Writer, value: unknown, field: string): void
}

export interface DiscoveredApi {
  readonly file: string
  readonly exportName: string
  readonly api: Api
}

export interface DiscoveredPayload {
  readonly file: string
  readonly exportName: string
  readonly struct: SkiffStruct
  readonly schema: MessageSchema
}

export interface Discovery {
  readonly apis: DiscoveredApi[]
  readonly payloads: DiscoveredPayload[]
  readonly importFailures: Array<{ file: string; error: unknown }>
}

// ---------------------------------------------------------------------------------------------------------------
// Schemas

export interface SchemaIndex {
  readonly byName: ReadonlyMap<string, MessageSchema>
  readonly byApiKey: ReadonlyMap<number, { request?: MessageSchema; response?: MessageSchema }>
}

let schemaIndex: SchemaIndex | undefined

export function loadSchemas(): SchemaIndex {
  if (schemaIndex) return schemaIndex
  const byName = new Map<string, MessageSchema>()
  const byApiKey = new Map<number, { request?: MessageSchema; response?: MessageSchema }>()
  for (const file of readdirSync(FIXTURES_DIR).sort()) {
    if (!file.endsWith('.json')) continue
    const schema = parseSchema(readFileSync(`${FIXTURES_DIR}${file}`, 'utf8'), file)
    byName.set(schema.name, schema)
    if (schema.apiKey === undefined) continue
    const entry = byApiKey.get(schema.apiKey) ?? {}
    if (schema.type === 'request' && file === `${schema.name}.json`) entry.request = schema
    if (schema.type === 'response' && file === `${schema.name}.json`) entry.response = schema
    byApiKey.set(schema.apiKey, entry)
  }
  schemaIndex = { byName, byApiKey }
  return schemaIndex
}

// ---------------------------------------------------------------------------------------------------------------
// Discovery

const isStruct = (v: unknown): v is SkiffStruct =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as SkiffStruct).read === 'function' &&
  typeof (v as SkiffStruct).write === 'function'

const isApi = (v: unknown): v is Api =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Api).key === 'number' &&
  isStruct((v as Api).request) &&
  isStruct((v as Api).response)

/**
 * Imports every module in `src/protocol/apis/` and collects the exported APIs (objects with a numeric `key`, a
 * `request` and a `response` struct) and exported structs named like a non-API schema (consumer protocol
 * payloads). Modules that fail to import are reported, not fatal: others may be mid-edit.
 */
export async function discoverCodecs(): Promise<Discovery> {
  const schemas = loadSchemas()
  const apis: DiscoveredApi[] = []
  const payloads: DiscoveredPayload[] = []
  const importFailures: Array<{ file: string; error: unknown }> = []
  const seen = new Set<unknown>()
  const files = readdirSync(APIS_DIR)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('.test.ts'))
    // Re-exporting barrels last, so each API is named after the module that defines it.
    .sort((a, b) => Number(a === 'index.ts') - Number(b === 'index.ts') || a.localeCompare(b))
  for (const file of files) {
    let mod: Record<string, unknown>
    try {
      mod = (await import(pathToFileURL(`${APIS_DIR}${file}`).href)) as Record<string, unknown>
    } catch (error) {
      importFailures.push({ file, error })
      continue
    }
    for (const [exportName, value] of Object.entries(mod)) {
      if (seen.has(value)) continue
      if (isApi(value)) {
        seen.add(value)
        apis.push({ file, exportName, api: value })
        continue
      }
      if (!isStruct(value) || typeof value.typeName !== 'string') continue
      const schema = schemas.byName.get(value.typeName)
      if (!schema || schema.apiKey !== undefined || schema.type === 'header') continue
      seen.add(value)
      payloads.push({ file, exportName, struct: value, schema })
    }
  }
  return { apis, payloads, importFailures }
}

/** The versions an API implements, as a list (its max is finite). */
export function versionsOf(r: { min: number; max: number }): number[] {
  const out: number[] = []
  for (let v = r.min; v <= r.max; v++) out.push(v)
  return out
}

export function rangeVersions(r: Range): number[] {
  const out: number[] = []
  for (let v = r.lo; v <= r.hi; v++) out.push(v)
  return out
}

// ---------------------------------------------------------------------------------------------------------------
// Skiff's side

/** Decodes a bare body the way frame.ts does (decodeResponseBody): unread bytes are an error. */
export function skiffDecode(struct: SkiffStruct, version: number, flexible: boolean, bytes: Buffer, label: string) {
  const rd = new Reader(bytes)
  rd.label = label
  rd.version = version
  rd.flexible = flexible
  const value = struct.read(rd, struct.typeName)
  if (rd.remaining !== 0) rd.fail(`${rd.remaining} unread bytes after the body`)
  return value
}

/** Encodes a bare body the way frame.ts does (encodeRequestBody). */
export function skiffEncode(struct: SkiffStruct, version: number, flexible: boolean, value: unknown): Buffer {
  const w = new Writer()
  w.version = version
  w.flexible = flexible
  struct.write(w, value, struct.typeName)
  return Buffer.from(w.view())
}

// ---------------------------------------------------------------------------------------------------------------
// Comparison

export function show(v: unknown): string {
  if (v === undefined) return 'undefined'
  if (v === null) return 'null'
  if (typeof v === 'bigint') return `${v}n`
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v)
  if (v instanceof Uint8Array) {
    const hex = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')
    return `<${v.length} bytes ${hex.length > 48 ? `${hex.slice(0, 48)}…` : hex}>`
  }
  if (typeof v === 'string')
    return v.length > 60 ? `${JSON.stringify(v.slice(0, 60))}… (${v.length} chars)` : JSON.stringify(v)
  if (Array.isArray(v)) return `[${v.length} items]`
  if (typeof v === 'object') return `{${Object.keys(v).join(', ')}}`
  return String(v)
}

function typeLabel(f: SchemaField): string {
  const parts = [f.typeText, `versions ${showRange(f.versions)}`]
  if (f.nullableVersions.lo <= f.nullableVersions.hi) parts.push(`nullable ${showRange(f.nullableVersions)}`)
  if (f.tag !== undefined) parts.push(`tag ${f.tag} in ${showRange(f.taggedVersions)}`)
  if (f.defaultSpec !== undefined) parts.push(`default ${JSON.stringify(f.defaultSpec)}`)
  return parts.join(', ')
}

/**
 * Differences between the oracle's decoded view and Skiff's decoded value, as readable lines naming the
 * schema path. Fields missing from Skiff's value are reported when present in this version; fields absent at
 * this version must hold the schema default if Skiff has them; keys the schema does not know are extra.
 */
export function diffStruct(
  st: SchemaStruct,
  version: number,
  expected: Record<string, unknown>,
  actual: unknown,
  path: string,
  out: string[],
  limit = 12,
): void {
  if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) {
    out.push(`${path || st.name}: Skiff gave ${show(actual)}, the oracle a ${st.name} struct`)
    return
  }
  const a = actual as Record<string, unknown>
  const known = new Set<string>()
  for (const f of st.fields) {
    if (out.length >= limit) return
    known.add(f.key)
    const p = path ? `${path}.${f.name}` : f.name
    const present = has(f.versions, version)
    if (!(f.key in a)) {
      if (present) out.push(`${p}: MISSING from Skiff's decoded struct (schema field '${f.key}': ${typeLabel(f)})`)
      continue
    }
    const label = present ? p : `${p} (absent in v${version}, must decode to the schema default)`
    diffValue(f.type, version, expected[f.key], a[f.key], label, out, limit)
  }
  for (const k of Object.keys(a)) {
    if (out.length >= limit) return
    if (!known.has(k))
      out.push(`${path ? `${path}.` : ''}${k}: EXTRA field in Skiff's struct, not in ${st.name}'s schema`)
  }
}

function diffValue(
  type: SchemaType,
  version: number,
  e: unknown,
  a: unknown,
  path: string,
  out: string[],
  limit: number,
): void {
  if (e === null || a === null || e === undefined || a === undefined) {
    if (e !== a) out.push(`${path}: oracle ${show(e)}, Skiff ${show(a)}`)
    return
  }
  if (type.kind === 'struct') {
    diffStruct(type.struct, version, e as Record<string, unknown>, a, path, out, limit)
    return
  }
  if (type.kind === 'array') {
    if (!Array.isArray(a)) {
      out.push(`${path}: oracle an array, Skiff ${show(a)}`)
      return
    }
    const ea = e as unknown[]
    if (ea.length !== a.length) {
      out.push(`${path}: oracle ${ea.length} items, Skiff ${a.length}`)
      return
    }
    for (let i = 0; i < ea.length && out.length < limit; i++)
      diffValue(type.element, version, ea[i], a[i], `${path}[${i}]`, out, limit)
    return
  }
  let same: boolean
  switch (type.name) {
    case 'bytes':
    case 'records':
      same = a instanceof Uint8Array && Buffer.compare(e as Uint8Array, a) === 0
      break
    case 'float64':
      same = Object.is(e, a)
      break
    default:
      same = e === a
  }
  if (!same) out.push(`${path}: oracle ${show(e)}, Skiff ${show(a)} (${typeof a})`)
}

/** The innermost traced span holding `offset`. */
export function locate(trace: readonly TraceEntry[], offset: number, total: number): string {
  let best: TraceEntry | undefined
  for (const t of trace) {
    if (t.start <= offset && offset < t.end && (!best || t.end - t.start <= best.end - best.start)) best = t
  }
  if (best) return `${best.path} (${best.what}, oracle bytes ${best.start}-${best.end - 1})`
  return offset >= total ? `past the end of the oracle's ${total} bytes` : 'an untraced byte'
}

export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i
  return a.length === b.length ? -1 : n
}

export function hexAround(b: Uint8Array, at: number): string {
  const from = Math.max(0, at - 8)
  const to = Math.min(b.length, at + 8)
  return `${Buffer.from(b.buffer, b.byteOffset + from, to - from).toString('hex')} (bytes ${from}-${to - 1} of ${b.length})`
}

// ---------------------------------------------------------------------------------------------------------------
// Which fields does a Skiff struct write?

const NOT_FIELDS = new Set(['toJSON', 'then', 'constructor', 'length', 'valueOf', 'toString'])

/**
 * Wraps a message in proxies that record, per struct path (`Topics[].Partitions[]`), which keys Skiff's writer
 * reads. A struct's writer reads every field it declares for the version, so a schema field present in the
 * version but never read is a field the codec lacks, and a key read that the schema never declares is extra.
 */
export function recordFieldAccess(
  st: SchemaStruct,
  value: Record<string, unknown>,
): { value: Record<string, unknown>; accessed: Map<string, { struct: SchemaStruct; keys: Set<string> }> } {
  const accessed = new Map<string, { struct: SchemaStruct; keys: Set<string> }>()
  const wrapStruct = (s: SchemaStruct, o: Record<string, unknown>, path: string): Record<string, unknown> => {
    const inner: Record<string, unknown> = {}
    for (const f of s.fields) {
      if (f.key in o) inner[f.key] = wrap(f.type, o[f.key], path ? `${path}.${f.name}` : f.name)
    }
    return new Proxy(inner, {
      get(target, key, receiver) {
        if (typeof key === 'string' && !NOT_FIELDS.has(key)) {
          let entry = accessed.get(path)
          if (!entry) accessed.set(path, (entry = { struct: s, keys: new Set() }))
          entry.keys.add(key)
        }
        return Reflect.get(target, key, receiver)
      },
    })
  }
  const wrap = (t: SchemaType, v: unknown, path: string): unknown => {
    if (v === null || v === undefined || t.kind === 'primitive') return v
    if (t.kind === 'struct') return wrapStruct(t.struct, v as Record<string, unknown>, path)
    return (v as unknown[]).map((e) => wrap(t.element, e, `${path}[]`))
  }
  return { value: wrapStruct(st, value, ''), accessed }
}

/** Lines naming the fields Skiff's writer lacks or has extra, from `recordFieldAccess`. */
export function accessProblems(
  accessed: Map<string, { struct: SchemaStruct; keys: Set<string> }>,
  version: number,
  flexible: boolean,
): string[] {
  const out: string[] = []
  for (const [path, { struct, keys }] of accessed) {
    const prefix = path ? `${path}.` : ''
    for (const f of struct.fields) {
      if (!has(f.versions, version) || keys.has(f.key)) continue
      if (f.tag !== undefined && has(f.taggedVersions, version) && !flexible) continue
      out.push(`${prefix}${f.name}: MISSING from Skiff's struct ${struct.name} (schema: ${typeLabel(f)})`)
    }
    const known = new Set(struct.fields.map((f) => f.key))
    for (const k of keys) {
      if (!known.has(k)) out.push(`${prefix}${k}: EXTRA field written by Skiff, not in ${struct.name}'s schema`)
    }
  }
  return out
}
