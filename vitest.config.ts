import { defineConfig } from 'vitest/config';

// Projects: fast in-process unit tests, and integration tests that start real
// processes (simulators, influxd, mosquitto, socat, chromium). Integration files run
// in forked workers, at most two at once: the suite must fit 2 cores.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          sequence: { groupOrder: 0 },
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          sequence: { groupOrder: 1 },
          pool: 'forks',
          maxWorkers: 2,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Faults against gateways under steady load (real processes), after integration.
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          sequence: { groupOrder: 2 },
          pool: 'forks',
          maxWorkers: 2,
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Property tests against hostile input (fast-check); GATEHOUSE_FUZZ_RUNS scales them.
        test: {
          name: 'fuzz',
          include: ['test/fuzz/**/*.test.ts'],
          sequence: { groupOrder: 3 },
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Last: reads every gateway's output the other projects left and fails on any secret in it.
        test: {
          name: 'logs',
          include: ['test/logs/**/*.test.ts'],
          sequence: { groupOrder: 9 },
          testTimeout: 60_000,
        },
      },
    ],
  },
});
