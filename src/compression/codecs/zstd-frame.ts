/**
 * Zstandard frame structure (RFC 8878 §3.1), read by us before any decoder sees the input. One pass over the frame
 * and block headers — no decoding — tells us every frame's declared window and content size, refuses dictionaries
 * and oversized windows, and bounds each frame's output from below (raw and RLE blocks say exactly how much they
 * produce) and above (a compressed block produces at most Block_Maximum_Size). Decoders only ever run on input
 * that passed this plan.
 */
import { CorruptCompressedDataError, DecompressionLimitError } from '../errors.js'

export const ZSTD_MAGIC = 0xfd2fb528
/** Skippable frames use magics 0x184D2A50..0x184D2A5F. */
const SKIPPABLE_MAGIC = 0x184d2a50
/** Block_Maximum_Size is the smaller of the window and 128 KiB. */
export const ZSTD_BLOCK_SIZE_MAX = 128 * 1024
/**
 * libzstd's default `ZSTD_d_windowLogMax` (ZSTD_WINDOWLOG_LIMIT_DEFAULT = 27): the largest window a Kafka broker
 * (zstd-jni) or librdkafka decodes without extra settings, and what a Java producer at `compression.zstd.level=22`
 * declares. Anything larger never went through a broker's validation.
 */
export const ZSTD_BROKER_WINDOW_MAX = 2 ** 27

export interface ZstdFrameHeader {
  /** Bytes from the magic number to the first block header. */
  headerBytes: number
  /** Declared window; for single-segment frames, the content size. */
  windowSize: number
  singleSegment: boolean
  /** Frame_Content_Size when present (exact up to 2^53). */
  contentSize: number | undefined
  /** 0 when the frame needs no dictionary. */
  dictionaryId: number
  hasChecksum: boolean
}

/** One zstd frame of the input, checked and bounded; skippable frames are left out. */
export interface ZstdFramePlan {
  /** Input offset of the magic number. */
  start: number
  /** Input offset of the first block header. */
  headerEnd: number
  /** Input offset just past the frame, its checksum included. */
  end: number
  header: ZstdFrameHeader
  blockCount: number
  /** Min(window, 128 KiB): the most one block may produce. */
  blockMaxSize: number
  /** The output is exactly this when the frame declares its content size; otherwise at least this. */
  minOutput: number
  maxOutput: number
  /**
   * The window a decoder has to hold: the declared one, shrunk to what this frame can produce (and to the output
   * limit). No match can reach further back than the frame's output so far, so a smaller window decodes the same
   * bytes; this is what lets a frame that declares 128 MiB but holds 1 MiB cost 1 MiB.
   */
  effectiveWindow: number
  /** The frame header bytes to feed a decoder: a copy declaring `effectiveWindow` when it differs. */
  headerForDecoder: Uint8Array
}

/** Decodes one planned frame, a piece at a time; an empty array means "nothing yet, pull again". */
export interface ZstdFrameSource {
  pull(): Uint8Array | null | Promise<Uint8Array | null>
  close(): void
}

export interface ZstdPlanLimits {
  maxOutputBytes: number
  /** Frames declaring a larger window (or a larger single-segment content size) are refused. */
  maxWindowBytes: number
}

const corrupt = (problem: string, at?: number) => new CorruptCompressedDataError('zstd', problem, at)

const u32 = (b: Uint8Array, at: number) => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0

/** Parses the frame header at `at` (the magic number included). Throws CorruptCompressedDataError. */
export function parseZstdFrameHeader(input: Uint8Array, at: number): ZstdFrameHeader {
  if (at + 5 > input.length) throw corrupt('truncated frame header', at)
  if (u32(input, at) !== ZSTD_MAGIC) throw corrupt(`bad magic number 0x${u32(input, at).toString(16)}`, at)
  const descriptor = input[at + 4]!
  if (descriptor & 0x08) throw corrupt('reserved bit set in the frame header descriptor', at + 4)
  const fcsFlag = descriptor >> 6
  const singleSegment = (descriptor & 0x20) !== 0
  const hasChecksum = (descriptor & 0x04) !== 0
  const didBytes = [0, 1, 2, 4][descriptor & 3]!
  const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : 1 << fcsFlag
  const headerBytes = 5 + (singleSegment ? 0 : 1) + didBytes + fcsBytes
  if (at + headerBytes > input.length) throw corrupt('truncated frame header', at)
  let p = at + 5
  let windowSize = 0
  if (!singleSegment) {
    const wd = input[p++]!
    const windowBase = 2 ** (10 + (wd >> 3))
    windowSize = windowBase + (windowBase / 8) * (wd & 7)
  }
  let dictionaryId = 0
  for (let i = 0; i < didBytes; i++) dictionaryId += input[p + i]! * 2 ** (8 * i)
  p += didBytes
  let contentSize: number | undefined
  if (fcsBytes > 0) {
    contentSize = 0
    for (let i = 0; i < fcsBytes; i++) contentSize += input[p + i]! * 2 ** (8 * i)
    if (fcsBytes === 2) contentSize += 256
  }
  if (singleSegment) windowSize = contentSize!
  return { headerBytes, windowSize, singleSegment, contentSize, dictionaryId, hasChecksum }
}

/** The window descriptor byte of the smallest representable window ≥ `bytes` (1 KiB at least). */
export function windowDescriptorFor(bytes: number): number {
  if (bytes <= 1024) return 0
  let exponent = Math.max(0, Math.floor(Math.log2(bytes)) - 10)
  let base = 2 ** (10 + exponent)
  if (base > bytes) base = 2 ** (10 + --exponent) // guard against log2 rounding up
  let mantissa = Math.max(0, Math.ceil((bytes - base) / (base / 8)))
  if (mantissa > 7) {
    exponent++
    mantissa = 0
  }
  return (exponent << 3) | mantissa
}

export function windowSizeOf(descriptor: number): number {
  const base = 2 ** (10 + (descriptor >> 3))
  return base + (base / 8) * (descriptor & 7)
}

const mib = (n: number) => (n >= 1024 * 1024 ? `${+(n / 1024 / 1024).toFixed(1)} MiB` : `${n} bytes`)

/**
 * Walks every frame and block header of `input` (no decoding) and refuses, before anything is allocated:
 * malformed structure, dictionaries, declared windows or single-segment content sizes over `maxWindowBytes`,
 * declared content sizes — or raw/RLE blocks whose sizes alone — over `maxOutputBytes`.
 */
export function planZstd(input: Uint8Array, limits: ZstdPlanLimits): ZstdFramePlan[] {
  if (input.length === 0) throw corrupt('empty input')
  const frames: ZstdFramePlan[] = []
  let minTotal = 0
  let p = 0
  while (p < input.length) {
    if (p + 4 > input.length) throw corrupt(`${input.length - p} trailing bytes after the last frame`, p)
    const magic = u32(input, p)
    if ((magic & 0xfffffff0) === SKIPPABLE_MAGIC) {
      if (p + 8 > input.length) throw corrupt('truncated skippable frame header', p)
      const end = p + 8 + u32(input, p + 4)
      if (end > input.length) throw corrupt('truncated skippable frame', p)
      p = end
      continue
    }
    const frame = planFrame(input, p, limits)
    minTotal += frame.minOutput
    if (minTotal > limits.maxOutputBytes) {
      const what = frame.header.contentSize !== undefined ? 'declared content sizes' : 'raw and RLE blocks alone'
      throw new DecompressionLimitError(
        'zstd',
        input.length,
        minTotal,
        limits.maxOutputBytes,
        `its ${what} add up to ${mib(minTotal)}, refused before decoding`,
      )
    }
    frames.push(frame)
    p = frame.end
  }
  return frames
}

function planFrame(input: Uint8Array, start: number, limits: ZstdPlanLimits): ZstdFramePlan {
  const header = parseZstdFrameHeader(input, start)
  if (header.dictionaryId !== 0) {
    throw corrupt(
      `frame needs zstd dictionary ${header.dictionaryId}, and no dictionary is known here ` +
        '(Kafka producers never use zstd dictionaries)',
      start,
    )
  }
  const declares = header.singleSegment ? 'content size (single segment)' : 'window'
  if (header.windowSize > limits.maxWindowBytes) {
    throw new DecompressionLimitError(
      'zstd',
      input.length,
      header.windowSize,
      limits.maxWindowBytes,
      `the frame at input byte ${start} declares a ${declares} of ${mib(header.windowSize)}, over the zstd window cap of ${mib(limits.maxWindowBytes)}; refused before decoding`,
    )
  }
  if (header.contentSize !== undefined && header.contentSize > limits.maxOutputBytes) {
    throw new DecompressionLimitError(
      'zstd',
      input.length,
      header.contentSize,
      limits.maxOutputBytes,
      `the frame at input byte ${start} declares ${mib(header.contentSize)} of content; refused before decoding`,
    )
  }
  const blockMaxSize = Math.min(header.windowSize, ZSTD_BLOCK_SIZE_MAX)
  const headerEnd = start + header.headerBytes
  let p = headerEnd
  let blockCount = 0
  let exact = 0 // output of raw and RLE blocks
  let compressedBlocks = 0
  for (;;) {
    if (p + 3 > input.length) throw corrupt('truncated block header', p)
    const bh = input[p]! | (input[p + 1]! << 8) | (input[p + 2]! << 16)
    const type = (bh >> 1) & 3
    const size = bh >>> 3
    if (type === 3) throw corrupt('reserved block type', p)
    if (size > blockMaxSize)
      throw corrupt(`block of ${size} bytes exceeds the frame's block maximum of ${blockMaxSize}`, p)
    if (type === 2 && size < 2) throw corrupt('compressed block too small', p)
    const contentEnd = p + 3 + (type === 1 ? 1 : size)
    if (contentEnd > input.length) throw corrupt('truncated block', p)
    if (type === 2) compressedBlocks++
    else exact += size
    blockCount++
    p = contentEnd
    if (bh & 1) break
  }
  const end = p + (header.hasChecksum ? 4 : 0)
  if (end > input.length) throw corrupt('truncated content checksum', p)
  let minOutput = exact
  let maxOutput = exact + compressedBlocks * blockMaxSize
  if (header.contentSize !== undefined) {
    if (header.contentSize < minOutput || header.contentSize > maxOutput) {
      throw corrupt(
        `frame declares ${header.contentSize} bytes of content, but its blocks hold ${minOutput}..${maxOutput}`,
        start,
      )
    }
    minOutput = maxOutput = header.contentSize
  }
  // Shrink the window to what this frame can produce before it is stopped: offsets never reach past the output
  // so far. Keep at least the declared Block_Maximum_Size so block checks in the decoders do not change.
  let effectiveWindow = header.windowSize
  let headerForDecoder = input.subarray(start, headerEnd)
  if (!header.singleSegment) {
    const needed = Math.max(Math.min(maxOutput, limits.maxOutputBytes), blockMaxSize, 1024)
    if (needed < header.windowSize) {
      const descriptor = windowDescriptorFor(needed)
      effectiveWindow = windowSizeOf(descriptor)
      headerForDecoder = Uint8Array.from(headerForDecoder)
      headerForDecoder[5] = descriptor
    }
  }
  return {
    start,
    headerEnd,
    end,
    header,
    blockCount,
    blockMaxSize,
    minOutput,
    maxOutput,
    effectiveWindow,
    headerForDecoder,
  }
}
