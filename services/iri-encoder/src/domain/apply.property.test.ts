// Property: for any interleaving of calls, mail sessions and chats over several LIIDs, apply()
// never throws, sequence numbers per (LIID, CIN, IRI|CC) run 0,1,2,… without gaps, a CIN is
// stable per communication, and no CIN has CONTINUE/END before its BEGIN.
import { decodePsPdu } from '@li/etsi';
import type { MatchedEvent, NormalizedEvent } from '@li/schemas';
import { sampleEvent, sampleMatched } from '@li/schemas/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apply } from './apply.ts';
import { DEFAULT_OPTIONS } from './options.ts';
import { commit, emptyState, restore, type StateChange } from './state.ts';

const SIP: [string, Record<string, string>][] = [
  ['sip.invite', { method: 'INVITE' }],
  ['sip.response', { method: 'INVITE', status: '180' }],
  ['sip.response', { method: 'INVITE', status: '200' }],
  ['sip.response', { method: 'INVITE', status: '486' }],
  ['sip.ack', { method: 'ACK' }],
  ['sip.bye', { method: 'BYE' }],
  ['sip.response', { method: 'BYE', status: '200' }],
  ['sip.register', { method: 'REGISTER' }],
];
const MAIL: [NormalizedEvent['category'], string][] = [
  ['LOGIN', 'imap.login'],
  ['LOGIN', 'imap.login.failed'],
  ['NEW_MAIL', 'mail.delivered'],
  ['ACCESS', 'imap.fetch'],
  ['SIGNALS', 'imap.logout'],
  ['MAILBOX', 'imap.mailbox.created'],
];

const arbEvent: fc.Arbitrary<MatchedEvent> = fc
  .record({
    liid: fc.constantFrom('L1', 'L2'),
    comm: fc.integer({ min: 0, max: 4 }),
    kind: fc.constantFrom('sip', 'mail', 'media', 'msnp'),
    pick: fc.nat(),
    it: fc.boolean(),
    cc: fc.boolean(),
    content: fc.uint8Array({ minLength: 0, maxLength: 40 }),
  })
  .map((r) => {
    const base = {
      communicationId: `${r.kind === 'media' ? 'sip' : r.kind}-${r.comm}`,
      content: Buffer.from(r.content),
    };
    let event: NormalizedEvent;
    if (r.kind === 'sip') {
      const [action, attributes] = SIP[r.pick % SIP.length]!;
      event = sampleEvent({ ...base, action, attributes: { ...attributes }, content: Buffer.from('SIP/2.0 x') });
    } else if (r.kind === 'mail') {
      const [category, action] = MAIL[r.pick % MAIL.length]!;
      event = sampleEvent({
        ...base,
        category,
        action,
        protocol: 'IMAP',
        attributes: {},
        contentType: 'message/rfc822',
      });
    } else if (r.kind === 'media') {
      event = sampleEvent({
        ...base,
        category: 'MEDIA',
        action: 'x3.rtp',
        protocol: 'x3',
        attributes: { payloadFormat: '8' },
      });
    } else {
      const action = ['msnp.signin', 'msnp.msg', 'msnp.signout'][r.pick % 3]!;
      event = sampleEvent({
        ...base,
        action,
        protocol: 'MSNP',
        attributes: {},
        contentType: 'application/vnd.li.ip-packet',
      });
    }
    return sampleMatched({
      liid: r.liid,
      authorisationCountry: r.it ? 'IT' : 'FR',
      deliver: r.cc ? 'IRI_AND_CC' : 'IRI_ONLY',
      matchedRoles: ['CALLER'],
      event,
    });
  });

const OPTS = { ...DEFAULT_OPTIONS, operatorIdentifier: 'ACME', maxSegment: 16 };

describe('apply over random event streams', () => {
  it('gap-free numbering, stable CINs, BEGIN first; a restart from the changelog changes nothing', () => {
    fc.assert(
      fc.property(fc.array(arbEvent, { maxLength: 60 }), fc.nat(), (events, cut) => {
        let state = emptyState();
        const log: StateChange[] = [];
        const next = new Map<string, number>();
        const cinOf = new Map<string, number>();
        const begun = new Set<string>();
        const at = events.length === 0 ? 0 : cut % events.length;
        events.forEach((m, i) => {
          if (i === at) state = restore(JSON.parse(JSON.stringify(log)) as StateChange[]); // crash + rebuild
          const r = apply(state, m, OPTS);
          if (!r.ok) throw new Error(`${r.code} ${r.reason}`);
          commit(state, r.stateChanges);
          log.push(...r.stateChanges);
          for (const rec of r.records) {
            const commId = `${m.liid}|${m.event.communicationId}`;
            const known = cinOf.get(commId);
            if (known === undefined) cinOf.set(commId, rec.cin);
            else expect(rec.cin).toBe(known);
            if (rec.format !== 'TS102232') continue;
            const stream = `${rec.liid}|${rec.cin}|${rec.handover}`;
            const expected = next.get(stream) ?? 0;
            // Segment flag TRIs reuse the number of the CC PDU beside them.
            if (rec.kind === 'TRI') {
              expect([expected, expected - 1]).toContain(rec.sequenceNumber);
              continue;
            }
            expect(rec.sequenceNumber).toBe(expected);
            next.set(stream, expected + 1);
            const d = decodePsPdu(rec.bytes);
            expect(d.ok && d.value.header.sequenceNumber).toBe(rec.sequenceNumber);
            const key = `${rec.liid}|${rec.cin}`;
            if (rec.iriType === 'BEGIN') begun.add(key);
            if (rec.iriType === 'CONTINUE' || rec.iriType === 'END') expect(begun.has(key)).toBe(true);
          }
        });
      }),
      { numRuns: 300 },
    );
  });
});
