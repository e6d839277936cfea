import { ManualClock } from '@li/core';
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
    expect(r).toEqual({ ok: true, matched: [] });
  });
});
