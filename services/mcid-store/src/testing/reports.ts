// Real MCID reports produced by the domain from SIP fixtures, for the reporting tests.
import { apply, setGlobalAdminState, setTenantAdminState, upsertSubscriber } from '../domain/engine.ts';
import { MemoryState } from '../domain/memory-state.ts';
import type { McidReport } from '../domain/model.ts';
import { invite, response, TENANT } from './sip-fixtures.ts';

const SERVED = 'sip:+15552220000@ims.example.net;user=phone';

/** A permanent-mode report of a CFU-diverted call (carries MCID and CDIV supplementary services). */
export function sampleReports(count = 1, startMicros = 1_790_000_000_000_000): McidReport[] {
  const state = new MemoryState();
  state.applyChanges([...setGlobalAdminState('UNLOCKED', 0), ...setTenantAdminState(TENANT, 'UNLOCKED', 0)]);
  const sub = upsertSubscriber(
    state,
    { tenant: TENANT, identities: [SERVED], mode: 'PERMANENT', terminating: true, originating: false },
    0,
  );
  if (!sub.ok) throw new Error(sub.reason);
  state.applyChanges(sub.changes);
  const out: McidReport[] = [];
  for (let i = 0; i < count; i++) {
    const at = startMicros + i * 1_000_000;
    const callId = `call-${i}-a84b4c76e66710@pc33.example.net`;
    const events = [
      invite({
        callId,
        at: at + 123_456,
        requestUri: SERVED,
        pai: ['"Caller" <sip:+15550001111@ims.example.net;user=phone>', '<tel:+15550001111>'],
        privacy: 'id',
        referredBy: '<sip:transferor@ims.example.net>',
      }),
      invite({
        callId,
        at: at + 200_000,
        requestUri: 'sip:+15553330000@ims.example.net;user=phone',
        to: `<${SERVED}>`,
        historyInfo: [
          `<${SERVED}?Reason=SIP%3Bcause%3D302>;index=1`,
          '<sip:+15553330000@ims.example.net;user=phone;cause=302>;index=1.1',
        ],
      }),
      response({ callId, at: at + 500_000, status: 180 }),
    ];
    for (const e of events) {
      const r = apply(state, e);
      state.applyChanges(r.changes);
      out.push(...r.reports);
    }
  }
  return out;
}
