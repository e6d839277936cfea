import type { MatchedEvent } from '@li/schemas';
import { sampleEvent, sampleMatched } from '@li/schemas/testing';
import { describe, expect, it } from 'vitest';
import { apply } from './apply.ts';
import type { EncodedRecord } from './encode.ts';
import { DEFAULT_OPTIONS } from './options.ts';
import {
  cinKey,
  commit,
  type EncoderState,
  type ExpiryPolicy,
  emptyState,
  expire,
  restore,
  type StateChange,
} from './state.ts';

const OPTS = { ...DEFAULT_OPTIONS, operatorIdentifier: 'ACME' };
const T0 = 1_795_300_000_000_000;
const S = 1_000_000;
const POLICY: ExpiryPolicy = { endedRetentionMicros: 60 * S, idleMicros: 3600 * S };

const sip = (communicationId: string, at: number, action: string, attributes: Record<string, string>) =>
  sampleMatched({
    authorisationCountry: 'DE', // PS-PDUs only: one record per IRI
    event: sampleEvent({
      eventId: `${communicationId}-${at}`,
      communicationId,
      action,
      attributes,
      occurredAtMicros: at,
    }),
  });
const invite = (id: string, at: number) => sip(id, at, 'sip.invite', { method: 'INVITE' });
/** The 200 to BYE: IRI-END. */
const end = (id: string, at: number) => sip(id, at, 'sip.response', { method: 'BYE', status: '200' });
/** INVITE, 200, ACK, 200 to BYE: BEGIN, CONTINUE, CONTINUE, END. */
const call = (id: string, at: number) => [
  invite(id, at),
  sip(id, at + 1, 'sip.response', { method: 'INVITE', status: '200' }),
  sip(id, at + 2, 'sip.ack', { method: 'ACK' }),
  end(id, at + 3),
];

/** Applies and commits each event, as the service does; returns the records and the changelog. */
function run(state: EncoderState, events: MatchedEvent[], changelog: StateChange[] = []) {
  const records: EncodedRecord[] = [];
  for (const m of events) {
    const r = apply(state, m, OPTS);
    if (!r.ok) throw new Error(`${r.code}: ${r.reason}`);
    records.push(...r.records);
    changelog.push(...r.stateChanges);
    commit(state, r.stateChanges);
  }
  return records;
}

/** expire + commit, the tombstones appended to the changelog as the service writes them. */
function sweep(state: EncoderState, now: number, changelog: StateChange[], policy = POLICY): StateChange[] {
  const gone = expire(state, now, policy);
  changelog.push(...gone);
  commit(state, gone);
  return gone;
}

const kinds = (s: EncoderState) =>
  Object.entries(s.entries)
    .map(([k, v]) => `${v.t}:${k.split('/')[1]}`)
    .sort();

describe('expire', () => {
  it('an ended communication is removed after its retention: tombstones for it and its counters', () => {
    const state = emptyState();
    const records = run(state, call('a', T0));
    expect(records.map((r) => r.iriType)).toEqual(['BEGIN', 'CONTINUE', 'CONTINUE', 'END']);
    expect(kinds(state)).toEqual(['cin:cin', 'comm:comm', 'seq:seq']);
    expect(expire(state, T0 + 3 + 60 * S - 1, POLICY)).toEqual([]);
    const gone = expire(state, T0 + 3 + 60 * S, POLICY);
    expect(gone).toEqual([
      { key: expect.stringMatching(/^LIID0001\/comm\//), value: null },
      { key: 'LIID0001/seq/1', value: null },
    ]);
    commit(state, gone);
    // The CIN counter stays: it is what keeps CINs, and so sequence numbers, from repeating.
    expect(state.entries).toEqual({ [cinKey('LIID0001')]: { t: 'cin', next: 2 } });
  });

  it('with no retention, END is removed at the END time', () => {
    const state = emptyState();
    run(state, call('a', T0));
    const gone = expire(state, T0 + 3, { ...POLICY, endedRetentionMicros: 0 });
    expect(gone.map((c) => c.key)).toEqual([expect.stringMatching(/\/comm\//), 'LIID0001/seq/1']);
  });

  it('an open communication is removed once idle for idleMicros, counted from its last event', () => {
    const state = emptyState();
    run(state, [invite('open', T0), invite('busy', T0), sip('busy', T0 + 100 * S, 'sip.ack', { method: 'ACK' })]);
    expect(expire(state, T0 + 3600 * S - 1, POLICY)).toEqual([]);
    const gone = expire(state, T0 + 3600 * S, POLICY);
    // Only 'open' (CIN 1): 'busy' had an event 100 s later.
    expect(gone.map((c) => c.key)).toEqual([expect.stringMatching(/\/comm\//), 'LIID0001/seq/1']);
    commit(state, gone);
    expect(expire(state, T0 + 3700 * S, POLICY).map((c) => c.key)).toEqual([
      expect.stringMatching(/\/comm\//),
      'LIID0001/seq/2',
    ]);
  });

  it('a communication id seen again after expiry gets a new CIN, numbered from 0, no (CIN, seq) twice', () => {
    const state = emptyState();
    const first = run(state, call('x', T0));
    sweep(state, T0 + 61 * S, []);
    const again = run(state, call('x', T0 + 120 * S));
    expect(first.map((r) => [r.cin, r.sequenceNumber])).toEqual([
      [1, 0],
      [1, 1],
      [1, 2],
      [1, 3],
    ]);
    expect(again.map((r) => [r.cin, r.sequenceNumber, r.iriType])).toEqual([
      [2, 0, 'BEGIN'],
      [2, 1, 'CONTINUE'],
      [2, 2, 'CONTINUE'],
      [2, 3, 'END'],
    ]);
    const pairs = [...first, ...again].map((r) => `${r.liid}/${r.cin}/${r.sequenceNumber}`);
    expect(new Set(pairs).size).toBe(pairs.length);
  });

  it('restoring from a changelog with tombstones gives only live entries, and numbering goes on', () => {
    const state = emptyState();
    const changelog: StateChange[] = [];
    run(state, [...call('a', T0), ...call('b', T0 + 10), invite('c', T0 + 20)], changelog);
    sweep(state, T0 + 61 * S, changelog); // a and b ended: gone; c is open
    // Through JSON, as the compacted topic stores them.
    const restored = restore(JSON.parse(JSON.stringify(changelog)) as StateChange[]);
    expect(restored).toEqual(state);
    expect(kinds(restored)).toEqual(['cin:cin', 'comm:comm', 'seq:seq']);
    const after = run(restored, [end('c', T0 + 70 * S), invite('a', T0 + 71 * S)]);
    expect(after.map((r) => [r.cin, r.sequenceNumber, r.iriType])).toEqual([
      [3, 1, 'END'],
      [4, 0, 'BEGIN'],
    ]);
  });

  it('sees a working copy’s inherited entries, skips those the batch deleted, and stops at the limit', () => {
    const state = emptyState();
    run(state, [...call('a', T0), ...call('b', T0 + 10), ...call('c', T0 + 20)]);
    const working: EncoderState = { entries: Object.create(state.entries) };
    const [bKey] = Object.keys(state.entries).filter(
      (k) => k.includes('/comm/') && (state.entries[k] as { cin?: number }).cin === 2,
    );
    (working.entries as Record<string, unknown>)[bKey!] = undefined; // tombstoned earlier in the batch
    const gone = expire(working, T0 + 61 * S, POLICY);
    expect(gone.filter((c) => c.key.includes('/seq/')).map((c) => c.key)).toEqual(['LIID0001/seq/1', 'LIID0001/seq/3']);
    expect(expire(working, T0 + 61 * S, POLICY, { limit: 2 })).toHaveLength(2);
  });

  it('a sweep scoped to some LIIDs leaves the others (another instance owns them)', () => {
    const state = emptyState();
    run(state, [...call('a', T0), { ...call('b', T0)[0]!, liid: 'LIID0002' }]);
    const keys = (liids: string[]) =>
      expire(state, T0 + 3600 * S, POLICY, { liids: new Set(liids) }).map((c) => c.key.split('/')[0]);
    expect(keys(['LIID0002'])).toEqual(['LIID0002', 'LIID0002']);
    expect(keys(['LIID0001'])).toEqual(['LIID0001', 'LIID0001']);
    expect(keys([])).toEqual([]);
  });
});
