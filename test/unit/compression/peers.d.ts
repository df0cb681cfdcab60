// Types for the two peer implementations the snappy/lz4 tests and bench/compression-snappy-lz4.ts compare against
// (devDependencies; neither ships its own).

declare module 'lz4js' {
  /** A whole LZ4 frame (4 MiB linked blocks, no checksums). */
  export function compress(src: Uint8Array, maxSize?: number): Uint8Array
  /** A whole LZ4 frame; sizes its output from the frame and does no bounds checking. */
  export function decompress(src: Uint8Array, maxSize?: number): Uint8Array
  export function compressBlock(
    src: Uint8Array,
    dst: Uint8Array,
    sIndex: number,
    sLength: number,
    hashTable: Uint32Array,
  ): number
  export function decompressBlock(
    src: Uint8Array,
    dst: Uint8Array,
    sIndex: number,
    sLength: number,
    dIndex: number,
  ): number
  export function compressBound(n: number): number
}

declare module 'lz4js/xxh32.js' {
  /** xxHash32 of buf[offset, offset + length) (signed 32-bit result). */
  export function hash(seed: number, buf: Uint8Array, offset: number, length: number): number
}

declare module 'snappyjs' {
  /** One raw snappy block (no framing). */
  export function compress<T extends Uint8Array | ArrayBuffer>(input: T): T
  export function uncompress<T extends Uint8Array | ArrayBuffer>(input: T, maxLength?: number): T
}
