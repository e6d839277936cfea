// Generated SIP calls with RTP over UDP as a pcap: INVITE and 200 OK with SDP, then RTP both ways
// (20 ms of G.711 each), then BYE. For bench/ingest's tapped and untapped media rates.
import { LINKTYPE } from '../domain/capture/pcap.ts';
import { ethernet, ipPacket, udpDatagram } from './packets.ts';
import { pcapHeader, pcapRecord } from './pcap-writer.ts';

export interface SyntheticRtpOptions {
  calls: number;
  /** RTP packets per direction per call. */
  rtpPerDirection: number;
  /** Calls in progress at once (their RTP interleaves). */
  concurrent?: number;
  startMicros?: number;
}

const SERVER = '192.0.2.1';

function sipMessage(start: string, callId: string, from: string, to: string, cseq: string, body = ''): Buffer {
  return Buffer.from(
    `${start}\r\nVia: SIP/2.0/UDP ${SERVER};branch=z9hG4bK-${callId}-${cseq.replace(' ', '')}\r\n` +
      `From: ${from}\r\nTo: ${to}\r\nCall-ID: ${callId}\r\nCSeq: ${cseq}\r\n` +
      (body ? 'Content-Type: application/sdp\r\n' : '') +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

const sdp = (addr: string, port: number) =>
  `v=0\r\no=- 1 1 IN IP4 ${addr}\r\ns=-\r\nc=IN IP4 ${addr}\r\nt=0 0\r\nm=audio ${port} RTP/AVP 8\r\n`;

function rtp(seq: number, ts: number, ssrc: number): Buffer {
  const b = Buffer.alloc(12 + 160, seq & 0xff);
  b[0] = 0x80;
  b[1] = 8;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  return b;
}

export function syntheticRtpPcap(o: SyntheticRtpOptions): {
  pcap: Buffer;
  packets: number;
  rtpPackets: number;
  callIds: string[];
} {
  const parts: Buffer[] = [pcapHeader(LINKTYPE.ETHERNET)];
  let ts = o.startMicros ?? 1_700_000_000_000_000;
  let packets = 0;
  let rtpPackets = 0;
  const callIds: string[] = [];
  const emit = (src: string, sp: number, dst: string, dp: number, payload: Buffer) => {
    ts += 20;
    parts.push(
      pcapRecord(ts, ethernet(ipPacket(src, dst, 17, udpDatagram({ src, dst, srcPort: sp, dstPort: dp, payload })))),
    );
    packets++;
  };
  const concurrent = Math.max(1, o.concurrent ?? 100);
  for (let first = 0; first < o.calls; first += concurrent) {
    const group = [...Array(Math.min(concurrent, o.calls - first)).keys()].map((k) => first + k);
    const legs = group.map((i) => {
      const callId = `rtp-${i}@synthetic`;
      callIds.push(callId);
      const caller = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      const from = `<sip:+3906${String(1_000_000 + i)}@example.net>;tag=a${i}`;
      const to = `<sip:+3906${String(5_000_000 + i)}@example.net>`;
      const serverPort = 20_000 + 2 * (i % 20_000);
      return { i, callId, caller, from, to, serverPort };
    });
    for (const l of legs) {
      emit(
        l.caller,
        5060,
        SERVER,
        5060,
        sipMessage('INVITE sip:b@example.net SIP/2.0', l.callId, l.from, l.to, '1 INVITE', sdp(l.caller, 4000)),
      );
      emit(
        SERVER,
        5060,
        l.caller,
        5060,
        sipMessage('SIP/2.0 200 OK', l.callId, l.from, `${l.to};tag=b`, '1 INVITE', sdp(SERVER, l.serverPort)),
      );
      emit(
        l.caller,
        5060,
        SERVER,
        5060,
        sipMessage('ACK sip:b@example.net SIP/2.0', l.callId, l.from, `${l.to};tag=b`, '1 ACK'),
      );
    }
    for (let n = 0; n < o.rtpPerDirection; n++) {
      for (const l of legs) {
        emit(l.caller, 4000, SERVER, l.serverPort, rtp(n, n * 160, l.i));
        emit(SERVER, l.serverPort, l.caller, 4000, rtp(n, n * 160, l.i + 0x10000));
        rtpPackets += 2;
      }
    }
    for (const l of legs) {
      emit(
        l.caller,
        5060,
        SERVER,
        5060,
        sipMessage('BYE sip:b@example.net SIP/2.0', l.callId, l.from, `${l.to};tag=b`, '2 BYE'),
      );
      emit(SERVER, 5060, l.caller, 5060, sipMessage('SIP/2.0 200 OK', l.callId, l.from, `${l.to};tag=b`, '2 BYE'));
    }
  }
  return { pcap: Buffer.concat(parts), packets, rtpPackets, callIds };
}
