// Prints the monorepo's closing test line, "N passed, N failed", from what every
// package's count reporter recorded during this run.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(import.meta.dirname, '..', '.run', 'test-counts');
if (!existsSync(dir)) {
  console.log('tests: 0 passed, 0 failed (no test ran)');
  process.exit(1);
}
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  const c = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { passed: number; failed: number; skipped: number };
  console.log(`${file.replace(/\.json$/, '').padEnd(20)} ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
  passed += c.passed;
  failed += c.failed;
  skipped += c.skipped;
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
