import zlib from 'node:zlib'
import { lz4CompressFrame, snappyCompressRaw } from '../../src/compression/index.js'
import { crc32c } from '../../src/protocol/records/index.js'

/**
 * Decompression bombs as Kafka record batches: valid batches (the broker accepts and validates them) whose records
 * are mostly zeros, so they are small on the wire and huge once decompressed. Built as a stream of pieces, so making
 * a 1 GiB bomb never holds 1 GiB.
 */
/** `zstd` is built of RLE blocks (its size shows in its block headers); `zstd-seq` of compressed blocks (it does not). */
export type BombCodec = 'zstd' | 'zstd-seq' | 'gzip' | 'lz4' | 'snappy'
const CODEC_ID: Record<BombCodec, number> = { gzip: 1, snappy: 2, lz4: 3, zstd: 4, 'zstd-seq': 4 }

function uvarint(v: number): number[] {
  const out: number[] = []
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80)
    v = Math.floor(v / 128)
  }
  out.push(v)
  return out
}
const zigzag = (v: number) => uvarint(v >= 0 ? v * 2 : -v * 2 - 1)

export interface BombPlan {
  /** Decompressed size of the records section. */
  totalBytes: number
  /** Zeros per record value (each record stays under maxRecordBytes). */
  valueBytes: number
}

/** A piece of the records section: bytes as they are, or a run of zeros. */
type Piece = { bytes: Buffer } | { zeros: number }

/** The records, as pieces: each record is a short header, then `valueBytes + 1` zeros (the value, no headers). */
function* recordPieces(plan: BombPlan): Generator<Piece, void, void> & { count?: number } {
  let written = 0
  for (let i = 0; written < plan.totalBytes; i++) {
    // body: attributes 0, timestampDelta 0, offsetDelta i, key null (-1), value length, value, 0 headers
    const head = [0, ...zigzag(0), ...zigzag(i), ...zigzag(-1), ...zigzag(plan.valueBytes)]
    const bodyBytes = head.length + plan.valueBytes + 1
    const prefix = Buffer.from([...zigzag(bodyBytes), ...head])
    yield { bytes: prefix }
    yield { zeros: plan.valueBytes + 1 }
    written += prefix.length + plan.valueBytes + 1
  }
}

export function recordCount(plan: BombPlan): number {
  let n = 0
  for (const p of recordPieces(plan)) if ('zeros' in p) n++
  return n
}

/** Cuts the pieces into blocks of exactly `size` bytes (the last may be shorter), materialising each block. */
function* blocksOf(plan: BombPlan, size: number): Generator<Buffer> {
  let block = Buffer.alloc(size)
  let fill = 0
  for (const p of recordPieces(plan)) {
    if ('bytes' in p) {
      let off = 0
      while (off < p.bytes.length) {
        const n = Math.min(size - fill, p.bytes.length - off)
        p.bytes.copy(block, fill, off, off + n)
        fill += n
        off += n
        if (fill === size) {
          yield block
          block = Buffer.alloc(size)
          fill = 0
        }
      }
    } else {
      let left = p.zeros
      while (left > 0) {
        const n = Math.min(size - fill, left)
        fill += n // the block starts zeroed
        left -= n
        if (fill === size) {
          yield block
          block = Buffer.alloc(size)
          fill = 0
        }
      }
    }
  }
  if (fill > 0) yield block.subarray(0, fill)
}

/** zstd: one frame of raw blocks (record headers) and RLE blocks (zero runs), window 1 MiB (the broker takes ≤ 2^27). */
function zstdBomb(plan: BombPlan): Buffer {
  const out: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, (20 - 10) << 3])]
  const block = (type: number, size: number, content: Buffer) => {
    const h = Buffer.alloc(3)
    h.writeUIntLE((size << 3) | (type << 1), 0, 3)
    out.push(h, content)
  }
  for (const p of recordPieces(plan)) {
    if ('bytes' in p) block(0, p.bytes.length, p.bytes)
    else {
      for (let left = p.zeros; left > 0; left -= 128 * 1024) block(1, Math.min(left, 128 * 1024), Buffer.from([0]))
    }
  }
  // An empty raw block marked last ends the frame.
  const last = Buffer.alloc(3)
  last.writeUIntLE(1, 0, 3)
  out.push(last)
  return Buffer.concat(out)
}

/** Concatenated gzip members of ≤ 64 MiB input each: valid gzip (Java's GZIPInputStream reads every member). */
const BLOCK = 128 * 1024

function u24(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff]
}

/**
 * zstd made of compressed blocks of one sequence each: raw literals (a record header and one zero), then a match at
 * offset 1 (zeros) filling the block to 128 KiB; further records' zeros are 7 blocks of a single 128 KiB match.
 * Literal length, offset and match length tables are in RLE mode (codes LL n, OF 2 = offset 1, ML 52 = 65539 + 16
 * extra bits). Nothing in its headers reveals its size: only decoding does. Each record is exactly 1 MiB.
 */
function zstdSequenceBomb(totalBytes: number): { frame: Buffer; count: number } {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, (20 - 10) << 3])]
  const block = (last: boolean, body: number[]) => {
    parts.push(Buffer.from([...u24(((body.length << 3) | (2 << 1) | (last ? 1 : 0)) >>> 0), ...body]))
  }
  const records = Math.max(1, Math.floor(totalBytes / (8 * BLOCK)))
  for (let i = 0; i < records; i++) {
    // The value length sits inside the prefix, whose length it changes: settle them together.
    let prefix: number[] = []
    let value = 0
    for (let guess = 10; ; guess++) {
      const literals = guess + 1
      value = BLOCK - literals + 7 * BLOCK
      const head = [0, ...zigzag(0), ...zigzag(i), ...zigzag(-1), ...zigzag(value)]
      prefix = [...zigzag(head.length + value + 1), ...head]
      if (prefix.length === guess) break
    }
    const literals = prefix.length + 1
    const firstMatch = BLOCK - literals
    block(false, [literals << 3, ...prefix, 0, 0x01, 0x54, literals, 2, 52, ...u24((firstMatch - 65539) | (1 << 18))])
    for (let b = 0; b < 7; b++)
      block(i === records - 1 && b === 6, [0x00, 0x01, 0x54, 0, 2, 52, ...u24(65533 | (1 << 18))])
  }
  return { frame: Buffer.concat(parts), count: records }
}

function gzipMembers(plan: BombPlan): Buffer[] {
  const members: Buffer[] = []
  const pending: Buffer[] = []
  let pendingBytes = 0
  const zeros = Buffer.alloc(1024 * 1024)
  const flush = () => {
    if (pendingBytes === 0) return
    members.push(zlib.gzipSync(Buffer.concat(pending, pendingBytes), { level: 9 }))
    pending.length = 0
    pendingBytes = 0
  }
  for (const p of recordPieces(plan)) {
    const parts = 'bytes' in p ? [p.bytes] : []
    if ('zeros' in p)
      for (let left = p.zeros; left > 0; left -= zeros.length)
        parts.push(zeros.subarray(0, Math.min(left, zeros.length)))
    for (const part of parts) {
      pending.push(part)
      pendingBytes += part.length
      if (pendingBytes >= 64 * 1024 * 1024) flush()
    }
  }
  flush()
  return members
}

/** lz4: one frame of independent 64 KiB blocks, no content checksum. */
function lz4Bomb(plan: BombPlan): Buffer {
  const out: Buffer[] = [Buffer.from(lz4CompressFrame(Buffer.alloc(0), { contentChecksum: false }).subarray(0, 7))]
  for (const block of blocksOf(plan, 64 * 1024)) {
    const frame = lz4CompressFrame(block, { contentChecksum: false })
    out.push(frame.subarray(7, frame.length - 4)) // the block (size + data), without this frame's header and end mark
  }
  out.push(Buffer.alloc(4)) // end mark
  return Buffer.concat(out)
}

/** snappy in xerial framing (what the Java producer writes): 32 KiB blocks. */
function snappyBomb(plan: BombPlan): Buffer {
  const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1])
  const out: Buffer[] = [header]
  for (const block of blocksOf(plan, 32 * 1024)) {
    const raw = snappyCompressRaw(block)
    const len = Buffer.alloc(4)
    len.writeInt32BE(raw.length)
    out.push(len, raw)
  }
  return Buffer.concat(out)
}

/** A complete record batch v2 (baseOffset 0) whose records section, compressed with `codec`, is the bomb. */
export function bombBatch(codec: BombCodec, plan: BombPlan, timestamp = Date.now()): Buffer {
  let payload: Buffer
  let count: number
  if (codec === 'zstd-seq') {
    // Fixed 1 MiB records (plan.valueBytes does not apply).
    const seq = zstdSequenceBomb(plan.totalBytes)
    payload = seq.frame
    count = seq.count
  } else {
    const build = {
      zstd: zstdBomb,
      gzip: (p: BombPlan) => Buffer.concat(gzipMembers(p)),
      lz4: lz4Bomb,
      snappy: snappyBomb,
    }
    payload = build[codec](plan)
    count = recordCount(plan)
  }
  const out = Buffer.alloc(61 + payload.length)
  payload.copy(out, 61)
  out.writeBigInt64BE(0n, 0)
  out.writeInt32BE(out.length - 12, 8)
  out.writeInt32BE(-1, 12)
  out[16] = 2
  out.writeInt16BE(CODEC_ID[codec], 21)
  out.writeInt32BE(count - 1, 23)
  out.writeBigInt64BE(BigInt(timestamp), 27)
  out.writeBigInt64BE(BigInt(timestamp), 35)
  out.writeBigInt64BE(-1n, 43)
  out.writeInt16BE(-1, 51)
  out.writeInt32BE(-1, 53)
  out.writeInt32BE(count, 57)
  out.writeUInt32BE(crc32c(out, 21), 17)
  return out
}
