/**
 * The compression layer knows nothing of Kafka: it turns bytes into bytes, under hard limits. The protocol layer
 * maps Kafka's attribute bits to these codecs (see src/protocol/records).
 */

/** Hard limits for one decompression. */
export interface DecompressLimits {
  /**
   * Output beyond this many bytes stops decompression with {@link DecompressionLimitError}, while decoding:
   * the codec never allocates, nor produces, more than this (plus at most one output chunk).
   */
  maxOutputBytes: number
  /** Preferred size of the chunks `next()` returns. Default 256 KiB. */
  chunkBytes?: number
}

/**
 * Incremental output of one compressed input: chunks are produced as they are pulled, so the whole output never
 * has to exist at once. Declared sizes (snappy lengths, lz4 block sizes, zstd windows and content sizes) are
 * checked against the limits before anything is allocated for them.
 */
export interface Decompressor {
  /** The next chunk of output, or null once the input is fully decoded (and verified, where it has checksums). */
  next(): Promise<Buffer | null>
  /** Bytes produced so far. */
  readonly produced: number
  /** Frees what the decoder holds (windows, native handles). Idempotent; call it when abandoning early. */
  close(): void
}

export type CodecName = 'gzip' | 'snappy' | 'lz4' | 'zstd'

export interface CompressOptions {
  /** Codec-specific level; each codec documents its range and default. */
  level?: number
}

/** One compression format. */
export interface CompressionCodec {
  readonly name: CodecName
  compress(data: Buffer, options?: CompressOptions): Promise<Buffer>
  decompressor(input: Buffer, limits: DecompressLimits): Decompressor
}
