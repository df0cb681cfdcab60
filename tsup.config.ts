import { defineConfig } from 'tsup'

export default defineConfig({
  entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  splitting: true,
  // testcontainers is optional at runtime and must be loaded lazily (see src/testing/providers/testcontainers.ts)
  external: ['testcontainers', '@testcontainers/kafka'],
})
