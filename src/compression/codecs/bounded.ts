/**
 * The part every streaming decompressor shares: counting output against `maxOutputBytes` as it is decoded,
 * cutting it into chunks of at most `chunkBytes`, and failing for good once anything fails.
 */
import { DecompressionLimitError } from '../errors.js'
import type { DecompressLimits, Decompressor } from '../types.js'
import { chunkBytesOf } from './node-stream.js'

export abstract class BoundedDecompressor implements Decompressor {
  protected readonly input: Uint8Array
  protected readonly maxOutputBytes: number
  protected readonly chunkBytes: number
  readonly #codec: string
  #produced = 0
  #pending: Uint8Array | undefined
  #done = false
  #busy = false
  #failure: unknown

  protected constructor(codec: string, input: Uint8Array, limits: DecompressLimits) {
    if (!(limits.maxOutputBytes >= 0)) throw new RangeError(`maxOutputBytes must be ≥ 0, got ${limits.maxOutputBytes}`)
    this.#codec = codec
    this.input = input
    this.maxOutputBytes = limits.maxOutputBytes
    this.chunkBytes = chunkBytesOf(limits.chunkBytes)
  }

  /** The next piece of decoded output (any size, possibly empty), or null once the input is fully decoded. */
  protected abstract produce(): Promise<Uint8Array | null>
  /** Frees what the decoder holds. Called once, on close, failure or the end. */
  protected abstract release(): void

  get produced(): number {
    return this.#produced
  }

  async next(): Promise<Buffer | null> {
    if (this.#failure !== undefined) throw this.#failure
    if (this.#busy) throw new Error(`${this.#codec} decompressor: next() called before the previous call settled`)
    if (this.#pending) return this.#take(this.#pending)
    if (this.#done) return null
    this.#busy = true
    try {
      for (;;) {
        const piece = await this.produce()
        if (piece === null) {
          this.#finish()
          return null
        }
        if (piece.length === 0) continue
        this.#produced += piece.length
        if (this.#produced > this.maxOutputBytes) {
          throw new DecompressionLimitError(this.#codec, this.input.length, this.#produced, this.maxOutputBytes)
        }
        return this.#take(piece)
      }
    } catch (error) {
      this.#failure = error
      this.#finish()
      throw error
    } finally {
      this.#busy = false
    }
  }

  close(): void {
    this.#failure ??= new Error(`${this.#codec} decompressor is closed`)
    this.#finish()
  }

  #finish(): void {
    this.#pending = undefined
    if (this.#done) return
    this.#done = true
    this.release()
  }

  #take(piece: Uint8Array): Buffer {
    let chunk = piece
    this.#pending = undefined
    if (piece.length > this.chunkBytes) {
      chunk = piece.subarray(0, this.chunkBytes)
      this.#pending = piece.subarray(this.chunkBytes)
    }
    return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  }
}
