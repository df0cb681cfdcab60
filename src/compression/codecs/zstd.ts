/**
 * zstd (Kafka compression type 4). Before any decoder runs, `planZstd` reads every frame and block header and
 * refuses what the limits forbid: dictionaries, windows over the cap, declared sizes over `maxOutputBytes`
 * (zstd-frame.ts). The planned frames are then decoded one at a time, incrementally, by node:zlib's zstd where it
 * exists (Node ≥ 22.15) or by fzstd, fed a few blocks per push.
 *
 * The window cap. A decoder must hold the frame's window. Kafka brokers and librdkafka accept windows up to 2^27
 * (libzstd's default limit), and a Java producer at `compression.zstd.level` 20..22 declares 32..128 MiB, so the
 * default cap is 2^27: refusing less would make such topics unreadable. Memory still stays small, because the
 * plan shrinks each frame's window to what it can produce before `maxOutputBytes` stops it (a 1 MiB batch
 * declaring a 128 MiB window costs about 1 MiB). Lower it with `createZstdCodec({ maxWindowBytes })` to refuse
 * large declared windows outright.
 */
import { CodecUnavailableError, CorruptCompressedDataError } from '../errors.js'
import type { CompressionCodec, CompressOptions, DecompressLimits, Decompressor } from '../types.js'
import { BoundedDecompressor } from './bounded.js'
import { planZstd, ZSTD_BROKER_WINDOW_MAX, type ZstdFramePlan, type ZstdFrameSource } from './zstd-frame.js'
import { fzstdFrameSource } from './zstd-fzstd.js'
import {
  nativeZstdCompress,
  nativeZstdCompressAvailable,
  nativeZstdDecompressAvailable,
  nativeZstdFrameSource,
} from './zstd-native.js'

/** Kafka's default `compression.zstd.level`. */
export const ZSTD_DEFAULT_LEVEL = 3
/** zstd's level range (ZSTD_minCLevel() .. ZSTD_maxCLevel()), which Kafka also accepts. */
export const ZSTD_MIN_LEVEL = -131072
export const ZSTD_MAX_LEVEL = 22

/** Where compression falls back to without node:zlib zstd: installed as an optional dependency of skiff. */
export const ZSTD_WASM_PACKAGE = '@bokuweb/zstd-wasm'

export interface ZstdCodecOptions {
  /**
   * Frames declaring a larger window (or single-segment content size) are refused with DecompressionLimitError
   * before decoding. Default 2^27 (128 MiB), the most a Kafka broker accepts; see the module comment.
   */
  maxWindowBytes?: number
  /** 'auto' (default): node:zlib where available, else fzstd. */
  decoder?: 'auto' | 'native' | 'fzstd'
  /** 'auto' (default): node:zlib where available, else the optional WASM package. */
  encoder?: 'auto' | 'native' | 'wasm'
}

export function createZstdCodec(options: ZstdCodecOptions = {}): CompressionCodec {
  const maxWindowBytes = options.maxWindowBytes ?? ZSTD_BROKER_WINDOW_MAX
  const decoder = options.decoder ?? 'auto'
  const encoder = options.encoder ?? 'auto'
  if (decoder === 'native' && !nativeZstdDecompressAvailable) throw unavailable('native zstd decoding')
  if (encoder === 'native' && !nativeZstdCompressAvailable) throw unavailable('native zstd compression')
  const openFrame =
    decoder === 'fzstd' || (decoder === 'auto' && !nativeZstdDecompressAvailable)
      ? fzstdFrameSource
      : nativeZstdFrameSource
  return {
    name: 'zstd',
    async compress(data: Buffer, compressOptions?: CompressOptions): Promise<Buffer> {
      const level = compressOptions?.level ?? ZSTD_DEFAULT_LEVEL
      if (!Number.isInteger(level) || level < ZSTD_MIN_LEVEL || level > ZSTD_MAX_LEVEL) {
        throw new RangeError(`zstd level must be an integer from ${ZSTD_MIN_LEVEL} to ${ZSTD_MAX_LEVEL}, got ${level}`)
      }
      // Frames from either encoder carry their content size, and no level declares a window over 2^27.
      if (encoder !== 'wasm' && nativeZstdCompressAvailable) return nativeZstdCompress(data, level)
      const wasm = await loadWasm()
      if (!wasm.api) throw unavailable('zstd compression', wasm.error)
      const out = wasm.api.compress(data, level)
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength)
    },
    decompressor(input: Buffer, limits: DecompressLimits): Decompressor {
      return new ZstdDecompressor(input, limits, maxWindowBytes, openFrame)
    },
  }
}

export const zstdCodec: CompressionCodec = createZstdCodec()

type OpenFrame = (input: Uint8Array, frame: ZstdFramePlan, chunkBytes: number) => ZstdFrameSource

class ZstdDecompressor extends BoundedDecompressor {
  readonly #maxWindowBytes: number
  readonly #openFrame: OpenFrame
  #frames: ZstdFramePlan[] | undefined
  #index = 0
  #source: ZstdFrameSource | undefined
  #frameOutput = 0

  constructor(input: Uint8Array, limits: DecompressLimits, maxWindowBytes: number, openFrame: OpenFrame) {
    super('zstd', input, limits)
    this.#maxWindowBytes = maxWindowBytes
    this.#openFrame = openFrame
  }

  protected async produce(): Promise<Uint8Array | null> {
    this.#frames ??= planZstd(this.input, { maxOutputBytes: this.maxOutputBytes, maxWindowBytes: this.#maxWindowBytes })
    for (;;) {
      const frame = this.#frames[this.#index]
      if (!frame) return null
      if (!this.#source) {
        this.#source = this.#openFrame(this.input, frame, this.chunkBytes)
        this.#frameOutput = 0
      }
      const piece = await this.#source.pull()
      const declared = frame.header.contentSize
      if (piece === null) {
        if (declared !== undefined && this.#frameOutput !== declared) throw sizeMismatch(frame, this.#frameOutput)
        this.#source.close()
        this.#source = undefined
        this.#index++
        continue
      }
      this.#frameOutput += piece.length
      if (declared !== undefined && this.#frameOutput > declared) throw sizeMismatch(frame, this.#frameOutput)
      return piece
    }
  }

  protected release(): void {
    this.#source?.close()
    this.#source = undefined
    this.#frames = undefined
  }
}

function sizeMismatch(frame: ZstdFramePlan, produced: number): CorruptCompressedDataError {
  const declared = frame.header.contentSize
  return new CorruptCompressedDataError(
    'zstd',
    `frame declares ${declared} bytes of content, decoded ${produced}`,
    frame.start,
  )
}

function unavailable(what: string, cause?: unknown): CodecUnavailableError {
  return new CodecUnavailableError(
    `${what} needs Node ≥ 22.15 (node:zlib zstd; this is ${process.version})` +
      (what.startsWith('native')
        ? ''
        : ` or the optional package ${ZSTD_WASM_PACKAGE} (npm install ${ZSTD_WASM_PACKAGE})`),
    cause === undefined ? undefined : { cause },
  )
}

interface WasmZstd {
  init(): Promise<void>
  compress(data: Uint8Array, level: number): Uint8Array
}

let wasm: Promise<{ api?: WasmZstd; error?: unknown }> | undefined

/** Loads the optional WASM encoder once, on first use; the name is a variable so bundlers leave it alone. */
function loadWasm(): Promise<{ api?: WasmZstd; error?: unknown }> {
  wasm ??= (async () => {
    try {
      const name: string = ZSTD_WASM_PACKAGE
      const mod = (await import(name)) as { default?: WasmZstd } & Partial<WasmZstd>
      const api = (mod.default ?? mod) as WasmZstd
      await api.init()
      return { api }
    } catch (error) {
      return { error }
    }
  })()
  return wasm
}
