// An MCID report as a Diameter Rf ACR EVENT_RECORD (TS 32.299 §6.1.1; MCID.md §5).
import type { McidReport } from '../../domain/model.ts';
import { uriOf } from '../../domain/sip.ts';
import type { Avp, DiameterMessage } from './codec.ts';
import { AvpWriter, avp, FLAG_P, FLAG_R, VENDOR_3GPP } from './codec.ts';
import {
  ACCOUNTING_RECORD_TYPE,
  APP_BASE_ACCOUNTING,
  BASE,
  CDIV_SERVICE_MODE,
  CMD,
  MCID_SERVICE_MODE,
  PRIVATE,
  SSERVICE,
  TGPP,
} from './dictionary.ts';

export interface AcrIdentity {
  originHost: string;
  originRealm: string;
  destinationRealm: string;
  destinationHost?: string;
  /** e.g. `32275@3gpp.org` (MMTel charging, TS 32.275); confirm with the CDF. */
  serviceContextId: string;
  /** Vendor id for the private AVP with the headers that have no 3GPP AVP; null leaves it out. */
  privateVendorId: number | null;
}

const g = (code: number, kids: Avp[]) => avp.grouped(code, kids, { v: VENDOR_3GPP });
const u = (code: number, n: number) => avp.u32(code, n, { v: VENDOR_3GPP });
const s = (code: number, v: string) => avp.utf8(code, v, { v: VENDOR_3GPP });
const t = (code: number, ms: number) => avp.time(code, ms, { v: VENDOR_3GPP });
const ms = (micros: number) => Math.floor(micros / 1000);

/** Session-Id per RFC 6733 §8.8 (`<DiameterIdentity>;<high>;<low>[;<optional>]`), stable per report. */
function sessionIdFor(report: McidReport, originHost: string): string {
  const high = Math.floor(report.createdAtMicros / 1e6) >>> 0;
  const low = Number.parseInt(report.reportId.slice(0, 8), 16) >>> 0;
  return `${originHost};${high};${low};mcid-${report.reportId}`;
}

/** Service-Mode of the MCID supplementary service: an originating request is always permanent. */
function mcidModeOf(report: McidReport): number {
  if (report.role === 'ORIGINATING') return MCID_SERVICE_MODE.ORIGINATING_PERMANENT;
  return report.mode === 'PERMANENT' ? MCID_SERVICE_MODE.PERMANENT : MCID_SERVICE_MODE.TEMPORARY;
}

export function buildAcrAvps(report: McidReport, id: AcrIdentity): Avp[] {
  const d = report.details;
  const calling = d.pAssertedIdentity.length > 0 ? d.pAssertedIdentity.map(uriOf) : [uriOf(d.from)];
  const inviteMs = ms(d.inviteAtMicros);
  const mcidMode = mcidModeOf(report);
  const supplementary: Avp[] = [
    g(TGPP.SUPPLEMENTARY_SERVICE, [
      u(TGPP.MMTEL_SSERVICE_TYPE, SSERVICE.MCID),
      u(TGPP.SERVICE_MODE, mcidMode),
      t(TGPP.CHANGE_TIME, ms(report.invokedAtMicros ?? report.mcidTimestampMicros)),
    ]),
  ];
  if (report.diversion) {
    supplementary.push(
      g(TGPP.SUPPLEMENTARY_SERVICE, [
        u(TGPP.MMTEL_SSERVICE_TYPE, SSERVICE.CDIV),
        u(TGPP.SERVICE_MODE, CDIV_SERVICE_MODE[report.diversion]),
        u(TGPP.NUMBER_OF_DIVERSIONS, Math.max(1, d.historyInfo.length - 1)),
      ]),
    );
  }
  const ims: Avp[] = [
    g(TGPP.EVENT_TYPE, [s(TGPP.SIP_METHOD, 'INVITE')]),
    avp.i32(TGPP.ROLE_OF_NODE, report.role === 'TERMINATING' ? 1 : 0, { v: VENDOR_3GPP }),
    avp.i32(TGPP.NODE_FUNCTIONALITY, 6, { v: VENDOR_3GPP }), // AS
    s(TGPP.USER_SESSION_ID, d.callId),
    ...calling.map((c) => s(TGPP.CALLING_PARTY_ADDRESS, c)),
    s(TGPP.CALLED_PARTY_ADDRESS, uriOf(d.to)),
    s(TGPP.REQUESTED_PARTY_ADDRESS, d.requestUri),
    g(TGPP.TIME_STAMPS, [
      t(TGPP.SIP_REQUEST_TIMESTAMP, inviteMs),
      u(TGPP.SIP_REQUEST_TIMESTAMP_FRACTION, inviteMs % 1000),
    ]),
  ];
  if (d.icid) ims.push(s(TGPP.IMS_CHARGING_IDENTIFIER, d.icid));
  const service: Avp[] = [
    g(TGPP.IMS_INFORMATION, ims),
    g(TGPP.MMTEL_INFORMATION, [
      ...supplementary,
      avp.i32(TGPP.SUBSCRIBER_ROLE, report.role === 'TERMINATING' ? 1 : 0, { v: VENDOR_3GPP }),
    ]),
  ];
  const avps: Avp[] = [
    avp.utf8(BASE.SESSION_ID, sessionIdFor(report, id.originHost)),
    avp.utf8(BASE.ORIGIN_HOST, id.originHost),
    avp.utf8(BASE.ORIGIN_REALM, id.originRealm),
    avp.utf8(BASE.DESTINATION_REALM, id.destinationRealm),
    ...(id.destinationHost ? [avp.utf8(BASE.DESTINATION_HOST, id.destinationHost)] : []),
    avp.i32(BASE.ACCOUNTING_RECORD_TYPE, ACCOUNTING_RECORD_TYPE.EVENT),
    // One self-contained EVENT per session: record number 0 (RFC 6733 §9.8.3).
    avp.u32(BASE.ACCOUNTING_RECORD_NUMBER, 0),
    avp.u32(BASE.ACCT_APPLICATION_ID, APP_BASE_ACCOUNTING),
    avp.utf8(BASE.USER_NAME, report.servedUser),
    avp.time(BASE.EVENT_TIMESTAMP, ms(report.mcidTimestampMicros)),
    avp.utf8(BASE.SERVICE_CONTEXT_ID, id.serviceContextId),
    g(TGPP.SERVICE_INFORMATION, service),
  ];
  if (id.privateVendorId !== null) {
    const v = id.privateVendorId;
    const p = (code: number, value: string) => avp.utf8(code, value, { v, m: false });
    avps.push(
      avp.grouped(
        PRIVATE.MCID_DETAILS,
        [
          p(PRIVATE.TO, d.to),
          p(PRIVATE.FROM, d.from),
          ...d.contact.map((c) => p(PRIVATE.CONTACT, c)),
          ...d.historyInfo.map((h) => p(PRIVATE.HISTORY_INFO, h)),
          ...(d.referredBy ? [p(PRIVATE.REFERRED_BY, d.referredBy)] : []),
          ...(d.privacy ? [p(PRIVATE.PRIVACY, d.privacy)] : []),
          p(PRIVATE.TRIGGER, report.trigger),
          ...(report.outcome ? [p(PRIVATE.OUTCOME, report.outcome)] : []),
          ...(report.invokedAtMicros !== null
            ? [avp.time(PRIVATE.INVOCATION_TIME, ms(report.invokedAtMicros), { v, m: false })]
            : []),
        ],
        { v, m: false },
      ),
    );
  }
  return avps;
}

/**
 * The bytes of `encodeMessage(acrMessage(buildAcrAvps(report, id), hopByHop, endToEnd))`,
 * written straight into one buffer: the AVP tree cost an object and a buffer per AVP for every
 * stored report (profile). The same AVPs in the same order; a property test holds them equal.
 */
export function encodeAcr(report: McidReport, id: AcrIdentity, hopByHop = 0, endToEnd = 0): Buffer {
  const d = report.details;
  const w = AvpWriter.shared();
  w.messageHeader(FLAG_R | FLAG_P, CMD.ACCOUNTING, APP_BASE_ACCOUNTING, hopByHop, endToEnd);
  const V = VENDOR_3GPP;
  w.utf8(BASE.SESSION_ID, sessionIdFor(report, id.originHost), 0, true);
  w.utf8(BASE.ORIGIN_HOST, id.originHost, 0, true);
  w.utf8(BASE.ORIGIN_REALM, id.originRealm, 0, true);
  w.utf8(BASE.DESTINATION_REALM, id.destinationRealm, 0, true);
  if (id.destinationHost) w.utf8(BASE.DESTINATION_HOST, id.destinationHost, 0, true);
  w.i32(BASE.ACCOUNTING_RECORD_TYPE, ACCOUNTING_RECORD_TYPE.EVENT, 0, true);
  w.u32(BASE.ACCOUNTING_RECORD_NUMBER, 0, 0, true);
  w.u32(BASE.ACCT_APPLICATION_ID, APP_BASE_ACCOUNTING, 0, true);
  w.utf8(BASE.USER_NAME, report.servedUser, 0, true);
  w.time(BASE.EVENT_TIMESTAMP, ms(report.mcidTimestampMicros), 0, true);
  w.utf8(BASE.SERVICE_CONTEXT_ID, id.serviceContextId, 0, true);
  const si = w.open(TGPP.SERVICE_INFORMATION, V, true);
  const ims = w.open(TGPP.IMS_INFORMATION, V, true);
  const ev = w.open(TGPP.EVENT_TYPE, V, true);
  w.utf8(TGPP.SIP_METHOD, 'INVITE', V, true);
  w.close(ev);
  w.i32(TGPP.ROLE_OF_NODE, report.role === 'TERMINATING' ? 1 : 0, V, true);
  w.i32(TGPP.NODE_FUNCTIONALITY, 6, V, true);
  w.utf8(TGPP.USER_SESSION_ID, d.callId, V, true);
  if (d.pAssertedIdentity.length > 0)
    for (const pai of d.pAssertedIdentity) w.utf8(TGPP.CALLING_PARTY_ADDRESS, uriOf(pai), V, true);
  else w.utf8(TGPP.CALLING_PARTY_ADDRESS, uriOf(d.from), V, true);
  w.utf8(TGPP.CALLED_PARTY_ADDRESS, uriOf(d.to), V, true);
  w.utf8(TGPP.REQUESTED_PARTY_ADDRESS, d.requestUri, V, true);
  const inviteMs = ms(d.inviteAtMicros);
  const ts = w.open(TGPP.TIME_STAMPS, V, true);
  w.time(TGPP.SIP_REQUEST_TIMESTAMP, inviteMs, V, true);
  w.u32(TGPP.SIP_REQUEST_TIMESTAMP_FRACTION, inviteMs % 1000, V, true);
  w.close(ts);
  if (d.icid) w.utf8(TGPP.IMS_CHARGING_IDENTIFIER, d.icid, V, true);
  w.close(ims);
  const mmtel = w.open(TGPP.MMTEL_INFORMATION, V, true);
  const mcidMode = mcidModeOf(report);
  let ss = w.open(TGPP.SUPPLEMENTARY_SERVICE, V, true);
  w.u32(TGPP.MMTEL_SSERVICE_TYPE, SSERVICE.MCID, V, true);
  w.u32(TGPP.SERVICE_MODE, mcidMode, V, true);
  w.time(TGPP.CHANGE_TIME, ms(report.invokedAtMicros ?? report.mcidTimestampMicros), V, true);
  w.close(ss);
  if (report.diversion) {
    ss = w.open(TGPP.SUPPLEMENTARY_SERVICE, V, true);
    w.u32(TGPP.MMTEL_SSERVICE_TYPE, SSERVICE.CDIV, V, true);
    w.u32(TGPP.SERVICE_MODE, CDIV_SERVICE_MODE[report.diversion], V, true);
    w.u32(TGPP.NUMBER_OF_DIVERSIONS, Math.max(1, d.historyInfo.length - 1), V, true);
    w.close(ss);
  }
  w.i32(TGPP.SUBSCRIBER_ROLE, report.role === 'TERMINATING' ? 1 : 0, V, true);
  w.close(mmtel);
  w.close(si);
  if (id.privateVendorId !== null) {
    const v = id.privateVendorId;
    const p = w.open(PRIVATE.MCID_DETAILS, v, false);
    w.utf8(PRIVATE.TO, d.to, v, false);
    w.utf8(PRIVATE.FROM, d.from, v, false);
    for (const c of d.contact) w.utf8(PRIVATE.CONTACT, c, v, false);
    for (const h of d.historyInfo) w.utf8(PRIVATE.HISTORY_INFO, h, v, false);
    if (d.referredBy) w.utf8(PRIVATE.REFERRED_BY, d.referredBy, v, false);
    if (d.privacy) w.utf8(PRIVATE.PRIVACY, d.privacy, v, false);
    w.utf8(PRIVATE.TRIGGER, report.trigger, v, false);
    if (report.outcome) w.utf8(PRIVATE.OUTCOME, report.outcome, v, false);
    if (report.invokedAtMicros !== null) w.time(PRIVATE.INVOCATION_TIME, ms(report.invokedAtMicros), v, false);
    w.close(p);
  }
  return w.finish();
}

export function acrMessage(avps: Avp[], hopByHop: number, endToEnd: number): DiameterMessage {
  return {
    flags: FLAG_R | FLAG_P,
    commandCode: CMD.ACCOUNTING,
    applicationId: APP_BASE_ACCOUNTING,
    hopByHop,
    endToEnd,
    avps,
  };
}
