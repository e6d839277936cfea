import { describe, expect, it } from 'vitest';
import {
  checkSequences,
  DrainTracker,
  describeCheck,
  isComplete,
  type SequencedRecord,
  uncommitted,
  verdict,
} from './report.ts';

const rec = (liid: string, cin: number, handover: 'HI2' | 'HI3', seq: number): SequencedRecord => ({
  liid,
  cin,
  handover,
  seq,
});
const seqs = (liid: string, cin: number, handover: 'HI2' | 'HI3', ...ns: number[]) =>
  ns.map((n) => rec(liid, cin, handover, n));

describe('checkSequences', () => {
  it('numbers each (LIID, CIN, handover) on its own', () => {
    const checks = checkSequences([
      ...seqs('A', 0, 'HI2', 0),
      ...seqs('A', 1, 'HI2', 0, 1, 2),
      ...seqs('A', 1, 'HI3', 1, 0),
      ...seqs('B', 1, 'HI2', 0),
    ]);
    expect(checks.map((c) => [c.liid, c.cin, c.handover, c.records, c.last, isComplete(c)])).toEqual([
      ['A', 0, 'HI2', 1, 0, true],
      ['A', 1, 'HI2', 3, 2, true],
      ['A', 1, 'HI3', 2, 1, true],
      ['B', 1, 'HI2', 1, 0, true],
    ]);
    expect(describeCheck(checks[1]!)).toBe('0..2 complete');
  });

  it('finds gaps, a missing start and repeats', () => {
    const [c] = checkSequences(seqs('A', 3, 'HI3', 2, 3, 3, 6, 9, 3));
    expect(c!.gaps).toEqual([
      [0, 1],
      [4, 5],
      [7, 8],
    ]);
    expect(c!.repeats).toEqual([[3, 3]]);
    expect(c!.records).toBe(6);
    expect(isComplete(c!)).toBe(false);
    expect(describeCheck(c!)).toBe('0..9: missing 0-1, 4-5, 7-8; repeated 3 (x3)');
  });

  it('shortens a long list of gaps', () => {
    const [c] = checkSequences(seqs('A', 1, 'HI2', 0, 2, 4, 6, 8, 10, 12, 14));
    expect(describeCheck(c!)).toBe('0..14: missing 1, 3, 5, 7, 9, … (7 in all)');
  });

  it('leaves out records without a sequence number', () => {
    expect(checkSequences([rec('', 0, 'HI2', -1)])).toEqual([]);
  });
});

describe('verdict', () => {
  const base = { liids: ['A'], undecodable: 0, backlog: 0, settled: true, dlq: { demo: 0 } };

  it('is complete when every LIID of the run is gap-free and nothing is left', () => {
    const checks = checkSequences([...seqs('A', 1, 'HI2', 0, 1), ...seqs('OLD', 0, 'HI2', 7)]);
    expect(verdict({ ...base, checks })).toEqual({
      complete: true,
      line: 'complete: every (LIID, CIN) has sequence numbers 0..n',
    });
  });

  it('names each reason it is incomplete', () => {
    const checks = checkSequences([...seqs('A', 1, 'HI2', 0, 2), ...seqs('A', 2, 'HI3', 0, 0)]);
    const v = verdict({ liids: ['A', 'B'], checks, undecodable: 1, backlog: 4, settled: false, dlq: { demo: 2 } });
    expect(v.complete).toBe(false);
    expect(v.line).toBe(
      'INCOMPLETE: no records for LIID B; 2 (LIID, CIN, handover) with gaps or repeats; 1 undecodable records; 4 records still in the pipeline; dead-lettered: 2 of tenant demo',
    );
  });

  it('is incomplete when the LEMFs were still receiving at the deadline', () => {
    const checks = checkSequences(seqs('A', 1, 'HI2', 0, 1));
    expect(verdict({ ...base, checks, settled: false })).toEqual({
      complete: false,
      line: 'INCOMPLETE: the LEMFs were still receiving when the wait ended',
    });
  });
});

describe('DrainTracker', () => {
  it('is drained once nothing is left and the count has not grown for the quiet time', () => {
    const t = new DrainTracker(3000);
    expect(t.observe({ atMs: 0, received: 5, backlog: 2 })).toBe('busy');
    expect(t.observe({ atMs: 1000, received: 7, backlog: 0 })).toBe('busy');
    expect(t.observe({ atMs: 3500, received: 7, backlog: 0 })).toBe('busy');
    expect(t.observe({ atMs: 4000, received: 7, backlog: 0 })).toBe('drained');
  });

  it('is quiet while records are left to commit, and drained only once that has been 0 for the quiet time', () => {
    const t = new DrainTracker(3000);
    t.observe({ atMs: 0, received: 7, backlog: 0 });
    expect(t.observe({ atMs: 2000, received: 8, backlog: 0 })).toBe('busy');
    expect(t.observe({ atMs: 5000, received: 8, backlog: 1 })).toBe('quiet');
    expect(t.observe({ atMs: 6000, received: 8, backlog: 0 })).toBe('quiet');
    expect(t.observe({ atMs: 9000, received: 8, backlog: 0 })).toBe('drained');
  });
});

describe('uncommitted', () => {
  it('is end minus committed, from the first offset where nothing (or a deleted offset) is committed', () => {
    const ends = [
      { partition: 0, high: '10', low: '0' },
      { partition: 1, high: '8', low: '5' },
      { partition: 2, high: '4', low: '0' },
      { partition: 3, high: '9', low: '6' },
    ];
    const committed = [
      { partition: 0, offset: '7' },
      { partition: 1, offset: '-1' },
      { partition: 2, offset: '4' },
      { partition: 3, offset: '2' },
    ];
    expect(uncommitted(ends, committed)).toEqual([
      { partition: 0, from: 7, high: 10 },
      { partition: 1, from: 5, high: 8 },
      { partition: 3, from: 6, high: 9 },
    ]);
  });
});
