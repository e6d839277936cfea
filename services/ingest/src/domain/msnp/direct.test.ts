import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collector, replay, type Step } from '../../testing/decoder-kit.ts';
import type { StreamDecoder } from '../stream.ts';
import { msnpDecoderFactory } from './msnp.ts';

const len = (s: string) => Buffer.byteLength(s, 'utf8');
const invitation = (body: string) =>
  `MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinvite; charset=UTF-8\r\n\r\n${body}`;
const FT_GUID = '{5D3E02AB-6190-11d3-BBBB-00C04F795683}';
const fileBytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) % 251));

const invite = invitation(
  `Application-Name: File Transfer\r\nApplication-GUID: ${FT_GUID}\r\nInvitation-Command: INVITE\r\nInvitation-Cookie: 53829\r\nApplication-File: plan.pdf\r\nApplication-FileSize: ${fileBytes.length}\r\n\r\n`,
);
const accept = invitation(
  'Invitation-Command: ACCEPT\r\nInvitation-Cookie: 53829\r\nLaunch-Application: FALSE\r\nRequest-Data: IP-Address:\r\n\r\n',
);
// The sender names where it listens: the flow the replay kit opens (198.51.100.5), on a port that is not 6891.
const listen = invitation(
  'Invitation-Command: ACCEPT\r\nInvitation-Cookie: 53829\r\nIP-Address: 198.51.100.5\r\nPort: 6893\r\nAuthCookie: 1811512\r\nSender-Connect: TRUE\r\n\r\n',
);

const switchboard: Step[] = [
  ['C', 'USR 1 alice@hotmail.com 17262740.1050826919.32308\r\n'],
  ['S', 'USR 1 OK alice@hotmail.com Alice\r\n'],
  ['S', 'JOI bob@hotmail.com Bob\r\n'],
  ['C', `MSG 2 N ${len(invite)}\r\n${invite}`],
  ['S', `MSG bob@hotmail.com Bob ${len(accept)}\r\n${accept}`],
  ['C', `MSG 3 N ${len(listen)}\r\n${listen}`],
];

/** MSNFTP as the receiver (bob) connecting to the sender's listener sees it: 'C' bob, 'S' alice. */
function msnftp(file: Buffer, blockSize = 2045): Step[] {
  const steps: Step[] = [
    ['C', 'VER MSNFTP\r\n'],
    ['S', 'VER MSNFTP\r\n'],
    ['C', 'USR bob@hotmail.com 1811512\r\n'],
    ['S', `FIL ${file.length}\r\n`],
    ['C', 'TFR\r\n'],
  ];
  for (let i = 0; i < file.length; i += blockSize) {
    const part = file.subarray(i, i + blockSize);
    const head = Buffer.from([0, part.length & 0xff, part.length >> 8]);
    steps.push(['S', Buffer.concat([head, part])]);
  }
  steps.push(['C', 'BYE 16777989\r\n']);
  return steps;
}

/** The file inside MSNFTP blocks (0, 16-bit LE length, data), as a LEMF would read the content. */
function unblock(wire: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i + 3 <= wire.length && wire[i] === 0; ) {
    const n = wire.readUInt16LE(i + 1);
    parts.push(wire.subarray(i + 3, i + 3 + n));
    i += 3 + n;
  }
  return Buffer.concat(parts);
}

describe('MSN direct transfers', () => {
  it('follows an accepted file invitation to its direct connection and intercepts the file', () => {
    const factory = msnpDecoderFactory();
    const sb = replay(factory, 1863, switchboard);
    expect(sb.events.map((e) => e.action)).toEqual([
      'msnp.sb.session',
      'msnp.sb.join',
      'msnp.invite',
      'msnp.invite',
      'msnp.invite',
      'msnp.sb.closed',
    ]);
    // Port 6893 is no MSNP port: only the invitation makes the factory take the connection.
    const { events, problems } = replay(factory, 6893, msnftp(fileBytes));
    expect(problems).toEqual([]);
    expect(events.map((e) => e.action)).toEqual(['msnp.ft.start', 'msnp.ft.data', 'msnp.ft.end']);
    for (const e of events) {
      expect(e.parties).toEqual([
        { role: 'SENDER', type: 'EMAIL', value: 'alice@hotmail.com' },
        { role: 'RECIPIENT', type: 'EMAIL', value: 'bob@hotmail.com' },
      ]);
    }
    expect(events[0]?.attributes).toMatchObject({
      fileName: 'plan.pdf',
      fileSize: '5000',
      applicationGuid: FT_GUID.toUpperCase(),
      transferProtocol: 'msnftp',
    });
    // Content: the octets the listener sent, as captured (the encoder rebuilds their packets).
    expect(events[1]).toMatchObject({
      contentType: 'application/x-msnp-msg',
      attributes: { msnpDirection: 'toClient' },
    });
    expect(unblock(events[1]?.content ?? Buffer.alloc(0)).equals(fileBytes)).toBe(true);
    expect(events[2]?.attributes).toMatchObject({ receivedBytes: '5000', result: 'complete' });
    expect(JSON.stringify(events)).not.toContain('1811512'); // the auth cookie stays out
    // The invitation is used once: a second connection to that port is not taken.
    expect(
      factory(
        {
          transport: 'tcp',
          clientAddress: '192.0.2.10',
          clientPort: 1,
          serverAddress: '198.51.100.5',
          serverPort: 6893,
        },
        collector(),
      ),
    ).toBeNull();
  });

  it('gives the same file whatever the segmentation, and large files in 64 KiB content chunks', () => {
    const big = Buffer.alloc(150_000, 0x5a);
    const factory = msnpDecoderFactory();
    replay(factory, 1863, switchboard);
    const { events } = replay(factory, 6893, msnftp(big), (n) => [1, 2, Math.floor(n / 3), n - 1]);
    const data = events.filter((e) => e.action === 'msnp.ft.data');
    expect(data.length).toBe(3);
    expect(unblock(Buffer.concat(data.map((e) => e.content ?? Buffer.alloc(0)))).equals(big)).toBe(true);
    expect(events.at(-1)?.attributes.result).toBe('complete');
  });

  it('reports a cancelled or cut transfer as such, and MSNFTP on 6891 without an invitation', () => {
    const cut = msnftp(fileBytes).slice(0, 6); // the first block only
    const { events } = replay(msnpDecoderFactory(), 6891, [...cut, ['S', Buffer.from([1, 0, 0])]]);
    expect(events.map((e) => e.action)).toEqual(['msnp.ft.start', 'msnp.ft.data', 'msnp.ft.end']);
    expect(events[0]?.parties).toEqual([{ role: 'RECIPIENT', type: 'EMAIL', value: 'bob@hotmail.com' }]);
    expect(events.at(-1)?.attributes).toMatchObject({ result: 'cancelled', receivedBytes: '2045' });
  });

  it('keeps a non-MSNFTP direct session (voice) as opaque content', () => {
    const factory = msnpDecoderFactory();
    const voice = invitation(
      'Application-Name: an audio conversation\r\nApplication-GUID: {02D3C01F-BF30-4825-A83A-DE7AF41648AA}\r\nInvitation-Command: ACCEPT\r\nInvitation-Cookie: 77\r\nIP-Address: 198.51.100.5\r\nPort: 6901\r\n\r\n',
    );
    replay(factory, 1863, [...switchboard.slice(0, 3), ['C', `MSG 2 N ${len(voice)}\r\n${voice}`]]);
    const { events } = replay(factory, 6901, [
      ['C', 'HELLO voice\r\n'],
      ['S', Buffer.from([0x80, 0x08, 1, 2])],
    ]);
    expect(events.map((e) => `${e.action}`)).toEqual(['msnp.ft.start', 'msnp.ft.data', 'msnp.ft.data', 'msnp.ft.end']);
    expect(events[0]?.attributes).toMatchObject({
      transferProtocol: 'direct',
      applicationGuid: '{02D3C01F-BF30-4825-A83A-DE7AF41648AA}',
    });
    // Each direction's octets in their own content event, in order.
    expect(events[1]).toMatchObject({ attributes: { msnpDirection: 'toServer' } });
    expect(events[1]?.content?.toString()).toBe('HELLO voice\r\n');
    expect(events[2]?.content?.equals(Buffer.from([0x80, 0x08, 1, 2]))).toBe(true);
  });

  it('does not take connections nobody announced', () => {
    const d: StreamDecoder | null = msnpDecoderFactory()(
      { transport: 'tcp', clientAddress: 'a', clientPort: 1, serverAddress: 'b', serverPort: 6893 },
      collector(),
    );
    expect(d).toBeNull();
  });

  it('survives random and mutated MSNFTP input without throwing or a decoder problem', () => {
    const base = msnftp(fileBytes.subarray(0, 3000), 700);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(800), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.array(fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 120 })), { maxLength: 6 }),
        (mutations, noise) => {
          const steps: Step[] = base.map(([c, t]) => [c, Buffer.from(t)] as const);
          for (const [i, at, v] of mutations) {
            const b = steps[i]?.[1] as Buffer;
            if (b.length > 0) b[at % b.length] = v;
          }
          for (const [c, b] of noise) steps.push([c ? 'C' : 'S', Buffer.from(b)]);
          const { problems } = replay(msnpDecoderFactory(), 6891, steps);
          expect(problems.filter((p) => p.code === 'ING_ERR_DECODER')).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
