import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sampleReports } from '../../testing/reports.ts';
import { acrMessage, buildAcrAvps } from './acr.ts';
import {
  asTime,
  asU32,
  asUtf8,
  avp,
  children,
  decodeMessage,
  encodeAvp,
  encodeMessage,
  findAll,
  findAvp,
  MAX_AVP_DEPTH,
  MessageFramer,
  VENDOR_3GPP,
} from './codec.ts';
import { BASE, groupedPredicate, TGPP } from './dictionary.ts';

const grouped = groupedPredicate(32473);

describe('Diameter codec', () => {
  it('encodes an AVP header with flags, 24-bit length excluding padding, and pads to 4', () => {
    const b = encodeAvp(avp.utf8(263, 'abcde'));
    expect(b.length).toBe(16);
    expect(b.readUInt32BE(0)).toBe(263);
    expect(b[4]).toBe(0x40); // M
    expect(b.readUInt32BE(4) & 0xffffff).toBe(13);
    expect([...b.subarray(13)]).toEqual([0, 0, 0]);
    const v = encodeAvp(avp.u32(2031, 14, { v: VENDOR_3GPP }));
    expect(v[4]).toBe(0xc0); // V+M
    expect(v.readUInt32BE(8)).toBe(10415);
    expect(v.readUInt32BE(12)).toBe(14);
    expect(encodeAvp(avp.utf8(1, 'x', { m: false }))[4]).toBe(0);
  });

  it('encodes Time as NTP seconds (1900 epoch) and Address with its family', () => {
    const t = avp.time(55, Date.UTC(2026, 0, 1));
    expect(Buffer.isBuffer(t.data) && t.data.readUInt32BE(0)).toBe(Date.UTC(2026, 0, 1) / 1000 + 2_208_988_800);
    expect(asTime(t)).toBe(Date.UTC(2026, 0, 1));
    expect([...(avp.address(257, '127.0.0.1').data as Buffer)]).toEqual([0, 1, 127, 0, 0, 1]);
    expect((avp.address(257, '2001:db8::1').data as Buffer).toString('hex')).toBe(
      '000220010db8000000000000000000000001',
    );
    expect((avp.u64(287, 2n ** 40n).data as Buffer).toString('hex')).toBe('0000010000000000');
  });

  it('round-trips a full MCID ACR with grouped AVPs', () => {
    const [report] = sampleReports(1);
    const msg = acrMessage(
      buildAcrAvps(report!, {
        originHost: 'as.test',
        originRealm: 'test',
        destinationRealm: 'test',
        serviceContextId: '32275@3gpp.org',
        privateVendorId: 32473,
      }),
      7,
      9,
    );
    const bytes = encodeMessage(msg);
    expect(bytes.length % 4).toBe(0);
    expect(bytes.readUInt32BE(0) & 0xffffff).toBe(bytes.length);
    const back = decodeMessage(bytes, grouped);
    if (!back.ok) throw new Error(back.reason);
    expect(back.value.commandCode).toBe(271);
    expect(back.value.flags).toBe(0xc0);
    expect(back.value.hopByHop).toBe(7);
    const si = findAvp(back.value.avps, TGPP.SERVICE_INFORMATION, VENDOR_3GPP);
    const mmtel = findAvp(children(si), TGPP.MMTEL_INFORMATION, VENDOR_3GPP);
    const types = findAll(children(mmtel), TGPP.SUPPLEMENTARY_SERVICE, VENDOR_3GPP).map((s) =>
      asU32(findAvp(children(s), TGPP.MMTEL_SSERVICE_TYPE, VENDOR_3GPP)),
    );
    expect(types).toEqual([14, 6]);
    expect(asUtf8(findAvp(back.value.avps, BASE.USER_NAME))).toBe(report!.servedUser);
    expect(encodeMessage(back.value)).toEqual(bytes);
  });

  it('rejects truncated or inconsistent input with a reason instead of throwing', () => {
    expect(decodeMessage(Buffer.alloc(10), grouped)).toMatchObject({ ok: false });
    const good = encodeMessage({
      flags: 0x80,
      commandCode: 280,
      applicationId: 0,
      hopByHop: 1,
      endToEnd: 1,
      avps: [avp.utf8(264, 'h')],
    });
    const bad = Buffer.from(good);
    bad.writeUInt32BE(0x40000fff, 24); // AVP length beyond the message
    expect(decodeMessage(bad, grouped)).toMatchObject({ ok: false });
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), (arr) => {
        const r = decodeMessage(Buffer.from(arr), grouped);
        expect(typeof r.ok).toBe('boolean');
      }),
    );
  });

  it('the framer cuts a byte stream at any split point into whole messages', () => {
    const m1 = encodeMessage({
      flags: 0x80,
      commandCode: 280,
      applicationId: 0,
      hopByHop: 1,
      endToEnd: 1,
      avps: [avp.utf8(264, 'one')],
    });
    const m2 = encodeMessage({
      flags: 0,
      commandCode: 280,
      applicationId: 0,
      hopByHop: 2,
      endToEnd: 2,
      avps: [avp.u32(268, 2001)],
    });
    const all = Buffer.concat([m1, m2]);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: all.length }), (cut) => {
        const f = new MessageFramer();
        const got = [...f.push(all.subarray(0, cut)), ...f.push(all.subarray(cut))];
        expect(got.map((b) => b.toString('hex'))).toEqual([m1.toString('hex'), m2.toString('hex')]);
      }),
    );
  });
});

describe('codec bounds', () => {
  const nested = (depth: number) => {
    let a = avp.u32(BASE.RESULT_CODE, 2001);
    for (let i = 0; i < depth; i++) a = avp.grouped(BASE.VENDOR_SPECIFIC_APPLICATION_ID, [a]);
    return encodeMessage({ flags: 0, commandCode: 271, applicationId: 3, hopByHop: 1, endToEnd: 1, avps: [a] });
  };

  it('decodes grouped AVPs up to MAX_AVP_DEPTH and refuses deeper ones with 5012, without recursing further', () => {
    expect(decodeMessage(nested(MAX_AVP_DEPTH), groupedPredicate(null)).ok).toBe(true);
    expect(decodeMessage(nested(MAX_AVP_DEPTH + 1), groupedPredicate(null))).toMatchObject({
      ok: false,
      resultCode: 5012,
    });
    // 5000 levels in 40 KB, built byte by byte (our encoder recurses: it only encodes our own ACRs).
    const inner = Buffer.alloc(5000 * 8);
    for (let i = 0; i < 5000; i++) {
      inner.writeUInt32BE(BASE.VENDOR_SPECIFIC_APPLICATION_ID, i * 8);
      inner.writeUInt32BE(inner.length - i * 8, i * 8 + 4);
    }
    const deep = Buffer.concat([nested(0).subarray(0, 20), inner]);
    deep.writeUInt32BE(deep.length, 0);
    deep[0] = 1;
    expect(decodeMessage(deep, groupedPredicate(null))).toMatchObject({ ok: false, resultCode: 5012 });
  });

  it('refuses a message announced longer than the bound before buffering it', () => {
    const head = Buffer.alloc(20);
    head.writeUInt32BE(70_000, 0);
    head[0] = 1;
    expect(() => new MessageFramer().push(head)).toThrow(/70000 over 65536/);
  });
});
