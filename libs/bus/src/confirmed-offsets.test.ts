import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Assignment,
  commitPlan,
  doneBefore,
  mayHandOver,
  ownedOnly,
  type PartitionOffset,
  partitionKey,
  raiseDone,
} from './confirmed-offsets.ts';

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

describe('mayHandOver and ownedOnly', () => {
  const q0 = { topic: 'q', partition: 0 };
  const a: Assignment = { join: 3, owned: new Set([partitionKey(q0)]), handingOver: -1 };

  it('hands over only batches of the same assignment, of its partitions, before a rebalance is noticed', () => {
    expect(mayHandOver(a, q0, 3)).toBe(true);
    expect(mayHandOver(a, q0, 2)).toBe(false);
    expect(mayHandOver(a, { topic: 'q', partition: 1 }, 3)).toBe(false);
    expect(mayHandOver({ ...a, handingOver: 3 }, q0, 3)).toBe(false);
    // a hand-over noticed under an earlier join ends with the next join
    expect(mayHandOver({ ...a, handingOver: 2 }, q0, 3)).toBe(true);
  });

  it('commits only partitions of the current assignment', () => {
    const offsets = [
      { ...q0, offset: 5n },
      { topic: 'q', partition: 1, offset: 7n },
    ];
    expect(ownedOnly(offsets, a)).toEqual([{ ...q0, offset: 5n }]);
  });
});

// Two live members (processes) share one partition's group; rebalances move the partition
// between them, or give it back to the member that had it, at random. Before a member rejoins it
// hands over (confirmed-consumer.ts): no batch goes out any more, its peer confirms some or all of
// what it was sent (bounded wait), it commits. kafkajs may still deliver batches it fetched under
// an earlier assignment. Invariant: the broker's offset never passes a record no peer confirmed
// (no loss), every record reaches a peer, and when every hand-over had all its confirmations in
// time, no record reaches a peer twice.
describe('confirmed consumer model: live rebalances, the partition revoked and given back', () => {
  type Step =
    | { kind: 'fetch' | 'deliver' | 'confirm'; m: 0 | 1 }
    | { kind: 'rebalance'; to: 0 | 1; confirms: number; lateDeliver: boolean };
  const member = fc.constantFrom(0 as const, 1 as const);
  const step = (complete: boolean) =>
    fc.oneof(
      fc.record({ kind: fc.constantFrom('fetch' as const, 'deliver' as const, 'confirm' as const), m: member }),
      fc.record({
        kind: fc.constant('rebalance' as const),
        to: member,
        confirms: complete ? fc.constant(1000) : fc.nat(6),
        lateDeliver: fc.boolean(),
      }),
    );
  type Rule = (a: Assignment, p: { topic: string; partition: number }, join: number) => boolean;

  const model = (rule: Rule, steps: Step[], batch: number, complete: boolean) => {
    const log = 40;
    const p = { topic: 'q', partition: 0 };
    const key = partitionKey(p);
    let gen = 0;
    let brokerCommitted = 0n;
    const delivered: bigint[] = [];
    const confirmedAny = new Set<bigint>();
    const members = [0, 1].map((m) => ({
      a: { join: 0, owned: new Set<string>(m === 0 ? [key] : []), handingOver: -1 } as Assignment,
      gen: 0,
      position: m === 0 ? 0n : (null as bigint | null),
      fetched: [] as { offsets: bigint[]; join: number }[],
      unconfirmed: [] as bigint[],
      committed: new Map<string, bigint>(),
      done: new Map<string, PartitionOffset>(),
      readUpTo: new Map<string, PartitionOffset>(),
    }));
    type M = (typeof members)[number];
    const commit = (x: M, decided: PartitionOffset[]) => {
      if (decided.length === 0) return;
      raiseDone(x.done, decided);
      const offsets = ownedOnly(decided, x.a);
      for (const o of offsets) x.committed.set(partitionKey(o), o.offset);
      // the broker takes commits of the current generation, whatever their offset
      if (x.gen === gen) for (const o of offsets) brokerCommitted = o.offset;
      for (let o = 0n; o < brokerCommitted; o++) expect(confirmedAny.has(o)).toBe(true);
    };
    const drainedCommit = (x: M) => {
      if (x.unconfirmed.length === 0) commit(x, commitPlan([], x.readUpTo, true, x.committed));
    };
    const fetch = (x: M) => {
      if (!x.a.owned.has(key) || x.position === null || x.position >= log) return;
      const offsets: bigint[] = [];
      for (let o = x.position; o < x.position + BigInt(batch) && o < log; o++) offsets.push(o);
      x.fetched.push({ offsets, join: x.a.join });
      x.position = offsets[offsets.length - 1]! + 1n;
    };
    const deliver = (x: M) => {
      const b = x.fetched.shift();
      if (!b || !rule(x.a, p, b.join)) return;
      const again = doneBefore(b.offsets, x.done.get(key));
      if (again > 0 && x.done.get(key)!.offset > (x.committed.get(key) ?? -1n)) commit(x, [x.done.get(key)!]);
      for (const o of b.offsets.slice(again)) {
        if (x.unconfirmed.includes(o)) continue;
        delivered.push(o);
        x.unconfirmed.push(o);
      }
      const end = b.offsets[b.offsets.length - 1]! + 1n;
      const at = x.readUpTo.get(key);
      if (!at || end > at.offset) x.readUpTo.set(key, { ...p, offset: end });
      drainedCommit(x);
    };
    const confirm = (x: M) => {
      const o = x.unconfirmed.shift();
      if (o === undefined) return;
      confirmedAny.add(o);
      commit(x, commitPlan([{ ...p, offset: o + 1n }], x.readUpTo, x.unconfirmed.length === 0, x.committed));
    };
    const run = (s: Step) => {
      if (s.kind === 'fetch') fetch(members[s.m]!);
      else if (s.kind === 'deliver') deliver(members[s.m]!);
      else if (s.kind === 'confirm') confirm(members[s.m]!);
      else if (s.kind === 'rebalance') {
        // every member notices, hands over (bounded: `confirms` confirmations), then rejoins
        for (const x of members) {
          x.a = { ...x.a, handingOver: x.a.join };
          if (s.lateDeliver) deliver(x); // a batch kafkajs was already handing out
          for (let i = 0; i < s.confirms && x.unconfirmed.length > 0; i++) confirm(x);
          drainedCommit(x);
          if (s.lateDeliver) deliver(x);
        }
        gen++;
        members.forEach((x, m) => {
          x.gen = gen;
          x.a = { join: x.a.join + 1, owned: new Set(m === s.to ? [key] : []), handingOver: -1 };
          x.position = m === s.to ? brokerCommitted : null;
        });
      }
    };
    steps.forEach(run);
    // the last owner reads to the end; every peer confirms what it was sent
    const owner = members.find((x) => x.a.owned.has(key))!;
    for (let i = 0; i < 8 * log; i++) {
      fetch(owner);
      deliver(owner);
      for (const x of members) confirm(x);
    }
    for (let o = 0n; o < log; o++) expect(confirmedAny.has(o)).toBe(true);
    expect(brokerCommitted).toBe(BigInt(log));
    if (complete) expect(new Set(delivered).size).toBe(delivered.length);
  };

  const property = (rule: Rule, complete: boolean) =>
    fc.property(fc.array(step(complete), { maxLength: 120 }), fc.integer({ min: 1, max: 5 }), (steps, batch) =>
      model(rule, steps, batch, complete),
    );

  it('loses nothing, whatever the hand-over wait got confirmed (property)', () => {
    fc.assert(property(mayHandOver, false), { numRuns: 300 });
  });

  it('sends nothing twice when every hand-over got its confirmations in time (property)', () => {
    fc.assert(property(mayHandOver, true), { numRuns: 300 });
  });

  it('fails without the tie to the assignment: a batch of a handed-over or earlier assignment goes out twice', () => {
    // a batch kafkajs hands out after the member noticed the rebalance (it goes to another member)
    const late: Step[] = [
      { kind: 'fetch', m: 0 },
      { kind: 'fetch', m: 0 },
      { kind: 'rebalance', to: 1, confirms: 1000, lateDeliver: true },
    ];
    // a batch fetched under an earlier assignment, handed out after the partition came back
    const stale: Step[] = [
      { kind: 'fetch', m: 0 },
      { kind: 'rebalance', to: 1, confirms: 1000, lateDeliver: false },
      ...Array.from({ length: 3 }, () => [
        { kind: 'fetch' as const, m: 1 as const },
        { kind: 'deliver' as const, m: 1 as const },
        { kind: 'confirm' as const, m: 1 as const },
      ]).flat(),
      { kind: 'rebalance', to: 0, confirms: 1000, lateDeliver: false },
      { kind: 'deliver', m: 0 },
    ];
    for (const steps of [late, stale]) expect(() => model(mayHandOver, steps, 2, true)).not.toThrow();
    const perPartitionOnly: Rule = (a, q) => a.owned.has(partitionKey(q));
    const noJoin: Rule = (a, q) => a.handingOver !== a.join && a.owned.has(partitionKey(q));
    expect(() => model(perPartitionOnly, late, 2, true)).toThrow();
    expect(() => model(noJoin, stale, 2, true)).toThrow();
  });
});
