import { AbortedError } from './errors.js'

/**
 * `promise`, or a rejection as soon as `signal` aborts, whichever comes first; the listener is removed either way, so
 * long-lived signals (a client's lifetime) do not collect one listener per wait. With `what`, the rejection is an
 * `AbortedError` naming what was being waited for; without it, the signal's own reason.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined, what?: string): Promise<T> {
  if (!signal) return promise
  const reason = () => (what === undefined ? signal.reason : new AbortedError(what, signal.reason))
  if (signal.aborted) return Promise.reject(reason())
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(reason())
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (err) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}
