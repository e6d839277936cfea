import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apply, setGlobalAdminState, setTenantAdminState, upsertSubscriber } from '../../domain/engine.ts';
import { MemoryState } from '../../domain/memory-state.ts';
import type { McidReport } from '../../domain/model.ts';
import { invite, response } from '../../testing/sip-fixtures.ts';
import { type AcrIdentity, acrMessage, buildAcrAvps, encodeAcr } from './acr.ts';
import { asTime, asU32, asUtf8, children, encodeMessage, findAll, findAvp, VENDOR_3GPP } from './codec.ts';
import { BASE, PRIVATE, TGPP } from './dictionary.ts';

const S = 'sip:+15552220000@ims.example.net;user=phone';
const T0 = 1_790_000_000_000_000;

describe('ACR for a temporary-mode registration', () => {
  it('carries MCID temporary, the stored time as Event-Timestamp and the invocation as Change-Time', () => {
    const state = new MemoryState();
    state.applyChanges([...setGlobalAdminState('UNLOCKED', 0), ...setTenantAdminState('vtp1', 'UNLOCKED', 0)]);
    const sub = upsertSubscriber(
      state,
      { tenant: 'vtp1', identities: [S], mode: 'TEMPORARY', terminating: true, originating: false },
      0,
    );
    if (!sub.ok) throw new Error(sub.reason);
    state.applyChanges(sub.changes);
    const reports = [];
    for (const e of [
      invite({ callId: 'c1', at: T0, requestUri: S, pai: ['<tel:+15550001111>'], privacy: 'id' }),
      response({ callId: 'c1', at: T0 + 2_000_000, status: 180 }),
      invite({ callId: 'ssc', at: T0 + 30_000_000, requestUri: 'tel:*57;phone-context=x', pai: [`<${S}>`] }),
    ]) {
      const r = apply(state, e);
      state.applyChanges(r.changes);
      reports.push(...r.reports);
    }
    expect(reports).toHaveLength(1);
    const avps = buildAcrAvps(reports[0]!, {
      originHost: 'as',
      originRealm: 'r',
      destinationRealm: 'r',
      serviceContextId: '32275@3gpp.org',
      privateVendorId: 32473,
    });
    expect(asTime(findAvp(avps, BASE.EVENT_TIMESTAMP))).toBe((T0 + 2_000_000) / 1000);
    const si = findAvp(avps, TGPP.SERVICE_INFORMATION, VENDOR_3GPP);
    const mmtel = findAvp(children(si), TGPP.MMTEL_INFORMATION, VENDOR_3GPP);
    const [ss] = findAll(children(mmtel), TGPP.SUPPLEMENTARY_SERVICE, VENDOR_3GPP);
    expect(asU32(findAvp(children(ss), TGPP.MMTEL_SSERVICE_TYPE, VENDOR_3GPP))).toBe(14);
    expect(asU32(findAvp(children(ss), TGPP.SERVICE_MODE, VENDOR_3GPP))).toBe(1025);
    expect(asTime(findAvp(children(ss), TGPP.CHANGE_TIME, VENDOR_3GPP))).toBe((T0 + 30_000_000) / 1000);
    const ims = findAvp(children(si), TGPP.IMS_INFORMATION, VENDOR_3GPP);
    expect(asUtf8(findAvp(children(ims), TGPP.CALLING_PARTY_ADDRESS, VENDOR_3GPP))).toBe('tel:+15550001111');
    const priv = findAvp(avps, PRIVATE.MCID_DETAILS, 32473);
    expect(priv?.mandatory).toBe(false);
    expect(asUtf8(findAvp(children(priv), PRIVATE.PRIVACY, 32473))).toBe('id');
    expect(asUtf8(findAvp(children(priv), PRIVATE.TRIGGER, 32473))).toBe('SSC_LATEST');
  });
});

describe('encodeAcr', () => {
  const text = fc.oneof(
    fc.constantFrom('', 'sip:+15550001111@ims.example.net;user=phone', '<tel:+1555>;tag=x', '"A" <sip:a@b>'),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
  );
  const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });
  const micros = fc.integer({ min: 0, max: 4_000_000_000_000_000 });
  const report: fc.Arbitrary<McidReport> = fc.record({
    reportId: fc.stringMatching(/^[0-9a-f]{32}$/),
    tenant: text,
    subscriberId: text,
    servedUser: text,
    role: fc.constantFrom('TERMINATING', 'ORIGINATING'),
    mode: fc.constantFrom('PERMANENT', 'TEMPORARY'),
    trigger: fc.constantFrom('PERMANENT', 'SSC_LATEST', 'SSC_PREVIOUS', 'IN_CALL_REQUEST'),
    details: fc.record({
      callId: text,
      requestUri: text,
      to: text,
      pAssertedIdentity: fc.array(text, { maxLength: 3 }),
      from: text,
      contact: fc.array(text, { maxLength: 3 }),
      historyInfo: fc.array(text, { maxLength: 4 }),
      referredBy: maybe(text),
      privacy: maybe(text),
      icid: maybe(text),
      inviteAtMicros: micros,
    }),
    mcidTimestampMicros: micros,
    invokedAtMicros: maybe(micros),
    outcome: maybe(fc.constantFrom('ALERTED', 'ANSWERED', 'DIVERTED', 'BUSY', 'FAILED')),
    diversion: maybe(fc.constantFrom('CFU', 'CFB', 'CFNR', 'CFNL', 'CD', 'CFNRc')),
    createdAtMicros: micros,
  }) as fc.Arbitrary<McidReport>;
  const identity: fc.Arbitrary<AcrIdentity> = fc.record(
    {
      originHost: text,
      originRealm: text,
      destinationRealm: text,
      destinationHost: text,
      serviceContextId: text,
      privateVendorId: maybe(fc.constantFrom(0, 32473, 2 ** 32 - 1)),
    },
    { requiredKeys: ['originHost', 'originRealm', 'destinationRealm', 'serviceContextId', 'privateVendorId'] },
  );
  const u32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });

  it('gives the bytes of the AVP tree encoded, for any report and identity', () => {
    fc.assert(
      fc.property(report, identity, u32, u32, (r, id, hbh, e2e) => {
        const tree = encodeMessage(acrMessage(buildAcrAvps(r, id), hbh, e2e));
        expect(encodeAcr(r, id, hbh, e2e).equals(tree)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('grows its buffer for a message larger than the scratch', () => {
    const r = fc.sample(report, { seed: 1, numRuns: 1 })[0]!;
    const big = { ...r, details: { ...r.details, contact: Array.from({ length: 50 }, () => 'x'.repeat(500)) } };
    const id = { originHost: 'as', originRealm: 'r', destinationRealm: 'r', serviceContextId: 's', privateVendorId: 1 };
    expect(encodeAcr(big, id).equals(encodeMessage(acrMessage(buildAcrAvps(big, id), 0, 0)))).toBe(true);
  });
});
