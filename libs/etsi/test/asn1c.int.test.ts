// Independent check: PS-PDUs and HI2 IRIs from our encoder, decoded by asn1c decoders built from
// the ETSI modules (tools/build-asn1c.ts), with constraint checks on (-c).
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatGeneralizedTime, formatUtcTime } from '../src/ber.ts';
import { encodeHi2Iri, encodeHi2IrisContent, type Hi2Iri } from '../src/hi2.ts';
import { encodePsPdu, type IriContents, type Payload, type PsPdu } from '../src/pspdu.ts';
import { SAMPLE_PACKET, sampleHi2Iri, samplePdu } from '../src/testing.ts';
import { applyTimeRulesToHi2, applyTimeRulesToPsPdu } from '../src/time-rules.ts';
import { asn1cNotRun } from '../tools/build-asn1c.ts';
import { arbIpPdu } from './support/arbitraries.ts';
import { Asn1c } from './support/asn1c.ts';
import { at, hexOf, list, parseXerAll, str, type XerValue } from './support/xer.ts';

// Without the ETSI modules (LI_ASN1_DIR) these tests are reported as not run, by name.
const NOT_RUN = asn1cNotRun('asn1c conformance');
beforeEach((ctx) => {
  if (NOT_RUN) ctx.skip(NOT_RUN);
});

const hex = (s: string | Uint8Array) =>
  Buffer.from(s as string, typeof s === 'string' ? 'latin1' : undefined).toString('hex');
const QUALIFIER = ['unknown', 'timeOfInterception', 'timeOfMediation', 'timeOfAggregation'];

/** Asserts the asn1c view of a PSHeader equals what was encoded. */
function expectHeader(x: XerValue, pdu: PsPdu): void {
  const h = pdu.header;
  const ci = h.communicationIdentifier;
  expect(str(x, 'pSHeader', 'li-psDomainId')).toBe('0.4.0.2.2.5.1.43');
  expect(hexOf(str(x, 'pSHeader', 'lawfulInterceptionIdentifier'))).toBe(hex(h.liid));
  if (h.authorizationCountryCode)
    expect(str(x, 'pSHeader', 'authorizationCountryCode')).toBe(h.authorizationCountryCode);
  const c = at(x, 'pSHeader', 'communicationIdentifier');
  expect(hexOf(str(c, 'networkIdentifier', 'operatorIdentifier'))).toBe(hex(ci.operatorIdentifier));
  if (ci.networkElementIdentifier !== undefined) {
    expect(hexOf(str(c, 'networkIdentifier', 'networkElementIdentifier'))).toBe(hex(ci.networkElementIdentifier));
  }
  if (ci.cin !== undefined) expect(Number(str(c, 'communicationIdentityNumber'))).toBe(ci.cin);
  if (ci.deliveryCountryCode) expect(str(c, 'deliveryCountryCode')).toBe(ci.deliveryCountryCode);
  expect(Number(str(x, 'pSHeader', 'sequenceNumber'))).toBe(h.sequenceNumber);
  if (h.timeStamp !== undefined) expect(str(x, 'pSHeader', 'timeStamp')).toBe(formatGeneralizedTime(h.timeStamp));
  if (h.microSecondTimeStamp) {
    expect(Number(str(x, 'pSHeader', 'microSecondTimeStamp', 'seconds'))).toBe(h.microSecondTimeStamp.seconds);
    expect(Number(str(x, 'pSHeader', 'microSecondTimeStamp', 'microSeconds'))).toBe(
      h.microSecondTimeStamp.microSeconds,
    );
  }
  if (h.timeStampQualifier !== undefined) {
    expect(str(x, 'pSHeader', 'timeStampQualifier')).toBe(QUALIFIER[h.timeStampQualifier]);
  }
}

describe('PS-PDU decoded by asn1c (LI-PS-PDU v43 + IPAccessPDU v18)', () => {
  let dec: Asn1c;
  // The first run on a fresh clone compiles the decoder (seconds; more on a loaded machine).
  beforeAll(() => {
    if (!NOT_RUN) dec = new Asn1c('pspdu');
  }, 180_000);
  afterAll(() => dec?.close());

  it('IPIRI: header and every IPIRI field', () => {
    const pdu = samplePdu('ipIri');
    const { root, value } = dec.decode(encodePsPdu(pdu));
    expect(root).toBe('PS-PDU');
    expectHeader(value, pdu);
    const item = at(value, 'payload', 'iRIPayloadSequence', 'IRIPayload');
    expect(str(item, 'iRIType')).toBe('iRI-Begin');
    const ipiri = at(item, 'iRIContents', 'iPIRI');
    expect(str(ipiri, 'iPIRIObjId')).toBe('5.3.18.1');
    const c = at(ipiri, 'iPIRIContents');
    expect(str(c, 'accessEventType')).toBe('accessAccept');
    expect(hexOf(str(c, 'targetUsername'))).toBe(hex('user@example.net'));
    expect(str(c, 'internetAccessType')).toBe('xDSL');
    expect(str(c, 'iPVersion')).toBe('iPV4');
    expect(str(c, 'targetIPAddress', 'iP-type')).toBe('iPV4');
    expect(hexOf(str(c, 'targetIPAddress', 'iP-value', 'iPBinaryAddress'))).toBe('c000020a');
    expect(str(c, 'targetIPAddress', 'iP-assignment')).toBe('notKnown');
    expect(str(c, 'startTime')).toBe(formatGeneralizedTime(1_795_300_000_000_000));
    expect(str(c, 'octetsReceived')).toBe('123456789');
    expect(str(c, 'pOPPortNumber')).toBe('1863');
  });

  it('IPCC: direction and the packet bytes', () => {
    const pdu = samplePdu('ipCc', { sequenceNumber: 4294967295 });
    const { value } = dec.decode(encodePsPdu(pdu));
    expectHeader(value, pdu);
    const item = at(value, 'payload', 'cCPayloadSequence', 'CCPayload');
    expect(str(item, 'payloadDirection')).toBe('fromTarget');
    expect(str(item, 'cCContents', 'iPCC', 'iPCCObjId')).toBe('5.3.18.2');
    expect(hexOf(str(item, 'cCContents', 'iPCC', 'iPCCContents', 'iPPackets'))).toBe(SAMPLE_PACKET.toString('hex'));
  });

  it('IPCC with a 100 kB packet (long-form lengths at every level)', () => {
    const big = Buffer.alloc(100_000, 0x5a);
    const pdu: PsPdu = {
      header: samplePdu('ipCc').header,
      payload: {
        kind: 'cc',
        items: [{ contents: { kind: 'iPCC', value: { contents: { kind: 'iPPackets', packets: big } } } }],
      },
    };
    const { value } = dec.decode(encodePsPdu(pdu));
    expect(
      hexOf(str(value, 'payload', 'cCPayloadSequence', 'CCPayload', 'cCContents', 'iPCC', 'iPCCContents', 'iPPackets')),
    ).toBe(big.toString('hex'));
  });

  it.each([
    ['keepAlive', 'keep-alive'],
    ['keepAliveResponse', 'keep-aliveResponse'],
    ['firstSegment', 'firstSegmentFlag'],
    ['lastSegment', 'lastSegmentFlag'],
    ['cinReset', 'cINReset'],
    ['pduAckRequest', 'pDUAcknowledgementRequest'],
  ] as const)('TRI %s', (name, xerName) => {
    const pdu = samplePdu(name);
    const { value } = dec.decode(encodePsPdu(pdu));
    expectHeader(value, pdu);
    expect(str(value, 'payload', 'tRIPayload')).toBe(xerName);
  });

  it('TRI operatorLeaMessage and integrityCheck', () => {
    const m = dec.decode(encodePsPdu(samplePdu('operatorLeaMessage'))).value;
    expect(str(m, 'payload', 'tRIPayload', 'operatorLeaMessage', 'messagePriority')).toBe('informational');
    expect(hexOf(str(m, 'payload', 'tRIPayload', 'operatorLeaMessage', 'message'))).toBe(hex('maintenance'));
    const ic = at(
      dec.decode(encodePsPdu(samplePdu('integrityCheck'))).value,
      'payload',
      'tRIPayload',
      'integrityCheck',
    );
    expect(list(ic, 'includedSequenceNumbers', 'INTEGER')).toEqual(['0', '1', '2', '4294967295']);
    expect(str(ic, 'checkType')).toBe('hash');
    expect(str(ic, 'dataType')).toBe('iRI');
    expect(hexOf(str(ic, 'checkValue'))).toBe('ab'.repeat(32));
    expect(str(ic, 'hashAlgorithm')).toBe('sHA-256');
  });

  it('HI1 notification: header and outer framing only (HI1NotificationOperations is not in spec/asn1)', () => {
    // The asn1c profile comments out Payload [3] hI1-Operation because the HI1NotificationOperations
    // module text is not in shared/spec/asn1 (SOURCES.md §4). asn1c then skips the alternative as an
    // unknown extension: this checks the PSHeader and that every length around the payload holds;
    // the Notification itself is checked by the golden bytes in src/hi1.test.ts.
    const pdu: PsPdu = {
      header: { ...samplePdu('ipIri').header, sequenceNumber: 3 },
      payload: {
        kind: 'hi1',
        operation: {
          kind: 'liModified',
          notification: {
            liid: 'LIID0001',
            communicationIdentifier: { operatorIdentifier: 'ACME' },
            timeStamp: { kind: 'utcTime', micros: 1_795_300_000_000_000 },
            targetInformation: Buffer.from('+390612345678'),
          },
        },
      },
    };
    const bytes = encodePsPdu(pdu);
    const r = dec.runBerOnly(bytes);
    expect(r.stderr).not.toMatch(/Decode failed/);
    const xer = r.xer.replace(/<payload>[\s\S]*$/, '');
    expectHeader(parseXerAll(`${xer}</PS-PDU>`)[0]![1], pdu);
    expect(dec.runBerOnly(bytes.subarray(0, bytes.length - 3)).stderr).toMatch(/Decode failed/);
  });

  it('time rules: IPIRI rewritten to three fraction digits and to each header layout decodes with constraint checks', () => {
    // header ".123456", start ".0", end ".5": what receivers on OpenLI's decoder library misread
    const at0 = 1_795_300_000_000_000;
    const base = samplePdu('ipIri');
    const item = (base.payload as Extract<Payload, { kind: 'iri' }>).items[0]!;
    const contents = (item.contents as Extract<IriContents, { kind: 'iPIRI' }>).value.contents;
    const pdu: PsPdu = {
      header: base.header,
      payload: {
        kind: 'iri',
        items: [{ ...item, contents: { kind: 'iPIRI', value: { contents: { ...contents, endTime: at0 + 500_000 } } } }],
      },
    };
    const bytes = encodePsPdu(pdu);
    const layouts = [
      ['AS_ENCODED', 'AS_ENCODED', ['timeStamp', 'microSecondTimeStamp', 'timeStampQualifier']],
      ['GENERALIZED_TIME', 'AS_ENCODED', ['timeStamp', 'timeStampQualifier']],
      ['MICROSECOND', 'AS_ENCODED', ['microSecondTimeStamp', 'timeStampQualifier']],
      ['GENERALIZED_TIME', 'OMIT', ['timeStamp']],
    ] as const;
    for (const [headerTime, headerQualifier, fields] of layouts) {
      const r = applyTimeRulesToPsPdu(bytes, { headerTime, headerQualifier, fractionDigits: 3 });
      if (!r.ok) throw new Error(r.reason);
      const { value } = dec.decode(r.value);
      for (const f of ['timeStamp', 'microSecondTimeStamp', 'timeStampQualifier']) {
        const present = typeof at(value, 'pSHeader') === 'object' && f in (at(value, 'pSHeader') as object);
        expect(present, `${headerTime}/${headerQualifier} ${f}`).toBe((fields as readonly string[]).includes(f));
      }
      if (headerTime !== 'MICROSECOND') expect(str(value, 'pSHeader', 'timeStamp')).toBe('20261121222640.123Z');
      if (headerTime !== 'GENERALIZED_TIME') {
        expect(str(value, 'pSHeader', 'microSecondTimeStamp', 'microSeconds')).toBe('123456');
      }
      const c = at(value, 'payload', 'iRIPayloadSequence', 'IRIPayload', 'iRIContents', 'iPIRI', 'iPIRIContents');
      expect(str(c, 'startTime')).toBe('20261121222640.000Z');
      expect(str(c, 'endTime')).toBe('20261121222640.500Z');
      expect(str(c, 'octetsReceived')).toBe('123456789');
    }
  });

  it('asn1c rejects a broken record (the oracle can fail)', () => {
    const good = encodePsPdu(samplePdu('ipIri'));
    expect(dec.run(good.subarray(0, good.length - 3)).status).not.toBe(0);
    const bad = Buffer.from(encodePsPdu(samplePdu('keepAlive', { authorizationCountryCode: 'IT' })));
    bad[bad.indexOf(Buffer.from('8202', 'hex')) + 2] = 0x00; // NUL is not a PrintableString char
    expect(dec.run(bad).status).not.toBe(0);
  });

  it('random IP-access PDUs: 150 per run, one asn1c call, every field equal', () => {
    const pdus = fc.sample(arbIpPdu, { numRuns: 150, seed: 4242 });
    const r = dec.run(Buffer.concat(pdus.map(encodePsPdu)));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const docs = parseXerAll(r.xer);
    expect(docs).toHaveLength(pdus.length);
    docs.forEach(([, x], i) => {
      const pdu = pdus[i]!;
      expectHeader(x, pdu);
      if (pdu.payload.kind === 'iri') {
        const it0 = pdu.payload.items[0]!;
        if (it0.contents.kind !== 'iPIRI') throw new Error('unexpected');
        const c = at(x, 'payload', 'iRIPayloadSequence', 'IRIPayload', 'iRIContents', 'iPIRI', 'iPIRIContents');
        expect(hexOf(str(c, 'targetUsername'))).toBe(hex(it0.contents.value.contents.targetUsername));
        const ip = it0.contents.value.contents.targetIPAddress;
        if (ip && ip.value.kind === 'binary') {
          expect(hexOf(str(c, 'targetIPAddress', 'iP-value', 'iPBinaryAddress'))).toBe(hex(ip.value.bytes));
        }
      } else if (pdu.payload.kind === 'cc') {
        const it0 = pdu.payload.items[0]!;
        if (it0.contents.kind !== 'iPCC' || it0.contents.value.contents.kind !== 'iPPackets')
          throw new Error('unexpected');
        const got = str(
          x,
          'payload',
          'cCPayloadSequence',
          'CCPayload',
          'cCContents',
          'iPCC',
          'iPCCContents',
          'iPPackets',
        );
        expect(hexOf(got)).toBe(hex(it0.contents.value.contents.packets));
      }
    });
  });
});

const RECORD_NAME = ['', 'iRI-Begin-record', 'iRI-End-record', 'iRI-Continue-record', 'iRI-Report-record'];

function expectHi2(rec: XerValue, iri: Hi2Iri): void {
  const p = iri.params;
  expect(str(rec, 'domainID')).toBe('0.4.0.2.2.1.11');
  expect(str(rec, 'iRIversion')).toBe('lastVersion');
  expect(hexOf(str(rec, 'lawfulInterceptionIdentifier'))).toBe(hex(p.liid));
  expect(hexOf(str(rec, 'communicationIdentifier', 'communication-Identity-Number'))).toBe(
    hex(p.communicationIdentifier.cin!),
  );
  const nid = at(rec, 'communicationIdentifier', 'network-Identifier');
  expect(hexOf(str(nid, 'operator-Identifier'))).toBe(hex(p.communicationIdentifier.operatorIdentifier));
  const ne = p.communicationIdentifier.networkElementIdentifier;
  if (ne?.kind === 'dNS') expect(hexOf(str(nid, 'network-Element-Identifier', 'dNS-Format'))).toBe(hex(ne.value));
  if (ne?.kind === 'iPAddress') {
    expect(str(nid, 'network-Element-Identifier', 'iP-Address', 'iP-type')).toBe('iPV4');
  }
  if (p.timeStamp.kind === 'localTime') {
    expect(str(rec, 'timeStamp', 'localTime', 'generalizedTime')).toBe(formatGeneralizedTime(p.timeStamp.micros));
    expect(str(rec, 'timeStamp', 'localTime', 'winterSummerIndication')).toBe('notProvided');
  } else {
    expect(str(rec, 'timeStamp', 'utcTime')).toBe(formatUtcTime(p.timeStamp.micros));
  }
  expect(str(rec, 'intercepted-Call-Direct')).toBe('originating-Target');
  expect(str(rec, 'intercepted-Call-State')).toBe('setUpInProcess');
  expect(hexOf(str(rec, 'conversationDuration'))).toBe('010203');
  const parties = list(rec, 'partyInformation', 'PartyInformation');
  expect(parties).toHaveLength(2);
  expect(str(parties[0]!, 'party-Qualifier')).toBe('originating-Party');
  expect(hexOf(str(parties[0]!, 'partyIdentity', 'sip-uri'))).toBe(hex('sip:alice@example.com'));
  expect(hexOf(str(parties[0]!, 'partyIdentity', 'msISDN'))).toBe('913906214365f7');
  expect(str(parties[1]!, 'party-Qualifier')).toBe('terminating-Party');
  expect(hexOf(str(parties[1]!, 'partyIdentity', 'tel-url'))).toBe(hex('tel:+390612345678'));
  expect(hexOf(str(parties[1]!, 'partyIdentity', 'calledPartyNumber', 'iSUP-Format'))).toBe('0313');
  expect(hexOf(str(rec, 'release-Reason-Of-Intercepted-Call'))).toBe('8090');
  expect(hexOf(str(rec, 'sIPMessage'))).toBe(hex(p.sipMessage!));
  expect(str(rec, 'national-HI2-ASN1parameters', 'countryCode')).toBe('IT');
}

describe('HI2 IRI decoded by asn1c (TS 101 671 HI2Operations version11)', () => {
  let dec: Asn1c;
  beforeAll(() => {
    if (!NOT_RUN) dec = new Asn1c('hi2');
  }, 180_000);
  afterAll(() => dec?.close());

  it.each([1, 2, 3, 4])('IRI record type %i', (type) => {
    const iri = sampleHi2Iri(type);
    const { root, value } = dec.decode(encodeHi2Iri(iri));
    expect(root).toBe('IRIsContent');
    expectHi2(at(value, 'iRIContent', RECORD_NAME[type]!), iri);
  });

  it('UTCTime timestamp and an iP-Address network element', () => {
    const iri = sampleHi2Iri(4);
    iri.params.timeStamp = { kind: 'utcTime', micros: 1_795_300_000_000_000 };
    iri.params.communicationIdentifier.networkElementIdentifier = {
      kind: 'iPAddress',
      address: { type: 0, value: { kind: 'binary', bytes: Uint8Array.of(10, 1, 2, 3) } },
    };
    const { value } = dec.decode(encodeHi2Iri(iri));
    expectHi2(at(value, 'iRIContent', 'iRI-Report-record'), iri);
  });

  it('iRISequence with two records', () => {
    const a = sampleHi2Iri(1);
    const b = sampleHi2Iri(3);
    const { value } = dec.decode(encodeHi2IrisContent({ kind: 'iRISequence', iris: [a, b] }));
    const seq = at(value, 'iRISequence') as Record<string, XerValue>;
    expectHi2(at(seq, 'iRI-Begin-record'), a);
    expectHi2(at(seq, 'iRI-Continue-record'), b);
  });

  it('time rules: a record rewritten to three fraction digits decodes with constraint checks', () => {
    const iri = sampleHi2Iri(1);
    iri.params.timeStamp = { kind: 'localTime', micros: 1_795_300_000_000_000, winterSummer: 0 };
    expect(formatGeneralizedTime(1_795_300_000_000_000)).toBe('20261121222640Z');
    const r = applyTimeRulesToHi2(encodeHi2Iri(iri), {
      headerTime: 'AS_ENCODED',
      headerQualifier: 'AS_ENCODED',
      fractionDigits: 3,
    });
    if (!r.ok) throw new Error(r.reason);
    const { value } = dec.decode(r.value);
    const rec = at(value, 'iRIContent', 'iRI-Begin-record');
    expect(str(rec, 'timeStamp', 'localTime', 'generalizedTime')).toBe('20261121222640.000Z');
    expect(hexOf(str(rec, 'lawfulInterceptionIdentifier'))).toBe(hex(iri.params.liid));
  });

  it('rejects the untagged form (no iRIContent wrapper)', () => {
    const wrapped = encodeHi2Iri(sampleHi2Iri(1));
    // Strip the A0 wrapper: the bare A1 record is not an IRIsContent.
    const inner = wrapped.subarray(wrapped[1]! & 0x80 ? 2 + (wrapped[1]! & 0x7f) : 2);
    expect(dec.run(inner).status).not.toBe(0);
  });
});
