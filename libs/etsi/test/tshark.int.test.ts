// Independent check: HI2 IRI records decoded by bookworm tshark's HI2Operations dissector
// (TS 101 671 version11), and every PS-PDU type walked by tshark's generic BER dissector.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeHi2Iri, encodeHi2IrisContent, type Hi2Iri } from '../src/hi2.ts';
import { encodePsPdu } from '../src/pspdu.ts';
import { SAMPLE_PAYLOADS, type SamplePayloadName, sampleHi2Iri, samplePdu } from '../src/testing.ts';
import { applyTimeRulesToHi2 } from '../src/time-rules.ts';
import { arbHi2Iri, arbPdu } from './support/arbitraries.ts';
import { Tshark } from './support/tshark.ts';

const hex = (s: string | Uint8Array) =>
  Buffer.from(s as string, typeof s === 'string' ? 'latin1' : undefined).toString('hex');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** tshark's absolute-time text, e.g. "Jan  1, 2024 12:00:00.000000000 UTC", to microseconds. */
function tsharkTime(s: string): number {
  const m = /^(\w{3}) +(\d+), (\d{4}) (\d{2}):(\d{2}):(\d{2})\.(\d{9}) UTC$/.exec(s);
  if (!m) throw new Error(`unexpected tshark time ${s}`);
  const ms = Date.UTC(Number(m[3]), MONTHS.indexOf(m[1]!), Number(m[2]), Number(m[4]), Number(m[5]), Number(m[6]));
  return ms * 1000 + Math.floor(Number(m[7]) / 1000);
}

const HI2_FIELDS = [
  'HI2Operations.lawfulInterceptionIdentifier',
  'HI2Operations.iRIContent',
  'HI2Operations.communication_Identity_Number',
  'HI2Operations.operator_Identifier',
  'HI2Operations.generalizedTime',
  'HI2Operations.domainID',
  'HI2Operations.intercepted_Call_Direct',
  'HI2Operations.sip_uri',
  'HI2Operations.sIPMessage',
];

describe('HI2 IRI in tshark 4.0 HI2Operations', () => {
  let ts: Tshark;
  beforeAll(() => {
    ts = new Tshark();
  });
  afterAll(() => ts.close());

  it('BEGIN/END/CONTINUE/REPORT records decode clean with the encoded fields', () => {
    const iris = [1, 2, 3, 4].map((t) => sampleHi2Iri(t));
    const pcap = ts.pcap(iris.map(encodeHi2Iri), 'HI2Operations');
    expect(ts.problems(pcap)).toBe(0);
    const rows = ts.fields(pcap, HI2_FIELDS);
    expect(rows).toHaveLength(4);
    rows.forEach((r, i) => {
      const p = iris[i]!.params;
      expect(r[0]).toBe(hex(p.liid));
      expect(r[1]).toBe(String(i + 1));
      expect(r[2]).toBe(hex(p.communicationIdentifier.cin!));
      expect(r[3]).toBe(hex(p.communicationIdentifier.operatorIdentifier));
      expect(tsharkTime(r[4]!)).toBe(p.timeStamp.micros);
      expect(r[5]).toBe('0.4.0.2.2.1.11');
      expect(r[6]).toBe('1');
      expect(r[7]).toBe(hex('sip:alice@example.com'));
      expect(r[8]).toBe(hex(p.sipMessage!));
    });
  });

  it('time rules: records rewritten to exactly three fraction digits decode clean, times truncated to the ms', () => {
    const iris = [0, 500_000, 123_456].map((frac, i) => {
      const iri = sampleHi2Iri(i + 1);
      iri.params.timeStamp = { kind: 'localTime', micros: 1_795_300_000_000_000 + frac, winterSummer: 0 };
      return iri;
    });
    const rules = { headerTime: 'AS_ENCODED', headerQualifier: 'AS_ENCODED', fractionDigits: 3 } as const;
    const rewritten = iris.map((iri) => {
      const r = applyTimeRulesToHi2(encodeHi2Iri(iri), rules);
      if (!r.ok) throw new Error(r.reason);
      return r.value;
    });
    for (const b of rewritten) expect(b.toString('latin1')).toMatch(/\d{14}\.\d{3}Z/);
    const pcap = ts.pcap(rewritten, 'HI2Operations');
    expect(ts.problems(pcap)).toBe(0);
    const rows = ts.fields(pcap, ['HI2Operations.lawfulInterceptionIdentifier', 'HI2Operations.generalizedTime']);
    expect(rows.map((r) => tsharkTime(r[1]!))).toEqual([
      1_795_300_000_000_000, 1_795_300_000_500_000, 1_795_300_000_123_000,
    ]);
    expect(rows.map((r) => r[0])).toEqual(iris.map((iri) => hex(iri.params.liid)));
  });

  it('an iRISequence and a UTCTime record decode clean', () => {
    const utc = sampleHi2Iri(4);
    utc.params.timeStamp = { kind: 'utcTime', micros: 1_795_300_000_000_000 };
    const pcap = ts.pcap(
      [encodeHi2IrisContent({ kind: 'iRISequence', iris: [sampleHi2Iri(1), sampleHi2Iri(2)] }), encodeHi2Iri(utc)],
      'HI2Operations',
    );
    expect(ts.problems(pcap)).toBe(0);
    const rows = ts.fields(pcap, ['HI2Operations.IRIsContent', 'HI2Operations.IRIContent', 'HI2Operations.utcTime']);
    expect(rows[0]!.slice(0, 2)).toEqual(['1', '1,2']); // iRISequence holding a begin and an end record
    // tshark prints UTCTime as YY-MM-DD hh:mm:ss (UTC); 1_795_300_000 s is 2026-11-21 22:26:40Z.
    expect(rows[1]![2]).toBe('26-11-21 22:26:40 (UTC)');
  });

  it('tshark flags a broken record (the oracle can fail)', () => {
    const good = encodeHi2Iri(sampleHi2Iri(1));
    const pcap = ts.pcap([good.subarray(0, good.length - 5)], 'HI2Operations');
    expect(ts.problems(pcap)).toBe(1);
  });

  it('100 random IRI records: clean, LIID/type/CIN/time as encoded', () => {
    const iris: Hi2Iri[] = fc.sample(arbHi2Iri, { numRuns: 100, seed: 99 });
    const pcap = ts.pcap(iris.map(encodeHi2Iri), 'HI2Operations');
    expect(ts.problems(pcap)).toBe(0);
    const rows = ts.fields(pcap, HI2_FIELDS.slice(0, 5));
    expect(rows).toHaveLength(iris.length);
    rows.forEach((r, i) => {
      const p = iris[i]!.params;
      expect(r[0]).toBe(hex(p.liid));
      expect(r[1]).toBe(String(iris[i]!.recordType));
      expect(r[2]).toBe(p.communicationIdentifier.cin === undefined ? '' : hex(p.communicationIdentifier.cin));
      expect(r[3]).toBe(hex(p.communicationIdentifier.operatorIdentifier));
      if (p.timeStamp.kind === 'localTime') expect(tsharkTime(r[4]!)).toBe(p.timeStamp.micros);
    });
  });
});

describe('PS-PDU in tshark generic BER (no LI-PS-PDU dissector in 4.0)', () => {
  it('every record type and 60 random PDUs parse as well-formed BER', () => {
    const ts = new Tshark();
    try {
      const named = (Object.keys(SAMPLE_PAYLOADS) as SamplePayloadName[]).map((n) => encodePsPdu(samplePdu(n)));
      const random = fc.sample(arbPdu, { numRuns: 60, seed: 7 }).map(encodePsPdu);
      const pcap = ts.pcap([...named, ...random], 'ber');
      expect(ts.problems(pcap)).toBe(0);
      expect(ts.fields(pcap, ['frame.number'])).toHaveLength(named.length + random.length);
    } finally {
      ts.close();
    }
  });
});
