import { spawn } from 'node:child_process'
import { describe, expect, test } from 'vitest'
import { testKafka } from '../helpers/kafka.js'

describe('the README streaming example', () => {
  test('`npm run example:stream` runs to the end against a real broker', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/stream-example.ts'], {
      cwd: process.cwd(),
      env: { ...process.env, SKIFF_BOOTSTRAP: testKafka().bootstrap },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    expect(code, stderr).toBe(0)
    expect(stdout).toMatch(/handled: 199 live orders \(p99 \d+ ms from produce to billed\), 20000 re-imported/)
    expect(stdout).toMatch(/dead-lettered: orders-[a-z0-9]+\[\d\]@\d+ → orders-[a-z0-9]+\.dlq\n/)
    expect(stdout).toMatch(/: 0 records, oldest unprocessed 0 ms old/)
  })
})
