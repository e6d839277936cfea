// Billing per the price list of seed 001 Allegato 3 (listino unico), billed from the effective
// start and end dates (Art. 9 c.8). Prices are data (config/tariffs.json), never code.
//
// The invoice is a pure function of the tenant's audit trail, the price list, the period and
// the "as of" instant (open warrants run until then), so an auditor can recompute it from the
// audit seq numbers it lists.
//
// Day counting: a billable day is a calendar day in the price list's time zone (Europe/Rome)
// that the effective interval [start, end) touches. 23:00 to 01:00 the next day is 2 days;
// 00:00 to 24:00 is 1 day. A period [fromDate, toDate] (local dates, inclusive) counts only the
// days inside it. One-off items (per request, per unit, out-of-hours surcharges) fall in the
// period that holds the local date of their request.
import { unreachable } from '@li/core';
import { warrantKey } from '@li/identifiers';
import type { InterceptionKind, Warrant } from '@li/schemas';
import type { Result } from '../errors.ts';
import { errResult, okResult } from '../errors.ts';
import { effectiveInterval } from './lifecycle.ts';
import type { AuditRecord } from './model.ts';
import { INTERCEPTION_KINDS } from './warrant.ts';

/**
 * How a row of Allegato 3 is priced. line: the interception of the target's line(s), daily base
 * plus a daily price per line (multi-line rows); daily: an extra service per day; unit: per
 * "tab./numero"; request: once per request.
 */
const SERVICE_KINDS = ['line', 'daily', 'unit', 'request'] as const;
type ServiceKind = (typeof SERVICE_KINDS)[number];

interface PriceRow {
  code: string;
  kind: ServiceKind;
  label: string;
  /** Where the price is in the seed. */
  section: string;
  /** All prices in cents, to keep sums exact. */
  dailyMinor: number;
  perLineDailyMinor: number;
  unitMinor: number;
  requestMinor: number;
  /** "Sovrapprezzo per richieste fuori orario"; null: the service is office hours only. */
  outOfHoursMinor: number | null;
}

/** The seed names working hours but does not define them, so they have no default. */
interface OfficeHours {
  /** ISO weekdays, 1 = Monday ... 7 = Sunday. */
  weekdays: number[];
  /** Local "HH:MM", from inclusive, to exclusive. */
  from: string;
  to: string;
  /** Local dates that are not working days. */
  holidays: string[];
}

export interface TariffTable {
  currency: string;
  timeZone: string;
  source: string;
  /** null: not configured, out-of-hours surcharges are reported as unpriced. */
  officeHours: OfficeHours | null;
  /** The line row a warrant is billed at when no billing order names one. */
  defaultLineByKind: Partial<Record<InterceptionKind, string>>;
  services: PriceRow[];
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const isPrice = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
const HHMM = /^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$/;

/** Checks a parsed price list. Every price the seed gives must be present; none has a default. */
export function parseTariffs(raw: unknown): Result<TariffTable> {
  const bad = (field: string, msg: string) => errResult<TariffTable>('ADM_ERR_VALIDATION', `tariffs: ${msg}`, field);
  if (!isObj(raw)) return bad('', 'must be an object');
  if (typeof raw.currency !== 'string' || !/^[A-Z]{3}$/.test(raw.currency))
    return bad('currency', 'currency must be ISO 4217');
  if (typeof raw.timeZone !== 'string') return bad('timeZone', 'timeZone is required');
  try {
    new Intl.DateTimeFormat('en', { timeZone: raw.timeZone });
  } catch {
    return bad('timeZone', 'timeZone is not an IANA zone');
  }
  if (!('officeHours' in raw)) return bad('officeHours', 'officeHours is required (null: not configured)');
  let officeHours: OfficeHours | null = null;
  if (raw.officeHours !== null) {
    const o = raw.officeHours;
    if (!isObj(o)) return bad('officeHours', 'officeHours must be an object or null');
    const days = o.weekdays;
    if (!Array.isArray(days) || !days.every((d) => Number.isInteger(d) && d >= 1 && d <= 7))
      return bad('officeHours.weekdays', 'officeHours.weekdays must list ISO weekdays 1-7');
    if (typeof o.from !== 'string' || !HHMM.test(o.from)) return bad('officeHours.from', 'officeHours.from is HH:MM');
    if (typeof o.to !== 'string' || !HHMM.test(o.to) || o.to <= o.from)
      return bad('officeHours.to', 'officeHours.to is HH:MM after from');
    if (!Array.isArray(o.holidays) || !o.holidays.every(isDate))
      return bad('officeHours.holidays', 'officeHours.holidays must list dates YYYY-MM-DD');
    officeHours = { weekdays: days as number[], from: o.from, to: o.to, holidays: o.holidays as string[] };
  }
  if (!Array.isArray(raw.services)) return bad('services', 'services is required');
  const services: PriceRow[] = [];
  for (const [i, s] of raw.services.entries()) {
    const f = `services.${i}`;
    if (!isObj(s)) return bad(f, `${f} must be an object`);
    if (typeof s.code !== 'string' || !/^[A-Z0-9_]+$/.test(s.code)) return bad(`${f}.code`, `${f}.code is required`);
    if (services.some((x) => x.code === s.code)) return bad(`${f}.code`, `${f}.code ${s.code} is listed twice`);
    const kind = s.kind as ServiceKind;
    if (!SERVICE_KINDS.includes(kind)) return bad(`${f}.kind`, `${f}.kind must be one of ${SERVICE_KINDS.join(', ')}`);
    // The price fields each kind needs; a missing one is an error, never zero.
    const needs = { line: ['dailyMinor'], daily: ['dailyMinor'], unit: ['unitMinor'], request: ['requestMinor'] }[kind];
    for (const p of needs) {
      if (!isPrice(s[p])) return bad(`${f}.${p}`, `${f}.${p} must be a non-negative integer (cents)`);
    }
    if (s.perLineDailyMinor !== undefined && (kind !== 'line' || !isPrice(s.perLineDailyMinor)))
      return bad(`${f}.perLineDailyMinor`, `${f}.perLineDailyMinor is a price of line rows`);
    if (!('outOfHoursMinor' in s) || (s.outOfHoursMinor !== null && !isPrice(s.outOfHoursMinor)))
      return bad(`${f}.outOfHoursMinor`, `${f}.outOfHoursMinor must be cents or null (office hours only)`);
    services.push({
      code: s.code,
      kind,
      label: typeof s.label === 'string' ? s.label : s.code,
      section: typeof s.section === 'string' ? s.section : '',
      dailyMinor: (s.dailyMinor as number | undefined) ?? 0,
      perLineDailyMinor: (s.perLineDailyMinor as number | undefined) ?? 0,
      unitMinor: (s.unitMinor as number | undefined) ?? 0,
      requestMinor: (s.requestMinor as number | undefined) ?? 0,
      outOfHoursMinor: s.outOfHoursMinor as number | null,
    });
  }
  const defaults = raw.defaultLineByKind ?? {};
  if (!isObj(defaults)) return bad('defaultLineByKind', 'defaultLineByKind must be an object');
  const defaultLineByKind: Partial<Record<InterceptionKind, string>> = {};
  for (const [k, code] of Object.entries(defaults)) {
    if (!(INTERCEPTION_KINDS as readonly string[]).includes(k))
      return bad(`defaultLineByKind.${k}`, `defaultLineByKind.${k} is not an interception kind`);
    if (!services.some((s) => s.code === code && s.kind === 'line' && s.perLineDailyMinor === 0))
      return bad(`defaultLineByKind.${k}`, `defaultLineByKind.${k} must name a single-line row`);
    defaultLineByKind[k as InterceptionKind] = code as string;
  }
  return okResult({
    currency: raw.currency,
    timeZone: raw.timeZone,
    source: typeof raw.source === 'string' ? raw.source : '',
    officeHours,
    defaultLineByKind,
    services,
  });
}

// ---- billing orders: what was requested for a warrant beyond its activation -------------------

export const BILLING_ORDER_ACTION = 'billing.order';

/** A request for a priced service on a warrant, kept as an audit record (objectType WARRANT). */
export interface BillingOrder {
  service: string;
  /** Lines of a multi-line or GNR target; 1 for any other row. */
  lines: number;
  /** "tab./numero" of a per-unit row; 1 for any other row. */
  units: number;
}

export function parseBillingOrder(raw: unknown, tariffs: TariffTable): Result<BillingOrder> {
  const bad = <T = BillingOrder>(field: string, msg: string) => errResult<T>('ADM_ERR_VALIDATION', msg, field);
  if (!isObj(raw)) return bad('', 'a billing order is an object');
  const row = tariffs.services.find((s) => s.code === raw.service);
  if (!row) return bad('service', `service must be one of ${tariffs.services.map((s) => s.code).join(', ')}`);
  const count = (name: 'lines' | 'units', applies: boolean): Result<number> => {
    const v = raw[name];
    if (!applies)
      return v === undefined || v === 1 ? okResult(1) : bad<number>(name, `${name} does not apply to ${row.code}`);
    return Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 10_000
      ? okResult(v as number)
      : bad<number>(name, `${row.code} needs ${name}, an integer 1-10000`);
  };
  const lines = count('lines', row.kind === 'line' && row.perLineDailyMinor > 0);
  if (!lines.ok) return { ok: false, error: lines.error };
  const units = count('units', row.kind === 'unit');
  if (!units.ok) return { ok: false, error: units.error };
  return okResult({ service: row.code, lines: lines.value, units: units.value });
}

// ---- calendar -------------------------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>();

function localParts(micros: number, timeZone: string): { date: string; weekday: number; hhmm: string } {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(Math.floor(micros / 1000))).map((x) => [x.type, x.value]));
  const date = `${p.year}-${p.month}-${p.day}`;
  return { date, weekday: ((dayNumber(date) + 3) % 7) + 1, hhmm: `${p.hour}:${p.minute}` };
}

/** Local calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function localDate(micros: number, timeZone: string): string {
  return localParts(micros, timeZone).date;
}

// Days since 1970-01-01 (a Thursday: ISO weekday 4).
const dayNumber = (d: string) =>
  Date.UTC(Number(d.slice(0, 4)), Number(d.slice(5, 7)) - 1, Number(d.slice(8, 10))) / 86_400_000;

export function isDate(d: unknown): d is string {
  if (typeof d !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(d)) return false;
  const t = new Date(`${d}T00:00:00Z`);
  return !Number.isNaN(t.getTime()) && t.toISOString().startsWith(d);
}

interface Period {
  fromDate: string;
  toDate: string;
}

export function billableDays(
  interval: { startMicros: number; endMicros: number } | null,
  timeZone: string,
  period: Period,
): { days: number; firstDay: string | null; lastDay: string | null } {
  if (!interval || interval.endMicros <= interval.startMicros) return { days: 0, firstDay: null, lastDay: null };
  let first = localDate(interval.startMicros, timeZone);
  let last = localDate(interval.endMicros - 1, timeZone); // end is exclusive
  if (first < period.fromDate) first = period.fromDate;
  if (last > period.toDate) last = period.toDate;
  if (first > last) return { days: 0, firstDay: null, lastDay: null };
  return { days: dayNumber(last) - dayNumber(first) + 1, firstDay: first, lastDay: last };
}

/** true: out of office hours; null: office hours are not configured. */
export function outOfHours(micros: number, tariffs: Pick<TariffTable, 'timeZone' | 'officeHours'>): boolean | null {
  const o = tariffs.officeHours;
  if (!o) return null;
  const p = localParts(micros, tariffs.timeZone);
  const working = o.weekdays.includes(p.weekday) && !o.holidays.includes(p.date);
  return !(working && p.hhmm >= o.from && p.hhmm < o.to);
}

// ---- the invoice ----------------------------------------------------------------------------

type Basis = 'days' | 'units' | 'request' | 'out-of-hours';

interface InvoiceItem {
  liid: string;
  authorisationCountry: string;
  service: string;
  label: string;
  section: string;
  basis: Basis;
  /** days, units or 1 */
  quantity: number;
  lines: number;
  /** price of one quantity (for days: base + lines x per-line price) */
  unitMinor: number;
  amountMinor: number;
  firstDay: string | null;
  lastDay: string | null;
  /** The audit records this item is computed from. */
  auditSeqs: number[];
}

interface Unpriced {
  liid: string;
  authorisationCountry: string;
  service: string | null;
  reason: string;
  auditSeqs: number[];
}

export interface Invoice {
  tenant: string;
  currency: string;
  timeZone: string;
  fromDate: string;
  toDate: string;
  /** Open warrants are billed up to this instant. */
  asOfMicros: number;
  priceListSource: string;
  items: InvoiceItem[];
  /** Things the price list cannot price (never counted as zero silently). */
  unpriced: Unpriced[];
  byService: { service: string; amountMinor: number }[];
  totalMinor: number;
  /** Recompute from these: the audit seqs read, and the last seq of the trail at the time. */
  inputs: { auditSeqs: number[]; auditHeadSeq: number };
}

interface WarrantTrail {
  history: { seq: number; atMicros: number; warrant: Warrant }[];
  orders: { seq: number; atMicros: number; order: BillingOrder }[];
}

/** Groups the tenant's WARRANT audit records per warrant; unreadable records are skipped. */
function trails(audit: readonly AuditRecord[]): Map<string, WarrantTrail> {
  const out = new Map<string, WarrantTrail>();
  for (const r of [...audit].sort((a, b) => a.seq - b.seq)) {
    if (r.objectType !== 'WARRANT' || r.after === null) continue;
    let after: unknown;
    try {
      after = JSON.parse(r.after);
    } catch {
      continue;
    }
    const t = out.get(r.objectId) ?? { history: [], orders: [] };
    if (r.action === BILLING_ORDER_ACTION)
      t.orders.push({ seq: r.seq, atMicros: r.atMicros, order: after as BillingOrder });
    else t.history.push({ seq: r.seq, atMicros: r.atMicros, warrant: after as Warrant });
    out.set(r.objectId, t);
  }
  return out;
}

export function invoice(
  tenant: string,
  audit: readonly AuditRecord[],
  tariffs: TariffTable,
  period: Period,
  asOfMicros: number,
): Invoice {
  const items: InvoiceItem[] = [];
  const unpriced: Unpriced[] = [];
  const rowOf = (code: string) => tariffs.services.find((s) => s.code === code);
  const inPeriod = (micros: number) => {
    const d = localDate(micros, tariffs.timeZone);
    return d >= period.fromDate && d <= period.toDate ? d : null;
  };

  for (const t of trails(audit).values()) {
    const first = t.history[0];
    if (!first) continue; // orders on a warrant the trail never created
    const w = t.history[t.history.length - 1]!.warrant;
    const who = { liid: w.liid, authorisationCountry: w.authorisationCountry };
    const interval = effectiveInterval(t.history, asOfMicros);
    const historySeqs = t.history.map((h) => h.seq);

    // Out-of-hours surcharge for one request, on its local date.
    const surcharge = (row: PriceRow, atMicros: number, seqs: number[]) => {
      const day = inPeriod(atMicros);
      if (!day || row.outOfHoursMinor === null) return;
      const out = outOfHours(atMicros, tariffs);
      if (out === null) {
        unpriced.push({ ...who, service: row.code, reason: 'office hours are not configured', auditSeqs: seqs });
      } else if (out) {
        items.push({
          ...who,
          service: row.code,
          label: row.label,
          section: row.section,
          basis: 'out-of-hours',
          quantity: 1,
          lines: 1,
          unitMinor: row.outOfHoursMinor,
          amountMinor: row.outOfHoursMinor,
          firstDay: day,
          lastDay: day,
          auditSeqs: seqs,
        });
      }
    };

    // The interception itself: the latest line order, else the default for the kind.
    const lineOrder = t.orders.filter((o) => rowOf(o.order.service)?.kind === 'line').at(-1);
    const lineCode = lineOrder?.order.service ?? tariffs.defaultLineByKind[w.interceptionKind];
    const lineRow = lineCode === undefined ? undefined : rowOf(lineCode);
    if (!lineRow) {
      if (interval)
        unpriced.push({
          ...who,
          service: null,
          reason: `no line type ordered and no default line for ${w.interceptionKind}`,
          auditSeqs: historySeqs,
        });
    } else {
      const lines = lineOrder?.order.lines ?? 1;
      const seqs = lineOrder ? [...historySeqs, lineOrder.seq].sort((a, b) => a - b) : historySeqs;
      const b = billableDays(interval, tariffs.timeZone, period);
      const daily = lineRow.dailyMinor + lines * lineRow.perLineDailyMinor;
      items.push({
        ...who,
        service: lineRow.code,
        label: lineRow.label,
        section: lineRow.section,
        basis: 'days',
        quantity: b.days,
        lines,
        unitMinor: daily,
        amountMinor: b.days * daily,
        firstDay: b.firstDay,
        lastDay: b.lastDay,
        auditSeqs: seqs,
      });
      // The request is the warrant's first audit record; nothing is surcharged if it never ran.
      if (interval) surcharge(lineRow, first.atMicros, [first.seq]);
    }

    // Services requested on top of the interception.
    for (const o of t.orders) {
      const row = rowOf(o.order.service);
      if (!row) {
        unpriced.push({
          ...who,
          service: o.order.service,
          reason: 'service not in the price list',
          auditSeqs: [o.seq],
        });
        continue;
      }
      const seqs = [o.seq];
      const day = inPeriod(o.atMicros);
      const one = (basis: Basis, quantity: number, unitMinor: number) =>
        items.push({
          ...who,
          service: row.code,
          label: row.label,
          section: row.section,
          basis,
          quantity,
          lines: 1,
          unitMinor,
          amountMinor: quantity * unitMinor,
          firstDay: day,
          lastDay: day,
          auditSeqs: seqs,
        });
      switch (row.kind) {
        case 'line':
          continue; // billed above
        case 'daily': {
          // Runs from the request while the warrant is in effect.
          const iv = interval && {
            startMicros: Math.max(o.atMicros, interval.startMicros),
            endMicros: interval.endMicros,
          };
          const b = billableDays(iv, tariffs.timeZone, period);
          items.push({
            ...who,
            service: row.code,
            label: row.label,
            section: row.section,
            basis: 'days',
            quantity: b.days,
            lines: 1,
            unitMinor: row.dailyMinor,
            amountMinor: b.days * row.dailyMinor,
            firstDay: b.firstDay,
            lastDay: b.lastDay,
            auditSeqs: [...historySeqs, o.seq].sort((a, b) => a - b),
          });
          break;
        }
        case 'unit':
          if (day) one('units', o.order.units, row.unitMinor);
          break;
        case 'request':
          if (day) one('request', 1, row.requestMinor);
          break;
        default:
          unreachable(row.kind, 'price row kind');
      }
      surcharge(row, o.atMicros, seqs);
    }
  }

  const key = (i: { authorisationCountry: string; liid: string }) => warrantKey(i);
  // Per warrant, in the order of the latest record each item depends on.
  items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.auditSeqs.at(-1)! - b.auditSeqs.at(-1)!));
  const byService = new Map<string, number>();
  for (const i of items) byService.set(i.service, (byService.get(i.service) ?? 0) + i.amountMinor);
  const used = new Set([...items, ...unpriced].flatMap((i) => i.auditSeqs));
  return {
    tenant,
    currency: tariffs.currency,
    timeZone: tariffs.timeZone,
    fromDate: period.fromDate,
    toDate: period.toDate,
    asOfMicros,
    priceListSource: tariffs.source,
    items,
    unpriced,
    byService: tariffs.services
      .filter((s) => byService.has(s.code))
      .map((s) => ({ service: s.code, amountMinor: byService.get(s.code)! })),
    totalMinor: items.reduce((s, i) => s + i.amountMinor, 0),
    inputs: {
      auditSeqs: [...used].sort((a, b) => a - b),
      auditHeadSeq: audit.reduce((m, r) => Math.max(m, r.seq), 0),
    },
  };
}
