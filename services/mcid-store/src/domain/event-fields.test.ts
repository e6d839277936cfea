// MCID_EVENT_FIELDS is what the events consumer decodes of each event (the rest is skipped in
// the bytes). The domain's type keeps it from reading other fields; this checks that every
// listed field is needed: events cut down to the list give the same outcome as whole events,
// and dropping any one listed field changes it.
import type { NormalizedEvent } from '@li/schemas';
import { describe, expect, it } from 'vitest';
import { MemoryStateStore } from '../testing/memory-store.ts';
import { invite, request, response, TENANT } from '../testing/sip-fixtures.ts';
import { admitEvent } from './admission.ts';
import { apply, setGlobalAdminState, setTenantAdminState, upsertSubscriber } from './engine.ts';
import { MCID_EVENT_FIELDS, type McidEvent } from './sip.ts';

const S = 'sip:+15552220000@ims.example.net;user=phone';
const T0 = 1_790_000_000_000_000;
const FROM = '"Caller" <sip:+15550001111@ims.example.net;user=phone>;tag=a1';

/** Calls of every shape the fields matter for: whole messages, attributes only, an INFO. */
function scenario(): NormalizedEvent[] {
  const attributesOnly = (e: NormalizedEvent, attributes: Record<string, string>): NormalizedEvent => ({
    ...e,
    content: null,
    attributes,
  });
  return [
    invite({ callId: 'c1', at: T0, requestUri: S }),
    response({ callId: 'c1', at: T0 + 1, status: 180 }),
    response({ callId: 'c1', at: T0 + 2, status: 200 }),
    // ingest without the raw message: Call-ID from communicationId, the rest from attributes
    attributesOnly(invite({ callId: 'c2', at: T0 + 10, requestUri: S }), {
      method: 'INVITE',
      'request-uri': S,
      from: FROM,
      to: `<${S}>`,
      cseq: '1 INVITE',
    }),
    attributesOnly(response({ callId: 'c2', at: T0 + 11, status: 486 }), { status: '486', cseq: '1 INVITE' }),
    // an MCID request whose message has no Content-Type header: the event's contentType is read
    {
      ...request('INFO', {
        callId: 'c1',
        at: T0 + 20,
        requestUri: 'sip:+15550001111@ims.example.net',
        from: `<${S}>;tag=b1`,
        body: '<McidRequestIndicator>1</McidRequestIndicator>',
      }),
      contentType: 'application/vnd.etsi.mcid+xml',
    },
  ];
}

/** What the consumer and the engine make of the events, event by event. */
function outcome(events: readonly McidEvent[]): unknown[] {
  const state = new MemoryStateStore();
  state.applyChanges(setGlobalAdminState('UNLOCKED', T0));
  state.applyChanges(setTenantAdminState(TENANT, 'UNLOCKED', T0));
  const sub = upsertSubscriber(
    state,
    { tenant: TENANT, identities: [S], mode: 'PERMANENT', terminating: true, originating: false },
    T0,
  );
  if (!sub.ok) throw new Error(sub.reason);
  state.applyChanges(sub.changes);
  return events.map((e) => {
    const admission = admitEvent(TENANT, e);
    if (admission.kind !== 'apply') return admission;
    try {
      const r = apply(state, e);
      state.applyChanges(r.changes);
      return r;
    } catch (err) {
      return { threw: String(err) };
    }
  });
}

function only(e: NormalizedEvent, fields: readonly string[]): McidEvent {
  return Object.fromEntries(fields.map((f) => [f, e[f as keyof NormalizedEvent]])) as McidEvent;
}

describe('MCID_EVENT_FIELDS', () => {
  const whole = outcome(scenario());

  it('is enough: events with only these fields give the same outcome as whole events', () => {
    expect(JSON.stringify(whole)).toContain('"reports":[{'); // the scenario reports something
    expect(outcome(scenario().map((e) => only(e, MCID_EVENT_FIELDS)))).toEqual(whole);
  });

  it.each(MCID_EVENT_FIELDS)('needs %s: without it the outcome differs', (dropped) => {
    const fields = MCID_EVENT_FIELDS.filter((f) => f !== dropped);
    expect(outcome(scenario().map((e) => only(e, fields)))).not.toEqual(whole);
  });
});
