// Per-LEMF timestamp profiles through the whole pipeline: one SIP warrant with two ETSI TCP LEMFs,
// one ETSI_DEFAULT and one MILLISECONDS, entered through admf's API. The encoder writes each
// record once; both LEMFs get the same records (HI1 notification, IPMM IRIs), and the
// MILLISECONDS LEMF every GeneralizedTime with exactly three fraction digits.
import { decodePsPdu } from '@li/etsi';
import { uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LemfReceiver } from '../pipeline/lemf.ts';
import { addEtsiLemf, addWarrant, type Pipeline, startPipeline } from '../pipeline/pipeline.ts';
import { SIP_SERVICE, sipCall } from '../pipeline/traffic.ts';

let pipeline: Pipeline;
const byDefault = new LemfReceiver({ name: 'ETSI_DEFAULT LEMF' });
const byMs = new LemfReceiver({ name: 'MILLISECONDS LEMF' });

beforeAll(async () => {
  for (const l of [byDefault, byMs]) await l.start();
  pipeline = await startPipeline({ tenant: uniqueTenant('e2ets') });
  await addEtsiLemf(pipeline, 'lemf-default', byDefault);
  await addEtsiLemf(pipeline, 'lemf-ms', byMs, { timestampProfile: 'MILLISECONDS' });
  await addWarrant(pipeline, {
    liid: 'TSVOICE1',
    kind: 'VOICE',
    target: { type: 'E164', value: SIP_SERVICE },
    lemfIds: ['lemf-default', 'lemf-ms'],
  });
  // target-match follows the warrants topic: give it a moment before traffic starts.
  await new Promise((r) => setTimeout(r, 1500));
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
  for (const l of [byDefault, byMs]) await l.stop();
});

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
      const time = ['timeStamp', 'startTime', 'endTime', 'expectedEndTime'].includes(k) && typeof y === 'number';
      out[k] = time ? Math.floor((y as number) / 1000) * 1000 : walk(y);
    }
    if (o.kind === 'localTime' && typeof o.micros === 'number') out.micros = Math.floor(o.micros / 1000) * 1000;
    return out;
  };
  return walk(v) as T;
}

describe('timestamp profiles through the pipeline', () => {
  it('the same encoder records reach both LEMFs; the MILLISECONDS one with exactly three fraction digits', async () => {
    const call = await sipCall(pipeline.sipUdpPort, 300);
    expect((await call.done).ok).toBe(true);
    for (const l of [byDefault, byMs]) {
      await waitFor(() => l.of('TSVOICE1').some((r) => r.type === 'IRI-END iPMMIRI'), {
        timeoutMs: 60_000,
        what: `the IRI-END at the ${l.name}`,
      });
    }
    // both have the call's last record; the same count on both says nothing is still in flight
    await waitFor(() => byDefault.records.length === byMs.records.length, {
      timeoutMs: 30_000,
      what: 'both LEMFs to hold the same number of records',
    });
    const key = (r: { handover: string; cin: number; seq: number; type: string }) =>
      `${r.handover} ${r.cin}/${r.seq} ${r.type}`;
    const sorted = (l: LemfReceiver) => [...l.records].sort((a, b) => key(a).localeCompare(key(b)));
    const plain = sorted(byDefault);
    const ms = sorted(byMs);
    expect(ms.map(key)).toEqual(plain.map(key));
    console.log(`records: ${[...new Set(plain.map((r) => `${r.handover} ${r.type}`))].join(', ')}`);

    const defaultDigits = new Set<number>();
    for (let i = 0; i < plain.length; i++) {
      const a = plain[i]!;
      const b = ms[i]!;
      for (const t of times(a.bytes)) defaultDigits.add(fraction(t).length);
      const texts = times(b.bytes);
      expect(texts.length, key(b)).toBe(times(a.bytes).length);
      for (const t of texts) expect(fraction(t), `${key(b)} ${t}`).toHaveLength(3);
      const da = decodePsPdu(a.bytes);
      const db = decodePsPdu(b.bytes);
      if (!da.ok || !db.ok) throw new Error(`${key(a)} undecodable`);
      expect(db.value, key(b)).toEqual(toMs(da.value));
    }
    console.log(
      `fraction digits at the ETSI_DEFAULT LEMF: ${[...defaultDigits].sort().join(',')}; ` +
        `first header times: ${times(plain[0]!.bytes)[0]} / ${times(ms[0]!.bytes)[0]}`,
    );
  }, 180_000);
});
