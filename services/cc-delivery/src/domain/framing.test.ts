import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { berTlvLength, FrameReader, tpktWrap } from './framing.ts';

const keepalive = readFileSync(new URL('../../test/fixtures/pspdu_keepalive.ber', import.meta.url));

describe('framing', () => {
  it('measures short, long and multi-byte BER lengths', () => {
    expect(berTlvLength(Uint8Array.from([0x30, 0x03, 1, 2, 3]))).toBe(5);
    expect(berTlvLength(Uint8Array.from([0x30, 0x82, 0x01, 0x00]))).toBe(4 + 256);
    expect(berTlvLength(Uint8Array.from([0x30]))).toBeNull();
    expect(berTlvLength(Uint8Array.from([0x30, 0x80]))).toBe(-1);
    expect(berTlvLength(keepalive)).toBe(keepalive.length);
  });

  it('reassembles PDUs split across and joined in chunks', () => {
    const r = new FrameReader('ber');
    const two = Buffer.concat([keepalive, keepalive]);
    const a = r.push(two.subarray(0, 50));
    expect(a.frames).toHaveLength(0);
    const b = r.push(two.subarray(50, 150));
    expect(b.frames).toHaveLength(1);
    const c = r.push(two.subarray(150));
    expect(c.frames).toHaveLength(1);
    expect(Buffer.from(c.frames[0]!)).toEqual(keepalive);
  });

  it('unwraps TPKT', () => {
    const r = new FrameReader('tpkt');
    const out = r.push(tpktWrap(keepalive));
    expect(Buffer.from(out.frames[0]!)).toEqual(keepalive);
    expect(r.push(Uint8Array.from([9, 9, 9, 9])).error).toBe(true);
  });

  it('refuses a frame announced longer than the limit before buffering it', () => {
    const r = new FrameReader('ber', 64 * 1024);
    expect(r.push(keepalive).frames).toHaveLength(1);
    // 0x30 0x84 + a 4-byte length of 2 GiB: refused from its header alone
    const out = r.push(Uint8Array.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3]));
    expect(out).toEqual({ frames: [], error: true, tooLarge: true });
    expect(r.push(keepalive).frames).toHaveLength(1); // the buffer was dropped, not kept
  });
});
