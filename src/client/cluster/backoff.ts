/**
 * Exponential backoff with jitter for reconnects and retries: base · 2^attempt, capped, then ±20% random jitter so
 * many clients failing together do not come back together (as the Java client's reconnect.backoff does).
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30))
  const jitter = 0.8 + random() * 0.4
  return Math.round(Math.min(maxMs, exp * jitter))
}
