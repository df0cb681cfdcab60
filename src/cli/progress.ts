// The progress line of a bounded fetch: on stderr, only when stderr is a terminal, redrawn in place.
import { formatBytes, formatCount, formatDuration } from './format.js'

export interface ProgressState {
  records: number
  /** Key and value bytes read. */
  bytes: number
  /** Offsets covered so far and in all (records, plus the markers and gaps between them). */
  offsetsDone: number
  offsetsTotal: number
  elapsedMs: number
}

/** `12,345 records (41%)  12.1 MiB  3.0 MiB/s  3,050 rec/s  ETA 6.2 s`. */
export function formatProgress(s: ProgressState): string {
  const fraction = s.offsetsTotal > 0 ? Math.min(1, s.offsetsDone / s.offsetsTotal) : 1
  const seconds = s.elapsedMs / 1000
  const rate = seconds > 0 ? s.records / seconds : 0
  const bytesRate = seconds > 0 ? s.bytes / seconds : 0
  let line = `${formatCount(s.records)} records (${Math.floor(fraction * 100)}%)  ${formatBytes(s.bytes)}`
  if (seconds >= 0.5) line += `  ${formatBytes(bytesRate)}/s  ${formatCount(rate)} rec/s`
  if (seconds >= 1 && fraction > 0 && fraction < 1)
    line += `  ETA ${formatDuration((s.elapsedMs / fraction) * (1 - fraction))}`
  return line
}

/** Redraws the line every `intervalMs`; `stop()` erases it, so the terminal is left as if it had never been there. */
export class ProgressLine {
  private timer: NodeJS.Timeout | undefined
  private drawn = false
  private readonly started = Date.now()

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly state: () => Omit<ProgressState, 'elapsedMs'>,
    intervalMs = 200,
  ) {
    this.timer = setInterval(() => this.draw(), intervalMs)
    this.timer.unref()
  }

  private draw(): void {
    const line = formatProgress({ ...this.state(), elapsedMs: Date.now() - this.started })
    const width = (this.stream as { columns?: number }).columns ?? 120
    this.stream.write(`\r\x1b[K${line.slice(0, width - 1)}`)
    this.drawn = true
  }

  /** Erases the line (before other diagnostics are printed, and at the end). */
  clear(): void {
    if (this.drawn) this.stream.write('\r\x1b[K')
    this.drawn = false
  }

  get elapsedMs(): number {
    return Date.now() - this.started
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
    this.clear()
  }
}
