// Shared Vitest settings: every package's vitest.config.ts builds on these.
import { fileURLToPath } from 'node:url';
import type { ViteUserConfig } from 'vitest/config';

const countReporter = fileURLToPath(new URL('./scripts/count-reporter.ts', import.meta.url));

export const shared: ViteUserConfig = {
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Integration tests share one broker on a 2-core machine: run files one after the other.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', countReporter],
  },
};
