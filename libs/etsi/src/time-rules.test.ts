import { fromBER } from 'asn1js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbHi2IrisContent, arbMorePdu, arbPdu } from '../test/support/arbitraries.ts';
import { BerWriter, CONTEXT, children, readTlv, type Tlv } from './ber.ts';
import type { Hi1Notification } from './hi1.ts';
import { decodeHi2, encodeHi2Iri, encodeHi2IrisContent, type Hi2IrisContent } from './hi2.ts';
import { encodeKeepalive } from './keepalive.ts';
import {
  decodePsPdu,
  encodePsPdu,
  microSecondTimeStamp,
  type Payload,
  type PsPdu,
  TIMESTAMP_QUALIFIER,
} from './pspdu.ts';
import { SAMPLE_PAYLOADS, type SamplePayloadName, sampleHeader, sampleHi2Iri, samplePdu } from './testing.ts';
import { applyTimeRulesToHi2, applyTimeRulesToPsPdu, type TimeRules, withFractionDigits } from './time-rules.ts';

const SECOND = 1_795_300_000_000_000; // 2026-11-21T22:26:40Z, a whole second, in microseconds
const AS_ENCODED: TimeRules = { headerTime: 'AS_ENCODED', fractionDigits: null, headerQualifier: 'AS_ENCODED' };
const digitsRule = (fractionDigits: number): TimeRules => ({ ...AS_ENCODED, fractionDigits });

/** Every GeneralizedTime text in a BER record (primitive values of that shape; strings are not walked into). */
function timeTexts(buf: Uint8Array): string[] {
  const out: string[] = [];
  const walk = (t: Tlv) => {
    if (t.constructed) {
      for (const c of children(buf, t)) walk(c);
      return;
    }
    const s = Buffer.from(buf.subarray(t.start, t.end)).toString('latin1');
    if (/^\d{14}(?:\.\d+)?(?:Z|[+-]\d{4})$/.test(s)) out.push(s);
  };
  walk(readTlv(buf, 0, buf.length));
  return out;
}

const fractionOf = (text: string) => /\.(\d+)/.exec(text)?.[1] ?? '';

/** The decoded value as it must read after truncating every GeneralizedTime to `digits`. */
function truncated<T>(value: T, digits: number): T {
  const unit = 10 ** (6 - digits);
  const floor = (n: number) => Math.floor(n / unit) * unit;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v instanceof Uint8Array || v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) {
      const isTime = ['timeStamp', 'startTime', 'endTime', 'expectedEndTime'].includes(k) && typeof x === 'number';
      out[k] = isTime ? floor(x as number) : walk(x);
    }
    if (o.kind === 'localTime' && typeof o.micros === 'number') out.micros = floor(o.micros);
    return out;
  };
  return walk(value) as T;
}

/** asn1js reads the bytes without error and encodes them back to the same octets. */
function expectAsn1jsReads(bytes: Uint8Array): void {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const r = fromBER(ab);
  expect(r.offset, `asn1js: ${r.result.error}`).toBe(bytes.byteLength);
  expect(r.result.error).toBe('');
  expect(Buffer.from(r.result.toBER()).equals(Buffer.from(bytes))).toBe(true);
}

const localTime = (micros: number, offsetMinutes?: number) => ({
  kind: 'localTime' as const,
  micros,
  winterSummer: 0,
  ...(offsetMinutes === undefined ? {} : { offsetMinutes }),
});

const hi1 = (notification: Hi1Notification): Payload => ({
  kind: 'hi1',
  operation: { kind: 'liDeactivated', notification },
});

/** Every record type we write that carries a time, with fractions of 0, 1, 3 and 6 digits. */
const CASES: Record<string, PsPdu> = {
  ...Object.fromEntries(Object.keys(SAMPLE_PAYLOADS).map((n) => [n, samplePdu(n as SamplePayloadName)])),
  'IRI with payload timeStamp ".5"': {
    header: sampleHeader(),
    payload: {
      kind: 'iri',
      items: [{ ...SAMPLE_PAYLOADS.emailIri.items[0]!, timeStamp: SECOND + 500_000 }],
    } as Payload,
  },
  'CC with payload timeStamp': {
    header: sampleHeader(),
    payload: { kind: 'cc', items: [{ ...SAMPLE_PAYLOADS.ipCc.items[0]!, timeStamp: SECOND + 7 }] } as Payload,
  },
  'IPIRI start, end and expected end': {
    header: sampleHeader({ timeStamp: SECOND, microSecondTimeStamp: microSecondTimeStamp(SECOND) }),
    payload: {
      kind: 'iri',
      items: [
        {
          ...SAMPLE_PAYLOADS.ipIri.items[0]!,
          contents: {
            kind: 'iPIRI',
            value: {
              contents: {
                ...SAMPLE_PAYLOADS.ipIri.items[0]!.contents.value.contents,
                startTime: SECOND,
                endTime: SECOND + 120_000,
                expectedEndTime: SECOND + 999_999,
              },
            },
          },
        },
      ],
    } as Payload,
  },
  'eTSI671IRI iRIParameters, local time with offset': {
    header: sampleHeader(),
    payload: {
      kind: 'iri',
      items: [
        {
          iriType: 1,
          contents: {
            kind: 'eTSI671IRI',
            value: {
              kind: 'iRIParameters',
              params: { ...sampleHi2Iri().params, timeStamp: localTime(SECOND + 250_000, 60) },
            },
          },
        },
      ],
    },
  },
  'eTSI671IRI iRIsContent (iRISequence of two)': {
    header: sampleHeader(),
    payload: {
      kind: 'iri',
      items: [
        {
          iriType: 4,
          contents: {
            kind: 'eTSI671IRI',
            value: { kind: 'iRIsContent', content: { kind: 'iRISequence', iris: [sampleHi2Iri(1), sampleHi2Iri(4)] } },
          },
        },
      ],
    },
  },
  'HI1 liDeactivated, local time': {
    header: sampleHeader({ timeStampQualifier: TIMESTAMP_QUALIFIER.timeOfMediation }),
    payload: hi1({ liid: 'LIID0001', timeStamp: localTime(SECOND + 1_000) }),
  },
  'HI1 liActivated, UTCTime (no fraction to write)': {
    header: sampleHeader({ timeStampQualifier: TIMESTAMP_QUALIFIER.timeOfMediation }),
    payload: {
      kind: 'hi1',
      operation: {
        kind: 'liActivated',
        notification: { liid: 'LIID0001', timeStamp: { kind: 'utcTime', micros: SECOND } },
      },
    },
  },
  'keep-alive whole second, header timeStamp only': {
    header: sampleHeader({ timeStamp: SECOND, microSecondTimeStamp: undefined }),
    payload: SAMPLE_PAYLOADS.keepAlive,
  },
};

describe('time rules on PS-PDUs: fraction digits', () => {
  for (const [name, pdu] of Object.entries(CASES)) {
    const original = encodePsPdu(pdu);
    const before = decodePsPdu(original);
    it(`${name}: rules that change nothing give the same bytes`, () => {
      const r = applyTimeRulesToPsPdu(original, AS_ENCODED);
      expect(r.ok && r.value.equals(original)).toBe(true);
    });
    for (const digits of [3, 0, 6]) {
      it(`${name}: exactly ${digits} fraction digits, every other value unchanged`, () => {
        expect(before.ok).toBe(true);
        const r = applyTimeRulesToPsPdu(original, digitsRule(digits));
        if (!r.ok) throw new Error(r.reason);
        const texts = timeTexts(r.value);
        expect(texts.length).toBe(timeTexts(original).length);
        for (const t of texts) expect(fractionOf(t), t).toHaveLength(digits);
        const after = decodePsPdu(r.value);
        if (!after.ok || !before.ok) throw new Error('decode failed');
        expect(after.value).toEqual(truncated(before.value, digits));
        expectAsn1jsReads(r.value);
      });
    }
  }

  it('milliseconds: ".5" becomes ".500", a whole second ".000", six digits are truncated', () => {
    const pdu = CASES['IPIRI start, end and expected end']!;
    const r = applyTimeRulesToPsPdu(encodePsPdu(pdu), digitsRule(3));
    if (!r.ok) throw new Error(r.reason);
    expect(timeTexts(encodePsPdu(pdu))).toEqual([
      '20261121222640Z',
      '20261121222640Z',
      '20261121222640.12Z',
      '20261121222640.999999Z',
    ]);
    expect(timeTexts(r.value)).toEqual([
      '20261121222640.000Z',
      '20261121222640.000Z',
      '20261121222640.120Z',
      '20261121222640.999Z',
    ]);
  });
});

describe('time rules on PS-PDUs: header fields and qualifier', () => {
  const headerTags = (bytes: Uint8Array) => {
    const top = readTlv(bytes, 0, bytes.length);
    const h = children(bytes, top)[0]!;
    return children(bytes, h).map((c) => c.num);
  };
  const ms: TimeRules = { headerTime: 'AS_ENCODED', fractionDigits: 3, headerQualifier: 'AS_ENCODED' };

  it('GENERALIZED_TIME keeps timeStamp [5] only; MICROSECOND keeps microSecondTimeStamp [7] only', () => {
    const bytes = encodePsPdu(samplePdu('ipCc'));
    expect(headerTags(bytes)).toEqual([0, 1, 2, 3, 4, 5, 7, 8]);
    const gt = applyTimeRulesToPsPdu(bytes, { ...ms, headerTime: 'GENERALIZED_TIME' });
    const mu = applyTimeRulesToPsPdu(bytes, { ...ms, headerTime: 'MICROSECOND' });
    if (!gt.ok || !mu.ok) throw new Error('rewrite failed');
    expect(headerTags(gt.value)).toEqual([0, 1, 2, 3, 4, 5, 8]);
    expect(headerTags(mu.value)).toEqual([0, 1, 2, 3, 4, 7, 8]);
    const g = decodePsPdu(gt.value);
    const m = decodePsPdu(mu.value);
    if (!g.ok || !m.ok) throw new Error('decode failed');
    expect(g.value.header.timeStamp).toBe(1_795_300_000_123_000);
    expect(m.value.header.microSecondTimeStamp).toEqual(microSecondTimeStamp(1_795_300_000_123_456));
    expect(m.value.header.timeStamp).toBeUndefined();
  });

  it('writes the missing header field from the other one, in tag order around interceptionPointID [6]', () => {
    const onlyMicro = encodePsPdu(
      samplePdu('ipIri', {
        timeStamp: undefined,
        interceptionPointId: 'POI1',
        microSecondTimeStamp: microSecondTimeStamp(SECOND + 42),
      }),
    );
    expect(headerTags(onlyMicro)).toEqual([0, 1, 2, 3, 4, 6, 7, 8]);
    const r = applyTimeRulesToPsPdu(onlyMicro, { ...ms, headerTime: 'GENERALIZED_TIME' });
    if (!r.ok) throw new Error(r.reason);
    expect(headerTags(r.value)).toEqual([0, 1, 2, 3, 4, 5, 6, 8]);
    expect(timeTexts(r.value)[0]).toBe('20261121222640.000Z');

    const onlyText = encodePsPdu(samplePdu('ipIri', { microSecondTimeStamp: undefined, interceptionPointId: 'POI1' }));
    const m = applyTimeRulesToPsPdu(onlyText, { ...AS_ENCODED, headerTime: 'MICROSECOND' });
    if (!m.ok) throw new Error(m.reason);
    expect(headerTags(m.value)).toEqual([0, 1, 2, 3, 4, 6, 7, 8]);
    const d = decodePsPdu(m.value);
    expect(d.ok && d.value.header.microSecondTimeStamp).toEqual(microSecondTimeStamp(1_795_300_000_123_456));
    expectAsn1jsReads(m.value);
  });

  it('OMIT leaves out the header qualifier and nothing else', () => {
    const bytes = encodePsPdu(samplePdu('emailIri'));
    const r = applyTimeRulesToPsPdu(bytes, {
      headerTime: 'GENERALIZED_TIME',
      fractionDigits: 3,
      headerQualifier: 'OMIT',
    });
    if (!r.ok) throw new Error(r.reason);
    expect(headerTags(r.value)).toEqual([0, 1, 2, 3, 4, 5]);
    const before = decodePsPdu(bytes);
    const after = decodePsPdu(r.value);
    if (!before.ok || !after.ok) throw new Error('decode failed');
    expect(after.value.payload).toEqual(before.value.payload);
    expect(after.value.header.timeStampQualifier).toBeUndefined();
  });

  it('a keep-alive our TRI codec writes on a whole second gets ".000"', () => {
    const ka = encodeKeepalive({
      operatorIdentifier: 'OP',
      sequenceNumber: 1,
      timeMicros: SECOND,
      timestampFormat: 'GENERALIZED_TIME',
    });
    expect(timeTexts(ka)).toEqual(['20261121222640Z']);
    const r = applyTimeRulesToPsPdu(ka, digitsRule(3));
    expect(r.ok && timeTexts(r.value)).toEqual(['20261121222640.000Z']);
  });
});

describe('time rules on TS 101 671 records', () => {
  const records: Record<string, Hi2IrisContent> = {
    'iRIContent BEGIN': { kind: 'iRIContent', iri: sampleHi2Iri(1) },
    'iRIContent END, local time with offset': {
      kind: 'iRIContent',
      iri: { ...sampleHi2Iri(2), params: { ...sampleHi2Iri(2).params, timeStamp: localTime(SECOND + 5, -120) } },
    },
    iRISequence: { kind: 'iRISequence', iris: [sampleHi2Iri(3), sampleHi2Iri(4)] },
  };
  for (const [name, content] of Object.entries(records)) {
    it(`${name}: fraction digits follow the rules; nothing else changes`, () => {
      const bytes = encodeHi2IrisContent(content);
      const same = applyTimeRulesToHi2(bytes, {
        ...AS_ENCODED,
        headerTime: 'GENERALIZED_TIME',
        headerQualifier: 'OMIT',
      });
      expect(same.ok && same.value.equals(bytes)).toBe(true);
      for (const digits of [3, 0, 6]) {
        const r = applyTimeRulesToHi2(bytes, digitsRule(digits));
        if (!r.ok) throw new Error(r.reason);
        for (const t of timeTexts(r.value)) expect(fractionOf(t), t).toHaveLength(digits);
        const before = decodeHi2(bytes);
        const after = decodeHi2(r.value);
        if (!before.ok || !after.ok) throw new Error('decode failed');
        expect(after.value).toEqual(truncated(before.value, digits));
        expectAsn1jsReads(r.value);
      }
    });
  }
});

describe('time rules: what they refuse', () => {
  it('fails, without throwing, on trailing bytes, truncation, the wrong standard and a time without seconds', () => {
    const pdu = encodePsPdu(samplePdu('ipCc'));
    const ms = digitsRule(3);
    const trailing = applyTimeRulesToPsPdu(Buffer.concat([pdu, Buffer.from([0])]), ms);
    expect(trailing.ok || trailing.code).toBe('ETSI_ERR_TRAILING_BYTES');
    expect(applyTimeRulesToPsPdu(pdu.subarray(0, pdu.length - 3), ms).ok).toBe(false);
    expect(applyTimeRulesToPsPdu(encodeHi2Iri(sampleHi2Iri()), ms).ok).toBe(false);
    expect(applyTimeRulesToHi2(pdu, ms).ok).toBe(false);
    // a header whose timeStamp has no seconds: a fixed fraction cannot be given to it
    const w = new BerWriter();
    w.seq();
    w.open(CONTEXT, 1);
    w.octets(CONTEXT, 0, Buffer.from('0400020205012b', 'hex'));
    w.latin1(CONTEXT, 1, 'L1');
    w.open(CONTEXT, 3);
    w.open(CONTEXT, 0);
    w.latin1(CONTEXT, 0, 'OP');
    w.end();
    w.end();
    w.int(CONTEXT, 4, 1);
    w.latin1(CONTEXT, 5, '202611210000Z');
    w.end();
    w.open(CONTEXT, 2);
    w.open(CONTEXT, 2);
    w.nul(CONTEXT, 1);
    w.end();
    w.end();
    w.end();
    const r = applyTimeRulesToPsPdu(w.finish(), ms);
    expect(r.ok || r.reason).toMatch(/without seconds/);
  });

  it('withFractionDigits pads, truncates, removes and keeps the zone', () => {
    expect(withFractionDigits('20261121222640Z', 3)).toBe('20261121222640.000Z');
    expect(withFractionDigits('20261121222640.5Z', 3)).toBe('20261121222640.500Z');
    expect(withFractionDigits('20261121222640.123456Z', 3)).toBe('20261121222640.123Z');
    expect(withFractionDigits('20261121222640.123456Z', 0)).toBe('20261121222640Z');
    expect(withFractionDigits('20261121222640.12+0100', 6)).toBe('20261121222640.120000+0100');
    expect(withFractionDigits('20261121222640.12+0100', null)).toBe('20261121222640.12+0100');
  });
});

describe('time rules on random records (fast-check)', () => {
  const rules = fc.record({
    headerTime: fc.constantFrom('AS_ENCODED' as const, 'GENERALIZED_TIME' as const, 'MICROSECOND' as const),
    fractionDigits: fc.constantFrom(0, 3, 6),
    headerQualifier: fc.constantFrom('AS_ENCODED' as const, 'OMIT' as const),
  });

  it('PS-PDUs: payload unchanged but for truncated times, every fraction as asked, asn1js reads them', () => {
    fc.assert(
      fc.property(fc.oneof(arbPdu, arbMorePdu), rules, (pdu, r) => {
        const bytes = encodePsPdu(pdu);
        const out = applyTimeRulesToPsPdu(bytes, r);
        if (!out.ok) throw new Error(out.reason);
        for (const t of timeTexts(out.value)) expect(fractionOf(t), t).toHaveLength(r.fractionDigits);
        const before = decodePsPdu(bytes);
        const after = decodePsPdu(out.value);
        if (!before.ok || !after.ok) throw new Error('decode failed');
        expect(after.value.payload).toEqual(truncated(before.value.payload, r.fractionDigits));
        const { timeStamp: _t, microSecondTimeStamp: _m, timeStampQualifier: _q, ...rest } = before.value.header;
        const { timeStamp: _t2, microSecondTimeStamp: _m2, timeStampQualifier: _q2, ...restAfter } = after.value.header;
        expect(restAfter).toEqual(rest);
        expectAsn1jsReads(out.value);
      }),
      { numRuns: 300, seed: 1717 },
    );
  });

  it('TS 101 671 records: unchanged but for truncated times', () => {
    fc.assert(
      fc.property(arbHi2IrisContent, fc.constantFrom(0, 3, 6), (content, digits) => {
        const bytes = encodeHi2IrisContent(content);
        const out = applyTimeRulesToHi2(bytes, digitsRule(digits));
        if (!out.ok) throw new Error(out.reason);
        for (const t of timeTexts(out.value)) expect(fractionOf(t), t).toHaveLength(digits);
        const before = decodeHi2(bytes);
        const after = decodeHi2(out.value);
        if (!before.ok || !after.ok) throw new Error('decode failed');
        expect(after.value).toEqual(truncated(before.value, digits));
      }),
      { numRuns: 200, seed: 1717 },
    );
  });
});
