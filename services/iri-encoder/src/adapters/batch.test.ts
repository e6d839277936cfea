import type { OutputRecord } from '@li/bus';
import { sampleEvent, sampleMatched, sampleWarrant } from '@li/schemas/testing';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../domain/options.ts';
import { batchEncoder } from '../testing/encoder.ts';

const OPTS = { ...DEFAULT_OPTIONS, operatorIdentifier: 'ACME' };
const POLICY = { endedRetentionMicros: 60e6, idleMicros: 3600e6 };
const T0 = 1_795_300_000_000_000;

const sip = (id: string, at: number, action: string, attributes: Record<string, string>) =>
  sampleMatched({
    tenant: 'acme',
    authorisationCountry: 'DE',
    event: sampleEvent({ eventId: `${id}-${at}`, communicationId: id, action, attributes, occurredAtMicros: at }),
  });
const call = (id: string, at: number, liid = 'LIID0001') => [
  { ...sip(id, at, 'sip.invite', { method: 'INVITE' }), liid },
  { ...sip(id, at + 1, 'sip.response', { method: 'BYE', status: '200' }), liid },
];

const tombstones = (outputs: OutputRecord[]) =>
  outputs.filter((o) => o.topic === 'li.acme.encoder-state' && o.value === null).map((o) => o.key);

describe('encodeBatch expiry', () => {
  it('tombstones expired communications on the changelog, in the batch whose time passes their retention', () => {
    const enc = batchEncoder('acme', OPTS, POLICY);
    expect(tombstones(enc.encode(call('a', T0)).outputs)).toEqual([]);
    expect(enc.liveEntries()).toBe(3); // CIN counter, the call, its sequence counter
    expect(tombstones(enc.encode(call('b', T0 + 30e6)).outputs)).toEqual([]);
    const out = enc.encode(call('c', T0 + 61e6)).outputs;
    expect(tombstones(out)).toEqual([expect.stringMatching(/^LIID0001\/comm\//), 'LIID0001/seq/1']);
    // The ETSI records of the batch share its transaction with the tombstones.
    expect(out.some((o) => o.topic === 'li.acme.hi2')).toBe(true);
    expect(enc.liveEntries()).toBe(5);
  });

  it('the wall clock caps the batch time: event times ahead of it expire nothing', () => {
    const enc = batchEncoder('acme', OPTS, POLICY, () => T0 + 20e6);
    enc.encode(call('a', T0));
    expect(tombstones(enc.encode(call('b', T0 + 7200e6)).outputs)).toEqual([]);
    expect(enc.liveEntries()).toBe(5);
  });

  it('after a reassignment, sweeps only the LIIDs encoded since (the others may be another instance’s)', () => {
    const enc = batchEncoder('acme', OPTS, POLICY);
    enc.encode(call('a', T0));
    enc.reassigned();
    expect(tombstones(enc.encode(call('b', T0 + 61e6, 'LIID0002')).outputs)).toEqual([]);
    expect(tombstones(enc.encode(call('c', T0 + 72e6)).outputs)).toEqual([
      expect.stringMatching(/^LIID0001\/comm\//),
      'LIID0001/seq/1',
    ]);
  });

  it('sweeps at most once per 10 s of batch time', () => {
    const enc = batchEncoder('acme', OPTS, { endedRetentionMicros: 0, idleMicros: 3600e6 });
    expect(tombstones(enc.encode(call('a', T0)).outputs)).toHaveLength(2); // first sweep: END at T0+1
    expect(tombstones(enc.encode(call('b', T0 + 5e6)).outputs)).toEqual([]);
    expect(tombstones(enc.encode(call('c', T0 + 11e6)).outputs)).toHaveLength(4); // b and c
    expect(enc.liveEntries()).toBe(1);
  });
});

describe('encodeBatch: a warrant ending during a call', () => {
  const iriTypes = (outputs: OutputRecord[]) =>
    outputs.filter((o) => o.topic === 'li.acme.hi2').map((o) => o.headers?.['li.iri-type'] ?? o.headers?.['li.kind']);
  const start = sampleWarrant({ tenant: 'acme', authorisationCountry: 'DE' });
  const end = (version: number) =>
    sampleWarrant({
      tenant: 'acme',
      authorisationCountry: 'DE',
      version,
      state: 'DEACTIVATED',
      updatedAtMicros: T0 + 5e6,
    });
  const invite = (id: string) => sip(id, T0, 'sip.invite', { method: 'INVITE' });

  it('the instance that encoded the LIID ends its open call with the deactivation', () => {
    const enc = batchEncoder('acme', OPTS, POLICY);
    expect(iriTypes(enc.encode([start, invite('a')]).outputs)).toEqual(['HI1', 'BEGIN']);
    expect(iriTypes(enc.encode([end(2)]).outputs)).toEqual(['END', 'HI1']);
  });

  it('after a reassignment, before it encoded the LIID again, it hands the end of the call to its owner', () => {
    const enc = batchEncoder('acme', OPTS, POLICY);
    enc.encode([start, invite('a')]);
    enc.reassigned();
    const r = enc.encode([end(2)]);
    expect(iriTypes(r.outputs)).toEqual(['HI1']);
    // The hand-over: a matched record for the LIID, no target, no content.
    expect(r.ends).toHaveLength(1);
    expect(r.ends[0]).toMatchObject({ liid: start.liid, warrantVersion: 2, matchedParties: [] });
    expect(r.ends[0]!.event).toMatchObject({ category: 'ACCOUNT', parties: [], content: null });
    // The owner of the LIID's matched partition (here the same instance) ends the open call on
    // its CIN with the next IRI number, and only once.
    const owner = enc.encode(r.ends);
    expect(owner.rejected ?? []).toEqual([]);
    const ends = owner.outputs.filter((o) => o.topic === 'li.acme.hi2');
    expect(ends.map((o) => [o.headers?.['li.iri-type'], o.headers?.['li.cin'], o.headers?.['li.seq']])).toEqual([
      ['END', '1', '1'],
    ]);
    expect(iriTypes(enc.encode(r.ends).outputs)).toEqual([]);
    expect(owner.ends).toEqual([]);
  });

  it('an instance that never saw the LIID ends nothing itself and hands the end over', () => {
    const owner = batchEncoder('acme', OPTS, POLICY);
    owner.encode([invite('a')]);
    const other = batchEncoder('acme', OPTS, POLICY);
    other.encode([start]);
    const r = other.encode([end(2)]);
    expect(iriTypes(r.outputs)).toEqual(['HI1']);
    expect(iriTypes(owner.encode(r.ends).outputs)).toEqual(['END']);
  });
});
