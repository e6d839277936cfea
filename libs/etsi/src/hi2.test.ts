import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeHi2, encodeHi2Iri, encodeHi2IrisContent, HI2_RECORD } from './hi2.ts';
import { sampleHi2Iri } from './testing.ts';

const fixture = (f: string) => readFileSync(fileURLToPath(new URL(`./__fixtures__/${f}`, import.meta.url)));

describe('TS 101 671 HI2 IRI', () => {
  it.each(Object.entries(HI2_RECORD))('round trip of an IRI-%s record', (_name, type) => {
    const iri = sampleHi2Iri(type);
    const bytes = encodeHi2Iri(iri);
    expect(bytes[0]).toBe(0xa0); // iRIContent [0] wrapper (IRIContent is a CHOICE)
    const r = decodeHi2(bytes);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.bytesRead).toBe(bytes.length);
    expect(r.value).toEqual({
      kind: 'iRIContent',
      iri: { ...iri, params: { domainId: [0, 4, 0, 2, 2, 1, 11], ...iri.params } },
    });
  });

  it('round trip of an iRISequence, local time with a zone offset', () => {
    const a = sampleHi2Iri(1);
    a.params.timeStamp = { kind: 'localTime', micros: 1_795_300_000_000_000, winterSummer: 1, offsetMinutes: 60 };
    const b = sampleHi2Iri(2);
    b.params.communicationIdentifier.networkElementIdentifier = {
      kind: 'iPAddress',
      address: { type: 0, value: { kind: 'binary', bytes: Buffer.from([10, 0, 0, 1]) }, assignment: 1 },
    };
    const bytes = encodeHi2IrisContent({ kind: 'iRISequence', iris: [a, b] });
    const r = decodeHi2(bytes);
    expect(r.ok && r.value.kind === 'iRISequence' && r.value.iris.map((i) => i.params.timeStamp)).toEqual([
      a.params.timeStamp,
      b.params.timeStamp,
    ]);
    expect(r.ok && r.value.kind === 'iRISequence' && r.value.iris[1]!.params.communicationIdentifier).toEqual(
      b.params.communicationIdentifier,
    );
  });

  it('re-encodes the spec example byte for byte and rejects the untagged one', () => {
    const good = fixture('hi2_iri_begin.ber');
    const r = decodeHi2(good);
    expect(r.ok).toBe(true);
    if (r.ok) expect(encodeHi2IrisContent(r.value).equals(good)).toBe(true);
    const bad = decodeHi2(fixture('hi2_iri_begin_untagged.ber'));
    expect(bad).toMatchObject({ ok: false, code: 'ETSI_ERR_UNEXPECTED_TAG' });
  });

  it('puts iRIversion [23] right after domainID, in definition order', () => {
    const bytes = encodeHi2Iri(sampleHi2Iri(1));
    // A0 len A1 len 80 06 <oid> 97 01 08 81 ...
    const oidEnd = bytes.indexOf(0x80, 4) + 2 + 6;
    expect([...bytes.subarray(oidEnd, oidEnd + 3)]).toEqual([0x97, 0x01, 0x08]);
  });

  it('checks TS 101 671 constraints on encode', () => {
    const long = sampleHi2Iri(1);
    long.params.communicationIdentifier.operatorIdentifier = 'TOOLONG';
    expect(() => encodeHi2Iri(long)).toThrow(expect.objectContaining({ code: 'ETSI_ERR_INVALID_VALUE' }));
    const cin = sampleHi2Iri(1);
    cin.params.communicationIdentifier.cin = '12a';
    expect(() => encodeHi2Iri(cin)).toThrow(/alphabet/);
    const nine = sampleHi2Iri(1);
    nine.params.communicationIdentifier.cin = '123456789';
    expect(() => encodeHi2Iri(nine)).toThrow(/1..8/);
  });

  it('returns typed failures for garbage', () => {
    for (const h of ['', 'a0', 'a003a10100', 'a1028000', '3000']) {
      const r = decodeHi2(Buffer.from(h, 'hex'));
      expect(r.ok, h).toBe(false);
    }
  });
});
