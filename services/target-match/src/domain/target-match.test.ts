import { ManualClock } from '@li/core';
import type { Tenant } from '@li/schemas';
import { sampleEvent, sampleWarrant } from '@li/schemas/testing';
import { describe, expect, it } from 'vitest';
import { TargetMatch } from './target-match.ts';

const clock = new ManualClock(1_797_000_000_000);

describe('TargetMatch', () => {
  it('applies warrant records of its own tenant only and reports readiness', () => {
    const tm = new TargetMatch({ clock, tenantOptions: () => ({ defaultCountryCode: '39' }) });
    expect(tm.isReady()).toBe(false);
    expect(tm.applyWarrantRecord('acme', 'IT:LIID0001', sampleWarrant())).toEqual({
      applied: true,
      skippedTargets: [],
    });
    expect(tm.applyWarrantRecord('other', 'IT:LIID0001', sampleWarrant())).toEqual({
      applied: false,
      reason: 'TGM_ERR_TENANT_MISMATCH',
    });
    expect(tm.applyWarrantRecord('acme', 'LIID0001', sampleWarrant({ version: 2 }))).toEqual({
      applied: false,
      reason: 'TGM_ERR_BAD_WARRANT',
    });
    tm.markCaughtUp();
    expect(tm.isReady()).toBe(true);
    const r = tm.handleEvent(
      'acme',
      sampleEvent({ parties: [{ role: 'CALLEE', type: 'E164', value: '06 1234 5678' }] }),
    );
    expect(r.ok && r.matched.map((m) => [m.liid, m.matchedRoles, m.matchedAtMicros])).toEqual([
      ['LIID0001', ['CALLEE'], clock.now() * 1000],
    ]);
    expect(tm.applyWarrantRecord('acme', 'IT:LIID0001', null)).toEqual({ removed: true });
    const after = tm.handleEvent('acme', sampleEvent());
    expect(after.ok && after.matched).toEqual([]);
  });

  it('names the matches whose warrant selects media, in the order of the matches', () => {
    const tm = new TargetMatch({ clock, tenantOptions: () => ({ defaultCountryCode: '39' }) });
    const base = sampleWarrant();
    // Sorted by country and LIID: IT:A (no media), IT:B (media), IT:C (media), whatever the order applied.
    for (const [liid, media] of [
      ['C', true],
      ['A', false],
      ['B', true],
    ] as const) {
      tm.applyWarrantRecord('acme', `IT:${liid}`, { ...base, liid, selection: { ...base.selection, media } });
    }
    tm.markCaughtUp();
    const r = tm.handleEvent('acme', sampleEvent());
    expect(r.ok && r.matched.map((m) => m.liid)).toEqual(['A', 'B', 'C']);
    expect(r.ok && r.media.map((m) => m.liid)).toEqual(['B', 'C']);
    expect(r.ok && r.media.every((m) => r.matched.includes(m))).toBe(true);
  });

  it("a SIP_INSTANCE target finds the device's SIP messages, whatever case and quoting the Contact used", () => {
    const tm = new TargetMatch({ clock, tenantOptions: () => ({ defaultCountryCode: '39' }) });
    const device = 'urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6';
    const warrant = sampleWarrant({ targets: [{ id: 't1', type: 'SIP_INSTANCE', value: device }] });
    expect(tm.applyWarrantRecord('acme', 'IT:LIID0001', warrant)).toEqual({ applied: true, skippedTargets: [] });
    tm.markCaughtUp();
    const seen = (value: string) => {
      const r = tm.handleEvent('acme', sampleEvent({ parties: [{ role: 'CALLER', type: 'SIP_INSTANCE', value }] }));
      return r.ok ? r.matched.map((m) => m.liid) : r.code;
    };
    expect(seen('"<URN:UUID:F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6>"')).toEqual(['LIID0001']);
    expect(seen('"<urn:uuid:00000000-7dec-11d0-a765-00a0c91e6bf6>"')).toEqual([]);
  });

  it("reads a national number with its own tenant's country code: +39 and +49 tenants match their own warrants", () => {
    // The deployment default (39) applies only to tenants without a record on li._system.tenants.
    const tm = new TargetMatch({ clock, tenantOptions: () => ({ defaultCountryCode: '39' }) });
    const tenant = (id: string, defaultCountryCode: string, version = 1): Tenant => ({
      id,
      name: id,
      defaultCountryCode,
      nationalTrunkPrefix: null,
      version,
      createdAtMicros: 0,
    });
    expect(tm.applyTenantRecord('acme', tenant('acme', '39'))).toEqual({ applied: true });
    expect(tm.applyTenantRecord('beta', tenant('beta', '49'))).toEqual({ applied: true });
    const it39 = sampleWarrant({
      tenant: 'acme',
      liid: 'ROME1',
      targets: [{ id: 't', type: 'E164', value: '+390612345678' }],
    });
    const de49 = sampleWarrant({
      tenant: 'beta',
      liid: 'BERLIN1',
      targets: [{ id: 't', type: 'E164', value: '+49612345678' }],
    });
    tm.applyWarrantRecord('acme', 'IT:ROME1', it39);
    tm.applyWarrantRecord('beta', 'IT:BERLIN1', de49);
    tm.markCaughtUp();
    const national = [{ role: 'CALLEE' as const, type: 'E164' as const, value: '06 1234 5678' }];
    const liids = (t: string) => {
      const r = tm.handleEvent(t, sampleEvent({ tenant: t, parties: national }));
      return r.ok ? r.matched.map((m) => m.liid) : r.code;
    };
    expect(liids('acme')).toEqual(['ROME1']);
    expect(liids('beta')).toEqual(['BERLIN1']);

    // An update of beta's numbering applies to its next event; a stale or malformed record does not.
    expect(tm.applyTenantRecord('beta', tenant('beta', '39', 2))).toEqual({ applied: true });
    expect(liids('beta')).toEqual([]);
    expect(tm.applyTenantRecord('beta', tenant('beta', '49', 1))).toEqual({ applied: false, reason: 'STALE_VERSION' });
    expect(tm.applyTenantRecord('beta', tenant('acme', '49', 3))).toEqual({
      applied: false,
      reason: 'TGM_ERR_BAD_TENANT',
    });
    expect(tm.applyTenantRecord('beta', tenant('beta', '+49', 3))).toMatchObject({ applied: false });
    expect(liids('beta')).toEqual([]);
    expect(tm.applyTenantRecord('beta', tenant('beta', '49', 3))).toEqual({ applied: true });
    expect(liids('beta')).toEqual(['BERLIN1']);
    // A tombstone: beta falls back to the deployment default (+39) again.
    expect(tm.applyTenantRecord('beta', null)).toEqual({ removed: true });
    expect(liids('beta')).toEqual([]);
  });

  it('turns bad events into reasons for the DLQ instead of throwing', () => {
    const tm = new TargetMatch({ clock });
    expect(tm.handleEvent('acme', null)).toMatchObject({ ok: false, code: 'TGM_ERR_BAD_EVENT' });
    expect(tm.handleEvent('acme', sampleEvent({ tenant: 'other' }))).toMatchObject({
      ok: false,
      code: 'TGM_ERR_TENANT_MISMATCH',
    });
    expect(tm.handleEvent('acme', { ...sampleEvent(), category: 'NOPE' })).toMatchObject({
      ok: false,
      code: 'TGM_ERR_BAD_EVENT',
    });
    expect(tm.handleEvent('acme', { ...sampleEvent(), parties: 'x' })).toMatchObject({
      ok: false,
      code: 'TGM_ERR_BAD_EVENT',
    });
    expect(tm.handleEvent('acme', { ...sampleEvent(), occurredAtMicros: 'soon' })).toMatchObject({ ok: false });
    // Malformed party values are skipped, not fatal.
    const junk = [
      { role: 'CALLER', type: 'IPV6', value: ':::' },
      { role: 'CALLER', type: 'FAX', value: '1' },
      { role: 'CALLER', type: 'E164', value: 42 },
      null,
    ];
    const r = tm.handleEvent('acme', {
      ...sampleEvent(),
      parties: junk,
      network: { transport: 'udp', srcAddress: 7, srcPort: 1, dstAddress: null, dstPort: 2 },
    });
    expect(r).toEqual({ ok: true, matched: [], media: [] });
  });
});
