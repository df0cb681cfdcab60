/**
 * Question: how fast do we decode a Fetch response carrying 100k records, and encode the Produce request(s) of the
 * same records, compared with the codecs inside kafkajs and @platformatic/kafka? No broker, no sockets: codecs only.
 *
 *   npx tsx bench/protocol.ts                    # both shapes, decode and encode (a few minutes on 2 cores)
 *   npx tsx bench/protocol.ts --quick            # fewer iterations: a smoke run
 *   npx tsx bench/protocol.ts --shape=1kib --task=decode --iterations=30
 *   npx tsx bench/protocol.ts --child=decode:skiff-crc-on:1kib --iterations=20 --profile=/tmp/skiff.cpuprofile
 *
 * Same bytes, same work:
 * - One record set per shape (Skiff's encoder writes it: 4 partitions x 25 batches x 1000 records, as a broker
 *   returns them), wrapped in a Fetch v17 response for Skiff and @platformatic/kafka (its newest Fetch) and in a
 *   Fetch v11 response for kafkajs (its newest; platformatic speaks v12+ only, so no single version fits all three).
 *   The record-set bytes are identical in both frames (checked); the envelopes differ by a few bytes per partition.
 *   The "skiff (crc off, v11 frame)" row decodes the kafkajs frame, to show the envelope does not matter.
 * - Before timing, every client's decoded records are compared in full with the records that were encoded (count,
 *   offset, timestamp, key, value, headers), and every client's Produce request is decoded back (with Skiff's
 *   decoder, CRC verified) and compared in full with the input records.
 * - Each timed decode walks every record and folds offset, timestamp, key, value and header sizes into a checksum that
 *   must equal the same checksum for every client; a lazy decode nobody walks would not count. Values are converted to
 *   numbers where a client hands out strings (kafkajs offsets/timestamps) or bigints (platformatic), which is the
 *   least a consumer does with them; platformatic's offset/timestamp are computed from its batch base + deltas exactly
 *   as its consumer stream does (firstOffset + BigInt(offsetDelta), firstTimestamp + timestampDelta).
 * - Encode: 25 Produce requests, each with one 1000-record batch for each of the 4 partitions, built from inputs
 *   already in each client's native message shape (Buffers; Maps/bigints for platformatic), up to the bytes its
 *   connection would write to the socket (the whole frame, size prefix included).
 *
 * Method: each client runs in its own child process (`--child=task:client:shape`), so no client runs on code another
 * client's workload has shaped in the JIT (shared Buffer/TypedArray builtins, megamorphic inline caches) and none
 * inherits another's heap. Decoding children read the frames from files the parent wrote, as a consumer's bytes
 * come from a socket (see runChild for why they do not build them). All of a table's children are started one after
 * another (each loads its data and warms up alone), then the parent gives them turns, round-robin, starting with a
 * different client each time: a turn is one untimed iteration (see runChild) and 3 timed ones. Only one child works
 * at any moment, and load from elsewhere on the machine (this
 * 2-core box is shared) lands on every client alike instead of on whoever was running during it. Each iteration
 * is timed with process.hrtime.bigint after a gc(), so it is not charged for the previous one's garbage. Rates come
 * from the median; the best iteration is shown too, as on a busy machine it is the better estimate of the cost of
 * the code itself. MB = 10^6 bytes of wire frame (each client's own frame; they differ by a few bytes).
 *
 * `--profile=FILE` (with `--child=...`, run by hand) records a V8 CPU profile of the timed iterations only and
 * prints the top self-time functions.
 */
import { execFileSync, fork } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  Reader as PlatformaticReader,
  Writer as PlatformaticWriter,
  fetchV17 as platformaticFetchV17,
  produceV11 as platformaticProduceV11,
} from '@platformatic/kafka'
import { Fetch } from '../src/protocol/apis/fetch.js'
import { Produce } from '../src/protocol/apis/produce.js'
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '../src/protocol/frame.js'
import { encodeRecordBatch, type KafkaRecord, RecordBatch, readRecordSet } from '../src/protocol/records/index.js'

const require = createRequire(import.meta.url)

// ---------------------------------------------------------------------------------------------------------------
// kafkajs internals (CommonJS, untyped): the Fetch v11 response decoder (which decodes record batches with
// src/protocol/recordBatch/v0/decoder.js), the Produce v7 request and the request framer its connection uses.

interface KafkajsRecord {
  offset: string
  timestamp: string
  key: Buffer | null
  value: Buffer | null
  headers: Record<string, Buffer | Buffer[] | null>
}
interface KafkajsFetchResponse {
  responses: Array<{ topicName: string; partitions: Array<{ partition: number; messages: KafkajsRecord[] }> }>
}
interface KafkajsMessage {
  key: Buffer
  value: Buffer
  headers: Record<string, Buffer>
  timestamp: number
}
const kafkajsFetchV11 = require('kafkajs/src/protocol/requests/fetch/v11/response.js') as {
  decode(payload: Buffer): Promise<unknown>
  parse(decoded: unknown): Promise<KafkajsFetchResponse>
}
const kafkajsProduceV7 = require('kafkajs/src/protocol/requests/produce/v7/request.js') as (args: {
  acks: number
  timeout: number
  compression: number
  topicData: Array<{ topic: string; partitions: Array<{ partition: number; messages: KafkajsMessage[] }> }>
}) => unknown
const kafkajsFrameRequest = require('kafkajs/src/protocol/request.js') as (args: {
  correlationId: number
  clientId: string
  request: unknown
}) => Promise<{ buffer: Buffer }>

type PlatformaticMessage = Parameters<typeof platformaticProduceV11.createRequest>[2][number]

// ---------------------------------------------------------------------------------------------------------------
// The data

interface Shape {
  id: string
  label: string
  valueBytes: number
}
const SHAPES: Shape[] = [
  { id: '1kib', label: '1 KiB value', valueBytes: 1024 },
  { id: '100b', label: '100 B value', valueBytes: 100 },
]
const RECORDS = 100_000
const MB = 1e6
const PARTITIONS = 4
const BATCH_RECORDS = 1000
const PER_PARTITION = RECORDS / PARTITIONS
const BATCHES_PER_PARTITION = PER_PARTITION / BATCH_RECORDS
/** Offsets past 2^32, as on a long-lived topic, so nobody gets away with 32-bit offset arithmetic. */
const OFFSET_BASE = 5_000_000_000
const T0 = 1_750_000_000_000
const TOPIC = 'bench-topic'
const TOPIC_ID = 'yVSgHhOUQmmtOpqyZt3Q7A'
const HEADER_KEY = 'traceparent'
const FETCH_VERSION = 17
const KAFKAJS_FETCH_VERSION = 11
const PRODUCE_VERSION = 11
const CLIENT_ID = 'bench'

interface InputRecord {
  partition: number
  offset: number
  timestamp: number
  key: Buffer
  value: Buffer
  headerValue: Buffer
}

/** Deterministic (mulberry32), so every child process rebuilds exactly the bytes the parent checked. */
function randomBytes(n: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(n)
  let s = seed >>> 0
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    out[i] = (t ^ (t >>> 14)) & 0xff
  }
  return out
}

/** Record i goes to partition floor(i / 25000); keys are 16 ASCII bytes, values views into a random pool. */
function makeRecords(shape: Shape): InputRecord[] {
  const pool = randomBytes(4 * 1024 * 1024, 0x5eed)
  const out = new Array<InputRecord>(RECORDS)
  for (let i = 0; i < RECORDS; i++) {
    const partition = Math.floor(i / PER_PARTITION)
    const at = (i * 7919) % (pool.length - shape.valueBytes - 16)
    out[i] = {
      partition,
      offset: OFFSET_BASE + partition * 1_000_000 + (i % PER_PARTITION),
      timestamp: T0 + i,
      key: Buffer.from(`key-${String(i).padStart(12, '0')}`),
      value: pool.subarray(at, at + shape.valueBytes),
      headerValue: pool.subarray(at + 3, at + 19),
    }
  }
  return out
}

interface Fixture {
  records: InputRecord[]
  /** Fetch v17 response frame without its size prefix, as a connection hands it to the decoder. */
  frame: Buffer
  /** The same record sets in a Fetch v11 response frame (kafkajs). */
  frameV11: Buffer
  recordSets: Buffer[]
}

function buildFixture(shape: Shape): Fixture {
  const records = makeRecords(shape)
  const recordSets: Buffer[] = []
  for (let p = 0; p < PARTITIONS; p++) {
    const batches: Buffer[] = []
    for (let b = 0; b < BATCHES_PER_PARTITION; b++) {
      const first = p * PER_PARTITION + b * BATCH_RECORDS
      const slice = records.slice(first, first + BATCH_RECORDS)
      batches.push(
        encodeRecordBatch({
          baseOffset: slice[0]!.offset,
          partitionLeaderEpoch: 7,
          compression: 0,
          records: slice.map((r) => ({
            key: r.key,
            value: r.value,
            headers: [{ key: HEADER_KEY, value: r.headerValue }],
            timestamp: r.timestamp,
          })),
        }),
      )
    }
    recordSets.push(Buffer.concat(batches))
  }
  const body = () => ({
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [
      {
        topic: TOPIC,
        topicId: TOPIC_ID,
        partitions: recordSets.map((set, p) => ({
          partitionIndex: p,
          errorCode: 0,
          highWatermark: BigInt(records[(p + 1) * PER_PARTITION - 1]!.offset + 1),
          lastStableOffset: BigInt(records[(p + 1) * PER_PARTITION - 1]!.offset + 1),
          logStartOffset: BigInt(OFFSET_BASE),
          abortedTransactions: null,
          preferredReadReplica: -1,
          records: set,
        })),
      },
    ],
  })
  // encodeResponse returns a view into its writer; copy out so the frame owns exactly its bytes.
  const frame = Buffer.from(encodeResponse(Fetch, FETCH_VERSION, 42, body()).subarray(4))
  const frameV11 = Buffer.from(encodeResponse(Fetch, KAFKAJS_FETCH_VERSION, 42, body()).subarray(4))
  return { records, frame, frameV11, recordSets }
}

function writeFrames(dir: string, fx: Fixture, shapeId: string): void {
  writeFileSync(join(dir, `${shapeId}-fetch-v${FETCH_VERSION}.bin`), fx.frame)
  writeFileSync(join(dir, `${shapeId}-fetch-v${KAFKAJS_FETCH_VERSION}.bin`), fx.frameV11)
}

function readFrame(dir: string, shapeId: string, version: number): Buffer {
  return readFileSync(join(dir, `${shapeId}-fetch-v${version}.bin`))
}

/** For a child run by hand: has a short-lived process build and write the frames; returns their directory. */
function writeFramesElsewhere(shapeId: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-bench-'))
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--cpu-prof'))
  execFileSync(
    process.execPath,
    [...execArgv, fileURLToPath(import.meta.url), `--write-frames=${dir}`, `--shape=${shapeId}`],
    {
      stdio: 'inherit',
    },
  )
  return dir
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding: every client decodes the whole response and walks every record.

/** What a walk over all records folds together; equal for every client that decoded the same records. */
class Checksum {
  count = 0
  offsets = 0
  timestamps = 0
  bytes = 0
  toString(): string {
    return `${this.count} records, Σoffset ${this.offsets}, Σ(ts-T0) ${this.timestamps}, ${this.bytes} key/value/header bytes`
  }
}

type DecodeClient = 'skiff-crc-off' | 'skiff-crc-on' | 'skiff-v11' | 'platformatic' | 'kafkajs'
const DECODE_LABELS: Record<DecodeClient, string> = {
  'skiff-crc-off': 'skiff (crc off)',
  'skiff-crc-on': 'skiff (crc on)',
  'skiff-v11': 'skiff (crc off, v11 frame)',
  platformatic: '@platformatic/kafka',
  kafkajs: 'kafkajs',
}
const DECODE_CLIENTS = Object.keys(DECODE_LABELS) as DecodeClient[]
const PEERS = new Set(['platformatic', 'kafkajs'])

function skiffDecode(frame: Buffer, version: number, verifyCrc: boolean, c: Checksum, keep?: KafkaRecord[]): void {
  const res = decodeResponse(Fetch, version, frame)
  for (const topic of res.responses) {
    for (const p of topic.partitions) {
      const set = readRecordSet(p.records, { topic: topic.topic, partition: p.partitionIndex })
      for (const batch of set.batches) {
        if (!(batch instanceof RecordBatch)) throw new Error('unexpected legacy message set')
        if (verifyCrc) batch.verifyCrc()
        const recs = batch.records()
        for (let i = 0; i < recs.length; i++) {
          const r = recs[i]!
          c.count++
          c.offsets += r.offset
          c.timestamps += r.timestamp - T0
          c.bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0)
          const hs = r.headers
          for (let h = 0; h < hs.length; h++) c.bytes += hs[h]!.key.length + (hs[h]!.value?.length ?? 0)
        }
        if (keep) for (const r of recs) keep.push(r)
      }
    }
  }
}

interface PlatformaticRecordOut {
  offset: bigint
  timestamp: bigint
  key: Buffer | null
  value: Buffer | null
  headers: Array<[Buffer | null, Buffer | null]>
}

/**
 * As @platformatic/kafka's Connection does: read the correlation id, skip the (empty) response header tagged
 * fields, hand a Reader over the rest to fetch-v17's parseResponse, which runs readRecordsBatches/readRecord.
 * Its consumer stream then derives each record's offset and timestamp from the batch; we do the same.
 */
function platformaticDecode(frame: Buffer, c: Checksum, keep?: PlatformaticRecordOut[]): void {
  const correlationId = frame.readInt32BE(0)
  const res = platformaticFetchV17.parseResponse(correlationId, 1, 17, PlatformaticReader.from(frame.subarray(5)))
  for (const topic of res.responses) {
    for (const p of topic.partitions) {
      if (!p.records) continue
      for (const batch of p.records) {
        const firstOffset = batch.firstOffset
        const firstTimestamp = batch.firstTimestamp
        const recs = batch.records
        for (let i = 0; i < recs.length; i++) {
          const r = recs[i]!
          const offset = firstOffset + BigInt(r.offsetDelta)
          const timestamp = firstTimestamp + r.timestampDelta
          c.count++
          c.offsets += Number(offset)
          c.timestamps += Number(timestamp) - T0
          c.bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0)
          const hs = r.headers as unknown as Array<[Buffer | null, Buffer | null]>
          for (let h = 0; h < hs.length; h++) c.bytes += (hs[h]![0]?.length ?? 0) + (hs[h]![1]?.length ?? 0)
          if (keep) keep.push({ offset, timestamp, key: r.key ?? null, value: r.value ?? null, headers: hs })
        }
      }
    }
  }
}

/** As kafkajs's Connection does: strip the correlation id, decode, then parse (error checks). */
async function kafkajsDecode(frameV11: Buffer, c: Checksum, keep?: KafkajsRecord[]): Promise<void> {
  const decoded = await kafkajsFetchV11.decode(frameV11.subarray(4))
  const res = await kafkajsFetchV11.parse(decoded)
  for (const topic of res.responses) {
    for (const p of topic.partitions) {
      const recs = p.messages
      for (let i = 0; i < recs.length; i++) {
        const r = recs[i]!
        c.count++
        c.offsets += Number(r.offset)
        c.timestamps += Number(r.timestamp) - T0
        c.bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0)
        const hs = r.headers
        for (const k in hs) {
          const v = hs[k]
          if (Array.isArray(v)) for (const x of v) c.bytes += k.length + x.length
          else c.bytes += k.length + (v?.length ?? 0)
        }
      }
      if (keep) for (const r of recs) keep.push(r)
    }
  }
}

/** The Fetch version whose frame a client decodes. */
function fetchVersionOf(client: DecodeClient): number {
  return client === 'kafkajs' || client === 'skiff-v11' ? KAFKAJS_FETCH_VERSION : FETCH_VERSION
}

async function decodeOnce(client: DecodeClient, frame: Buffer): Promise<Checksum> {
  const c = new Checksum()
  if (client === 'skiff-crc-off') skiffDecode(frame, FETCH_VERSION, false, c)
  else if (client === 'skiff-crc-on') skiffDecode(frame, FETCH_VERSION, true, c)
  else if (client === 'skiff-v11') skiffDecode(frame, KAFKAJS_FETCH_VERSION, false, c)
  else if (client === 'platformatic') platformaticDecode(frame, c)
  else await kafkajsDecode(frame, c)
  return c
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding: 25 Produce requests x 4 partitions x one 1000-record batch, each client from its native inputs.

type EncodeClient = 'skiff' | 'platformatic' | 'kafkajs'
const ENCODE_LABELS: Record<EncodeClient, string> = {
  skiff: 'skiff',
  platformatic: '@platformatic/kafka',
  kafkajs: 'kafkajs',
}
const ENCODE_CLIENTS = Object.keys(ENCODE_LABELS) as EncodeClient[]
const REQUESTS = BATCHES_PER_PARTITION

/** requests[r][p] = the records of partition p in request r. */
function groupForProduce<T>(records: InputRecord[], map: (r: InputRecord) => T): T[][][] {
  const out: T[][][] = []
  for (let r = 0; r < REQUESTS; r++) {
    const parts: T[][] = []
    for (let p = 0; p < PARTITIONS; p++) {
      const first = p * PER_PARTITION + r * BATCH_RECORDS
      parts.push(records.slice(first, first + BATCH_RECORDS).map(map))
    }
    out.push(parts)
  }
  return out
}

type Encoder = () => Promise<Buffer[]>

function makeEncoder(client: EncodeClient, records: InputRecord[]): Encoder {
  if (client === 'skiff') {
    const inputs = groupForProduce(records, (r) => ({
      key: r.key,
      value: r.value,
      headers: [{ key: HEADER_KEY, value: r.headerValue }],
      timestamp: r.timestamp,
    }))
    return async () =>
      inputs.map((parts, i) =>
        encodeRequest(Produce, PRODUCE_VERSION, i, CLIENT_ID, {
          transactionalId: null,
          acks: -1,
          timeoutMs: 30_000,
          topicData: [
            {
              name: TOPIC,
              partitionData: parts.map((recs, p) => ({
                index: p,
                records: encodeRecordBatch({ records: recs, compression: 0 }),
              })),
            },
          ],
        }),
      )
  }
  if (client === 'platformatic') {
    // createRequest groups a flat message list by topic and partition: one batch per partition, as its producer sends.
    const inputs = groupForProduce(
      records,
      (r): PlatformaticMessage => ({
        topic: TOPIC,
        partition: r.partition,
        key: r.key,
        value: r.value,
        headers: new Map([[Buffer.from(HEADER_KEY), r.headerValue]]),
        timestamp: BigInt(r.timestamp),
      }),
    ).map((parts) => parts.flat())
    // As Connection.send: header (v2), then the payload, then the size prefix; `.buffer` is what it writes.
    return async () =>
      inputs.map((messages, i) => {
        const w = PlatformaticWriter.create()
        w.appendInt16(0).appendInt16(PRODUCE_VERSION).appendInt32(i).appendString(CLIENT_ID, false)
        w.appendTaggedFields()
        w.appendFrom(platformaticProduceV11.createRequest(-1, 30_000, messages, {})).prependLength()
        return w.buffer
      })
  }
  const inputs = groupForProduce(
    records,
    (r): KafkajsMessage => ({
      key: r.key,
      value: r.value,
      headers: { [HEADER_KEY]: r.headerValue },
      timestamp: r.timestamp,
    }),
  )
  return async () => {
    const out: Buffer[] = []
    for (let i = 0; i < inputs.length; i++) {
      const request = kafkajsProduceV7({
        acks: -1,
        timeout: 30_000,
        compression: 0,
        topicData: [{ topic: TOPIC, partitions: inputs[i]!.map((messages, p) => ({ partition: p, messages })) }],
      })
      out.push((await kafkajsFrameRequest({ correlationId: i, clientId: CLIENT_ID, request })).buffer)
    }
    return out
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Correctness, checked once per shape before anything is timed.

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`correctness check failed: ${what}`)
}

function sameBytes(a: Buffer | null | undefined, b: Buffer | null | undefined): boolean {
  return a != null && b != null && a.equals(b)
}

interface Findings {
  decodeChecksum: string
  notes: string[]
}

async function verify(fx: Fixture): Promise<Findings> {
  const notes: string[] = []
  const exp = fx.records
  // The record-set bytes inside both envelopes are the same bytes.
  const total = fx.recordSets.reduce((n, s) => n + s.length, 0)
  for (const set of fx.recordSets) {
    check(fx.frame.indexOf(set) >= 0 && fx.frameV11.indexOf(set) >= 0, 'record set present verbatim in both frames')
  }
  check(fx.frame.length - total < 512 && fx.frameV11.length - total < 512, 'envelopes are small')

  // Skiff
  const sk: KafkaRecord[] = []
  const cs = new Checksum()
  skiffDecode(fx.frame, FETCH_VERSION, true, cs, sk)
  check(sk.length === exp.length, `skiff decoded ${sk.length} records, expected ${exp.length}`)
  for (let i = 0; i < exp.length; i++) {
    const e = exp[i]!
    const r = sk[i]!
    check(r.offset === e.offset && r.timestamp === e.timestamp, `skiff offset/timestamp of record ${i}`)
    check(sameBytes(r.key, e.key) && sameBytes(r.value, e.value), `skiff key/value of record ${i}`)
    check(r.headers.length === 1 && r.headers[0]!.key === HEADER_KEY, `skiff header key of record ${i}`)
    check(sameBytes(r.headers[0]!.value, e.headerValue), `skiff header value of record ${i}`)
  }
  const c11 = new Checksum()
  skiffDecode(fx.frameV11, KAFKAJS_FETCH_VERSION, true, c11)
  check(c11.toString() === cs.toString(), 'skiff reads the v11 and v17 frames alike')

  // @platformatic/kafka
  const pk: PlatformaticRecordOut[] = []
  const cp = new Checksum()
  platformaticDecode(fx.frame, cp, pk)
  check(pk.length === exp.length, `platformatic decoded ${pk.length} records, expected ${exp.length}`)
  for (let i = 0; i < exp.length; i++) {
    const e = exp[i]!
    const r = pk[i]!
    check(r.offset === BigInt(e.offset) && r.timestamp === BigInt(e.timestamp), `platformatic offset/timestamp of ${i}`)
    check(sameBytes(r.key, e.key) && sameBytes(r.value, e.value), `platformatic key/value of record ${i}`)
    check(r.headers.length === 1 && r.headers[0]![0]?.toString() === HEADER_KEY, `platformatic header key of ${i}`)
    check(sameBytes(r.headers[0]![1], e.headerValue), `platformatic header value of record ${i}`)
  }
  check(cp.toString() === cs.toString(), `platformatic checksum ${cp} vs skiff ${cs}`)

  // kafkajs
  const kj: KafkajsRecord[] = []
  const ck = new Checksum()
  await kafkajsDecode(fx.frameV11, ck, kj)
  check(kj.length === exp.length, `kafkajs decoded ${kj.length} records, expected ${exp.length}`)
  for (let i = 0; i < exp.length; i++) {
    const e = exp[i]!
    const r = kj[i]!
    check(r.offset === String(e.offset) && r.timestamp === String(e.timestamp), `kafkajs offset/timestamp of ${i}`)
    check(sameBytes(r.key, e.key) && sameBytes(r.value, e.value), `kafkajs key/value of record ${i}`)
    const hv = r.headers[HEADER_KEY]
    check(Object.keys(r.headers).length === 1 && Buffer.isBuffer(hv) && hv.equals(e.headerValue), `kafkajs header ${i}`)
  }
  check(ck.toString() === cs.toString(), `kafkajs checksum ${ck} vs skiff ${cs}`)

  // CRC: flip one byte inside the first batch's records; who notices?
  const bad = Buffer.from(fx.frame)
  const at = bad.indexOf(fx.recordSets[0]!) + 61 + 500
  bad[at] = bad[at]! ^ 0xff
  const badV11 = Buffer.from(fx.frameV11)
  const at11 = badV11.indexOf(fx.recordSets[0]!) + 61 + 500
  badV11[at11] = badV11[at11]! ^ 0xff
  const caught = async (f: () => unknown) => {
    try {
      await f()
      return false
    } catch {
      return true
    }
  }
  const skiffCatches = await caught(() => skiffDecode(bad, FETCH_VERSION, true, new Checksum()))
  const skiffOffCatches = await caught(() => skiffDecode(bad, FETCH_VERSION, false, new Checksum()))
  const platformaticCatches = await caught(() => platformaticDecode(bad, new Checksum()))
  const kafkajsCatches = await caught(() => kafkajsDecode(badV11, new Checksum()))
  check(skiffCatches, 'skiff with CRC verification rejects a flipped byte')
  notes.push(
    `CRC-32C of fetched batches: skiff (crc on) ${skiffCatches ? 'rejects' : 'accepts'} a batch with one flipped ` +
      `value byte; skiff (crc off) ${skiffOffCatches ? 'rejects' : 'accepts'} it; @platformatic/kafka ` +
      `${platformaticCatches ? 'rejects' : 'accepts'} it; kafkajs ${kafkajsCatches ? 'rejects' : 'accepts'} it.`,
  )

  // Produce requests: decode every client's frames back with Skiff's decoder (CRC verified), compare with the inputs.
  for (const client of ENCODE_CLIENTS) {
    const frames = await makeEncoder(client, fx.records)()
    check(frames.length === REQUESTS, `${client} produced ${frames.length} requests`)
    let n = 0
    const headerNotes = new Set<string>()
    for (let r = 0; r < frames.length; r++) {
      const f = frames[r]!
      check(f.readInt32BE(0) === f.length - 4, `${client} request ${r} size prefix`)
      const { header, body } = decodeRequest(Produce, f.subarray(4))
      check(header.correlationId === r && header.clientId === CLIENT_ID, `${client} request ${r} header`)
      check(body.acks === -1 && body.topicData.length === 1, `${client} request ${r} acks/topics`)
      const parts = body.topicData[0]!.partitionData
      check(parts.length === PARTITIONS, `${client} request ${r} partitions`)
      for (const pd of parts) {
        const set = readRecordSet(pd.records)
        check(set.batches.length === 1 && set.partialBytes === 0, `${client} request ${r} one batch per partition`)
        const batch = set.batches[0]!
        check(batch instanceof RecordBatch, `${client} writes v2 batches`)
        const b = batch as RecordBatch
        check(b.crcMatches(), `${client} request ${r} partition ${pd.index}: CRC-32C matches`)
        headerNotes.add(
          `partitionLeaderEpoch ${b.partitionLeaderEpoch}, producerId ${b.producerId}, producerEpoch ${b.producerEpoch}, ` +
            `baseSequence ${b.baseSequence}`,
        )
        const recs = b.records()
        check(recs.length === BATCH_RECORDS, `${client} batch record count`)
        for (let i = 0; i < recs.length; i++) {
          const e = fx.records[pd.index * PER_PARTITION + r * BATCH_RECORDS + i]!
          const x = recs[i]!
          check(x.offset === i && x.timestamp === e.timestamp, `${client} record offset/timestamp`)
          check(sameBytes(x.key, e.key) && sameBytes(x.value, e.value), `${client} record key/value`)
          check(x.headers.length === 1 && x.headers[0]!.key === HEADER_KEY, `${client} header key`)
          check(sameBytes(x.headers[0]!.value, e.headerValue), `${client} header value`)
          n++
        }
      }
    }
    check(n === RECORDS, `${client} encoded ${n} records`)
    notes.push(`${ENCODE_LABELS[client]} produce batches: ${[...headerNotes].join('; ')}`)
  }
  return { decodeChecksum: cs.toString(), notes }
}

// ---------------------------------------------------------------------------------------------------------------
// Child: warm up, then time iterations of one client on one shape.

/** A turn: one untimed iteration, then `timed` timed ones back to back. */
type ToChild = { type: 'run'; timed: number } | { type: 'exit' }
/**
 * ns: wall time (hrtime); cpuNs: CPU time of the whole process (all threads, so GC helpers count) meanwhile;
 * heapGrowth: V8 heap bytes in use after the iteration minus before it (just after a full GC). The young generation
 * holds at most 16 MiB of garbage, so growth well beyond that means short-lived objects were promoted to the old
 * generation (see the table footer on pretenuring).
 */
interface Sample {
  ns: number
  cpuNs: number
  heapGrowth: number
  checksum: string
  bytes: number
}
type FromChild = { type: 'ready' } | { type: 'samples'; samples: Sample[] }

/**
 * One client on one shape, in its own process. Loads or builds its data, warms up, then runs a turn per 'run'
 * message from the parent (so the parent can interleave clients turn by turn). Each turn starts with an untimed
 * iteration: after sitting idle while the other clients ran, the first iteration costs 2-3x the CPU of the next
 * ones (measured with process.cpuUsage; not V8's memory reducer, --no-memory-reducer does not change it), which is
 * the cost of having been idle, not of the codec. Run by hand (no IPC channel), it times `iterations` in a row and
 * prints them, optionally under the CPU profiler.
 */
async function runChild(
  task: 'decode' | 'encode',
  client: string,
  shapeId: string,
  warmup: number,
  iterations: number,
  profileFile: string | undefined,
  framesDir: string | undefined,
) {
  const shape = SHAPES.find((s) => s.id === shapeId)
  if (!shape) throw new Error(`unknown shape ${shapeId}`)
  let op: () => Promise<{ checksum: string; bytes: number }>
  if (task === 'decode') {
    const c = client as DecodeClient
    if (!DECODE_CLIENTS.includes(c)) throw new Error(`unknown decode client ${client}`)
    // The frames come from files another process wrote, as a consumer's bytes come from a socket. Building them
    // here instead (100k input records, 300k Buffers, a writer doubling up to 128 MiB) leaves V8 in a state where
    // the decoders' short-lived records get promoted to the old generation: measured 2-3x slower decoding, for
    // every client, that has nothing to do with decoding.
    const frame = readFrame(framesDir ?? writeFramesElsewhere(shape.id), shape.id, fetchVersionOf(c))
    op = async () => ({ checksum: (await decodeOnce(c, frame)).toString(), bytes: frame.length })
  } else {
    const c = client as EncodeClient
    if (!ENCODE_CLIENTS.includes(c)) throw new Error(`unknown encode client ${client}`)
    const encode = makeEncoder(c, makeRecords(shape))
    op = async () => {
      const frames = await encode()
      let bytes = 0
      for (const f of frames) bytes += f.length
      return { checksum: `${frames.length} requests, ${bytes} bytes`, bytes }
    }
  }
  const gc = (globalThis as { gc?: () => void }).gc
  const timed = async (): Promise<Sample> => {
    gc?.() // this iteration is not charged for the garbage of the previous one
    const h0 = process.memoryUsage().heapUsed
    const c0 = process.cpuUsage()
    const t0 = process.hrtime.bigint()
    const r = await op()
    const ns = Number(process.hrtime.bigint() - t0)
    const c = process.cpuUsage(c0)
    const heapGrowth = process.memoryUsage().heapUsed - h0
    return { ns, cpuNs: (c.user + c.system) * 1000, heapGrowth, ...r }
  }
  const turn = async (n: number): Promise<Sample[]> => {
    await op()
    const out: Sample[] = []
    for (let i = 0; i < n; i++) out.push(await timed())
    return out
  }
  for (let i = 0; i < warmup; i++) await op()

  const send = process.send?.bind(process)
  if (send) {
    process.on('message', (m: ToChild) => {
      if (m.type === 'exit') process.disconnect()
      else void turn(m.timed).then((samples) => send({ type: 'samples', samples } satisfies FromChild))
    })
    send({ type: 'ready' } satisfies FromChild)
    return
  }
  // The profiler covers the timed iterations only, not building the fixture or warming up.
  const profiler = profileFile ? await startProfiler() : undefined
  const samples: Sample[] = []
  for (let i = 0; i < iterations; i++) samples.push(await timed())
  if (profiler && profileFile) await profiler.stop(profileFile)
  const ms = samples.map((x) => Math.round(x.ns / 1e5) / 10)
  const med = (f: (x: Sample) => number) => median(samples.map(f))
  console.log(
    `${task} ${client} ${shapeId}: median ${(med((x) => x.ns) / 1e6).toFixed(1)} ms, cpu ${(med((x) => x.cpuNs) / 1e6).toFixed(1)} ms, ` +
      `heap growth ${(med((x) => x.heapGrowth) / MB).toFixed(0)} MB; [${ms.join(', ')}] ms; ${samples[0]!.checksum}`,
  )
}

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** A V8 CPU profile of what runs until stop(), written to a file and summarised as top self-time functions. */
async function startProfiler(): Promise<{ stop(file: string): Promise<void> }> {
  const { Session } = await import('node:inspector/promises')
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 100 })
  await session.post('Profiler.start')
  return {
    async stop(file) {
      const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile }
      session.disconnect()
      writeFileSync(file, JSON.stringify(profile))
      const self = new Map<string, number>()
      const byId = new Map(profile.nodes.map((n) => [n.id, n]))
      let total = 0
      profile.samples.forEach((id, i) => {
        const dt = profile.timeDeltas[i] ?? 0
        const f = byId.get(id)!.callFrame
        const line = f.lineNumber > 0 ? `:${f.lineNumber + 1}` : ''
        const where = f.url ? `${f.url.replace(/^.*\/(node_modules|src|bench)\//, '$1/')}${line}` : ''
        const key = `${f.functionName || '(anonymous)'} ${where}`.trim()
        self.set(key, (self.get(key) ?? 0) + dt)
        total += dt
      })
      console.error(`cpu profile of the timed iterations written to ${file}; top self time:`)
      for (const [fn, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
        console.error(`${((100 * t) / total).toFixed(1).padStart(6)}%  ${fn}`)
      }
    },
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Parent: orchestration and the table.

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

const HEAP_NOTE =
  '  heap+ MB: V8 heap growth over an iteration (median): uncollected young garbage (up to ~16 MB), what the result ' +
  "still holds (kafkajs and platformatic return every record of the response at once; the bench's Skiff walk drops " +
  "each batch's records after it), and short-lived objects promoted to the old generation. A Skiff process with " +
  'heap+ far above 16 MB has had its record allocations pretenured by V8 and decoded 2-5x slower in every iteration ' +
  'we timed ' +
  '(--node-flags=--no-allocation-site-pretenuring rules that out).'

/** Timed iterations per turn (after the turn's untimed one). */
const PER_TURN = 3

interface Worker {
  client: string
  run(timed: number): Promise<Sample[]>
  exit(): void
}

/** Starts a child for one client and resolves once it has built its fixture and warmed up. */
function spawnWorker(task: string, client: string, shape: string, warmup: number, framesDir: string): Promise<Worker> {
  // Children get the parent's loader flags (tsx) but never its profiling flags, plus --expose-gc for the gc() calls.
  const execArgv = [...process.execArgv.filter((a) => !a.startsWith('--cpu-prof')), '--expose-gc', ...nodeFlags()]
  const args = [`--child=${task}:${client}:${shape}`, `--warmup=${warmup}`, `--frames=${framesDir}`]
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), args, {
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    let pending: ((samples: Sample[]) => void) | undefined
    let failed: (e: Error) => void = reject
    child.on('error', (e) => failed(e))
    child.on('exit', (code) => code !== 0 && failed(new Error(`${task} ${client} ${shape} child exited with ${code}`)))
    child.on('message', (m: FromChild) => {
      if (m.type === 'ready') {
        resolve({
          client,
          run: (timed) =>
            new Promise((res, rej) => {
              pending = res
              failed = rej
              child.send({ type: 'run', timed } satisfies ToChild)
            }),
          exit: () => child.send({ type: 'exit' } satisfies ToChild),
        })
      } else pending?.(m.samples)
    })
  })
}

function version(pkg: string): string {
  // By path: @platformatic/kafka's exports map does not expose its package.json.
  const file = new URL(`../node_modules/${pkg}/package.json`, import.meta.url)
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
}

interface Row {
  label: string
  peer: boolean
  recordsPerSec: number
  mbPerSec: number
  medianMs: number
  bestMs: number
  cpuMs: number
  heapGrowthMB: number
}

function printTable(title: string, rows: Row[], footer: string[]): void {
  const fastestPeer = Math.max(...rows.filter((r) => r.peer).map((r) => r.recordsPerSec))
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
  const w = Math.max(28, ...rows.map((r) => r.label.length + 2))
  console.log(`\n${title}`)
  console.log(
    `${'client'.padEnd(w)}${'records/s'.padStart(12)}${'MB/s'.padStart(10)}   vs fastest peer${'median ms'.padStart(12)}${'best ms'.padStart(10)}${'cpu ms'.padStart(10)}${'heap+ MB'.padStart(10)}`,
  )
  for (const r of rows) {
    console.log(
      `${r.label.padEnd(w)}${fmt(r.recordsPerSec).padStart(12)}${fmt(r.mbPerSec).padStart(10)}` +
        `${(r.recordsPerSec / fastestPeer).toFixed(2).padStart(18)}${r.medianMs.toFixed(1).padStart(12)}${r.bestMs.toFixed(1).padStart(10)}${r.cpuMs.toFixed(1).padStart(10)}${r.heapGrowthMB.toFixed(0).padStart(10)}`,
    )
  }
  for (const f of footer) console.log(f)
}

/** `--node-flags="--single-threaded-gc --max-semi-space-size=64"`: extra flags for the children (experiments). */
function nodeFlags(): string[] {
  return (argValue('node-flags') ?? '').split(' ').filter(Boolean)
}

function argValue(name: string): string | undefined {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`))
  return a?.slice(name.length + 3)
}

async function main(): Promise<void> {
  const childArg = argValue('child')
  const quick = process.argv.includes('--quick')
  const warmup = Number(argValue('warmup') ?? (quick ? 2 : 3))
  const iterations = Number(argValue('iterations') ?? (quick ? 4 : 15))
  const procs = Number(argValue('procs') ?? (quick ? 1 : 3))
  if (childArg) {
    const [task, client, shape] = childArg.split(':')
    await runChild(
      task as 'decode' | 'encode',
      client!,
      shape!,
      warmup,
      iterations,
      argValue('profile'),
      argValue('frames'),
    )
    return
  }
  const writeFramesTo = argValue('write-frames')
  if (writeFramesTo) {
    writeFrames(writeFramesTo, buildFixture(SHAPES.find((s) => s.id === argValue('shape'))!), argValue('shape')!)
    return
  }
  const shapes = SHAPES.filter((s) => !argValue('shape') || s.id === argValue('shape'))
  const tasks = (['decode', 'encode'] as const).filter((t) => !argValue('task') || t === argValue('task'))
  const env = `node ${process.version}, kafkajs ${version('kafkajs')}, @platformatic/kafka ${version('@platformatic/kafka')}`
  console.log(`protocol codecs, no network; ${env}`)
  console.log(
    `${iterations} timed iterations per client, over ${procs} process(es) each (after ${warmup} warm-up), interleaved ` +
      `in turns of 1 untimed + ${PER_TURN} timed; rates from the median` +
      (nodeFlags().length ? `; children run with ${nodeFlags().join(' ')}` : ''),
  )
  const load = loadavg()[0]!
  if (load > cpus().length - 0.5) {
    console.log(
      `warning: load average ${load.toFixed(1)} on ${cpus().length} CPUs; other work is competing, expect noise`,
    )
  }

  const framesDir = mkdtempSync(join(tmpdir(), 'skiff-bench-'))
  process.on('exit', () => rmSync(framesDir, { recursive: true, force: true }))
  for (const shape of shapes) {
    const fx = buildFixture(shape)
    writeFrames(framesDir, fx, shape.id)
    const findings = await verify(fx)
    const layout = `${PARTITIONS} partitions x ${BATCHES_PER_PARTITION} batches x ${BATCH_RECORDS} records`
    for (const task of tasks) {
      const clients: string[] = task === 'decode' ? DECODE_CLIENTS : ENCODE_CLIENTS
      // `procs` processes per client, started one at a time. Each gets its share of the iterations.
      const workers: Worker[] = []
      for (let p = 0; p < procs; p++) {
        for (const client of clients) workers.push(await spawnWorker(task, client, shape.id, warmup, framesDir))
      }
      const perWorker = Math.ceil(iterations / procs)
      const results = new Map<Worker, Sample[]>(workers.map((w) => [w, []]))
      for (let t = 0, done = 0; done < perWorker; t++, done += PER_TURN) {
        // A turn per process in order, starting with a different one each time, so a burst of load from elsewhere
        // on the machine lands on all clients alike rather than on whoever ran during it.
        for (let k = 0; k < workers.length; k++) {
          const w = workers[(t + k) % workers.length]!
          results.get(w)!.push(...(await w.run(Math.min(PER_TURN, perWorker - done))))
        }
      }
      for (const w of workers) w.exit()
      const all = (client: string) => workers.filter((w) => w.client === client).flatMap((w) => results.get(w)!)
      const checksums = new Set(clients.flatMap((c) => all(c).map((x) => x.checksum)))
      if (task === 'decode' && (checksums.size !== 1 || !checksums.has(findings.decodeChecksum))) {
        throw new Error(`clients disagree on the decoded records: ${[...checksums].join(' | ')}`)
      }
      const label = (client: string) =>
        task === 'decode' ? DECODE_LABELS[client as DecodeClient] : ENCODE_LABELS[client as EncodeClient]
      const rows: Row[] = clients.map((client) => {
        const xs = all(client)
        const ms = median(xs.map((x) => x.ns)) / 1e6
        return {
          label: label(client),
          peer: PEERS.has(client),
          recordsPerSec: RECORDS / (ms / 1000),
          mbPerSec: xs[0]!.bytes / MB / (ms / 1000),
          medianMs: ms,
          bestMs: Math.min(...xs.map((x) => x.ns)) / 1e6,
          cpuMs: median(xs.map((x) => x.cpuNs)) / 1e6,
          heapGrowthMB: median(xs.map((x) => x.heapGrowth)) / MB,
        }
      })
      const perProcess =
        procs > 1
          ? [
              '  median ms (heap+) per process: ' +
                clients
                  .map((c) => {
                    const each = workers
                      .filter((w) => w.client === c)
                      .map((w) => {
                        const xs = results.get(w)!
                        const ms = median(xs.map((x) => x.ns)) / 1e6
                        return `${ms.toFixed(0)} (${(median(xs.map((x) => x.heapGrowth)) / MB).toFixed(0)} MB)`
                      })
                    return `${label(c)} ${each.join(' / ')}`
                  })
                  .join('; '),
            ]
          : []
      const bytesOf = new Map(clients.map((c) => [c, all(c)[0]!.bytes]))
      if (task === 'decode') {
        printTable(
          `decode Fetch response, 100k records x ${shape.label}, 16 B key, 1 header, uncompressed    (node ${process.version})`,
          rows,
          [
            `  ${layout}; Fetch v${FETCH_VERSION} frame ${fx.frame.length.toLocaleString('en-US')} B ` +
              `(kafkajs: v${KAFKAJS_FETCH_VERSION}, ${fx.frameV11.length.toLocaleString('en-US')} B, same record sets)`,
            `  every client: ${findings.decodeChecksum}`,
            `  ${findings.notes[0]}`,
            ...perProcess,
            HEAP_NOTE,
          ],
        )
      } else {
        printTable(
          `encode Produce requests, 100k records x ${shape.label}, 16 B key, 1 header, uncompressed    (node ${process.version})`,
          rows,
          [
            `  ${REQUESTS} requests x ${PARTITIONS} partitions x one ${BATCH_RECORDS}-record batch; Produce v${PRODUCE_VERSION} ` +
              `(kafkajs: v7); MB/s counts each client's own request bytes: ` +
              clients.map((c) => `${c} ${bytesOf.get(c)!.toLocaleString('en-US')} B`).join(', '),
            ...findings.notes.slice(1).map((n) => `  ${n}`),
            ...perProcess,
            HEAP_NOTE,
          ],
        )
      }
    }
  }
}

await main()
