import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createCapture } from '../domain/capture/capture.ts';
import { createIngestMetrics } from './metrics.ts';

async function value(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const m = await registry.getSingleMetric(name)?.get();
  return m?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}

describe('li_ingest_captured_packets_total', () => {
  it('counts the frames a capture read since the last scrape, per tenant, without counting them twice', async () => {
    const registry = new Registry();
    const m = createIngestMetrics(registry);
    const base = createCapture({ factories: [], sink: { event() {}, problem() {} } }).stats();
    let packets = 0;
    m.watchCapture(() => ({ ...base, packets }), 'acme');
    expect(await value(registry, 'li_ingest_captured_packets_total', { tenant: 'acme' })).toBeUndefined();
    packets = 3;
    expect(await value(registry, 'li_ingest_captured_packets_total', { tenant: 'acme' })).toBe(3);
    // A scrape of the other capture-fed counter does not add the same frames again.
    await registry.metrics();
    packets = 5;
    expect(await value(registry, 'li_ingest_captured_packets_total', { tenant: 'acme' })).toBe(5);
  });
});

describe('ingest metrics', () => {
  it('reads the spool fill at each scrape and counts what a full spool dropped, by tenant only', async () => {
    const registry = new Registry();
    const m = createIngestMetrics(registry);
    let fill = { bytes: 10, records: 2, maxBytes: 100 };
    m.watchSpool(() => fill, 't');
    m.spoolDropped.inc({ tenant: 't' }, 3);
    expect(await registry.metrics()).toContain('li_ingest_spool_bytes{tenant="t"} 10');
    fill = { bytes: 70, records: 9, maxBytes: 100 };
    const text = await registry.metrics();
    expect(text).toContain('li_ingest_spool_bytes{tenant="t"} 70');
    expect(text).toContain('li_ingest_spool_events{tenant="t"} 9');
    expect(text).toContain('li_ingest_spool_max_bytes{tenant="t"} 100');
    expect(text).toContain('li_ingest_spool_dropped_events_total{tenant="t"} 3');
  });
});

describe('li_ingest_dropped_total{reason="capture_kernel_buffer"}', () => {
  it("adds only what tcpdump's running total of kernel drops grew by", async () => {
    const registry = new Registry();
    const m = createIngestMetrics(registry);
    const drops = m.kernelDrops('acme');
    expect(drops(0)).toBe(0);
    expect(drops(7)).toBe(7);
    expect(drops(7)).toBe(0); // the same statistics asked for again
    expect(drops(10)).toBe(3);
    const labels = { tenant: 'acme', reason: 'capture_kernel_buffer' };
    expect(await value(registry, 'li_ingest_dropped_total', labels)).toBe(10);
  });
});

describe('li_ingest_duplicate_packets_total', () => {
  it('adds the copies a capture dropped since the last scrape', async () => {
    const registry = new Registry();
    const m = createIngestMetrics(registry);
    const base = createCapture({ factories: [], sink: { event() {}, problem() {} } }).stats();
    let duplicates = 2;
    m.watchCapture(() => ({ ...base, dedup: { duplicates, evicted: 0 } }), 'acme');
    expect(await value(registry, 'li_ingest_duplicate_packets_total', { tenant: 'acme' })).toBe(2);
    duplicates = 5;
    await registry.metrics();
    expect(await value(registry, 'li_ingest_duplicate_packets_total', { tenant: 'acme' })).toBe(5);
  });
});
