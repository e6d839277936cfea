// The one place the `li.*` record headers are written and read, so a header written by one
// service is read by another with the same types and the same checks. No Kafka here: domain code
// reads headers through it, and @li/bus re-exports it. A header that is missing or malformed is a
// BUS_ERR_HEADER refusal naming the header (never its value: it may be a LIID), for the reader to
// dead-letter.

/** The header names; written and read only through the functions below. */
export const HEADERS = {
  liid: 'li.liid',
  cin: 'li.cin',
  seq: 'li.seq',
  lemfs: 'li.lemfs',
  format: 'li.format',
  kind: 'li.kind',
  iriType: 'li.iri-type',
  eventId: 'li.event-id',
  reportType: 'li.report-type',
  lemf: 'li.lemf',
} as const;

export const RECORD_FORMATS = ['TS102232', 'TS101671'] as const;
export type HeaderFormat = (typeof RECORD_FORMATS)[number];
export const RECORD_KINDS = ['IRI', 'CC', 'TRI', 'HI1'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];
export const IRI_TYPES = ['BEGIN', 'CONTINUE', 'END', 'REPORT'] as const;
export type IriType = (typeof IRI_TYPES)[number];

/** The headers of an ETSI record on li.<t>.hi2 / hi3 (written by iri-encoder, read by cc-delivery). */
export interface EtsiHeaders {
  liid: string;
  cin: number;
  /** The record's sequence number within its (LIID, CIN) and stream. */
  seq: number;
  /** The LEMFs the record goes to. */
  lemfs: string[];
  format: HeaderFormat;
  kind: RecordKind;
  iriType?: IriType;
  eventId: string;
}

/** The headers of a report on li.<t>.reports (e-mail or PIPE LEMFs). */
export interface ReportHeaders {
  liid: string;
  lemfs: string[];
  reportType: string;
  eventId: string;
}

/** Headers as the processor hands them (strings) or as kafkajs does (buffers, arrays). */
export type RawHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

export type HeaderResult<T> = { ok: true; value: T } | { ok: false; code: 'BUS_ERR_HEADER'; reason: string };

export function writeEtsiHeaders(h: EtsiHeaders): Record<string, string> {
  // Built in place, not spread: one object per ETSI record on the encoder's hot path.
  const out: Record<string, string> = {
    [HEADERS.liid]: h.liid,
    [HEADERS.cin]: String(h.cin),
    [HEADERS.seq]: String(h.seq),
    [HEADERS.lemfs]: h.lemfs.join(','),
    [HEADERS.format]: h.format,
    [HEADERS.kind]: h.kind,
  };
  if (h.iriType) out[HEADERS.iriType] = h.iriType;
  out[HEADERS.eventId] = h.eventId;
  return out;
}

export function writeReportHeaders(h: ReportHeaders): Record<string, string> {
  return {
    [HEADERS.liid]: h.liid,
    [HEADERS.lemfs]: h.lemfs.join(','),
    [HEADERS.reportType]: h.reportType,
    [HEADERS.eventId]: h.eventId,
  };
}

/** The one header of a matched event: the event it came from (li.event-id). */
export function writeEventIdHeader(eventId: string): Record<string, string> {
  return { [HEADERS.eventId]: eventId };
}

class Refusal extends Error {}

/** One header's text; the last value when a header was written twice. */
function text(raw: RawHeaders, name: string, required: boolean): string | undefined {
  const v = raw[name];
  const last = Array.isArray(v) ? v[v.length - 1] : v;
  const s = last === undefined ? undefined : Buffer.isBuffer(last) ? last.toString('utf8') : String(last);
  if (required && (s === undefined || s === '')) throw new Refusal(`header ${name} missing`);
  return s;
}

function count(raw: RawHeaders, name: string): number {
  const s = text(raw, name, true)!;
  if (!/^(0|[1-9][0-9]{0,15})$/.test(s) || !Number.isSafeInteger(Number(s)))
    throw new Refusal(`header ${name}: expected a non-negative integer`);
  return Number(s);
}

function oneOf<T extends string>(
  raw: RawHeaders,
  name: string,
  allowed: readonly T[],
  required: boolean,
): T | undefined {
  const s = text(raw, name, required);
  if (s === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(s))
    throw new Refusal(`header ${name}: expected one of ${allowed.join(', ')}`);
  return s as T;
}

function list(raw: RawHeaders, name: string): string[] {
  const items = text(raw, name, true)!.split(',');
  if (items.some((i) => i === ''))
    throw new Refusal(`header ${name}: expected a comma-separated list without empty items`);
  return items;
}

function read<T>(parse: () => T): HeaderResult<T> {
  try {
    return { ok: true, value: parse() };
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, code: 'BUS_ERR_HEADER', reason: err.message };
    throw err;
  }
}

export function readEtsiHeaders(raw: RawHeaders): HeaderResult<EtsiHeaders> {
  return read(() => {
    const iriType = oneOf(raw, HEADERS.iriType, IRI_TYPES, false);
    return {
      liid: text(raw, HEADERS.liid, true)!,
      cin: count(raw, HEADERS.cin),
      seq: count(raw, HEADERS.seq),
      lemfs: list(raw, HEADERS.lemfs),
      format: oneOf(raw, HEADERS.format, RECORD_FORMATS, true)!,
      kind: oneOf(raw, HEADERS.kind, RECORD_KINDS, true)!,
      ...(iriType ? { iriType } : {}),
      eventId: text(raw, HEADERS.eventId, true)!,
    };
  });
}

export function readReportHeaders(raw: RawHeaders): HeaderResult<ReportHeaders> {
  return read(() => ({
    liid: text(raw, HEADERS.liid, true)!,
    lemfs: list(raw, HEADERS.lemfs),
    reportType: text(raw, HEADERS.reportType, true)!,
    eventId: text(raw, HEADERS.eventId, true)!,
  }));
}

/**
 * What cc-delivery delivers by: the LEMFs (li.lemfs, required) and, when written, the LIID, CIN,
 * sequence number and format. Reports and test records carry only some of them; a header that is
 * there is checked as readEtsiHeaders checks it.
 */
export interface DeliveryHeaders {
  lemfs: string[];
  liid?: string;
  cin?: number;
  seq?: number;
  format?: HeaderFormat;
}

/** The headers of a record cc-delivery delivers by what it carries only (tests, benchmarks): readDeliveryHeaders reads them back. */
export function writeDeliveryHeaders(h: DeliveryHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  if (h.liid !== undefined) out[HEADERS.liid] = h.liid;
  if (h.cin !== undefined) out[HEADERS.cin] = String(h.cin);
  if (h.seq !== undefined) out[HEADERS.seq] = String(h.seq);
  out[HEADERS.lemfs] = h.lemfs.join(',');
  if (h.format !== undefined) out[HEADERS.format] = h.format;
  return out;
}

export function readDeliveryHeaders(raw: RawHeaders): HeaderResult<DeliveryHeaders> {
  return read(() => {
    const present = (name: string) => text(raw, name, false) !== undefined;
    const liid = text(raw, HEADERS.liid, false);
    const format = oneOf(raw, HEADERS.format, RECORD_FORMATS, false);
    return {
      lemfs: list(raw, HEADERS.lemfs),
      ...(liid ? { liid } : {}),
      ...(present(HEADERS.cin) ? { cin: count(raw, HEADERS.cin) } : {}),
      ...(present(HEADERS.seq) ? { seq: count(raw, HEADERS.seq) } : {}),
      ...(format ? { format } : {}),
    };
  });
}

/** li.event-id of a record, or undefined. */
export function readEventId(raw: RawHeaders): string | undefined {
  return text(raw, HEADERS.eventId, false) || undefined;
}
