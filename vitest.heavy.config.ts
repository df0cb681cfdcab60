import { defineConfig } from 'vitest/config'

/** The heavy suite: million-record, bomb, multi-broker kill and multi-version runs. Run by `.ci/run` after `npm test`. */
export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 1,
    minWorkers: 1,
    include: ['test/conformance/**/*.heavy.test.ts'],
    globalSetup: ['test/setup/kafka.ts'],
    testTimeout: 900_000,
    hookTimeout: 600_000,
  },
})
