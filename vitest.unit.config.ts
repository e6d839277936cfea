// `npm run test:unit`: every package's unit tests (src/**/*.test.ts) in one Vitest run, without
// the broker. Integration tests (test/*.int.test.ts, the root test/ package) run only in `npm test`.
import { readdirSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

const packages = ['libs', 'services'].flatMap((dir) => readdirSync(dir).map((name) => `${dir}/${name}`));

export default defineConfig({
  test: {
    projects: [...packages, 'checks'].map((root) => ({
      test: { name: root, root, include: ['src/**/*.test.ts'], testTimeout: 30_000 },
    })),
  },
});
