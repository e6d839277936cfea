// The service decodes only MATCH_EVENT_FIELDS of each event: what it does with an event must not
// change when the other fields are missing, and must change when any listed one is.
import { ManualClock } from '@li/core';
import type { NormalizedEvent } from '@li/schemas';
import { sampleEvent, sampleWarrant } from '@li/schemas/testing';
import { describe, expect, it } from 'vitest';
import { RecentEventIds } from './recent-event-ids.ts';
import { TapBook } from './taps.ts';
import { MATCH_EVENT_FIELDS, TargetMatch } from './target-match.ts';

const clock = new ManualClock(1_797_000_000_000);
const NOW = clock.now() * 1000;

function call(action: string, attributes: Record<string, string>, eventId: string): NormalizedEvent {
  return sampleEvent({
    eventId,
    action,
    attributes,
    occurredAtMicros: NOW,
    communicationId: 'call-1',
    parties: [{ role: 'CALLEE', type: 'E164', value: '06 1234 5678' }],
    network: { transport: 'udp', srcAddress: '192.0.2.10', srcPort: 5060, dstAddress: '192.0.2.20', dstPort: 5060 },
  });
}

// A call tapped at its INVITE (warrants on the number and on the caller's address), refused
// (486: its tap ends), and the INVITE read again (a duplicate).
const SCENARIO = [
  call('sip.invite', { method: 'INVITE', 'li.tap-seq': '0000abcd/1' }, 'e1'),
  call('sip.response', { method: 'INVITE', status: '486' }, 'e2'),
  call('sip.invite', { method: 'INVITE', 'li.tap-seq': '0000abcd/1' }, 'e1'),
];

/** What target-match makes of the events: matches, media, tap changes, duplicates (or what threw). */
function outcome(events: readonly object[]): unknown[] {
  const tm = new TargetMatch({ clock, tenantOptions: () => ({ defaultCountryCode: '39' }) });
  tm.applyWarrantRecord('acme', 'IT:BYNUMBER', sampleWarrant({ liid: 'BYNUMBER' }));
  tm.applyWarrantRecord(
    'acme',
    'IT:BYADDRESS',
    sampleWarrant({ liid: 'BYADDRESS', targets: [{ id: 't1', type: 'IPV4', value: '192.0.2.10' }] }),
  );
  tm.markCaughtUp();
  const book = new TapBook();
  const ids = new RecentEventIds(10).batch('p0');
  return events.map((e) => {
    try {
      const event = e as unknown as NormalizedEvent;
      if (typeof event.eventId === 'string' && ids.isRepeat(event.eventId)) return 'repeat';
      const r = tm.handleEvent('acme', event);
      if (!r.ok) return r.code;
      const changes = book.changes('acme', event, r.media, NOW);
      book.commit(changes);
      const strip = ({ call: _, ...c }: (typeof changes)[number]) => c;
      return {
        matched: r.matched.map((m) => [m.liid, m.matchedRoles, m.matchedParties]),
        media: r.media.map((m) => m.liid),
        changes: changes.map(strip),
        tapSeq: event.attributes['li.tap-seq'],
      };
    } catch (err) {
      return `threw ${(err as Error).name}`;
    }
  });
}

const only = (e: NormalizedEvent, fields: readonly string[]) =>
  Object.fromEntries(Object.entries(e).filter(([k]) => fields.includes(k)));

describe('MATCH_EVENT_FIELDS', () => {
  it('the scenario matches, taps and untaps the call, and drops the duplicate', () => {
    expect(outcome(SCENARIO)).toMatchObject([
      { media: ['BYADDRESS', 'BYNUMBER'], changes: [{ key: 'call-1', value: { liids: ['BYADDRESS', 'BYNUMBER'] } }] },
      { changes: [{ key: 'call-1', value: null }] },
      'repeat',
    ]);
  });

  it('events of those fields only are handled as whole events', () => {
    expect(outcome(SCENARIO.map((e) => only(e, MATCH_EVENT_FIELDS)))).toEqual(outcome(SCENARIO));
  });

  it.each(MATCH_EVENT_FIELDS)('without %s, the outcome changes', (field) => {
    const without = MATCH_EVENT_FIELDS.filter((f) => f !== field);
    expect(outcome(SCENARIO.map((e) => only(e, without)))).not.toEqual(outcome(SCENARIO));
  });
});
