// A record is trusted only for the tenant whose topic it came from: a MatchedEvent (or the event
// inside it) naming another tenant was written by mistake or by a misconfigured producer, and
// encoding it would hand one tenant's traffic to another's LEMFs.
import type { MatchedEvent, Warrant } from '@li/schemas';
import type { EncErrorCode } from '../errors.ts';

type TenantCheck = { ok: true } | { ok: false; code: EncErrorCode; reason: string };

export function checkMatchedTenant(topicTenant: string, m: Pick<MatchedEvent, 'tenant' | 'event'>): TenantCheck {
  if (m.tenant !== topicTenant)
    return { ok: false, code: 'ENC_ERR_TENANT_MISMATCH', reason: 'MatchedEvent tenant differs from its topic' };
  if (m.event?.tenant !== topicTenant)
    return { ok: false, code: 'ENC_ERR_TENANT_MISMATCH', reason: 'event tenant differs from its topic' };
  return { ok: true };
}

export function checkWarrantTenant(topicTenant: string, w: Pick<Warrant, 'tenant'>): TenantCheck {
  if (w.tenant !== topicTenant)
    return { ok: false, code: 'ENC_ERR_TENANT_MISMATCH', reason: 'warrant tenant differs from its topic' };
  return { ok: true };
}
