import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collector } from '../../testing/decoder-kit.ts';
import { invite, request, response } from '../../testing/sip-messages.ts';
import type { DecodedEvent } from '../stream.ts';
import { createSipStreamDecoder, SipFramer, sipDatagramHandler } from './decoder.ts';
import { MAX_BODY_BYTES, MAX_HEADER_BYTES } from './message.ts';

const flow = {
  transport: 'tcp' as const,
  clientAddress: '10.0.0.1',
  clientPort: 40000,
  serverAddress: '10.0.0.2',
  serverPort: 5060,
};

function collect() {
  const sink = collector();
  return { events: sink.events, problems: sink.problems, sink };
}

function splitAt(b: Buffer, cuts: number[]): Buffer[] {
  const pts = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let at = 0;
  for (const p of pts) {
    out.push(b.subarray(at, p));
    at = p;
  }
  out.push(b.subarray(at));
  return out;
}

describe('SIP events', () => {
  it('maps an INVITE to a SIGNALS event with parties and the MCID headers', () => {
    const { events, sink } = collect();
    const d = createSipStreamDecoder(flow, sink);
    d.data('toServer', invite(), 123);
    expect(events).toHaveLength(1);
    const e = events[0] as DecodedEvent;
    expect(e).toMatchObject({
      category: 'SIGNALS',
      action: 'sip.invite',
      occurredAtMicros: 123,
      protocol: 'SIP',
      communicationId: 'call-1@192.0.2.10',
      contentType: 'application/sip',
      network: { transport: 'tcp', srcAddress: '10.0.0.1', srcPort: 40000, dstAddress: '10.0.0.2', dstPort: 5060 },
    });
    expect(e.content?.equals(invite())).toBe(true);
    expect(e.parties).toEqual([
      { role: 'CALLER', type: 'SIP_URI', value: 'sip:alice@example.com' },
      { role: 'CALLER', type: 'SIP_URI', value: 'sip:+441632960001@operator.example' },
      { role: 'CALLER', type: 'E164', value: '+441632960001' },
      { role: 'CALLER', type: 'TEL_URI', value: 'tel:+441632960001' },
      { role: 'CALLEE', type: 'TEL_URI', value: 'tel:+390612345678' },
      { role: 'CALLEE', type: 'E164', value: '+390612345678' },
      { role: 'CALLEE', type: 'SIP_URI', value: 'sip:+390612345678@ims.example.net' },
    ]);
    expect(e.attributes).toMatchObject({
      method: 'INVITE',
      'request-uri': 'sip:+390612345678@ims.example.net;user=phone',
      to: '<tel:+39-06-1234-5678>',
      from: '"Alice, A." <sip:alice@Example.COM:5070>;tag=a1',
      pai: '<sip:+441632960001@operator.example;user=phone>, <tel:+441632960001>',
      contact: '<sip:alice@192.0.2.10:5060;transport=tcp>',
      'history-info': '<sip:bob@example.net>;index=1',
      'referred-by': '<sip:carol@example.org>',
      privacy: 'id',
      'call-id': 'call-1@192.0.2.10',
      cseq: '1 INVITE',
    });
    expect(e.attributes.reinvite).toBeUndefined();
  });

  it('marks re-INVITEs, carries REGISTER expiry and response status', () => {
    const { events, sink } = collect();
    const d = createSipStreamDecoder(flow, sink);
    d.data('toServer', request('INVITE'), 1);
    d.data('toServer', request('REGISTER', 'Contact: <sip:alice@192.0.2.10>;expires=600\r\nExpires: 3600\r\n'), 2);
    d.data('toServer', request('REGISTER', 'Contact: <sip:alice@192.0.2.10>\r\nExpires: 0\r\n'), 3);
    d.data('toClient', response(486, 'Busy Here', 'c2', 'INVITE'), 4);
    d.data('toServer', Buffer.concat([request('ACK'), request('BYE'), request('CANCEL'), request('MESSAGE')]), 5);
    expect(events.map((e) => e.action)).toEqual([
      'sip.invite',
      'sip.register',
      'sip.register',
      'sip.response',
      'sip.ack',
      'sip.bye',
      'sip.cancel',
      'sip.message',
    ]);
    expect(events[0]?.attributes.reinvite).toBe('true');
    expect(events[1]?.attributes.expires).toBe('600');
    expect(events[2]?.attributes.expires).toBe('0');
    expect(events[3]?.attributes).toMatchObject({ status: '486', method: 'INVITE', 'call-id': 'c2' });
    expect(events[3]?.network?.srcPort).toBe(5060);
    expect(events[3]?.parties.map((p) => p.role)).toEqual(['CALLER', 'CALLEE', 'CALLEE']);
  });
});

describe('SIP instance IDs', () => {
  it('takes each Contact +sip.instance (RFC 5626) as a SIP_INSTANCE party of the device that sent it', () => {
    const { events, sink } = collect();
    const d = createSipStreamDecoder(flow, sink);
    const phone = '"<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>"';
    const ims = '"<urn:gsma:imei:35209900-176148-1>"';
    const contacts = `Contact: <sip:alice@192.0.2.10>;+sip.instance=${phone};reg-id=1, <sip:alice@198.51.100.7>;+sip.instance=${ims}\r\n`;
    d.data('toServer', request('REGISTER', contacts), 1);
    d.data('toServer', request('INVITE', `Contact: <sip:alice@192.0.2.10>;+sip.instance=${phone}\r\n`), 2);
    const answer = response(200, 'OK', 'c3', 'INVITE')
      .toString()
      .replace('CSeq:', `Contact: <sip:bob@203.0.113.5>;+sip.instance=${ims}\r\nCSeq:`);
    d.data('toClient', Buffer.from(answer), 3);
    const instances = (e: DecodedEvent | undefined) => e?.parties.filter((p) => p.type === 'SIP_INSTANCE');
    expect(instances(events[0])).toEqual([
      { role: 'CALLER', type: 'SIP_INSTANCE', value: phone },
      { role: 'CALLER', type: 'SIP_INSTANCE', value: ims },
    ]);
    expect(instances(events[1])).toEqual([{ role: 'CALLER', type: 'SIP_INSTANCE', value: phone }]);
    expect(instances(events[2])).toEqual([{ role: 'CALLEE', type: 'SIP_INSTANCE', value: ims }]);
  });
});

describe('SIP stream framing', () => {
  const stream = Buffer.concat([
    invite(),
    Buffer.from('\r\n\r\n'), // keepalive
    response(100, 'Trying'),
    response(180, 'Ringing'),
    invite({ callId: 'second', body: 'x'.repeat(3000) }),
    request('BYE'),
  ]);

  it('emits the same messages however the stream is cut', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
        const raws: string[] = [];
        const problems: string[] = [];
        const f = new SipFramer(
          (raw) => raws.push(raw.toString()),
          (code) => problems.push(code),
        );
        for (const part of splitAt(stream, cuts)) f.push(part, 0);
        f.end();
        expect(problems).toEqual([]);
        expect(raws).toEqual(
          [
            invite(),
            response(100, 'Trying'),
            response(180, 'Ringing'),
            invite({ callId: 'second', body: 'x'.repeat(3000) }),
            request('BYE'),
          ].map((b) => b.toString()),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('resynchronises on the next start line after a gap or junk', () => {
    const raws: string[] = [];
    const problems: string[] = [];
    const f = new SipFramer(
      (raw) => raws.push(raw.toString()),
      (code) => problems.push(code),
    );
    const inv = invite();
    f.push(inv.subarray(0, 100), 0);
    f.gap(50);
    f.push(inv.subarray(150), 0);
    f.push(response(200, 'OK'), 0);
    f.push(Buffer.from('garbage line\r\nmore\r\n\r\n'), 0);
    f.push(request('BYE'), 0);
    expect(raws).toEqual([response(200, 'OK').toString(), request('BYE').toString()]);
    expect(problems).toContain('ING_ERR_SIP_GAP');
    expect(problems).toContain('ING_ERR_SIP_START_LINE');
  });

  it('reports a gap that falls between whole messages: a message there was never seen', () => {
    const raws: string[] = [];
    const problems: string[] = [];
    const f = new SipFramer(
      (raw) => raws.push(raw.toString()),
      (code) => problems.push(code),
    );
    f.push(response(180, 'Ringing'), 0);
    f.gap(response(200, 'OK').length);
    f.push(request('BYE'), 0);
    expect(raws).toEqual([response(180, 'Ringing').toString(), request('BYE').toString()]);
    expect(problems).toEqual(['ING_ERR_SIP_GAP']);
  });

  it('frames a 64 KB header sent one octet per segment with linear work', () => {
    const raws: Buffer[] = [];
    const problems: string[] = [];
    const f = new SipFramer(
      (raw) => raws.push(raw),
      (code) => problems.push(code),
    );
    const pad = `X-Pad: ${'a'.repeat(70)}\r\n`;
    const head = 'MESSAGE sip:b@example.com SIP/2.0\r\nCall-ID: big@x\r\n';
    const msg = Buffer.from(
      `${head}${pad.repeat(Math.floor((MAX_HEADER_BYTES - 200) / pad.length))}Content-Length: 2\r\n\r\nhi`,
    );
    expect(msg.length).toBeGreaterThan(60 * 1024);
    for (let i = 0; i < msg.length; i++) f.push(msg.subarray(i, i + 1), 0);
    expect(problems).toEqual([]);
    expect(raws).toHaveLength(1);
    expect(raws[0]?.equals(msg)).toBe(true);
    // Rescanning the buffer on every segment would examine ~msg.length²/2 octets.
    expect(f.scannedBytes).toBeLessThanOrEqual(3 * msg.length);
  });

  it('caps a header section that never ends, fed 1 MB one octet at a time, with linear work', () => {
    const raws: Buffer[] = [];
    const problems: string[] = [];
    const f = new SipFramer(
      (raw) => raws.push(raw),
      (code) => problems.push(code),
    );
    const line = `X-Pad: ${'a'.repeat(70)}\r\n`;
    const junk = Buffer.from(`INVITE sip:b@example.com SIP/2.0\r\n${line.repeat(Math.ceil((1 << 20) / line.length))}`);
    let maxBuffered = 0;
    for (let i = 0; i < junk.length; i++) {
      f.push(junk.subarray(i, i + 1), 0);
      maxBuffered = Math.max(maxBuffered, f.bufferedBytes);
    }
    expect(problems).toEqual(['ING_ERR_SIP_TOO_LARGE']);
    expect(maxBuffered).toBeLessThanOrEqual(MAX_HEADER_BYTES + 1);
    expect(f.scannedBytes).toBeLessThanOrEqual(3 * junk.length);
    // The framer found its feet again: the next message is framed.
    f.push(request('BYE'), 0);
    expect(raws.map((r) => r.toString())).toEqual([request('BYE').toString()]);
  });

  it('skips oversized bodies without buffering them', () => {
    const raws: string[] = [];
    const problems: string[] = [];
    const f = new SipFramer(
      (raw) => raws.push(raw.toString()),
      (code) => problems.push(code),
    );
    const big = MAX_BODY_BYTES + 10;
    f.push(Buffer.from(`MESSAGE sip:a@b SIP/2.0\r\nContent-Length: ${big}\r\n\r\n`), 0);
    for (let sent = 0; sent < big; sent += 1 << 20) f.push(Buffer.alloc(Math.min(1 << 20, big - sent), 0x61), 0);
    expect(f.bufferedBytes).toBe(0);
    f.push(request('BYE'), 0);
    expect(raws).toEqual([request('BYE').toString()]);
    expect(problems).toEqual(['ING_ERR_SIP_TOO_LARGE']);
  });

  it('stays bounded and never throws on random or mutated streams', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a)),
            fc.constant(invite()),
            fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, v]) => {
              const b = Buffer.from(invite());
              b[at % b.length] = v;
              return b;
            }),
            fc.nat({ max: 1 << 30 }).map((n) => Buffer.from(`SIP/2.0 200 OK\r\nl: ${n}\r\n\r\n`)),
          ),
          { maxLength: 30 },
        ),
        fc.array(fc.nat({ max: 5000 }), { maxLength: 5 }),
        (parts, gaps) => {
          const { sink } = collect();
          const d = createSipStreamDecoder(flow, sink);
          const f = new SipFramer(
            () => {},
            () => {},
          );
          parts.forEach((p, i) => {
            d.data('toServer', p, i);
            f.push(p, i);
            if (gaps.includes(i)) {
              d.gap('toServer', 10, i);
              f.gap(10);
            }
            expect(f.bufferedBytes).toBeLessThanOrEqual(MAX_HEADER_BYTES + MAX_BODY_BYTES + 3000);
          });
          d.end(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('SIP datagrams', () => {
  it('decodes SIP on SIP ports or by start line, ignores keepalives and other UDP', () => {
    const { events, problems, sink } = collect();
    const h = sipDatagramHandler(sink);
    const net = (srcPort: number, dstPort: number) => ({
      transport: 'udp',
      srcAddress: '::1',
      srcPort,
      dstAddress: '::1',
      dstPort,
    });
    h({ tsMicros: 1, network: net(5060, 5060), payload: invite() });
    h({ tsMicros: 2, network: net(31000, 32000), payload: response(200, 'OK') });
    h({ tsMicros: 3, network: net(5060, 5060), payload: Buffer.from('\r\n\r\n') });
    h({ tsMicros: 4, network: net(53, 31000), payload: Buffer.from('dns-ish') });
    h({ tsMicros: 5, network: net(5060, 9), payload: Buffer.from('junk on the SIP port') });
    expect(events.map((e) => e.action)).toEqual(['sip.invite', 'sip.response']);
    expect(events[0]?.network?.transport).toBe('udp');
    expect(problems.map((p) => p.code)).toEqual(['ING_ERR_SIP_START_LINE']);
  });
});

describe('SIP registration as a login (seed 000 Login report, protocol SIP)', () => {
  const registerAnswer = (status: number, reason: string, extra: string) =>
    Buffer.from(
      `SIP/2.0 ${status} ${reason}\r\n` +
        'Via: SIP/2.0/UDP 10.0.0.1:40000;branch=z9hG4bK-r1\r\n' +
        'From: <sip:alice@example.com>;tag=r1\r\n' +
        'To: <sip:alice@example.com>;tag=s1\r\n' +
        'Call-ID: reg-1@10.0.0.1\r\n' +
        'CSeq: 2 REGISTER\r\n' +
        extra +
        'Content-Length: 0\r\n' +
        '\r\n',
    );
  const kinds = (events: DecodedEvent[]) => events.map((e) => `${e.category}:${e.action}`);

  it('gives a LOGIN sip.login for a 200 OK to REGISTER that keeps a binding, from the device address', () => {
    const { events, sink } = collect();
    const d = createSipStreamDecoder(flow, sink);
    d.data('toClient', registerAnswer(200, 'OK', 'Contact: <sip:alice@10.0.0.1:40000>;expires=600\r\n'), 7);
    expect(kinds(events)).toEqual(['SIGNALS:sip.response', 'LOGIN:sip.login']);
    expect(events[1]).toMatchObject({
      protocol: 'SIP',
      occurredAtMicros: 7,
      communicationId: 'reg-1@10.0.0.1',
      network: { srcAddress: '10.0.0.1', srcPort: 40000, dstAddress: '10.0.0.2', dstPort: 5060 },
      attributes: { method: 'REGISTER', result: 'success', status: '200' },
    });
    expect(events[1]?.parties).toContainEqual({ role: 'ACCOUNT', type: 'SIP_URI', value: 'sip:alice@example.com' });
  });

  it('gives no login for a challenge, a refusal, a de-registration or a bindings query', () => {
    const { events, sink } = collect();
    const handle = sipDatagramHandler(sink);
    const net = {
      transport: 'udp' as const,
      srcAddress: '10.0.0.2',
      srcPort: 5060,
      dstAddress: '10.0.0.1',
      dstPort: 40000,
    };
    const answers = [
      registerAnswer(401, 'Unauthorized', 'WWW-Authenticate: Digest realm="example.com", nonce="n1"\r\n'),
      registerAnswer(403, 'Forbidden', ''),
      registerAnswer(200, 'OK', 'Contact: <sip:alice@10.0.0.1:40000>;expires=0\r\n'),
      registerAnswer(200, 'OK', 'Contact: <sip:alice@10.0.0.1:40000>\r\nExpires: 0\r\n'),
      registerAnswer(200, 'OK', ''),
      response(200, 'OK', 'call-9', 'OPTIONS'),
    ];
    for (const payload of answers) handle({ network: net, payload, tsMicros: 1 });
    expect(events.every((e) => e.category === 'SIGNALS')).toBe(true);
    expect(events).toHaveLength(answers.length);
    handle({
      network: net,
      payload: registerAnswer(200, 'OK', 'Contact: <sip:alice@10.0.0.1:40000>\r\nExpires: 3600\r\n'),
      tsMicros: 2,
    });
    expect(kinds(events).at(-1)).toBe('LOGIN:sip.login');
    // the device as the registrar saw it (Via received/rport), not the mirror the copy came from
    const natted = registerAnswer(200, 'OK', 'Contact: <sip:alice@10.0.0.1:40000>;expires=60\r\n')
      .toString()
      .replace('10.0.0.1:40000;branch', '10.0.0.1:40000;received=203.0.113.5;rport=61000;branch');
    handle({ network: net, payload: Buffer.from(natted), tsMicros: 3 });
    expect(events.at(-1)?.network).toEqual({
      transport: 'udp',
      srcAddress: '203.0.113.5',
      srcPort: 61000,
      dstAddress: '10.0.0.2',
      dstPort: 5060,
    });
  });
});
