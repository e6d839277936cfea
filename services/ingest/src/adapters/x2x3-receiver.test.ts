import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { encodePdu, keepalive, PDU_TYPE } from '../domain/x2x3/pdu.ts';
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

describe('X2/X3 keepalive acknowledgement under spool fsync always', () => {
  it('acknowledges a keepalive only once the PDUs read before it are kept, in order', async () => {
    let pdus = 0;
    const keptCalls: (() => void)[] = [];
    const receiver = createX2X3Receiver({
      onPdu: () => pdus++,
      onProblem: () => {},
      durable: () => new Promise<void>((r) => keptCalls.push(r)),
    });
    const port = await receiver.listen(0, '127.0.0.1');
    const client = net.connect(port, '127.0.0.1');
    let answers = Buffer.alloc(0);
    client.on('data', (d: Buffer) => {
      answers = Buffer.concat([answers, d]);
    });
    try {
      await new Promise((r) => client.once('connect', r));
      client.write(Buffer.concat([x2(), keepalive(1), x2(), keepalive(2)]));
      await until(() => pdus === 2 && keptCalls.length === 2);
      expect(answers.length).toBe(0); // nothing vouched for yet
      keptCalls[0]!();
      const ack = (seq: number) =>
        encodePdu({ pduType: PDU_TYPE.KEEPALIVE_ACK, attributes: [{ type: 8, value: Buffer.from([0, 0, 0, seq]) }] });
      await until(() => answers.length === ack(1).length);
      expect(answers.equals(ack(1))).toBe(true);
      keptCalls[1]!();
      await until(() => answers.length === 2 * ack(1).length);
      expect(answers.subarray(ack(1).length).equals(ack(2))).toBe(true);
    } finally {
      client.destroy();
      await receiver.close();
    }
  });
});
