// Value constraints of the ASN.1 modules, checked before anything is written: per constraint the
// edge value that is still valid encodes and decodes back, the first invalid one is an
// EtsiEncodeError whose reason names the field (never bytes asn1c would refuse).
import { describe, expect, it } from 'vitest';
import { EtsiEncodeError } from './ber.ts';
import type { EmailIri } from './email.ts';
import { decodeHi2, encodeHi2Iri } from './hi2.ts';
import type { IpIriContents } from './ipaccess.ts';
import type { IpAddress } from './ipaddress.ts';
import { decodePsPdu, encodePsPdu, type Payload, type PsHeader, type PsPdu } from './pspdu.ts';
import { SAMPLE_PAYLOADS, sampleHi2Iri, samplePdu } from './testing.ts';

function roundTrip(p: PsPdu): PsPdu {
  const d = decodePsPdu(encodePsPdu(p));
  if (!d.ok) throw new Error(d.reason);
  return d.value;
}

function refused(encode: () => unknown, field: string): void {
  let err: unknown;
  try {
    encode();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(EtsiEncodeError);
  expect((err as EtsiEncodeError).code).toBe('ETSI_ERR_INVALID_VALUE');
  expect((err as EtsiEncodeError).message).toContain(field);
}

const header = (h: Partial<PsHeader>) => samplePdu('keepAlive', h);

/** The sample IP-access IRI with one item changed. */
function ipIri(change: { iriType?: number; contents?: Partial<IpIriContents> }): PsPdu {
  const base = SAMPLE_PAYLOADS.ipIri.items[0]!;
  const contents = { ...base.contents.value.contents, ...change.contents };
  const payload: Payload = {
    kind: 'iri',
    items: [{ ...base, iriType: change.iriType ?? base.iriType, contents: { kind: 'iPIRI', value: { contents } } }],
  };
  return { ...samplePdu('ipIri'), payload };
}

const withAddress = (a: Partial<IpAddress>) =>
  ipIri({ contents: { targetIPAddress: { type: 1, value: { kind: 'binary', bytes: new Uint8Array(16) }, ...a } } });

function emailIri(change: Partial<EmailIri>): PsPdu {
  const base = SAMPLE_PAYLOADS.emailIri.items[0]!;
  const payload: Payload = {
    kind: 'iri',
    items: [{ ...base, contents: { kind: 'emailIRI', value: { ...base.contents.value, ...change } } }],
  };
  return { ...samplePdu('emailIri'), payload };
}

function iriContents(p: PsPdu) {
  if (p.payload.kind !== 'iri') throw new Error('not an IRI');
  return p.payload.items[0]!;
}

describe('constraints checked before writing', () => {
  it('interceptionPointID: PrintableString (SIZE (1..8))', () => {
    expect(roundTrip(header({ interceptionPointId: "P0:=?./'" })).header.interceptionPointId).toBe("P0:=?./'");
    refused(() => encodePsPdu(header({ interceptionPointId: 'POI_0001' })), 'interceptionPointID'); // '_'
    refused(() => encodePsPdu(header({ interceptionPointId: 'POI000001' })), 'interceptionPointID'); // 9
  });

  it('authorizationCountryCode and deliveryCountryCode: ISO 3166-1 alpha-2', () => {
    const ok = roundTrip(header({ authorizationCountryCode: 'ZZ' }));
    expect(ok.header.authorizationCountryCode).toBe('ZZ');
    refused(() => encodePsPdu(header({ authorizationCountryCode: 'I1' })), 'authorizationCountryCode');
    const ci = { operatorIdentifier: 'ACME', deliveryCountryCode: 'it' };
    refused(() => encodePsPdu(header({ communicationIdentifier: ci })), 'deliveryCountryCode');
  });

  it('national-HI2-ASN1parameters countryCode: ISO 3166-1 alpha-2', () => {
    const ok = sampleHi2Iri();
    ok.params.nationalHI2Asn1Parameters = { countryCode: 'AA' };
    const d = decodeHi2(encodeHi2Iri(ok));
    if (!d.ok || d.value.kind !== 'iRIContent') throw new Error('decode');
    expect(d.value.iri.params.nationalHI2Asn1Parameters).toEqual({ countryCode: 'AA' });
    const bad = sampleHi2Iri();
    bad.params.nationalHI2Asn1Parameters = { countryCode: 'I ' };
    refused(() => encodeHi2Iri(bad), 'countryCode');
  });

  it('iPTextAddress: an IP address or address/prefix, 7..45 IA5 characters', () => {
    const text = (t: string) => withAddress({ type: 0, value: { kind: 'text', text: t } });
    const c = iriContents(roundTrip(text('192.168.1.1/32'))).contents;
    expect(c.kind === 'iPIRI' && c.value.contents.targetIPAddress?.value).toEqual({
      kind: 'text',
      text: '192.168.1.1/32',
    });
    refused(() => encodePsPdu(text('192.168.1.1/33')), 'iPTextAddress');
    refused(() => encodePsPdu(text('not-an-address')), 'iPTextAddress');
    refused(() => encodePsPdu(text('2001:db8::1é')), 'iPTextAddress');
  });

  it('iPv6PrefixLength: INTEGER (1..128)', () => {
    const c = iriContents(roundTrip(withAddress({ iPv6PrefixLength: 128 }))).contents;
    expect(c.kind === 'iPIRI' && c.value.contents.targetIPAddress?.iPv6PrefixLength).toBe(128);
    refused(() => encodePsPdu(withAddress({ iPv6PrefixLength: 0 })), 'iPv6PrefixLength');
    refused(() => encodePsPdu(withAddress({ iPv6PrefixLength: 129 })), 'iPv6PrefixLength');
  });

  it('iPv4SubnetMask: OCTET STRING (SIZE (4))', () => {
    const mask = Uint8Array.from([255, 255, 255, 248]);
    const v4 = (m: Uint8Array) =>
      withAddress({ type: 0, value: { kind: 'binary', bytes: new Uint8Array(4) }, iPv4SubnetMask: m });
    const c = iriContents(roundTrip(v4(mask))).contents;
    expect(c.kind === 'iPIRI' && Buffer.from(c.value.contents.targetIPAddress!.iPv4SubnetMask!)).toEqual(
      Buffer.from(mask),
    );
    refused(() => encodePsPdu(v4(Uint8Array.from([255, 255, 255]))), 'iPv4SubnetMask');
  });

  it('iRIType: ENUMERATED begin(1) .. report(4)', () => {
    expect(iriContents(roundTrip(ipIri({ iriType: 4 }))).iriType).toBe(4);
    refused(() => encodePsPdu(ipIri({ iriType: 0 })), 'iRIType');
    refused(() => encodePsPdu(ipIri({ iriType: 5 })), 'iRIType');
  });

  it('EmailIRI client-Port and server-Port: 0..65535', () => {
    const c = iriContents(roundTrip(emailIri({ clientPort: 65535, serverPort: 0 }))).contents;
    expect(c.kind === 'emailIRI' && [c.value.clientPort, c.value.serverPort]).toEqual([65535, 0]);
    refused(() => encodePsPdu(emailIri({ clientPort: 65536 })), 'client-Port');
    refused(() => encodePsPdu(emailIri({ serverPort: -1 })), 'server-Port');
  });

  it('IPIRI pOPPortNumber: INTEGER (0..4294967295)', () => {
    const c = iriContents(roundTrip(ipIri({ contents: { pOPPortNumber: 0xffff_ffff } }))).contents;
    expect(c.kind === 'iPIRI' && c.value.contents.pOPPortNumber).toBe(0xffff_ffff);
    refused(() => encodePsPdu(ipIri({ contents: { pOPPortNumber: 2 ** 32 } })), 'pOPPortNumber');
  });
});
