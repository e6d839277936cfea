// The TS 102 232-1 TRI codec for delivery, on libs/etsi: keep-alive PDUs we send (clause
// 6.3.4) and the classification of what the LEMF sends back — keep-alive responses, its own
// keep-alives (answered), and PDU acknowledgements (clause 6.3.6).
import { decodePsPdu, encodeKeepalive, encodeKeepaliveResponse, type TimestampFormat } from '@li/etsi';
import type { IncomingPdu, KeepaliveCodec } from '../domain/types.ts';

export interface EtsiCodecOptions {
  operatorIdentifier: string;
  networkElementIdentifier?: string;
  timestampFormat: TimestampFormat;
}

export function createEtsiKeepaliveCodec(o: EtsiCodecOptions): KeepaliveCodec {
  const base = {
    operatorIdentifier: o.operatorIdentifier,
    ...(o.networkElementIdentifier ? { networkElementIdentifier: o.networkElementIdentifier } : {}),
    timestampFormat: o.timestampFormat,
  };
  return {
    keepalive: (seq) => encodeKeepalive({ ...base, sequenceNumber: seq, timeMicros: Date.now() * 1000 }),
    classify(pdu): IncomingPdu {
      const r = decodePsPdu(pdu);
      if (!r.ok || r.value.payload.kind !== 'tri') return { kind: 'other' };
      const seq = r.value.header.sequenceNumber;
      switch (r.value.payload.tri.kind) {
        case 'keepAliveResponse':
          return { kind: 'keepalive-response', seq };
        case 'keepAlive':
          return {
            kind: 'keepalive',
            reply: encodeKeepaliveResponse({ ...base, sequenceNumber: seq, timeMicros: Date.now() * 1000 }),
          };
        case 'pDUAcknowledgementResponse':
          return { kind: 'ack', count: 1 };
        default:
          return { kind: 'other' };
      }
    },
  };
}
