import { describe, expect, it } from 'vitest';
import { lemfStatuses, parsePrometheusText } from './delivery-status.ts';

describe('delivery status', () => {
  it('parses the Prometheus text format, escapes included, skipping what it cannot read', () => {
    const s = parsePrometheusText(
      ['# TYPE x gauge', 'x{a="1",b="q\\"uote"} 2.5', 'y 3 1700000000000', 'broken{', 'z{a="1"} NaN-ish', ''].join(
        '\n',
      ),
    );
    expect(s).toEqual([
      { name: 'x', labels: { a: '1', b: 'q"uote' }, value: 2.5 },
      { name: 'y', labels: {}, value: 3 },
    ]);
  });

  it('adds counters across delivery instances; connected only when every instance is', () => {
    const sample = (name: string, value: number, extra: Record<string, string> = {}) => ({
      name,
      labels: { tenant: 'acme', lemf: 'a', transport: 'ETSI_TCP', ...extra },
      value,
    });
    const st = lemfStatuses(
      'acme',
      ['a', 'b'],
      [
        sample('li_cc_delivery_connected_bool', 1),
        sample('li_cc_delivery_connected_bool', 0),
        sample('li_cc_delivery_sent_records_total', 5, { stream: 'HI2' }),
        sample('li_cc_delivery_sent_records_total', 6, { stream: 'HI2' }),
        sample('li_cc_delivery_connected_bool', 1, { tenant: 'other' }),
      ],
    );
    expect(st[0]).toMatchObject({ lemfId: 'a', reported: true, connected: false, recordsSent: 11, lagRecords: null });
    expect(st[1]).toMatchObject({ lemfId: 'b', reported: false, connected: null, recordsSent: 0 });
  });
});
