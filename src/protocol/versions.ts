/**
 * Version ranges in the notation of Kafka's message schemas: `"3+"`, `"0-4"`, `"7"`, `"none"`.
 * Writing them as the schema does keeps every codec easy to diff against `message/*.json`.
 */
export interface VersionRange {
  readonly min: number
  /** Inclusive; `Infinity` for open ranges like `"3+"`. */
  readonly max: number
}

export const NO_VERSIONS: VersionRange = { min: 1, max: 0 }
export const ALL_VERSIONS: VersionRange = { min: 0, max: Number.POSITIVE_INFINITY }

export function parseVersions(text: string): VersionRange {
  const t = text.trim()
  if (t === 'none') return NO_VERSIONS
  let m = /^(\d+)\+$/.exec(t)
  if (m) return { min: Number(m[1]), max: Number.POSITIVE_INFINITY }
  m = /^(\d+)-(\d+)$/.exec(t)
  if (m) return { min: Number(m[1]), max: Number(m[2]) }
  m = /^(\d+)$/.exec(t)
  if (m) return { min: Number(m[1]), max: Number(m[1]) }
  throw new TypeError(`not a version range: ${JSON.stringify(text)}`)
}

export function inRange(v: number, r: VersionRange): boolean {
  return v >= r.min && v <= r.max
}

export function formatRange(r: VersionRange): string {
  if (r.max < r.min) return 'none'
  if (r.max === Number.POSITIVE_INFINITY) return `${r.min}+`
  return r.min === r.max ? `${r.min}` : `${r.min}-${r.max}`
}
