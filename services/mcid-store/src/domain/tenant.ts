// An event is trusted only for the tenant whose topic it came from: applying an event that names
// another tenant would change that tenant's MCID state and send it reports it never had.
import type { NormalizedEvent } from '@li/schemas';

export type TenantCheck = { ok: true } | { ok: false; code: 'MCD_ERR_TENANT_MISMATCH'; reason: string };

export function checkEventTenant(topicTenant: string, event: Pick<NormalizedEvent, 'tenant'>): TenantCheck {
  if (event.tenant === topicTenant) return { ok: true };
  return { ok: false, code: 'MCD_ERR_TENANT_MISMATCH', reason: 'event tenant differs from its topic' };
}
