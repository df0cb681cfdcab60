import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { nativeZstdCompressAvailable } from '../../../src/compression/codecs/zstd-native.js'

/**
 * zstd compression needs node:zlib's zstd (Node ≥ 22.15) or the optional WASM package. With neither, compressing
 * is a CodecUnavailableError that says what to install or upgrade; decompressing still works (fzstd).
 */
describe('zstd without node:zlib zstd and without the optional WASM package', () => {
  const script = `
    import { CODECS } from ${JSON.stringify(join(process.cwd(), 'src/compression/index.ts'))}
    const data = Buffer.from('hello hello hello hello')
    try {
      const out = await CODECS.zstd.compress(data)
      process.stdout.write(JSON.stringify({ ok: true, bytes: out.length }))
    } catch (err) {
      process.stdout.write(JSON.stringify({ ok: false, name: err.name, message: err.message }))
    }
  `
  test(
    nativeZstdCompressAvailable
      ? 'compresses natively (this Node has zlib zstd)'
      : 'is a CodecUnavailableError naming the upgrade and the package',
    () => {
      const out = execFileSync(
        process.execPath,
        [
          '--import',
          'tsx',
          '--import',
          join(process.cwd(), 'test/fixtures/loaders/no-zstd-wasm.mjs'),
          '--input-type=module',
          '-e',
          script,
        ],
        { encoding: 'utf8', timeout: 60_000 },
      )
      const result = JSON.parse(out) as { ok: boolean; name?: string; message?: string; bytes?: number }
      if (nativeZstdCompressAvailable) {
        expect(result).toMatchObject({ ok: true })
      } else {
        expect(result.ok).toBe(false)
        expect(result.name).toBe('CodecUnavailableError')
        expect(result.message).toMatch(/22\.15/)
        expect(result.message).toMatch(/@bokuweb\/zstd-wasm/)
      }
    },
  )
})
