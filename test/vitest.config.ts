import { defineConfig } from 'vitest/config';
import { shared } from '../vitest.shared.ts';

export default defineConfig({
  ...shared,
  test: {
    ...shared.test,
    include: ['e2e/**/*.test.ts', 'demo/**/*.test.ts', 'chaos/**/*.test.ts'],
    testTimeout: 120_000,
  },
});
