// `npm run test:unit`: every package's unit tests (src/**/*.test.ts), the demo's (test/demo) and the structure test in one
// Vitest run, without the broker. Integration tests (test/*.int.test.ts, the root test/ package)
// run only in `npm test`.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

const root = import.meta.dirname;
const pinned: string = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies.node;
if (process.versions.node.split('.')[0] !== pinned.split('.')[0]) {
  throw new Error(
    `expected Node ${pinned} (the pinned "node" devDependency), got ${process.version}: run npm run test:unit`,
  );
}

const packages = ['libs', 'services'].flatMap((dir) =>
  readdirSync(join(root, dir), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => `${dir}/${d.name}`),
);

export default defineConfig({
  test: {
    projects: [
      ...[...packages, 'checks'].map((dir) => ({
        test: { name: dir, root: join(root, dir), include: ['src/**/*.test.ts'], testTimeout: 30_000 },
      })),
      // The demo's pure report (test/demo/report.ts); the rest of test/ needs the broker.
      { test: { name: 'test/demo', root: join(root, 'test'), include: ['demo/**/*.test.ts'] } },
    ],
  },
});
