import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collector, replay, type Step } from '../../testing/decoder-kit.ts';
import { tcpSessionPcap } from '../../testing/tcp-session.ts';
import { createCapture } from '../capture/capture.ts';
import { CaptureReader } from '../capture/pcap.ts';
import { xmppDecoderFactory } from './xmpp.ts';

const open = (to: string) =>
  `<?xml version='1.0'?><stream:stream to='${to}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`;
const serverOpen =
  "<?xml version='1.0'?><stream:stream from='example.org' id='s1' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
const plain = Buffer.from('\0juliet\0r0m30myr0m30').toString('base64');

const saslSession: Step[] = [
  ['C', open('example.org')],
  [
    'S',
    `${serverOpen}<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`,
  ],
  ['C', `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain}</auth>`],
  ['S', "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"],
  // Stream restart after SASL (RFC 6120 §6.4.6): a new declaration and stream header.
  ['C', open('example.org')],
  ['S', `${serverOpen}<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`],
  [
    'C',
    "<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>balcony</resource></bind></iq>",
  ],
  [
    'S',
    "<iq type='result' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>juliet@example.org/balcony</jid></bind></iq>",
  ],
  [
    'C',
    "<message to='Romeo@Example.net/orchard' type='chat' id='m1'><body>Art thou not Romeo, &amp; a Montague? ☀</body></message>",
  ],
  [
    'S',
    "<message from='romeo@example.net/orchard' to='juliet@example.org/balcony' type='chat'><body><![CDATA[Neither, fair saint <3]]></body></message>",
  ],
  [
    'S',
    "<message from='romeo@example.net/orchard' to='juliet@example.org/balcony'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>",
  ],
  ['C', '</stream:stream>'],
  ['S', '</stream:stream>'],
];

describe('XMPP client sessions', () => {
  it('reports SASL PLAIN login, messages both ways and logout (seed 000 Login over XMPP)', () => {
    const { events, problems } = replay(xmppDecoderFactory(), 5222, saslSession);
    expect(problems).toEqual([]);
    expect(events.map((e) => `${e.category}:${e.action}`)).toEqual([
      'LOGIN:xmpp.login',
      'SIGNALS:xmpp.message',
      'SIGNALS:xmpp.message',
      'LOGIN:xmpp.logout',
    ]);
    expect(events[0]?.parties).toEqual([{ role: 'ACCOUNT', type: 'MAIL_ACCOUNT', value: 'juliet@example.org' }]);
    expect(events[0]?.attributes).toEqual({ method: 'SASL PLAIN', result: 'success' });
    expect(events[0]?.protocol).toBe('XMPP');
    expect(JSON.stringify(events)).not.toContain('r0m30');
    expect(events[1]?.parties).toEqual([
      { role: 'SENDER', type: 'EMAIL', value: 'juliet@example.org' },
      { role: 'RECIPIENT', type: 'EMAIL', value: 'romeo@example.net' },
    ]);
    expect(events[1]?.content?.toString('utf8')).toBe('Art thou not Romeo, & a Montague? ☀');
    expect(events[1]?.attributes).toEqual({ direction: 'sent', type: 'chat', id: 'm1' });
    expect(events[2]?.content?.toString()).toBe('Neither, fair saint <3');
    expect(events[2]?.attributes?.direction).toBe('received');
  });

  it('is independent of segmentation (a UTF-8 character or a tag split anywhere)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(400), { maxLength: 6 }), (cuts) => {
        const { events, problems } = replay(xmppDecoderFactory(), 5222, saslSession, () => cuts);
        expect(problems).toEqual([]);
        expect(events.map((e) => e.action)).toEqual(['xmpp.login', 'xmpp.message', 'xmpp.message', 'xmpp.logout']);
        expect(events[1]?.content?.toString('utf8')).toBe('Art thou not Romeo, & a Montague? ☀');
      }),
      { numRuns: 100 },
    );
  });

  it('reports legacy iq:auth (XEP-0078) logins, failures, and a session closed without logout', () => {
    const { events } = replay(xmppDecoderFactory(), 5222, [
      ['C', "<stream:stream to='example.com' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"],
      [
        'S',
        "<stream:stream from='example.com' id='x' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
      ],
      [
        'C',
        "<iq type='set' id='auth1'><query xmlns='jabber:iq:auth'><username>bill</username><password>wrong</password><resource>Work</resource></query></iq>",
      ],
      [
        'S',
        "<iq type='error' id='auth1'><error code='401' type='auth'><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
      ],
      [
        'C',
        "<iq type='set' id='auth2'><query xmlns='jabber:iq:auth'><username>bill</username><password>Calli0pe</password><resource>Work</resource></query></iq>",
      ],
      ['S', "<iq type='result' id='auth2'/>"],
    ]);
    expect(events.map((e) => `${e.action}:${e.parties[0]?.value}`)).toEqual([
      'xmpp.login.failed:bill@example.com',
      'xmpp.login:bill@example.com',
      'xmpp.closed:bill@example.com',
    ]);
    expect(JSON.stringify(events)).not.toContain('Calli0pe');
  });

  it('reports a SASL failure and stops at STARTTLS', () => {
    const { events } = replay(xmppDecoderFactory(), 5222, [
      ['C', open('example.org')],
      ['C', `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain}</auth>`],
      ['S', `${serverOpen}<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>`],
      ['C', "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"],
      ['S', "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"],
      ['C', Buffer.from([0x16, 3, 1, 0, 5, 1, 2, 3, 4, 5])],
    ]);
    expect(events.map((e) => e.action)).toEqual(['xmpp.login.failed', 'xmpp.starttls']);
  });

  it('stays bounded and never throws on random or hostile input', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 200 }), { maxLength: 10 }), (chunks) => {
        const steps: Step[] = chunks.map((c, i) => [i % 2 ? 'S' : 'C', c]);
        replay(xmppDecoderFactory(), 5222, steps);
      }),
      { numRuns: 300 },
    );
    const { problems } = replay(xmppDecoderFactory(), 5222, [
      ['C', open('x')],
      ['C', `<message><body>${'a'.repeat(1_100_000)}`],
    ]);
    expect(problems.map((p) => p.code)).toEqual(['ING_ERR_LINE_TOO_LONG']);
  });

  it('is decoded from a pcap through the capture path, cut into small segments', () => {
    const pcap = tcpSessionPcap(saslSession, { serverPort: 5222, mss: 37 });
    const sink = collector();
    const cap = createCapture({ factories: [xmppDecoderFactory()], sink });
    expect(new CaptureReader().push(pcap, (p) => cap.packet(p))).toBeNull();
    cap.end();
    expect(sink.problems).toEqual([]);
    expect(sink.events.map((e) => e.action)).toEqual(['xmpp.login', 'xmpp.message', 'xmpp.message', 'xmpp.logout']);
    expect(sink.events[0]?.network).toMatchObject({ srcAddress: '192.0.2.10', dstPort: 5222 });
  });
});
