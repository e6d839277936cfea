// Warrants that start or end while a communication of their LIID is running (issue #17 item 3).
import { decodeHi2, decodePsPdu, microSecondTimeStamp, TIMESTAMP_QUALIFIER } from '@li/etsi';
import type { MatchedEvent, NormalizedEvent, Warrant } from '@li/schemas';
import { sampleEvent, sampleMatched, sampleWarrant } from '@li/schemas/testing';
import { describe, expect, it } from 'vitest';
import { apply } from './apply.ts';
import type { EncodedRecord } from './encode.ts';
import { applyWarrant } from './hi1.ts';
import { DEFAULT_OPTIONS, type EncoderOptions } from './options.ts';
import { type CommunicationEntry, commit, type EncoderState, emptyState } from './state.ts';

const OPTS: EncoderOptions = { ...DEFAULT_OPTIONS, operatorIdentifier: 'ACME', ts101671Countries: ['IT'] };
const NOW = 1_795_400_000_000_000;
let clock = 1_795_300_000_000_000;

function sip(callId: string, action: string, attributes: Record<string, string>): MatchedEvent {
  clock += 1000;
  const event: NormalizedEvent = sampleEvent({
    eventId: `e${clock}`,
    communicationId: callId,
    action,
    attributes,
    occurredAtMicros: clock,
  });
  return sampleMatched({ event });
}

/** Matched events and warrant versions in order, committed after each as the service does. */
function run(inputs: (MatchedEvent | Warrant)[], state: EncoderState = emptyState(), ownsCommunications = true) {
  const records: EncodedRecord[] = [];
  for (const x of inputs) {
    const r =
      'event' in x ? apply(state, x, OPTS) : applyWarrant(state, x, OPTS, { nowMicros: NOW, ownsCommunications });
    if (!r.ok) throw new Error(`${r.code}: ${r.reason}`);
    records.push(...r.records);
    commit(state, r.stateChanges);
  }
  return { records, state };
}

const T0 = sampleWarrant().validFromMicros;
const warrant = (version: number, over: Partial<Warrant> = {}) =>
  sampleWarrant({ version, updatedAtMicros: T0 + version, ...over });
const summary = (rs: EncodedRecord[]) => rs.map((r) => [r.kind, r.format, r.cin, r.sequenceNumber, r.iriType ?? null]);
const comms = (s: EncoderState) => Object.values(s.entries).filter((e): e is CommunicationEntry => e.t === 'comm');

describe('warrant starting on a running communication', () => {
  it('the first event the LIID sees of a call already in progress opens it with a BEGIN', () => {
    const { records } = run([
      sip('running', 'sip.invite', { method: 'INVITE', reinvite: 'true' }),
      sip('running', 'sip.bye', { method: 'BYE' }),
      sip('running', 'sip.response', { method: 'BYE', status: '200' }),
    ]);
    expect(summary(records.filter((r) => r.format === 'TS102232'))).toEqual([
      ['IRI', 'TS102232', 1, 0, 'BEGIN'],
      ['IRI', 'TS102232', 1, 1, 'CONTINUE'],
      ['IRI', 'TS102232', 1, 2, 'END'],
    ]);
  });
});

describe('warrant ending during a communication', () => {
  const setup = () =>
    run([
      warrant(1),
      sip('open-call', 'sip.invite', { method: 'INVITE' }),
      sip('open-call', 'sip.response', { method: 'INVITE', status: '200' }),
      sip('done-call', 'sip.invite', { method: 'INVITE' }),
      sip('done-call', 'sip.bye', { method: 'BYE' }),
      sip('done-call', 'sip.response', { method: 'BYE', status: '200' }),
    ]);

  it('ends each open communication with an iRI-End on its CIN and counter, then sends liDeactivated', () => {
    const { state } = setup();
    const deactivated = warrant(2, { state: 'DEACTIVATED', lemfIds: ['lemf-milan'] });
    const { records } = run([deactivated], state);
    // Only the open call (CIN 1, IRIs 0 and 1 sent) gets an END; the finished one (CIN 2) nothing.
    expect(summary(records)).toEqual([
      ['IRI', 'TS102232', 1, 2, 'END'],
      ['IRI', 'TS101671', 1, 2, 'END'],
      ['HI1', 'TS102232', 0, 1, null],
    ]);
    expect(records.map((r) => r.lemfIds)).toEqual([
      ['lemf-rome', 'lemf-milan'],
      ['lemf-rome', 'lemf-milan'],
      ['lemf-rome', 'lemf-milan'],
    ]);
    const d = decodePsPdu(records[0]!.bytes);
    if (!d.ok || d.value.payload.kind !== 'iri') throw new Error('not an IRI PDU');
    expect(d.value.header).toMatchObject({
      liid: 'LIID0001',
      sequenceNumber: 2,
      communicationIdentifier: { cin: 1 },
      timeStampQualifier: TIMESTAMP_QUALIFIER.timeOfMediation,
      microSecondTimeStamp: microSecondTimeStamp(NOW),
    });
    const item = d.value.payload.items[0]!;
    expect(item.iriType).toBe(2);
    if (item.contents.kind !== 'eTSI671IRI' || item.contents.value.kind !== 'iRIParameters') {
      throw new Error('not eTSI671IRI IRI-Parameters');
    }
    expect(item.contents.value.params).toMatchObject({
      liid: 'LIID0001',
      communicationIdentifier: { cin: '1', operatorIdentifier: 'ACME' },
      timeStamp: { micros: deactivated.updatedAtMicros },
    });
    const hi2 = decodeHi2(records[1]!.bytes);
    if (!hi2.ok || hi2.value.kind !== 'iRIContent') throw new Error('decode');
    expect(hi2.value.iri.recordType).toBe(2);
    expect(hi2.value.iri.params.communicationIdentifier).toMatchObject({ cin: '1' });
    expect(comms(state).map((c) => [c.cin, c.phase])).toEqual([
      [1, 'ended'],
      [2, 'ended'],
    ]);
  });

  it('a suspension ends open communications too; replaying the version ends nothing twice', () => {
    const { state } = setup();
    const suspended = warrant(2, { state: 'SUSPENDED' });
    expect(summary(run([suspended], state).records).map((r) => r[4])).toEqual(['END', 'END', null]);
    expect(run([suspended], state).records).toEqual([]);
    // A late message of the ended call is a stand-alone REPORT on its CIN, not a CONTINUE.
    const late = run([sip('open-call', 'sip.response', { method: 'INVITE', status: '200' })], state);
    expect(summary(late.records.filter((r) => r.format === 'TS102232'))).toEqual([['IRI', 'TS102232', 1, 3, 'REPORT']]);
  });

  it('an expiry found late ends the communications at the window end', () => {
    const { state } = setup();
    const end = sampleWarrant().validUntilMicros;
    const { records } = run([warrant(2, { state: 'DEACTIVATED', updatedAtMicros: end + 60_000_000 })], state);
    const d = decodePsPdu(records[0]!.bytes);
    if (!d.ok || d.value.payload.kind !== 'iri') throw new Error('not an IRI PDU');
    const c = d.value.payload.items[0]!.contents;
    if (c.kind !== 'eTSI671IRI' || c.value.kind !== 'iRIParameters') throw new Error('not IRI-Parameters');
    expect(c.value.params.timeStamp.micros).toBe(end);
  });

  it('an instance that does not keep the communications of the LIID leaves them alone (their owner numbers them)', () => {
    const { state } = setup();
    const { records } = run([warrant(2, { state: 'DEACTIVATED' })], state, false);
    expect(summary(records)).toEqual([['HI1', 'TS102232', 0, 1, null]]);
    expect(comms(state).map((c) => c.phase)).toEqual(['open', 'ended']);
  });
});
