// SIP NormalizedEvents as ingest emits them: raw message in content, main headers in attributes.
import type { NormalizedEvent } from '@li/schemas';

export const TENANT = 'vtp1';
const REASON: Record<number, string> = {
  100: 'Trying',
  180: 'Ringing',
  181: 'Call Is Being Forwarded',
  183: 'Session Progress',
  200: 'OK',
  302: 'Moved Temporarily',
  408: 'Request Timeout',
  433: 'Anonymity Disallowed',
  480: 'Temporarily Unavailable',
  486: 'Busy Here',
  487: 'Request Terminated',
  603: 'Decline',
};

let seq = 0;

function event(
  action: string,
  callId: string,
  text: string,
  atMicros: number,
  attributes: Record<string, string>,
): NormalizedEvent {
  seq += 1;
  return {
    eventId: `ev-${seq}`,
    tenant: TENANT,
    category: 'SIGNALS',
    action,
    occurredAtMicros: atMicros,
    source: 'test',
    protocol: 'SIP',
    communicationId: callId,
    parties: [],
    network: { transport: 'udp', srcAddress: '192.0.2.10', srcPort: 5060, dstAddress: '192.0.2.20', dstPort: 5060 },
    attributes,
    content: Buffer.from(text, 'utf8'),
    contentType: 'application/sip',
  };
}

interface InviteOptions {
  callId: string;
  at: number;
  requestUri: string;
  to?: string;
  from?: string;
  pai?: string[];
  contact?: string;
  historyInfo?: string[];
  /** Diversion header lines (RFC 5806), as a non-3GPP application server sends them. */
  diversion?: string[];
  referredBy?: string;
  privacy?: string;
  callInfo?: string;
  toTag?: string;
}

export function invite(o: InviteOptions): NormalizedEvent {
  const to = (o.to ?? `<${o.requestUri}>`) + (o.toTag ? `;tag=${o.toTag}` : '');
  const from = o.from ?? '"Caller" <sip:+15550001111@ims.example.net;user=phone>;tag=a1';
  const lines = [
    `INVITE ${o.requestUri} SIP/2.0`,
    `Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK${o.callId.slice(0, 8)}${o.at}`,
    'Max-Forwards: 68',
    `From: ${from}`,
    `To: ${to}`,
    `Call-ID: ${o.callId}`,
    'CSeq: 1 INVITE',
    ...(o.pai ?? []).map((p) => `P-Asserted-Identity: ${p}`),
    `Contact: ${o.contact ?? '<sip:caller@192.0.2.10:5060>;+sip.instance="<urn:uuid:0001>"'}`,
    ...(o.historyInfo ?? []).map((h) => `History-Info: ${h}`),
    ...(o.diversion ?? []).map((d) => `Diversion: ${d}`),
    ...(o.referredBy ? [`Referred-By: ${o.referredBy}`] : []),
    ...(o.privacy ? [`Privacy: ${o.privacy}`] : []),
    ...(o.callInfo ? [`Call-Info: ${o.callInfo}`] : []),
    'P-Charging-Vector: icid-value="AyretyU0dm+6O2IrT5tAFrbHLso=";orig-ioi=home1.net',
    'Content-Type: application/sdp',
    'Content-Length: 0',
    '',
    '',
  ];
  return event('sip.invite', o.callId, lines.join('\r\n'), o.at, {
    method: 'INVITE',
    'request-uri': o.requestUri,
    to,
    from,
    'call-id': o.callId,
    cseq: '1 INVITE',
  });
}

export function response(o: { callId: string; at: number; status: number; toTag?: string; historyInfo?: string[] }) {
  const reason = REASON[o.status] ?? 'Unknown';
  const to = `<sip:callee@ims.example.net>;tag=${o.toTag ?? 'b1'}`;
  const lines = [
    `SIP/2.0 ${o.status} ${reason}`,
    'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1',
    'From: "Caller" <sip:+15550001111@ims.example.net;user=phone>;tag=a1',
    `To: ${to}`,
    `Call-ID: ${o.callId}`,
    'CSeq: 1 INVITE',
    ...(o.historyInfo ?? []).map((h) => `History-Info: ${h}`),
    'Content-Length: 0',
    '',
    '',
  ];
  return event('sip.response', o.callId, lines.join('\r\n'), o.at, {
    status: String(o.status),
    method: 'INVITE',
    'call-id': o.callId,
    cseq: '1 INVITE',
  });
}

export function request(
  method: string,
  o: { callId: string; at: number; requestUri: string; from: string; to?: string; body?: string; contentType?: string },
): NormalizedEvent {
  const body = o.body ?? '';
  const lines = [
    `${method} ${o.requestUri} SIP/2.0`,
    'Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK2',
    `From: ${o.from}`,
    `To: ${o.to ?? `<${o.requestUri}>`}`,
    `Call-ID: ${o.callId}`,
    `CSeq: 2 ${method}`,
    ...(o.contentType ? [`Content-Type: ${o.contentType}`] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ];
  return event(`sip.${method.toLowerCase()}`, o.callId, lines.join('\r\n'), o.at, { method });
}

export function register(o: { aor: string; at: number; expires: number; callId?: string }): NormalizedEvent {
  const callId = o.callId ?? `reg-${o.at}`;
  const lines = [
    'REGISTER sip:ims.example.net SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.30:5060;branch=z9hG4bK3',
    `From: <${o.aor}>;tag=r1`,
    `To: <${o.aor}>`,
    `Call-ID: ${callId}`,
    'CSeq: 3 REGISTER',
    `Contact: <sip:ue@192.0.2.30:5060>;expires=${o.expires}`,
    `Expires: ${o.expires}`,
    'Content-Length: 0',
    '',
    '',
  ];
  return event('sip.register', callId, lines.join('\r\n'), o.at, { method: 'REGISTER', expires: String(o.expires) });
}
