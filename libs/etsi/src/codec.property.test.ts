// Property tests: the decoders never throw on random or mutated input, and encode -> decode is
// the identity on random valid values.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbHi2Iri, arbPdu } from '../test/support/arbitraries.ts';
import { decodeHi2, encodeHi2Iri } from './hi2.ts';
import { isKeepaliveResponse } from './keepalive.ts';
import { decodePsPdu, encodePsPdu, pduLength } from './pspdu.ts';

/** A valid encoding with a few bytes changed, cut or inserted. */
function mutated(arb: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  return fc
    .tuple(
      arb,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'cut', 'insert')), {
        maxLength: 4,
      }),
    )
    .map(([bytes, edits]) => {
      let b = Buffer.from(bytes);
      for (const [pos, val, op] of edits) {
        const i = b.length === 0 ? 0 : pos % b.length;
        if (op === 'set' && b.length > 0) b[i] = val;
        else if (op === 'cut') b = b.subarray(0, i);
        else b = Buffer.concat([b.subarray(0, i), Buffer.of(val), b.subarray(i)]);
      }
      return b;
    });
}

const noThrow = (b: Buffer) => {
  const r = decodePsPdu(b);
  expect(typeof r.ok).toBe('boolean');
  decodeHi2(b);
  pduLength(b);
  isKeepaliveResponse(b);
};

describe('decoders never throw', () => {
  it('on random bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)),
        noThrow,
      ),
      { numRuns: 2000 },
    );
  });

  it('on mutated PS-PDUs', () => {
    fc.assert(fc.property(mutated(arbPdu.map(encodePsPdu)), noThrow), { numRuns: 1000 });
  });

  it('on mutated HI2 records', () => {
    fc.assert(fc.property(mutated(arbHi2Iri.map(encodeHi2Iri)), noThrow), { numRuns: 1000 });
  });
});

describe('encode -> decode identity', () => {
  it('PS-PDU of every modelled payload kind', () => {
    fc.assert(
      fc.property(arbPdu, (pdu) => {
        const bytes = encodePsPdu(pdu);
        const r = decodePsPdu(bytes);
        if (!r.ok) throw new Error(`${r.code}: ${r.reason}`);
        expect(r.bytesRead).toBe(bytes.length);
        expect(r.value).toEqual(pdu);
      }),
      { numRuns: 500 },
    );
  });

  it('HI2 IRI records', () => {
    fc.assert(
      fc.property(arbHi2Iri, (iri) => {
        const r = decodeHi2(encodeHi2Iri(iri));
        if (!r.ok) throw new Error(`${r.code}: ${r.reason}`);
        expect(r.value).toEqual({ kind: 'iRIContent', iri });
      }),
      { numRuns: 500 },
    );
  });
});
