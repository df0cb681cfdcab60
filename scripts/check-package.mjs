// Loads the built package through its `exports` map, as ESM and as CommonJS, the way users will.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const dir = mkdtempSync(join(tmpdir(), 'skiff-pkg-'))
try {
  mkdirSync(join(dir, 'node_modules'))
  symlinkSync(root, join(dir, 'node_modules', 'skiff'), 'dir')
  writeFileSync(
    join(dir, 'esm.mjs'),
    `import { Connection, ALL_APIS, ErrorCode, ProtocolError } from 'skiff'
import { startKafka } from 'skiff/testing'
if (typeof Connection.connect !== 'function' || ALL_APIS.length < 30 || ErrorCode.NOT_LEADER_OR_FOLLOWER !== 6) throw new Error('esm exports')
if (typeof startKafka !== 'function' || !(new ProtocolError('x') instanceof Error)) throw new Error('esm testing exports')
console.log('esm ok:', ALL_APIS.length, 'apis')`,
  )
  writeFileSync(
    join(dir, 'cjs.cjs'),
    `const { Connection, ALL_APIS } = require('skiff')
const { startKafka } = require('skiff/testing')
if (typeof Connection.connect !== 'function' || typeof startKafka !== 'function') throw new Error('cjs exports')
console.log('cjs ok:', ALL_APIS.length, 'apis')`,
  )
  execFileSync(process.execPath, ['esm.mjs'], { cwd: dir, stdio: 'inherit' })
  execFileSync(process.execPath, ['cjs.cjs'], { cwd: dir, stdio: 'inherit' })
} finally {
  rmSync(dir, { recursive: true, force: true })
}
