import { describe, expect, it } from 'vitest';
import { addressKey, parseSdp } from './sdp.ts';

const sdp = (...lines: string[]) => `${lines.join('\r\n')}\r\n`;

describe('parseSdp', () => {
  it('reads audio with the session address, RTCP on port+1', () => {
    const m = parseSdp(
      sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0', 'm=audio 49170 RTP/AVP 0 8'),
    );
    expect(m).toEqual([
      {
        index: 0,
        media: 'audio',
        proto: 'RTP/AVP',
        port: 49170,
        address: addressKey('192.0.2.10'),
        rtcpPort: 49171,
        srtp: false,
        kind: 'rtp',
        direction: 'sendrecv',
      },
    ]);
  });

  it('reads several m-lines with their own c=, a=rtcp, rtcp-mux, SRTP, T.38 and directions', () => {
    const m = parseSdp(
      sdp(
        'v=0',
        'o=- 1 1 IN IP6 2001:db8::1',
        's=-',
        'c=IN IP6 2001:DB8:0:0::1',
        'a=sendonly',
        'm=audio 4000 RTP/SAVP 0',
        'a=rtcp:4005 IN IP6 2001:db8::1',
        'm=video 5000 RTP/AVPF 96',
        'c=IN IP4 198.51.100.7/127',
        'a=rtcp-mux',
        'a=recvonly',
        'm=image 6000 udptl t38',
        'm=audio 0 RTP/AVP 0',
        'm=message 7000 TCP/MSRP *',
      ),
    );
    expect(m.map((x) => [x.index, x.kind, x.port, x.rtcpPort, x.srtp, x.direction])).toEqual([
      [0, 'rtp', 4000, 4005, true, 'sendonly'],
      [1, 'rtp', 5000, null, false, 'recvonly'],
      [2, 'udptl', 6000, null, false, 'sendonly'],
      [3, 'rtp', 0, null, false, 'sendonly'],
      [4, 'other', 7000, null, false, 'sendonly'],
    ]);
    expect(m[0]?.address).toBe(addressKey('2001:db8::1'));
    expect(m[1]?.address).toBe(addressKey('198.51.100.7'));
  });

  it('takes c=0.0.0.0 (RFC 2543 hold) as no address, and survives garbage', () => {
    expect(parseSdp(sdp('v=0', 'c=IN IP4 0.0.0.0', 'm=audio 4000 RTP/AVP 0'))[0]?.address).toBeNull();
    expect(parseSdp('not sdp at all')).toEqual([]);
    expect(parseSdp(sdp('v=0', 'm=audio 99999 RTP/AVP 0', 'm=audio x RTP/AVP', 'c=IN', 'a=rtcp:'))).toEqual([]);
  });

  it('gives the same key to every spelling of an address', () => {
    expect(addressKey('2001:db8::1')).toBe(addressKey('2001:0DB8:0000::0001'));
    expect(addressKey('2001:0DB8:0000::0001')).toBe('2001:db8::1');
    expect(addressKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('::')).toBeNull();
    expect(addressKey('nope')).toBeNull();
  });
});
