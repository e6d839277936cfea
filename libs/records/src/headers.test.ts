import { describe, expect, it } from 'vitest';
import {
  type DeliveryHeaders,
  HEADERS,
  readDeliveryHeaders,
  readEtsiHeaders,
  readEventId,
  readReportHeaders,
  writeDeliveryHeaders,
  writeEtsiHeaders,
  writeEventIdHeader,
  writeReportHeaders,
} from './headers.ts';

describe('li.* headers', () => {
  const etsi = {
    liid: 'LIID-1',
    cin: 7,
    seq: 0,
    lemfs: ['rome', 'milan'],
    format: 'TS102232' as const,
    kind: 'IRI' as const,
    iriType: 'BEGIN' as const,
    eventId: 'e-1',
  };

  it('reads back what it writes, from strings and from kafkajs buffers', () => {
    const written = writeEtsiHeaders(etsi);
    expect(written).toMatchObject({ 'li.cin': '7', 'li.seq': '0', 'li.lemfs': 'rome,milan', 'li.iri-type': 'BEGIN' });
    expect(readEtsiHeaders(written)).toEqual({ ok: true, value: etsi });
    const buffers = Object.fromEntries(Object.entries(written).map(([k, v]) => [k, Buffer.from(v)]));
    expect(readEtsiHeaders(buffers)).toEqual({ ok: true, value: etsi });
    const { iriType: _, ...cc } = etsi;
    expect(readEtsiHeaders(writeEtsiHeaders({ ...cc, kind: 'CC' }))).toEqual({
      ok: true,
      value: { ...cc, kind: 'CC' },
    });
    const report = { liid: 'L', lemfs: ['mail'], reportType: 'NOTIFICATION', eventId: 'e-2' };
    expect(readReportHeaders(writeReportHeaders(report))).toEqual({ ok: true, value: report });
    expect(readEventId(writeEventIdHeader('e-3'))).toBe('e-3');
    expect(readEventId({})).toBeUndefined();
  });

  it('refuses a missing or malformed header, naming the header and not its value', () => {
    const w = writeEtsiHeaders(etsi);
    const cases: [Record<string, string>, RegExp][] = [
      [{ ...w, [HEADERS.seq]: '-1' }, /li\.seq: expected a non-negative integer/],
      [{ ...w, [HEADERS.seq]: '1.5' }, /li\.seq/],
      [{ ...w, [HEADERS.cin]: '99999999999999999' }, /li\.cin/],
      [{ ...w, [HEADERS.format]: 'XML' }, /li\.format: expected one of TS102232, TS101671/],
      [{ ...w, [HEADERS.kind]: '' }, /li\.kind missing/],
      [{ ...w, [HEADERS.iriType]: 'MIDDLE' }, /li\.iri-type/],
      [{ ...w, [HEADERS.lemfs]: 'rome,,milan' }, /li\.lemfs/],
      [Object.fromEntries(Object.entries(w).filter(([k]) => k !== HEADERS.liid)), /li\.liid missing/],
    ];
    for (const [raw, reason] of cases) {
      const r = readEtsiHeaders(raw);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.code).toBe('BUS_ERR_HEADER');
        expect(r.reason).toMatch(reason);
        expect(r.reason).not.toContain('LIID-1');
      }
    }
  });

  it('reads the delivery headers present, and refuses a malformed one as readEtsiHeaders does', () => {
    expect(readDeliveryHeaders(writeEtsiHeaders(etsi))).toEqual({
      ok: true,
      value: { lemfs: ['rome', 'milan'], liid: 'LIID-1', cin: 7, seq: 0, format: 'TS102232' },
    });
    const report = writeReportHeaders({ liid: 'L', lemfs: ['mail'], reportType: 'NOTIFICATION', eventId: 'e-2' });
    expect(readDeliveryHeaders(report)).toEqual({ ok: true, value: { lemfs: ['mail'], liid: 'L' } });
    const w = writeEtsiHeaders(etsi);
    const cases: [Record<string, string>, RegExp][] = [
      [{ ...w, [HEADERS.cin]: 'x' }, /^header li\.cin: expected a non-negative integer$/],
      [{ ...w, [HEADERS.seq]: '' }, /^header li\.seq missing$/],
      [{ ...w, [HEADERS.format]: 'XML' }, /^header li\.format: expected one of/],
      [{ [HEADERS.liid]: 'LIID-1' }, /^header li\.lemfs missing$/],
      [{ ...w, [HEADERS.lemfs]: ',rome' }, /^header li\.lemfs: expected a comma-separated list/],
    ];
    for (const [raw, reason] of cases) {
      const r = readDeliveryHeaders(raw);
      expect(r).toMatchObject({ ok: false, code: 'BUS_ERR_HEADER', reason: expect.stringMatching(reason) });
      if (!r.ok) expect(r.reason).not.toContain('LIID-1');
    }
  });

  it('writes the delivery headers given, which readDeliveryHeaders reads back', () => {
    expect(writeDeliveryHeaders({ lemfs: ['rome'] })).toEqual({ 'li.lemfs': 'rome' });
    const full: DeliveryHeaders = { lemfs: ['rome', 'milan'], liid: 'L', cin: 0, seq: 12, format: 'TS101671' };
    expect(writeDeliveryHeaders(full)).toEqual({
      'li.liid': 'L',
      'li.cin': '0',
      'li.seq': '12',
      'li.lemfs': 'rome,milan',
      'li.format': 'TS101671',
    });
    const some: DeliveryHeaders[] = [{ lemfs: ['rome'] }, { lemfs: ['rome'], liid: 'L', cin: 1, seq: 2 }, full];
    for (const h of some) expect(readDeliveryHeaders(writeDeliveryHeaders(h))).toEqual({ ok: true, value: h });
  });
});
