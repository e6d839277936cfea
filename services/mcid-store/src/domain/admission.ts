// Which events of li.<t>.events mcid-store applies. Only SIP signalling concerns MCID. An event
// is trusted only for the tenant whose topic it came from: applying an event that names another
// tenant would change that tenant's MCID state and send it reports it never had.
import type { NormalizedEvent } from '@li/schemas';

type Admission =
  | { kind: 'apply' }
  | { kind: 'skip' }
  | { kind: 'dead-letter'; code: 'MCD_ERR_TENANT_MISMATCH'; reason: string };

export function admitEvent(topicTenant: string, event: Pick<NormalizedEvent, 'tenant' | 'protocol'>): Admission {
  if (event.protocol !== 'SIP') return { kind: 'skip' };
  if (event.tenant === topicTenant) return { kind: 'apply' };
  return { kind: 'dead-letter', code: 'MCD_ERR_TENANT_MISMATCH', reason: 'event tenant differs from its topic' };
}
