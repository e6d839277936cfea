import { ManualClock } from '@li/core';
import { decodeHi2, decodePsPdu, encodeHi2Iri, encodePsPdu, microSecondTimeStamp } from '@li/etsi';
import { sampleHi2Iri, samplePdu } from '@li/etsi/testing';
import { TIMESTAMP_PROFILE_RULES, TIMESTAMP_PROFILES, type TimestampProfile } from '@li/schemas';
import { describe, expect, it } from 'vitest';
import { LemfDelivery } from './delivery.ts';
import { keepsRecords, profiledCodec, withTimestampProfile } from './timestamp-profile.ts';
import { createTriCodec } from './tri-codec.ts';
import {
  type DeliveryRecord,
  type DeliveryTransport,
  initialTransportStatus,
  type OutboundBatch,
  type SendOutcome,
} from './types.ts';

const WHOLE_SECOND_MS = Date.UTC(2026, 11, 4, 18, 51, 0);

/** Every GeneralizedTime text in the bytes (14 digits, an optional fraction, Z). */
const times = (b: Uint8Array) =>
  [
    ...Buffer.from(b)
      .toString('latin1')
      .matchAll(/\d{14}(?:\.\d+)?(?=Z)/g),
  ].map((m) => m[0]);
const digits = (t: string) => (t.split('.')[1] ?? '').length;

const record = (bytes: Uint8Array, over: Partial<DeliveryRecord> = {}): DeliveryRecord => ({
  lemfId: 'acme/l1',
  liid: 'LIID0001',
  cin: 1,
  seq: 0,
  stream: 'HI2',
  format: 'TS102232',
  bytes,
  source: { topic: 'li.acme.hi2', partition: 0, offset: 0 },
  ...over,
});

// Our own records: IPIRI (header and start time), IPCC, the TS 101 671 twin, an HI1 notification;
// every time with two fraction digits or none, so that every profile that sets digits changes them.
const T = 1_795_300_000_120_000;
const header = { timeStamp: T, microSecondTimeStamp: microSecondTimeStamp(T) };
const OWN = {
  ipIri: record(encodePsPdu(samplePdu('ipIri', header))),
  ipCc: record(encodePsPdu(samplePdu('ipCc', header)), { stream: 'HI3' }),
  hi1: record(
    encodePsPdu({
      header: samplePdu('keepAlive', header).header,
      payload: {
        kind: 'hi1',
        operation: {
          kind: 'liActivated',
          notification: { liid: 'LIID0001', timeStamp: { kind: 'localTime', micros: T + 380_000, winterSummer: 0 } },
        },
      },
    }),
  ),
  ts101671: record(
    encodeHi2Iri({
      ...sampleHi2Iri(),
      params: { ...sampleHi2Iri().params, timeStamp: { kind: 'localTime', micros: T, winterSummer: 0 } },
    }),
    { format: 'TS101671' },
  ),
};

describe('withTimestampProfile', () => {
  it('ETSI_DEFAULT hands every record on as it is, bytes untouched (today)', () => {
    expect(keepsRecords('ETSI_DEFAULT')).toBe(true);
    for (const r of Object.values(OWN)) {
      const out = withTimestampProfile(r, 'ETSI_DEFAULT');
      expect(out.ok && out.value).toBe(r);
    }
    // even bytes it could not read: the default never looks at them
    const junk = record(Uint8Array.of(1, 2, 3));
    expect(withTimestampProfile(junk, 'ETSI_DEFAULT')).toEqual({ ok: true, value: junk });
  });

  for (const profile of TIMESTAMP_PROFILES.filter((p) => TIMESTAMP_PROFILE_RULES[p].fractionDigits !== null)) {
    const want = TIMESTAMP_PROFILE_RULES[profile].fractionDigits!;
    it(`${profile}: every GeneralizedTime of every record type has ${want} fraction digits and still decodes`, () => {
      for (const [name, r] of Object.entries(OWN)) {
        expect(
          times(r.bytes).some((t) => digits(t) !== want),
          `${name} already has ${want} digits`,
        ).toBe(true);
        const out = withTimestampProfile(r, profile);
        if (!out.ok) throw new Error(`${name}: ${out.error.message}`);
        for (const t of times(out.value.bytes)) expect(digits(t), `${name} ${t}`).toBe(want);
        if (r.format === 'TS101671') expect(decodeHi2(out.value.bytes).ok, name).toBe(true);
        else {
          // the header time fields and qualifier the profile asks for
          const rules = TIMESTAMP_PROFILE_RULES[profile];
          const d = decodePsPdu(out.value.bytes);
          if (!d.ok) throw new Error(`${name}: ${d.reason}`);
          expect(d.value.header.timeStamp !== undefined, name).toBe(rules.headerTime !== 'MICROSECOND');
          expect(d.value.header.microSecondTimeStamp, name).toEqual(
            rules.headerTime === 'GENERALIZED_TIME' ? undefined : microSecondTimeStamp(T),
          );
          expect(d.value.header.timeStampQualifier !== undefined, name).toBe(rules.headerQualifier !== 'OMIT');
        }
        expect({ ...out.value, bytes: null }).toEqual({ ...r, bytes: null });
      }
    });
  }

  it('a record without li.format is read by its outer tag', () => {
    for (const r of [OWN.ipIri, OWN.ts101671]) {
      const out = withTimestampProfile({ ...r, format: undefined }, 'MILLISECONDS');
      if (!out.ok) throw new Error(out.error.message);
      for (const t of times(out.value.bytes)) expect(digits(t)).toBe(3);
    }
  });

  it('reports are not ETSI records: passed on as they are', () => {
    const report = record(Buffer.from('000|LIID0001|...'), { stream: 'REPORT', format: undefined });
    const out = withTimestampProfile(report, 'MILLISECONDS');
    expect(out.ok && out.value).toBe(report);
  });

  it('a record whose times cannot be rewritten fails with DLV_ERR_TIMESTAMP_PROFILE and the reason', () => {
    const out = withTimestampProfile(record(Uint8Array.of(0x30, 0x05, 1)), 'MILLISECONDS');
    expect(out.ok).toBe(false);
    if (!out.ok) {
      expect(out.error.code).toBe('DLV_ERR_TIMESTAMP_PROFILE');
      expect(out.error.retriable).toBe(false);
      expect(out.error.message).toMatch(/MILLISECONDS: /);
    }
  });

  it('an unknown profile (never through Avro) reads as ETSI_DEFAULT', () => {
    const r = OWN.ipIri;
    const out = withTimestampProfile(r, 'NANOSECONDS' as TimestampProfile);
    expect(out.ok && out.value).toBe(r);
  });
});

describe('profiledCodec', () => {
  const base = createTriCodec({
    operatorIdentifier: 'OP',
    timestampFormat: 'GENERALIZED_TIME',
    clock: new ManualClock(WHOLE_SECOND_MS),
  });

  it('keep-alives, replies and ack requests on a whole second: no fraction by default, ".000" with MILLISECONDS', () => {
    expect(profiledCodec(base, 'ETSI_DEFAULT')).toBe(base);
    expect(times(base.keepalive(1))).toEqual(['20261204185100']);
    const ms = profiledCodec(base, 'MILLISECONDS');
    expect(times(ms.keepalive(1))).toEqual(['20261204185100.000']);
    expect(times(ms.ackRequest({ liid: 'L', cin: 1, seq: 2 }))).toEqual(['20261204185100.000']);
    const theirs = base.keepalive(9); // a LEMF's own keep-alive, answered
    const c = ms.classify(theirs);
    expect(c.kind).toBe('keepalive');
    if (c.kind === 'keepalive') expect(times(c.reply)).toEqual(['20261204185100.000']);
    expect(ms.classify(Uint8Array.of(1)).kind).toBe('other');
  });
});

class Recording implements DeliveryTransport {
  readonly kind = 'recording';
  sent: DeliveryRecord[] = [];
  start(): void {}
  async send(batch: OutboundBatch): Promise<SendOutcome> {
    this.sent.push(...batch.records);
    return { confirmed: batch.records.length, error: null };
  }
  status() {
    return initialTransportStatus();
  }
  async close(): Promise<void> {}
}

describe('LemfDelivery with a timestamp profile', () => {
  it('queues the rewritten record, dead-letters one it cannot rewrite and delivers the rest', async () => {
    const t = new Recording();
    const dead: string[] = [];
    const committed: number[] = [];
    const d = new LemfDelivery({
      lemfId: 'acme/l1',
      transport: t,
      clock: new ManualClock(0),
      prepare: (r) => withTimestampProfile(r, 'MILLISECONDS'),
      observer: {
        deadLetter: (_r, e) => dead.push(e.code),
        committable: (points) => committed.push(...points.map((p) => p.offset)),
      },
    });
    d.start();
    const at = (offset: number) => ({ topic: 'li.acme.hi2', partition: 0, offset });
    d.offer([
      { ...OWN.ipIri, source: at(0) },
      record(Uint8Array.of(0x30, 0x00, 0x00), { source: at(1) }),
      { ...OWN.hi1, source: at(2) },
    ]);
    await d.drained();
    expect(dead).toEqual(['DLV_ERR_TIMESTAMP_PROFILE']);
    expect(t.sent.map((r) => r.source.offset)).toEqual([0, 2]);
    for (const r of t.sent) for (const x of times(r.bytes)) expect(digits(x)).toBe(3);
    expect(Math.max(...committed)).toBe(3);
    expect(d.status().deadLettered).toBe(1);
    await d.stop();
  });
});
