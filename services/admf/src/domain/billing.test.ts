import type { Warrant } from '@li/schemas';
import { describe, expect, it } from 'vitest';
import shipped from '../../config/tariffs.json' with { type: 'json' };
import type { TariffTable } from './billing.ts';
import {
  BILLING_ORDER_ACTION,
  billableDays,
  invoice,
  isDate,
  localDate,
  outOfHours,
  parseBillingOrder,
  parseTariffs,
} from './billing.ts';
import type { AuditRecord } from './model.ts';

const ROME = 'Europe/Rome';
const at = (iso: string) => Date.parse(iso) * 1000;
const ALL = { fromDate: '2000-01-01', toDate: '2100-12-31' };
const NOV = { fromDate: '2026-11-01', toDate: '2026-11-30' };

// The seed does not define working hours; these are test values only.
const TEST_HOURS = { weekdays: [1, 2, 3, 4, 5], from: '08:00', to: '18:00', holidays: ['2026-12-08'] };

function priceList(officeHours: unknown = TEST_HOURS): TariffTable {
  const t = parseTariffs({ ...shipped, officeHours });
  if (!t.ok) throw new Error(t.error.message);
  return t.value;
}

describe('day counting in Europe/Rome', () => {
  it('uses the local date, not UTC', () => {
    expect(localDate(at('2026-11-20T23:30:00Z'), ROME)).toBe('2026-11-21'); // 00:30 CET
    expect(localDate(at('2026-07-20T22:30:00Z'), ROME)).toBe('2026-07-21'); // 00:30 CEST
  });
  it('counts every calendar day the interval touches; end is exclusive', () => {
    const d = (s: string, e: string) => billableDays({ startMicros: at(s), endMicros: at(e) }, ROME, ALL).days;
    expect(d('2026-11-20T08:00:00Z', '2026-11-20T09:00:00Z')).toBe(1);
    expect(d('2026-11-20T22:00:00Z', '2026-11-21T00:30:00Z')).toBe(2); // 23:00 to 01:30 local
    expect(d('2026-11-19T23:00:00Z', '2026-11-20T23:00:00Z')).toBe(1); // exactly one local day
    expect(d('2026-11-01T10:00:00Z', '2026-12-01T10:00:00Z')).toBe(31);
    // Across the DST change of 25 Oct 2026 (a 25-hour day): 24-27 Oct = 4 days.
    expect(d('2026-10-24T10:00:00Z', '2026-10-27T10:00:00Z')).toBe(4);
    expect(billableDays(null, ROME, ALL).days).toBe(0);
    expect(billableDays({ startMicros: 5, endMicros: 5 }, ROME, ALL).days).toBe(0);
  });
  it('clips to the report period', () => {
    const iv = { startMicros: at('2026-11-28T10:00:00Z'), endMicros: at('2026-12-03T10:00:00Z') };
    expect(billableDays(iv, ROME, NOV)).toEqual({ days: 3, firstDay: '2026-11-28', lastDay: '2026-11-30' });
    expect(billableDays(iv, ROME, { fromDate: '2026-12-01', toDate: '2026-12-31' }).days).toBe(3);
    expect(billableDays(iv, ROME, { fromDate: '2027-01-01', toDate: '2027-01-31' }).days).toBe(0);
  });
  it('validates dates', () => {
    expect(isDate('2026-02-28')).toBe(true);
    expect(isDate('2026-02-29')).toBe(false);
    expect(isDate('2026-2-1')).toBe(false);
  });
});

describe('office hours (configured, the seed gives none)', () => {
  it('reads the local weekday, time and holidays', () => {
    const t = priceList();
    expect(outOfHours(at('2026-11-06T16:59:00Z'), t)).toBe(false); // Fri 17:59 Rome
    expect(outOfHours(at('2026-11-06T17:00:00Z'), t)).toBe(true); // Fri 18:00 Rome
    expect(outOfHours(at('2026-11-02T06:59:00Z'), t)).toBe(true); // Mon 07:59 Rome
    expect(outOfHours(at('2026-11-07T10:00:00Z'), t)).toBe(true); // Saturday
    expect(outOfHours(at('2026-12-08T10:00:00Z'), t)).toBe(true); // a Tuesday, holiday
    expect(outOfHours(at('2026-07-06T06:30:00Z'), t)).toBe(false); // Mon 08:30 CEST
    expect(outOfHours(at('2026-11-07T10:00:00Z'), priceList(null))).toBe(null);
  });
});

describe('the price list is data with the seed values', () => {
  it('ships every Allegato 3 row with its price in cents', () => {
    const t = priceList();
    const row = (c: string) => t.services.find((s) => s.code === c);
    expect(t.services.map((s) => [s.code, s.dailyMinor, s.perLineDailyMinor, s.unitMinor, s.requestMinor])).toEqual([
      ['MONO_POTS_MOBILE', 150, 0, 0, 0], // 1,50 EUR/giorno
      ['MONO_ISDN', 180, 0, 0, 0], // 1,80 EUR/giorno
      ['MULTI_POTS', 60, 90, 0, 0], // 0,60 EUR/giorno + 0,90 EUR/giorno per linea
      ['MULTI_ISDN', 60, 120, 0, 0], // 0,60 + 1,20 per linea
      ['GNR', 60, 180, 0, 0], // 0,60 + 1,80 per linea
      ['TRAFFIC_REALTIME', 100, 0, 0, 0], // 1,00 EUR/giorno
      ['TRAFFIC_HISTORY_48H', 0, 0, 2000, 0], // 20,00 EUR per tab./numero
      ['TRAFFIC_HISTORY_OLDER', 0, 0, 2000, 0],
      ['CLI_WITHOUT_COOPERATION', 0, 0, 0, 1800], // 18,00 EUR a richiesta
      ['CLI_WITH_COOPERATION', 100, 0, 0, 0], // 1,00 EUR al giorno
      ['SERVICE_INTERRUPTION', 0, 0, 0, 1800],
      ['LOCATION_HLR', 150, 0, 0, 0],
    ]);
    // 50,00 EUR a richiesta out of hours everywhere but the older traffic ("orario ufficio").
    expect(t.services.filter((s) => s.outOfHoursMinor !== 5000).map((s) => s.code)).toEqual(['TRAFFIC_HISTORY_OLDER']);
    expect(row('TRAFFIC_HISTORY_OLDER')?.outOfHoursMinor).toBe(null);
    expect(t.services.every((s) => s.section.startsWith('Allegato 3'))).toBe(true);
    // As shipped: no working hours, the seed gives none.
    expect(parseTariffs(shipped)).toMatchObject({ ok: true, value: { officeHours: null } });
  });
  it('refuses a list with a missing price, no office hours key or a bad row', () => {
    const services = shipped.services;
    const without = (i: number, k: string) =>
      services.map((s, j) => (j === i ? Object.fromEntries(Object.entries(s).filter(([n]) => n !== k)) : s));
    const bad = (over: Record<string, unknown>) => parseTariffs({ ...shipped, officeHours: null, ...over });
    expect(bad({ services: without(0, 'dailyMinor') })).toMatchObject({
      ok: false,
      error: { field: 'services.0.dailyMinor' },
    });
    expect(bad({ services: without(1, 'outOfHoursMinor') })).toMatchObject({
      ok: false,
      error: { field: 'services.1.outOfHoursMinor' },
    });
    const { officeHours: _o, ...noHours } = shipped;
    expect(parseTariffs(noHours)).toMatchObject({ ok: false, error: { field: 'officeHours' } });
    expect(bad({ officeHours: { ...TEST_HOURS, to: '07:00' } })).toMatchObject({
      ok: false,
      error: { field: 'officeHours.to' },
    });
    expect(bad({ defaultLineByKind: { VOICE: 'MULTI_POTS' } })).toMatchObject({
      ok: false,
      error: { field: 'defaultLineByKind.VOICE' },
    });
    expect(bad({ timeZone: 'Mars/Olympus' })).toMatchObject({ ok: false, error: { field: 'timeZone' } });
    expect(bad({ currency: 'euro' })).toMatchObject({ ok: false, error: { field: 'currency' } });
  });
  it('checks billing orders against the list', () => {
    const t = priceList();
    expect(parseBillingOrder({ service: 'MULTI_ISDN', lines: 4 }, t)).toEqual({
      ok: true,
      value: { service: 'MULTI_ISDN', lines: 4, units: 1 },
    });
    expect(parseBillingOrder({ service: 'MULTI_ISDN' }, t)).toMatchObject({ ok: false, error: { field: 'lines' } });
    expect(parseBillingOrder({ service: 'MONO_ISDN', lines: 3 }, t)).toMatchObject({
      ok: false,
      error: { field: 'lines' },
    });
    expect(parseBillingOrder({ service: 'TRAFFIC_HISTORY_48H' }, t)).toMatchObject({
      ok: false,
      error: { field: 'units' },
    });
    expect(parseBillingOrder({ service: 'PIZZA' }, t)).toMatchObject({ ok: false, error: { field: 'service' } });
  });
});

// ---- worked examples: an audit trail and the invoice an auditor can recompute by hand ----------

const warrant = (liid: string, kind: Warrant['interceptionKind'], from: string, until: string, state = 'ACTIVE') =>
  ({
    liid,
    tenant: 'acme',
    authorisationCountry: 'IT',
    interceptionKind: kind,
    validFromMicros: at(from),
    validUntilMicros: at(until),
    state,
  }) as Warrant;

let seq = 0;
const rec = (iso: string, action: string, objectId: string, after: unknown): AuditRecord => ({
  tenant: 'acme',
  seq: ++seq,
  atMicros: at(iso),
  actor: 'u',
  role: 'admin',
  action,
  objectType: 'WARRANT',
  objectId,
  before: null,
  after: JSON.stringify(after),
  reason: null,
  prevHash: '',
  hash: '',
});

function trail(): AuditRecord[] {
  seq = 0;
  const A = warrant('MULTI1', 'VOICE', '2026-11-02T08:00:00Z', '2027-01-31T00:00:00Z');
  const B = warrant('NIGHT1', 'VOICE', '2026-11-07T21:30:00Z', '2026-11-09T21:30:00Z');
  const order = (iso: string, key: string, service: string, extra: object = {}) =>
    rec(iso, BILLING_ORDER_ACTION, key, { service, lines: 1, units: 1, ...extra });
  return [
    rec('2026-11-02T08:00:00Z', 'warrant.create', 'IT:MULTI1', A), // 1: Mon 09:00 Rome
    order('2026-11-02T08:30:00Z', 'IT:MULTI1', 'MULTI_ISDN', { lines: 4 }), // 2
    rec('2026-11-07T21:30:00Z', 'warrant.create', 'IT:NIGHT1', B), // 3: Sat 22:30 Rome
    order('2026-11-08T10:00:00Z', 'IT:NIGHT1', 'TRAFFIC_HISTORY_48H', { units: 2 }), // 4: Sun 11:00
    order('2026-11-09T09:00:00Z', 'IT:NIGHT1', 'LOCATION_HLR'), // 5: Mon 10:00
    order('2026-11-09T10:00:00Z', 'IT:NIGHT1', 'CLI_WITHOUT_COOPERATION'), // 6: Mon 11:00
    order('2026-11-08T11:00:00Z', 'IT:NIGHT1', 'TRAFFIC_HISTORY_OLDER'), // 7: Sun 12:00
    rec('2026-11-12T08:00:00Z', 'warrant.deactivate', 'IT:MULTI1', { ...A, state: 'DEACTIVATED' }), // 8
  ];
}
const AS_OF = at('2026-12-15T12:00:00Z');

describe('invoice per tenant and period from the audit trail', () => {
  it('prices a multi-line ISDN target and an out-of-hours request (worked example)', () => {
    const r = invoice('acme', trail(), priceList(), NOV, AS_OF);
    const rows = r.items.map((i) => [i.liid, i.service, i.basis, i.quantity, i.unitMinor, i.amountMinor, i.auditSeqs]);
    expect(rows).toEqual([
      // MULTI1, multi-line ISDN with 4 lines, 2 Nov 09:00 to 12 Nov 09:00 Rome (deactivated, seq 8):
      // 2..12 Nov = 11 days x (0,60 + 4 x 1,20 = 5,40 EUR) = 59,40 EUR. Requested Monday 09:00: no surcharge.
      ['MULTI1', 'MULTI_ISDN', 'days', 11, 540, 5940, [1, 2, 8]],
      // NIGHT1, VOICE without a line order: the default single-line POTS/mobile row,
      // Sat 7 Nov 22:30 to Mon 9 Nov 22:30 Rome = 7, 8, 9 Nov = 3 days x 1,50 = 4,50 EUR.
      ['NIGHT1', 'MONO_POTS_MOBILE', 'days', 3, 150, 450, [3]],
      // Requested on a Saturday at 22:30: out of hours, 50,00 EUR.
      ['NIGHT1', 'MONO_POTS_MOBILE', 'out-of-hours', 1, 5000, 5000, [3]],
      // Traffic of the last 48 h, 2 numbers x 20,00 = 40,00 EUR, on a Sunday: + 50,00 EUR.
      ['NIGHT1', 'TRAFFIC_HISTORY_48H', 'units', 2, 2000, 4000, [4]],
      ['NIGHT1', 'TRAFFIC_HISTORY_48H', 'out-of-hours', 1, 5000, 5000, [4]],
      // HLR location from Mon 10:00 to the end 22:30: 1 day x 1,50 EUR; office hours.
      ['NIGHT1', 'LOCATION_HLR', 'days', 1, 150, 150, [3, 5]],
      // CLI identification without the user's cooperation, 18,00 EUR, Monday 11:00.
      ['NIGHT1', 'CLI_WITHOUT_COOPERATION', 'request', 1, 1800, 1800, [6]],
      // Older traffic, 1 number x 20,00 EUR; office hours only, so no surcharge on a Sunday.
      ['NIGHT1', 'TRAFFIC_HISTORY_OLDER', 'units', 1, 2000, 2000, [7]],
    ]);
    // 59,40 + 4,50 + 50,00 + 40,00 + 50,00 + 1,50 + 18,00 + 20,00 = 243,40 EUR
    expect(r.totalMinor).toBe(24340);
    expect(r.unpriced).toEqual([]);
    expect(r.byService).toEqual([
      { service: 'MONO_POTS_MOBILE', amountMinor: 5450 },
      { service: 'MULTI_ISDN', amountMinor: 5940 },
      { service: 'TRAFFIC_HISTORY_48H', amountMinor: 9000 },
      { service: 'TRAFFIC_HISTORY_OLDER', amountMinor: 2000 },
      { service: 'CLI_WITHOUT_COOPERATION', amountMinor: 1800 },
      { service: 'LOCATION_HLR', amountMinor: 150 },
    ]);
    expect(r.inputs).toEqual({ auditSeqs: [1, 2, 3, 4, 5, 6, 7, 8], auditHeadSeq: 8 });
    expect(r).toMatchObject({ tenant: 'acme', currency: 'EUR', asOfMicros: AS_OF, fromDate: '2026-11-01' });
  });

  it('is reproducible: the same trail, list, period and instant give the same invoice', () => {
    const a = invoice('acme', trail(), priceList(), NOV, AS_OF);
    expect(invoice('acme', trail().reverse(), priceList(), NOV, AS_OF)).toEqual(a);
  });

  it('bills only what falls in the period', () => {
    // 1-8 Nov: MULTI1 2..8 Nov = 7 x 5,40 = 37,80; NIGHT1 7, 8 Nov = 2 x 1,50 = 3,00 + 50,00 out of hours;
    // the 48 h traffic (8 Nov) 40,00 + 50,00; the older traffic (8 Nov) 20,00. Monday's orders fall outside.
    const r = invoice('acme', trail(), priceList(), { fromDate: '2026-11-01', toDate: '2026-11-08' }, AS_OF);
    expect(r.totalMinor).toBe(3780 + 300 + 5000 + 4000 + 5000 + 2000);
    const dec = invoice('acme', trail(), priceList(), { fromDate: '2026-12-01', toDate: '2026-12-31' }, AS_OF);
    expect(dec.totalMinor).toBe(0);
  });

  it('never prices silently what the list cannot price', () => {
    // Office hours not configured: the surcharges are reported, not charged and not dropped.
    const r = invoice('acme', trail(), priceList(null), NOV, AS_OF);
    expect(r.totalMinor).toBe(24340 - 2 * 5000);
    expect(r.unpriced.map((u) => [u.liid, u.service, u.auditSeqs])).toEqual([
      ['MULTI1', 'MULTI_ISDN', [1]],
      ['NIGHT1', 'MONO_POTS_MOBILE', [3]],
      ['NIGHT1', 'TRAFFIC_HISTORY_48H', [4]],
      ['NIGHT1', 'LOCATION_HLR', [5]],
      ['NIGHT1', 'CLI_WITHOUT_COOPERATION', [6]],
    ]);
    // An e-mail warrant with no line ordered: the list has no row for it.
    seq = 100;
    const mail = rec(
      '2026-11-03T09:00:00Z',
      'warrant.create',
      'IT:MAIL1',
      warrant('MAIL1', 'EMAIL', '2026-11-03T09:00:00Z', '2026-11-04T09:00:00Z'),
    );
    const m = invoice('acme', [mail], priceList(), NOV, AS_OF);
    expect(m.items).toEqual([]);
    expect(m.unpriced).toMatchObject([{ liid: 'MAIL1', service: null, auditSeqs: [101] }]);
  });
});
