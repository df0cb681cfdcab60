#!/usr/bin/env node
// The `skiff` process: runs `main` (main.ts) with the real streams, sets the exit code, and makes Ctrl-C stop a fetch
// cleanly (a second Ctrl-C exits at once). Nothing here is importable: importing this module runs the CLI.
import { processContext } from './context.js'
import { EXIT } from './errors.js'
import { main } from './main.js'

async function run(): Promise<void> {
  const interrupt = new AbortController()
  let handled = false
  process.on('SIGINT', () => {
    if (!handled || interrupt.signal.aborted) process.exit(EXIT.interrupted)
    interrupt.abort()
  })
  const ctx = processContext(interrupt.signal, () => {
    handled = true
  })
  const code = await main(process.argv.slice(2), ctx)
  process.exitCode = code
  // Let stdout drain and the loop end on its own; if a stray handle keeps it alive, leave anyway.
  setTimeout(() => process.exit(code), 3000).unref()
}

await run()
