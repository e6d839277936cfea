import type { ProducerBatch } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { type OutputRecord, requestChunks, sendChunks } from './bus.ts';
import { acknowledgedBefore, isBusError } from './errors.ts';

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

describe('sendChunks', () => {
  /** A producer that acknowledges `okRequests` requests, then fails for good (SASL refused). */
  function producer(okRequests: number) {
    const written: string[] = [];
    let requests = 0;
    return {
      written,
      async sendBatch(batch: ProducerBatch) {
        if (requests++ >= okRequests) throw new Error('SASL authentication failed');
        for (const t of batch.topicMessages ?? []) for (const m of t.messages) written.push(String(m.key));
        return [];
      },
    };
  }

  it('says how many records, in order, were acknowledged before a request failed', async () => {
    const records = Array.from({ length: 10 }, (_, i) => rec('a', 900, i));
    const chunks = requestChunks(records, 4 * 1024);
    expect(chunks.length).toBeGreaterThan(2);
    const p = producer(1);
    const err = await sendChunks(p, records, 4 * 1024).catch((e: unknown) => e);
    expect(isBusError(err, 'BUS_ERR_SEND')).toBe(true);
    expect(acknowledgedBefore(err)).toBe(chunks[0]?.length);
    expect(p.written).toEqual(records.slice(0, acknowledgedBefore(err)).map((r) => r.key));
    expect((err as Error).message).toContain('SASL authentication failed');
    expect((err as Error).cause).toBeInstanceOf(Error);
  });

  it('says none when the first request fails, and resolves when all are acknowledged', async () => {
    const records = Array.from({ length: 10 }, (_, i) => rec('a', 900, i));
    expect(acknowledgedBefore(await sendChunks(producer(0), records, 4 * 1024).catch((e: unknown) => e))).toBe(0);
    const p = producer(Number.MAX_SAFE_INTEGER);
    await sendChunks(p, records, 4 * 1024);
    expect(p.written).toEqual(records.map((r) => r.key));
    expect(acknowledgedBefore(new Error('other'))).toBe(0);
  });
});
