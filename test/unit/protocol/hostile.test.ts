/**
 * Hostile bytes: for every discovered API, version and direction, valid messages encoded by the schema oracle
 * are mutated (truncated at every position, bytes flipped, inserted, deleted, duplicated, lengths and counts
 * overwritten with huge or invalid values) and decoded by Skiff. Decoding must either succeed or throw the
 * project's ProtocolError: never a RangeError, a TypeError or anything else, and never run away.
 *
 * The mutations are seeded (deterministic per API/version/direction); a failure names the mutation and shows
 * the frame. SKIFF_HOSTILE_CASES sets the random mutations per direction (default 600, so with truncations
 * every API version gets well over 1000 cases); SKIFF_HOSTILE_SEED shifts every seed.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Api } from '../../../src/protocol/api.js'
import { ProtocolError } from '../../../src/protocol/errors.js'
import { field, int16, struct, type Type } from '../../../src/protocol/schema.js'
import { messageArbitrary } from '../../oracle/arbitraries.js'
import { encodeStruct, has, type MessageSchema, type TraceEntry } from '../../oracle/schema-interpreter.js'
import {
  type DiscoveredPayload,
  discoverCodecs,
  loadSchemas,
  rangeVersions,
  type SkiffStruct,
  skiffDecode,
  versionsOf,
} from './oracle-harness.js'

const CASES = Math.max(1, Number(process.env.SKIFF_HOSTILE_CASES ?? 600) || 600)
const SEED_SHIFT = Number(process.env.SKIFF_HOSTILE_SEED ?? 0) || 0
/** Valid messages per (API, version, direction) that mutations start from. */
const BASE_MESSAGES = 12
/** Frames up to this size are truncated at every position; longer ones at evenly spaced positions. */
const FULL_TRUNCATION_LIMIT = 400
const MIN_CASES_PER_VERSION = 1000
const TIMEOUT = 120_000

const discovery = await discoverCodecs()

/** Lets the worker's event loop run between long synchronous tests (vitest's RPC times out otherwise). */
const breathe = () => new Promise<void>((resolve) => setImmediate(resolve))
const schemas = loadSchemas()

/** mulberry32: a small seeded PRNG, so every run mutates the same way. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function hashSeed(text: string): number {
  let h = 2166136261 ^ SEED_SHIFT
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619)
  return h >>> 0
}

const HUGE_PATTERNS: readonly number[][] = [
  // int32 counts / bytes lengths
  [0x7f, 0xff, 0xff, 0xff],
  [0x80, 0x00, 0x00, 0x00],
  [0xff, 0xff, 0xff, 0xff],
  [0xff, 0xff, 0xff, 0xfe],
  [0x00, 0x10, 0x00, 0x00],
  // int16 string lengths
  [0x7f, 0xff],
  [0x80, 0x00],
  [0xff, 0xfe],
  // unsigned varints: 2^32-1, too wide for 32 bits, too long, large
  [0xff, 0xff, 0xff, 0xff, 0x0f],
  [0xff, 0xff, 0xff, 0xff, 0x7f],
  [0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
  [0xfe, 0xff, 0xff, 0xff, 0x07],
  [0x80, 0x80, 0x80, 0x01],
  [0xff, 0x7f],
  [0x00],
  [0x80],
]

interface Mutant {
  readonly bytes: Buffer
  readonly description: string
}

/** Byte offsets where the oracle wrote a length, a count, a null marker or a tagged-field header. */
function lengthSites(trace: readonly TraceEntry[]): number[] {
  const out: number[] = []
  for (const t of trace) {
    if (
      t.what.includes('count') ||
      t.what === 'string' ||
      t.what === 'bytes' ||
      t.what === 'records' ||
      t.what === 'tagged field' ||
      t.what === 'unsigned varint' ||
      t.path.endsWith('#null') ||
      t.path.endsWith('#present-marker')
    ) {
      out.push(t.start)
    }
  }
  return out
}

function mutate(base: Buffer, sites: readonly number[], rnd: () => number): Mutant {
  const int = (n: number) => Math.floor(rnd() * n)
  const pos = () => int(base.length + 1)
  const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)))
  const pattern = () => HUGE_PATTERNS[int(HUGE_PATTERNS.length)]!
  const overwrite = (at: number, p: readonly number[]) => {
    const b = Buffer.from(base)
    for (let i = 0; i < p.length && at + i < b.length; i++) b[at + i] = p[i]!
    return b
  }
  switch (int(base.length === 0 ? 3 : 10)) {
    case 0: {
      const n = 1 + int(8)
      const at = pos()
      return {
        bytes: Buffer.concat([base.subarray(0, at), randomBytes(n), base.subarray(at)]),
        description: `insert ${n} random bytes at ${at}`,
      }
    }
    case 1:
      return { bytes: Buffer.concat([base, randomBytes(1 + int(16))]), description: 'append junk' }
    case 2: {
      const at = pos()
      const p = pattern()
      return {
        bytes: Buffer.concat([base.subarray(0, at), Buffer.from(p), base.subarray(at)]),
        description: `insert ${Buffer.from(p).toString('hex')} at ${at}`,
      }
    }
    case 3: {
      const b = Buffer.from(base)
      const flips = 1 + int(3)
      for (let i = 0; i < flips; i++) b[int(b.length)] ^= 1 << int(8)
      return { bytes: b, description: `flip ${flips} bits` }
    }
    case 4: {
      const b = Buffer.from(base)
      const at = int(b.length)
      b[at] = [0x00, 0xff, 0x80, 0x7f, int(256)][int(5)]!
      return { bytes: b, description: `set byte ${at} to ${b[at]}` }
    }
    case 5: {
      const at = int(base.length)
      const n = 1 + int(Math.min(8, base.length - at))
      return {
        bytes: Buffer.concat([base.subarray(0, at), base.subarray(at + n)]),
        description: `delete ${n} bytes at ${at}`,
      }
    }
    case 6: {
      const at = pos()
      return { bytes: base.subarray(0, at), description: `truncate to ${at} bytes` }
    }
    case 7: {
      const from = int(base.length)
      const n = 1 + int(Math.min(16, base.length - from))
      const at = pos()
      const slice = base.subarray(from, from + n)
      return {
        bytes: Buffer.concat([base.subarray(0, at), slice, base.subarray(at)]),
        description: `duplicate ${n} bytes from ${from} at ${at}`,
      }
    }
    default: {
      // A length, count, marker or tag header overwritten (or replaced, shifting what follows) by a huge value.
      const at = sites.length > 0 && rnd() < 0.85 ? sites[int(sites.length)]! : int(base.length)
      const p = pattern()
      if (rnd() < 0.5)
        return { bytes: overwrite(at, p), description: `overwrite at ${at} with ${Buffer.from(p).toString('hex')}` }
      return {
        bytes: Buffer.concat([base.subarray(0, at), Buffer.from(p), base.subarray(at + 1)]),
        description: `replace byte ${at} with ${Buffer.from(p).toString('hex')}`,
      }
    }
  }
}

interface Failure {
  readonly label: string
  readonly description: string
  readonly error: string
  readonly frame: string
}

interface Target {
  readonly label: string
  readonly schema: MessageSchema
  readonly version: number
  readonly flexible: boolean
  readonly skiffFlexible: boolean
  readonly struct: SkiffStruct
}

/** Runs every mutation for one (API, version, direction); returns the number of cases decoded. */
function attack(t: Target, failures: Failure[]): number {
  const seed = hashSeed(t.label)
  const messages = fc.sample(messageArbitrary(t.schema.struct, t.version, t.flexible), { numRuns: BASE_MESSAGES, seed })
  const bases = messages.map((m) => {
    const trace: TraceEntry[] = []
    const bytes = encodeStruct(t.schema.struct, t.version, t.flexible, m, { trace })
    return { bytes, sites: lengthSites(trace) }
  })
  let cases = 0
  const attempt = (bytes: Buffer, description: string) => {
    cases++
    try {
      skiffDecode(t.struct, t.version, t.skiffFlexible, bytes, t.label)
    } catch (e) {
      if (e instanceof ProtocolError) return
      if (failures.length >= 20) return
      const hex = bytes.toString('hex')
      failures.push({
        label: t.label,
        description,
        error:
          e instanceof Error ? `${e.name}: ${e.message}\n${e.stack?.split('\n').slice(1, 4).join('\n')}` : String(e),
        frame: hex.length > 400 ? `${hex.slice(0, 400)}… (${bytes.length} bytes)` : hex,
      })
    }
  }

  // Truncation at every position of the smallest and of the largest base message.
  const bySize = [...bases].sort((a, b) => a.bytes.length - b.bytes.length)
  for (const { bytes } of [bySize[0]!, bySize[bySize.length - 1]!]) {
    const step = bytes.length <= FULL_TRUNCATION_LIMIT ? 1 : Math.ceil(bytes.length / FULL_TRUNCATION_LIMIT)
    for (let at = 0; at < bytes.length; at += step)
      attempt(bytes.subarray(0, at), `truncate to ${at} of ${bytes.length} bytes`)
  }

  const rnd = prng(seed)
  for (let i = 0; i < CASES; i++) {
    const base = bases[i % bases.length]!
    const m = mutate(base.bytes, base.sites, rnd)
    attempt(m.bytes, m.description)
  }
  return cases
}

function report(failures: Failure[]): string {
  return failures
    .slice(0, 8)
    .map((f) => `${f.label}: ${f.description}\n    threw ${f.error}\n    frame ${f.frame}`)
    .join('\n  ')
}

function targetsFor(api: Api, v: number): Target[] {
  const { request, response } = schemas.byApiKey.get(api.key) ?? {}
  const out: Target[] = []
  for (const [direction, schema, struct] of [
    ['request', request, api.request],
    ['response', response, api.response],
  ] as const) {
    if (!schema) continue
    out.push({
      label: `${api.name} v${v} ${direction}`,
      schema,
      version: v,
      flexible: has(schema.flexibleVersions, v),
      skiffFlexible: api.isFlexible(v),
      struct: struct as SkiffStruct,
    })
  }
  return out
}

function payloadTarget(p: DiscoveredPayload, v: number): Target {
  const flexible = has(p.schema.flexibleVersions, v)
  return {
    label: `${p.schema.name} v${v}`,
    schema: p.schema,
    version: v,
    flexible,
    skiffFlexible: flexible,
    struct: p.struct,
  }
}

function run(targets: Target[]): void {
  const failures: Failure[] = []
  let cases = 0
  for (const t of targets) cases += attack(t, failures)
  if (failures.length > 0) {
    throw new Error(`decoding hostile bytes threw something other than ProtocolError:\n  ${report(failures)}`)
  }
  expect(cases, 'mutation cases for this version').toBeGreaterThanOrEqual(MIN_CASES_PER_VERSION)
}

for (const { api, file } of discovery.apis) {
  if (!schemas.byApiKey.has(api.key) || !Number.isFinite(api.versions.max)) continue
  describe(`${api.name} (key ${api.key}, ${file}) under hostile bytes`, () => {
    for (const v of versionsOf(api.versions)) {
      it(`v${v}: mutated requests and responses decode or throw ProtocolError`, { timeout: TIMEOUT }, async () => {
        await breathe()
        run(targetsFor(api, v))
      })
    }
  })
}

for (const p of discovery.payloads) {
  describe(`${p.schema.name} payload (${p.file}) under hostile bytes`, () => {
    for (const v of rangeVersions(p.schema.validVersions)) {
      it(`v${v}: mutated payloads decode or throw ProtocolError`, { timeout: TIMEOUT }, async () => {
        await breathe()
        const t = payloadTarget(p, v)
        // A payload has one direction: attack it twice over (distinct seeds) to reach the per-version count.
        run([t, { ...t, label: `${t.label} (second pass)` }])
      })
    }
  })
}

describe('the hostile harness catches unsafe decoding', () => {
  it('reports a RangeError from a read that skips the bounds check', () => {
    const unchecked: Type<number> = {
      typeName: 'int32',
      read: (rd) => {
        const v = rd.buf.readInt32BE(rd.pos)
        rd.pos += 4
        return v
      },
      write: (w, v) => void w.int32(v),
      zero: () => 0,
    }
    const schema = schemas.byName.get('HeartbeatResponse')!
    const unsafe = struct('HeartbeatResponse', {
      throttleTimeMs: field(unchecked, { versions: '1+' }),
      errorCode: int16,
    })
    const failures: Failure[] = []
    attack(
      {
        label: 'unsafe HeartbeatResponse v1',
        schema,
        version: 1,
        flexible: false,
        skiffFlexible: false,
        struct: unsafe as unknown as SkiffStruct,
      },
      failures,
    )
    expect(failures.length).toBeGreaterThan(0)
    expect(failures[0]!.error).toMatch(/^RangeError/)
  })
})
