// Each record names the module version whose structure we write (docs/ARCHITECTURE.md, "Object
// identifiers"). Where we have the module (the asn1c profile our decoder is built from, under
// LI_ASN1_DIR), the identifier we write must be the one that file defines; the pinned values below
// hold without the files. EmailPDU, IPMultimediaPDU and HI1NotificationOperations are not in our
// sources: only the pinned values, with the module they name.
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { asn1cNotRun, moduleFile } from '../tools/build-asn1c.ts';
import { decodeHi2, encodeHi2Iri } from './hi2.ts';
import { decodePsPdu, encodePsPdu, type Payload, type PsPdu } from './pspdu.ts';
import { SAMPLE_PAYLOADS, type SamplePayloadName, sampleHi2Iri, samplePdu } from './testing.ts';

/** LI-PS-PDU {0.4.0.2.2.5.1 version43(43)}, TS 102 232-1: li-psDomainId is the module OID. */
const LI_PS_PDU_V43 = [0, 4, 0, 2, 2, 5, 1, 43];
/** IPAccessPDU version18 (TS 102 232-3): iPIRIObjId / iPCCObjId, relative to {0.4.0.2.2}. */
const IPACCESS_V18 = { iri: [5, 3, 18, 1], cc: [5, 3, 18, 2] };
/** HI2Operations version11 (TS 101 671 V3.5.1): hi2OperationId {0.4.0.2.2.1 version11(11)}. */
const HI2_V11 = [0, 4, 0, 2, 2, 1, 11];
/** EmailPDU version15 (TS 102 232-2), the version OpenLI names for the layout we write. */
const EMAIL_V15 = { iri: [5, 2, 15, 1], cc: [5, 2, 15, 2] };
/** IPMultimediaPDU version6 (TS 102 232-5), the version OpenLI names for the layout we write. */
const IPMM_V6 = { iri: [5, 5, 6, 1], cc: [5, 5, 6, 2] };
/** HI1NotificationOperations version7 {0.4.0.2.2.0.1.7}, the version LI-PS-PDU v43 imports. */
const HI1_V7 = [0, 4, 0, 2, 2, 0, 1, 7];
/** {itu-t(0) identified-organization(4) etsi(0) securityDomain(2) lawfulIntercept(2)}. */
const LI_DOMAIN = [0, 4, 0, 2, 2];

/** The object identifiers a module text defines: its own ("<module>") and its value assignments. */
function moduleOids(file: string): Map<string, number[]> {
  const text = readFileSync(file, 'utf8').replace(/--.*$/gm, '');
  const out = new Map<string, number[]>();
  const arcs = (body: string): number[] =>
    body
      .trim()
      .replace(/\s*\(\s*/g, '(')
      .split(/\s+/)
      .flatMap((c) => {
        const n = /\((\d+)\)$/.exec(c) ?? /^(\d+)$/.exec(c);
        if (n) return [Number(n[1])];
        const ref = out.get(c);
        if (!ref) throw new Error(`${file}: unknown OID component ${c}`);
        return ref;
      });
  const head = /^\s*[A-Za-z][\w-]*\s*\{([^}]*)\}/.exec(text);
  if (!head) throw new Error(`${file}: no module identifier`);
  out.set('<module>', arcs(head[1]!));
  for (const m of text.matchAll(/^\s*([a-z][\w-]*)\s+(?:OBJECT IDENTIFIER|RELATIVE-OID)\s*::=\s*\{([^}]*)\}/gm)) {
    out.set(m[1]!, arcs(m[2]!));
  }
  return out;
}

function oidOf(file: string, name: string): number[] {
  const v = moduleOids(moduleFile(file)).get(name);
  if (!v) throw new Error(`${file} defines no ${name}`);
  return v;
}

/** What the encoder wrote, read back from the bytes. */
function written(name: SamplePayloadName): { header: number[]; payload: number[] } {
  const r = decodePsPdu(encodePsPdu(samplePdu(name)));
  if (!r.ok) throw new Error(r.reason);
  const p: Payload = r.value.payload;
  const header = [...r.value.header.domainId!];
  if (p.kind === 'iri') {
    const c = p.items[0]!.contents;
    if (c.kind === 'iPIRI' || c.kind === 'emailIRI' || c.kind === 'iPMMIRI')
      return { header, payload: [...c.value.objId!] };
  }
  if (p.kind === 'cc') {
    const c = p.items[0]!.contents;
    if (c.kind === 'iPCC' || c.kind === 'emailCC' || c.kind === 'iPMMCC')
      return { header, payload: [...c.value.objId!] };
  }
  throw new Error(`${name}: no payload object identifier`);
}

function writtenHi2(): number[] {
  const r = decodeHi2(encodeHi2Iri(sampleHi2Iri()));
  if (!r.ok || r.value.kind !== 'iRIContent') throw new Error('HI2 record did not decode');
  return [...r.value.iri.params.domainId!];
}

describe('object identifiers written: pinned module versions', () => {
  it('the PS-PDU header of every payload names LI-PS-PDU version43', () => {
    for (const name of Object.keys(SAMPLE_PAYLOADS) as SamplePayloadName[]) {
      const r = decodePsPdu(encodePsPdu(samplePdu(name)));
      expect(r.ok && r.value.header.domainId, name).toEqual(LI_PS_PDU_V43);
    }
  });

  it.each([
    ['ipIri', IPACCESS_V18.iri],
    ['ipCc', IPACCESS_V18.cc],
    ['emailIri', EMAIL_V15.iri],
    ['emailCc', EMAIL_V15.cc],
    ['ipmmIri', IPMM_V6.iri],
    ['ipmmCc', IPMM_V6.cc],
  ] as const)('%s names its module version', (name, oid) => {
    expect(written(name).payload).toEqual(oid);
  });

  it('a TS 101 671 record names HI2Operations version11, alone and inside a PS-PDU', () => {
    expect(writtenHi2()).toEqual(HI2_V11);
    const pdu: PsPdu = samplePdu('ipIri');
    pdu.payload = {
      kind: 'iri',
      items: [
        {
          iriType: 1,
          contents: { kind: 'eTSI671IRI', value: { kind: 'iRIParameters', params: sampleHi2Iri().params } },
        },
      ],
    };
    const r = decodePsPdu(encodePsPdu(pdu));
    const c = r.ok && r.value.payload.kind === 'iri' ? r.value.payload.items[0]!.contents : undefined;
    expect(c?.kind === 'eTSI671IRI' && c.value.kind === 'iRIParameters' && c.value.params.domainId).toEqual(HI2_V11);
  });

  it('an HI1 notification names HI1NotificationOperations version7', () => {
    const pdu: PsPdu = {
      header: { liid: 'L1', communicationIdentifier: { operatorIdentifier: 'OP1', cin: 0 }, sequenceNumber: 0 },
      payload: {
        kind: 'hi1',
        operation: {
          kind: 'liActivated',
          notification: { liid: 'L1', timeStamp: { kind: 'utcTime', micros: 1_795_300_000_000_000 } },
        },
      },
    };
    const r = decodePsPdu(encodePsPdu(pdu));
    const op = r.ok && r.value.payload.kind === 'hi1' ? r.value.payload.operation : undefined;
    expect(op && op.kind !== 'other' && op.notification.domainId).toEqual(HI1_V7);
  });
});

// The modules are read from LI_ASN1_DIR; without them these checks are reported as not run, by name.
const NOT_RUN = asn1cNotRun('object identifiers against the ETSI modules');

describe('object identifiers written: the modules the asn1c decoders are built from', () => {
  beforeEach((ctx) => {
    if (NOT_RUN) ctx.skip(NOT_RUN);
  });

  it('li-psDomainId is the LI-PS-PDU module identifier', () => {
    expect(written('ipIri').header).toEqual(oidOf('LI-PS-PDU.asn1c-profile.asn', '<module>'));
  });

  it('iPIRIObjId and iPCCObjId are the IPAccessPDU module values', () => {
    const file = 'IPAccessPDU.asn1c-profile.asn';
    // Relative to the lawful-intercept domain, in the module that defines them.
    expect(oidOf(file, '<module>')).toEqual([...LI_DOMAIN, ...oidOf(file, 'iPAccessPDUObjId')]);
    expect(written('ipIri').payload).toEqual(oidOf(file, 'iPIRIObjId'));
    expect(written('ipCc').payload).toEqual(oidOf(file, 'iPCCObjId'));
  });

  it('the TS 101 671 domainID is hi2OperationId of the HI2Operations module', () => {
    const file = 'HI2Operations.asn1c-profile.asn';
    expect(writtenHi2()).toEqual(oidOf(file, 'hi2OperationId'));
    expect(oidOf(file, 'hi2OperationId')).toEqual(oidOf(file, '<module>'));
  });
});
