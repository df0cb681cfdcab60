// The two copies every LZ77-family block decoder (lz4, snappy) spends its time in. Both are called only after the
// caller has checked that the whole copy lies inside src and dst; the fast paths move 4 bytes per DataView load and
// store, 16 at a time, and may run past the end of the copy to the end of its last group — only where that whole
// group still lies inside `src` (reads, `s <= sFast`) and before the block's end (writes, `d <= dFast`). What they
// write past the copy is overwritten by the next element, or lies past the block's output and is never handed out.

/** Copies the literals src[s, s + len) to dst[d, d + len). */
export function copyLiterals(
  src: Uint8Array,
  sv: DataView,
  dst: Uint8Array,
  dv: DataView,
  s: number,
  d: number,
  len: number,
  sFast: number,
  dFast: number,
): void {
  if (len <= 64 && s + len <= sFast + 1 && d + len <= dFast + 1) {
    for (const e = d + len; d < e; d += 16, s += 16) {
      dv.setInt32(d, sv.getInt32(s, true), true)
      dv.setInt32(d + 4, sv.getInt32(s + 4, true), true)
      dv.setInt32(d + 8, sv.getInt32(s + 8, true), true)
      dv.setInt32(d + 12, sv.getInt32(s + 12, true), true)
    }
  } else if (len < 64) {
    for (const e = s + len; s < e; ) dst[d++] = src[s++]!
  } else {
    // A plain Uint8Array view: cheaper to make than Buffer#subarray's FastBuffer.
    dst.set(new Uint8Array(src.buffer, src.byteOffset + s, len), d)
  }
}

/** Copies the match dst[m, ...) to dst[d, e), repeating the last `d - m` bytes when the two overlap. */
export function copyMatch(dst: Uint8Array, dv: DataView, m: number, d: number, e: number, dFast: number): void {
  const length = e - d
  if (length <= 64 && d - m >= 4 && e <= dFast + 1) {
    // Front to back: with an offset of at least 4, each load reads only bytes already written (before this match or
    // by its earlier stores), so an overlapping match repeats the last `d - m` bytes as it must.
    dv.setInt32(d, dv.getInt32(m, true), true)
    dv.setInt32(d + 4, dv.getInt32(m + 4, true), true)
    for (d += 8, m += 8; d < e; d += 16, m += 16) {
      dv.setInt32(d, dv.getInt32(m, true), true)
      dv.setInt32(d + 4, dv.getInt32(m + 4, true), true)
      dv.setInt32(d + 8, dv.getInt32(m + 8, true), true)
      dv.setInt32(d + 12, dv.getInt32(m + 12, true), true)
    }
  } else if (length <= 64) {
    // An offset of 1..3 (repeating the last 1..3 bytes), or near the end of the block: byte by byte.
    while (d < e) dst[d++] = dst[m++]!
  } else {
    // Long: dst[m, d) is periodic (when the offset is below the length), so copy ever longer whole periods from m; a
    // match that does not overlap its source is a single memmove.
    while (d < e) {
      const n = Math.min(d - m, e - d)
      dst.copyWithin(d, m, m + n)
      d += n
    }
  }
}
