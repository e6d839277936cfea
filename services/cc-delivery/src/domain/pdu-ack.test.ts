import { describe, expect, it } from 'vitest';
import { PduAcks } from './pdu-ack.ts';

const pdu = (seq: number, liid = 'L1', cin = 7) => ({ liid, cin, seq });

describe('PduAcks', () => {
  it('confirms a PDU only by the ack naming it; out-of-order acks confirm the leading run', () => {
    const a = new PduAcks([pdu(0), pdu(1), pdu(2)]);
    expect(a.ack(pdu(2))).toBe(true);
    expect(a.confirmed()).toBe(0);
    expect(a.ack(pdu(0))).toBe(true);
    expect(a.confirmed()).toBe(1);
    expect(a.ack(pdu(1))).toBe(true);
    expect(a.confirmed()).toBe(3);
  });

  it('refuses a duplicate ack and an ack for a PDU never sent', () => {
    const a = new PduAcks([pdu(0), pdu(1)]);
    expect(a.ack(pdu(0))).toBe(true);
    expect(a.ack(pdu(0))).toBe(false);
    expect(a.ack(pdu(5))).toBe(false);
    expect(a.confirmed()).toBe(1);
  });

  it('tells PDUs apart by LIID and CIN, whose sequence numbers run separately', () => {
    const a = new PduAcks([pdu(0, 'L1'), pdu(0, 'L2'), pdu(0, 'L1', 8)]);
    expect(a.ack(pdu(0, 'L3'))).toBe(false);
    expect(a.ack(pdu(0, 'L1', 8))).toBe(true);
    expect(a.ack(pdu(0, 'L2'))).toBe(true);
    expect(a.confirmed()).toBe(0);
    expect(a.ack(pdu(0, 'L1'))).toBe(true);
    expect(a.confirmed()).toBe(3);
  });
});
