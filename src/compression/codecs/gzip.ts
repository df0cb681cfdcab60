/**
 * gzip (Kafka compression type 1) through node:zlib. Decompression streams: a Gunzip fed the whole input inflates
 * only as its output is read, one chunk at a time, so a 250 KB member holding 256 MiB of zeros is stopped after
 * `maxOutputBytes` without ever being inflated further. Small outputs (≤ 1 MiB by the ISIZE trailer, checked
 * while inflating) skip the stream's set-up cost and inflate synchronously. Concatenated members (RFC 1952 §2.2) decode as one
 * stream; zero padding after the last member is ignored, any other trailing bytes are corrupt (node:zlib's rules,
 * stricter than Java's GZIPInputStream, which stops silently at trailing garbage).
 */
import { promisify } from 'node:util'
import * as zlib from 'node:zlib'
import { CorruptCompressedDataError } from '../errors.js'
import type { CompressionCodec, CompressOptions, DecompressLimits, Decompressor } from '../types.js'
import { BoundedDecompressor } from './bounded.js'
import { ONE_PIECE_MAX_BYTES, StreamReader } from './node-stream.js'

const gzipAsync = promisify(zlib.gzip)

/** zlib's levels: 1 (fastest) .. 9 (smallest), 0 stores, -1 is zlib's default (6) — also Java's and Kafka's. */
export const GZIP_DEFAULT_LEVEL = -1

/** zlib error codes that mean the input is not valid gzip (Z_BUF_ERROR: it ended inside a member). */
const CORRUPT_CODES = new Set(['Z_DATA_ERROR', 'Z_BUF_ERROR', 'Z_NEED_DICT', 'Z_STREAM_ERROR'])

export function createGzipCodec(): CompressionCodec {
  return {
    name: 'gzip',
    async compress(data: Buffer, options?: CompressOptions): Promise<Buffer> {
      const level = options?.level ?? GZIP_DEFAULT_LEVEL
      if (!Number.isInteger(level) || level < -1 || level > 9) {
        throw new RangeError(`gzip level must be an integer from -1 to 9, got ${level}`)
      }
      return gzipAsync(data, { level })
    },
    decompressor(input: Buffer, limits: DecompressLimits): Decompressor {
      return new GzipDecompressor(input, limits)
    },
  }
}

export const gzipCodec: CompressionCodec = createGzipCodec()

function gzipError(error: unknown, input: Uint8Array): unknown {
  const code = (error as { code?: unknown }).code
  if (typeof code !== 'string' || !CORRUPT_CODES.has(code)) return error
  const problem = code === 'Z_BUF_ERROR' ? 'input ends inside a gzip member' : (error as Error).message
  const at = code === 'Z_BUF_ERROR' ? input.length : undefined
  return Object.assign(new CorruptCompressedDataError('gzip', problem, at), { cause: error })
}

class GzipDecompressor extends BoundedDecompressor {
  #reader: StreamReader | undefined
  #state: 'start' | 'streaming' | 'done' = 'start'

  constructor(input: Buffer, limits: DecompressLimits) {
    super('gzip', input, limits)
  }

  protected async produce(): Promise<Uint8Array | null> {
    if (this.#state === 'done') return null
    if (this.#state === 'start') {
      this.#state = 'streaming'
      const small = this.#decodeSmall()
      if (small) {
        this.#state = 'done'
        return small
      }
      const gunzip = zlib.createGunzip({ chunkSize: this.chunkBytes })
      this.#reader = new StreamReader(gunzip)
      gunzip.end(this.input)
    }
    try {
      return await this.#reader!.read()
    } catch (error) {
      throw gzipError(error, this.input)
    }
  }

  /**
   * When the last member's ISIZE says the output is small (ONE_PIECE_MAX_BYTES), inflate it synchronously, capped
   * by `maxOutputLength` (node:zlib stops as soon as it is passed). If the hint lied, the stream starts over:
   * either way no more than that cap is ever held.
   */
  #decodeSmall(): Buffer | undefined {
    const input = this.input
    const cap = Math.max(this.chunkBytes, ONE_PIECE_MAX_BYTES)
    const isize =
      input.length >= 18 ? Buffer.from(input.buffer, input.byteOffset, input.length).readUInt32LE(input.length - 4) : 0
    if (isize > cap) return undefined
    try {
      return zlib.gunzipSync(input, { maxOutputLength: cap })
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') return undefined
      throw gzipError(error, input)
    }
  }

  protected release(): void {
    this.#reader?.destroy()
    this.#reader = undefined
  }
}
