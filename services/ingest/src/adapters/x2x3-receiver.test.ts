import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { encodePdu, PDU_TYPE } from '../domain/x2x3/pdu.ts';
import { createX2X3Receiver } from './x2x3-receiver.ts';

const x2 = () =>
  encodePdu({
    pduType: PDU_TYPE.X2,
    payloadFormat: 9,
    payloadDirection: 3,
    xid: '2b2d3a4c-5e6f-4a1b-8c9d-0e1f2a3b4c5d',
    correlationId: 1n,
    attributes: [],
    payload: Buffer.from('INVITE sip:b@example.com SIP/2.0\r\n\r\n'),
  });

const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
};

describe('X2/X3 receiver back-pressure', () => {
  it('stops reading while the publisher cannot take more, and resumes without losing a PDU', async () => {
    let accepting = false;
    let pdus = 0;
    const receiver = createX2X3Receiver({
      onPdu: () => pdus++,
      onProblem: () => {},
      accepting: () => accepting,
      resumeCheckMs: 10,
    });
    const port = await receiver.listen(0, '127.0.0.1');
    const client = net.connect(port, '127.0.0.1');
    try {
      await new Promise((r) => client.once('connect', r));
      client.write(x2());
      await until(() => pdus === 1);
      client.write(x2());
      client.write(x2());
      // Paused: the kernel holds the octets, nothing is decoded (and the connection stays open).
      await new Promise((r) => setTimeout(r, 150));
      expect(pdus).toBe(1);
      expect(client.destroyed).toBe(false);
      accepting = true;
      await until(() => pdus === 3);
      expect(pdus).toBe(3);
    } finally {
      client.destroy();
      await receiver.close();
    }
  });
});
