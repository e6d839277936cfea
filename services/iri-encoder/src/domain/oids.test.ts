// The encoder writes @li/etsi's default object identifiers: each names the module version whose
// structure is written (docs/ARCHITECTURE.md, "Object identifiers"; libs/etsi/src/oids.test.ts
// checks them against the module files).
import { decodeHi2, decodePsPdu, type PsPdu } from '@li/etsi';
import type { NormalizedEvent } from '@li/schemas';
import { sampleEvent, sampleMatched } from '@li/schemas/testing';
import { describe, expect, it } from 'vitest';
import { apply } from './apply.ts';
import type { EncodedRecord } from './encode.ts';
import { DEFAULT_OPTIONS } from './options.ts';
import { commit, emptyState } from './state.ts';

/** LI-PS-PDU version43 (TS 102 232-1). */
const LI_PS_PDU_V43 = [0, 4, 0, 2, 2, 5, 1, 43];
/** HI2Operations version11 (TS 101 671 V3.5.1), the structure of our TS 101 671 records. */
const HI2_V11 = [0, 4, 0, 2, 2, 1, 11];

/** Applies one communication's events, addressed to the target in `role`; returns its records. */
function records(
  role: NormalizedEvent['parties'][number]['role'],
  events: Partial<NormalizedEvent>[],
): EncodedRecord[] {
  const state = emptyState();
  const out: EncodedRecord[] = [];
  events.forEach((over, i) => {
    const event = sampleEvent({ eventId: `o${i}`, occurredAtMicros: 1_795_300_000_000_000 + i, ...over });
    const m = sampleMatched({
      event,
      matchedRoles: [role],
      matchedParties: event.parties.filter((p) => p.role === role),
    });
    const r = apply(state, m, { ...DEFAULT_OPTIONS, operatorIdentifier: 'ACME' });
    if (!r.ok) throw new Error(`${r.code}: ${r.reason}`);
    out.push(...r.records);
    commit(state, r.stateChanges);
  });
  return out;
}

/** [li-psDomainId, the payload's object identifier] of a PS-PDU record. */
function oids(r: EncodedRecord): [number[], number[] | undefined] {
  const d = decodePsPdu(r.bytes);
  if (!d.ok) throw new Error(d.reason);
  const p: PsPdu['payload'] = d.value.payload;
  const c = p.kind === 'iri' || p.kind === 'cc' ? p.items[0]!.contents : undefined;
  const objId = c && c.kind !== 'other' && c.kind !== 'eTSI671IRI' ? [...c.value.objId!] : undefined;
  return [[...d.value.header.domainId!], objId];
}

const ps = (rs: EncodedRecord[], kind: 'IRI' | 'CC') =>
  rs.filter((r) => r.format === 'TS102232' && r.kind === kind).map(oids);

describe('object identifiers the encoder writes', () => {
  it('SIP: IPMMIRI and IPMMCC name IPMultimediaPDU version6; the TS 101 671 record HI2Operations version11', () => {
    const rs = records('CALLEE', [
      {},
      {
        action: 'x3.rtp',
        category: 'MEDIA',
        protocol: 'x3',
        attributes: { payloadFormat: '8' },
        content: Buffer.from('rtp'),
        contentType: 'application/rtp',
      },
    ]);
    expect(ps(rs, 'IRI')).toEqual([[LI_PS_PDU_V43, [5, 5, 6, 1]]]);
    expect(ps(rs, 'CC')).toEqual([[LI_PS_PDU_V43, [5, 5, 6, 2]]]);
    const hi2 = rs.filter((r) => r.format === 'TS101671');
    expect(hi2).toHaveLength(1);
    const d = decodeHi2(hi2[0]!.bytes);
    expect(d.ok && d.value.kind === 'iRIContent' && d.value.iri.params.domainId).toEqual(HI2_V11);
  });

  it('e-mail: EmailIRI and EmailCC name EmailPDU version15', () => {
    const rs = records('SENDER', [
      {
        category: 'SENT_MAIL',
        action: 'smtp.send',
        protocol: 'SMTP',
        source: 'pcap',
        parties: [
          { role: 'SENDER', type: 'EMAIL', value: 'alice@example.org' },
          { role: 'RECIPIENT', type: 'EMAIL', value: 'bob@example.net' },
        ],
        network: {
          transport: 'tcp',
          srcAddress: '198.51.100.7',
          srcPort: 52344,
          dstAddress: '192.0.2.25',
          dstPort: 25,
        },
        attributes: {},
        content: Buffer.from('Subject: x\r\n\r\nhi\r\n'),
        contentType: 'message/rfc822',
      },
    ]);
    expect(ps(rs, 'IRI')).toEqual([[LI_PS_PDU_V43, [5, 2, 15, 1]]]);
    expect(ps(rs, 'CC')).toEqual([[LI_PS_PDU_V43, [5, 2, 15, 2]]]);
  });

  it('IP (MSNP): IPIRI and IPCC name IPAccessPDU version18', () => {
    const rs = records('ACCOUNT', [
      {
        action: 'msnp.msg',
        protocol: 'MSNP',
        source: 'pcap',
        parties: [{ role: 'ACCOUNT', type: 'EMAIL', value: 'bob@hotmail.example' }],
        network: {
          transport: 'tcp',
          srcAddress: '203.0.113.5',
          srcPort: 40000,
          dstAddress: '192.0.2.1',
          dstPort: 1863,
        },
        attributes: { msnpRole: 'switchboard', msnpDirection: 'toServer', ackType: 'N' },
        content: Buffer.from('MIME-Version: 1.0\r\n\r\nhi'),
        contentType: 'application/x-msnp-msg',
      },
    ]);
    expect(ps(rs, 'IRI')).toEqual([[LI_PS_PDU_V43, [5, 3, 18, 1]]]);
    expect(ps(rs, 'CC').length).toBeGreaterThan(0);
    for (const o of ps(rs, 'CC')) expect(o).toEqual([LI_PS_PDU_V43, [5, 3, 18, 2]]);
  });
});
