import { constants, createDeflateRaw, type DeflateRaw } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { replay, type Step } from '../../testing/decoder-kit.ts';
import { imapDecoderFactory } from './imap.ts';

/** One side's DEFLATE stream (RFC 4978): a window shared by all messages, each sync-flushed. */
class Compressor {
  readonly #z: DeflateRaw = createDeflateRaw();
  async next(text: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    const onData = (c: Buffer) => chunks.push(c);
    this.#z.on('data', onData);
    this.#z.write(text);
    await new Promise<void>((r) => this.#z.flush(constants.Z_SYNC_FLUSH, () => r()));
    this.#z.off('data', onData);
    return Buffer.concat(chunks);
  }
}

const message = 'From: bob@example.net\r\nSubject: compressed\r\n\r\nhello over deflate, hello again\r\n';

describe('IMAP COMPRESS=DEFLATE (RFC 4978)', () => {
  it('inflates both directions and goes on decoding, however the segments fall', async () => {
    const client = new Compressor();
    const server = new Compressor();
    const steps: Step[] = [
      ['S', '* OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] ready\r\n'],
      ['C', 'a1 LOGIN alice@example.org secret\r\n'],
      ['S', 'a1 OK logged in\r\n'],
      ['C', 'a2 COMPRESS DEFLATE\r\n'],
      // The server's first compressed octets share the segment with its OK.
      ['S', Buffer.concat([Buffer.from('a2 OK DEFLATE active\r\n'), await server.next('* CAPABILITY IMAP4rev1\r\n')])],
      ['C', await client.next('a3 SELECT INBOX\r\n')],
      ['S', await server.next('* 1 EXISTS\r\na3 OK [READ-WRITE] SELECT completed\r\n')],
      ['C', await client.next('a4 FETCH 1 BODY[]\r\n')],
      ['S', await server.next(`* 1 FETCH (BODY[] {${message.length}}\r\n${message})\r\na4 OK done\r\n`)],
      // The same text again: the second copy is mostly back-references into the shared window.
      ['C', await client.next('a5 FETCH 1 BODY[]\r\n')],
      ['S', await server.next(`* 1 FETCH (BODY[] {${message.length}}\r\n${message})\r\na5 OK done\r\n`)],
      ['C', await client.next('a6 LOGOUT\r\n')],
      ['S', await server.next('* BYE\r\na6 OK bye\r\n')],
    ];
    for (const cuts of [() => [], (n: number) => [1, Math.floor(n / 2), n - 1]]) {
      const { events, problems } = replay(imapDecoderFactory(), 143, steps, cuts);
      expect(problems).toEqual([]);
      expect(events.map((e) => e.action)).toEqual([
        'imap.login',
        'imap.compress',
        'imap.fetch',
        'imap.fetch',
        'imap.logout',
      ]);
      expect(events[2]?.content?.toString()).toBe(message);
      expect(events[3]?.content?.toString()).toBe(message);
      expect(events[2]?.attributes?.mailbox).toBe('INBOX');
    }
  });

  it('stops with a problem when the compressed stream is not DEFLATE', () => {
    const { events, problems } = replay(imapDecoderFactory(), 143, [
      ['C', 'a2 COMPRESS DEFLATE\r\n'],
      ['S', 'a2 OK\r\n'],
      ['C', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff])],
      ['C', Buffer.from('a3 LOGOUT\r\n')],
    ]);
    expect(events.map((e) => e.action)).toEqual(['imap.compress']);
    expect(problems.map((p) => p.code)).toEqual(['ING_ERR_PROTOCOL']);
  });
});
