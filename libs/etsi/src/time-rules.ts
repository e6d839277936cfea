// Time rules applied to records already encoded: a LEMF's choice of header time fields, fraction
// digits and qualifier, applied by delivery so the encoder writes each record once per LIID.
// The rewrite walks only the paths where our records carry a time and copies every other TLV
// byte for byte; the enclosing lengths are written anew.
//
// Time fields it knows (every one our encoder writes):
//   PS-PDU pSHeader [1]: timeStamp [5] GeneralizedTime, microSecondTimeStamp [7], timeStampQualifier [8]
//   IRIPayload / CCPayload: timeStamp [1] GeneralizedTime
//   IPIRIContents [1]: startTime [10], endTime [11], expectedEndTime [16] GeneralizedTime
//   IRI-Parameters (eTSI671IRI, TS 101 671 records) and HI1 notifications: timeStamp [3]
//     localTime [0] { generalizedTime [0] }  (utcTime [1] has no fraction: left as it is)
import {
  BerError,
  BerWriter,
  CONTEXT,
  children,
  type DecodeResult,
  formatGeneralizedTime,
  guard,
  parseGeneralizedTime,
  readLatin1,
  readTlv,
  readUint,
  type Tlv,
  U,
  UNIVERSAL,
} from './ber.ts';

export interface TimeRules {
  /** PSHeader time fields: as encoded, or only timeStamp [5], or only microSecondTimeStamp [7]. */
  headerTime: 'AS_ENCODED' | 'GENERALIZED_TIME' | 'MICROSECOND';
  /** Fraction digits of every GeneralizedTime (0..6; truncated, zero-padded); null keeps the encoder's shortest form. */
  fractionDigits: number | null;
  /** PSHeader timeStampQualifier [8]: as encoded, or left out. */
  headerQualifier: 'AS_ENCODED' | 'OMIT';
}

/** True when the rules change nothing: the bytes go out as the encoder wrote them. */
export function keepsEncoding(r: TimeRules): boolean {
  return r.headerTime === 'AS_ENCODED' && r.fractionDigits === null && r.headerQualifier === 'AS_ENCODED';
}

// YYYYMMDDhhmmss[.f]Z|±hhmm: the only form a fixed fraction can be given to (seconds present).
const GT_TEXT = /^(\d{14})(?:[.,](\d{1,9}))?(Z|[+-]\d{4})$/;

/** The GeneralizedTime text with exactly `digits` fraction digits (truncated; 0: none). */
export function withFractionDigits(text: string, digits: number | null, at = 0): string {
  if (digits === null) return text;
  const m = GT_TEXT.exec(text);
  if (!m) throw new BerError('ETSI_ERR_BAD_VALUE', 'GeneralizedTime without seconds or zone', at);
  const frac = (m[2] ?? '').padEnd(digits, '0').slice(0, digits);
  return m[1] + (digits > 0 ? `.${frac}` : '') + m[3];
}

const ctx = (t: Tlv, num: number) => t.cls === CONTEXT && t.num === num;
const raw = (w: BerWriter, buf: Uint8Array, t: Tlv) => w.raw(buf.subarray(t.offset, t.next));

type Visit = ((w: BerWriter, buf: Uint8Array, t: Tlv) => void) | undefined;

/** Writes constructed `t` again: children that `visit` names are rewritten, the rest copied. */
function rebuild(w: BerWriter, buf: Uint8Array, t: Tlv, visit: (c: Tlv) => Visit): void {
  if (!t.constructed) throw new BerError('ETSI_ERR_BAD_TAG', `[${t.num}] must be constructed`, t.offset);
  w.open(t.cls, t.num);
  for (const c of children(buf, t)) {
    const v = visit(c);
    if (v) v(w, buf, c);
    else raw(w, buf, c);
  }
  w.end();
}

function generalizedTime(r: TimeRules): Visit {
  return (w, buf, t) => {
    if (t.constructed) throw new BerError('ETSI_ERR_BAD_TAG', 'GeneralizedTime must be primitive', t.offset);
    w.latin1(t.cls, t.num, withFractionDigits(readLatin1(buf, t), r.fractionDigits, t.offset));
  };
}

/** TimeStamp (HI2Operations CHOICE, explicit): localTime [0] { generalizedTime [0], ... } | utcTime [1]. */
function hi2TimeStamp(r: TimeRules): Visit {
  const gt = generalizedTime(r);
  const local: Visit = (w, buf, t) => rebuild(w, buf, t, (c) => (ctx(c, 0) ? gt : undefined));
  return (w, buf, t) => rebuild(w, buf, t, (c) => (ctx(c, 0) ? local : undefined));
}

function iriParameters(r: TimeRules): Visit {
  const ts = hi2TimeStamp(r);
  return (w, buf, t) => rebuild(w, buf, t, (c) => (ctx(c, 3) ? ts : undefined));
}

/** IRIsContent's chosen alternative: iRIContent [0] or iRISequence [1], holding [1..4] IRI-Parameters. */
function irisContentAlternative(r: TimeRules): Visit {
  const params = iriParameters(r);
  return (w, buf, t) => rebuild(w, buf, t, (c) => (c.cls === CONTEXT && c.num >= 1 && c.num <= 4 ? params : undefined));
}

function iriContents(r: TimeRules): Visit {
  const gt = generalizedTime(r);
  const ipIriContents: Visit = (w, buf, t) =>
    rebuild(w, buf, t, (c) => (ctx(c, 10) || ctx(c, 11) || ctx(c, 16) ? gt : undefined));
  const ipIri: Visit = (w, buf, t) => rebuild(w, buf, t, (c) => (ctx(c, 1) ? ipIriContents : undefined));
  const params = iriParameters(r);
  const alternative = irisContentAlternative(r);
  const irisContent: Visit = (w, buf, t) =>
    rebuild(w, buf, t, (c) => (ctx(c, 0) || ctx(c, 1) ? alternative : undefined));
  const etsi671: Visit = (w, buf, t) =>
    rebuild(w, buf, t, (c) => (ctx(c, 0) ? params : ctx(c, 1) ? irisContent : undefined));
  return (w, buf, t) => rebuild(w, buf, t, (c) => (ctx(c, 2) ? ipIri : ctx(c, 5) ? etsi671 : undefined));
}

function payload(r: TimeRules): Visit {
  const gt = generalizedTime(r);
  const contents = iriContents(r);
  const iri: Visit = (w, buf, t) => rebuild(w, buf, t, (c) => (ctx(c, 1) ? gt : ctx(c, 2) ? contents : undefined));
  const cc: Visit = (w, buf, t) => rebuild(w, buf, t, (c) => (ctx(c, 1) ? gt : undefined));
  const sequenceOf =
    (item: Visit): Visit =>
    (w, buf, t) =>
      rebuild(w, buf, t, (c) => (c.cls === UNIVERSAL && c.num === U.SEQUENCE ? item : undefined));
  // hI1-Operation: liActivated [1], liDeactivated [2], liModified [3] are Notifications with timeStamp [3]
  const ts = hi2TimeStamp(r);
  const notification: Visit = (w, buf, t) => rebuild(w, buf, t, (c) => (ctx(c, 3) ? ts : undefined));
  const hi1: Visit = (w, buf, t) =>
    rebuild(w, buf, t, (c) => (c.cls === CONTEXT && c.num >= 1 && c.num <= 3 ? notification : undefined));
  return (w, buf, t) =>
    rebuild(w, buf, t, (c) => (ctx(c, 0) ? sequenceOf(iri) : ctx(c, 1) ? sequenceOf(cc) : ctx(c, 3) ? hi1 : undefined));
}

/** The PSHeader with the time fields the rules ask for, in tag order among the other fields. */
function header(r: TimeRules): Visit {
  return (w, buf, h) => {
    if (!h.constructed) throw new BerError('ETSI_ERR_BAD_TAG', 'pSHeader must be constructed', h.offset);
    const kids = children(buf, h);
    const ts = kids.find((c) => ctx(c, 5));
    const micro = kids.find((c) => ctx(c, 7));
    const qualifier = kids.find((c) => ctx(c, 8));
    let instant: number | undefined;
    if (micro) {
      const m = children(buf, micro);
      const s = m.find((c) => ctx(c, 0));
      const us = m.find((c) => ctx(c, 1));
      if (!s || !us) throw new BerError('ETSI_ERR_MISSING_FIELD', 'microSecondTimeStamp incomplete', micro.offset);
      instant = readUint(buf, s, Number.MAX_SAFE_INTEGER / 1_000_000) * 1_000_000 + readUint(buf, us, 999_999);
    } else if (ts) {
      instant = parseGeneralizedTime(readLatin1(buf, ts))?.micros;
    }
    const wantTs =
      r.headerTime === 'MICROSECOND' ? false : r.headerTime === 'AS_ENCODED' ? !!ts : !!ts || instant !== undefined;
    const wantMicro =
      r.headerTime === 'GENERALIZED_TIME' ? false : r.headerTime === 'AS_ENCODED' ? !!micro : instant !== undefined;
    const pending: { num: number; write: () => void }[] = [];
    if (wantTs) {
      const text = ts ? readLatin1(buf, ts) : formatGeneralizedTime(instant!);
      pending.push({ num: 5, write: () => w.latin1(CONTEXT, 5, withFractionDigits(text, r.fractionDigits, h.offset)) });
    }
    if (wantMicro) {
      pending.push({
        num: 7,
        write: () => {
          if (micro) return raw(w, buf, micro);
          const seconds = Math.floor(instant! / 1_000_000);
          w.open(CONTEXT, 7);
          w.int(CONTEXT, 0, seconds);
          w.int(CONTEXT, 1, instant! - seconds * 1_000_000);
          w.end();
        },
      });
    }
    if (qualifier && r.headerQualifier === 'AS_ENCODED') pending.push({ num: 8, write: () => raw(w, buf, qualifier) });
    w.open(h.cls, h.num);
    for (const c of kids) {
      if (c === ts || c === micro || c === qualifier) continue;
      while (pending.length > 0 && c.cls === CONTEXT && pending[0]!.num < c.num) pending.shift()!.write();
      raw(w, buf, c);
    }
    for (const p of pending) p.write();
    w.end();
  };
}

// One writer per process: the rewrite is synchronous, so it is never shared by two calls at once.
const writer = new BerWriter(64 * 1024);

function rewrite(bytes: Uint8Array, what: string, top: (t: Tlv) => Visit): DecodeResult<Buffer> {
  return guard(() => {
    const t = readTlv(bytes, 0, bytes.length);
    if (t.next !== bytes.length) throw new BerError('ETSI_ERR_TRAILING_BYTES', `bytes after the ${what}`, t.next);
    const visit = top(t);
    if (!visit) throw new BerError('ETSI_ERR_BAD_TAG', `not a ${what}`, 0);
    writer.reset();
    try {
      visit(writer, bytes, t);
      return { value: writer.finish(), bytesRead: bytes.length };
    } finally {
      writer.reset();
    }
  });
}

const asBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/**
 * One PS-PDU (TS 102 232-1) with its time fields written as `rules` say; every other octet as it
 * was. Rules that change nothing return the bytes themselves. Fails (never throws) on bytes that
 * are not one PS-PDU or a time it cannot give a fixed fraction.
 */
export function applyTimeRulesToPsPdu(bytes: Uint8Array, rules: TimeRules): DecodeResult<Buffer> {
  if (keepsEncoding(rules)) return { ok: true, value: asBuffer(bytes), bytesRead: bytes.length };
  const head = header(rules);
  const body = payload(rules);
  return rewrite(bytes, 'PS-PDU', (t) =>
    t.cls === UNIVERSAL && t.num === U.SEQUENCE
      ? (w, buf, pdu) => rebuild(w, buf, pdu, (c) => (ctx(c, 1) ? head : ctx(c, 2) ? body : undefined))
      : undefined,
  );
}

/**
 * One TS 101 671 record (IRIsContent, as the encoder writes it for HI2 TCP and files) with the
 * fraction digits of its GeneralizedTimes as `rules` say. It has no PSHeader, so header time and
 * qualifier rules do not apply.
 */
export function applyTimeRulesToHi2(bytes: Uint8Array, rules: TimeRules): DecodeResult<Buffer> {
  if (rules.fractionDigits === null) return { ok: true, value: asBuffer(bytes), bytesRead: bytes.length };
  const alternative = irisContentAlternative(rules);
  return rewrite(bytes, 'TS 101 671 IRIsContent', (t) => (ctx(t, 0) || ctx(t, 1) ? alternative : undefined));
}
