import { describe, expect, it } from 'vitest';
import type { Datagram } from '../capture/capture.ts';
import { sipEvent } from '../sip/events.ts';
import { parseMessage } from '../sip/message.ts';
import type { DecodedEvent } from '../stream.ts';
import { MediaTracker } from './tracker.ts';

const ALICE = '192.0.2.10';
const BOB = '198.51.100.20';
const CALLER = '<sip:alice@example.com>;tag=a1';
const CALLEE = '<sip:+390612345678@example.net>';

function sdp(address: string, port: number, extra = '', media = `m=audio ${port} RTP/AVP 0 8`): string {
  const fam = address.includes(':') ? 'IP6' : 'IP4';
  return `v=0\r\no=- 1 1 IN ${fam} ${address}\r\ns=-\r\nc=IN ${fam} ${address}\r\nt=0 0\r\n${media}\r\n${extra}`;
}

let seq = 0;
function sip(
  start: string,
  o: { callId?: string; from?: string; to?: string; cseq?: string; body?: string; ts?: number } = {},
): DecodedEvent {
  const body = o.body ?? '';
  const raw = Buffer.from(
    `${start}\r\nVia: SIP/2.0/UDP ${ALICE};branch=z9hG4bK-${seq++}\r\nFrom: ${o.from ?? CALLER}\r\nTo: ${o.to ?? CALLEE}\r\n` +
      `Call-ID: ${o.callId ?? 'c1'}\r\nCSeq: ${o.cseq ?? '1 INVITE'}\r\n` +
      (body ? 'Content-Type: application/sdp\r\n' : '') +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  const r = parseMessage(raw);
  if (!r.ok) throw new Error(r.reason);
  return sipEvent(
    r.message,
    { transport: 'udp', srcAddress: ALICE, srcPort: 5060, dstAddress: BOB, dstPort: 5060 },
    o.ts ?? 1_000_000,
  );
}

/** An RTP packet (RFC 3550) with payload type pt and sequence number n. */
function rtp(n: number, pt = 0): Buffer {
  const b = Buffer.alloc(12 + 20, n & 0xff);
  b[0] = 0x80;
  b[1] = pt;
  b.writeUInt16BE(n & 0xffff, 2);
  return b;
}

function dg(src: string, sport: number, dst: string, dport: number, payload: Buffer, ts = 2_000_000): Datagram {
  return {
    tsMicros: ts,
    network: { transport: 'udp', srcAddress: src, srcPort: sport, dstAddress: dst, dstPort: dport },
    payload,
  };
}

const TAP = { expiresAtMicros: Number.MAX_SAFE_INTEGER };

/** A call set up by INVITE (alice's SDP) and 200 OK (bob's SDP). */
function setUp(t: MediaTracker, o: { alice?: [string, number]; bob?: [string, number]; callId?: string } = {}) {
  const [aAddr, aPort] = o.alice ?? [ALICE, 4000];
  const [bAddr, bPort] = o.bob ?? [BOB, 6000];
  const callId = o.callId ?? 'c1';
  t.signal(sip('INVITE sip:+390612345678@example.net SIP/2.0', { callId, body: sdp(aAddr, aPort) }), 0);
  t.signal(sip('SIP/2.0 200 OK', { callId, to: `${CALLEE};tag=b2`, body: sdp(bAddr, bPort) }), 0);
}

describe('MediaTracker', () => {
  it('taps both directions of a call from the SDP offer and answer, labelled by sender', () => {
    const t = new MediaTracker();
    setUp(t);
    expect(t.tap('c1', TAP, 0)).toEqual([]);
    const fromAlice = t.datagram(dg(ALICE, 4000, BOB, 6000, rtp(1)), 0);
    const fromBob = t.datagram(dg(BOB, 6000, ALICE, 4000, rtp(2, 8)), 0);
    const rtcp = t.datagram(dg(BOB, 6001, ALICE, 4001, Buffer.from([0x80, 200, 0, 1, 0, 0, 0, 0])), 0);
    expect(fromAlice?.map((e) => [e.action, e.attributes.mediaFrom, e.attributes.payloadType])).toEqual([
      ['media.rtp', 'CALLER', '0'],
    ]);
    expect(fromBob?.map((e) => [e.attributes.mediaFrom, e.attributes.payloadType])).toEqual([['CALLEE', '8']]);
    expect(rtcp?.map((e) => [e.action, e.attributes.mediaFrom])).toEqual([['media.rtcp', 'CALLEE']]);
    const e = fromAlice![0]!;
    expect(e).toMatchObject({ category: 'MEDIA', protocol: 'SIP', communicationId: 'c1' });
    expect(Buffer.from(e.content!).equals(rtp(1))).toBe(true);
    // The call's identities, so the media matches the warrants the call's SIP matched, in the same roles.
    expect(e.parties).toEqual(
      expect.arrayContaining([
        { role: 'CALLER', type: 'SIP_URI', value: 'sip:alice@example.com' },
        { role: 'CALLEE', type: 'E164', value: '+390612345678' },
      ]),
    );
  });

  it('costs nothing for a call that is not tapped, once its decision time passed', () => {
    const t = new MediaTracker({ pendingMs: 1000 });
    setUp(t);
    expect(t.datagram(dg(ALICE, 4000, BOB, 6000, rtp(1)), 5000)).toEqual([]);
    expect(t.datagram(dg(ALICE, 9999, BOB, 9998, rtp(1)), 5000)).toBeNull(); // no followed call
    expect(t.stats()).toMatchObject({ packetsUntapped: 1, packetsHeld: 0, packetsTapped: 0 });
  });

  it('holds media that comes before the tap (RTP right after the 200 OK) and sends it in order when the tap arrives', () => {
    const t = new MediaTracker({ pendingMs: 1000 });
    setUp(t);
    for (let n = 0; n < 50; n++) expect(t.datagram(dg(ALICE, 4000, BOB, 6000, rtp(n), 2_000_000 + n), 10)).toEqual([]);
    const held = t.tap('c1', TAP, 900);
    expect(held.map((e) => Buffer.from(e.content!).readUInt16BE(2))).toEqual([...Array(50).keys()]);
    expect(t.datagram(dg(ALICE, 4000, BOB, 6000, rtp(50)), 950)).toHaveLength(1);
    expect(t.stats()).toMatchObject({ heldSent: 50, packetsTapped: 51 });
  });

  it('decides "not tapped" as soon as target-match\'s watermark for the call\'s partition passes its first event', () => {
    const t = new MediaTracker({ pendingMs: 60_000 }, (callId) => (callId.startsWith('c1') ? 1 : 2));
    const invite = (callId: string, port: number) =>
      sip('INVITE sip:+390612345678@example.net SIP/2.0', { callId, body: sdp(ALICE, port) });
    t.signal(invite('c1', 4000), 0, 7); // our 7th event, partition 1
    t.signal(invite('c2', 4100), 0, 8); // partition 2
    t.datagram(dg(BOB, 6000, ALICE, 4000, rtp(1)), 10);
    t.datagram(dg(BOB, 6100, ALICE, 4100, rtp(1)), 10);
    t.watermark(1, 6); // not there yet
    t.watermark(2, 9); // another partition
    expect(t.stats()).toMatchObject({ heldDropped: 1 });
    t.watermark(1, 7);
    expect(t.stats()).toMatchObject({ heldDropped: 2 });
    expect(t.heldBytes()).toBe(0);
    // From now on its media is not held at all.
    expect(t.datagram(dg(BOB, 6000, ALICE, 4000, rtp(2)), 20)).toEqual([]);
    expect(t.stats()).toMatchObject({ packetsHeld: 2, packetsUntapped: 1 });
  });

  it('drops what it held when no tap came in time, and bounds what it holds', () => {
    const t = new MediaTracker({ pendingMs: 1000, maxPendingBytesPerCall: 32 * 10 });
    setUp(t);
    for (let n = 0; n < 20; n++) t.datagram(dg(ALICE, 4000, BOB, 6000, rtp(n)), 10);
    expect(t.stats()).toMatchObject({ packetsHeld: 10, heldDropped: 10 });
    t.tick(3_000_000, 2000);
    expect(t.tap('c1', TAP, 2100)).toEqual([]);
    expect(t.stats().heldDropped).toBe(20);
  });

  it('reports what it holds, and settle() drops only what waited past its decision time', () => {
    const t = new MediaTracker({ pendingMs: 1000 });
    setUp(t);
    setUp(t, { callId: 'c2', alice: [ALICE, 4100], bob: [BOB, 6100] });
    for (let n = 0; n < 3; n++) t.datagram(dg(ALICE, 4000, BOB, 6000, rtp(n)), 0);
    t.datagram(dg(ALICE, 4100, BOB, 6100, rtp(9)), 0);
    expect(t.heldBytes()).toBe(4 * 32);
    t.settle(500);
    expect(t.heldBytes()).toBe(4 * 32);
    expect(t.tap('c2', TAP, 600)).toHaveLength(1);
    t.settle(1000);
    expect(t.heldBytes()).toBe(0);
    expect(t.stats()).toMatchObject({ calls: 2, heldDropped: 3, heldSent: 1 });
  });

  it('labels direction by the SDP sender even when the callee sends the re-INVITE, and follows its port change (hold/resume)', () => {
    const t = new MediaTracker();
    setUp(t);
    t.tap('c1', TAP, 0);
    // Bob (the callee) puts the call on hold, then resumes on a new port.
    const bobFrom = `${CALLEE};tag=b2`;
    const aliceTo = CALLER;
    t.signal(
      sip('INVITE sip:alice@192.0.2.10 SIP/2.0', {
        from: bobFrom,
        to: aliceTo,
        cseq: '1 INVITE',
        body: sdp(BOB, 6000, 'a=sendonly\r\n'),
        ts: 3_000_000,
      }),
      0,
    );
    t.signal(
      sip('INVITE sip:alice@192.0.2.10 SIP/2.0', {
        from: bobFrom,
        to: aliceTo,
        cseq: '2 INVITE',
        body: sdp(BOB, 7000),
        ts: 4_000_000,
      }),
      0,
    );
    const resumed = t.datagram(dg(BOB, 7000, ALICE, 4000, rtp(9)), 0);
    expect(resumed?.map((e) => e.attributes.mediaFrom)).toEqual(['CALLEE']);
    const toNewPort = t.datagram(dg(ALICE, 4000, BOB, 7000, rtp(10), 4_100_000), 0);
    expect(toNewPort?.map((e) => e.attributes.mediaFrom)).toEqual(['CALLER']);
    // The old port still takes in-flight packets for a moment, then no more.
    expect(t.datagram(dg(ALICE, 4002, BOB, 6000, rtp(11), 4_200_000), 0)).toHaveLength(1);
    expect(t.datagram(dg(ALICE, 4002, BOB, 6000, rtp(12), 20_000_000), 0)).toBeNull();
  });

  it('tells RTCP multiplexed on the RTP port (rtcp-mux) from RTP, and marks SRTP', () => {
    const t = new MediaTracker();
    t.signal(
      sip('INVITE sip:+390612345678@example.net SIP/2.0', {
        body: sdp(ALICE, 4000, 'a=rtcp-mux\r\n', 'm=audio 4000 RTP/SAVP 0'),
      }),
      0,
    );
    t.signal(
      sip('SIP/2.0 200 OK', {
        to: `${CALLEE};tag=b2`,
        body: sdp(BOB, 6000, 'a=rtcp-mux\r\n', 'm=audio 6000 RTP/SAVP 0'),
      }),
      0,
    );
    t.tap('c1', TAP, 0);
    const sr = Buffer.from([0x80, 200, 0, 6, 1, 2, 3, 4, 0, 0, 0, 0]); // RTCP SR: PT 200 reads as 72 with the marker bit
    const [e] = t.datagram(dg(BOB, 6000, ALICE, 4000, sr), 0)!;
    expect([e?.action, e?.attributes.payloadType, e?.attributes.srtp]).toEqual(['media.rtcp', undefined, 'true']);
    expect(t.datagram(dg(BOB, 6001, ALICE, 4001, sr), 0)).toBeNull(); // no separate RTCP port with mux
  });

  it('follows UPDATE, several m-lines, IPv6 and T.38 (UDPTL)', () => {
    const t = new MediaTracker();
    const a6 = '2001:db8::a';
    const b6 = '2001:db8::b';
    setUp(t, { alice: [a6, 4000], bob: [b6, 6000] });
    t.tap('c1', TAP, 0);
    const both = (port: number) => `m=audio ${port} RTP/AVP 0\r\nm=image ${port + 100} udptl t38`;
    t.signal(sip('UPDATE sip:b@example.net SIP/2.0', { cseq: '2 UPDATE', body: sdp(a6, 0, '', both(4200)) }), 0);
    t.signal(
      sip('SIP/2.0 200 OK', {
        cseq: '2 UPDATE',
        to: `${CALLEE};tag=b2`,
        body: sdp('2001:DB8:0::b', 0, '', both(6200)),
      }),
      0,
    );
    const fax = t.datagram(dg(b6, 6300, a6, 4300, Buffer.from('udptl')), 0);
    expect(fax?.map((e) => [e.action, e.attributes.mediaFrom, e.attributes.mline])).toEqual([
      ['media.udptl', 'CALLEE', '1'],
    ]);
    expect(t.datagram(dg(a6, 4200, b6, 6200, rtp(1)), 0)?.[0]?.attributes.mediaFrom).toBe('CALLER');
  });

  it('ends a call at BYE after a short linger, and never merges a later call reusing the endpoints', () => {
    const t = new MediaTracker({ lingerMicros: 1_000_000 });
    setUp(t);
    t.tap('c1', TAP, 0);
    t.signal(sip('BYE sip:b@example.net SIP/2.0', { cseq: '2 BYE', ts: 10_000_000 }), 0);
    expect(t.datagram(dg(ALICE, 4000, BOB, 6000, rtp(1), 10_500_000), 0)).toHaveLength(1); // late RTP
    t.tick(12_000_000, 0);
    expect(t.datagram(dg(ALICE, 4000, BOB, 6000, rtp(2), 12_000_000), 0)).toBeNull();
    // c2's BYE is lost; c3 then uses the same addresses and ports (and the same o= line).
    setUp(t, { callId: 'c2' });
    setUp(t, { callId: 'c3' });
    t.tap('c2', TAP, 0);
    expect(t.datagram(dg(ALICE, 4000, BOB, 6000, rtp(3), 12_100_000), 0)).toEqual([]); // c3's, not tapped
    t.tap('c3', TAP, 0);
    expect(t.datagram(dg(ALICE, 4000, BOB, 6000, rtp(4), 12_200_000), 0)?.[0]?.communicationId).toBe('c3');
  });

  it('expires a call whose BYE was lost once neither SIP nor media came for the idle time', () => {
    const t = new MediaTracker({ idleMicros: 5_000_000, pendingMs: 0 });
    setUp(t);
    t.tap('c1', TAP, 0);
    t.tick(7_000_000, 10);
    expect(t.stats()).toMatchObject({ calls: 0, endpoints: 0, callsExpired: 1 });
    expect(t.datagram(dg(ALICE, 4000, BOB, 6000, rtp(1), 7_000_000), 10)).toBeNull();
  });

  it('stops tapping when the tap is withdrawn (warrant ended)', () => {
    const t = new MediaTracker({ pendingMs: 0 });
    setUp(t);
    t.tap('c1', TAP, 0);
    expect(t.datagram(dg(ALICE, 4000, BOB, 6000, rtp(1)), 10)).toHaveLength(1);
    t.tap('c1', null, 10);
    expect(t.datagram(dg(ALICE, 4000, BOB, 6000, rtp(2)), 10)).toEqual([]);
  });
});
