import CRC32C from 'crc-32/crc32c.js'

/**
 * CRC-32C (Castagnoli), the checksum of record batch v2 (KIP-98), over `buf[start, end)`. Unsigned.
 * Backed by the `crc-32` package; subarray views keep it copy-free.
 */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  const view = start === 0 && end === buf.length ? buf : buf.subarray(start, end)
  return CRC32C.buf(view, 0) >>> 0
}
