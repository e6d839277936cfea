import { encodePsPdu, IRI_TYPE, PAYLOAD_DIRECTION } from '@li/etsi';
import { samplePdu } from '@li/etsi/testing';
import { describe, expect, it } from 'vitest';
import { CdcCalls, CdcEncodeError, cccIdText, encodeCdcPdu, partyOf } from './packetcable-cdc.ts';

const at = { caseId: 'L1', accessingElementId: 'E', eventTime: 1_000_000_000_000_000 };

function sipIri(cin: number, iriType: number, sip: string): Uint8Array {
  const pdu = samplePdu('ipmmIri', { communicationIdentifier: { operatorIdentifier: 'ACME', cin } });
  if (pdu.payload.kind !== 'iri') throw new Error('sample');
  const item = pdu.payload.items[0]!;
  item.iriType = iriType;
  item.sessionDirection = PAYLOAD_DIRECTION.toTarget;
  if (item.contents.kind === 'iPMMIRI' && item.contents.value.contents.kind === 'sIPMessage')
    item.contents.value.contents.message.sipContent = Buffer.from(sip);
  return encodePsPdu(pdu);
}
const OK = 'SIP/2.0 200 OK\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:5551234@x>;tag=2\r\nCSeq: 1 INVITE\r\n\r\n';

describe('PCESP CdcPdu encoder', () => {
  it('writes a Release as CdcPdu { io3, [1] { [8] { caseId, element, time, callId } } }', () => {
    const b = encodeCdcPdu({ ...at, kind: 'release', callId: { sequenceNumber: '1', systemIdentity: 'E' } });
    expect(b.toString('hex')).toBe(
      `30278001` +
        `03a122a820` +
        `80024c31` +
        `810145` +
        `820f${Buffer.from('20010909014640Z').toString('hex')}` +
        `a306800131810145`,
    );
  });

  it('names the CCC as 8 upper-case hex characters and refuses what PCESP cannot carry', () => {
    expect(cccIdText(7001)).toBe('00001B59');
    expect(() =>
      encodeCdcPdu({ ...at, caseId: 'é', kind: 'release', callId: { sequenceNumber: '1', systemIdentity: 'E' } }),
    ).toThrow(CdcEncodeError);
  });

  it('takes numbers as dn and other SIP addresses as genericAddress within 32 characters', () => {
    expect(partyOf('sip:+1 555 000'.replace(/ /g, '') + '@x;user=phone')).toEqual({ dn: '1555000' });
    expect(partyOf('tel:+4930123456')).toEqual({ dn: '4930123456' });
    expect(partyOf('sip:bob@example.com')).toEqual({ genericAddress: 'bob@example.com' });
    expect(partyOf(`sip:${'u'.repeat(40)}@h`)).toEqual({ genericAddress: 'u'.repeat(32) });
    expect(partyOf(undefined)).toBeUndefined();
  });
});

describe('CdcCalls', () => {
  it('reports one Answer per call, not one per 2xx to a (re-)INVITE, and forgets the call at release', () => {
    const calls = new CdcCalls();
    const first = calls.ofIri(sipIri(5, IRI_TYPE.continue, OK));
    expect(first).toMatchObject({ ok: true, messages: [{ kind: 'answer', answering: { dn: '5551234' } }] });
    expect(calls.ofIri(sipIri(5, IRI_TYPE.continue, OK))).toEqual({ ok: true, messages: [] });
    expect(calls.ofIri(sipIri(5, IRI_TYPE.end, OK))).toMatchObject({ ok: true, messages: [{ kind: 'release' }] });
    expect(calls.size).toBe(0);
  });

  it('opens the CCC once per call and closes it before the Release', () => {
    const calls = new CdcCalls();
    const cc = encodePsPdu(samplePdu('ipmmCc', { communicationIdentifier: { operatorIdentifier: 'ACME', cin: 9 } }));
    expect(calls.ofContent(cc)).toMatchObject({ ok: true, messages: [{ kind: 'ccOpen', cccId: 9 }] });
    expect(calls.ofContent(cc)).toEqual({ ok: true, messages: [] });
    const end = calls.ofIri(sipIri(9, IRI_TYPE.end, OK));
    expect(end.ok && end.messages.map((m) => m.kind)).toEqual(['ccClose', 'release']);
  });

  it('keeps at most its bound of calls', () => {
    const calls = new CdcCalls(2);
    for (const cin of [1, 2, 3]) calls.ofIri(sipIri(cin, IRI_TYPE.continue, OK));
    expect(calls.size).toBe(2);
  });

  it('refuses IRI that is not SIP and bytes that are no PS-PDU', () => {
    const calls = new CdcCalls();
    expect(calls.ofIri(encodePsPdu(samplePdu('ipIri')))).toMatchObject({ ok: false, code: 'NOT_SIGNALLING' });
    expect(calls.ofIri(Uint8Array.of(1, 2, 3))).toMatchObject({ ok: false, code: 'UNDECODABLE' });
  });
});
