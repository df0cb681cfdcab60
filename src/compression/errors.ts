import { SkiffError } from '../errors.js'

/** Decompressed output passed `maxOutputBytes`: a batch that expands far beyond its size on the wire (a bomb). */
export class DecompressionLimitError extends SkiffError {
  override name = 'DecompressionLimitError'
  constructor(
    readonly codec: string,
    readonly compressedBytes: number,
    /** Bytes produced (or declared by a header) when decompression stopped. */
    readonly producedBytes: number,
    readonly limitBytes: number,
    /** How the limit was reached, e.g. a header that declared too much (refused before decoding). */
    readonly detail?: string,
  ) {
    super(
      `${codec} data of ${compressedBytes} bytes expands past the limit of ${limitBytes} bytes` +
        ` (stopped after ${producedBytes} bytes${detail ? `; ${detail}` : ''})`,
    )
  }
}

/** Compressed bytes that are not valid for their format: bad magic, truncated blocks, out-of-range references. */
export class CorruptCompressedDataError extends SkiffError {
  override name = 'CorruptCompressedDataError'
  constructor(
    readonly codec: string,
    problem: string,
    readonly inputOffset?: number,
  ) {
    super(`corrupt ${codec} data: ${problem}${inputOffset !== undefined ? ` (input byte ${inputOffset})` : ''}`)
  }
}

/** A codec that cannot run here, with what to install or upgrade. */
export class CodecUnavailableError extends SkiffError {
  override name = 'CodecUnavailableError'
}
