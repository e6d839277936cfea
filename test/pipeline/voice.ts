// SIPp calls with RTP on loopback for the voice-content tests: SIPp plays RTP from a pcap file
// (play_pcap_audio) to the media endpoint of the other side's SDP; the caller can put the call on
// hold and resume it on a new media port. An independent tcpdump writes what was on the wire, so
// a test can compare the LEMF's content with the packets actually sent.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSipp } from '@li/testing/sip';

export const AUDIO_LONG = '/usr/share/sip-tester/g711a.pcap';
export const AUDIO_SHORT = '/usr/share/sip-tester/dtmf_2833_1.pcap';

const sdp = (version: number, port: string, extra = '') =>
  [
    'v=0',
    `o=user1 53655765 ${version} IN IP[local_ip_type] [local_ip]`,
    's=-',
    'c=IN IP[media_ip_type] [media_ip]',
    't=0 0',
    `m=audio ${port} RTP/AVP 8`,
    'a=rtpmap:8 PCMA/8000',
    ...(extra ? [extra] : []),
  ].join('\n');

const uacHeaders = (method: string, cseq: number, withTag: boolean, body = '') =>
  [
    `${method} sip:[service]@[remote_ip]:[remote_port] SIP/2.0`,
    'Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]',
    'From: <sip:[caller]@[local_ip]>;tag=[call_number]',
    `To: <sip:[service]@[remote_ip]:[remote_port]>${withTag ? '[peer_tag_param]' : ''}`,
    'Call-ID: [call_id]',
    `CSeq: ${cseq} ${method === 'ACK' ? 'ACK' : method}`,
    'Contact: <sip:[caller]@[local_ip]:[local_port]>',
    'Max-Forwards: 70',
    ...(body ? ['Content-Type: application/sdp', 'Content-Length: [len]', '', body] : ['Content-Length: 0', '', '']),
  ].join('\n');

const send = (text: string, retrans = true) => `<send${retrans ? ' retrans="500"' : ''}><![CDATA[\n${text}\n]]></send>`;
const play = (file: string) => `<nop><action><exec play_pcap_audio="${file}"/></action></nop>`;
const scenario = (name: string, steps: string[]) =>
  `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<!DOCTYPE scenario SYSTEM "sipp.dtd">\n<scenario name="${name}">\n${steps.join('\n')}\n</scenario>\n`;

export interface VoiceCallOptions {
  dir: string;
  /** Caller and callee numbers (E.164). */
  caller: string;
  callee: string;
  uasPort: number;
  uacPort: number;
  /** SIPp media ports; the caller resumes from hold on callerMediaPort + 2. */
  callerMediaPort: number;
  calleeMediaPort: number;
  callerAudio: string;
  calleeAudio: string;
  /** Hold (sendonly) then resume on a new port, with the callee playing again after the resume. */
  holdResume: boolean;
  /** Talk time before the BYE. */
  talkMs: number;
}

/** Runs one call; resolves with SIPp's verdict. */
export async function voiceCall(o: VoiceCallOptions): Promise<{ ok: boolean; output: string }> {
  const uac: string[] = [
    send(uacHeaders('INVITE', 1, false, sdp(1, '[media_port]'))),
    '<recv response="100" optional="true"/>',
    '<recv response="180" optional="true"/>',
    '<recv response="200" rrs="true"/>',
    send(uacHeaders('ACK', 1, true), false),
    play(o.callerAudio),
  ];
  const uas: string[] = [
    '<recv request="INVITE" crlf="true"/>',
    send(
      [
        'SIP/2.0 180 Ringing',
        '[last_Via:]',
        '[last_From:]',
        '[last_To:];tag=[pid]SIPpTag01[call_number]',
        '[last_Call-ID:]',
        '[last_CSeq:]',
        'Content-Length: 0',
        '',
        '',
      ].join('\n'),
      false,
    ),
    ...answer(true, 1),
    '<recv request="ACK"/>',
    play(o.calleeAudio),
  ];
  if (o.holdResume) {
    uac.push(
      `<pause milliseconds="${Math.floor(o.talkMs / 3)}"/>`,
      send(uacHeaders('INVITE', 2, true, sdp(2, '[media_port]', 'a=sendonly'))),
      '<recv response="200"/>',
      send(uacHeaders('ACK', 2, true), false),
      `<pause milliseconds="${Math.floor(o.talkMs / 3)}"/>`,
      send(uacHeaders('INVITE', 3, true, sdp(3, '[media_port+2]'))),
      '<recv response="200"/>',
      send(uacHeaders('ACK', 3, true), false),
      `<pause milliseconds="${Math.floor(o.talkMs / 3)}"/>`,
    );
    uas.push(
      '<recv request="INVITE"/>',
      ...answer(false, 2),
      '<recv request="ACK"/>',
      '<recv request="INVITE"/>',
      ...answer(false, 3),
      '<recv request="ACK"/>',
      play(o.calleeAudio),
    );
  } else {
    uac.push(`<pause milliseconds="${o.talkMs}"/>`);
  }
  uac.push(send(uacHeaders('BYE', 9, true)), '<recv response="200"/>');
  uas.push(
    '<recv request="BYE"/>',
    send(
      [
        'SIP/2.0 200 OK',
        '[last_Via:]',
        '[last_From:]',
        '[last_To:]',
        '[last_Call-ID:]',
        '[last_CSeq:]',
        'Content-Length: 0',
        '',
        '',
      ].join('\n'),
      false,
    ),
  );
  const uacFile = join(o.dir, 'uac-rtp.xml');
  const uasFile = join(o.dir, 'uas-rtp.xml');
  writeFileSync(uacFile, scenario('uac with rtp', uac));
  writeFileSync(uasFile, scenario('uas with rtp', uas));
  const a = runSipp(
    ['-sf', uasFile, '-i', '127.0.0.1', '-p', String(o.uasPort), '-mp', String(o.calleeMediaPort), '-m', '1'],
    60_000,
  );
  await new Promise((r) => setTimeout(r, 300));
  const c = runSipp(
    [
      '-sf',
      uacFile,
      `127.0.0.1:${o.uasPort}`,
      '-i',
      '127.0.0.1',
      '-p',
      String(o.uacPort),
      '-mp',
      String(o.callerMediaPort),
      '-s',
      o.callee,
      '-key',
      'caller',
      o.caller,
      '-m',
      '1',
    ],
    60_000,
  );
  const r = await c.done;
  await a.done;
  return { ok: /Successful call\s+\|\s+\d+\s+\|\s+1\b/.test(r.output), output: r.output };

  function answer(tag: boolean, version: number): string[] {
    return [
      send(
        [
          'SIP/2.0 200 OK',
          '[last_Via:]',
          '[last_From:]',
          tag ? '[last_To:];tag=[pid]SIPpTag01[call_number]' : '[last_To:]',
          '[last_Call-ID:]',
          '[last_CSeq:]',
          'Contact: <sip:[local_ip]:[local_port];transport=[transport]>',
          'Content-Type: application/sdp',
          'Content-Length: [len]',
          '',
          sdp(version, '[media_port]'),
        ].join('\n'),
        false,
      ),
    ];
  }
}

/** tcpdump writing a file: the reference of what was on the wire. */
export function wireDump(file: string, filter: string): { ready: Promise<void>; stop(): Promise<void> } {
  const child: ChildProcess = spawn('tcpdump', ['-i', 'lo', '-U', '--immediate-mode', '-n', '-w', file, filter], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const closed = new Promise<void>((r) => child.on('close', () => r()));
  const ready = new Promise<void>((resolve) => {
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('listening on')) resolve();
    });
    void closed.then(() => resolve());
  });
  return {
    ready,
    async stop() {
      child.kill('SIGTERM');
      await closed;
    },
  };
}

export interface WireDatagram {
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

/** The UDP datagrams of a pcap file written by wireDump (Ethernet, IPv4). */
export function readWire(file: string): WireDatagram[] {
  const b = readFileSync(file);
  if (b.length < 24) return [];
  const le = b.readUInt32LE(0) === 0xa1b2c3d4 || b.readUInt32LE(0) === 0xa1b23c4d;
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const out: WireDatagram[] = [];
  for (let o = 24; o + 16 <= b.length; ) {
    const caplen = u32(o + 8);
    const frame = b.subarray(o + 16, o + 16 + caplen);
    o += 16 + caplen;
    if (frame.length < 14 + 20 + 8 || frame.readUInt16BE(12) !== 0x0800) continue;
    const ip = frame.subarray(14);
    if (ip[9] !== 17) continue;
    const ihl = (ip[0]! & 0x0f) * 4;
    const total = ip.readUInt16BE(2);
    const udp = ip.subarray(ihl, total);
    out.push({ srcPort: udp.readUInt16BE(0), dstPort: udp.readUInt16BE(2), payload: Buffer.from(udp.subarray(8)) });
  }
  return out;
}

/** A pcap (Ethernet, IPv4, UDP to port 5004) of bare RTP packets: IPMMCC content unwrapped for tshark. */
export function rtpPcap(packets: readonly Buffer[]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262144, 16);
  head.writeUInt32LE(1, 20);
  const parts = [head];
  packets.forEach((p, i) => {
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(5004, 0);
    udp.writeUInt16BE(5004, 2);
    udp.writeUInt16BE(8 + p.length, 4);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + 8 + p.length, 2);
    ip[8] = 64;
    ip[9] = 17;
    Buffer.from([127, 0, 0, 1]).copy(ip, 12);
    Buffer.from([127, 0, 0, 1]).copy(ip, 16);
    const eth = Buffer.alloc(14);
    eth.writeUInt16BE(0x0800, 12);
    const frame = Buffer.concat([eth, ip, udp, p]);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(1_700_000_000 + i, 0);
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    parts.push(rec, frame);
  });
  return Buffer.concat(parts);
}
