// Warrant intake rules: everything a provisioner sends is checked here, field by field, before
// anything is written. The first fault found is reported with the path of its field.
import type { NormalizeOptions } from '@li/identifiers';
import { MIN_INCOMPLETE_NUMBER_DIGITS, normalizeIncompleteNumber, normalizeTarget } from '@li/identifiers';
import type {
  DeliveryScope,
  IdentifierType,
  InterceptionKind,
  ItalianAuthorisation,
  ItalianInterceptionType,
  ItalianTechnicalData,
  ReportSelection,
  Target,
  Warrant,
} from '@li/schemas';
import { IDENTIFIER_TYPES, ITALIAN_INTERCEPTION_TYPES } from '@li/schemas';
import type { Result } from '../errors.ts';
import { errResult, okResult } from '../errors.ts';
import type { Tenant } from './model.ts';

/** TS 103 280 LIID is 1..25 octets; the Italian regulation (seed 001, Art. 2 h) allows alphanumerics only. */
export const LIID_PATTERN = /^[A-Za-z0-9]{1,25}$/;
export const INTERCEPTION_KINDS: readonly InterceptionKind[] = ['VOICE', 'MESSAGING', 'EMAIL', 'DATA', 'MULTIMEDIA'];
export const DELIVERY_SCOPES: readonly DeliveryScope[] = ['IRI_ONLY', 'IRI_AND_CC'];
const SELECTION_KEYS: readonly (keyof ReportSelection)[] = [
  'login',
  'signals',
  'media',
  'newMail',
  'sentMail',
  'mailbox',
  'access',
  'partial',
  'deletedMail',
];
export const MAX_TARGETS = 1000;
export const MAX_LEMFS = 16;

interface TargetInput {
  id?: string;
  type: string;
  value: string;
  /** An incomplete number (seed 001 Art. 9 c.1 e): matches every number starting with value. */
  incomplete?: boolean;
}

/** Italian fields as a provisioner sends them; technicalData has its own request. */
type ItalianInput = Omit<ItalianAuthorisation, 'technicalData'>;

/** Fields a provisioner may set; all are optional on modify, most required on create. */
export interface WarrantFields {
  courtCaseId?: string;
  italian?: ItalianInput | null;
  interceptionKind?: string;
  targets?: TargetInput[];
  selection?: Partial<Record<keyof ReportSelection, boolean>>;
  deliver?: string;
  lemfIds?: string[];
  validFrom?: string;
  validUntil?: string;
}

export interface WarrantCreateInput extends WarrantFields {
  liid: string;
  authorisationCountry: string;
  /** false stages the warrant DEACTIVATED; default true = activation (seed 001 Art. 5 c.3 a). */
  activate?: boolean;
}

interface WarrantContext {
  tenant: Tenant;
  nowMicros: number;
  /** LEMF destinations of the tenant. */
  lemfIds: ReadonlySet<string>;
}

const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
// Codes ICU names but ISO 3166-1 does not assign (or reserves for other uses).
const NOT_COUNTRIES = new Set(['EU', 'EZ', 'UN', 'QO', 'ZZ']);

/** ISO 3166-1 alpha-2, upper case; "XX" is accepted as TS 103 120's test country. */
export function isCountryCode(c: unknown): c is string {
  if (typeof c !== 'string' || !/^[A-Z]{2}$/.test(c)) return false;
  if (c === 'XX') return true;
  if (NOT_COUNTRIES.has(c)) return false;
  try {
    return regionNames.of(c) !== undefined;
  } catch {
    return false;
  }
}

const ISO_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,6}))?(Z|[+-]\d{2}:\d{2})$/;

/** RFC 3339 date-time with an explicit offset to µs since the epoch; null if unreadable. */
export function parseTimeMicros(s: unknown): number | null {
  if (typeof s !== 'string') return null;
  const m = ISO_TIME.exec(s);
  if (!m) return null;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return null;
  const frac = (m[2] ?? '').padEnd(6, '0');
  return ms * 1000 + Number(frac);
}

export function formatTimeMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const rest = micros - ms * 1000;
  const iso = new Date(ms).toISOString(); // ...sss Z
  return rest === 0 ? iso : `${iso.slice(0, -1)}${String(rest).padStart(3, '0')}Z`;
}

function text(v: unknown, field: string, max: number): Result<string> {
  if (typeof v !== 'string' || v.trim() === '') return errResult('ADM_ERR_VALIDATION', `${field} is required`, field);
  if (v.length > max) return errResult('ADM_ERR_VALIDATION', `${field} is longer than ${max} characters`, field);
  return okResult(v.trim());
}

function normalizeOptionsOf(t: Tenant): NormalizeOptions {
  return t.nationalTrunkPrefix
    ? { defaultCountryCode: t.defaultCountryCode, nationalTrunkPrefix: t.nationalTrunkPrefix }
    : { defaultCountryCode: t.defaultCountryCode };
}

/** previous: the targets being replaced; an unchanged target without an id keeps its old id. */
function normalizeTargets(input: unknown, tenant: Tenant, previous: readonly Target[] = []): Result<Target[]> {
  if (!Array.isArray(input) || input.length === 0) {
    return errResult('ADM_ERR_VALIDATION', 'targets must list at least one target', 'targets');
  }
  if (input.length > MAX_TARGETS) {
    return errResult('ADM_ERR_VALIDATION', `targets has more than ${MAX_TARGETS} entries`, 'targets');
  }
  const opts = normalizeOptionsOf(tenant);
  const out: Target[] = [];
  const seenValues = new Set<string>();
  const seenIds = new Set<string>();
  for (let i = 0; i < input.length; i++) {
    const t = input[i] as TargetInput;
    const f = `targets[${i}]`;
    if (!t || typeof t !== 'object') return errResult('ADM_ERR_VALIDATION', `${f} must be an object`, f);
    if (!(IDENTIFIER_TYPES as readonly string[]).includes(t.type)) {
      return errResult('ADM_ERR_VALIDATION', `${f}.type must be one of ${IDENTIFIER_TYPES.join(', ')}`, `${f}.type`);
    }
    const type = t.type as IdentifierType;
    if (t.incomplete !== undefined && typeof t.incomplete !== 'boolean') {
      return errResult('ADM_ERR_VALIDATION', `${f}.incomplete must be true or false`, `${f}.incomplete`);
    }
    const incomplete = t.incomplete === true;
    // A prefix widens the interception to every number under it: only with the explicit flag,
    // only for E.164 numbers, and never shorter than MIN_INCOMPLETE_NUMBER_DIGITS.
    if (incomplete && type !== 'E164') {
      return errResult('ADM_ERR_VALIDATION', `${f}.incomplete is only for E164 targets`, `${f}.incomplete`);
    }
    const n = incomplete ? normalizeIncompleteNumber(t.value, opts) : normalizeTarget(type, t.value, opts);
    if (!n.ok) {
      const what = incomplete ? `an incomplete number (at least ${MIN_INCOMPLETE_NUMBER_DIGITS} digits)` : `a ${type}`;
      return errResult('ADM_ERR_VALIDATION', `${f}.value is not a valid ${what}: ${n.reason}`, `${f}.value`);
    }
    const dupKey = `${type}|${incomplete ? 'prefix' : 'exact'}|${n.value}`;
    if (seenValues.has(dupKey))
      return errResult('ADM_ERR_VALIDATION', `${f}.value repeats an earlier target`, `${f}.value`);
    seenValues.add(dupKey);
    const id = t.id;
    if (id !== undefined) {
      if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
        return errResult('ADM_ERR_VALIDATION', `${f}.id must be 1-64 of A-Z a-z 0-9 _ -`, `${f}.id`);
      }
      if (seenIds.has(id)) return errResult('ADM_ERR_VALIDATION', `${f}.id repeats an earlier target id`, `${f}.id`);
    }
    // incomplete is written only when set: records of complete targets keep their old shape.
    out.push(incomplete ? { id: id ?? '', type, value: n.value, incomplete } : { id: id ?? '', type, value: n.value });
    if (id) seenIds.add(id);
  }
  for (const t of out) {
    if (t.id !== '') continue;
    const old = previous.find(
      (p) => p.type === t.type && p.value === t.value && (p.incomplete === true) === (t.incomplete === true),
    );
    if (old && !seenIds.has(old.id)) {
      t.id = old.id;
      seenIds.add(old.id);
    }
  }
  // Server-assigned ids for the rest, avoiding ids already taken.
  let next = 1;
  for (const t of out) {
    if (t.id !== '') continue;
    while (seenIds.has(`t${next}`)) next++;
    t.id = `t${next}`;
    seenIds.add(t.id);
  }
  return okResult(out);
}

/** technicalData is not an input here: the warrant's recorded one (base) is kept. */
function italianOf(v: unknown, base: ItalianAuthorisation | null): Result<ItalianAuthorisation> {
  if (!v || typeof v !== 'object') return errResult('ADM_ERR_VALIDATION', 'italian is required for IT', 'italian');
  const i = v as Record<string, unknown>;
  const fields: ['proceedingNumber' | 'ritNumber' | 'judge' | 'operator', number][] = [
    ['proceedingNumber', 64],
    ['ritNumber', 64],
    ['judge', 256],
    ['operator', 256],
  ];
  const out: Record<string, string> = {};
  for (const [k, max] of fields) {
    const r = text(i[k], `italian.${k}`, max);
    if (!r.ok) return r;
    out[k] = r.value;
  }
  const officers = i.authorisedOfficers;
  if (!Array.isArray(officers) || officers.length === 0) {
    return errResult(
      'ADM_ERR_VALIDATION',
      'italian.authorisedOfficers must name at least one officer',
      'italian.authorisedOfficers',
    );
  }
  const list: string[] = [];
  for (let k = 0; k < officers.length; k++) {
    const r = text(officers[k], `italian.authorisedOfficers[${k}]`, 256);
    if (!r.ok) return r;
    list.push(r.value);
  }
  // Seed 001 Art. 9 c.1 a: the request states telefonica, telematica or ambientale.
  const type = i.interceptionType;
  if (!(ITALIAN_INTERCEPTION_TYPES as readonly unknown[]).includes(type)) {
    return errResult(
      'ADM_ERR_VALIDATION',
      `italian.interceptionType must be one of ${ITALIAN_INTERCEPTION_TYPES.join(', ')}`,
      'italian.interceptionType',
    );
  }
  return okResult({
    proceedingNumber: out.proceedingNumber!,
    ritNumber: out.ritNumber!,
    judge: out.judge!,
    authorisedOfficers: list,
    operator: out.operator!,
    interceptionType: type as ItalianInterceptionType,
    technicalData: base?.technicalData ?? null,
  });
}

/** Technical data as the operator's staff enter it (seed 001 Art. 9 c.3 a-e). */
interface TechnicalDataInput {
  supportServer?: unknown;
  listeningSessionNumber?: unknown;
  addressBook?: unknown;
  supportLines?: unknown;
  ftpServerAddress?: unknown;
}

export const MAX_SUPPORT_LINES = 64;
const FTP_SCHEMES = new Set(['ftp:', 'ftps:', 'sftp:']);

function ftpAddressOf(v: unknown): Result<string> {
  const r = text(v, 'ftpServerAddress', 512);
  if (!r.ok) return r;
  let u: URL;
  try {
    u = new URL(r.value);
  } catch {
    return errResult(
      'ADM_ERR_VALIDATION',
      'ftpServerAddress must be an ftp://, ftps:// or sftp:// URL',
      'ftpServerAddress',
    );
  }
  if (!FTP_SCHEMES.has(u.protocol) || u.hostname === '') {
    return errResult(
      'ADM_ERR_VALIDATION',
      'ftpServerAddress must be an ftp://, ftps:// or sftp:// URL',
      'ftpServerAddress',
    );
  }
  // Credentials belong in secrets, not in a warrant record that every consumer and the audit see.
  if (u.username !== '' || u.password !== '') {
    return errResult('ADM_ERR_VALIDATION', 'ftpServerAddress must not carry a user or password', 'ftpServerAddress');
  }
  return okResult(r.value);
}

function technicalDataOf(v: unknown, nowMicros: number): Result<ItalianTechnicalData> {
  if (!v || typeof v !== 'object') return errResult('ADM_ERR_VALIDATION', 'technical data is required', 'body');
  const i = v as TechnicalDataInput;
  const server = text(i.supportServer, 'supportServer', 256);
  if (!server.ok) return server;
  const session = text(i.listeningSessionNumber, 'listeningSessionNumber', 64);
  if (!session.ok) return session;
  const book = text(i.addressBook, 'addressBook', 256);
  if (!book.ok) return book;
  if (!Array.isArray(i.supportLines) || i.supportLines.length === 0) {
    return errResult('ADM_ERR_VALIDATION', 'supportLines must list at least one line', 'supportLines');
  }
  if (i.supportLines.length > MAX_SUPPORT_LINES) {
    return errResult('ADM_ERR_VALIDATION', `supportLines has more than ${MAX_SUPPORT_LINES} entries`, 'supportLines');
  }
  const lines: string[] = [];
  for (let k = 0; k < i.supportLines.length; k++) {
    const r = text(i.supportLines[k], `supportLines[${k}]`, 128);
    if (!r.ok) return r;
    lines.push(r.value);
  }
  const ftp = ftpAddressOf(i.ftpServerAddress);
  if (!ftp.ok) return ftp;
  return okResult({
    supportServer: server.value,
    listeningSessionNumber: session.value,
    addressBook: book.value,
    supportLines: lines,
    ftpServerAddress: ftp.value,
    recordedAtMicros: nowMicros,
  });
}

/**
 * Records (or replaces) the technical data of an Italian activation (seed 001 Art. 9 c.3-4):
 * what the operator starts CC/IRI or FTP transmission with. A new warrant version.
 */
export function recordTechnicalData(current: Warrant, input: unknown, nowMicros: number): Result<Warrant> {
  if (current.authorisationCountry !== 'IT' || !current.italian) {
    return errResult(
      'ADM_ERR_VALIDATION',
      'technical data belongs to Italian (IT) warrants only',
      'authorisationCountry',
    );
  }
  if (current.state === 'DEACTIVATED') {
    return errResult('ADM_ERR_CONFLICT', 'a deactivated warrant cannot be modified; activate it first', 'state');
  }
  const r = technicalDataOf(input, nowMicros);
  if (!r.ok) return r;
  return okResult({
    ...current,
    italian: { ...current.italian, technicalData: r.value },
    version: current.version + 1,
    updatedAtMicros: nowMicros,
  });
}

function selectionOf(v: unknown, base: ReportSelection | null): Result<ReportSelection> {
  if (!v || typeof v !== 'object') return errResult('ADM_ERR_VALIDATION', 'selection is required', 'selection');
  const s = v as Record<string, unknown>;
  const out = { ...(base ?? Object.fromEntries(SELECTION_KEYS.map((k) => [k, false]))) } as ReportSelection;
  for (const k of Object.keys(s)) {
    if (!(SELECTION_KEYS as readonly string[]).includes(k)) {
      return errResult('ADM_ERR_VALIDATION', `selection.${k} is not a report kind`, `selection.${k}`);
    }
    if (typeof s[k] !== 'boolean')
      return errResult('ADM_ERR_VALIDATION', `selection.${k} must be true or false`, `selection.${k}`);
    out[k as keyof ReportSelection] = s[k] as boolean;
  }
  if (!SELECTION_KEYS.some((k) => out[k])) {
    return errResult('ADM_ERR_VALIDATION', 'selection must select at least one report kind', 'selection');
  }
  return okResult(out);
}

export function lemfIdsOf(v: unknown, known: ReadonlySet<string>): Result<string[]> {
  if (!Array.isArray(v) || v.length === 0) {
    return errResult('ADM_ERR_VALIDATION', 'lemfIds must name at least one LEMF destination', 'lemfIds');
  }
  if (v.length > MAX_LEMFS)
    return errResult('ADM_ERR_VALIDATION', `lemfIds has more than ${MAX_LEMFS} entries`, 'lemfIds');
  const out: string[] = [];
  for (let i = 0; i < v.length; i++) {
    const id = v[i];
    if (typeof id !== 'string' || !known.has(id)) {
      return errResult('ADM_ERR_VALIDATION', `lemfIds[${i}] is not a LEMF destination of this tenant`, `lemfIds[${i}]`);
    }
    if (out.includes(id)) return errResult('ADM_ERR_VALIDATION', `lemfIds[${i}] is listed twice`, `lemfIds[${i}]`);
    out.push(id);
  }
  return okResult(out);
}

/** Applies fields onto base (null on create) and checks the whole result. */
function applyFields(
  base: Omit<Warrant, 'version' | 'updatedAtMicros' | 'state'> | null,
  f: WarrantFields,
  ctx: WarrantContext,
): Result<Omit<Warrant, 'version' | 'updatedAtMicros' | 'state' | 'liid' | 'tenant' | 'authorisationCountry'>> {
  const country = base?.authorisationCountry;
  let courtCaseId = base?.courtCaseId;
  if (f.courtCaseId !== undefined || !base) {
    const r = text(f.courtCaseId, 'courtCaseId', 128);
    if (!r.ok) return r;
    courtCaseId = r.value;
  }
  let kind = base?.interceptionKind;
  if (f.interceptionKind !== undefined || !base) {
    if (!INTERCEPTION_KINDS.includes(f.interceptionKind as InterceptionKind)) {
      return errResult(
        'ADM_ERR_VALIDATION',
        `interceptionKind must be one of ${INTERCEPTION_KINDS.join(', ')}`,
        'interceptionKind',
      );
    }
    kind = f.interceptionKind as InterceptionKind;
  }
  let targets = base?.targets;
  if (f.targets !== undefined || !base) {
    const r = normalizeTargets(f.targets, ctx.tenant, base?.targets);
    if (!r.ok) return r;
    targets = r.value;
  }
  let selection = base?.selection;
  if (f.selection !== undefined || !base) {
    // On modify the given flags change, the others keep their value.
    const r = selectionOf(f.selection, base?.selection ?? null);
    if (!r.ok) return r;
    selection = r.value;
  }
  let deliver = base?.deliver;
  if (f.deliver !== undefined || !base) {
    if (!DELIVERY_SCOPES.includes(f.deliver as DeliveryScope)) {
      return errResult('ADM_ERR_VALIDATION', `deliver must be one of ${DELIVERY_SCOPES.join(', ')}`, 'deliver');
    }
    deliver = f.deliver as DeliveryScope;
  }
  let lemfIds = base?.lemfIds;
  if (f.lemfIds !== undefined || !base) {
    const r = lemfIdsOf(f.lemfIds, ctx.lemfIds);
    if (!r.ok) return r;
    lemfIds = r.value;
  }
  let from = base?.validFromMicros;
  if (f.validFrom !== undefined || !base) {
    const t = parseTimeMicros(f.validFrom);
    if (t === null)
      return errResult('ADM_ERR_VALIDATION', 'validFrom must be an RFC 3339 date-time with offset', 'validFrom');
    from = t;
  }
  let until = base?.validUntilMicros;
  if (f.validUntil !== undefined || !base) {
    const t = parseTimeMicros(f.validUntil);
    if (t === null)
      return errResult('ADM_ERR_VALIDATION', 'validUntil must be an RFC 3339 date-time with offset', 'validUntil');
    until = t;
  }
  if (!(from! < until!)) return errResult('ADM_ERR_VALIDATION', 'validUntil must be after validFrom', 'validUntil');
  if (f.validUntil !== undefined && until! <= ctx.nowMicros) {
    return errResult('ADM_ERR_VALIDATION', 'validUntil is in the past', 'validUntil');
  }
  let italian = base?.italian ?? null;
  if (f.italian !== undefined || !base) {
    if (f.italian === null || f.italian === undefined) italian = null;
    else {
      const r = italianOf(f.italian, base?.italian ?? null);
      if (!r.ok) return r;
      italian = r.value;
    }
  }
  // Seed 001 Art. 9 c.1: an Italian activation names proceeding, RIT, judge, officers, operator.
  if ((country ?? '') === 'IT' && italian === null) {
    return errResult('ADM_ERR_VALIDATION', 'italian is required when authorisationCountry is IT', 'italian');
  }
  return okResult({
    courtCaseId: courtCaseId!,
    italian,
    interceptionKind: kind!,
    targets: targets!,
    selection: selection!,
    deliver: deliver!,
    lemfIds: lemfIds!,
    validFromMicros: from!,
    validUntilMicros: until!,
  });
}

/** A new warrant, version 1. existing = a warrant with the same tenant, country and LIID. */
export function createWarrant(
  input: WarrantCreateInput,
  ctx: WarrantContext,
  existing: Warrant | undefined,
): Result<Warrant> {
  if (typeof input.liid !== 'string' || !LIID_PATTERN.test(input.liid)) {
    return errResult('ADM_ERR_VALIDATION', 'liid must be 1 to 25 letters or digits', 'liid');
  }
  if (!isCountryCode(input.authorisationCountry)) {
    return errResult(
      'ADM_ERR_VALIDATION',
      'authorisationCountry must be an ISO 3166-1 alpha-2 code',
      'authorisationCountry',
    );
  }
  const r = applyFields(null, input, ctx);
  if (!r.ok) return r;
  if (input.authorisationCountry === 'IT' && r.value.italian === null) {
    return errResult('ADM_ERR_VALIDATION', 'italian is required when authorisationCountry is IT', 'italian');
  }
  if (r.value.validUntilMicros <= ctx.nowMicros) {
    return errResult('ADM_ERR_VALIDATION', 'validUntil is in the past', 'validUntil');
  }
  if (existing) {
    return errResult(
      'ADM_ERR_CONFLICT',
      'a warrant with this liid already exists for this authorising country',
      'liid',
    );
  }
  return okResult({
    liid: input.liid,
    tenant: ctx.tenant.id,
    authorisationCountry: input.authorisationCountry,
    ...r.value,
    state: input.activate === false ? 'DEACTIVATED' : 'ACTIVE',
    version: 1,
    updatedAtMicros: ctx.nowMicros,
  });
}

/** Modify: the given fields replace the current ones (lists are replaced, as HI1 UPDATE does). */
export function modifyWarrant(current: Warrant, f: WarrantFields, ctx: WarrantContext): Result<Warrant> {
  if (current.state === 'DEACTIVATED') {
    return errResult('ADM_ERR_CONFLICT', 'a deactivated warrant cannot be modified; activate it first', 'state');
  }
  const r = applyFields(current, f, ctx);
  if (!r.ok) return r;
  return okResult({ ...current, ...r.value, version: current.version + 1, updatedAtMicros: ctx.nowMicros });
}
