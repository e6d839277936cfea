import { describe, expect, it } from 'vitest';
import { decodePacket, encodePacket, PacketReader, PacketType } from './vici-message.ts';

describe('VICI messages', () => {
  it('encodes a named request byte for byte as the protocol lays it out', () => {
    const p = encodePacket(PacketType.CMD_REQUEST, 'x', { k: 'v', l: ['a'], s: { n: 'm' } });
    // length, type 0, name "x", key-value k=v, list l [a], section s { n=m }
    expect(p.readUInt32BE(0)).toBe(p.length - 4);
    expect([...p.subarray(4)]).toEqual([
      0, 1, 0x78, 3, 1, 0x6b, 0, 1, 0x76, 4, 1, 0x6c, 5, 0, 1, 0x61, 6, 1, 1, 0x73, 3, 1, 0x6e, 0, 1, 0x6d, 2,
    ]);
  });

  it('decodes nested sections and lists; a reader splits packets across chunks', () => {
    const msg = { conn: { version: '1', local_ts: ['10.0.0.0/24', '10.1.0.0/24'], child: { mode: 'tunnel' } } };
    const bytes = encodePacket(PacketType.EVENT, 'list-sa', msg);
    const r = new PacketReader();
    const all = Buffer.concat([bytes, bytes]);
    const got = [...r.push(all.subarray(0, 7)), ...r.push(all.subarray(7, 50)), ...r.push(all.subarray(50))];
    expect(got).toHaveLength(2);
    for (const body of got)
      expect(decodePacket(body)).toEqual({ type: PacketType.EVENT, name: 'list-sa', message: msg });
    expect(decodePacket(encodePacket(PacketType.CMD_RESPONSE, null, { success: 'yes' }).subarray(4))).toEqual({
      type: PacketType.CMD_RESPONSE,
      name: null,
      message: { success: 'yes' },
    });
  });

  it('refuses truncated or malformed packets', () => {
    const body = encodePacket(PacketType.CMD_RESPONSE, null, { success: 'yes' }).subarray(4);
    expect(() => decodePacket(body.subarray(0, body.length - 1))).toThrow(/truncated/);
    expect(() => decodePacket(Buffer.from([1, 9]))).toThrow(/unknown VICI element/);
    expect(() => decodePacket(Buffer.from([1, 2]))).toThrow(/section end/);
  });
});
