// An MCID report as a Diameter Rf ACR EVENT_RECORD (TS 32.299 §6.1.1; MCID.md §5).
import type { McidReport } from '../../domain/model.ts';
import { uriOf } from '../../domain/sip.ts';
import type { Avp, DiameterMessage } from './codec.ts';
import { avp, FLAG_P, FLAG_R, VENDOR_3GPP } from './codec.ts';
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

export function buildAcrAvps(report: McidReport, id: AcrIdentity): Avp[] {
  const d = report.details;
  const calling = d.pAssertedIdentity.length > 0 ? d.pAssertedIdentity.map(uriOf) : [uriOf(d.from)];
  const inviteMs = ms(d.inviteAtMicros);
  const mcidMode =
    report.role === 'ORIGINATING'
      ? MCID_SERVICE_MODE.ORIGINATING_PERMANENT
      : report.mode === 'PERMANENT'
        ? MCID_SERVICE_MODE.PERMANENT
        : MCID_SERVICE_MODE.TEMPORARY;
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
