import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collector, replay } from '../../testing/decoder-kit.ts';
import { ethernet, ipPacket, tcpSegment } from '../../testing/packets.ts';
import { writePcap } from '../../testing/pcap-writer.ts';
import { invite, request, response } from '../../testing/sip-messages.ts';
import { createCapture } from '../capture/capture.ts';
import { CaptureReader, LINKTYPE } from '../capture/pcap.ts';
import { pop3DecoderFactory } from '../mail/pop3.ts';
import { sipStreamFactory } from './decoder.ts';
import { sipSniffFactory } from './sniff.ts';

/** A WebSocket frame (RFC 6455 §5.2), masked with `mask` when given (client to server). */
function wsFrame(payload: Buffer, opts: { opcode?: number; fin?: boolean; mask?: Buffer } = {}): Buffer {
  const len = payload.length;
  const ext = len < 126 ? Buffer.alloc(0) : len < 65536 ? Buffer.alloc(2) : Buffer.alloc(8);
  if (len >= 126 && len < 65536) ext.writeUInt16BE(len);
  if (len >= 65536) ext.writeBigUInt64BE(BigInt(len));
  const h = Buffer.from([
    (opts.fin === false ? 0 : 0x80) | (opts.opcode ?? 1),
    (opts.mask ? 0x80 : 0) | (len < 126 ? len : len < 65536 ? 126 : 127),
  ]);
  const body = Buffer.from(payload);
  if (opts.mask) for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (opts.mask[i & 3] as number);
  return Buffer.concat([h, ext, opts.mask ?? Buffer.alloc(0), body]);
}

const MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
const upgrade =
  'GET /ws HTTP/1.1\r\nHost: sip.example.net\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n';
const switching =
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: sip\r\n\r\n';

describe('SIP found by content', () => {
  it('decodes SIP over WebSocket: masked client frames, unmasked server frames, fragments and pings', () => {
    const inv = invite({ callId: 'ws-1' });
    const { events, problems } = replay(sipSniffFactory(), 8443, [
      ['C', upgrade],
      ['S', switching],
      [
        'C',
        Buffer.concat([
          wsFrame(inv.subarray(0, 100), { mask: MASK, fin: false }),
          wsFrame(Buffer.from('hi'), { opcode: 9, mask: MASK }),
        ]),
      ],
      ['C', wsFrame(inv.subarray(100), { mask: MASK, opcode: 0 })],
      ['S', wsFrame(response(180, 'Ringing', 'ws-1'))],
      ['C', wsFrame(Buffer.from('\r\n\r\n'), { mask: MASK })],
      ['S', wsFrame(response(200, 'OK', 'ws-1'), { opcode: 2 })],
      ['C', wsFrame(request('BYE', '', 'ws-1'), { mask: MASK })],
    ]);
    expect(problems).toEqual([]);
    expect(events.map((e) => `${e.action}:${e.attributes?.status ?? ''}`)).toEqual([
      'sip.invite:',
      'sip.response:180',
      'sip.response:200',
      'sip.bye:',
    ]);
    expect(events.every((e) => e.communicationId === 'ws-1' && e.attributes?.['sip-transport'] === 'WS')).toBe(true);
    expect(events[0]?.content?.equals(inv)).toBe(true);
    expect(events[1]?.network).toMatchObject({ srcPort: 8443, dstPort: 50123 });
  });

  it('picks up a WebSocket connection whose handshake was not captured', () => {
    const { events, problems } = replay(sipSniffFactory(), 443, [
      ['C', wsFrame(request('MESSAGE', '', 'ws-mid'), { mask: MASK })],
      ['S', wsFrame(response(202, 'Accepted', 'ws-mid', 'MESSAGE'))],
    ]);
    expect(problems).toEqual([]);
    expect(events.map((e) => e.action)).toEqual(['sip.message', 'sip.response']);
  });

  it('is independent of segmentation', () => {
    const steps = [
      ['C', upgrade],
      ['S', switching],
      ['C', wsFrame(invite({ callId: 'cut' }), { mask: MASK })],
      ['S', wsFrame(response(200, 'OK', 'cut'))],
    ] as const;
    fc.assert(
      fc.property(fc.array(fc.nat(2000), { maxLength: 8 }), (cuts) => {
        const { events, problems } = replay(sipSniffFactory(), 80, steps, () => cuts);
        expect(problems).toEqual([]);
        expect(events.map((e) => e.action)).toEqual(['sip.invite', 'sip.response']);
      }),
      { numRuns: 100 },
    );
  });

  it('decodes plaintext SIP handed over by a TLS-terminating mirror on 5061 or any port, from the first start line', () => {
    for (const port of [5061, 443, 40000]) {
      const { events, problems } = replay(sipSniffFactory(), port, [
        ['C', Buffer.concat([Buffer.from('a=tail of a body seen mid-stream\r\n'), invite({ callId: `tls-${port}` })])],
        ['S', response(200, 'OK', `tls-${port}`)],
      ]);
      expect(problems).toEqual([]);
      expect(events.map((e) => e.action)).toEqual(['sip.invite', 'sip.response']);
    }
  });

  it('holds nothing for flows that are not SIP (HTTP, TLS, binary)', () => {
    const sink = collector();
    const f = { transport: 'tcp' as const, clientAddress: 'a', clientPort: 1, serverAddress: 'b', serverPort: 80 };
    for (const first of [
      'GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n',
      Buffer.from([0x16, 3, 1, 0, 200, 1]),
      Buffer.alloc(5000, 0xaa),
    ]) {
      const d = sipSniffFactory()(f, sink);
      d?.data('toServer', Buffer.from(first), 1);
      d?.data('toServer', invite(), 2); // later SIP-looking octets do not reopen the decision
      expect(d?.bufferedBytes?.()).toBe(0);
    }
    expect(sink.events).toEqual([]);
    expect(sink.problems).toEqual([]);
  });

  it('reads SIP over WebSocket on port 8080 from a pcap, next to port-based decoders', () => {
    const c = '192.0.2.10';
    const s = '198.51.100.5';
    const packets: { tsMicros: number; data: Buffer }[] = [];
    let cs = 1000;
    let ss = 900000;
    let ts = 1_700_000_000_000_000;
    const seg = (up: boolean, flags: number, payload?: Buffer) => {
      const [a, b, ap, bp] = up ? [c, s, 50000, 8080] : [s, c, 8080, 50000];
      const seq = up ? cs : ss;
      const tcp = tcpSegment({ src: a, dst: b, srcPort: ap, dstPort: bp, seq, ack: up ? ss : cs, flags, payload });
      packets.push({ tsMicros: ts++, data: ethernet(ipPacket(a, b, 6, tcp)) });
      const adv = (payload?.length ?? 0) + (flags & 0x03 ? 1 : 0);
      if (up) cs += adv;
      else ss += adv;
    };
    seg(true, 0x02);
    seg(false, 0x12);
    seg(true, 0x10);
    seg(true, 0x18, Buffer.from(upgrade));
    seg(false, 0x18, Buffer.from(switching));
    seg(
      true,
      0x18,
      wsFrame(request('REGISTER', 'Contact: <sip:alice@x;transport=ws>;expires=600\r\n', 'reg-ws'), { mask: MASK }),
    );
    seg(false, 0x18, wsFrame(response(200, 'OK', 'reg-ws', 'REGISTER')));
    seg(true, 0x11);
    seg(false, 0x11);
    seg(true, 0x10);
    const pcap = writePcap(LINKTYPE.ETHERNET, packets);
    const sink = collector();
    const cap = createCapture({
      factories: [sipStreamFactory(), pop3DecoderFactory(), sipSniffFactory()],
      sink,
    });
    expect(new CaptureReader().push(pcap, (p) => cap.packet(p))).toBeNull();
    cap.end();
    expect(sink.problems).toEqual([]);
    expect(sink.events.map((e) => e.action)).toEqual(['sip.register', 'sip.response']);
    expect(cap.stats().tcp.flowsWithoutDecoder).toBe(0);
  });
});
