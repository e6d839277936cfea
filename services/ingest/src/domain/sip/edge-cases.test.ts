import { describe, expect, it } from 'vitest';
import { collector } from '../../testing/decoder-kit.ts';
import { sipDatagramHandler } from './decoder.ts';
import { uriIdentities } from './uri.ts';

const network = { transport: 'udp', srcAddress: '10.0.0.1', srcPort: 5060, dstAddress: '10.0.0.2', dstPort: 5060 };

function decode(text: string) {
  const sink = collector();
  sipDatagramHandler(sink)({ tsMicros: 1, network, payload: Buffer.from(text, 'utf8') });
  expect(sink.problems).toEqual([]);
  return sink.events;
}

const common = 'Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-1\r\nCall-ID: e1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n';

describe('SIP edge cases seen on real traffic', () => {
  it('keeps the last group of an IPv6 host written without brackets', () => {
    expect(uriIdentities('sip:alice@2001:db8::0:1')).toEqual([{ type: 'SIP_URI', value: 'sip:alice@[2001:db8::1]' }]);
    expect(uriIdentities('sip:alice@2001:db8:1:2:3:4:5:6')).toEqual([
      { type: 'SIP_URI', value: 'sip:alice@[2001:db8:1:2:3:4:5:6]' },
    ]);
    expect(uriIdentities('sip:alice@[2001:db8::1]:5061')).toEqual([
      { type: 'SIP_URI', value: 'sip:alice@[2001:db8::1]' },
    ]);
    expect(uriIdentities('sip:alice@example.com:5061')).toEqual([{ type: 'SIP_URI', value: 'sip:alice@example.com' }]);
    expect(uriIdentities('sip:alice@not:an:address')).toEqual([]);
  });

  it("keeps the identity when the user part holds a '?', and still cuts URI headers", () => {
    expect(uriIdentities('sip:who?me@example.com')).toEqual([{ type: 'SIP_URI', value: 'sip:who?me@example.com' }]);
    expect(uriIdentities('sip:bob@example.com?Subject=lunch@noon')).toEqual([
      { type: 'SIP_URI', value: 'sip:bob@example.com' },
    ]);
  });

  it('keeps a method name longer than 32 characters', () => {
    const method = 'X-VENDOR-PROPRIETARY-PRESENCE-REFRESH-EXT';
    expect(method.length).toBeGreaterThan(32);
    const [e] = decode(`${method} sip:bob@example.net SIP/2.0\r\n${common}\r\n`);
    expect(e?.action).toBe(`sip.${method.toLowerCase()}`);
    expect(e?.attributes?.method).toBe(method);
  });

  it("keeps a method holding a '.' one action segment", () => {
    const [e] = decode(`X.EXT sip:bob@example.net SIP/2.0\r\n${common}\r\n`);
    expect(e?.action).toBe('sip.x_ext');
    expect(e?.attributes?.method).toBe('X.EXT');
  });

  it('reads a UTF-8 reason phrase as UTF-8', () => {
    const [e] = decode(`SIP/2.0 486 Occupé – 忙しい\r\n${common}\r\n`);
    expect(e?.attributes?.reason).toBe('Occupé – 忙しい');
  });

  it('takes identities from P-Preferred-Identity and Remote-Party-ID', () => {
    const [e] = decode(
      'INVITE sip:+390612345678@ims.example.net SIP/2.0\r\n' +
        'From: <sip:anonymous@anonymous.invalid>;tag=1\r\nTo: <sip:+390612345678@ims.example.net>\r\n' +
        'P-Preferred-Identity: <sip:carol@example.org>, <tel:+441632960002>\r\n' +
        'Remote-Party-ID: "Dan" <sip:dan@example.org>;party=calling;screen=yes;privacy=off\r\n' +
        'Remote-Party-ID: <sip:erin@example.net>;party=called\r\n' +
        `${common}\r\n`,
    );
    const ids = (role: string) => e?.parties.filter((p) => p.role === role).map((p) => `${p.type}:${p.value}`);
    expect(ids('CALLER')).toEqual(
      expect.arrayContaining([
        'SIP_URI:sip:carol@example.org',
        'TEL_URI:tel:+441632960002',
        'E164:+441632960002',
        'SIP_URI:sip:dan@example.org',
      ]),
    );
    expect(ids('CALLEE')).toContain('SIP_URI:sip:erin@example.net');
    expect(ids('CALLER')).not.toContain('SIP_URI:sip:erin@example.net');
  });
});
