import { defineConfig } from 'vitest/config';

/**
 * Four projects: `unit` — pure logic beside the code (src/**\/*.test.ts), milliseconds, no I/O;
 * `integration` — test/**, against a real Kafka broker started once per run and the local MariaDB;
 * `resilience` — failure injection on shared services (MariaDB stopped), alone and last;
 * `chaos` — only with `npm run test:chaos`; `cluster` — broker faults on a three-node cluster, only with
 * `npm run test:cluster`.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          environment: 'node',
          // Unit tests run first: a logic error shows in seconds, before any broker starts.
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: ['test/resilience/**', 'test/chaos/**', 'test/cluster-faults/**'],
          environment: 'node',
          globalSetup: ['test/setup/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
          // Two cores: more workers only contend with the broker's JVM.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: 'resilience',
          // Failure injection on shared services (stopping MariaDB): alone, after everything else.
          include: ['test/resilience/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/setup/global-setup.ts'],
          testTimeout: 240_000,
          hookTimeout: 180_000,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
      {
        test: {
          name: 'chaos',
          // `npm run test:chaos`: the whole pipeline under seeded kill -9s, a broker restart and a
          // MariaDB outage. Not part of `npm test` (minutes per seed); alone, like resilience.
          include: ['test/chaos/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/setup/global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 180_000,
          fileParallelism: false,
          sequence: { groupOrder: 3 },
        },
      },
      {
        test: {
          name: 'cluster',
          // `npm run test:cluster`: brokers of a three-node cluster killed, stopped and paused under the
          // whole pipeline (issue 23). Not part of `npm test` (about ten minutes); it brings its own
          // cluster, so its setup starts no shared broker.
          include: ['test/cluster-faults/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/setup/cluster-setup.ts'],
          testTimeout: 900_000,
          hookTimeout: 300_000,
          fileParallelism: false,
          sequence: { groupOrder: 4 },
        },
      },
    ],
  },
});
