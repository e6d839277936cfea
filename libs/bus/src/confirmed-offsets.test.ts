import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commitPlan, doneBefore, type PartitionOffset, partitionKey, raiseDone } from './confirmed-offsets.ts';

describe('commitPlan', () => {
  const key = (topic: string, partition = 0) => partitionKey({ topic, partition });
  const at = (topic: string) => ({ topic, partition: 0 });
  const read = new Map([
    [key('hi2'), { topic: 'hi2', partition: 0, offset: 26n }],
    [key('hi3'), { topic: 'hi3', partition: 0, offset: 41n }],
  ]);

  it('moves past records that needed no confirmation and commit markers only when nothing is unconfirmed', () => {
    expect(commitPlan([{ topic: 'hi2', partition: 0, offset: 10 }], read, false, new Map())).toEqual([
      { topic: 'hi2', partition: 0, offset: 10n },
    ]);
    expect(
      commitPlan(
        [{ topic: 'hi2', partition: 0, offset: 30 }],
        new Map([[key('hi2'), { ...at('hi2'), offset: 25n }]]),
        true,
        new Map(),
      ),
    ).toEqual([{ topic: 'hi2', partition: 0, offset: 30n }]);
  });

  it('when the last stream drains, also moves the one confirmed earlier past its commit marker', () => {
    // HI2's last record (offset 24) was confirmed while HI3 was still in flight: committed 25,
    // one below the end (26) because of the transaction marker. HI3 drains later.
    const committed = new Map([[key('hi2'), 25n]]);
    expect(commitPlan([{ topic: 'hi3', partition: 0, offset: 40 }], read, true, committed)).toEqual([
      { topic: 'hi3', partition: 0, offset: 41n },
      { topic: 'hi2', partition: 0, offset: 26n },
    ]);
  });

  it('never commits an offset at or below the one already committed', () => {
    const committed = new Map([
      [key('hi2'), 26n],
      [key('hi3'), 41n],
    ]);
    expect(commitPlan([{ topic: 'hi3', partition: 0, offset: 41 }], read, true, committed)).toEqual([]);
  });
});

describe('doneBefore', () => {
  const done = (offset: bigint): PartitionOffset => ({ topic: 'q', partition: 0, offset });

  it('counts the leading records below the done point, and none without one', () => {
    expect(doneBefore(['5', '6', '8', '9'], done(8n))).toBe(2);
    expect(doneBefore(['5', '6'], undefined)).toBe(0);
    expect(doneBefore(['8', '9'], done(8n))).toBe(0);
    expect(doneBefore(['5', '6'], done(100n))).toBe(2);
  });

  it('never counts a record at or above the point (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat(1000)), fc.nat(1000), (raw, point) => {
        const offsets = [...raw].sort((a, b) => a - b).map(String);
        const n = doneBefore(offsets, done(BigInt(point)));
        expect(offsets.slice(0, n).every((o) => Number(o) < point)).toBe(true);
        expect(offsets.slice(n).every((o) => Number(o) >= point)).toBe(true);
      }),
    );
  });
});

describe('raiseDone', () => {
  it('only moves forward', () => {
    const done = new Map<string, PartitionOffset>();
    raiseDone(done, [{ topic: 'q', partition: 0, offset: 10n }]);
    raiseDone(done, [{ topic: 'q', partition: 0, offset: 7n }]);
    raiseDone(done, [{ topic: 'q', partition: 1, offset: 3n }]);
    expect(done.get(partitionKey({ topic: 'q', partition: 0 }))?.offset).toBe(10n);
    expect(done.get(partitionKey({ topic: 'q', partition: 1 }))?.offset).toBe(3n);
  });
});

// A model of one partition read by the confirmed consumer (confirmed-consumer.ts) with these
// functions: kafkajs restarts it at random from the broker's committed offset (a broker outage),
// commits fail at random (the broker was away), the peer confirms in order at random moments.
// The owner never gets a record its peer confirmed (it gets again only those still in flight,
// which its own tracker holds), every record is sent once, and the broker's offset never passes
// one the peer did not confirm.
describe('confirmed consumer model: restarts and failed commits', () => {
  type Step = { kind: 'read' | 'confirm' | 'restart' } | { kind: 'commitFails'; fails: boolean };
  const step = fc.oneof(
    fc.constant({ kind: 'read' as const }),
    fc.constant({ kind: 'confirm' as const }),
    fc.constant({ kind: 'restart' as const }),
    fc.boolean().map((fails) => ({ kind: 'commitFails' as const, fails })),
  );

  it('hands no confirmed record over again and commits only confirmed ones (property)', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), fc.integer({ min: 1, max: 5 }), (steps: Step[], batch) => {
        const log = 60;
        const key = partitionKey({ topic: 'q', partition: 0 });
        let brokerCommitted = 0n; // offset kafkajs restarts from
        let position = 0n; // next offset kafkajs fetches
        let failing = false;
        const sent: bigint[] = [];
        const unconfirmed: bigint[] = [];
        let confirmedUpTo = 0n; // the peer's contiguous confirmed prefix
        const committed = new Map<string, bigint>();
        const done = new Map<string, PartitionOffset>();
        const readUpTo = new Map<string, PartitionOffset>();
        const commit = (offsets: PartitionOffset[]) => {
          if (offsets.length === 0) return;
          raiseDone(done, offsets);
          for (const p of offsets) committed.set(partitionKey(p), p.offset);
          if (failing) for (const p of offsets) committed.delete(partitionKey(p));
          else for (const p of offsets) if (p.offset > brokerCommitted) brokerCommitted = p.offset;
          expect(brokerCommitted <= confirmedUpTo || unconfirmed.length === 0).toBe(true);
        };
        const run = (s: Step) => {
          if (s.kind === 'commitFails') failing = s.fails;
          else if (s.kind === 'restart') position = brokerCommitted;
          else if (s.kind === 'read' && position < log) {
            const offsets: bigint[] = [];
            for (let o = position; o < position + BigInt(batch) && o < log; o++) offsets.push(o);
            const again = doneBefore(offsets, done.get(key));
            if (again > 0 && done.get(key)!.offset > (committed.get(key) ?? -1n)) commit([done.get(key)!]);
            for (const o of offsets.slice(again)) {
              expect(o >= confirmedUpTo).toBe(true);
              // the owner's own tracker drops what it still holds (cc-delivery's OffsetTracker)
              if (unconfirmed.includes(o)) continue;
              sent.push(o);
              unconfirmed.push(o);
            }
            position = offsets[offsets.length - 1]! + 1n;
            const at = readUpTo.get(key);
            if (!at || position > at.offset) readUpTo.set(key, { topic: 'q', partition: 0, offset: position });
            if (unconfirmed.length === 0) commit(commitPlan([], readUpTo, true, committed));
          } else if (s.kind === 'confirm' && unconfirmed.length > 0) {
            confirmedUpTo = unconfirmed.shift()! + 1n;
            commit(
              commitPlan(
                [{ topic: 'q', partition: 0, offset: confirmedUpTo }],
                readUpTo,
                unconfirmed.length === 0,
                committed,
              ),
            );
          }
        };
        steps.forEach(run);
        // then the outage ends: reading and confirming go on to the end
        failing = false;
        for (let i = 0; i < 4 * log && (position < log || unconfirmed.length > 0); i++) {
          run({ kind: 'read' });
          run({ kind: 'confirm' });
        }
        expect(sent).toEqual(Array.from({ length: log }, (_, i) => BigInt(i)));
        expect(brokerCommitted).toBe(BigInt(log));
      }),
    );
  });
});
