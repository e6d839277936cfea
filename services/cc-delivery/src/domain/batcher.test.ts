import { sampleFileSettings, sampleLemf } from '@li/schemas/testing';
import { describe, expect, it } from 'vitest';
import { batchPolicyFor, FileBatcher } from './batcher.ts';
import type { DeliveryRecord } from './types.ts';

let off = 0;
const rec = (liid: string, size: number): DeliveryRecord => ({
  lemfId: 'l1',
  liid,
  cin: 1,
  seq: off,
  stream: 'HI2',
  bytes: new Uint8Array(size),
  source: { topic: 't', partition: 0, offset: off++ },
});

describe('FileBatcher', () => {
  const policy = { maxRecords: 3, maxBytes: 100, maxMs: 5000, namePattern: '{liid}_{seq:4}.ber' };

  it('closes by count, per LIID, with a per-LIID file sequence', () => {
    const b = new FileBatcher(policy, 'l1', { B: 41 });
    expect(b.add(rec('A', 1), 0)).toEqual([]);
    b.add(rec('B', 1), 0);
    b.add(rec('A', 1), 0);
    const out = b.add(rec('A', 1), 0);
    expect(out).toHaveLength(1);
    const first = out[0]!;
    expect('batch' in first && first.batch.file.name).toBe('A_0001.ber');
    expect('batch' in first && first.batch.records.map((r) => r.liid)).toEqual(['A', 'A', 'A']);
    const rest = b.flushAll(1);
    expect(rest.map((o) => 'batch' in o && o.batch.file.name)).toEqual(['B_0041.ber']);
  });

  it('closes by size before overflowing and by age', () => {
    const b = new FileBatcher(policy, 'l1');
    b.add(rec('A', 60), 0);
    const out = b.add(rec('A', 60), 10);
    expect(out).toHaveLength(1);
    expect(b.nextDeadline()).toBe(5010);
    expect(b.due(5009)).toEqual([]);
    const aged = b.due(5010);
    expect(aged.map((o) => 'batch' in o && o.batch.file.name)).toEqual(['A_0002.ber']);
    expect(b.nextDeadline()).toBeNull();
  });

  it('takes numbers another owner stored (a partition moved here), never lowering its own', () => {
    const b = new FileBatcher({ ...policy, maxRecords: 1 }, 'l1', { A: 3, B: 9 });
    b.raiseSeq({ A: 7, B: 2, C: 5 });
    const names = [rec('A', 1), rec('B', 1), rec('C', 1), rec('D', 1)].map((r) => {
      const o = b.add(r, 0)[0]!;
      return 'batch' in o && o.batch.file.name;
    });
    expect(names).toEqual(['A_0007.ber', 'B_0009.ber', 'C_0005.ber', 'D_0001.ber']);
  });

  it('rejects records whose file name would be unsafe', () => {
    const b = new FileBatcher({ ...policy, maxRecords: 1 }, 'l1');
    const out = b.add(rec('../x', 1), 0);
    expect('rejected' in out[0]!).toBe(true);
  });
});

describe('batchPolicyFor', () => {
  it('derives file batching from the file settings, none for streaming or a bad pattern', () => {
    const files = sampleFileSettings({
      namePattern: '{liid}_{seq}.ber',
      maxRecords: 10,
      maxBytes: 1000,
      maxSeconds: 2,
    });
    expect(batchPolicyFor(sampleLemf({ transport: 'FTP', files }))).toEqual({
      maxRecords: 10,
      maxBytes: 1000,
      maxMs: 2000,
      namePattern: '{liid}_{seq}.ber',
    });
    expect(batchPolicyFor(sampleLemf({ files }))).toBeNull();
    expect(batchPolicyFor(sampleLemf({ transport: 'FTP', files: { ...files, namePattern: '{liid}' } }))).toBeNull();
  });
});
