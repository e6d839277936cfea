import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createIngestMetrics } from './metrics.ts';

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
