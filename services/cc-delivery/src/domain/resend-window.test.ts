import { describe, expect, it } from 'vitest';
import { ResendWindow } from './resend-window.ts';

const rec = (id: number, size = 10) => ({ id, bytes: new Uint8Array(size) });
const ids = (rs: { id: number }[]) => rs.map((r) => r.id);

describe('ResendWindow', () => {
  it('keeps the newest records within its byte bound, oldest first', () => {
    const w = new ResendWindow<ReturnType<typeof rec>>(30);
    for (let i = 0; i < 5; i++) w.remember(rec(i));
    expect(w.size).toBe(3);
    expect(w.bytes).toBe(30);
    expect(ids(w.takeAll())).toEqual([2, 3, 4]);
    expect(w.size).toBe(0);
  });

  it('keeps a record larger than the bound on its own', () => {
    const w = new ResendWindow<ReturnType<typeof rec>>(30);
    w.remember(rec(0));
    w.remember(rec(1, 100));
    expect(ids(w.takeAll())).toEqual([1]);
  });

  it('keeps nothing with a bound of 0', () => {
    const w = new ResendWindow<ReturnType<typeof rec>>(0);
    w.remember(rec(0));
    expect(w.takeAll()).toEqual([]);
  });

  it('releases what was written before an answered keep-alive, and only that', () => {
    const w = new ResendWindow<ReturnType<typeof rec>>(1000);
    w.remember(rec(0));
    w.remember(rec(1));
    const atKeepalive = w.position();
    w.remember(rec(2));
    w.confirm(atKeepalive);
    expect(w.size).toBe(1);
    expect(w.bytes).toBe(10);
    w.confirm(atKeepalive); // an older answer confirms nothing new
    expect(ids(w.takeAll())).toEqual([2]);
  });

  it('keeps positions valid across eviction, compaction and takeAll', () => {
    const w = new ResendWindow<ReturnType<typeof rec>>(10 * 5000);
    for (let i = 0; i < 20_000; i++) w.remember(rec(i)); // evicts and compacts
    expect(w.size).toBe(5000);
    const p = w.position();
    w.remember(rec(20_000));
    w.confirm(p - 6000); // only evicted records were before it: nothing more goes
    expect(w.size).toBe(5000); // the bound evicted one more
    w.confirm(p - 10);
    expect(w.size).toBe(11);
    w.confirm(p);
    expect(ids(w.takeAll())).toEqual([20_000]);
    const q = w.position();
    w.remember(rec(20_001));
    w.confirm(q - 1); // a position from before takeAll releases nothing now held
    expect(w.size).toBe(1);
    w.confirm(q + 1);
    expect(w.size).toBe(0);
  });
});

describe('ResendWindow that never drops (keep-alive confirmation)', () => {
  it('holds everything past its bound, says it is full, and confirm returns what it releases', () => {
    const w = new ResendWindow<ReturnType<typeof rec>>(30, false);
    for (let i = 0; i < 4; i++) w.remember(rec(i));
    expect(w.size).toBe(4);
    expect(w.full).toBe(true);
    const p = w.position();
    w.remember(rec(4));
    expect(ids(w.confirm(p - 2))).toEqual([0, 1]);
    expect(w.full).toBe(true); // 30 bytes still held
    expect(ids(w.confirm(p - 2))).toEqual([]); // an older answer releases nothing again
    expect(ids(w.confirm(p))).toEqual([2, 3]);
    expect(w.full).toBe(false);
    expect(ids(w.takeAll())).toEqual([4]);
  });
});
