// Shared by the stream processor crash scenario and its child process (which must not import vitest).

export interface StreamChildArgs {
  bootstrap: string
  groupId: string
  groupInstanceId: string
  topic: string
  log: string
  concurrency: number
  commitIntervalMs: number
  /** The handler sleeps a random 0–latencyMaxMs ms per attempt. */
  latencyMaxMs: number
}

/** True for the ~1% of records whose first attempt fails (the same in every process). */
export function failsFirst(partition: number, offset: number): boolean {
  return (offset * 31 + partition * 17) % 100 === 0
}
