import { defineConfig } from 'vitest/config'

/**
 * Two projects: `unit` needs nothing; `conformance` talks to a real Kafka, started once per run by the global
 * setup (test/setup/kafka.ts) and shared by every conformance file through `inject('kafka')`.
 * `SKIFF_KAFKA_VERSION` picks the broker version (default: the newest 4.x).
 */
export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    minWorkers: 1,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'conformance',
          include: ['test/conformance/**/*.test.ts'],
          exclude: ['test/conformance/**/*.heavy.test.ts'],
          globalSetup: ['test/setup/kafka.ts'],
          testTimeout: 120_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
})
