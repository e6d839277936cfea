import { appendFileSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OutputRecord } from '@li/bus';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DiskSpool, type SpoolSyncer } from './spool.ts';

const rec = (i: number): OutputRecord => ({
  topic: 'li.t.events',
  key: `c${i % 3}`,
  value: Buffer.from(`event-${i}`),
  ...(i % 2 ? { headers: { 'li.dlq.code': 'X' } } : {}),
});
const values = (rs: OutputRecord[]) => rs.map((r) => r.value?.toString());
const dir = () => mkdtempSync(join(tmpdir(), 'ingest-spool-'));

/** Reads and commits everything, batch by batch. */
function drain(s: DiskSpool, batch = 3): OutputRecord[] {
  const out: OutputRecord[] = [];
  for (let b = s.peek(batch); b.length > 0; b = s.peek(batch)) {
    out.push(...b);
    s.commit(b.length);
  }
  return out;
}

describe('DiskSpool', () => {
  it('gives records back in order across segments, with keys, headers and null values', () => {
    const s = new DiskSpool({ directory: dir(), maxBytes: 1 << 20, segmentBytes: 100 });
    s.append([rec(0), rec(1), rec(2)]);
    s.append([{ topic: 'li.t.dlq', key: null, value: null, headers: { a: 'b' } }, rec(4)]);
    expect(s.records).toBe(5);
    const out = drain(s);
    expect(values(out)).toEqual(['event-0', 'event-1', 'event-2', undefined, 'event-4']);
    expect(out[1]).toEqual(rec(1));
    expect(out[3]).toEqual({ topic: 'li.t.dlq', key: null, value: null, headers: { a: 'b' } });
    expect(s.records).toBe(0);
    expect(s.bytes).toBe(0);
  });

  it('keeps peeked records until they are committed', () => {
    const s = new DiskSpool({ directory: dir(), maxBytes: 1 << 20 });
    s.append([rec(0), rec(1), rec(2)]);
    expect(values(s.peek(2))).toEqual(['event-0', 'event-1']);
    expect(values(s.peek(2))).toEqual(['event-0', 'event-1']);
    s.commit(1);
    expect(values(s.peek(5))).toEqual(['event-1', 'event-2']);
  });

  it('refuses what does not fit in maxBytes and reports how many', () => {
    const s = new DiskSpool({ directory: dir(), maxBytes: 200 });
    let dropped = 0;
    for (let i = 0; i < 10; i++) dropped += s.append([{ ...rec(i), headers: {} }]);
    expect(s.bytes).toBeLessThanOrEqual(200);
    expect(dropped).toBeGreaterThan(0);
    expect(s.records + dropped).toBe(10);
    // The oldest are kept: what arrives when the spool is full is what is dropped.
    expect(values(drain(s))).toEqual(Array.from({ length: 10 - dropped }, (_, i) => `event-${i}`));
  });

  it('after a restart, sends what was not acknowledged, and not what was', () => {
    const d = dir();
    const a = new DiskSpool({ directory: d, maxBytes: 1 << 20, segmentBytes: 120 });
    a.append([0, 1, 2, 3, 4, 5].map(rec));
    a.peek(2);
    a.commit(2);
    a.close();
    const b = new DiskSpool({ directory: d, maxBytes: 1 << 20, segmentBytes: 120 });
    expect(b.records).toBe(4);
    b.append([rec(6)]);
    expect(values(drain(b))).toEqual(['event-2', 'event-3', 'event-4', 'event-5', 'event-6']);
    b.close();
    expect(readdirSync(d).filter((f) => f.endsWith('.seg'))).toEqual([]);
  });

  it('cuts off a torn tail at restart and reports it', () => {
    const d = dir();
    const a = new DiskSpool({ directory: d, maxBytes: 1 << 20 });
    a.append([rec(0), rec(1)]);
    a.close();
    const seg = readdirSync(d).find((f) => f.endsWith('.seg')) as string;
    // A crash in the middle of a write: a header that promises more than follows.
    appendFileSync(join(d, seg), Buffer.from([0, 0, 0, 50, 1, 2, 3, 4, 9, 9]));
    const problems: string[] = [];
    const b = new DiskSpool({ directory: d, maxBytes: 1 << 20, onCorrupt: (r) => problems.push(r) });
    expect(problems).toHaveLength(1);
    expect(b.records).toBe(2);
    b.append([rec(2)]);
    expect(values(drain(b))).toEqual(['event-0', 'event-1', 'event-2']);
  });

  it('skips a record whose checksum does not match', () => {
    const d = dir();
    const a = new DiskSpool({ directory: d, maxBytes: 1 << 20 });
    a.append([rec(0)]);
    a.close();
    const seg = readdirSync(d).find((f) => f.endsWith('.seg')) as string;
    const payload = Buffer.from('{"t":"x","k":null,"v":null}');
    const header = Buffer.alloc(8);
    header.writeUInt32BE(payload.length, 0);
    header.writeUInt32BE(12345, 4);
    appendFileSync(join(d, seg), Buffer.concat([header, payload]));
    const problems: string[] = [];
    const b = new DiskSpool({ directory: d, maxBytes: 1 << 20, onCorrupt: (r) => problems.push(r) });
    expect(problems[0]).toMatch(/checksum/);
    expect(values(drain(b))).toEqual(['event-0']);
  });

  it('refuses a directory another live process holds', () => {
    const d = dir();
    appendFileSync(join(d, 'lock'), String(process.ppid));
    expect(() => new DiskSpool({ directory: d, maxBytes: 1 << 20 })).toThrow(/in use/);
  });
});

/** Counts the syncs the spool asks for; `fail` makes data syncs throw as a failing disk would. */
function countingSyncer(fail = false) {
  const calls = { data: 0, directory: 0 };
  const syncer: SpoolSyncer = {
    data() {
      calls.data++;
      if (fail) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    },
    directory() {
      calls.directory++;
    },
  };
  return { calls, syncer };
}

describe('DiskSpool durability (fsync policy)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("'always' (the default) syncs once per append call, and the directory when a segment is created", () => {
    const { calls, syncer } = countingSyncer();
    const directory = dir();
    const s = new DiskSpool({ directory, maxBytes: 1 << 20, segmentBytes: 200, syncer });
    s.append([rec(0), rec(1), rec(2)]);
    expect(calls).toEqual({ data: 1, directory: 1 });
    s.append([rec(3)]);
    expect(calls).toEqual({ data: 2, directory: 1 });
    // What append returned is in the file already (not in a user-space buffer).
    expect(statSync(join(directory, readdirSync(directory).find((f) => f.endsWith('.seg'))!)).size).toBe(s.bytes);
    // Past segmentBytes: the full segment is synced before it is left, the new one's name too.
    s.append(Array.from({ length: 10 }, (_, i) => rec(10 + i)));
    expect(readdirSync(directory).filter((f) => f.endsWith('.seg')).length).toBeGreaterThan(1);
    expect(calls.directory).toBeGreaterThan(1);
    expect(calls.data).toBeGreaterThan(3);
    s.close();
  });

  it("'never' never syncs, not even at close", () => {
    const { calls, syncer } = countingSyncer();
    const s = new DiskSpool({
      directory: dir(),
      maxBytes: 1 << 20,
      segmentBytes: 200,
      syncer,
      fsync: { mode: 'never' },
    });
    s.append(Array.from({ length: 20 }, (_, i) => rec(i)));
    s.close();
    expect(calls).toEqual({ data: 0, directory: 0 });
  });

  it("'interval' syncs the open segment each period while something was appended, and at close", () => {
    vi.useFakeTimers();
    const { calls, syncer } = countingSyncer();
    const s = new DiskSpool({
      directory: dir(),
      maxBytes: 1 << 20,
      syncer,
      fsync: { mode: 'interval', intervalMs: 100 },
    });
    s.append([rec(0), rec(1)]);
    s.append([rec(2)]);
    expect(calls.data).toBe(0);
    vi.advanceTimersByTime(100);
    expect(calls.data).toBe(1);
    vi.advanceTimersByTime(300); // nothing new: nothing to sync
    expect(calls.data).toBe(1);
    s.append([rec(3)]);
    s.close();
    expect(calls.data).toBe(2);
    expect(calls.directory).toBe(0);
  });

  it('a failed sync is reported and counted; the records stay spooled', () => {
    const { syncer } = countingSyncer(true);
    const errors: string[] = [];
    const s = new DiskSpool({ directory: dir(), maxBytes: 1 << 20, syncer, onIoError: (r) => errors.push(r) });
    expect(s.append([rec(0), rec(1)])).toBe(0);
    expect(s.syncFailures).toBe(1);
    expect(errors).toEqual(['sync: EIO']);
    expect(values(drain(s))).toEqual(['event-0', 'event-1']);
  });
});
