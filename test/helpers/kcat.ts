import { execFileSync, spawnSync } from 'node:child_process'

/** Is Debian's kcat installed? (.ci/run installs it.) */
export function kcatAvailable(): boolean {
  return spawnSync('kcat', ['-V'], { stdio: 'ignore' }).status === 0
}

/** Produces `lines` with kcat (librdkafka), one message per line; extra args as kcat takes them. */
export function kcatProduce(bootstrap: string, topic: string, lines: string[], args: string[] = []): void {
  execFileSync('kcat', ['-b', bootstrap, '-t', topic, '-P', '-X', 'topic.request.required.acks=all', ...args], {
    input: `${lines.join('\n')}\n`,
    stdio: ['pipe', 'ignore', 'pipe'],
    timeout: 60_000,
  })
}

export interface KcatMessage {
  topic: string
  partition: number
  offset: number
  tstype: string
  ts: number
  broker: number
  headers?: string[]
  key: string | null
  payload: string | null
}

/** Reads a partition from the beginning to its end with `kcat -C -J -e`. */
export function kcatConsume(bootstrap: string, topic: string, partition: number, args: string[] = []): KcatMessage[] {
  const out = execFileSync(
    'kcat',
    ['-b', bootstrap, '-t', topic, '-p', String(partition), '-C', '-J', '-e', '-o', 'beginning', ...args],
    {
      encoding: 'utf8',
      timeout: 60_000,
      maxBuffer: 512 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as KcatMessage)
}
