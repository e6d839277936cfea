import { describe, expect, it } from 'vitest';
import { type OutputRecord, requestChunks } from './bus.ts';

const rec = (topic: string, bytes: number, i: number): OutputRecord => ({
  topic,
  key: `k${i}`,
  value: Buffer.alloc(bytes),
  headers: { 'li.seq': String(i) },
});

/** What requestChunks counts for a record (its bound is in these units). */
const counted = (r: OutputRecord) => (r.value?.length ?? 0) + (r.key?.length ?? 0) + 64 + 'li.seq'.length + 1;

describe('requestChunks', () => {
  it('keeps the order and bounds each topic of a request, not the request', () => {
    const records = Array.from({ length: 300 }, (_, i) => rec(['a', 'b', 'c'][i % 3]!, 900, i));
    const chunks = requestChunks(records, 64 * 1024);
    expect(chunks.flat()).toEqual(records);
    for (const chunk of chunks) {
      for (const topic of ['a', 'b', 'c']) {
        const bytes = chunk.filter((r) => r.topic === topic).reduce((n, r) => n + counted(r), 0);
        expect(bytes).toBeLessThanOrEqual(64 * 1024);
      }
    }
    // Three topics of ~90 KiB each in ~1 KiB records: two requests, not five of 64 KiB.
    expect(chunks).toHaveLength(2);
  });

  it('sends a record larger than the bound alone', () => {
    const records = [rec('a', 10, 0), rec('a', 5000, 1), rec('a', 10, 2)];
    expect(requestChunks(records, 1024).map((c) => c.map((r) => r.key))).toEqual([['k0'], ['k1'], ['k2']]);
  });
});
