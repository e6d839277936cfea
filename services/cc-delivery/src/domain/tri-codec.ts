// The TS 102 232-1 TRI codec for delivery, on libs/etsi: keep-alive PDUs we send (clause
// 6.3.4) and the classification of what the LEMF sends back — keep-alive responses, its own
// keep-alives (answered), and PDU acknowledgements (clause 6.3.6). The header time of what a
// LEMF sends is read leniently (libs/etsi): a two-digit year must not cost the connection.
import type { Clock } from '@li/core';
import {
  decodePsPdu,
  encodeKeepalive,
  encodeKeepaliveResponse,
  encodePduAckRequest,
  type TimestampFormat,
} from '@li/etsi';
import type { IncomingPdu, KeepaliveCodec } from './types.ts';

export interface TriCodecOptions {
  operatorIdentifier: string;
  networkElementIdentifier?: string;
  timestampFormat: TimestampFormat;
  /** Time for the header of the PDUs we write. */
  clock: Clock;
}

export function createTriCodec(o: TriCodecOptions): KeepaliveCodec {
  const base = {
    operatorIdentifier: o.operatorIdentifier,
    ...(o.networkElementIdentifier ? { networkElementIdentifier: o.networkElementIdentifier } : {}),
    timestampFormat: o.timestampFormat,
  };
  const nowMicros = () => o.clock.now() * 1000;
  return {
    keepalive: (seq) => encodeKeepalive({ ...base, sequenceNumber: seq, timeMicros: nowMicros() }),
    // the request's TRI payload is NULL: its header (LIID, CIN, seq) names the PDU, and so does the response's
    ackRequest: (p) =>
      encodePduAckRequest({ ...base, liid: p.liid, cin: p.cin, sequenceNumber: p.seq, timeMicros: nowMicros() }),
    classify(pdu): IncomingPdu {
      const r = decodePsPdu(pdu);
      if (!r.ok || r.value.payload.kind !== 'tri') return { kind: 'other' };
      const seq = r.value.header.sequenceNumber;
      const tri = r.value.payload.tri;
      switch (tri.kind) {
        case 'keepAliveResponse':
          return { kind: 'keepalive-response', seq };
        case 'keepAlive':
          return {
            kind: 'keepalive',
            reply: encodeKeepaliveResponse({ ...base, sequenceNumber: seq, timeMicros: nowMicros() }),
          };
        case 'pDUAcknowledgementResponse': {
          const h = r.value.header;
          return { kind: 'ack', pdu: { liid: h.liid, cin: h.communicationIdentifier.cin ?? 0, seq } };
        }
        case 'integrityCheck':
        case 'testPDU':
        case 'paddingPDU':
        case 'firstSegmentFlag':
        case 'lastSegmentFlag':
        case 'cINReset':
        case 'operatorLeaMessage':
        case 'optionComplete':
        case 'pDUAcknowledgementRequest':
        case 'other':
          return { kind: 'other' };
        default:
          tri satisfies never;
          return { kind: 'other' };
      }
    },
  };
}
