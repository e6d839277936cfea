import { decodePsPdu, HI1_DOMAIN_ID, microSecondTimeStamp, TIMESTAMP_QUALIFIER } from '@li/etsi';
import type { Warrant } from '@li/schemas';
import { sampleWarrant } from '@li/schemas/testing';
import { describe, expect, it } from 'vitest';
import type { EncodedRecord } from './encode.ts';
import { applyWarrant, hi1Key } from './hi1.ts';
import { DEFAULT_OPTIONS, type EncoderOptions } from './options.ts';
import { commit, type EncoderState, emptyState, restore, type StateChange } from './state.ts';

const OPTS: EncoderOptions = { ...DEFAULT_OPTIONS, operatorIdentifier: 'ACME', deliveryCountryCode: 'IT' };
/** The encoder's wall clock when it writes the notifications (mediation time). */
const NOW = 1_795_100_000_000_000;
const AT = { nowMicros: NOW, ownsCommunications: true };

function run(versions: Warrant[], state: EncoderState = emptyState()) {
  const records: EncodedRecord[] = [];
  const changes: StateChange[] = [];
  for (const w of versions) {
    const r = applyWarrant(state, w, OPTS, AT);
    if (!r.ok) throw new Error(`${r.code}: ${r.reason}`);
    records.push(...r.records);
    changes.push(...r.stateChanges);
    commit(state, r.stateChanges);
  }
  return { records, changes, state };
}

function decoded(r: EncodedRecord) {
  const d = decodePsPdu(r.bytes);
  if (!d.ok || d.value.payload.kind !== 'hi1') throw new Error('not an HI1 PDU');
  const op = d.value.payload.operation;
  if (op.kind === 'other') throw new Error('other');
  return { header: d.value.header, kind: op.kind, n: op.notification };
}

const T0 = 1_795_000_000_000_000;
const v = (version: number, over: Partial<Warrant> = {}) =>
  sampleWarrant({ version, updatedAtMicros: T0 + version * 1_000_000, ...over });

describe('HI1 notifications from warrant versions', () => {
  it('activated, modified, deactivated with HI1 sequence numbers 0, 1, 2 on CIN 0', () => {
    const { records, state } = run([
      v(1),
      v(2, { targets: [...sampleWarrant().targets, { id: 't2', type: 'EMAIL', value: 'bob@example.com' }] }),
      v(3, {
        state: 'DEACTIVATED',
        lemfIds: ['lemf-milan'],
        targets: [...sampleWarrant().targets, { id: 't2', type: 'EMAIL', value: 'bob@example.com' }],
      }),
    ]);
    expect(records.map((r) => [decoded(r).kind, r.sequenceNumber, r.cin, r.kind, r.handover])).toEqual([
      ['liActivated', 0, 0, 'HI1', 'HI2'],
      ['liModified', 1, 0, 'HI1', 'HI2'],
      ['liDeactivated', 2, 0, 'HI1', 'HI2'],
    ]);
    // Deactivation reaches the LEMFs of the version that was active too.
    expect(records.map((r) => r.lemfIds)).toEqual([['lemf-rome'], ['lemf-rome'], ['lemf-rome', 'lemf-milan']]);
    const first = decoded(records[0]!);
    expect(first.header.liid).toBe('LIID0001');
    expect(first.header.sequenceNumber).toBe(0);
    expect(first.header.communicationIdentifier).toEqual({
      operatorIdentifier: 'ACME',
      cin: 0,
      deliveryCountryCode: 'IT',
    });
    expect(first.header.authorizationCountryCode).toBe('IT');
    expect(first.n.domainId).toEqual(HI1_DOMAIN_ID);
    expect(first.n.liid).toBe('LIID0001');
    expect(first.n.communicationIdentifier).toEqual({ operatorIdentifier: 'ACME' });
    expect(first.n.timeStamp.kind).toBe('utcTime');
    expect(Buffer.from(first.n.targetInformation!).toString()).toBe('+390612345678');
    expect(Buffer.from(decoded(records[1]!).n.targetInformation!).toString()).toBe('+390612345678, bob@example.com');
    expect(state.entries[hi1Key(sampleWarrant())]).toMatchObject({
      t: 'hi1',
      version: 3,
      state: 'DEACTIVATED',
      seq: 3,
    });
  });

  it('operator change (admf transfer, seed 001 Art. 9 c.5): old tenant liDeactivated, new tenant liActivated, same LIID and instant', () => {
    // admf writes both versions in one transaction at one instant; each tenant's encoder has its own state.
    const at = T0 + 5_000_000;
    const old = run([v(1), v(2, { state: 'DEACTIVATED', updatedAtMicros: at })]);
    const moved = run([v(2, { tenant: 'beta', lemfIds: ['lemf-berlin'], updatedAtMicros: at })]);
    expect(old.records.map((r) => [decoded(r).kind, r.sequenceNumber, r.lemfIds])).toEqual([
      ['liActivated', 0, ['lemf-rome']],
      ['liDeactivated', 1, ['lemf-rome']],
    ]);
    expect(moved.records.map((r) => [decoded(r).kind, r.sequenceNumber, r.lemfIds])).toEqual([
      ['liActivated', 0, ['lemf-berlin']],
    ]);
    const end = decoded(old.records[1]!);
    const start = decoded(moved.records[0]!);
    expect([end.n.liid, start.n.liid]).toEqual(['LIID0001', 'LIID0001']);
    // Interception ends on the old side at the very instant it starts on the new one: no gap.
    expect(end.n.timeStamp).toEqual(start.n.timeStamp);
  });

  it('sends nothing for a replay, an older version, or a change that is not a modification', () => {
    const state = run([v(1)]).state;
    expect(run([v(1), v(0)], state).records).toEqual([]);
    // A new version with the same targets, LEMFs and validity (e.g. a new judge's name) is not a modification.
    const { records, changes } = run([v(2, { italian: null })], state);
    expect(records).toEqual([]);
    expect(changes).toEqual([{ key: hi1Key(sampleWarrant()), value: expect.objectContaining({ version: 2, seq: 1 }) }]);
  });

  it('a warrant first seen SUSPENDED or DEACTIVATED is not announced; SUSPENDED -> ACTIVE is an activation', () => {
    const { records } = run([v(1, { state: 'SUSPENDED' }), v(2, { state: 'ACTIVE' }), v(3, { state: 'SUSPENDED' })]);
    expect(records.map((r) => [decoded(r).kind, r.sequenceNumber])).toEqual([
      ['liActivated', 0],
      ['liDeactivated', 1],
    ]);
    expect(run([v(1, { state: 'DEACTIVATED' })]).records).toEqual([]);
  });

  it('continues the HI1 sequence after a restart from the changelog', () => {
    const a = run([v(1), v(2, { validUntilMicros: 1_900_000_000_000_000 })]);
    const restored = restore(a.changes);
    const b = run([v(3, { state: 'DEACTIVATED' })], restored);
    expect(b.records.map((r) => [decoded(r).kind, r.sequenceNumber])).toEqual([['liDeactivated', 2]]);
  });

  it('keeps warrants of two countries with the same LIID apart', () => {
    const { records } = run([v(1), v(1, { authorisationCountry: 'DE' })]);
    expect(records.map((r) => [decoded(r).header.authorizationCountryCode, r.sequenceNumber])).toEqual([
      ['IT', 0],
      ['DE', 0],
    ]);
  });

  it('never mutates the input state and reports values it cannot encode', () => {
    const state = emptyState();
    const r = applyWarrant(state, v(1), { ...OPTS, operatorIdentifier: 'TOOLONG' }, AT);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe('ENC_ERR_INVALID_VALUE');
    expect(applyWarrant(state, v(1), OPTS, AT).ok).toBe(true);
    expect(state.entries).toEqual({});
  });

  it('header: the mediation time qualified timeOfMediation; notification: when the change took effect', () => {
    const { records } = run([v(1), v(2, { state: 'DEACTIVATED' })]);
    for (const r of records) {
      const { header } = decoded(r);
      expect(header.timeStampQualifier).toBe(TIMESTAMP_QUALIFIER.timeOfMediation);
      expect(header.microSecondTimeStamp).toEqual(microSecondTimeStamp(NOW));
    }
    expect(records.map((r) => decoded(r).n.timeStamp)).toEqual([
      { kind: 'utcTime', micros: T0 + 1_000_000 },
      { kind: 'utcTime', micros: T0 + 2_000_000 },
    ]);
  });

  it('a warrant entered before its start is announced by the version written at the start, timed at the start', () => {
    const start = T0 + 3_600_000_000;
    const early = (version: number, over: Partial<Warrant> = {}) =>
      sampleWarrant({ version, validFromMicros: start, updatedAtMicros: T0 + version, ...over });
    const entered = run([early(1), early(2, { lemfIds: ['lemf-rome', 'lemf-milan'] })]);
    expect(entered.records).toEqual([]); // neither entry nor a change before the start is announced
    expect(entered.state.entries[hi1Key(sampleWarrant())]).toMatchObject({ state: 'ACTIVE', pending: true, seq: 0 });
    // admf's scheduler writes a version once the window started (here 5 s late).
    const started = run(
      [early(3, { lemfIds: ['lemf-rome', 'lemf-milan'], updatedAtMicros: start + 5_000_000 })],
      entered.state,
    );
    expect(started.records.map((r) => [decoded(r).kind, r.sequenceNumber, r.lemfIds])).toEqual([
      ['liActivated', 0, ['lemf-rome', 'lemf-milan']],
    ]);
    expect(decoded(started.records[0]!).n.timeStamp).toEqual({ kind: 'utcTime', micros: start });
    expect(started.state.entries[hi1Key(sampleWarrant())]).not.toHaveProperty('pending');
  });

  it('a scheduled warrant deactivated before its start was never announced: nothing to deactivate', () => {
    const start = T0 + 3_600_000_000;
    const { records } = run([
      sampleWarrant({ version: 1, validFromMicros: start, updatedAtMicros: T0 }),
      sampleWarrant({ version: 2, validFromMicros: start, updatedAtMicros: T0 + 1, state: 'DEACTIVATED' }),
    ]);
    expect(records).toEqual([]);
  });

  it('an expiry written after the window ended is timed at the window end', () => {
    const end = sampleWarrant().validUntilMicros;
    const { records } = run([v(1), v(2, { state: 'DEACTIVATED', updatedAtMicros: end + 30_000_000 })]);
    expect(decoded(records[1]!).n.timeStamp).toEqual({ kind: 'utcTime', micros: end });
  });
});
