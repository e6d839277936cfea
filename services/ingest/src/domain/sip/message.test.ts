import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { invite, request, response } from '../../testing/sip-messages.ts';
import {
  contentLength,
  findHeaderEnd,
  header,
  headerAll,
  parseMessage,
  type SipMessage,
  scanContentLength,
  splitValues,
} from './message.ts';

function ok(b: Buffer): SipMessage {
  const r = parseMessage(b);
  if (!r.ok) throw new Error(r.reason);
  return r.message;
}

describe('SIP message parser', () => {
  it('parses a request with compact forms, folding, multiple Via and a body', () => {
    const m = ok(invite());
    expect(m.start).toEqual({
      kind: 'request',
      method: 'INVITE',
      uri: 'sip:+390612345678@ims.example.net;user=phone',
      version: '2.0',
    });
    expect(header(m, 'call-id')).toBe('call-1@192.0.2.10');
    expect(header(m, 'from')).toBe('"Alice, A." <sip:alice@Example.COM:5070>;tag=a1');
    expect(headerAll(m, 'via').flatMap(splitValues)).toHaveLength(3);
    expect(splitValues(header(m, 'p-asserted-identity') ?? '')).toEqual([
      '<sip:+441632960001@operator.example;user=phone>',
      '<tel:+441632960001>',
    ]);
    expect(m.body.toString()).toMatch(/^v=0\r\n/);
    expect(m.raw.equals(invite())).toBe(true);
  });

  it('parses responses and tolerates bare LF, odd case and missing Content-Length', () => {
    const m = ok(Buffer.from('sip/2.0 180 Ringing\nCALL-id: x\nto:<sip:b@h>\n\n'));
    expect(m.start).toEqual({ kind: 'response', status: 180, reason: 'Ringing', version: '2.0' });
    expect(header(m, 'call-id')).toBe('x');
    expect(header(m, 'to')).toBe('<sip:b@h>');
    expect(ok(response(200, 'OK')).start).toMatchObject({ status: 200 });
  });

  it('cuts a datagram body to Content-Length', () => {
    const m = ok(
      Buffer.concat([
        request('MESSAGE', 'Content-Type: text/plain\r\n').subarray(0, -21),
        Buffer.from('Content-Length: 2\r\n\r\nhi-extra'),
      ]),
    );
    expect(m.body.toString()).toBe('hi');
  });

  it('scans Content-Length like the full parser does', () => {
    const msgs = [
      invite(),
      response(180, 'Ringing'),
      request('BYE'),
      Buffer.from('SIP/2.0 200 OK\r\nCall-ID: x\r\n\r\n'),
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...msgs),
        fc.constantFrom('l', 'Content-Length', 'content-LENGTH', 'Contact'),
        fc.nat({ max: 99999 }),
        (m, name, n) => {
          const text = m.toString('latin1').replace(/^(Content-Length|l): \d+\r\n/im, '');
          const withCl = Buffer.from(text.replace('\r\n', `\r\n${name}: ${n}\r\n`), 'latin1');
          const end = findHeaderEnd(withCl);
          const r = parseMessage(withCl.subarray(0, end));
          expect(r.ok).toBe(true);
          if (r.ok) expect(scanContentLength(withCl, end)).toEqual(contentLength(r.message.headers));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rejects what is not SIP with a code', () => {
    expect(parseMessage(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))).toMatchObject({
      ok: false,
      code: 'ING_ERR_SIP_START_LINE',
    });
    expect(parseMessage(Buffer.alloc(0))).toMatchObject({ ok: false });
  });

  it('never throws on random or mutated input', () => {
    const base = invite();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 30 }).map((muts) => {
            const b = Buffer.from(base);
            for (const [at, v] of muts) b[at % b.length] = v;
            return b;
          }),
          fc.string({ maxLength: 500 }).map((s) => Buffer.from(`INVITE sip:a@b SIP/2.0\r\n${s}`)),
        ),
        (b) => {
          const r = parseMessage(b);
          if (r.ok) expect(r.message.raw.length).toBeLessThanOrEqual(b.length);
          else expect(r.code).toMatch(/^ING_ERR_SIP_/);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
