/**
 * Skiff's hand-written codecs against an independent interpreter of Kafka's JSON message schemas
 * (test/oracle/), byte for byte, for every API module in src/protocol/apis/ (discovered at run time), every
 * version it implements, requests and responses alike.
 *
 * Per (API, version, direction):
 * 1. structure: a message with every field of the version set is written by Skiff through proxies that record
 *    which fields it reads, so a schema field the codec lacks (or a field the schema does not have) is named;
 *    then each field absent at the version (but implemented in another) is set in turn: Skiff must drop it if
 *    the schema marks it `ignorable` and refuse it with UnsupportedVersionError otherwise, as Kafka does;
 * 2. property (SKIFF_FUZZ_RUNS runs, default 200): a schema-generated message is encoded by the oracle (with
 *    unknown tagged fields now and then), decoded by Skiff and compared with the oracle's decoded view, then
 *    re-encoded by Skiff and compared with the oracle's bytes.
 * Plus request/response frames (RequestHeader/ResponseHeader schemas) through frame.ts, and exported
 * payload structs named like a schema (ConsumerProtocolSubscription/Assignment).
 *
 * SKIFF_FUZZ_SEED fixes fast-check's seed to replay a failure.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type Api, defineApi } from '../../../src/protocol/api.js'
import { ProtocolError, UnsupportedVersionError } from '../../../src/protocol/errors.js'
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '../../../src/protocol/frame.js'
import { array, bool, field, int16, int32, int64, string, struct, uuid } from '../../../src/protocol/schema.js'
import { messageArbitrary, nonDefaultValue, skeletonMessage } from '../../oracle/arbitraries.js'
import {
  decodeStruct,
  encodeStruct,
  has,
  type MessageSchema,
  type Range,
  type SchemaStruct,
  showRange,
  structOf,
  type TraceEntry,
} from '../../oracle/schema-interpreter.js'
import {
  accessProblems,
  diffStruct,
  discoverCodecs,
  firstDifference,
  hexAround,
  loadSchemas,
  locate,
  rangeVersions,
  recordFieldAccess,
  type SkiffStruct,
  skiffDecode,
  skiffEncode,
  versionsOf,
} from './oracle-harness.js'

const RUNS = Math.max(1, Number(process.env.SKIFF_FUZZ_RUNS ?? 200) || 200)
const SEED = process.env.SKIFF_FUZZ_SEED === undefined ? undefined : Number(process.env.SKIFF_FUZZ_SEED)
const HEADER_RUNS = Math.max(5, Math.ceil(RUNS / 20))
const TIMEOUT = 120_000

const discovery = await discoverCodecs()
const schemas = loadSchemas()

interface Case {
  /** e.g. `Metadata v7 response`. */
  readonly label: string
  readonly schema: MessageSchema
  readonly version: number
  /** Flexibility as the schema defines it (the oracle's). */
  readonly flexible: boolean
  /** Flexibility as Skiff's API defines it. */
  readonly skiffFlexible: boolean
  readonly struct: SkiffStruct
  /** The versions Skiff implements for this message. */
  readonly implemented: Range
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e)
}

function traced(st: SchemaStruct, c: Case, msg: Record<string, unknown>): TraceEntry[] {
  const trace: TraceEntry[] = []
  encodeStruct(st, c.version, c.flexible, msg, { trace })
  return trace
}

/** Structure: the fields Skiff's writer reads for a message with every field of the version set. */
function checkStructure(c: Case): void {
  const st = c.schema.struct
  const skeleton = skeletonMessage(st, c.version)
  const { value, accessed } = recordFieldAccess(st, skeleton)
  let writeError: unknown
  try {
    skiffEncode(c.struct, c.version, c.skiffFlexible, value)
  } catch (e) {
    writeError = e
  }
  const problems = accessProblems(accessed, c.version, c.flexible)
  if (writeError !== undefined) {
    problems.unshift(`Skiff could not encode a message with every v${c.version} field set: ${errorText(writeError)}`)
  } else {
    problems.push(...ignorableProblems(c))
  }
  if (problems.length > 0) {
    throw new Error(`${c.label} vs ${c.schema.file}:\n  ${problems.join('\n  ')}`)
  }
}

/**
 * Fields absent at the version (but implemented in another): Kafka drops a non-default value of an `ignorable`
 * field and refuses one of any other field (UnsupportedVersionException), so a request never silently loses
 * what the caller asked for. Each such field is set in turn on the every-field message.
 */
function ignorableProblems(c: Case): string[] {
  const problems: string[] = []
  const skeleton = skeletonMessage(c.schema.struct, c.version)
  const baseline = skiffEncode(c.struct, c.version, c.skiffFlexible, skeleton)
  const visit = (s: SchemaStruct, o: Record<string, unknown>, path: string) => {
    for (const f of s.fields) {
      const p = path ? `${path}.${f.name}` : f.name
      if (has(f.versions, c.version)) {
        const inner = structOf(f.type)
        const v = o[f.key]
        if (!inner || v === null || v === undefined) continue
        if (Array.isArray(v)) visit(inner, v[0] as Record<string, unknown>, `${p}[]`)
        else visit(inner, v as Record<string, unknown>, p)
        continue
      }
      if (f.versions.hi < c.implemented.lo || f.versions.lo > c.implemented.hi) continue
      o[f.key] = nonDefaultValue(f)
      let error: unknown
      let bytes: Buffer | undefined
      try {
        bytes = skiffEncode(c.struct, c.version, c.skiffFlexible, skeleton)
      } catch (e) {
        error = e
      }
      delete o[f.key]
      const what = `${p} (versions ${showRange(f.versions)}${f.ignorable ? ', ignorable' : ''}) set in v${c.version}`
      if (f.ignorable) {
        if (error !== undefined) problems.push(`${what}: Skiff refused it (${errorText(error)}); Kafka drops it`)
        else if (!bytes!.equals(baseline)) problems.push(`${what}: Skiff's bytes changed; Kafka drops it`)
      } else if (!(error instanceof UnsupportedVersionError)) {
        const did = error === undefined ? 'silently dropped it' : `threw ${errorText(error)}`
        problems.push(`${what}: Skiff ${did}; Kafka refuses it (UnsupportedVersionException)`)
      }
    }
  }
  visit(c.schema.struct, skeleton, '')
  return problems
}

/** One generated message: oracle encode → Skiff decode → compare → Skiff encode → compare bytes. */
function checkMessage(c: Case, msg: Record<string, unknown>): void {
  const st = c.schema.struct
  const bytes = encodeStruct(st, c.version, c.flexible, msg)
  const view = decodeStruct(st, c.version, c.flexible, bytes)
  const canonical = encodeStruct(st, c.version, c.flexible, view)
  const expectedCanonical = encodeStruct(st, c.version, c.flexible, msg, { unknownTags: false })
  if (!canonical.equals(expectedCanonical)) {
    throw new Error(`ORACLE self-check failed for ${c.label}: decode/encode of its own bytes is not stable`)
  }

  let decoded: unknown
  try {
    decoded = skiffDecode(c.struct, c.version, c.skiffFlexible, bytes, c.label)
  } catch (e) {
    const offset = e instanceof ProtocolError ? e.context.offset : undefined
    const where =
      offset === undefined
        ? ''
        : `\n  Skiff stopped at byte ${offset}, which the oracle wrote for ${locate(traced(st, c, msg), offset, bytes.length)}` +
          `\n  bytes: ${hexAround(bytes, offset)}`
    throw new Error(`${c.label}: Skiff failed to decode the oracle's ${bytes.length} bytes: ${errorText(e)}${where}`)
  }

  const diffs: string[] = []
  diffStruct(st, c.version, view, decoded, '', diffs)
  if (diffs.length > 0) {
    throw new Error(`${c.label}: Skiff's decoded value differs from the oracle's:\n  ${diffs.join('\n  ')}`)
  }

  let reencoded: Buffer
  try {
    reencoded = skiffEncode(c.struct, c.version, c.skiffFlexible, decoded)
  } catch (e) {
    throw new Error(`${c.label}: Skiff failed to re-encode the value it decoded: ${errorText(e)}`)
  }
  const at = firstDifference(canonical, reencoded)
  if (at >= 0) {
    const trace = traced(st, c, view)
    throw new Error(
      `${c.label}: Skiff's encoding differs from the oracle's (oracle ${canonical.length} bytes, Skiff ${reencoded.length})` +
        `\n  first difference at byte ${at}, in ${locate(trace, at, canonical.length)}` +
        `\n  oracle: ${hexAround(canonical, at)}\n  Skiff:  ${hexAround(reencoded, at)}`,
    )
  }
}

/** Lets the worker's event loop run between long synchronous tests (vitest's RPC times out otherwise). */
const breathe = () => new Promise<void>((resolve) => setImmediate(resolve))

function runCase(c: Case): void {
  checkStructure(c)
  const arb = messageArbitrary(c.schema.struct, c.version, c.flexible)
  fc.assert(
    fc.property(arb, (msg) => checkMessage(c, msg)),
    { numRuns: RUNS, seed: SEED, includeErrorInReport: true },
  )
}

describe('API module discovery', () => {
  it('finds the API modules and their schemas', () => {
    const names = discovery.apis.map((d) => d.api.name)
    for (const required of ['ApiVersions', 'Metadata', 'CreateTopics', 'DeleteTopics'])
      expect(names).toContain(required)
  })

  for (const { file, error } of discovery.importFailures) {
    it(`imports src/protocol/apis/${file}`, () => {
      throw new Error(`src/protocol/apis/${file} failed to import: ${errorText(error)}`)
    })
  }
})

function checkApiMatchesSchema(api: Api, request: MessageSchema | undefined, response: MessageSchema | undefined) {
  const problems: string[] = []
  if (!request || !response) {
    throw new Error(`${api.name} (key ${api.key}): no <Name>Request.json/<Name>Response.json with apiKey ${api.key}`)
  }
  if (request.name !== `${api.name}Request`) problems.push(`name ${api.name}, schema ${request.name}`)
  if (!Number.isFinite(api.versions.max)) problems.push(`versions.max is ${api.versions.max}, must be finite`)
  for (const schema of [request, response]) {
    if (api.versions.min < schema.validVersions.lo || api.versions.max > schema.validVersions.hi) {
      problems.push(
        `versions ${api.versions.min}-${api.versions.max} outside ${schema.name} validVersions ${showRange(schema.validVersions)}`,
      )
    }
  }
  for (const v of versionsOf(api.versions)) {
    for (const schema of [request, response]) {
      const schemaFlexible = has(schema.flexibleVersions, v)
      if (api.isFlexible(v) !== schemaFlexible) {
        problems.push(`v${v} flexible: Skiff ${api.isFlexible(v)}, ${schema.name} ${schemaFlexible}`)
      }
    }
  }
  const alwaysV0 = api.key === 18
  if (api.responseHeaderAlwaysV0 !== alwaysV0) problems.push(`responseHeaderAlwaysV0 should be ${alwaysV0}`)
  if (problems.length > 0) throw new Error(`${api.name} (key ${api.key}):\n  ${problems.join('\n  ')}`)
}

/** Request and response frames (size, header, body) through frame.ts against the header schemas. */
function checkFrames(api: Api, request: MessageSchema, response: MessageSchema): void {
  const requestHeader = schemas.byName.get('RequestHeader')!
  const responseHeader = schemas.byName.get('ResponseHeader')!
  for (const v of versionsOf(api.versions)) {
    const flexible = has(request.flexibleVersions, v)
    const reqHeaderVersion = flexible ? 2 : 1
    // ApiVersions responses always use header v0 (KIP-511); every other API v1 from its first flexible version.
    const resHeaderVersion = flexible && api.key !== 18 ? 1 : 0
    const arb = fc.record({
      correlationId: fc.integer({ min: -2147483648, max: 2147483647 }),
      clientId: fc.option(fc.string({ unit: 'grapheme', maxLength: 12 }), { nil: null }),
      req: messageArbitrary(request.struct, v, flexible, { unknownTags: false }),
      res: messageArbitrary(response.struct, v, has(response.flexibleVersions, v), { unknownTags: false }),
    })
    fc.assert(
      fc.property(arb, ({ correlationId, clientId, req, res }) => {
        const header = encodeStruct(requestHeader.struct, reqHeaderVersion, reqHeaderVersion >= 2, {
          requestApiKey: api.key,
          requestApiVersion: v,
          correlationId,
          clientId,
        })
        const body = encodeStruct(request.struct, v, flexible, req)
        const oracleRequest = Buffer.concat([header, body])
        const frame = encodeRequest(api, v, correlationId, clientId, decodeStruct(request.struct, v, flexible, body))
        expect(frame.readInt32BE(0), `${api.name} v${v} request size prefix`).toBe(frame.length - 4)
        expect(frame.subarray(4).toString('hex'), `${api.name} v${v} request frame (header v${reqHeaderVersion})`).toBe(
          oracleRequest.toString('hex'),
        )
        const got = decodeRequest(api, oracleRequest)
        expect(got.header, `${api.name} v${v} request header`).toEqual({
          apiKey: api.key,
          apiVersion: v,
          correlationId,
          clientId,
        })
        const diffs: string[] = []
        diffStruct(request.struct, v, decodeStruct(request.struct, v, flexible, body), got.body, '', diffs)
        expect(diffs, `${api.name} v${v} request body via decodeRequest`).toEqual([])

        const resFlexible = has(response.flexibleVersions, v)
        const resHeader = encodeStruct(responseHeader.struct, resHeaderVersion, resHeaderVersion >= 1, {
          correlationId,
        })
        const resBody = encodeStruct(response.struct, v, resFlexible, res)
        const oracleResponse = Buffer.concat([resHeader, resBody])
        const view = decodeStruct(response.struct, v, resFlexible, resBody)
        const decoded = decodeResponse(api, v, oracleResponse)
        diffs.length = 0
        diffStruct(response.struct, v, view, decoded, '', diffs)
        expect(diffs, `${api.name} v${v} response via decodeResponse (header v${resHeaderVersion})`).toEqual([])
        const resFrame = encodeResponse(api, v, correlationId, view)
        expect(
          resFrame.subarray(4).toString('hex'),
          `${api.name} v${v} response frame (header v${resHeaderVersion})`,
        ).toBe(oracleResponse.toString('hex'))
      }),
      { numRuns: HEADER_RUNS, seed: SEED, includeErrorInReport: true },
    )
  }
}

for (const { api, file, exportName } of discovery.apis) {
  const { request, response } = schemas.byApiKey.get(api.key) ?? {}
  describe(`${api.name} (key ${api.key}, ${file}#${exportName})`, () => {
    it('matches its schema files: key, name, versions, flexible versions', () => {
      checkApiMatchesSchema(api, request, response)
    })
    if (!request || !response || !Number.isFinite(api.versions.max)) return

    for (const v of versionsOf(api.versions)) {
      for (const [direction, schema, struct] of [
        ['request', request, api.request],
        ['response', response, api.response],
      ] as const) {
        const c: Case = {
          label: `${api.name} v${v} ${direction}`,
          schema,
          version: v,
          flexible: has(schema.flexibleVersions, v),
          skiffFlexible: api.isFlexible(v),
          struct: struct as SkiffStruct,
          implemented: { lo: api.versions.min, hi: api.versions.max },
        }
        it(`v${v} ${direction}: every field, byte for byte with the oracle (${RUNS} runs)`, {
          timeout: TIMEOUT,
        }, async () => {
          await breathe()
          runCase(c)
        })
      }
    }

    it(`request and response frames match RequestHeader/ResponseHeader (${HEADER_RUNS} runs per version)`, {
      timeout: TIMEOUT,
    }, async () => {
      await breathe()
      checkFrames(api, request, response)
    })
  })
}

for (const { struct, schema, file, exportName } of discovery.payloads) {
  describe(`${schema.name} payload (${file}#${exportName})`, () => {
    for (const v of rangeVersions(schema.validVersions)) {
      const c: Case = {
        label: `${schema.name} v${v}`,
        schema,
        version: v,
        flexible: has(schema.flexibleVersions, v),
        skiffFlexible: has(schema.flexibleVersions, v),
        struct,
        implemented: schema.validVersions,
      }
      it(`v${v}: every field, byte for byte with the oracle (${RUNS} runs)`, { timeout: TIMEOUT }, async () => {
        await breathe()
        runCase(c)
      })
    }
  })
}

// ---------------------------------------------------------------------------------------------------------------
// The oracle must catch broken codecs: deliberately wrong structs, built with schema.ts as an API module would be.

function failureOf(fn: () => void): string {
  try {
    fn()
  } catch (e) {
    let text = ''
    for (let x: unknown = e; x instanceof Error; x = x.cause) text += `${x.message}\n`
    return text
  }
  return 'no failure'
}

function mutantCase(schemaName: string, version: number, struct: SkiffStruct): Case {
  const schema = schemas.byName.get(schemaName)!
  const flexible = has(schema.flexibleVersions, version)
  const implemented = schema.validVersions
  return {
    label: `mutant ${schemaName} v${version}`,
    schema,
    version,
    flexible,
    skiffFlexible: flexible,
    struct,
    implemented,
  }
}

describe('the oracle catches broken codecs', () => {
  const result = (shape: Record<string, any>) =>
    struct('DeleteTopicsResponse', {
      throttleTimeMs: field(int32, { versions: '1+', ignorable: true }),
      responses: array(struct('DeletableTopicResult', shape)),
    }) as unknown as SkiffStruct
  const good = {
    name: field(string, { nullable: '6+' }),
    topicId: field(uuid, { versions: '6+', ignorable: true }),
    errorCode: int16,
    errorMessage: field(string, { versions: '5+', nullable: '5+', default: null, ignorable: true }),
  }

  it('passes the correct struct', () => {
    for (const v of [1, 4, 5, 6]) runCase(mutantCase('DeleteTopicsResponse', v, result(good)))
  })

  it('names a field the codec forgot', () => {
    const { errorMessage: _, ...forgot } = good
    expect(failureOf(() => runCase(mutantCase('DeleteTopicsResponse', 5, result(forgot))))).toMatch(
      /Responses\[\]\.ErrorMessage: MISSING/,
    )
  })

  it('names a field the schema does not have', () => {
    const extra = { ...good, bogus: field(int32, { versions: '0+' }) }
    expect(failureOf(() => runCase(mutantCase('DeleteTopicsResponse', 5, result(extra))))).toMatch(
      /Responses\[\]\.bogus: EXTRA/,
    )
  })

  it('catches a wrong default for a field absent at the version', () => {
    const wrong = { ...good, errorMessage: field(string, { versions: '5+', nullable: '5+', ignorable: true }) }
    expect(failureOf(() => runCase(mutantCase('DeleteTopicsResponse', 4, result(wrong))))).toMatch(
      /ErrorMessage \(absent in v4, must decode to the schema default\): oracle null, Skiff ""/,
    )
  })

  it('catches a field declared in the wrong versions', () => {
    const early = { ...good, topicId: field(uuid, { versions: '5+', ignorable: true }) }
    expect(failureOf(() => runCase(mutantCase('DeleteTopicsResponse', 5, result(early))))).toMatch(
      /DeleteTopicsResponse v5/,
    )
  })

  it('catches a request field that would be silently dropped at a version without it', () => {
    const state = struct('DeleteTopicState', {
      name: field(string, { versions: '6+', nullable: '6+', default: null }),
      topicId: field(uuid, { versions: '6+' }),
    })
    const request = (topicsIgnorable: boolean) =>
      struct('DeleteTopicsRequest', {
        topics: field(array(state), { versions: '6+', ignorable: topicsIgnorable }),
        topicNames: field(array(string), { versions: '0-5', ignorable: true }),
        timeoutMs: int32,
      }) as unknown as SkiffStruct
    const c = (ignorable: boolean) => ({
      ...mutantCase('DeleteTopicsRequest', 5, request(ignorable)),
      implemented: { lo: 1, hi: 6 },
    })
    expect(failureOf(() => runCase(c(false)))).toBe('no failure')
    expect(failureOf(() => runCase(c(true)))).toMatch(/Topics \(versions 6\+\) set in v5: Skiff silently dropped it/)
  })

  it('catches a wrong tag number', () => {
    const response = struct('ApiVersionsResponse', {
      errorCode: int16,
      apiKeys: array(struct('ApiVersion', { apiKey: int16, minVersion: int16, maxVersion: int16 })),
      throttleTimeMs: field(int32, { versions: '1+', ignorable: true }),
      supportedFeatures: field(
        array(struct('SupportedFeatureKey', { name: string, minVersion: int16, maxVersion: int16 })),
        {
          versions: '3+',
          tag: 0,
        },
      ),
      finalizedFeaturesEpoch: field(int64, { versions: '3+', tag: 1, default: -1n }),
      finalizedFeatures: field(
        array(struct('FinalizedFeatureKey', { name: string, maxVersionLevel: int16, minVersionLevel: int16 })),
        { versions: '3+', tag: 2 },
      ),
      zkMigrationReady: field(bool, { versions: '3+', tag: 4, default: false }),
    }) as unknown as SkiffStruct
    expect(failureOf(() => runCase(mutantCase('ApiVersionsResponse', 3, response)))).toMatch(/zkMigrationReady/i)
  })

  it('catches wrong flexible versions', () => {
    const api = defineApi({
      key: 20,
      name: 'DeleteTopics',
      versions: '1-6',
      flexibleVersions: '5+',
      request: struct('DeleteTopicsRequest', {}),
      response: struct('DeleteTopicsResponse', {}),
    })
    const { request, response } = schemas.byApiKey.get(20)!
    expect(failureOf(() => checkApiMatchesSchema(api, request, response))).toMatch(/v4 flexible: Skiff false/)
  })
})
