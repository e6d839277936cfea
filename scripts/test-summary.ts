// Prints the monorepo's closing test line, "N passed, N failed", from what every
// package's count reporter recorded during this run. Checks that could not run here (no ETSI
// ASN.1 modules) are listed by name on the line before it, never counted as passed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { addNotRun, type NotRun, type PackageCounts } from './count-reporter.ts';

const dir = join(import.meta.dirname, '..', '.run', 'test-counts');
if (!existsSync(dir)) {
  console.log('tests: 0 passed, 0 failed (no test ran)');
  process.exit(1);
}
let passed = 0;
let failed = 0;
let skipped = 0;
const notRun: NotRun = {};
for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  const c = JSON.parse(readFileSync(join(dir, file), 'utf8')) as PackageCounts;
  console.log(`${file.replace(/\.json$/, '').padEnd(20)} ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
  passed += c.passed;
  failed += c.failed;
  skipped += c.skipped;
  for (const [reason, checks] of Object.entries(c.notRun ?? {})) {
    for (const [check, n] of Object.entries(checks)) {
      addNotRun(notRun, reason, check, n);
    }
  }
}
for (const [reason, checks] of Object.entries(notRun)) {
  const list = Object.entries(checks).map(([check, n]) => {
    const tests = (k: number) => `${k} test${k === 1 ? '' : 's'}`;
    const parts = [n.tests > 0 ? tests(n.tests) : '', n.partial > 0 ? `part of ${tests(n.partial)} that passed` : ''];
    return `${check} (${parts.filter(Boolean).join(', ')})`;
  });
  console.log(`NOT RUN (${reason}): ${list.join(', ')}`);
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
