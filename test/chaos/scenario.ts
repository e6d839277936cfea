// What every chaos scenario shares: how long a fault lasts (short in `npm test`, as the issue
// states it in `npm run test:chaos`) and where its recovery time is recorded for docs/RELIABILITY.md.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** `npm run test:chaos` sets LI_CHAOS_FULL=1: faults last as long as the reliability promises say. */
export const FULL = process.env.LI_CHAOS_FULL === '1';

/** Seconds a fault lasts: `full` in the chaos suite, `quick` when the scenario runs inside `npm test`. */
export const faultSeconds = (full: number, quick: number): number => (FULL ? full : quick);

const RESULTS = join(import.meta.dirname, '../../.run/chaos');

/**
 * Prints and records how long a scenario took to recover: from the fault's end until the LEMF
 * had caught up. One JSON line per run in .run/chaos/results.jsonl.
 */
export function recordRecovery(
  scenario: string,
  r: { faultSeconds: number; recoverySeconds: number; records: number; note?: string },
): void {
  const line = { scenario, full: FULL, at: new Date().toISOString(), ...r };
  console.log(
    `[chaos] ${scenario}: fault ${r.faultSeconds} s, recovered in ${r.recoverySeconds.toFixed(1)} s, ${r.records} records checked`,
  );
  mkdirSync(RESULTS, { recursive: true });
  appendFileSync(join(RESULTS, 'results.jsonl'), `${JSON.stringify(line)}\n`);
}
