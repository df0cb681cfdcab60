/**
 * Pure-JS zstd decoding with fzstd, for Node < 22.15 (no `zlib.createZstdDecompress`). fzstd's stream decoder
 * is push-based and emits one output array per block; it allocates the declared window up front and slides it by
 * copying after every block. So we feed it whole blocks, a few at a time, sized by what the plan says they can
 * produce: one push never yields much more than one chunk, and the window it allocates is the plan's shrunk one.
 */
import { Decompress, decompress } from 'fzstd'
import { CorruptCompressedDataError } from '../errors.js'
import { ONE_PIECE_MAX_BYTES } from './node-stream.js'
import type { ZstdFramePlan, ZstdFrameSource } from './zstd-frame.js'

/**
 * A frame whose declared content size is at most ONE_PIECE_MAX_BYTES, or at most the window the stream decoder
 * would hold anyway, is decoded in one call straight into an array of exactly that size: no window copies, and
 * no more memory than streaming would take.
 */
export function fzstdFrameSource(input: Uint8Array, frame: ZstdFramePlan, chunkBytes: number): ZstdFrameSource {
  const size = frame.header.contentSize
  if (size !== undefined && size > 0 && size <= Math.max(ONE_PIECE_MAX_BYTES, frame.effectiveWindow)) {
    return new OneShotFrame(input, frame)
  }
  return new StreamedFrame(input, frame, chunkBytes)
}

/**
 * fzstd throws plain Errors with a numeric `code` ('invalid zstd data', 'unexpected EOF', ...) and, on hostile
 * input, RangeErrors and TypeErrors from its typed arrays: all of them mean the frame is not valid zstd.
 */
function decodeOrCorrupt<T>(frame: ZstdFramePlan, decode: () => T): T {
  try {
    return decode()
  } catch (error) {
    if (error instanceof CorruptCompressedDataError) throw error
    const message = error instanceof Error ? error.message : String(error)
    throw Object.assign(new CorruptCompressedDataError('zstd', message, frame.start), { cause: error })
  }
}

class OneShotFrame implements ZstdFrameSource {
  readonly #frame: ZstdFramePlan
  #bytes: Uint8Array | undefined
  constructor(input: Uint8Array, frame: ZstdFramePlan) {
    this.#frame = frame
    this.#bytes = input.subarray(frame.start, frame.end)
  }
  pull(): Uint8Array | null {
    const bytes = this.#bytes
    if (!bytes) return null
    this.#bytes = undefined
    return decodeOrCorrupt(this.#frame, () => decompress(bytes))
  }
  close(): void {
    this.#bytes = undefined
  }
}

class StreamedFrame implements ZstdFrameSource {
  readonly #input: Uint8Array
  readonly #frame: ZstdFramePlan
  readonly #chunkBytes: number
  #decoder: Decompress | undefined
  #out: Uint8Array[] = []
  #blocksDecoded = 0
  /** Input offset of the next block header to push. */
  #next: number
  #done = false

  constructor(input: Uint8Array, frame: ZstdFramePlan, chunkBytes: number) {
    this.#input = input
    this.#frame = frame
    this.#chunkBytes = chunkBytes
    this.#next = frame.headerEnd
  }

  pull(): Uint8Array | null {
    // Blocks come out as fzstd made them (fresh arrays, at most 128 KiB): handing them on copies nothing.
    const queued = this.#out.shift()
    if (queued) return queued
    if (this.#done) return null
    const input = this.#input
    const frame = this.#frame
    if (!this.#decoder) {
      this.#decoder = new Decompress((data, final) => {
        if (final) return
        this.#out.push(data)
        this.#blocksDecoded++
      })
      const decoder = this.#decoder
      decodeOrCorrupt(frame, () => decoder.push(frame.headerForDecoder))
    }
    // Whole blocks whose possible output adds up to at most one chunk (at least one block).
    const from = this.#next
    let p = from
    let bound = 0
    let last = false
    while (!last) {
      const bh = input[p]! | (input[p + 1]! << 8) | (input[p + 2]! << 16)
      const type = (bh >> 1) & 3
      const size = bh >>> 3
      const produces = type === 2 ? frame.blockMaxSize : size
      if (bound > 0 && bound + produces > this.#chunkBytes) break
      bound += produces
      p += 3 + (type === 1 ? 1 : size)
      last = (bh & 1) === 1
    }
    this.#next = p
    // The last push carries the checksum (fzstd skips it) and `final`, which also flushes a header fzstd buffered.
    const decoder = this.#decoder
    decodeOrCorrupt(frame, () => decoder.push(input.subarray(from, last ? frame.end : p), last))
    if (last) {
      this.#done = true
      this.#decoder = undefined
      if (this.#blocksDecoded !== frame.blockCount) {
        throw new CorruptCompressedDataError(
          'zstd',
          `decoder stopped after ${this.#blocksDecoded} of ${frame.blockCount} blocks`,
          frame.start,
        )
      }
    }
    return this.#out.shift() ?? new Uint8Array(0)
  }

  close(): void {
    this.#decoder = undefined
    this.#out = []
    this.#done = true
  }
}
