// Records how many tests passed, failed and were skipped in this package, so that
// scripts/test-summary.ts can print one closing line for the whole monorepo. A check that cannot
// run on this machine (the ETSI ASN.1 modules are not beside the clone) is skipped or annotated
// with a note "not run: <check> (<reason>)": it is counted apart, neither passed nor skipped.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

const root = join(import.meta.dirname, '..');
const NOT_RUN = /^not run: (.+) \((.+)\)$/;

/** reason -> check -> number of tests; `partial`: tests that passed with that check left out. */
export type NotRun = Record<string, Record<string, { tests: number; partial: number }>>;
export interface PackageCounts {
  passed: number;
  failed: number;
  skipped: number;
  notRun?: NotRun;
}

/** Adds counts of one check that did not run to a tally. */
export function addNotRun(into: NotRun, reason: string, check: string, n: { tests: number; partial: number }): void {
  into[reason] ??= {};
  const byCheck = into[reason];
  byCheck[check] ??= { tests: 0, partial: 0 };
  byCheck[check].tests += n.tests;
  byCheck[check].partial += n.partial;
}

export default class CountReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const counts: Required<PackageCounts> = { passed: 0, failed: 0, skipped: 0, notRun: {} };
    const notRun = (note: string, field: 'tests' | 'partial'): boolean => {
      const m = NOT_RUN.exec(note);
      if (!m) return false;
      addNotRun(counts.notRun, m[2]!, m[1]!, { tests: 0, partial: 0, [field]: 1 });
      return true;
    };
    for (const mod of modules) {
      const failedBefore = counts.failed;
      for (const test of mod.children.allTests()) {
        const result = test.result();
        if (result.state === 'passed') {
          counts.passed += 1;
          const notes = new Set(test.annotations().flatMap((a) => (a.type === 'not-run' ? [a.message] : [])));
          for (const note of notes) notRun(note, 'partial');
        } else if (result.state === 'failed') counts.failed += 1;
        else if (!(result.state === 'skipped' && result.note && notRun(result.note, 'tests'))) counts.skipped += 1;
      }
      // A file that failed outside its tests (import, beforeAll) fails the run, though its tests read skipped.
      if (mod.state() === 'failed' && counts.failed === failedBefore) counts.failed += 1;
    }
    const dir = join(root, '.run', 'test-counts');
    mkdirSync(dir, { recursive: true });
    // The package is the folder the runner was started in (turbo runs each package's script there).
    const name = relative(root, process.cwd()).replace(/[^a-z0-9-]/gi, '_') || 'root';
    writeFileSync(join(dir, `${name}.json`), JSON.stringify(counts));
  }
}
