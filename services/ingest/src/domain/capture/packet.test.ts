import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ethernet, ipPacket, linuxSll, linuxSll2, tcpSegment, udpDatagram } from '../../testing/packets.ts';
import { decodeLink, formatIpv6, parseIp, parseTcp, parseUdp, TCP_ACK } from './packet.ts';
import { LINKTYPE } from './pcap.ts';

const udp = (src: string, dst: string) =>
  ipPacket(src, dst, 17, udpDatagram({ src, dst, srcPort: 5060, dstPort: 5070, payload: Buffer.from('hi') }));

describe('link layer', () => {
  it('finds the IP packet behind Ethernet, 802.1Q, QinQ, SLL, SLL2 and raw', () => {
    const ip = udp('10.0.0.1', '10.0.0.2');
    const cases: [number, Buffer][] = [
      [LINKTYPE.ETHERNET, ethernet(ip)],
      [LINKTYPE.ETHERNET, ethernet(ip, [100])],
      [LINKTYPE.ETHERNET, ethernet(ip, [200, 300])],
      [LINKTYPE.LINUX_SLL, linuxSll(ip)],
      [LINKTYPE.LINUX_SLL2, linuxSll2(ip)],
      [LINKTYPE.RAW, ip],
    ];
    for (const [lt, frame] of cases) {
      const r = decodeLink(lt, frame);
      expect(r.ok && r.ip?.equals(ip)).toBe(true);
    }
  });

  it('skips non-IP frames and rejects unknown link types', () => {
    const arp = Buffer.concat([Buffer.alloc(12), Buffer.from([0x08, 0x06]), Buffer.alloc(28)]);
    expect(decodeLink(LINKTYPE.ETHERNET, arp)).toMatchObject({ ok: true, ip: null });
    expect(decodeLink(999, arp)).toMatchObject({ ok: false, code: 'ING_ERR_LINK_TYPE' });
  });
});

describe('IP', () => {
  it('formats IPv6 as RFC 5952 text, matching the WHATWG URL serializer', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(0, 0, 0, 1, 0xabc, 0xffff), { minLength: 8, maxLength: 8 }), (groups) => {
        const b = Buffer.alloc(16);
        groups.forEach((g, i) => {
          b.writeUInt16BE(g, i * 2);
        });
        const ours = formatIpv6(b, 0);
        expect(`[${ours}]`).toBe(new URL(`http://[${ours}]/`).hostname);
        expect(new URL(`http://[${groups.map((g) => g.toString(16)).join(':')}]/`).hostname).toBe(`[${ours}]`);
      }),
      { numRuns: 300 },
    );
  });

  it('walks IPv6 extension headers to the upper layer', () => {
    const seg = tcpSegment({
      src: '::1',
      dst: '::2',
      srcPort: 1,
      dstPort: 2,
      seq: 5,
      flags: TCP_ACK,
      payload: Buffer.from('x'),
    });
    const plain = ipPacket('2001:db8::1', '2001:db8::2', 6, seg);
    // Insert hop-by-hop (8 bytes) and destination options (16 bytes) before TCP.
    const hop = Buffer.from([60, 0, 1, 4, 0, 0, 0, 0]);
    const dst = Buffer.from([6, 1, 1, 12, ...new Array(12).fill(0)]);
    const withExt = Buffer.concat([plain.subarray(0, 40), hop, dst, seg]);
    withExt[6] = 0;
    withExt.writeUInt16BE(hop.length + dst.length + seg.length, 4);
    const r = parseIp(withExt);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.packet).toMatchObject({ version: 6, src: '2001:db8::1', dst: '2001:db8::2', protocol: 6, fragment: null });
    const t = parseTcp(r.packet.payload);
    expect(t.ok && t.tcp.payload.toString()).toBe('x');
  });

  it('trims Ethernet padding by IPv4 total length and parses UDP', () => {
    const ip = udp('192.0.2.1', '198.51.100.7');
    const r = parseIp(Buffer.concat([ip, Buffer.alloc(10)]));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.packet.src).toBe('192.0.2.1');
    const u = parseUdp(r.packet.payload);
    expect(u.ok && [u.udp.srcPort, u.udp.dstPort, u.udp.payload.toString()]).toEqual([5060, 5070, 'hi']);
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.constantFrom(0, 1, 101, 113, 276, 7), (a, lt) => {
        const b = Buffer.from(a);
        const l = decodeLink(lt, b);
        if (l.ok && l.ip) {
          const ip = parseIp(l.ip);
          if (ip.ok) {
            parseTcp(ip.packet.payload);
            parseUdp(ip.packet.payload);
          }
        }
        // Random bytes with a valid version nibble exercise the deeper paths more often.
        for (const v of [0x45, 0x60]) {
          const c = Buffer.from(b);
          if (c.length > 0) c[0] = v;
          const ip = parseIp(c);
          if (ip.ok) parseTcp(ip.packet.payload);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
