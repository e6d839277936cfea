// Generated SIP traffic as a pcap: fixtures for the pipeline tests and the throughput figure.

import { TCP_ACK, TCP_FIN, TCP_SYN } from '../domain/capture/packet.ts';
import { LINKTYPE } from '../domain/capture/pcap.ts';
import { ethernet, ipPacket, tcpSegment, udpDatagram } from './packets.ts';
import { pcapHeader, pcapRecord } from './pcap-writer.ts';
import { invite, request, response } from './sip-messages.ts';

export interface SyntheticOptions {
  calls: number;
  /** TCP segment payload size (messages are cut across segments). */
  mss?: number;
  /** Every n-th call goes over UDP instead of TCP. */
  udpEvery?: number;
  startMicros?: number;
}

/** Messages of one call, in order, with their direction (true = caller → callee). */
function callMessages(callId: string): [boolean, Buffer][] {
  return [
    [true, invite({ callId })],
    [false, response(100, 'Trying', callId)],
    [false, response(180, 'Ringing', callId)],
    [false, response(200, 'OK', callId)],
    [true, request('ACK', '', callId)],
    [true, request('BYE', '', callId)],
    [false, response(200, 'OK', callId, 'BYE')],
  ];
}

export function syntheticSipPcap(opts: SyntheticOptions): { pcap: Buffer; packets: number; messages: number } {
  const mss = opts.mss ?? 536;
  const parts: Buffer[] = [pcapHeader(LINKTYPE.ETHERNET)];
  let ts = opts.startMicros ?? 1_700_000_000_000_000;
  let packets = 0;
  let messages = 0;
  const emit = (ip: Buffer) => {
    ts += 100;
    parts.push(pcapRecord(ts, ethernet(ip)));
    packets++;
  };
  for (let i = 0; i < opts.calls; i++) {
    const c = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const s = '192.0.2.1';
    const cp = 10000 + (i % 50000);
    const msgs = callMessages(`call-${i}@synthetic`);
    messages += msgs.length;
    if (opts.udpEvery && i % opts.udpEvery === 0) {
      for (const [up, m] of msgs) {
        const [a, b, ap, bp] = up ? [c, s, cp, 5060] : [s, c, 5060, cp];
        emit(ipPacket(a, b, 17, udpDatagram({ src: a, dst: b, srcPort: ap, dstPort: bp, payload: m })));
      }
      continue;
    }
    let cs = (i * 7919) >>> 0;
    let ss = (i * 104729 + 0x7fff0000) >>> 0;
    const t = (up: boolean, flags: number, payload?: Buffer) => {
      const [a, b, ap, bp] = up ? [c, s, cp, 5060] : [s, c, 5060, cp];
      const seq = up ? cs : ss;
      emit(
        ipPacket(
          a,
          b,
          6,
          tcpSegment({ src: a, dst: b, srcPort: ap, dstPort: bp, seq, ack: up ? ss : cs, flags, payload }),
        ),
      );
      const adv = (payload?.length ?? 0) + (flags & (TCP_SYN | TCP_FIN) ? 1 : 0);
      if (up) cs = (cs + adv) >>> 0;
      else ss = (ss + adv) >>> 0;
    };
    t(true, TCP_SYN);
    t(false, TCP_SYN | TCP_ACK);
    t(true, TCP_ACK);
    for (const [up, m] of msgs) {
      for (let o = 0; o < m.length; o += mss) t(up, TCP_ACK, m.subarray(o, o + mss));
    }
    t(true, TCP_FIN | TCP_ACK);
    t(false, TCP_FIN | TCP_ACK);
    t(true, TCP_ACK);
  }
  return { pcap: Buffer.concat(parts), packets, messages };
}
