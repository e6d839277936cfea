// Test KeepaliveCodec: the golden TRI keep-alive PDU and byte matching on the TRIPayload wrapper
// (HI2-HI3-delivery.md §1: keep-alive A2 04 A2 02 83 00, response A2 04 A2 02 84 00). PDU
// acknowledgements name a PDU in their header, so those go through the real TRI codec.
import { ManualClock } from '@li/core';
import { createTriCodec } from '../../src/domain/tri-codec.ts';
import type { IncomingPdu, KeepaliveCodec } from '../../src/domain/types.ts';
import { golden } from './ber.ts';

const KEEPALIVE = golden('pspdu_keepalive.ber');
const tail = (b: Uint8Array, n: number) => Buffer.from(b.subarray(b.length - n));
const KA_TAIL = Buffer.from([0xa2, 0x04, 0xa2, 0x02, 0x83, 0x00]);
const KA_RESPONSE_TAIL = Buffer.from([0xa2, 0x04, 0xa2, 0x02, 0x84, 0x00]);
const ACK_TAIL = Buffer.from([0xa2, 0x04, 0xa2, 0x02, 0x8d, 0x00]);

function withTail(pdu: Buffer, newTail: Buffer): Buffer {
  return Buffer.concat([pdu.subarray(0, pdu.length - newTail.length), newTail]);
}

const tri = createTriCodec({
  operatorIdentifier: 'OP',
  timestampFormat: 'GENERALIZED_TIME',
  clock: new ManualClock(0),
});

export const goldenCodec: KeepaliveCodec = {
  keepalive: () => KEEPALIVE,
  ackRequest: (p) => tri.ackRequest(p),
  classify(pdu: Uint8Array): IncomingPdu {
    if (pdu.length < 6) return { kind: 'other' };
    const t = tail(pdu, 6);
    if (t.equals(KA_RESPONSE_TAIL)) return { kind: 'keepalive-response' };
    if (t.equals(KA_TAIL)) return { kind: 'keepalive', reply: withTail(Buffer.from(pdu), KA_RESPONSE_TAIL) };
    if (t.equals(ACK_TAIL)) return tri.classify(pdu);
    return { kind: 'other' };
  },
};
