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

export interface VoiceCaptureOptions {
  calls: number;
  /** Every n-th call (i % targetEvery === 0) is to `target`; the others to numbers of nobody's. */
  targetEvery: number;
  target: string;
  /** Call starts spread evenly over this many seconds. */
  spanSeconds: number;
  /** RTP of each call: both ways, one packet per 20 ms each. */
  talkMs: number;
  callIdPrefix: string;
  startMicros: number;
}

export interface VoiceCaptureCounts {
  packets: number;
  rtpPackets: number;
  sipMessages: number;
  /** Of the target's calls. */
  targetCalls: number;
  targetSip: number;
  targetRtp: number;
}

/**
 * Writes a capture of overlapping calls in time order through `write` (chunks of the pcap), for
 * whole-pipeline replays: INVITE / 200 OK with SDP / ACK, RTP both ways, BYE / 200 OK.
 */
export function writeVoiceCapture(o: VoiceCaptureOptions, write: (chunk: Buffer) => void): VoiceCaptureCounts {
  const c: VoiceCaptureCounts = {
    packets: 0,
    rtpPackets: 0,
    sipMessages: 0,
    targetCalls: 0,
    targetSip: 0,
    targetRtp: 0,
  };
  write(pcapHeader(LINKTYPE.ETHERNET));
  let out: Buffer[] = [];
  let size = 0;
  const emit = (ts: number, src: string, sp: number, dst: string, dp: number, payload: Buffer) => {
    const rec = pcapRecord(
      ts,
      ethernet(ipPacket(src, dst, 17, udpDatagram({ src, dst, srcPort: sp, dstPort: dp, payload }))),
    );
    out.push(rec);
    size += rec.length;
    c.packets++;
    if (size > 1 << 20) {
      write(Buffer.concat(out));
      out = [];
      size = 0;
    }
  };
  const slots = Math.ceil(o.talkMs / 20);
  const gapMicros = (o.spanSeconds * 1e6) / Math.max(1, o.calls);
  const legs = [...Array(o.calls).keys()].map((i) => {
    const target = i % o.targetEvery === 0;
    if (target) c.targetCalls++;
    return {
      i,
      target,
      callId: `${o.callIdPrefix}-${i}@synthetic`,
      caller: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      from: `<sip:+3906${String(1_000_000 + i)}@example.net>;tag=a${i}`,
      to: target ? `<sip:${o.target}@example.net>` : `<sip:+3907${String(1_000_000 + i)}@example.net>`,
      serverPort: 20_000 + 2 * (i % 20_000),
      start: o.startMicros + Math.round(i * gapMicros),
    };
  });
  const sip = (ts: number, l: (typeof legs)[number], up: boolean, m: Buffer) => {
    emit(ts, up ? l.caller : SERVER, 5060, up ? SERVER : l.caller, 5060, m);
    c.sipMessages++;
    if (l.target) c.targetSip++;
  };
  // Events in time order: a min-heap would do; calls start in order and last equally long, so a
  // sliding window of active calls stepping 20 ms at a time keeps the order.
  let next = 0;
  const active: (typeof legs)[number][] = [];
  const end = o.startMicros + o.spanSeconds * 1e6 + o.talkMs * 1000 + 100_000;
  for (let t = o.startMicros; t <= end || active.length > 0 || next < legs.length; t += 20_000) {
    while (next < legs.length && legs[next]!.start < t + 20_000) {
      const l = legs[next++]!;
      const ts = Math.max(l.start, t);
      sip(
        ts,
        l,
        true,
        sipMessage('INVITE sip:b@example.net SIP/2.0', l.callId, l.from, l.to, '1 INVITE', sdp(l.caller, 4000)),
      );
      sip(
        ts + 1,
        l,
        false,
        sipMessage('SIP/2.0 200 OK', l.callId, l.from, `${l.to};tag=b`, '1 INVITE', sdp(SERVER, l.serverPort)),
      );
      sip(ts + 2, l, true, sipMessage('ACK sip:b@example.net SIP/2.0', l.callId, l.from, `${l.to};tag=b`, '1 ACK'));
      active.push(Object.assign(l, { sent: 0 }));
    }
    for (let k = 0; k < active.length; k++) {
      const l = active[k] as (typeof legs)[number] & { sent: number };
      const ts = t + 10 + k;
      if (ts <= l.start + 2) continue;
      if (l.sent < slots) {
        emit(ts, l.caller, 4000, SERVER, l.serverPort, rtp(l.sent, l.sent * 160, l.i));
        emit(ts + 1, SERVER, l.serverPort, l.caller, 4000, rtp(l.sent, l.sent * 160, l.i + 0x1000000));
        c.rtpPackets += 2;
        if (l.target) c.targetRtp += 2;
        l.sent++;
        continue;
      }
      sip(ts, l, true, sipMessage('BYE sip:b@example.net SIP/2.0', l.callId, l.from, `${l.to};tag=b`, '2 BYE'));
      sip(ts + 1, l, false, sipMessage('SIP/2.0 200 OK', l.callId, l.from, `${l.to};tag=b`, '2 BYE'));
      active.splice(k--, 1);
    }
    if (next >= legs.length && active.length === 0) break;
  }
  if (out.length > 0) write(Buffer.concat(out));
  return c;
}
