import { mkdirSync, rmSync, statSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { HarnessError } from '../errors.js'

/**
 * Runs `fn` holding a lock directory (mkdir is atomic). A lock older than `staleMs` is taken to belong to a dead
 * process and broken.
 */
export async function withDirLock<T>(
  path: string,
  staleMs: number,
  signal: AbortSignal | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + staleMs * 2
  for (;;) {
    try {
      mkdirSync(path)
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      try {
        if (Date.now() - statSync(path).mtimeMs > staleMs) {
          rmSync(path, { recursive: true, force: true })
          continue
        }
      } catch {
        continue
      }
      if (Date.now() > deadline) throw new HarnessError(`timed out waiting for lock ${path}`)
      await sleep(250, undefined, { signal })
    }
  }
  try {
    return await fn()
  } finally {
    rmSync(path, { recursive: true, force: true })
  }
}
