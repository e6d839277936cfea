import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.ts';

describe('config', () => {
  it('fills defaults', () => {
    const r = parseConfig({});
    if (!r.ok) throw new Error(r.reason);
    expect(r.config.reportingType).toBe('LOCAL');
    expect(r.config.ssc).toEqual({ latest: ['*57'], previous: ['*57*2'] });
    expect(r.config.localStorage).toMatchObject({ fullDiskPercent: 90, notFullDiskPercent: 80, maxRecords: 1000 });
    expect(r.config.diameter.privateVendorId).toBeNull();
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
