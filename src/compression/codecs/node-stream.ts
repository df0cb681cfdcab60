/**
 * Pulls output from a node:zlib decompression stream with backpressure: zlib inflates only while its readable side
 * is below the high-water mark, so reading one chunk at a time keeps the decoded bytes held at about one chunk,
 * however much the input would expand. Shared by gzip and the native zstd decoder.
 */
import type { Transform } from 'node:stream'

export const DEFAULT_CHUNK_BYTES = 256 * 1024

/**
 * Output up to this size (or up to `chunkBytes`, if larger) may be decoded in one piece, synchronously: a stream
 * costs ~0.1 ms to set up plus a thread-pool round trip per chunk, as much as decoding a whole 64 KiB batch, while
 * holding 1 MiB at once is still small. Larger outputs stream.
 */
export const ONE_PIECE_MAX_BYTES = 1024 * 1024

/** `limits.chunkBytes`, defaulted and kept within sane bounds for zlib's `chunkSize`. */
export function chunkBytesOf(chunkBytes: number | undefined): number {
  if (chunkBytes === undefined) return DEFAULT_CHUNK_BYTES
  return Math.min(Math.max(Math.floor(chunkBytes), 1024), 16 * 1024 * 1024)
}

export class StreamReader {
  readonly #stream: Transform
  #ended = false
  #error: Error | undefined
  #wake: (() => void) | undefined

  constructor(stream: Transform) {
    this.#stream = stream
    const wake = () => {
      const resolve = this.#wake
      this.#wake = undefined
      resolve?.()
    }
    stream.on('readable', wake)
    stream.on('end', () => {
      this.#ended = true
      wake()
    })
    stream.on('error', (error) => {
      this.#error ??= error
      wake()
    })
  }

  /** The next piece of output (as zlib produced it: at most its `chunkSize`, rarely two), or null at the end. */
  async read(): Promise<Buffer | null> {
    for (;;) {
      if (this.#error) throw this.#error
      const chunk = this.#stream.read() as Buffer | null
      if (chunk !== null) return chunk
      if (this.#ended) return null
      await new Promise<void>((resolve) => {
        this.#wake = resolve
      })
    }
  }

  /** Frees zlib's state; a pending or later `read()` returns null. */
  destroy(): void {
    this.#ended = true
    this.#stream.destroy()
    const resolve = this.#wake
    this.#wake = undefined
    resolve?.()
  }
}
