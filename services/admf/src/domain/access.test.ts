import { ROLES } from '@li/auth';
import { describe, expect, it } from 'vitest';
import { decide, MAY, type Permission, READ_ONLY_ROLES, WRITE_PERMISSIONS } from './access.ts';
import type { Caller, Role } from './model.ts';

const caller = (role: Role, tenant = 'acme'): Caller => ({ subject: 's', tenant, role });
const PERMISSIONS = Object.keys(MAY) as Permission[];
const allowed = (role: Role) => PERMISSIONS.filter((p) => decide(caller(role), 'acme', MAY[p]) === 'allowed');

describe('admf > access', () => {
  it('gives the read-only role delivery health and nothing about warrants, audit or billing', () => {
    expect(allowed('viewer')).toEqual(['readTenant', 'readLemfs']);
  });

  it('lets no read-only role write anything', () => {
    for (const role of READ_ONLY_ROLES) {
      for (const p of WRITE_PERMISSIONS) expect(decide(caller(role), 'acme', MAY[p]), `${role} ${p}`).toBe('forbidden');
    }
    // Every permission that is not a read is listed as a write (a new one must be classified).
    expect(PERMISSIONS.filter((p) => !p.startsWith('read')).sort()).toEqual([...WRITE_PERMISSIONS].sort());
  });

  it('keeps the other roles as before', () => {
    // transferWarrants also needs tenant "*" (the use case checks it): a tenant admin is refused there.
    expect(allowed('admin')).toEqual([
      'readTenant',
      'writeLemfs',
      'readLemfs',
      'readBilling',
      'orderBilling',
      'transferWarrants',
    ]);
    expect(allowed('provisioner')).toEqual([
      'readTenant',
      'readLemfs',
      'writeWarrants',
      'readWarrants',
      'readWarrantHistory',
      'orderBilling',
    ]);
    expect(allowed('auditor')).toEqual(['readTenant', 'readWarrantHistory', 'readAudit', 'readBilling']);
    expect(allowed('mailserver')).toEqual([]);
  });

  it("answers another tenant's data as not found, whatever the role; the operator admin acts everywhere", () => {
    for (const role of ROLES) {
      for (const p of PERMISSIONS) expect(decide(caller(role, 'beta'), 'acme', MAY[p])).toBe('not-found');
    }
    // "*" is only the operator-wide admin: a viewer with tenant "*" (refused by @li/auth anyway) sees nothing.
    expect(decide(caller('viewer', '*'), 'acme', MAY.readLemfs)).toBe('not-found');
    expect(decide(caller('admin', '*'), 'acme', MAY.writeLemfs)).toBe('allowed');
    expect(decide(caller('admin', '*'), 'acme', MAY.readWarrants)).toBe('forbidden');
  });
});
