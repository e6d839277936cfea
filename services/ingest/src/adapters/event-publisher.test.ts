import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BusSendError, type OutputRecord } from '@li/bus';
import { ManualClock } from '@li/core';
import { createLogger } from '@li/log';
import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { DecodedEvent } from '../domain/stream.ts';
import { EventPublisher } from './event-publisher.ts';
import { DiskSpool, type SpoolSyncer } from './spool.ts';

/** A broker that acknowledges, fails, or holds sends until it comes back (as kafkajs's retries do). */
class FakeBus {
  delivered: string[] = [];
  mode: 'up' | 'down' | 'failing' = 'up';
  /** Set: the next send writes only its first n records, then fails for good (and so do later ones). */
  acknowledgeThenFail: number | undefined;
  private held: { records: OutputRecord[]; resolve(): void; reject(e: unknown): void }[] = [];
  async send(records: OutputRecord[]): Promise<void> {
    if (this.acknowledgeThenFail !== undefined) {
      const n = this.acknowledgeThenFail;
      this.acknowledgeThenFail = undefined;
      this.mode = 'failing';
      throw this.partial(records, n);
    }
    if (this.mode === 'failing') throw new BusSendError(0, records.length, new Error('KafkaJSNumberOfRetriesExceeded'));
    if (this.mode === 'up') this.deliver(records);
    else await new Promise<void>((resolve, reject) => this.held.push({ records, resolve, reject }));
  }
  comeBack(): void {
    this.mode = 'up';
    for (const h of this.held.splice(0)) {
      this.deliver(h.records);
      h.resolve();
    }
  }
  /** The held sends write their first n records, then fail for good; later sends fail too. */
  failHeld(n: number): void {
    this.mode = 'failing';
    for (const h of this.held.splice(0)) h.reject(this.partial(h.records, n));
  }
  private deliver(records: OutputRecord[]): void {
    this.delivered.push(...records.map((r) => r.value?.toString() ?? ''));
  }
  /** Bus.send's error after the requests holding the first n records were acknowledged. */
  private partial(records: OutputRecord[], n: number): BusSendError {
    this.deliver(records.slice(0, n));
    return new BusSendError(n, records.length, new Error('SASL authentication failed'));
  }
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

function setup(o: { directory?: string; maxBytes?: number; syncer?: SpoolSyncer; noSpool?: boolean } = {}) {
  const registry = new Registry();
  const bus = new FakeBus();
  const clock = new ManualClock(0);
  const dropped = new Counter({ name: 'dropped', help: 'h', labelNames: ['tenant'], registers: [registry] });
  const problems = new Counter({
    name: 'pr',
    help: 'h',
    labelNames: ['tenant', 'source', 'code'],
    registers: [registry],
  });
  const spool = new DiskSpool({
    directory: o.directory ?? mkdtempSync(join(tmpdir(), 'ingest-pub-')),
    maxBytes: o.maxBytes ?? 1 << 20,
    ...(o.syncer ? { syncer: o.syncer } : {}),
  });
  const publisher = new EventPublisher({
    bus,
    log: createLogger({ service: 'test', destination: { write: () => {} } }),
    tenant: 't',
    eventsTopic: 'li.t.events',
    dlqTopic: 'li.t.dlq',
    codec: { encode: async (e) => Buffer.from(e.communicationId) },
    clock,
    maxBatch: 4,
    spoolAfterMs: 1000,
    ...(o.noSpool ? {} : { spool }),
    counters: {
      events: new Counter({ name: 'ev', help: 'h', labelNames: ['tenant', 'source'], registers: [registry] }),
      problems,
      spoolDropped: dropped,
    },
  });
  let n = 0;
  /** Publishes `count` events numbered in order, and flushes them. */
  const publish = async (count: number) => {
    for (let i = 0; i < count; i++) publisher.event('x', { communicationId: `e${n++}` } as DecodedEvent);
    void publisher.flush();
    await settle();
  };
  const numbered = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `e${from + i}`);
  return {
    bus,
    clock,
    spool,
    publisher,
    publish,
    numbered,
    problems,
    dropped: async () => (await dropped.get()).values[0]?.value ?? 0,
  };
}

describe('EventPublisher with a spool', () => {
  it('spools while Kafka does not acknowledge, and sends everything in order once it is back', async () => {
    const { bus, clock, spool, publisher, publish, numbered } = setup();
    await publish(3);
    expect(bus.delivered).toEqual(numbered(0, 3));
    bus.mode = 'down';
    await publish(6); // one batch of 4 in flight, 2 waiting in memory
    expect(spool.records).toBe(0);
    clock.advance(1000); // no acknowledgement in time: Kafka is away
    await settle();
    expect(spool.records).toBe(6);
    await publish(10); // during the outage: straight to disk
    expect(spool.records).toBe(16);
    expect(bus.delivered).toEqual(numbered(0, 3));
    bus.comeBack();
    await publisher.drained();
    // The held batch is acknowledged and taken off the spool's head, not sent twice.
    expect(bus.delivered).toEqual(numbered(0, 19));
    expect(spool.records).toBe(0);
    expect(spool.bytes).toBe(0);
    await publish(2); // back to direct sends
    expect(bus.delivered).toEqual(numbered(0, 21));
  });

  it('spools when sends fail, and retries from the spool once the producer recovers', async () => {
    const { bus, clock, spool, publisher, publish, numbered } = setup();
    bus.mode = 'failing';
    await publish(5);
    expect(spool.records).toBe(5);
    await publish(3);
    expect(spool.records).toBe(8);
    bus.mode = 'up';
    clock.advance(10_000); // the retry back-off
    await publisher.drained();
    expect(bus.delivered).toEqual(numbered(0, 8));
  });

  it('counts and refuses what a full spool cannot take, and holds off retrying senders', async () => {
    const { bus, clock, publisher, publish, dropped } = setup({ maxBytes: 600 });
    expect(publisher.accepting()).toBe(true);
    bus.mode = 'down';
    await publish(4);
    clock.advance(1000);
    await publish(40);
    expect(await dropped()).toBeGreaterThan(0);
    expect(publisher.accepting()).toBe(false);
    bus.comeBack();
    await publisher.drained();
    expect(bus.delivered.length + (await dropped())).toBe(44);
    expect(publisher.accepting()).toBe(true);
  });

  it('sends what an earlier run spooled before anything new', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'ingest-pub-'));
    const first = setup({ directory });
    first.bus.mode = 'down';
    await first.publish(6);
    first.clock.advance(1000);
    await settle();
    await first.publisher.close();
    expect(first.bus.delivered).toEqual([]);

    const second = setup({ directory });
    second.bus.mode = 'down';
    await settle();
    second.bus.comeBack();
    await second.publish(2); // numbered e0, e1 again by this run: they must follow the six spooled
    await second.publisher.drained();
    expect(second.bus.delivered).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e0', 'e1']);
  });
});

describe('EventPublisher after a send that failed part way (issue 14: each record exactly once)', () => {
  it('sends again only what Kafka had not acknowledged, from memory then the spool, in order', async () => {
    const { bus, clock, spool, publisher, publish, numbered } = setup();
    await publish(3);
    bus.acknowledgeThenFail = 2; // the batch e3..e6: its first request (e3, e4) acknowledged
    await publish(4);
    expect(bus.delivered).toEqual(numbered(0, 5));
    expect(spool.records).toBe(2); // e5, e6: only the rest went to the spool
    await publish(3);
    bus.mode = 'up';
    clock.advance(10_000); // the retry back-off
    await publisher.drained();
    expect(bus.delivered).toEqual(numbered(0, 10));
  });

  it('takes the acknowledged records off the spool when a send from the spool fails part way', async () => {
    const { bus, clock, spool, publisher, publish, numbered } = setup();
    bus.mode = 'failing';
    await publish(6);
    expect(spool.records).toBe(6);
    bus.acknowledgeThenFail = 3; // the retry from the spool (e0..e3) writes e0..e2, then fails
    clock.advance(10_000);
    await settle();
    expect(bus.delivered).toEqual(numbered(0, 3));
    expect(spool.records).toBe(3);
    bus.mode = 'up';
    clock.advance(10_000);
    await publisher.drained();
    expect(bus.delivered).toEqual(numbered(0, 6));
  });

  it('takes them off the spool when an outage had spooled the batch in flight', async () => {
    const { bus, clock, spool, publisher, publish, numbered } = setup();
    bus.mode = 'down';
    await publish(4); // one batch in flight, held
    clock.advance(1000); // not acknowledged in time: spooled, still in flight
    await settle();
    expect(spool.records).toBe(4);
    bus.failHeld(1);
    await settle();
    expect(spool.records).toBe(3);
    bus.mode = 'up';
    clock.advance(10_000);
    await publisher.drained();
    expect(bus.delivered).toEqual(numbered(0, 4));
  });

  it('without a spool, keeps only the rest in memory', async () => {
    const { bus, clock, publisher, publish, numbered } = setup({ noSpool: true });
    bus.acknowledgeThenFail = 3;
    await publish(4);
    expect(bus.delivered).toEqual(numbered(0, 3));
    bus.mode = 'up';
    clock.advance(10_000);
    await publisher.drained();
    expect(bus.delivered).toEqual(numbered(0, 4));
  });
});

describe('EventPublisher.durable (what acknowledgements wait for under fsync always)', () => {
  /** A promise's state without waiting for it. */
  const state = (p: Promise<void>) => {
    let st: 'pending' | 'resolved' | 'rejected' = 'pending';
    p.then(
      () => {
        st = 'resolved';
      },
      () => {
        st = 'rejected';
      },
    );
    return () => st;
  };

  it('resolves once Kafka acknowledges', async () => {
    const { bus, clock, publisher } = setup();
    bus.mode = 'down';
    publisher.event('x', { communicationId: 'a' } as DecodedEvent);
    publisher.event('x', { communicationId: 'b' } as DecodedEvent);
    const kept = state(publisher.durable());
    clock.advance(5); // the linger ends: one batch for both
    await settle();
    expect(kept()).toBe('pending');
    bus.comeBack();
    await settle();
    expect(kept()).toBe('resolved');
    expect(bus.delivered).toEqual(['a', 'b']);
  });

  it('resolves once an outage has put the records in the spool and synced it', async () => {
    let synced = 0;
    const { bus, clock, publisher, spool } = setup({
      syncer: {
        data: () => {
          synced++;
        },
        directory: () => undefined,
      },
    });
    bus.mode = 'down';
    publisher.event('x', { communicationId: 'a' } as DecodedEvent);
    const kept = state(publisher.durable());
    clock.advance(5);
    await settle();
    expect(kept()).toBe('pending');
    expect(synced).toBe(0);
    clock.advance(1000); // no acknowledgement in spoolAfterMs: to the spool
    await settle();
    expect(spool.records).toBe(1);
    expect(synced).toBe(1);
    expect(kept()).toBe('resolved');
  });

  it('rejects when the spool drops the records or cannot sync them', async () => {
    const full = setup({ maxBytes: 600 });
    full.bus.mode = 'down';
    await full.publish(4);
    full.clock.advance(1000);
    await settle();
    for (let i = 0; i < 40; i++) full.publisher.event('x', { communicationId: `f${i}` } as DecodedEvent);
    const dropped = state(full.publisher.durable());
    await full.publisher.flush();
    await settle();
    expect(await full.dropped()).toBeGreaterThan(0);
    expect(dropped()).toBe('rejected');

    const failing = setup({
      syncer: {
        data: () => {
          throw Object.assign(new Error('EIO'), { code: 'EIO' });
        },
        directory: () => undefined,
      },
    });
    failing.bus.mode = 'down';
    await failing.publish(1);
    failing.clock.advance(1000);
    await settle();
    failing.publisher.event('x', { communicationId: 'late' } as DecodedEvent);
    const unsynced = state(failing.publisher.durable());
    await failing.publisher.flush();
    await settle();
    expect(unsynced()).toBe('rejected');
    // Nothing was lost from the spool: it goes out when Kafka is back.
    failing.bus.comeBack();
    await failing.publisher.drained();
    expect(failing.bus.delivered).toEqual(['e0', 'late']);
  });
});

describe('EventPublisher: problems flagged on delivered events', () => {
  it("counts each of ingest's codes in li_ingest_problems_total, and nothing else a sender put there", async () => {
    const { publisher, problems } = setup();
    publisher.event('pcap', {
      communicationId: 'c',
      attributes: { problems: 'ING_ERR_SIP_VERSION ING_ERR_SIP_CALL_ID_MISSING' },
    } as unknown as DecodedEvent);
    publisher.event('mail-events', {
      communicationId: 'd',
      attributes: { problems: 'alice@example.org' },
    } as unknown as DecodedEvent);
    const values = (await problems.get()).values.map((v) => `${v.labels.source}:${v.labels.code}=${v.value}`);
    expect(values.sort()).toEqual(['pcap:ING_ERR_SIP_CALL_ID_MISSING=1', 'pcap:ING_ERR_SIP_VERSION=1']);
    await publisher.close();
  });
});
