// What a chaos scenario checks at the LEMF, for any traffic: every event the traffic source had
// handed over has its records at the LEMF, and every (LIID, CIN, HI2/HI3) is numbered 0..n with
// no gap; repeats (the same sequence number twice) and duplicated events are counted, and a
// scenario says whether its fault may cause them. The traffic says how to recognise an event in
// a received record (`identify`) and how many IRI and CC records each event gives.
import { checkSequences, describeCheck, type StreamCheck } from '../demo/report.ts';
import type { LemfReceiver, ReceivedRecord } from '../pipeline/lemf.ts';

/** The records one event must give at the LEMF. */
export interface ExpectedRecords {
  iri: number;
  cc: number;
}

/**
 * Which event a received record belongs to, and whether it is IRI (HI2) or CC (HI3); 'ignore'
 * for records of the traffic that are not checked (a warm-up), null for records it does not know.
 */
export type Identify = (r: ReceivedRecord) => { event: string; kind: 'IRI' | 'CC' } | 'ignore' | null;

export interface LemfVerdict {
  /** Events with fewer records than expected: `event: IRI 0/1, CC 1/1`. */
  missing: string[];
  /** Events whose records arrived more than once under new sequence numbers (an event sent twice). */
  duplicatedEvents: string[];
  /** Records that carry a sequence number already received for their (LIID, CIN, handover). */
  repeatedRecords: number;
  /** Sequence numbers received twice with different bytes: a number used for two records. */
  reusedNumbers: number;
  /** (LIID, CIN, handover) with a gap: `LIID/CIN HI2: 0..7: missing 3`. */
  gaps: string[];
  /** Received records no event claims (undecodable, or of an unknown event), HI1 notifications aside. */
  unidentified: number;
  records: number;
  /** HI1 notifications received (warrant activated, modified, deactivated). */
  hi1: number;
  streams: StreamCheck[];
}

/** Compares what a LEMF received with the events handed to the pipeline. */
export function checkLemf(
  records: readonly ReceivedRecord[],
  expected: ReadonlyMap<string, ExpectedRecords>,
  identify: Identify,
): LemfVerdict {
  const streams = checkSequences(records);
  // Records of one event, counted once per distinct (LIID, CIN, handover, seq): a resent record
  // is a repeat, not a second copy of the event.
  const seen = new Set<string>();
  const got = new Map<string, ExpectedRecords>();
  let unidentified = 0;
  let hi1 = 0;
  for (const r of records) {
    if (r.type.startsWith('HI1 ')) {
      hi1++; // the warrant's notifications: numbered, not traffic
      continue;
    }
    const id = identify(r);
    if (id === 'ignore') continue;
    if (!id || !expected.has(id.event)) {
      unidentified++;
      continue;
    }
    const k = `${r.liid}\u0000${r.cin}\u0000${r.handover}\u0000${r.seq}`;
    if (seen.has(k)) continue;
    seen.add(k);
    const g = got.get(id.event) ?? { iri: 0, cc: 0 };
    if (id.kind === 'IRI') g.iri++;
    else g.cc++;
    got.set(id.event, g);
  }
  const firstBytes = new Map<string, Buffer>();
  const reused = new Set<string>();
  for (const r of records) {
    const k = `${r.liid}\u0000${r.cin}\u0000${r.handover}\u0000${r.seq}`;
    const b = firstBytes.get(k);
    if (!b) firstBytes.set(k, Buffer.from(r.bytes));
    else if (!b.equals(r.bytes)) reused.add(k);
  }
  const missing: string[] = [];
  const duplicatedEvents: string[] = [];
  for (const [event, want] of expected) {
    const g = got.get(event) ?? { iri: 0, cc: 0 };
    if (g.iri < want.iri || g.cc < want.cc) missing.push(`${event}: IRI ${g.iri}/${want.iri}, CC ${g.cc}/${want.cc}`);
    else if (g.iri > want.iri || g.cc > want.cc) duplicatedEvents.push(event);
  }
  return {
    missing,
    duplicatedEvents,
    repeatedRecords: streams.reduce((n, s) => n + s.repeats.reduce((m, [, times]) => m + times - 1, 0), 0),
    reusedNumbers: reused.size,
    gaps: streams.filter((s) => s.gaps.length > 0).map((s) => `${s.liid}/${s.cin} ${s.handover}: ${describeCheck(s)}`),
    unidentified,
    records: records.length,
    hi1,
    streams,
  };
}

/** One line for the test log. */
export function describeVerdict(v: LemfVerdict): string {
  const list = (xs: string[]) => (xs.length <= 5 ? xs.join('; ') : `${xs.slice(0, 5).join('; ')}; … (${xs.length})`);
  return [
    `${v.records} records in ${v.streams.length} (LIID, CIN, handover) streams`,
    `missing ${v.missing.length}${v.missing.length ? ` (${list(v.missing)})` : ''}`,
    `gaps ${v.gaps.length}${v.gaps.length ? ` (${list(v.gaps)})` : ''}`,
    `repeated records ${v.repeatedRecords} (numbers reused for different bytes ${v.reusedNumbers})`,
    `duplicated events ${v.duplicatedEvents.length}`,
    `unidentified ${v.unidentified}`,
    `HI1 ${v.hi1}`,
  ].join(', ');
}

/**
 * Polls until the LEMF holds every record of `expected` (a snapshot of what the source had
 * handed over), or the deadline passes; returns when that happened (ms since the epoch).
 */
export async function waitCaughtUp(
  lemf: LemfReceiver,
  expected: ReadonlyMap<string, ExpectedRecords>,
  identify: Identify,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = checkLemf(lemf.records, expected, identify);
    if (v.missing.length === 0) return Date.now();
    if (Date.now() > deadline) {
      throw new Error(
        // a record under a number an earlier record had is not counted: reuse shows as missing
        `the LEMF did not catch up within ${timeoutMs / 1000} s: ${v.missing.length} of ${expected.size} events incomplete (${v.missing.slice(0, 5).join('; ')}); numbers reused for different records ${v.reusedNumbers}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
