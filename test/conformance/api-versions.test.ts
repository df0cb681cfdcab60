import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Connection } from '../../src/client/connection.js'
import { negotiateVersion } from '../../src/client/versions.js'
import { ApiVersions } from '../../src/protocol/apis/api-versions.js'
import { ALL_APIS } from '../../src/protocol/apis/index.js'
import { UnsupportedVersionError } from '../../src/protocol/errors.js'
import { formatRange } from '../../src/protocol/versions.js'
import { connectTestBroker, testKafka } from '../helpers/kafka.js'

/**
 * APIs a broker may legitimately not enable: KIP-848's consumer group APIs. (A default 3.9 broker even lists
 * ConsumerGroupHeartbeat v0 but answers UNSUPPORTED_VERSION while the `group.version` feature is 0; see
 * groups.test.ts.) Anything else missing is a failure.
 */
const OPTIONAL_APIS = new Set(['ConsumerGroupHeartbeat', 'ConsumerGroupDescribe'])

describe(`ApiVersions against Kafka ${testKafka().version}`, () => {
  let conn: Connection
  beforeAll(async () => {
    conn = await connectTestBroker()
  })
  afterAll(async () => {
    await conn?.close()
  })

  test('the broker answers with its API ranges and finalized features', () => {
    expect(conn.apiVersions.size).toBeGreaterThan(40)
    const fetch = conn.apiVersions.get(1)!
    expect(fetch.max).toBeGreaterThanOrEqual(12)
    expect(conn.finalizedFeatures.get('metadata.version')).toBeGreaterThan(0)
  })

  test('every API Skiff implements overlaps the broker range, and the negotiated version is the highest common one', () => {
    const report: string[] = []
    const missing: string[] = []
    for (const api of ALL_APIS) {
      const broker = conn.apiVersions.get(api.key)
      if (!broker) {
        missing.push(api.name)
        report.push(`${api.name}: not offered by the broker (Skiff ${formatRange(api.versions)})`)
        continue
      }
      const v = conn.versionFor(api)
      expect(v, api.name).toBe(Math.min(api.versions.max, broker.max))
      expect(v, api.name).toBeGreaterThanOrEqual(Math.max(api.versions.min, broker.min))
      report.push(`${api.name}: broker ${broker.min}-${broker.max}, Skiff ${formatRange(api.versions)} -> v${v}`)
    }
    process.stderr.write(`[skiff] API negotiation with Kafka ${testKafka().version}:\n  ${report.join('\n  ')}\n`)
    expect(missing.filter((name) => !OPTIONAL_APIS.has(name))).toEqual([])
  })

  test('no overlap is a clear error naming the API and both ranges', () => {
    const fetch = ALL_APIS.find((a) => a.name === 'Fetch')!
    let err: unknown
    try {
      negotiateVersion(fetch, { min: 0, max: 3 }, '127.0.0.1:9092')
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(UnsupportedVersionError)
    expect((err as Error).message).toBe(
      `no common version of Fetch (api key 1): broker 127.0.0.1:9092 supports 0-3, Skiff speaks ${formatRange(fetch.versions)}`,
    )
    expect(() => negotiateVersion(fetch, undefined, 'b:1')).toThrow(/does not offer Fetch/)
  })

  test('a version the broker does not know falls back through its v0 answer (KIP-511)', async () => {
    const brokerMax = conn.apiVersions.get(ApiVersions.key)!.max
    const tooNew = brokerMax + 1
    const { version, rejected, response } = await conn.exchangeApiVersions({ startVersion: tooNew })
    expect(rejected).toEqual([tooNew])
    expect(version).toBe(Math.min(brokerMax, ApiVersions.versions.max))
    expect(response.errorCode).toBe(0)
    expect(response.apiKeys.length).toBe(conn.apiVersions.size)
  })

  test('every ApiVersions version the broker accepts decodes to the same API table', async () => {
    const broker = conn.apiVersions.get(ApiVersions.key)!
    for (
      let v = Math.max(broker.min, ApiVersions.versions.min);
      v <= Math.min(broker.max, ApiVersions.versions.max);
      v++
    ) {
      const res = await conn.request(
        ApiVersions,
        { clientSoftwareName: 'skiff', clientSoftwareVersion: '0.1.0' },
        { version: v },
      )
      expect(res.errorCode, `v${v}`).toBe(0)
      const table = new Map(res.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]))
      for (const [key, range] of conn.apiVersions)
        expect(table.get(key), `v${v} key ${key}`).toEqual([range.min, range.max])
      if (v >= 3) expect(res.finalizedFeatures.length, `v${v}`).toBeGreaterThan(0)
    }
  })
})
