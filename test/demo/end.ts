// The end of a demo run (run.ts, and its end-to-end test): waiting for the pipeline to drain, then
// the report of what the LEMFs received.
import type { LemfReceiver } from '../pipeline/lemf.ts';
import type { Backlog, PipelineOffsets } from './pipeline-offsets.ts';
import {
  checkSequences,
  DrainTracker,
  describeCheck,
  isComplete,
  type StreamCheck,
  type Verdict,
  verdict,
} from './report.ts';

export interface DrainOptions {
  /** Give up after this long. */
  drainMs: number;
  /** Drained once the LEMFs' count has not grown for this long with nothing left to commit. */
  quietMs: number;
  say: (s: string) => void;
  /** True once the services are stopping (Ctrl-C): report what arrived without waiting. */
  stopping?: () => boolean;
}

/** `left`: records still on their way to the LEMFs; `settled`: false when the LEMFs were still receiving. */
export interface Drained {
  left: number;
  settled: boolean;
}

export const received = (lemfs: readonly LemfReceiver[]): number => lemfs.reduce((n, l) => n + l.records.length, 0);

const perService = (b: Backlog) =>
  Object.entries(b.byService)
    .map(([s, n]) => `${s} ${n}`)
    .join(', ');

const partsOf = (b: Backlog) =>
  b.parts.map((p) => `${p.groupId} ${p.topic}[${p.partition}] ${p.high - p.from}`).join(', ');

/** Waits until nothing is left to commit and the LEMFs' count stays put, or the deadline passes. */
export async function drain(
  lemfs: readonly LemfReceiver[],
  offsets: PipelineOffsets,
  o: DrainOptions,
): Promise<Drained> {
  const tracker = new DrainTracker(o.quietMs);
  const deadline = Date.now() + o.drainMs;
  const gaveUp = (left: number, backlog: Backlog, count: number): Drained => {
    o.say(
      `\x1b[31mgave up waiting after ${o.drainMs / 1000} s\x1b[0m: ${left} records still in the pipeline (${partsOf(backlog) || 'none uncommitted'}), the LEMFs hold ${count}; LI_DEMO_DRAIN_SECONDS sets the wait`,
    );
    return { left, settled: false };
  };
  let toldAt = 0;
  let inspectedAt = 0;
  for (;;) {
    const backlog = await offsets.backlog();
    const now = Date.now();
    const count = received(lemfs);
    const status = tracker.observe({ atMs: now, received: count, backlog: backlog.total });
    if (status === 'drained') {
      o.say(`pipeline drained: nothing left to commit, the LEMFs hold ${count} records`);
      return { left: 0, settled: true };
    }
    if (o.stopping?.()) return { left: backlog.total, settled: true };
    const ccOnly = backlog.total === backlog.byService['cc-delivery'];
    // A LEMF's group may stay behind other LEMFs' records it has read past: look at what they are.
    if (ccOnly && (status === 'quiet' || now >= deadline) && (now - inspectedAt >= 10_000 || now >= deadline)) {
      inspectedAt = now;
      const own = await offsets.addressed(backlog.parts);
      if (own === 0) {
        o.say(
          `pipeline drained: the LEMFs hold ${count} records; cc-delivery has not committed ${backlog.total} offsets it read past, none of them addressed to its LEMF (${partsOf(backlog)})`,
        );
        return { left: 0, settled: true };
      }
      if (now >= deadline) return gaveUp(own, backlog, count);
    }
    if (now >= deadline) return gaveUp(backlog.total, backlog, count);
    if (now - toldAt >= 2000) {
      o.say(
        backlog.total > 0
          ? `waiting for ${backlog.total} records still in the pipeline (${perService(backlog)}); the LEMFs hold ${count}`
          : `waiting for the LEMFs' count to settle (${count} records)`,
      );
      toldAt = now;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Prints per LEMF and LIID the records, CINs and whether each (CIN, handover) is 0..n, and the
 * tenants' new DLQ records; returns the verdict. `dlq`: end offsets of li.<t>.dlq before and after.
 */
export function report(
  lemfs: readonly LemfReceiver[],
  liids: readonly string[],
  pipeline: Drained,
  dlq: { before: Record<string, number>; after: Record<string, number> },
): Verdict {
  const lines: string[] = ['', '\x1b[1msequence numbers per LIID and LEMF\x1b[0m'];
  const checks: StreamCheck[] = [];
  for (const l of lemfs) {
    const own = checkSequences(l.records);
    checks.push(...own);
    lines.push(`${l.name}: ${l.records.length} records`);
    const others: string[] = [];
    for (const liid of [...new Set(own.map((c) => c.liid))]) {
      const of = own.filter((c) => c.liid === liid);
      const n = of.reduce((a, c) => a + c.records, 0);
      if (!liids.includes(liid)) {
        others.push(`${liid} (${n})`);
        continue;
      }
      const cins = [...new Set(of.map((c) => c.cin))];
      lines.push(`  LIID ${liid}: ${n} records, CINs ${cins.join(', ')}`);
      for (const c of of) {
        const mark = isComplete(c) ? 'ok ' : '\x1b[31m!! \x1b[0m';
        lines.push(`    ${mark} CIN ${c.cin} ${c.handover}: ${c.records} records, ${describeCheck(c)}`);
      }
    }
    const bare = l.records.filter((r) => r.seq < 0).length;
    if (bare > 0) lines.push(`  ${bare} records without a sequence number`);
    // HI1 notifications ending earlier runs' warrants: their numbering began in those runs.
    if (others.length > 0) lines.push(`  earlier runs' LIIDs, not checked: ${others.join(', ')}`);
  }
  const dlqNew: Record<string, number> = {};
  for (const [t, end] of Object.entries(dlq.after)) {
    dlqNew[t] = end - (dlq.before[t] ?? 0);
    lines.push(`DLQ li.${t}.dlq: end offset ${end}, ${dlqNew[t]} new during this run`);
  }
  const v = verdict({
    liids,
    checks,
    undecodable: lemfs.reduce((n, l) => n + l.records.filter((r) => r.format === 'UNKNOWN').length, 0),
    backlog: pipeline.left,
    settled: pipeline.settled,
    dlq: dlqNew,
  });
  lines.push(v.complete ? `\x1b[32m${v.line}\x1b[0m` : `\x1b[31m${v.line}\x1b[0m`);
  console.log(lines.join('\n'));
  return v;
}
