// A whole TCP session (handshake, data both ways, FIN both ways) as a pcap: fixtures for tests
// that feed the capture path with a protocol transcript.
import { LINKTYPE } from '../domain/capture/pcap.ts';
import { ethernet, ipPacket, tcpSegment } from './packets.ts';
import { writePcap } from './pcap-writer.ts';

const SYN = 0x02;
const FIN = 0x01;
const ACK = 0x10;
const PSH = 0x08;

export function tcpSessionPcap(
  steps: readonly (readonly ['C' | 'S', string | Buffer])[],
  o: { client?: string; server?: string; clientPort?: number; serverPort: number; mss?: number },
): Buffer {
  const c = o.client ?? '192.0.2.10';
  const s = o.server ?? '198.51.100.5';
  const cp = o.clientPort ?? 50000;
  const mss = o.mss ?? 1460;
  const packets: { tsMicros: number; data: Buffer }[] = [];
  let cs = 1000;
  let ss = 900000;
  let ts = 1_700_000_000_000_000;
  const seg = (up: boolean, flags: number, payload?: Buffer) => {
    const [a, b, ap, bp] = up ? [c, s, cp, o.serverPort] : [s, c, o.serverPort, cp];
    const tcp = tcpSegment({
      src: a,
      dst: b,
      srcPort: ap,
      dstPort: bp,
      seq: up ? cs : ss,
      ack: up ? ss : cs,
      flags,
      payload,
    });
    packets.push({ tsMicros: ts, data: ethernet(ipPacket(a, b, 6, tcp)) });
    ts += 1000;
    const adv = (payload?.length ?? 0) + (flags & (SYN | FIN) ? 1 : 0);
    if (up) cs += adv;
    else ss += adv;
  };
  seg(true, SYN);
  seg(false, SYN | ACK);
  seg(true, ACK);
  for (const [side, data] of steps) {
    const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let i = 0; i < b.length; i += mss) seg(side === 'C', PSH | ACK, b.subarray(i, i + mss));
  }
  seg(true, FIN | ACK);
  seg(false, FIN | ACK);
  seg(true, ACK);
  return writePcap(LINKTYPE.ETHERNET, packets);
}
