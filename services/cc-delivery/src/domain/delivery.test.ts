import { ManualClock } from '@li/core';
import { describe, expect, it } from 'vitest';
import { dlvError } from '../errors.ts';
import { LemfDelivery } from './delivery.ts';
import type { CommitPoint } from './offsets.ts';
import {
  type DeliveryRecord,
  type DeliveryTransport,
  initialTransportStatus,
  type OutboundBatch,
  type SendOutcome,
} from './types.ts';

/** In-memory LEMF: confirms up to `budget` records per call, then fails until given more budget. */
class ScriptedTransport implements DeliveryTransport {
  readonly kind = 'scripted';
  budget = Number.POSITIVE_INFINITY;
  rejectLiid: string | null = null;
  got: OutboundBatch[] = [];
  delivered: DeliveryRecord[] = [];
  start(): void {}
  async send(batch: OutboundBatch): Promise<SendOutcome> {
    this.got.push(batch);
    let n = 0;
    for (const r of batch.records) {
      if (r.liid === this.rejectLiid) return { confirmed: n, rejected: true, error: dlvError('DLV_ERR_BAD_RECORD') };
      if (this.budget <= 0) break;
      this.budget--;
      this.delivered.push(r);
      n++;
    }
    return { confirmed: n, error: n < batch.records.length ? dlvError('DLV_ERR_CONNECTION_LOST') : null };
  }
  status() {
    return initialTransportStatus();
  }
  async close(): Promise<void> {}
}

const recs = (n: number, liid = 'A', start = 0): DeliveryRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    lemfId: 'l1',
    liid,
    cin: 1,
    seq: start + i,
    stream: 'HI2' as const,
    bytes: Uint8Array.of(start + i),
    source: { topic: 't', partition: 0, offset: start + i },
  }));

const flush = () => new Promise((r) => setImmediate(r));

describe('LemfDelivery', () => {
  it('retries from the first unconfirmed record and commits only confirmed offsets', async () => {
    const clock = new ManualClock();
    const t = new ScriptedTransport();
    const commits: CommitPoint[] = [];
    const d = new LemfDelivery({
      lemfId: 'l1',
      transport: t,
      clock,
      random: () => 0,
      maxBatchRecords: 4,
      backoff: { baseMs: 100, maxMs: 1000, jitter: 0 },
      observer: { committable: (p) => commits.push(...p) },
    });
    t.budget = 5;
    d.offer(recs(10));
    await flush();
    expect(t.delivered.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(commits.at(-1)?.offset).toBe(5);
    expect(d.status().retries).toBe(1);
    expect(d.status().lastErrorCode).toBe('DLV_ERR_CONNECTION_LOST');
    t.budget = 100;
    clock.advance(100);
    await flush();
    await d.drained();
    expect(t.delivered.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(commits.at(-1)?.offset).toBe(10);
    expect(d.status().recordsSent).toBe(10);
  });

  it('sends records read again (a consumer restarted from the committed offset) only once', async () => {
    const clock = new ManualClock();
    const t = new ScriptedTransport();
    const d = new LemfDelivery({ lemfId: 'l1', transport: t, clock, random: () => 0 });
    t.budget = 3;
    d.offer(recs(5));
    await flush();
    // 0..2 confirmed, 3..4 waiting; the commit of 0..2 failed, so all five are read again
    d.offer(recs(5));
    t.budget = 100;
    clock.advance(1000);
    await d.drained();
    expect(t.delivered.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(d.committed()).toEqual([{ topic: 't', partition: 0, offset: 5 }]);
    d.offer(recs(6)); // read again once more, with one new record
    await d.drained();
    expect(t.delivered.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('keeps streams apart: HI3 failing does not hold back HI2', async () => {
    const clock = new ManualClock();
    const t = new ScriptedTransport();
    const send = t.send.bind(t);
    t.send = async (batch) =>
      batch.records[0]?.stream === 'HI3' ? { confirmed: 0, error: dlvError('DLV_ERR_CONNECT') } : send(batch);
    const d = new LemfDelivery({ lemfId: 'l1', transport: t, clock, random: () => 0 });
    const hi3 = recs(3, 'A', 0).map((r) => ({ ...r, stream: 'HI3' as const, source: { ...r.source, topic: 'hi3' } }));
    d.offer([...hi3, ...recs(5, 'A', 0)]);
    await flush();
    expect(t.delivered.map((r) => r.stream)).toEqual(['HI2', 'HI2', 'HI2', 'HI2', 'HI2']);
    expect(d.committed()).toEqual([{ topic: 't', partition: 0, offset: 5 }]);
    expect(d.pending()).toBe(3);
    expect(d.status().lastErrorCode).toBe('DLV_ERR_CONNECT');
  });

  it('dead-letters a record the transport can never deliver and goes on', async () => {
    const clock = new ManualClock();
    const t = new ScriptedTransport();
    t.rejectLiid = 'BAD';
    const dead: DeliveryRecord[] = [];
    const d = new LemfDelivery({ lemfId: 'l1', transport: t, clock, observer: { deadLetter: (r) => dead.push(r) } });
    d.offer([...recs(2, 'A', 0), ...recs(1, 'BAD', 2), ...recs(2, 'A', 3)]);
    await d.drained();
    expect(dead.map((r) => r.seq)).toEqual([2]);
    expect(t.delivered.map((r) => r.seq)).toEqual([0, 1, 3, 4]);
    expect(d.committed()).toEqual([{ topic: 't', partition: 0, offset: 5 }]);
  });

  it('holds offsets of records in open files until the file is confirmed', async () => {
    const clock = new ManualClock();
    const t = new ScriptedTransport();
    const d = new LemfDelivery({
      lemfId: 'l1',
      transport: t,
      clock,
      batching: { maxRecords: 3, maxBytes: 1000, maxMs: 2000, namePattern: '{liid}_{seq}.ber' },
    });
    d.offer([...recs(3, 'A', 0), ...recs(1, 'B', 3)]);
    await flush();
    expect(t.got.map((b) => b.file?.name)).toEqual(['A_1.ber']);
    expect(d.committed()).toEqual([{ topic: 't', partition: 0, offset: 3 }]);
    clock.advance(2000);
    await d.drained();
    expect(t.got.map((b) => b.file?.name)).toEqual(['A_1.ber', 'B_1.ber']);
    expect(d.committed()).toEqual([{ topic: 't', partition: 0, offset: 4 }]);
  });

  it("names files with the LEMF's own id for {lemf}, not the wiring's <tenant>/<id> key", async () => {
    const clock = new ManualClock();
    const t = new ScriptedTransport();
    const dead: DeliveryRecord[] = [];
    const d = new LemfDelivery({
      lemfId: 'acme/rome',
      transport: t,
      clock,
      batching: { maxRecords: 1, maxBytes: 1000, maxMs: 2000, namePattern: '{lemf}_{liid}_{seq}.ber' },
      observer: { deadLetter: (r) => dead.push(r) },
    });
    d.offer(recs(1, 'A').map((r) => ({ ...r, lemfId: 'acme/rome' })));
    await d.drained();
    expect(dead).toEqual([]);
    expect(t.got.map((b) => b.file?.name)).toEqual(['rome_A_1.ber']);
  });

  it('reports each file number used and resumes numbering from the persisted start', async () => {
    const clock = new ManualClock();
    const t = new ScriptedTransport();
    const used: string[] = [];
    const d = new LemfDelivery({
      lemfId: 'l1',
      transport: t,
      clock,
      fileSeqStart: { A: 17 },
      batching: { maxRecords: 1, maxBytes: 1000, maxMs: 2000, namePattern: '{liid}_{seq}.ber' },
      observer: {
        fileSeqUsed: (liid, seq) => {
          used.push(`${liid}:${seq}`);
        },
      },
    });
    d.offer([...recs(2, 'A', 0), ...recs(1, 'B', 2)]);
    await d.drained();
    expect(t.got.map((b) => b.file?.name)).toEqual(['A_17.ber', 'A_18.ber', 'B_1.ber']);
    expect(used).toEqual(['A:17', 'A:18', 'B:1']);
  });

  it('uploads a file only once its number is saved; a failed save is retried, never skipped', async () => {
    const clock = new ManualClock();
    const t = new ScriptedTransport();
    const saves: { seq: number; resolve: () => void; reject: (e: Error) => void }[] = [];
    const d = new LemfDelivery({
      lemfId: 'l1',
      transport: t,
      clock,
      random: () => 0,
      backoff: { baseMs: 10, maxMs: 10, jitter: 0 },
      batching: { maxRecords: 1, maxBytes: 1000, maxMs: 2000, namePattern: '{liid}_{seq}.ber' },
      observer: {
        fileSeqUsed: (_liid, seq) =>
          new Promise<void>((resolve, reject) => {
            saves.push({ seq, resolve, reject });
          }),
      },
    });
    d.offer(recs(2));
    await flush();
    expect(saves.map((x) => x.seq)).toEqual([1, 2]); // both numbers taken at close, in order
    expect(t.got).toEqual([]); // nothing goes out before its number is durable
    saves[0]!.reject(new Error('broker away'));
    await flush();
    expect(d.status().lastErrorCode).toBe('DLV_ERR_STATE');
    expect(t.got).toEqual([]);
    clock.advance(10); // back-off, then the same number is saved again
    await flush();
    expect(saves.map((x) => x.seq)).toEqual([1, 2, 1]);
    saves[2]!.resolve();
    await flush();
    expect(t.got.map((b) => b.file?.name)).toEqual(['A_1.ber']);
    saves[1]!.resolve();
    await d.drained();
    expect(t.got.map((b) => b.file?.name)).toEqual(['A_1.ber', 'A_2.ber']);
    expect(d.committed()).toEqual([{ topic: 't', partition: 0, offset: 2 }]);
  });

  it('a rebalance: closeFiles closes open files and resolves once their numbers are saved; raised numbers go on', async () => {
    const clock = new ManualClock();
    const t = new ScriptedTransport();
    const saves: { name: string; resolve: () => void }[] = [];
    const d = new LemfDelivery({
      lemfId: 'l1',
      transport: t,
      clock,
      batching: { maxRecords: 10, maxBytes: 1000, maxMs: 2000, namePattern: '{liid}_{seq}.ber' },
      observer: {
        fileSeqUsed: (liid, seq) =>
          new Promise<void>((resolve) => {
            saves.push({ name: `${liid}:${seq}`, resolve });
          }),
      },
    });
    d.offer(recs(2, 'A', 0));
    await flush();
    expect(saves).toEqual([]); // still open
    let closed = false;
    const closing = d.closeFiles().then(() => {
      closed = true;
    });
    await flush();
    expect(saves.map((x) => x.name)).toEqual(['A:1']);
    expect(closed).toBe(false); // its number is not durable yet: the next owner could not read it
    saves[0]!.resolve();
    await closing;
    // the LIIDs came back after another process used A up to 6 and B up to 3
    d.raiseFileSeq({ A: 7, B: 4 });
    d.raiseFileSeq({ A: 2 }); // never lower
    d.offer([...recs(1, 'A', 2), ...recs(1, 'B', 3)]);
    const again = d.closeFiles();
    await flush();
    for (const x of saves.slice(1)) x.resolve();
    await again;
    await d.drained();
    expect(t.got.map((b) => b.file?.name)).toEqual(['A_1.ber', 'A_7.ber', 'B_4.ber']);
  });

  it('a file is all-or-nothing', async () => {
    const clock = new ManualClock();
    const t = new ScriptedTransport();
    t.budget = 2;
    const d = new LemfDelivery({
      lemfId: 'l1',
      transport: t,
      clock,
      random: () => 0,
      backoff: { baseMs: 10, maxMs: 10, jitter: 0 },
      batching: { maxRecords: 3, maxBytes: 1000, maxMs: 2000, namePattern: '{liid}_{seq}.ber' },
    });
    d.offer(recs(3));
    await flush();
    expect(d.committed()).toEqual([]);
    t.budget = 3;
    clock.advance(10);
    await d.drained();
    expect(d.committed()).toEqual([{ topic: 't', partition: 0, offset: 3 }]);
    expect(t.got.map((b) => b.file?.name)).toEqual(['A_1.ber', 'A_1.ber']);
  });

  it('records accepted by the transport leave the queue but commit only when confirmed later', async () => {
    const clock = new ManualClock();
    /** Takes every record (as ETSI TCP without PDU acks does) and confirms when the test says so. */
    class LaterTransport extends ScriptedTransport {
      confirmLater: ((rs: readonly DeliveryRecord[]) => void) | null = null;
      held: DeliveryRecord[] = [];
      override start(confirmedLater?: (rs: readonly DeliveryRecord[]) => void): void {
        this.confirmLater = confirmedLater ?? null;
      }
      override async send(batch: OutboundBatch): Promise<SendOutcome> {
        this.got.push(batch);
        this.held.push(...batch.records);
        return { confirmed: 0, accepted: batch.records.length, error: null };
      }
      unconfirmed(): DeliveryRecord[] {
        return this.held.splice(0);
      }
    }
    const t = new LaterTransport();
    const commits: CommitPoint[] = [];
    const d = new LemfDelivery({
      lemfId: 'l1',
      transport: t,
      clock,
      maxBatchRecords: 4,
      observer: { committable: (p) => commits.push(...p) },
    });
    d.start();
    d.offer(recs(10));
    await flush();
    expect(t.got.flatMap((b) => b.records.map((r) => r.seq))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]); // each once
    expect(commits).toEqual([]); // written is not confirmed
    expect(d.pending()).toBe(10);
    let drained = false;
    void d.drained().then(() => {
      drained = true;
    });
    t.confirmLater?.(t.held.splice(0, 6));
    expect(commits.at(-1)?.offset).toBe(6);
    expect(d.pending()).toBe(4);
    await flush();
    expect(drained).toBe(false);
    // a config change: what the old transport never confirmed goes out again, ahead of new records
    const next = new ScriptedTransport();
    await d.replaceTransport(next);
    d.offer(recs(2, 'A', 10));
    await flush();
    await d.drained();
    expect(next.delivered.map((r) => r.seq)).toEqual([6, 7, 8, 9, 10, 11]);
    expect(commits.at(-1)?.offset).toBe(12);
    expect(d.status().recordsSent).toBe(12);
  });
});
