import type { Result } from '../errors.ts';
import { errResult, okResult } from '../errors.ts';
import type { Tenant } from './model.ts';

/** Tenant ids become topic names li.<tenant>.*: the same rule as validateTenant() in @li/bus. */
const TENANT_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

export interface TenantInput {
  id: string;
  name: string;
  defaultCountryCode: string;
  nationalTrunkPrefix?: string | null;
}

/** The settings an update may change; the id (part of topic names) never changes. */
export type TenantPatch = Partial<Pick<TenantInput, 'name' | 'defaultCountryCode' | 'nationalTrunkPrefix'>>;

/**
 * The tenant after `patch`, validated as on creation, one version on; null when nothing changes.
 * Warrants keep their targets: admf stored them in international form when they were entered.
 */
export function updateTenant(before: Tenant, patch: TenantPatch): Result<Tenant | null> {
  const built = buildTenant({ ...before, ...patch, id: before.id }, before.createdAtMicros);
  if (!built.ok) return built;
  const after: Tenant = { ...built.value, version: before.version + 1 };
  const same =
    after.name === before.name &&
    after.defaultCountryCode === before.defaultCountryCode &&
    after.nationalTrunkPrefix === before.nationalTrunkPrefix;
  return okResult(same ? null : after);
}

export function buildTenant(input: TenantInput, nowMicros: number): Result<Tenant> {
  if (typeof input.id !== 'string' || !TENANT_ID_PATTERN.test(input.id)) {
    return errResult('ADM_ERR_VALIDATION', 'id must be 1-32 lower-case letters, digits or inner hyphens', 'id');
  }
  if (typeof input.name !== 'string' || input.name.trim() === '' || input.name.length > 128) {
    return errResult('ADM_ERR_VALIDATION', 'name must be 1-128 characters', 'name');
  }
  if (typeof input.defaultCountryCode !== 'string' || !/^[1-9][0-9]{0,2}$/.test(input.defaultCountryCode)) {
    return errResult(
      'ADM_ERR_VALIDATION',
      'defaultCountryCode must be an E.164 country code (1-3 digits)',
      'defaultCountryCode',
    );
  }
  const trunk = input.nationalTrunkPrefix ?? null;
  if (trunk !== null && (typeof trunk !== 'string' || !/^[0-9]{1,2}$/.test(trunk))) {
    return errResult('ADM_ERR_VALIDATION', 'nationalTrunkPrefix must be 1-2 digits or null', 'nationalTrunkPrefix');
  }
  return okResult({
    id: input.id,
    name: input.name.trim(),
    defaultCountryCode: input.defaultCountryCode,
    nationalTrunkPrefix: trunk,
    version: 1,
    createdAtMicros: nowMicros,
  });
}
