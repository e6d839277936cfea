// The iri-encoder's Prometheus counters.
import { HEADERS, type OutputRecord, parseTopic } from '@li/bus';
import { Counter, type Registry } from 'prom-client';

interface EncoderMetrics {
  /** Counts the ETSI records and reports of a committed batch (changelog records are not counted). */
  written(tenant: string, outputs: readonly OutputRecord[]): void;
}

export function encoderMetrics(registry: Registry): EncoderMetrics {
  const records = new Counter({
    name: 'li_iri_encoder_records_total',
    help: 'ETSI records written, by handover (HI2, HI3), format and kind.',
    labelNames: ['tenant', 'handover', 'format', 'kind'],
    registers: [registry],
  });
  const reports = new Counter({
    name: 'li_iri_encoder_reports_total',
    help: 'E-mail/PIPE reports written (seed 000 formats).',
    labelNames: ['tenant'],
    registers: [registry],
  });
  return {
    written(tenant, outputs) {
      // Counted per label set first: one inc per set and batch, not one per record.
      const streams = new Map<string, string | undefined>();
      const counts = new Map<string, { handover: string; format: string; kind: string; n: number }>();
      let reported = 0;
      for (const o of outputs) {
        let stream = streams.get(o.topic);
        if (!streams.has(o.topic)) {
          stream = parseTopic(o.topic)?.stream;
          streams.set(o.topic, stream);
        }
        if (stream === 'reports') reported++;
        if (stream !== 'hi2' && stream !== 'hi3') continue;
        const handover = stream === 'hi2' ? 'HI2' : 'HI3';
        const format = o.headers?.[HEADERS.format] ?? '';
        const kind = o.headers?.[HEADERS.kind] ?? '';
        const key = `${handover} ${format} ${kind}`;
        const count = counts.get(key);
        if (count) count.n++;
        else counts.set(key, { handover, format, kind, n: 1 });
      }
      if (reported > 0) reports.inc({ tenant }, reported);
      for (const { n, ...labels } of counts.values()) records.inc({ tenant, ...labels }, n);
    },
  };
}
