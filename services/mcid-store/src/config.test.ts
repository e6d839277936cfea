import { describe, expect, it } from 'vitest';
import { domainConfigOf, parseConfig } from './config.ts';

describe('config', () => {
  it('fills defaults', () => {
    const r = parseConfig({});
    if (!r.ok) throw new Error(r.reason);
    expect(r.config.reportingType).toBe('LOCAL');
    expect(r.config.ssc).toMatchObject({ latest: ['*57'], previous: ['*57*2'] });
    expect(r.config.ssc.announcements).toEqual({
      success: 'mcid-registered',
      alreadyRegistered: 'mcid-already-registered',
      notAllowed: 'mcid-not-allowed',
    });
    expect(r.config.ssc.tenantAnnouncements).toEqual({});
    expect(r.config.diversionToHistoryInfo).toBe(true);
    expect(r.config.localStorage).toMatchObject({ fullDiskPercent: 90, notFullDiskPercent: 80, maxRecords: 1000 });
    expect(r.config.diameter.privateVendorId).toBeNull();
  });

  it('takes SSC announcements per tenant, overriding some of the defaults', () => {
    const r = parseConfig({
      ssc: { announcements: { success: 'ann-ok' }, tenantAnnouncements: { vtp2: { notAllowed: 'vtp2-deny' } } },
    });
    if (!r.ok) throw new Error(r.reason);
    const d = domainConfigOf(r.config);
    expect(d.sscAnnouncements.default).toMatchObject({ success: 'ann-ok', notAllowed: 'mcid-not-allowed' });
    expect(d.sscAnnouncements.tenants).toEqual({ vtp2: { notAllowed: 'vtp2-deny' } });
    expect(parseConfig({ ssc: { tenantAnnouncements: { vtp2: { sucess: 'typo' } } } })).toMatchObject({ ok: false });
    expect(parseConfig({ ssc: { announcements: { success: '' } } })).toMatchObject({
      ok: false,
      field: '/ssc/announcements/success',
    });
  });

  it('names the bad field', () => {
    expect(parseConfig({ localStorage: { maxRecords: 0 } })).toMatchObject({
      ok: false,
      field: '/localStorage/maxRecords',
    });
    expect(parseConfig({ reportingType: 'FTP' })).toMatchObject({ ok: false, field: '/reportingType' });
    expect(parseConfig({ localStorage: { fullDiskPercent: 70, notFullDiskPercent: 75 } })).toMatchObject({
      ok: false,
      field: '/localStorage/notFullDiskPercent',
    });
  });
});
