import { defineConfig } from 'tsup'

export default defineConfig([
  {
    entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    // dist/cli is the other build's (the two run in parallel): clean around it.
    clean: ['!cli/**'],
    target: 'node20',
    platform: 'node',
    splitting: true,
    // testcontainers is optional at runtime and must be loaded lazily (see src/testing/providers/testcontainers.ts)
    external: ['testcontainers', '@testcontainers/kafka'],
  },
  {
    // The `skiff` command (package.json "bin"): ESM only, its shebang kept by tsup, commands split into chunks that
    // load on demand.
    entry: { index: 'src/cli/index.ts' },
    outDir: 'dist/cli',
    format: ['esm'],
    dts: false,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    splitting: true,
    external: ['testcontainers', '@testcontainers/kafka'],
  },
])
