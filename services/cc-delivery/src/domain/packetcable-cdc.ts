// PacketCable 2.0 Call Data Connection (seed 000 `pkcable:` real-time signalling): PCESP CdcPdu
// messages (CableLabs module {4491 2 2 5 1 version-3}, BER, IMPLICIT TAGS), built from our own HI2
// PS-PDUs (SIP IRI: iPMMIRI sIPMessage) and from the first HI3 record of a call (CCOpen). The
// mapping is in services/cc-delivery/README.md "PacketCable". No I/O here.
import {
  BerWriter,
  CONTEXT,
  decodePsPdu,
  formatGeneralizedTime,
  IRI_TYPE,
  PAYLOAD_DIRECTION,
  UNIVERSAL,
} from '@li/etsi';

const SEQUENCE = 16;
const PROTOCOL_VERSION_IO3 = 3;

/** Message CHOICE tags (PCESP `Message`). */
const MESSAGE_TAG = { answer: 1, ccClose: 2, ccOpen: 3, origination: 5, release: 8, terminationAttempt: 10 } as const;

const FLOW_DIRECTION = { downstream: 1, upstream: 2, both: 3 } as const;

/** PartyId alternatives we fill: a number (dn), else a SIP address (genericAddress). */
export interface PartyId {
  dn?: string;
  genericAddress?: string;
}

interface CallId {
  sequenceNumber: string;
  systemIdentity: string;
}

interface Common {
  caseId: string;
  accessingElementId: string;
  /** Microseconds since the Unix epoch. */
  eventTime: number;
}

export type CdcMessage =
  | (Common & { kind: 'origination'; callId: CallId; calling: PartyId; called?: PartyId; userInput: string })
  | (Common & { kind: 'terminationAttempt'; callId: CallId; calling?: PartyId; called?: PartyId })
  | (Common & { kind: 'answer'; callId: CallId; answering?: PartyId })
  | (Common & { kind: 'release'; callId: CallId })
  | (Common & { kind: 'ccOpen'; callIds: CallId[]; cccId: number; flowDirection: number })
  | (Common & { kind: 'ccClose'; cccId: number; flowDirection: number });

/** A VisibleString field: printable ASCII only, within its root size (callers size it first). */
function visible(w: BerWriter, tag: number, s: string, max: number, what: string): void {
  if (s.length < 1 || !/^[\x20-\x7e]+$/.test(s)) throw new CdcEncodeError(`${what} is not a VisibleString`);
  if (s.length > max) throw new CdcEncodeError(`${what} longer than ${max}`);
  w.latin1(CONTEXT, tag, s);
}

export class CdcEncodeError extends Error {
  readonly code = 'PKT_CDC_INVALID_VALUE';
}

function common(w: BerWriter, m: Common): void {
  visible(w, 0, m.caseId, 25, 'caseId');
  visible(w, 1, m.accessingElementId, 15, 'accessingElementId');
  w.latin1(CONTEXT, 2, formatGeneralizedTime(m.eventTime));
}

function callIdContent(w: BerWriter, c: CallId): void {
  visible(w, 0, c.sequenceNumber, 25, 'callId.sequencenumber');
  visible(w, 1, c.systemIdentity, 15, 'callId.systemidentity');
}

function callId(w: BerWriter, tag: number, c: CallId): void {
  w.open(CONTEXT, tag);
  callIdContent(w, c);
  w.end();
}

function party(w: BerWriter, tag: number, p: PartyId): void {
  w.open(CONTEXT, tag);
  if (p.dn !== undefined) visible(w, 6, p.dn, 15, 'PartyId.dn');
  if (p.genericAddress !== undefined) visible(w, 14, p.genericAddress, 32, 'PartyId.genericAddress');
  w.end();
}

/** CCCId: the 32-bit CCC identifier as 8 upper-case hex characters (combCCC). */
export function cccIdText(cccId: number): string {
  return (cccId >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

function cccId(w: BerWriter, tag: number, id: number): void {
  w.open(CONTEXT, tag); // EXPLICIT CCCId (a CHOICE)
  w.latin1(CONTEXT, 0, cccIdText(id));
  w.end();
}

/** One CdcPdu { protocolVersion io3, message }. */
export function encodeCdcPdu(m: CdcMessage): Buffer {
  const w = new BerWriter(512);
  w.open(UNIVERSAL, SEQUENCE);
  w.int(CONTEXT, 0, PROTOCOL_VERSION_IO3);
  w.open(CONTEXT, 1); // message: a CHOICE, so explicit
  w.open(CONTEXT, MESSAGE_TAG[m.kind]);
  common(w, m);
  switch (m.kind) {
    case 'origination':
      callId(w, 3, m.callId);
      party(w, 4, m.calling);
      if (m.called) party(w, 5, m.called);
      visible(w, 6, m.userInput, 32, 'userinput');
      w.nul(CONTEXT, 8); // reserved0: a NULL the module does not mark OPTIONAL
      break;
    case 'terminationAttempt':
      callId(w, 3, m.callId);
      if (m.calling) party(w, 4, m.calling);
      if (m.called) party(w, 5, m.called);
      w.nul(CONTEXT, 6); // reserved0: a NULL the module does not mark OPTIONAL
      break;
    case 'answer':
      callId(w, 3, m.callId);
      if (m.answering) party(w, 4, m.answering);
      break;
    case 'release':
      callId(w, 3, m.callId);
      break;
    case 'ccOpen':
      w.open(CONTEXT, 3); // ccOpenTime: SEQUENCE OF CallId
      for (const c of m.callIds) {
        w.open(UNIVERSAL, SEQUENCE);
        callIdContent(w, c);
        w.end();
      }
      w.end();
      cccId(w, 5, m.cccId);
      w.int(CONTEXT, 8, m.flowDirection);
      break;
    case 'ccClose':
      cccId(w, 3, m.cccId);
      w.int(CONTEXT, 4, m.flowDirection);
      break;
    default:
      m satisfies never;
  }
  w.end();
  w.end();
  w.end();
  return w.finish();
}

// ---- SIP, as much as the messages need ------------------------------------------------------

interface SipSummary {
  method?: string;
  status?: number;
  requestUri?: string;
  from?: string;
  to?: string;
  cseqMethod?: string;
}

const COMPACT: Record<string, string> = { f: 'from', t: 'to' };

function summarise(bytes: Uint8Array): SipSummary | null {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const headEnd = text.indexOf('\r\n\r\n');
  const lines = (headEnd >= 0 ? text.slice(0, headEnd) : text).split(/\r?\n/);
  const first = lines[0] ?? '';
  const out: SipSummary = {};
  const resp = /^SIP\/2\.0 (\d{3})/.exec(first);
  const req = /^([A-Z]+) (\S+) SIP\/2\.0$/.exec(first);
  if (resp) out.status = Number(resp[1]);
  else if (req) {
    out.method = req[1];
    out.requestUri = req[2];
  } else return null;
  for (const line of lines.slice(1)) {
    const c = line.indexOf(':');
    if (c <= 0) continue;
    const raw = line.slice(0, c).trim().toLowerCase();
    const name = COMPACT[raw] ?? raw;
    const value = line.slice(c + 1).trim();
    if (name === 'from' && out.from === undefined) out.from = uriOf(value);
    else if (name === 'to' && out.to === undefined) out.to = uriOf(value);
    else if (name === 'cseq') out.cseqMethod = value.split(/\s+/)[1];
  }
  return out;
}

/** The URI of a From/To value: inside <...>, else up to the first parameter. */
function uriOf(v: string): string {
  const lt = v.indexOf('<');
  if (lt >= 0) return v.slice(lt + 1, v.indexOf('>', lt) >>> 0);
  return v.split(';')[0]?.trim() ?? v;
}

/** user@host of a sip:/sips:/tel: URI, without scheme and parameters. */
function address(uri: string): string {
  return uri.replace(/^(sips?|tel):/i, '').split(/[;?]/)[0] ?? '';
}

/**
 * PCESP's strings have root sizes (`SIZE(1..32, ...)`) that a strict decoder enforces (asn1c -c
 * refuses longer ones), so a longer SIP address is sent as user@host when it fits, else the user
 * part, else its first 32 characters.
 */
function fit32(a: string): string {
  const v = a.replace(/[^\x20-\x7e]/g, '?');
  if (v.length <= 32) return v;
  const at = v.indexOf('@');
  if (at > 0 && at <= 32) return v.slice(0, at);
  return v.slice(0, 32);
}

/** A telephone number user part goes in dn (E.164 digits, no '+'), anything else in genericAddress. */
export function partyOf(uri: string | undefined): PartyId | undefined {
  if (!uri) return undefined;
  const a = address(uri);
  if (a === '') return undefined;
  const user = a.includes('@') ? a.slice(0, a.indexOf('@')) : a;
  const digits = user.replace(/^\+/, '').replace(/[-.()]/g, '');
  if (/^[0-9*#]{1,15}$/.test(digits)) return { dn: digits };
  return { genericAddress: fit32(a) };
}

// ---- HI2 / HI3 records to CDC messages -------------------------------------------------------

export type CdcOfRecord =
  | { ok: true; messages: CdcMessage[] }
  | { ok: false; code: 'UNDECODABLE' | 'NOT_SIGNALLING' | 'NO_TIME' | 'BAD_VALUE'; reason: string };

interface CallState {
  answered: boolean;
  ccOpen: boolean;
}

/**
 * Keeps, per call (LIID, CIN), whether Answer and CCOpen were sent, so a re-INVITE's 200 is no
 * second Answer and a call whose media went out gets its CCClose at release. Bounded: the oldest
 * calls are forgotten first (a forgotten call can at worst miss its CCClose).
 */
export class CdcCalls {
  readonly #calls = new Map<string, CallState>();
  readonly #max: number;

  constructor(max = 100_000) {
    this.#max = max;
  }

  get size(): number {
    return this.#calls.size;
  }

  #get(key: string): CallState {
    let s = this.#calls.get(key);
    if (!s) {
      if (this.#calls.size >= this.#max) {
        const oldest = this.#calls.keys().next().value;
        if (oldest !== undefined) this.#calls.delete(oldest);
      }
      s = { answered: false, ccOpen: false };
      this.#calls.set(key, s);
    }
    return s;
  }

  /** The CDC messages of one HI2 record (a TS 102 232 PS-PDU). No message for SIP the CDC does not report. */
  ofIri(bytes: Uint8Array): CdcOfRecord {
    const r = decodePsPdu(bytes);
    if (!r.ok) return { ok: false, code: 'UNDECODABLE', reason: r.reason };
    const { header, payload } = r.value;
    if (payload.kind !== 'iri') return { ok: false, code: 'NOT_SIGNALLING', reason: `payload ${payload.kind}` };
    const cin = header.communicationIdentifier.cin;
    if (cin === undefined) return { ok: false, code: 'UNDECODABLE', reason: 'no CIN' };
    const base = ids(header.liid, header.communicationIdentifier, cin);
    if (!base.ok) return base;
    const key = `${header.liid}\u0000${cin}`;
    const headerMicros = micros(header.microSecondTimeStamp) ?? header.timeStamp;
    const messages: CdcMessage[] = [];
    for (const item of payload.items) {
      const c = item.contents;
      if (c.kind !== 'iPMMIRI' || c.value.contents.kind !== 'sIPMessage')
        return { ok: false, code: 'NOT_SIGNALLING', reason: `IRI ${c.kind} is not SIP` };
      const eventTime = micros(item.microSecondTimeStamp) ?? item.timeStamp ?? headerMicros;
      if (eventTime === undefined) return { ok: false, code: 'NO_TIME', reason: 'IRI without time' };
      const sip = summarise(c.value.contents.message.sipContent);
      if (!sip) return { ok: false, code: 'UNDECODABLE', reason: 'not a SIP message' };
      const at = { caseId: header.liid, accessingElementId: base.element, eventTime };
      const callId = base.callId;
      if (item.iriType === IRI_TYPE.end) {
        const s = this.#calls.get(key);
        this.#calls.delete(key);
        if (s?.ccOpen) messages.push({ ...at, kind: 'ccClose', cccId: cin, flowDirection: FLOW_DIRECTION.both });
        messages.push({ ...at, kind: 'release', callId });
      } else if (item.iriType === IRI_TYPE.begin && sip.method === 'INVITE') {
        this.#get(key);
        const calling = partyOf(sip.from);
        const called = partyOf(sip.to);
        if (item.sessionDirection === PAYLOAD_DIRECTION.toTarget) {
          messages.push({
            ...at,
            kind: 'terminationAttempt',
            callId,
            ...(calling ? { calling } : {}),
            ...(called ? { called } : {}),
          });
        } else {
          if (!calling) return { ok: false, code: 'BAD_VALUE', reason: 'INVITE without a From address' };
          const input = fit32(address(sip.requestUri ?? ''));
          if (input === '') return { ok: false, code: 'BAD_VALUE', reason: 'INVITE without a Request-URI' };
          messages.push({
            ...at,
            kind: 'origination',
            callId,
            calling,
            ...(called ? { called } : {}),
            userInput: input,
          });
        }
      } else if (sip.status !== undefined && sip.status >= 200 && sip.status < 300 && sip.cseqMethod === 'INVITE') {
        const s = this.#get(key);
        if (!s.answered) {
          s.answered = true;
          const answering = partyOf(sip.to);
          messages.push({ ...at, kind: 'answer', callId, ...(answering ? { answering } : {}) });
        }
      }
    }
    return { ok: true, messages };
  }

  /** CCOpen before the first media of a call (one HI3 record, a TS 102 232 PS-PDU); none after. */
  ofContent(bytes: Uint8Array): CdcOfRecord {
    const r = decodePsPdu(bytes);
    if (!r.ok) return { ok: false, code: 'UNDECODABLE', reason: r.reason };
    const { header, payload } = r.value;
    if (payload.kind !== 'cc') return { ok: false, code: 'NOT_SIGNALLING', reason: `payload ${payload.kind}` };
    const cin = header.communicationIdentifier.cin;
    if (cin === undefined) return { ok: false, code: 'UNDECODABLE', reason: 'no CIN' };
    const s = this.#get(`${header.liid}\u0000${cin}`);
    if (s.ccOpen) return { ok: true, messages: [] };
    const base = ids(header.liid, header.communicationIdentifier, cin);
    if (!base.ok) return base;
    const first = payload.items[0];
    const eventTime =
      micros(first?.microSecondTimeStamp) ??
      first?.timeStamp ??
      micros(header.microSecondTimeStamp) ??
      header.timeStamp;
    if (eventTime === undefined) return { ok: false, code: 'NO_TIME', reason: 'CC without time' };
    s.ccOpen = true;
    return {
      ok: true,
      messages: [
        {
          kind: 'ccOpen',
          caseId: header.liid,
          accessingElementId: base.element,
          eventTime,
          callIds: [base.callId],
          cccId: cin,
          flowDirection: FLOW_DIRECTION.both,
        },
      ],
    };
  }
}

function micros(t: { seconds: number; microSeconds: number } | undefined): number | undefined {
  return t === undefined ? undefined : t.seconds * 1_000_000 + t.microSeconds;
}

/**
 * caseId is the LIID; the accessing element is the PS-PDU's network element (else operator)
 * identifier, cut to PCESP's 15 characters; the call is named by its CIN (the CCCID of its media).
 */
function ids(
  liid: string,
  ci: { operatorIdentifier: string; networkElementIdentifier?: string },
  cin: number,
): { ok: true; element: string; callId: CallId } | { ok: false; code: 'BAD_VALUE'; reason: string } {
  if (!/^[\x20-\x7e]{1,25}$/.test(liid)) return { ok: false, code: 'BAD_VALUE', reason: 'LIID is not a VisibleString' };
  const element = (ci.networkElementIdentifier ?? ci.operatorIdentifier).replace(/[^\x20-\x7e]/g, '?').slice(0, 15);
  if (element === '') return { ok: false, code: 'BAD_VALUE', reason: 'no network element or operator identifier' };
  return { ok: true, element, callId: { sequenceNumber: String(cin), systemIdentity: element } };
}
