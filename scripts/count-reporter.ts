// Records how many tests passed, failed and were skipped in this package, so that
// scripts/test-summary.ts can print one closing line for the whole monorepo.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

const root = join(import.meta.dirname, '..');

export default class CountReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const mod of modules) {
      if (mod.state() === 'failed' && [...mod.children.allTests()].length === 0) counts.failed += 1;
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed += 1;
        else if (state === 'failed') counts.failed += 1;
        else counts.skipped += 1;
      }
    }
    const dir = join(root, '.run', 'test-counts');
    mkdirSync(dir, { recursive: true });
    // The package is the folder the runner was started in (turbo runs each package's script there).
    const name = relative(root, process.cwd()).replace(/[^a-z0-9-]/gi, '_') || 'root';
    writeFileSync(join(dir, `${name}.json`), JSON.stringify(counts));
  }
}
