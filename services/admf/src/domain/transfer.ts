// Operator change without interruption (seed 001 Art. 9 c.5): the monitored number moves to
// another provider, i.e. another tenant of this platform. The warrant moves with it under the
// same LIID: the new tenant's copy is written in effect and the old one DEACTIVATED in the same
// store commit (one Kafka transaction), the new one first, so there is no moment in which
// neither tenant intercepts the target.
import type { Warrant } from '@li/schemas';
import type { Result } from '../errors.ts';
import { errResult, okResult } from '../errors.ts';
import { lemfIdsOf } from './warrant.ts';

export const TRANSFER_OUT_ACTION = 'warrant.transfer-out';
export const TRANSFER_IN_ACTION = 'warrant.transfer-in';

export interface TransferPlan {
  /** The warrant in the new tenant: same LIID, state and window, the new tenant's LEMFs. */
  incoming: Warrant;
  /** The old tenant's warrant, DEACTIVATED. */
  outgoing: Warrant;
}

/**
 * Checks a transfer of `current` to tenant `toTenant` and builds both versions.
 * targetLemfIds: the LEMF destinations the new tenant has; existingInTarget: a warrant with the
 * same key there (LIIDs stay unique per tenant and country, so that is a conflict).
 */
export function planTransfer(
  current: Warrant,
  to: { tenant: string; lemfIds: ReadonlySet<string>; existing: Warrant | undefined },
  lemfIds: unknown,
  nowMicros: number,
): Result<TransferPlan> {
  if (to.tenant === current.tenant) {
    return errResult('ADM_ERR_VALIDATION', 'toTenant must be another tenant than the warrant’s own', 'toTenant');
  }
  if (current.state === 'DEACTIVATED') {
    return errResult('ADM_ERR_CONFLICT', 'warrant is DEACTIVATED: nothing to keep intercepting', 'state');
  }
  if (current.validUntilMicros <= nowMicros) {
    return errResult('ADM_ERR_CONFLICT', 'the validity window has ended', 'validUntil');
  }
  if (to.existing) {
    return errResult(
      'ADM_ERR_CONFLICT',
      'the new tenant already has a warrant with this liid for this authorising country',
      'liid',
    );
  }
  let lemfs: string[];
  if (lemfIds === undefined) {
    // Without lemfIds the warrant keeps its LEMF ids, which the new tenant must have set up.
    const missing = current.lemfIds.findIndex((id) => !to.lemfIds.has(id));
    if (missing >= 0) {
      return errResult(
        'ADM_ERR_CONFLICT',
        `the new tenant has no LEMF destination "${current.lemfIds[missing]}": create it there or name lemfIds`,
        'lemfIds',
      );
    }
    lemfs = [...current.lemfIds];
  } else {
    const r = lemfIdsOf(lemfIds, to.lemfIds);
    if (!r.ok) return r;
    lemfs = r.value;
  }
  const version = current.version + 1;
  return okResult({
    // Same state: a SUSPENDED warrant stays suspended (a transfer never resumes interception).
    incoming: { ...current, tenant: to.tenant, lemfIds: lemfs, version, updatedAtMicros: nowMicros },
    outgoing: { ...current, state: 'DEACTIVATED', version, updatedAtMicros: nowMicros },
  });
}
