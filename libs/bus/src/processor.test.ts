import { EventEmitter } from 'node:events';
import { memoryLogger } from '@li/testing';
import type { Kafka, Transaction } from 'kafkajs';
import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import type { OutputRecord } from './bus.ts';
import { consumersOf } from './consumer-health.ts';
import { batchCommitted, createProcessor, sendWithOffsets, settleAll, unprocessed } from './processor.ts';

const EVENTS = {
  GROUP_JOIN: 'consumer.group_join',
  CRASH: 'consumer.crash',
  FETCH_START: 'consumer.fetch_start',
  HEARTBEAT: 'consumer.heartbeat',
} as const;

/** A kafkajs client whose consumers join at once (no partitions) and crash when told. */
function fakeKafka() {
  const consumers: EventEmitter[] = [];
  const kafka = {
    consumer: () => {
      const c = Object.assign(new EventEmitter(), {
        events: EVENTS,
        connect: async () => {},
        subscribe: async () => {},
        run: async () => {
          setImmediate(() => c.emit(EVENTS.GROUP_JOIN, { payload: { memberAssignment: {} } }));
        },
        disconnect: async () => {},
      });
      consumers.push(c);
      return c;
    },
  } as unknown as Kafka;
  const crash = (error = new Error('No broker available')) =>
    consumers.at(-1)!.emit(EVENTS.CRASH, { payload: { error, restart: false } });
  return { kafka, consumers, crash };
}

function processorOn(kafka: Kafka, metrics = new Registry()) {
  return createProcessor<Buffer | null>({
    kafka,
    log: memoryLogger().log,
    groupId: 'li.test.acme',
    topics: ['li.acme.events'],
    transactionalIdPrefix: 'li.test.acme',
    decode: async (b) => b,
    dlqTopic: () => 'li.acme.dlq',
    process: async () => ({ outputs: [] }),
    metrics,
    restartPolicy: { maxRestarts: 2, windowMs: 60_000, initialDelayMs: 1, maxDelayMs: 1 },
  });
}

describe('processor consumer crashes', () => {
  it('makes a new consumer after a crash: not ready meanwhile, ready once it joined, counted', async () => {
    const { kafka, consumers, crash } = fakeKafka();
    const metrics = new Registry();
    const p = processorOn(kafka, metrics);
    await p.start();
    expect(p.health()).toEqual({ live: true, ready: true });
    expect(consumersOf(kafka).map((c) => c.name)).toEqual(['processor li.test.acme']);
    crash();
    expect(p.health()).toMatchObject({ live: true, ready: false, reason: expect.stringContaining('No broker') });
    await vi.waitFor(() => expect(p.health()).toEqual({ live: true, ready: true }));
    expect(consumers).toHaveLength(2);
    expect(await metrics.getSingleMetricAsString('li_bus_consumer_restarts_total')).toContain(
      'li_bus_consumer_restarts_total{consumer="processor"} 1',
    );
    await p.stop();
    expect(consumersOf(kafka)).toEqual([]);
  });

  it('gives up after the restarts the policy allows: liveness fails with the reason', async () => {
    const { kafka, consumers, crash } = fakeKafka();
    const p = processorOn(kafka);
    await p.start();
    for (let i = 1; i <= 2; i++) {
      crash();
      await vi.waitFor(() => expect(p.health().ready).toBe(true));
    }
    crash(new Error('coordinator gone'));
    const h = p.health();
    expect(h.live).toBe(false);
    expect(h.ready).toBe(false);
    expect(h.reason).toBe('consumer crashed after 2 restarts within 60 s; last: Error: coordinator gone');
    expect(consumers).toHaveLength(3);
    await p.stop();
  });

  it('ignores crashes after stop', async () => {
    const { kafka, consumers, crash } = fakeKafka();
    const p = processorOn(kafka);
    await p.start();
    await p.stop();
    crash();
    await new Promise((r) => setTimeout(r, 20));
    expect(consumers).toHaveLength(1);
    expect(p.health().ready).toBe(false);
  });
});

/**
 * A kafkajs client with one partition assigned and transactional producers that behave as
 * kafkajs's do when the broker goes away mid-transaction: a failed abort leaves the producer in
 * ABORTING, where every later transaction() throws a non-retriable state error.
 */
function brokerOutageKafka() {
  const broker = { down: false };
  const producers: { disconnected: boolean; commits: number }[] = [];
  let eachBatch: ((payload: unknown) => Promise<void>) | undefined;
  const gone = () => Object.assign(new Error('Connection error: connect ECONNREFUSED'), { retriable: true });
  const kafka = {
    consumer: () => {
      const c = Object.assign(new EventEmitter(), {
        events: EVENTS,
        connect: async () => {},
        subscribe: async () => {},
        run: async (o: { eachBatch: (payload: unknown) => Promise<void> }) => {
          eachBatch = o.eachBatch;
          setImmediate(() => c.emit(EVENTS.GROUP_JOIN, { payload: { memberAssignment: { 'li.acme.events': [0] } } }));
        },
        disconnect: async () => {},
      });
      return c;
    },
    producer: () => {
      const seen = { disconnected: false, commits: 0 };
      producers.push(seen);
      let state: 'READY' | 'TRANSACTING' | 'ABORTING' = 'READY';
      return {
        connect: async () => {},
        disconnect: async () => {
          seen.disconnected = true;
        },
        transaction: async () => {
          if (state !== 'READY') {
            throw new Error(`Transaction state exception: Cannot call "beginTransaction" in state "${state}"`);
          }
          state = 'TRANSACTING';
          return {
            sendBatch: async () => {
              if (broker.down) throw gone();
            },
            sendOffsets: async () => {},
            commit: async () => {
              state = 'READY';
              seen.commits++;
            },
            abort: async () => {
              state = 'ABORTING';
              if (broker.down) throw gone();
              state = 'READY';
            },
          };
        },
      };
    },
    // The group's committed offsets as the admin reads them once the previous owner is fenced.
    admin: () => ({
      connect: async () => {},
      disconnect: async () => {},
      fetchOffsets: async ({ topics }: { topics: string[] }) =>
        topics.map((topic) => ({ topic, partitions: [{ partition: 0, offset: committed.offset }] })),
    }),
  } as unknown as Kafka;
  const committed = { offset: '-1' };
  return { kafka, broker, producers, committed, eachBatch: (payload: unknown) => eachBatch!(payload) };
}

/** An eachBatch batch of li.acme.events[0] holding one record per offset. */
const batchOf = (offsets: number[]) => ({
  topic: 'li.acme.events',
  partition: 0,
  messages: offsets.map((o) => ({
    offset: String(o),
    key: null,
    value: Buffer.from('x'),
    headers: {},
    timestamp: '0',
  })),
  isEmpty: () => offsets.length === 0,
  lastOffset: () => String(offsets.at(-1)),
});

describe('processor across a broker outage', () => {
  it('replaces a producer whose abort failed and commits the batch once the broker is back', async () => {
    const { kafka, broker, producers, eachBatch } = brokerOutageKafka();
    const p = createProcessor<Buffer | null>({
      kafka,
      log: memoryLogger().log,
      groupId: 'li.test.acme',
      topics: ['li.acme.events'],
      transactionalIdPrefix: 'li.test.acme',
      decode: async (b) => b,
      dlqTopic: () => 'li.acme.dlq',
      process: async (records) => ({
        outputs: records.map((r) => ({ topic: 'li.acme.matched', key: null, value: r.value })),
      }),
      maxBackoffMs: 1,
    });
    await p.start();
    const resolved: string[] = [];
    let attempts = 0;
    // The broker dies during the first attempt (the send and the abort fail) and is back after it.
    broker.down = true;
    await eachBatch({
      batch: batchOf([7]),
      resolveOffset: (o: string) => resolved.push(o),
      heartbeat: async () => {
        attempts++;
        broker.down = false;
      },
      isRunning: () => resolved.length === 0 && attempts < 10,
      isStale: () => false,
    });
    expect(resolved).toEqual(['7']);
    // The first producer (stuck in ABORTING) was dropped; a new one committed the batch.
    expect(producers).toHaveLength(2);
    expect(producers[0]).toEqual({ disconnected: true, commits: 0 });
    expect(producers[1]!.commits).toBe(1);
    await p.stop();
  });

  it('does not process a committed batch again when the heartbeat finds the group lost; kafkajs gets the error', async () => {
    const { kafka, producers, eachBatch } = brokerOutageKafka();
    let processed = 0;
    const p = createProcessor<Buffer | null>({
      kafka,
      log: memoryLogger().log,
      groupId: 'li.test.acme',
      topics: ['li.acme.events'],
      transactionalIdPrefix: 'li.test.acme',
      decode: async (b) => b,
      dlqTopic: () => 'li.acme.dlq',
      process: async (records) => {
        processed++;
        return { outputs: records.map((r) => ({ topic: 'li.acme.matched', key: null, value: r.value })) };
      },
      maxBackoffMs: 1,
    });
    await p.start();
    const resolved: string[] = [];
    // After a broker restart the coordinator no longer knows this member.
    const unknownMember = Object.assign(new Error('The coordinator is not aware of this member'), {
      type: 'UNKNOWN_MEMBER_ID',
    });
    const run = eachBatch({
      batch: batchOf([3]),
      resolveOffset: (o: string) => resolved.push(o),
      heartbeat: async () => {
        throw unknownMember;
      },
      isRunning: () => processed < 10,
      isStale: () => false,
    });
    await expect(run).rejects.toBe(unknownMember);
    expect(resolved).toEqual(['3']);
    expect(processed).toBe(1);
    expect(producers.reduce((n, x) => n + x.commits, 0)).toBe(1);
    await p.stop();
  });
});

describe('batchCommitted', () => {
  it('is true once the committed offset reached the offset after the batch', () => {
    expect(batchCommitted('10', '10')).toBe(true);
    expect(batchCommitted('12', '10')).toBe(true);
    expect(batchCommitted('9', '10')).toBe(false);
    expect(batchCommitted('-1', '10')).toBe(false);
    expect(batchCommitted(undefined, '1')).toBe(false);
    expect(batchCommitted('', '1')).toBe(false);
    expect(batchCommitted('9007199254740993', '9007199254740993')).toBe(true);
  });
});

describe('processor after a rebalance', () => {
  it('does not process again what the previous owner committed after kafkajs read the offset', async () => {
    // kafkajs fetched from 8 (read while the previous owner's last transaction, up to 10, was
    // still committing); once fenced, the group's committed offset is 10.
    const { kafka, committed, eachBatch } = brokerOutageKafka();
    committed.offset = '10';
    const seen: string[] = [];
    const p = createProcessor<Buffer | null>({
      kafka,
      log: memoryLogger().log,
      groupId: 'li.test.acme',
      topics: ['li.acme.events'],
      transactionalIdPrefix: 'li.test.acme',
      decode: async (b) => b,
      dlqTopic: () => 'li.acme.dlq',
      process: async (records) => {
        seen.push(...records.map((r) => r.offset));
        return { outputs: [] };
      },
    });
    await p.start();
    const resolved: string[] = [];
    const payload = (offsets: number[]) => ({
      batch: batchOf(offsets),
      resolveOffset: (o: string) => resolved.push(o),
      heartbeat: async () => {},
      isRunning: () => true,
      isStale: () => false,
    });
    await eachBatch(payload([6, 7])); // wholly below: skipped, the position moves to 10
    await eachBatch(payload([8, 9, 10, 11]));
    expect(seen).toEqual(['10', '11']);
    expect(resolved).toEqual(['9', '11']);
    await p.stop();
  });
});

describe('unprocessed', () => {
  const m = (...offsets: number[]) => offsets.map((o) => ({ offset: String(o) }));
  it('keeps the records at or above the committed offset', () => {
    expect(unprocessed(m(3, 4, 5), 4n)).toEqual(m(4, 5));
    expect(unprocessed(m(3, 4, 5), 6n)).toEqual([]);
    expect(unprocessed(m(3, 4, 5), 3n)).toEqual(m(3, 4, 5));
    expect(unprocessed(m(3, 4, 5), undefined)).toEqual(m(3, 4, 5));
    expect(unprocessed([], 1n)).toEqual([]);
  });
});

/** A kafkajs transaction whose requests answer when the test says, and which records what went out. */
function controlledTransaction() {
  const events: string[] = [];
  const pending = new Map<string, { resolve: () => void; reject: (e: unknown) => void }>();
  const request = (name: string) => {
    events.push(`${name} sent`);
    return new Promise<void>((resolve, reject) => {
      pending.set(name, {
        resolve: () => {
          events.push(`${name} answered`);
          resolve();
        },
        reject: (e) => {
          events.push(`${name} failed`);
          reject(e);
        },
      });
    });
  };
  const answer = (name: string, err?: unknown) => {
    const p = pending.get(name);
    if (!p) throw new Error(`${name} was not sent`);
    pending.delete(name);
    if (err) p.reject(err);
    else p.resolve();
  };
  const txn = {
    sendBatch: () => request('produce'),
    sendOffsets: () => request('offsets'),
  } as unknown as Transaction;
  return { txn, events, answer, pending };
}

const OUTPUT: OutputRecord[] = [{ topic: 'li.acme.matched', key: 'k', value: Buffer.from('v') }];
const OFFSETS = {
  consumerGroupId: 'li.test.acme',
  topics: [{ topic: 'li.acme.events', partitions: [{ partition: 0, offset: '11' }] }],
};

describe('sendWithOffsets', () => {
  it('sends the offset before the produce is answered, and settles once both are', async () => {
    const { txn, events, answer } = controlledTransaction();
    let settled = false;
    const sent = sendWithOffsets(txn, OUTPUT, OFFSETS).then(() => {
      settled = true;
    });
    await vi.waitFor(() => expect(events).toEqual(['produce sent', 'offsets sent']));
    answer('offsets');
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    answer('produce');
    await sent;
    expect(events).toEqual(['produce sent', 'offsets sent', 'offsets answered', 'produce answered']);
  });

  it('on a failed produce, rejects only once the offset request settled (nothing in flight at the abort)', async () => {
    const { txn, events, answer } = controlledTransaction();
    let outcome: unknown;
    const sent = sendWithOffsets(txn, OUTPUT, OFFSETS).catch((e: unknown) => {
      outcome = e;
    });
    await vi.waitFor(() => expect(events).toHaveLength(2));
    const refused = Object.assign(new Error('NOT_ENOUGH_REPLICAS'), { type: 'NOT_ENOUGH_REPLICAS' });
    answer('produce', refused);
    await new Promise((r) => setImmediate(r));
    expect(outcome).toBeUndefined();
    answer('offsets');
    await sent;
    expect(outcome).toBe(refused);
  });

  it('reports a fence whichever request saw it', async () => {
    const { txn, events, answer } = controlledTransaction();
    const sent = sendWithOffsets(txn, OUTPUT, OFFSETS).catch((e: unknown) => e);
    await vi.waitFor(() => expect(events).toHaveLength(2));
    answer('produce', Object.assign(new Error('timeout'), { type: 'REQUEST_TIMED_OUT' }));
    const fenced = Object.assign(new Error('fenced'), { type: 'PRODUCER_FENCED' });
    answer('offsets', fenced);
    expect(await sent).toBe(fenced);
  });

  it('retries the offset while the coordinator still completes the previous commit', async () => {
    const { txn, events, answer, pending } = controlledTransaction();
    const sent = sendWithOffsets(txn, OUTPUT, OFFSETS);
    await vi.waitFor(() => expect(events).toHaveLength(2));
    answer('offsets', Object.assign(new Error('concurrent'), { type: 'CONCURRENT_TRANSACTIONS' }));
    answer('produce');
    await vi.waitFor(() => expect(pending.has('offsets')).toBe(true));
    answer('offsets');
    await sent;
    expect(events.filter((e) => e === 'offsets sent')).toHaveLength(2);
  });
});

describe('settleAll', () => {
  it('resolves with every value in order', async () => {
    await expect(settleAll([Promise.resolve(1), 2, Promise.resolve(3)])).resolves.toEqual([1, 2, 3]);
  });

  it('rejects with the first failure only once every promise settled', async () => {
    let finish!: () => void;
    let slowDone = false;
    const slow = new Promise<string>((resolve) => {
      finish = () => {
        slowDone = true;
        resolve('slow');
      };
    });
    const all = settleAll<string>([Promise.reject(new Error('first')), slow, Promise.reject(new Error('second'))]);
    let settled = false;
    all.catch(() => {
      settled = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    finish();
    await expect(all).rejects.toThrow('first');
    expect(slowDone).toBe(true);
  });
});

/**
 * A kafkajs client that assigns the given partitions at each join (rejoin() makes it join again),
 * whose producers' first transaction (the fence) waits until release(), and whose admin counts
 * its connections and reads.
 */
function fencingKafka(assignment: Record<string, number[]>) {
  const log: string[] = [];
  const gates: (() => void)[] = [];
  let consumer: EventEmitter | undefined;
  const admin = { connects: 0, disconnects: 0, reads: 0, fail: false, hold: undefined as Promise<void> | undefined };
  const kafka = {
    consumer: () => {
      const c = Object.assign(new EventEmitter(), {
        events: EVENTS,
        connect: async () => {},
        subscribe: async () => {},
        run: async () => {
          setImmediate(() => c.emit(EVENTS.GROUP_JOIN, { payload: { memberAssignment: assignment } }));
        },
        disconnect: async () => {},
      });
      consumer = c;
      return c;
    },
    producer: ({ transactionalId }: { transactionalId: string }) => ({
      connect: async () => {},
      disconnect: async () => {},
      transaction: async () => {
        log.push(`fence ${transactionalId}`);
        await new Promise<void>((r) => gates.push(r));
        return {
          abort: async () => {
            log.push(`fenced ${transactionalId}`);
          },
        };
      },
    }),
    admin: () => ({
      connect: async () => {
        admin.connects++;
      },
      disconnect: async () => {
        admin.disconnects++;
      },
      fetchOffsets: async ({ topics }: { topics: string[] }) => {
        if (topics.length === 0) return [];
        admin.reads++;
        log.push('committed offsets read');
        await admin.hold;
        if (admin.fail) throw new Error('Connection error');
        return topics.map((topic) => ({ topic, partitions: [] }));
      },
    }),
  } as unknown as Kafka;
  const release = () => {
    for (const g of gates.splice(0)) g();
  };
  const rejoin = () => consumer!.emit(EVENTS.GROUP_JOIN, { payload: { memberAssignment: assignment } });
  return { kafka, log, release, admin, rejoin, pending: () => gates.length };
}

describe('processor preparing an assignment', () => {
  const assignment = { 'li.acme.matched': [0, 1, 2], 'li.acme.warrants': [0] };
  const processorOf = (kafka: Kafka, onAssigned: () => Promise<void>) =>
    createProcessor<Buffer | null>({
      kafka,
      log: memoryLogger().log,
      groupId: 'li.test.acme',
      topics: Object.keys(assignment),
      transactionalIdPrefix: 'li.test.acme',
      decode: async (b) => b,
      dlqTopic: () => 'li.acme.dlq',
      process: async () => ({ outputs: [] }),
      onAssigned,
    });

  it('fences every partition at once, and calls onAssigned only once all are fenced', async () => {
    const { kafka, log, release, pending } = fencingKafka(assignment);
    const p = processorOf(kafka, async () => {
      log.push('onAssigned');
    });
    const started = p.start();
    await vi.waitFor(() => expect(pending()).toBe(4));
    // four fences in flight together, none finished, nothing read yet
    expect(log.filter((l) => !l.startsWith('fence '))).toEqual([]);
    release();
    await started;
    const lastFence = Math.max(...log.map((l, i) => (l.startsWith('fenced ') ? i : -1)));
    expect(log.indexOf('onAssigned')).toBeGreaterThan(lastFence);
    expect(log.indexOf('committed offsets read')).toBeGreaterThan(lastFence);
    await p.stop();
  });

  it('reads the committed offsets while onAssigned runs, and waits for both', async () => {
    const { kafka, log, release, admin } = fencingKafka(assignment);
    // the read is answered only once onAssigned was called: done one after the other, neither ends
    let answer!: () => void;
    admin.hold = new Promise((r) => {
      answer = r;
    });
    let finishAssigned!: () => void;
    const p = processorOf(
      kafka,
      () =>
        new Promise<void>((r) => {
          log.push('onAssigned');
          finishAssigned = r;
        }),
    );
    let started = false;
    const starting = p.start().then(() => {
      started = true;
    });
    await vi.waitFor(() => {
      release();
      expect(log).toContain('onAssigned');
    });
    await vi.waitFor(() => expect(log).toContain('committed offsets read'));
    answer();
    await new Promise((r) => setImmediate(r));
    expect(started).toBe(false);
    finishAssigned();
    await starting;
    expect(p.health().ready).toBe(true);
    await p.stop();
  });

  it('keeps one admin across rebalances, and makes a new one after a failed read', async () => {
    const { kafka, release, admin, rejoin } = fencingKafka(assignment);
    const p = processorOf(kafka, async () => {});
    const starting = p.start();
    await vi.waitFor(() => {
      release();
      expect(admin.reads).toBe(1);
    });
    await starting;
    rejoin();
    await vi.waitFor(() => {
      release();
      expect(admin.reads).toBe(2);
    });
    expect(admin.connects).toBe(1);
    admin.fail = true;
    rejoin();
    await vi.waitFor(() => {
      release();
      expect(admin.reads).toBe(3);
    });
    await vi.waitFor(() => expect(admin.disconnects).toBe(1));
    admin.fail = false;
    rejoin();
    await vi.waitFor(() => {
      release();
      expect(admin.reads).toBe(4);
    });
    expect(admin.connects).toBe(2);
    await p.stop();
    expect(admin.disconnects).toBe(2);
  });
});
