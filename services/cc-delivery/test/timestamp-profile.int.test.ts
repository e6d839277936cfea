// Per-LEMF timestamp profiles on the real broker: one warrant, two ETSI TCP LEMFs, the same
// records. The ETSI_DEFAULT LEMF receives the encoder's bytes unchanged; the MILLISECONDS LEMF
// (a receiver on OpenLI's decoder library reads only exactly three fraction digits) receives every
// GeneralizedTime with exactly three, its keep-alives too, and records that decode to the same
// values with their times truncated to the millisecond.
import { type Bus, createBus, topicName } from '@li/bus';
import { decodePsPdu, encodePsPdu, microSecondTimeStamp, type Payload, type PsPdu } from '@li/etsi';
import { SAMPLE_PAYLOADS, samplePdu } from '@li/etsi/testing';
import { startService } from '@li/runtime';
import type { LemfDestination } from '@li/schemas';
import { sampleLemf } from '@li/schemas/testing';
import { memoryLogger, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ccDeliveryService } from '../src/service.ts';
import { LemfHarness } from '../src/testing/index.ts';
import { decodePsPdus, psPduDecoder } from './helpers/decoders.ts';
import { deliveryEnv, publishLemf } from './helpers/service.ts';

const infra = testInfra();
let bus: Bus;
beforeAll(async () => {
  psPduDecoder();
  bus = await createBus({ ...infra, clientId: 'dlv-ts-profile-test' }, memoryLogger().log);
}, 180_000);
afterAll(async () => {
  await bus?.close();
});

const SECOND = Date.UTC(2026, 11, 4, 18, 51, 0) * 1000;
// header times as the encoder writes them today: no fraction, ".5", ".123456", ".12"
const OFFSETS = [0, 500_000, 123_456, 120_000];

/** Every GeneralizedTime text in a PDU. */
const times = (b: Uint8Array) =>
  [
    ...Buffer.from(b)
      .toString('latin1')
      .matchAll(/\d{14}(?:\.\d+)?Z/g),
  ].map((m) => m[0]);
const fraction = (t: string) => /\.(\d+)Z/.exec(t)?.[1] ?? '';

/** The decoded value with every GeneralizedTime truncated to the millisecond. */
function toMs<T>(v: T): T {
  const walk = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(walk);
    if (x instanceof Uint8Array || x === null || typeof x !== 'object') return x;
    const o = x as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, y] of Object.entries(o)) {
      const time = ['timeStamp', 'startTime', 'endTime'].includes(k) && typeof y === 'number';
      out[k] = time ? Math.floor((y as number) / 1000) * 1000 : walk(y);
    }
    if (o.kind === 'localTime' && typeof o.micros === 'number') out.micros = Math.floor(o.micros / 1000) * 1000;
    return out;
  };
  return walk(v) as T;
}

/** The records of one warrant: IPIRI and HI1 notifications on HI2, IPCC on HI3, each with its own numbers. */
function records(liid: string): { stream: 'hi2' | 'hi3'; seq: number; pdu: Buffer }[] {
  const out: { stream: 'hi2' | 'hi3'; seq: number; pdu: Buffer }[] = [];
  let iriSeq = 0;
  let ccSeq = 0;
  for (let i = 0; i < 12; i++) {
    const at = SECOND + i * 1_000_000 + OFFSETS[i % OFFSETS.length]!;
    const header = (seq: number) => ({
      ...samplePdu('ipIri').header,
      liid,
      sequenceNumber: seq,
      timeStamp: at,
      microSecondTimeStamp: microSecondTimeStamp(at),
    });
    const hi1: Payload = {
      kind: 'hi1',
      operation: {
        kind: 'liModified',
        notification: { liid, timeStamp: { kind: 'localTime', micros: at + 250_000, winterSummer: 0 } },
      },
    };
    const iri: PsPdu = { header: header(iriSeq), payload: i % 3 === 2 ? hi1 : SAMPLE_PAYLOADS.ipIri };
    out.push({ stream: 'hi2', seq: iriSeq++, pdu: encodePsPdu(iri) });
    out.push({
      stream: 'hi3',
      seq: ccSeq,
      pdu: encodePsPdu({ header: header(ccSeq++), payload: SAMPLE_PAYLOADS.ipCc }),
    });
  }
  return out;
}

describe('timestamp profiles per LEMF on the real broker', () => {
  it('one warrant, two ETSI TCP LEMFs: ETSI_DEFAULT gets the bytes unchanged, MILLISECONDS exactly three fraction digits', async () => {
    const t = uniqueTenant('dlvts');
    await bus.ensureTopics(t, ['hi2', 'hi3', 'reports', 'lemfs', 'dlq']);
    const [d2, d3, m2, m3] = await Promise.all([1, 2, 3, 4].map(() => new LemfHarness().start()));
    const lemf = (id: string, h2: LemfHarness, h3: LemfHarness, over: Partial<LemfDestination>) =>
      sampleLemf({
        allowInsecure: true,
        tenant: t,
        id,
        address: { host: '127.0.0.1', port: h2!.port },
        ccAddress: { host: '127.0.0.1', port: h3!.port },
        keepaliveSeconds: 1,
        ...over,
      });
    await publishLemf(bus, lemf('lemf-default', d2!, d3!, {}));
    await publishLemf(bus, lemf('lemf-ms', m2!, m3!, { timestampProfile: 'MILLISECONDS' }));
    const liid = 'L-TS1';
    const sent = records(liid);
    await bus.send(
      sent.map((r) => ({
        topic: topicName(t, r.stream),
        key: liid,
        value: r.pdu,
        headers: {
          'li.liid': liid,
          'li.cin': String(samplePdu('ipIri').header.communicationIdentifier.cin),
          'li.seq': String(r.seq),
          'li.lemfs': 'lemf-default,lemf-ms',
          'li.format': 'TS102232',
        },
      })),
    );
    const svc = await startService(ccDeliveryService, await deliveryEnv(t));
    try {
      const n = sent.length / 2;
      await waitFor(
        () =>
          d2!.frames.length >= n &&
          d3!.frames.length >= n &&
          m2!.frames.length >= n &&
          m3!.frames.length >= n &&
          m2!.keepaliveFrames.length > 0,
        {
          what: 'both LEMFs to receive every record and the MILLISECONDS LEMF a keep-alive',
          timeoutMs: 60_000,
          intervalMs: 100,
        },
      );
      const of = (stream: 'hi2' | 'hi3') => sent.filter((r) => r.stream === stream).map((r) => r.pdu);

      // ETSI_DEFAULT: today's bytes, unchanged; among them fractions that are not three digits
      expect(Buffer.concat(d2!.frames)).toEqual(Buffer.concat(of('hi2')));
      expect(Buffer.concat(d3!.frames)).toEqual(Buffer.concat(of('hi3')));
      const defaultDigits = new Set(d2!.frames.flatMap(times).map((x) => fraction(x).length));
      expect([...defaultDigits].sort()).toEqual([0, 1, 2, 6]);

      // MILLISECONDS: the same records, in order, every GeneralizedTime with exactly three digits
      for (const [stream, frames] of [
        ['hi2', m2!.frames],
        ['hi3', m3!.frames],
      ] as const) {
        const want = of(stream);
        expect(frames).toHaveLength(want.length);
        frames.forEach((f, i) => {
          const texts = times(f);
          expect(texts.length).toBe(times(want[i]!).length);
          for (const x of texts) expect(fraction(x), x).toHaveLength(3);
          const got = decodePsPdu(f);
          const was = decodePsPdu(want[i]!);
          if (!got.ok || !was.ok) throw new Error('undecodable PDU');
          expect(got.value).toEqual(toMs(was.value));
        });
        // asn1c with constraint checks (our decoder without the ETSI modules) reads them all; its
        // PS-PDU profile has no hI1-Operation alternative, so the HI1 notifications are left out
        const notHi1 = (b: Buffer) => {
          const d = decodePsPdu(b);
          return d.ok && d.value.payload.kind !== 'hi1';
        };
        const checked = frames.filter(notHi1);
        expect(checked.length).toBeGreaterThan(0);
        expect(decodePsPdus(Buffer.concat(checked)).map((d) => d.seq)).toEqual(
          sent.filter((r) => r.stream === stream && notHi1(r.pdu)).map((r) => r.seq),
        );
      }
      for (const ka of m2!.keepaliveFrames) for (const x of times(ka)) expect(fraction(x), x).toHaveLength(3);
      console.log(
        `default LEMF header times: ${d2!.frames
          .slice(0, 4)
          .map((f) => times(f)[0])
          .join(' ')}; ` +
          `MILLISECONDS LEMF: ${m2!.frames
            .slice(0, 4)
            .map((f) => times(f)[0])
            .join(' ')}; ` +
          `its keep-alive: ${times(m2!.keepaliveFrames[0]!).join(' ')}`,
      );
    } finally {
      await svc.stop();
      for (const h of [d2, d3, m2, m3]) await h!.stop();
    }
  }, 120_000);
});
