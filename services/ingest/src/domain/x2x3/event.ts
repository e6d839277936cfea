// Maps a decoded X2/X3 PDU to the normalised event: XID → X1 task through a lookup the caller
// provides (the MDF's task table), Correlation ID → communication, Matched/Other Target
// Identifier attributes (X1 TargetIdentifier XML fragments) → parties.
import type { IdentifierType, Party } from '@li/schemas';
import type { IngestErrorCode } from '../../errors.ts';
import { sipAttributes } from '../sip/events.ts';
import { parseMessage } from '../sip/message.ts';
import type { DecodedEvent } from '../stream.ts';
import { PAYLOAD_FORMATS, PDU_TYPE, type X2X3Attributes, type X2X3Pdu } from './pdu.ts';

interface X2X3Task {
  taskId: string;
}

export type TaskLookup = (xid: string) => X2X3Task | null;

/** The lookup for a fixed list of task XIDs (UUIDs: compared without regard to case). */
export function taskTable(xids: readonly string[]): TaskLookup {
  const tasks = new Set(xids.map((x) => x.toLowerCase()));
  return (xid) => (tasks.has(xid.toLowerCase()) ? { taskId: xid } : null);
}

export type MapResult =
  | { ok: true; event: DecodedEvent; task: X2X3Task }
  | { ok: false; code: IngestErrorCode; reason: string };

/** X1 TargetIdentifier element names (TS 103 221-1) → our identifier types. */
const TARGET_TYPES: Record<string, IdentifierType> = {
  e164number: 'E164',
  imsi: 'IMSI',
  imei: 'IMEI',
  sipuri: 'SIP_URI',
  teluri: 'TEL_URI',
  emailaddress: 'EMAIL',
  ipv4address: 'IPV4',
  ipv6address: 'IPV6',
};

/** `<e164Number>393331234567</e164Number>` → { type: 'E164', value }. Unknown tags → null. */
function parseTargetIdentifier(xml: string): { type: IdentifierType; value: string } | null {
  const m = /^\s*<([A-Za-z0-9:]+)(?:\s[^>]*)?>([^<]*)<\/\1>\s*$/.exec(xml);
  if (!m) return plainIdentifier(xml.trim());
  const local = (m[1] ?? '').split(':').pop()?.toLowerCase() ?? '';
  const type = TARGET_TYPES[local];
  if (!type) return null;
  const value = (m[2] ?? '')
    .trim()
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
  return { type, value };
}

/** Some POIs send the bare identifier instead of the XML fragment; recognise the obvious forms. */
function plainIdentifier(v: string): { type: IdentifierType; value: string } | null {
  if (/^sips?:/i.test(v)) return { type: 'SIP_URI', value: v };
  if (/^tel:/i.test(v)) return { type: 'TEL_URI', value: v };
  if (/^[^@\s<>]+@[^@\s<>]+$/.test(v)) return { type: 'EMAIL', value: v };
  if (/^\+?\d{6,15}$/.test(v)) return { type: 'E164', value: v.replace(/^\+/, '') };
  return null;
}

const SIP_PAYLOAD_FORMAT = 9;

const CONTENT_TYPES: Record<number, string> = {
  5: 'application/x-ipv4-packet',
  6: 'application/x-ipv6-packet',
  7: 'application/x-ethernet-frame',
  8: 'application/x-rtp-packet',
  9: 'message/sip',
  13: 'message/msrp',
  15: 'message/rfc822',
};

export function pduToEvent(
  pdu: X2X3Pdu,
  attrs: X2X3Attributes,
  lookup: TaskLookup,
  receivedAtMicros: number,
): MapResult {
  if (pdu.pduType !== PDU_TYPE.X2 && pdu.pduType !== PDU_TYPE.X3) {
    return { ok: false, code: 'ING_ERR_X2X3_NOT_PRODUCT', reason: 'keepalive PDUs carry no event' };
  }
  const task = lookup(pdu.xid);
  if (!task) return { ok: false, code: 'ING_ERR_X2X3_UNKNOWN_XID', reason: 'XID does not name an active task' };
  const x2 = pdu.pduType === PDU_TYPE.X2;
  const format = PAYLOAD_FORMATS[pdu.payloadFormat]?.[0] ?? `format-${pdu.payloadFormat}`;
  const parties: Party[] = [];
  for (const [list, role] of [
    [attrs.matchedTargets, 'ACCOUNT'],
    [attrs.otherTargets, 'OTHER'],
  ] as const) {
    for (const xml of list) {
      const id = parseTargetIdentifier(xml);
      if (id) parties.push({ role, type: id.type, value: id.value });
    }
  }
  const ts = attrs.timestamp
    ? attrs.timestamp.seconds * 1_000_000 + Math.floor(attrs.timestamp.nanoseconds / 1000)
    : receivedAtMicros;
  const network =
    attrs.sourceAddress !== undefined && attrs.destinationAddress !== undefined
      ? {
          transport: attrs.ipProtocol === 6 ? 'tcp' : attrs.ipProtocol === 17 ? 'udp' : `${attrs.ipProtocol ?? 'ip'}`,
          srcAddress: attrs.sourceAddress,
          srcPort: attrs.sourcePort ?? 0,
          dstAddress: attrs.destinationAddress,
          dstPort: attrs.destinationPort ?? 0,
        }
      : null;
  const attributes: Record<string, string> = {
    xid: pdu.xid,
    taskId: task.taskId,
    correlationId: pdu.correlationId.toString(),
    payloadFormat: `${pdu.payloadFormat}`,
    payloadDirection: `${pdu.payloadDirection}`,
    x2x3Version: `${pdu.version >> 8}.${pdu.version & 0xff}`,
  };
  if (attrs.sequenceNumber !== undefined) attributes.sequenceNumber = `${attrs.sequenceNumber}`;
  if (attrs.nfid !== undefined) attributes.nfid = attrs.nfid;
  if (attrs.ipid !== undefined) attributes.ipid = attrs.ipid;
  if (attrs.domainId !== undefined) attributes.domainId = attrs.domainId.toString('hex');
  if (attrs.mimeTransferEncoding !== undefined) attributes.mimeTransferEncoding = attrs.mimeTransferEncoding;
  if (attrs.sdp !== undefined) attributes.sdp = attrs.sdp;
  // A SIP payload (format 9) carries the method or status and Call-ID mirrored SIP has, so the
  // IRI encoder can tell where the call begins and ends. Without a POI correlation ID the
  // Call-ID is what ties one call's PDUs together.
  let communicationId = `x2x3:${pdu.xid}:${pdu.correlationId}`;
  if (x2 && pdu.payloadFormat === SIP_PAYLOAD_FORMAT) {
    const sip = parseMessage(pdu.payload);
    if (sip.ok) {
      const { attributes: sipAttrs } = sipAttributes(sip.message);
      for (const [k, v] of Object.entries(sipAttrs)) attributes[k] ??= v;
      const callId = sipAttrs['call-id'];
      if (pdu.correlationId === 0n && callId) communicationId = `x2x3:${pdu.xid}:sip:${callId}`;
    }
  }
  const contentType =
    pdu.payloadFormat === 15 && attrs.mimeContentType
      ? attrs.mimeContentType
      : (CONTENT_TYPES[pdu.payloadFormat] ?? 'application/octet-stream');
  return {
    ok: true,
    task,
    event: {
      category: x2 ? 'SIGNALS' : 'MEDIA',
      action: `${x2 ? 'x2' : 'x3'}.${format}`,
      occurredAtMicros: ts,
      protocol: x2 ? 'x2' : 'x3',
      communicationId,
      parties,
      network,
      attributes,
      content: pdu.payload.length > 0 ? pdu.payload : null,
      contentType: pdu.payload.length > 0 ? contentType : null,
    },
  };
}
