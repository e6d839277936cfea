// Billing per the price list (seed 001 Annex 3, "€/giorno" lines; Art. 9 c.8: billed from the
// effective start and end dates). Tariffs are data (config/tariffs.json), never code.
//
// Day counting: a billable day is a calendar day in the tariff's time zone (Europe/Rome) that
// the effective interval [start, end) touches. An interval from 23:00 to 01:00 the next day
// is 2 days; one from 00:00 to 24:00 is 1 day. A report period [fromDate, toDate] (local
// dates, inclusive) counts only the days inside it.
import type { InterceptionKind } from '@li/schemas';
import type { Result } from '../errors.ts';
import { errResult, okResult } from '../errors.ts';
import { INTERCEPTION_KINDS } from './warrant.ts';

interface Tariff {
  /** Daily price in the smallest currency unit (cents), to keep sums exact. */
  dailyMinor: number;
  label: string;
}

export interface TariffTable {
  currency: string;
  timeZone: string;
  source: string;
  daily: Record<InterceptionKind, Tariff>;
}

/** Checks a parsed tariff file; every interception kind must have a price. */
export function parseTariffs(raw: unknown): Result<TariffTable> {
  const bad = (field: string, msg: string) => errResult<TariffTable>('ADM_ERR_VALIDATION', `tariffs: ${msg}`, field);
  if (!raw || typeof raw !== 'object') return bad('', 'must be an object');
  const r = raw as Record<string, unknown>;
  if (typeof r.currency !== 'string' || !/^[A-Z]{3}$/.test(r.currency))
    return bad('currency', 'currency must be ISO 4217');
  if (typeof r.timeZone !== 'string') return bad('timeZone', 'timeZone is required');
  try {
    new Intl.DateTimeFormat('en', { timeZone: r.timeZone });
  } catch {
    return bad('timeZone', 'timeZone is not an IANA zone');
  }
  const daily = r.daily as Record<string, unknown> | undefined;
  if (!daily || typeof daily !== 'object') return bad('daily', 'daily is required');
  const out = {} as Record<InterceptionKind, Tariff>;
  for (const k of INTERCEPTION_KINDS) {
    const t = daily[k] as Record<string, unknown> | undefined;
    if (!t || !Number.isInteger(t.dailyMinor) || (t.dailyMinor as number) < 0) {
      return bad(`daily.${k}.dailyMinor`, `daily.${k}.dailyMinor must be a non-negative integer`);
    }
    out[k] = { dailyMinor: t.dailyMinor as number, label: typeof t.label === 'string' ? t.label : k };
  }
  return okResult({
    currency: r.currency,
    timeZone: r.timeZone,
    source: typeof r.source === 'string' ? r.source : '',
    daily: out,
  });
}

const dateFormatters = new Map<string, Intl.DateTimeFormat>();

/** Local calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function localDate(micros: number, timeZone: string): string {
  let f = dateFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dateFormatters.set(timeZone, f);
  }
  return f.format(new Date(Math.floor(micros / 1000)));
}

const dayNumber = (d: string) =>
  Date.UTC(Number(d.slice(0, 4)), Number(d.slice(5, 7)) - 1, Number(d.slice(8, 10))) / 86_400_000;

export function isDate(d: unknown): d is string {
  if (typeof d !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(d)) return false;
  const t = new Date(`${d}T00:00:00Z`);
  return !Number.isNaN(t.getTime()) && t.toISOString().startsWith(d);
}

export function billableDays(
  interval: { startMicros: number; endMicros: number } | null,
  timeZone: string,
  period: { fromDate: string; toDate: string },
): { days: number; firstDay: string | null; lastDay: string | null } {
  if (!interval || interval.endMicros <= interval.startMicros) return { days: 0, firstDay: null, lastDay: null };
  let first = localDate(interval.startMicros, timeZone);
  let last = localDate(interval.endMicros - 1, timeZone); // end is exclusive
  if (first < period.fromDate) first = period.fromDate;
  if (last > period.toDate) last = period.toDate;
  if (first > last) return { days: 0, firstDay: null, lastDay: null };
  return { days: dayNumber(last) - dayNumber(first) + 1, firstDay: first, lastDay: last };
}

interface BillingLine {
  liid: string;
  authorisationCountry: string;
  interceptionKind: InterceptionKind;
  effectiveStartMicros: number | null;
  effectiveEndMicros: number | null;
  firstDay: string | null;
  lastDay: string | null;
  days: number;
  dailyMinor: number;
  amountMinor: number;
}

export interface BillingReport {
  tenant: string;
  currency: string;
  timeZone: string;
  fromDate: string;
  toDate: string;
  warrants: BillingLine[];
  byKind: { interceptionKind: InterceptionKind; days: number; amountMinor: number }[];
  totalDays: number;
  totalMinor: number;
}

export function billingReport(
  tenant: string,
  items: readonly {
    liid: string;
    authorisationCountry: string;
    interceptionKind: InterceptionKind;
    interval: { startMicros: number; endMicros: number } | null;
  }[],
  tariffs: TariffTable,
  period: { fromDate: string; toDate: string },
): BillingReport {
  const lines: BillingLine[] = [];
  const byKind = new Map<InterceptionKind, { days: number; amountMinor: number }>();
  for (const it of items) {
    const tariff = tariffs.daily[it.interceptionKind];
    const b = billableDays(it.interval, tariffs.timeZone, period);
    const amount = b.days * tariff.dailyMinor;
    lines.push({
      liid: it.liid,
      authorisationCountry: it.authorisationCountry,
      interceptionKind: it.interceptionKind,
      effectiveStartMicros: it.interval?.startMicros ?? null,
      effectiveEndMicros: it.interval?.endMicros ?? null,
      firstDay: b.firstDay,
      lastDay: b.lastDay,
      days: b.days,
      dailyMinor: tariff.dailyMinor,
      amountMinor: amount,
    });
    const k = byKind.get(it.interceptionKind) ?? { days: 0, amountMinor: 0 };
    k.days += b.days;
    k.amountMinor += amount;
    byKind.set(it.interceptionKind, k);
  }
  lines.sort((a, b) => (a.authorisationCountry + a.liid < b.authorisationCountry + b.liid ? -1 : 1));
  return {
    tenant,
    currency: tariffs.currency,
    timeZone: tariffs.timeZone,
    fromDate: period.fromDate,
    toDate: period.toDate,
    warrants: lines,
    byKind: INTERCEPTION_KINDS.filter((k) => byKind.has(k)).map((k) => ({ interceptionKind: k, ...byKind.get(k)! })),
    totalDays: lines.reduce((s, l) => s + l.days, 0),
    totalMinor: lines.reduce((s, l) => s + l.amountMinor, 0),
  };
}
