import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests (decision logic, small fakes) and integration tests that run the built image
// against a real HTCondor pool in podman containers (files named *.int.test.ts).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.int.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.int.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          // Containers share one pool and one machine of 2 cores: run files one after another.
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
