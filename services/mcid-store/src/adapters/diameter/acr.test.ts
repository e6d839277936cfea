import { describe, expect, it } from 'vitest';
import { apply, setGlobalAdminState, setTenantAdminState, upsertSubscriber } from '../../domain/engine.ts';
import { MemoryState } from '../../domain/memory-state.ts';
import { invite, response } from '../../testing/sip-fixtures.ts';
import { buildAcrAvps } from './acr.ts';
import { asTime, asU32, asUtf8, children, findAll, findAvp, VENDOR_3GPP } from './codec.ts';
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
