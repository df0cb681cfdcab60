/**
 * node:zlib's zstd (Node ≥ 22.15 and ≥ 23.8), typed here because @types/node 20 does not know it. Decoding runs
 * one stream per frame: node:zlib's zstd stream ends at the first frame's end and silently drops what follows
 * (Node 24.21), so concatenated frames are split by our plan instead.
 */

import type { Transform } from 'node:stream'
import * as zlib from 'node:zlib'
import { CorruptCompressedDataError, DecompressionLimitError } from '../errors.js'
import { ONE_PIECE_MAX_BYTES, StreamReader } from './node-stream.js'
import type { ZstdFramePlan, ZstdFrameSource } from './zstd-frame.js'

interface ZstdOptions {
  chunkSize?: number
  maxOutputLength?: number
  params?: Record<number, number>
  pledgedSrcSize?: number
}

interface NodeZstd {
  createZstdDecompress(options?: ZstdOptions): Transform
  zstdCompress(data: Uint8Array, options: ZstdOptions, callback: (error: Error | null, result: Buffer) => void): void
  zstdDecompressSync(data: Uint8Array, options?: ZstdOptions): Buffer
}

const native = zlib as unknown as Partial<NodeZstd>
const constants = zlib.constants as unknown as Record<string, number | undefined>

export const nativeZstdDecompressAvailable = typeof native.createZstdDecompress === 'function'
export const nativeZstdCompressAvailable = typeof native.zstdCompress === 'function'

export function nativeZstdCompress(data: Uint8Array, level: number): Promise<Buffer> {
  const options: ZstdOptions = {
    params: { [constants.ZSTD_c_compressionLevel!]: level, [constants.ZSTD_c_contentSizeFlag!]: 1 },
    pledgedSrcSize: data.length,
  }
  return new Promise((resolve, reject) => {
    native.zstdCompress!(data, options, (error, result) => (error ? reject(error) : resolve(result)))
  })
}

/**
 * A frame that cannot produce more than ONE_PIECE_MAX_BYTES is decoded synchronously, in one piece; larger ones
 * stream, read chunk by chunk with backpressure.
 */
export function nativeZstdFrameSource(input: Uint8Array, frame: ZstdFramePlan, chunkBytes: number): ZstdFrameSource {
  const windowLogMax = Math.min(31, Math.max(10, Math.ceil(Math.log2(Math.max(frame.effectiveWindow, 1)))))
  // The plan already refused larger windows; this makes libzstd refuse them too rather than allocate.
  const params = { [constants.ZSTD_d_windowLogMax!]: windowLogMax }
  if (frame.maxOutput <= Math.max(chunkBytes, ONE_PIECE_MAX_BYTES)) {
    let pending = true
    return {
      pull() {
        if (!pending) return null
        pending = false
        const header = frame.headerForDecoder
        const bytes =
          header.byteOffset === input.byteOffset + frame.start && header.buffer === input.buffer
            ? input.subarray(frame.start, frame.end)
            : Buffer.concat([header, input.subarray(frame.headerEnd, frame.end)])
        try {
          // A valid frame cannot produce more than the plan's bound; the cap makes that hold for any frame.
          return native.zstdDecompressSync!(bytes, { params, maxOutputLength: Math.max(1, frame.maxOutput) })
        } catch (error) {
          throw nativeZstdError(error, input, frame)
        }
      },
      close() {
        pending = false
      },
    }
  }
  const stream = native.createZstdDecompress!({ chunkSize: chunkBytes, params })
  const reader = new StreamReader(stream)
  stream.write(frame.headerForDecoder)
  stream.end(input.subarray(frame.headerEnd, frame.end))
  return {
    async pull() {
      try {
        return await reader.read()
      } catch (error) {
        throw nativeZstdError(error, input, frame)
      }
    },
    close() {
      reader.destroy()
    },
  }
}

function nativeZstdError(error: unknown, input: Uint8Array, frame: ZstdFramePlan): unknown {
  const code = (error as { code?: unknown }).code
  if (typeof code !== 'string') return error
  const message = (error as Error).message
  if (code === 'ERR_BUFFER_TOO_LARGE') {
    return new CorruptCompressedDataError(
      'zstd',
      `frame decodes to more than its blocks can hold (${frame.maxOutput} bytes)`,
      frame.start,
    )
  }
  if (code === 'ZSTD_error_frameParameter_windowTooLarge') {
    return new DecompressionLimitError('zstd', input.length, frame.effectiveWindow, frame.effectiveWindow, message)
  }
  if (code === 'ZSTD_error_memory_allocation' || !(code.startsWith('ZSTD_error_') || code === 'Z_BUF_ERROR')) {
    return error
  }
  const problem = code === 'Z_BUF_ERROR' ? 'input ends inside a frame' : `${message} (${code})`
  return Object.assign(new CorruptCompressedDataError('zstd', problem, frame.start), { cause: error })
}
