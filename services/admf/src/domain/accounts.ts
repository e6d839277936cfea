// Seed 000 (CommuniGate Intercept page): "If the Account name specified in an element is
// renamed, the element is automatically updated with the new Account name. If the Account
// name ... is removed, the element is automatically removed." Account events arrive from
// ingest on li.<t>.events as NormalizedEvent category ACCOUNT.
import type { NormalizeOptions } from '@li/identifiers';
import { normalizeEmail, normalizeMailAccount } from '@li/identifiers';
import type { NormalizedEvent, Target, Warrant } from '@li/schemas';
import type { AdmErrorCode } from '../errors.ts';

type AccountChange = { kind: 'renamed'; oldName: string; newName: string } | { kind: 'removed'; name: string };

type AccountEventReading = { ok: true; change: AccountChange } | { ok: false; reason: string };

/**
 * An account event is trusted only for the tenant whose topic it came from: one naming another
 * tenant would rename or remove targets of that tenant's warrants.
 */
export function checkEventTenant(
  topicTenant: string,
  e: Pick<NormalizedEvent, 'tenant'>,
): { ok: true } | { ok: false; reason: string } {
  return e.tenant === topicTenant ? { ok: true } : { ok: false, reason: 'event tenant differs from its topic' };
}

/** account.renamed {old, new} or account.removed {account} (or the ACCOUNT party). */
export function readAccountEvent(e: NormalizedEvent): AccountEventReading {
  if (e.category !== 'ACCOUNT') return { ok: false, reason: 'not an ACCOUNT event' };
  const attrs = e.attributes ?? {};
  if (e.action === 'account.renamed') {
    const o = normalizeMailAccount(attrs.old ?? '');
    const n = normalizeMailAccount(attrs.new ?? '');
    if (!o.ok) return { ok: false, reason: `attributes.old: ${o.reason}` };
    if (!n.ok) return { ok: false, reason: `attributes.new: ${n.reason}` };
    return { ok: true, change: { kind: 'renamed', oldName: o.value, newName: n.value } };
  }
  if (e.action === 'account.removed') {
    const raw = attrs.account ?? e.parties?.find((p) => p.role === 'ACCOUNT')?.value ?? '';
    const a = normalizeMailAccount(raw);
    if (!a.ok) return { ok: false, reason: `attributes.account: ${a.reason}` };
    return { ok: true, change: { kind: 'removed', name: a.value } };
  }
  return { ok: false, reason: `unhandled account action ${e.action}` };
}

const followsAccount = (t: Target, name: string) =>
  (t.type === 'MAIL_ACCOUNT' || t.type === 'EMAIL') && t.value === name;

interface AccountFollowUp {
  before: Warrant;
  after: Warrant;
  action: 'warrant.target.renamed' | 'warrant.target.removed';
  targetIds: string[];
}

/**
 * The warrant changes an account change implies. A warrant that loses its last target can no
 * longer intercept anything, so it is also deactivated (never left ACTIVE without targets).
 */
export function followAccountChange(
  warrants: readonly Warrant[],
  change: AccountChange,
  nowMicros: number,
  _opts: NormalizeOptions = {},
): AccountFollowUp[] {
  const out: AccountFollowUp[] = [];
  for (const w of warrants) {
    if (w.state === 'DEACTIVATED') continue;
    if (change.kind === 'renamed') {
      const hit = w.targets.filter((t) => followsAccount(t, change.oldName));
      if (hit.length === 0) continue;
      const asEmail = normalizeEmail(change.newName);
      const targets = w.targets.map((t) => {
        if (!followsAccount(t, change.oldName)) return t;
        // An EMAIL target stays EMAIL when the new name is an address; otherwise it becomes
        // the account name it now is.
        const type = t.type === 'EMAIL' && !asEmail.ok ? 'MAIL_ACCOUNT' : t.type;
        return { ...t, type, value: change.newName };
      });
      // The new name may already be a target of the same warrant: keep one of each.
      const seen = new Set<string>();
      const unique = targets.filter((t) => {
        const k = `${t.type}|${t.value}`;
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
      out.push({
        before: w,
        after: { ...w, targets: unique, version: w.version + 1, updatedAtMicros: nowMicros },
        action: 'warrant.target.renamed',
        targetIds: hit.map((t) => t.id),
      });
    } else {
      const hit = w.targets.filter((t) => followsAccount(t, change.name));
      if (hit.length === 0) continue;
      const targets = w.targets.filter((t) => !followsAccount(t, change.name));
      out.push({
        before: w,
        after: {
          ...w,
          targets,
          state: targets.length === 0 ? 'DEACTIVATED' : w.state,
          version: w.version + 1,
          updatedAtMicros: nowMicros,
        },
        action: 'warrant.target.removed',
        targetIds: hit.map((t) => t.id),
      });
    }
  }
  return out;
}

/**
 * What the account-event follower does with an event admf could not apply. A store failure is
 * transient: retried without committing the offset, so the warrant still follows the account.
 * An event that can never apply goes to the DLQ with its code. One for a tenant admf does not
 * know (yet) is passed over.
 */
export function accountFailureDisposition(code: AdmErrorCode): 'retry' | 'dead-letter' | 'skip' {
  switch (code) {
    case 'ADM_ERR_STORE':
    case 'ADM_ERR_STANDBY':
      return 'retry';
    case 'ADM_ERR_NOT_FOUND':
      return 'skip';
    case 'ADM_ERR_TENANT_MISMATCH':
    case 'ADM_ERR_VALIDATION':
    case 'ADM_ERR_UNAUTHENTICATED':
    case 'ADM_ERR_FORBIDDEN':
    case 'ADM_ERR_CONFLICT':
    case 'ADM_ERR_INTERNAL':
      return 'dead-letter';
    default:
      return code satisfies never;
  }
}
