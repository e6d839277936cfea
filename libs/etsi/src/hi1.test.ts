import { describe, expect, it } from 'vitest';
import { HI1_DOMAIN_ID, type Hi1Operation } from './hi1.ts';
import { decodePsPdu, encodePsPdu, type PsPdu } from './pspdu.ts';

const AT = Date.UTC(2026, 10, 21) * 1000; // 2026-11-21T00:00:00Z in microseconds

function pdu(operation: Hi1Operation): PsPdu {
  return {
    header: { liid: 'L1', communicationIdentifier: { operatorIdentifier: 'OP1', cin: 0 }, sequenceNumber: 2 },
    payload: { kind: 'hi1', operation },
  };
}

const activated: Hi1Operation = {
  kind: 'liActivated',
  notification: {
    liid: 'L1',
    communicationIdentifier: { operatorIdentifier: 'OP1' },
    timeStamp: { kind: 'utcTime', micros: AT },
    targetInformation: Buffer.from('abc'),
  },
};

describe('HI1 notifications (PS-PDU payload [3] hI1-Operation)', () => {
  it('golden bytes: liActivated with domainID, LIID, operator, UTCTime and target-Information', () => {
    // Written out by hand from the module structure (IMPLICIT TAGS; CHOICEs explicit).
    const expected = [
      '3050', // PS-PDU
      'a11c', // pSHeader
      '8007 0400020205012b', // li-psDomainId 0.4.0.2.2.5.1.43
      '8102 4c31', // LIID "L1"
      'a30a a005 8003 4f5031 8101 00', // communicationIdentifier { networkIdentifier { "OP1" }, CIN 0 }
      '8401 02', // sequenceNumber 2
      'a230', // payload (CHOICE wrapper)
      'a32e', // [3] hI1-Operation (CHOICE wrapper)
      'a12c', // [1] liActivated Notification
      '8007 04000202000107', // domainID 0.4.0.2.2.0.1.7
      '8102 4c31', // lawfulInterceptionIdentifier
      'a207 a105 8003 4f5031', // communicationIdentifier { network-Identifier { operator-Identifier } }
      'a30f 810d 3236313132313030303030305a', // timeStamp { utcTime "261121000000Z" }
      '8603 616263', // target-Information
    ]
      .join('')
      .replace(/ /g, '');
    expect(encodePsPdu(pdu(activated)).toString('hex')).toBe(expected);
  });

  it.each(['liActivated', 'liDeactivated', 'liModified'] as const)('%s round-trips', (kind) => {
    const op: Hi1Operation = { kind, notification: { ...activated.notification } } as Hi1Operation;
    const bytes = encodePsPdu(pdu(op));
    const r = decodePsPdu(bytes);
    expect(r.ok).toBe(true);
    if (!r.ok || r.value.payload.kind !== 'hi1') throw new Error('not HI1');
    const back = r.value.payload.operation;
    expect(back.kind).toBe(kind);
    if (back.kind === 'other') throw new Error('other');
    expect(back.notification.domainId).toEqual(HI1_DOMAIN_ID);
    expect(back.notification.liid).toBe('L1');
    expect(back.notification.communicationIdentifier).toEqual({ operatorIdentifier: 'OP1' });
    expect(back.notification.timeStamp).toEqual({ kind: 'utcTime', micros: AT });
    expect(Buffer.from(back.notification.targetInformation!).toString()).toBe('abc');
    expect(encodePsPdu(r.value).equals(bytes)).toBe(true);
    // The liActivated/liDeactivated/liModified tag is the only difference.
    expect(bytes[36]).toBe(0xa0 | { liActivated: 1, liDeactivated: 2, liModified: 3 }[kind]);
  });

  it('leaves domainID out when asked, and keeps a local-time timeStamp', () => {
    const op: Hi1Operation = {
      kind: 'liModified',
      notification: { domainId: null, liid: 'L1', timeStamp: { kind: 'localTime', micros: AT, winterSummer: 0 } },
    };
    const r = decodePsPdu(encodePsPdu(pdu(op)));
    if (!r.ok || r.value.payload.kind !== 'hi1' || r.value.payload.operation.kind === 'other') throw new Error('kind');
    expect(r.value.payload.operation.notification).toEqual(op.notification);
  });

  it('keeps alternatives it does not model (alarms-indicator [4]) as raw bytes', () => {
    const raw = Buffer.from('a4038001 01'.replace(/ /g, ''), 'hex');
    const bytes = encodePsPdu(pdu({ kind: 'other', tag: 4, raw }));
    const r = decodePsPdu(bytes);
    if (!r.ok || r.value.payload.kind !== 'hi1') throw new Error('kind');
    expect(r.value.payload.operation).toEqual({ kind: 'other', tag: 4, raw });
  });

  it('rejects values outside the module constraints', () => {
    const bad = (n: Partial<typeof activated.notification>) =>
      encodePsPdu(pdu({ kind: 'liActivated', notification: { ...activated.notification, ...n } }));
    expect(() => bad({ liid: 'x'.repeat(26) })).toThrow(/1..25/);
    expect(() => bad({ targetInformation: Buffer.alloc(257) })).toThrow(/1..256/);
    expect(() => bad({ communicationIdentifier: { operatorIdentifier: 'TOOLONG' } })).toThrow(/operator-Identifier/);
  });
});
