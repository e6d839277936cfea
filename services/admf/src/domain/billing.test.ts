import { describe, expect, it } from 'vitest';
import { billableDays, billingReport, isDate, localDate, parseTariffs } from './billing.ts';

const ROME = 'Europe/Rome';
const at = (iso: string) => Date.parse(iso) * 1000;
const ALL = { fromDate: '2000-01-01', toDate: '2100-12-31' };
const tariffs = () => {
  const t = parseTariffs({
    currency: 'EUR',
    timeZone: ROME,
    daily: {
      VOICE: { dailyMinor: 150 },
      MESSAGING: { dailyMinor: 100 },
      EMAIL: { dailyMinor: 120 },
      DATA: { dailyMinor: 130 },
      MULTIMEDIA: { dailyMinor: 180 },
    },
  });
  if (!t.ok) throw new Error(t.error.message);
  return t.value;
};

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
    expect(billableDays(iv, ROME, { fromDate: '2026-11-01', toDate: '2026-11-30' })).toEqual({
      days: 3,
      firstDay: '2026-11-28',
      lastDay: '2026-11-30',
    });
    expect(billableDays(iv, ROME, { fromDate: '2026-12-01', toDate: '2026-12-31' }).days).toBe(3);
    expect(billableDays(iv, ROME, { fromDate: '2027-01-01', toDate: '2027-01-31' }).days).toBe(0);
  });
  it('validates dates', () => {
    expect(isDate('2026-02-28')).toBe(true);
    expect(isDate('2026-02-29')).toBe(false);
    expect(isDate('2026-2-1')).toBe(false);
  });
});

describe('tariffs are data', () => {
  it('refuses a table missing a kind or with fractional prices', () => {
    expect(parseTariffs({ currency: 'EUR', timeZone: ROME, daily: { VOICE: { dailyMinor: 150 } } })).toMatchObject({
      ok: false,
      error: { field: 'daily.MESSAGING.dailyMinor' },
    });
    expect(parseTariffs({ currency: 'EUR', timeZone: 'Mars/Olympus', daily: {} })).toMatchObject({
      ok: false,
      error: { field: 'timeZone' },
    });
    expect(parseTariffs({ currency: 'euro', timeZone: ROME, daily: {} })).toMatchObject({
      ok: false,
      error: { field: 'currency' },
    });
  });
  it('sums per warrant, per kind and per tenant in cents', () => {
    const r = billingReport(
      'acme',
      [
        {
          liid: 'B',
          authorisationCountry: 'IT',
          interceptionKind: 'VOICE',
          interval: { startMicros: at('2026-11-01T10:00:00Z'), endMicros: at('2026-11-03T10:00:00Z') },
        },
        {
          liid: 'A',
          authorisationCountry: 'IT',
          interceptionKind: 'DATA',
          interval: { startMicros: at('2026-11-01T10:00:00Z'), endMicros: at('2026-11-02T10:00:00Z') },
        },
        { liid: 'C', authorisationCountry: 'IT', interceptionKind: 'VOICE', interval: null },
      ],
      tariffs(),
      { fromDate: '2026-11-01', toDate: '2026-11-30' },
    );
    expect(r.warrants.map((l) => [l.liid, l.days, l.amountMinor])).toEqual([
      ['A', 2, 260],
      ['B', 3, 450],
      ['C', 0, 0],
    ]);
    expect(r.byKind).toEqual([
      { interceptionKind: 'VOICE', days: 3, amountMinor: 450 },
      { interceptionKind: 'DATA', days: 2, amountMinor: 260 },
    ]);
    expect([r.totalDays, r.totalMinor]).toEqual([5, 710]);
  });
});
