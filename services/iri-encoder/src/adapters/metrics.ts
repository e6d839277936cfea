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
      for (const o of outputs) {
        const stream = parseTopic(o.topic)?.stream;
        if (stream === 'reports') reports.inc({ tenant });
        if (stream !== 'hi2' && stream !== 'hi3') continue;
        records.inc({
          tenant,
          handover: stream === 'hi2' ? 'HI2' : 'HI3',
          format: o.headers?.[HEADERS.format] ?? '',
          kind: o.headers?.[HEADERS.kind] ?? '',
        });
      }
    },
  };
}
