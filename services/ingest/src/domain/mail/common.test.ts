import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DecodeProblem, Direction } from '../stream.ts';
import { ByteQueue, GuardedDecoder, headerValue, pathAddress, SaslUser } from './common.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('SASL identity extraction', () => {
  it('keeps the authentication identity of each mechanism and nothing else', () => {
    expect(new SaslUser('PLAIN', b64('admin\0alice\0pw')).user).toBe('alice');
    const login = new SaslUser('LOGIN', null);
    login.response(b64('bob'));
    login.response(b64('pw'));
    expect(login.user).toBe('bob');
    expect(new SaslUser('CRAM-MD5', b64('carol 0123456789abcdef0123456789abcdef')).user).toBe('carol');
    expect(new SaslUser('XOAUTH2', b64('user=dave@example.org\x01auth=Bearer tok\x01\x01')).user).toBe(
      'dave@example.org',
    );
    expect(new SaslUser('OAUTHBEARER', b64('n,a=erin@example.org,\x01auth=Bearer tok\x01\x01')).user).toBe(
      'erin@example.org',
    );
    expect(new SaslUser('PLAIN', 'not base64!').user).toBeNull();
    expect(JSON.stringify(new SaslUser('PLAIN', b64('\0alice\0pw')))).not.toContain('pw');
  });
});

describe('ByteQueue', () => {
  it('returns lines and reports (then skips) overlong ones', () => {
    const q = new ByteQueue(8);
    q.push(Buffer.from('ok\r\nthis line is far too long\r\nnext\n'));
    expect(q.nextLine()).toMatchObject({ kind: 'line', text: 'ok' });
    expect(q.nextLine()).toMatchObject({ kind: 'overlong' });
    expect(q.nextLine()).toMatchObject({ kind: 'line', text: 'next' });
    expect(q.nextLine()).toBeNull();
  });

  it('assembles a long line fed one octet at a time (no rescans or re-copies)', () => {
    const q = new ByteQueue(64 * 1024);
    const line = Buffer.from(`${'x'.repeat(60_000)}\r\n`);
    let got = null;
    for (let i = 0; i < line.length; i++) {
      q.push(line.subarray(i, i + 1));
      got = q.nextLine() ?? got;
    }
    expect(got).toMatchObject({ kind: 'line', text: 'x'.repeat(60_000) });
  });

  it('never buffers much more than the line limit without a newline', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 50 }), (chunks) => {
        const q = new ByteQueue(64);
        for (const c of chunks) {
          q.push(Buffer.from(c));
          while (q.nextLine() !== null);
          expect(q.length).toBeLessThanOrEqual(64 + 100);
        }
      }),
    );
  });
});

describe('header helpers', () => {
  it('reads unfolded header values and envelope paths', () => {
    expect(
      headerValue(Buffer.from('Subject: a\r\nMessage-ID:\r\n <x@y>\r\n\r\nMessage-ID: <body>'), 'message-id'),
    ).toBe('<x@y>');
    expect(pathAddress('<a@b.org> SIZE=10')).toBe('a@b.org');
    expect(pathAddress('<>')).toBe('');
  });
});

describe('GuardedDecoder', () => {
  class Throwing extends GuardedDecoder {
    steps = 0;
    protected step(_d: Direction, bytes: Buffer): void {
      this.steps++;
      if (bytes.toString() === 'boom') throw new TypeError('bug');
    }
    gap(): void {}
    end(): void {}
    bufferedBytes(): number {
      return 0;
    }
  }

  it('stops decoding a flow after its decoder throws, and says so once', () => {
    const problems: DecodeProblem[] = [];
    const flow = {
      transport: 'tcp',
      clientAddress: '192.0.2.1',
      clientPort: 1,
      serverAddress: '192.0.2.2',
      serverPort: 2,
    } as const;
    const d = new Throwing('test', flow, { event: () => {}, problem: (p) => problems.push(p) });
    d.data('toServer', Buffer.from('ok'), 1);
    d.data('toServer', Buffer.from('boom'), 2);
    d.data('toServer', Buffer.from('ok'), 3);
    expect(d.steps).toBe(2);
    expect(problems.map((p) => p.code)).toEqual(['ING_ERR_DECODER']);
    expect(problems[0]?.reason).toContain('TypeError');
  });
});
