import { describe, expect, it } from 'vitest';
import { decodeHi2 } from './hi2.ts';
import { decodeRosePdu, encodeReturnResult, encodeSendingOfIri, SENDING_OF_IRI_OID } from './rose.ts';
import { sampleHi2Iri } from './testing.ts';

describe('ROSE sending-of-IRI', () => {
  it('invoke = A1 { invokeId, opcode 0.4.0.2.2.1.1.1, IRIsContent }', () => {
    const iri = sampleHi2Iri(1);
    const b = encodeSendingOfIri(300, { kind: 'iRIContent', iri });
    expect(b.subarray(4, 18).toString('hex')).toBe('0202012c' + '0607040002020101' + '01' + 'a0');
    const r = decodeRosePdu(b);
    if (!r.ok || r.value.kind !== 'invoke') throw new Error('decode');
    expect(r.value.invokeId).toBe(300);
    expect(r.value.opcode).toEqual([...SENDING_OF_IRI_OID]);
    const arg = decodeHi2(r.value.argument!);
    expect(arg.ok && arg.value).toMatchObject({ kind: 'iRIContent', iri: { recordType: 1 } });
  });

  it('decodes LEMF answers: returnResult, returnError, reject; garbage is a typed failure', () => {
    expect(decodeRosePdu(encodeReturnResult(5))).toMatchObject({
      ok: true,
      value: { kind: 'returnResult', invokeId: 5 },
    });
    expect(decodeRosePdu(Buffer.from('a306020105020101', 'hex'))).toMatchObject({
      ok: true,
      value: { kind: 'returnError', invokeId: 5, errcode: 1 },
    });
    expect(decodeRosePdu(Buffer.from('a406020105810102', 'hex'))).toMatchObject({
      ok: true,
      value: { kind: 'reject', invokeId: 5, problemTag: 1, problem: 2 },
    });
    for (const h of ['', 'a1', 'a100', '3000', 'a303020105'])
      expect(decodeRosePdu(Buffer.from(h, 'hex')).ok).toBe(false);
  });
});
