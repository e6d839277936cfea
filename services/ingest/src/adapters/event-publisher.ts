// Publishes what the adapters decode to li.<t>.events, keyed by communication, and what they
// could not decode to li.<t>.dlq with the reason. Records are batched for a few milliseconds:
// one produce request carries many, and the order of one communication's events is kept
// (same key, same partition, one request in flight).
// When Kafka does not acknowledge a send within spoolAfterMs (the bus producer retries without
// end, so an outage shows as a send that does not finish), or a send fails, what follows goes
// to the disk spool instead of memory; the pump sends the spool's records, oldest first, once
// Kafka is back, and new records queue behind them until it is empty (domain/spool-policy.ts).
// A send that fails part way is sent again from its first record Kafka had not acknowledged.
// A full spool drops records: counted and logged, never silent.

import { randomUUID } from 'node:crypto';
import { acknowledgedBefore, type Bus, type Codec, type OutputRecord } from '@li/bus';
import { type Clock, systemClock } from '@li/core';
import type { Logger } from '@li/log';
import type { NormalizedEvent } from '@li/schemas';
import type { Counter } from 'prom-client';
import { eventKey } from '../domain/event-key.ts';
import { nextSource, routeOf, spoolNearlyFull } from '../domain/spool-policy.ts';
import type { DecodedEvent, DecodeProblem } from '../domain/stream.ts';
import { ING } from '../errors.ts';
import type { DiskSpool } from './spool.ts';

export interface PublisherOptions {
  /** Only send() is used: a test may pass a fake. */
  bus: Pick<Bus, 'send'>;
  log: Logger;
  tenant: string;
  eventsTopic: string;
  dlqTopic: string;
  codec: Pick<Codec<NormalizedEvent>, 'encode'>;
  lingerMs?: number;
  maxBatch?: number;
  /** Linger and retry timers; default the system clock. */
  clock?: Clock;
  counters: {
    events: Counter<'tenant' | 'source'>;
    problems: Counter<'tenant' | 'source' | 'code'>;
    /** Records a full spool refused. */
    spoolDropped?: Counter<'tenant'>;
  };
  /** Absent: records wait in memory while Kafka is away (unbounded). */
  spool?: DiskSpool;
  /** A send not acknowledged for this long means Kafka is away: spool what follows. Default 5 s. */
  spoolAfterMs?: number;
}

/** At most one log line per this many ms about records a full spool dropped. */
const DROP_LOG_INTERVAL_MS = 10_000;

export class EventPublisher {
  private readonly o: PublisherOptions;
  private pending: Promise<OutputRecord>[] = [];
  /** Cancels the pending linger timer. */
  private cancelLinger: (() => void) | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private failures = 0;
  /** Records to send directly, oldest first; the head may be in flight. Older than the spool's. */
  private memory: OutputRecord[] = [];
  private inFlight = 0;
  /** Records of the batch in flight that an outage also wrote to the spool's head. */
  private inFlightSpooled = 0;
  private closed = false;
  private brokerDown = false;
  private pumping = false;
  /** Woken each time records leave memory (acknowledged or spooled). */
  private waiters: (() => void)[] = [];
  private droppedSinceLog = 0;
  private lastDropLog = Number.NEGATIVE_INFINITY;
  private dropped = 0;
  /** Settles when the last flushed batch is in Kafka or the spool (see durable()). */
  private lastKept: Promise<void> = Promise.resolve();
  /** Settles when the batch now pending is in Kafka or the spool (see durable()). */
  private pendingKept: { promise: Promise<void>; resolve(): void; reject(e: unknown): void } | undefined;

  private readonly clock: Clock;
  constructor(options: PublisherOptions) {
    this.o = options;
    this.clock = options.clock ?? systemClock;
    // A spool left by an earlier run goes out before anything new.
    if (this.spooled() > 0) {
      this.o.log.warn({ count: this.spooled() }, 'spool holds records from an earlier run; sending them first');
      void this.pump();
    }
  }

  /** The sink for one adapter. */
  sink(source: string): { event(e: DecodedEvent): void; problem(p: DecodeProblem): void } {
    return {
      event: (e) => this.event(source, e),
      problem: (p) => this.problem(source, p),
    };
  }

  event(source: string, decoded: DecodedEvent): void {
    const event: NormalizedEvent = { ...decoded, eventId: randomUUID(), tenant: this.o.tenant, source };
    this.o.counters.events.inc({ tenant: this.o.tenant, source });
    // Problems flagged on a delivered event (SIP over UDP): counted by code, no DLQ record.
    const flagged = decoded.attributes?.problems;
    if (flagged)
      // Only ingest's own codes: a mail server's attributes never become a label.
      for (const code of flagged.split(' '))
        if (Object.hasOwn(ING.table, code)) this.o.counters.problems.inc({ tenant: this.o.tenant, source, code });
    this.enqueue(
      this.o.codec.encode(event).then(
        (value) => ({ topic: this.o.eventsTopic, key: eventKey(event), value }),
        // A decoder produced an event its own schema refuses: a bug, kept in the DLQ.
        (err: Error) => this.dlq(source, { code: 'ING_ERR_SCHEMA', reason: err.message }),
      ),
    );
  }

  problem(source: string, p: DecodeProblem): void {
    this.o.counters.problems.inc({ tenant: this.o.tenant, source, code: p.code });
    this.enqueue(Promise.resolve(this.dlq(source, p)));
  }

  /**
   * False while the spool is nearly full: senders that can retry (mail-event HTTP, X2/X3) are
   * held off rather than have their records dropped.
   */
  accepting(): boolean {
    const s = this.o.spool;
    return !s || routeOf(this.routeState()) === 'memory' || !spoolNearlyFull(s.bytes, s.maxBytes);
  }

  private dlq(source: string, p: DecodeProblem): OutputRecord {
    return {
      topic: this.o.dlqTopic,
      key: null,
      value: null,
      headers: { 'li.dlq.code': p.code, 'li.dlq.reason': p.reason, 'li.dlq.source': `ingest/${source}` },
    };
  }

  private enqueue(r: Promise<OutputRecord>): void {
    this.pending.push(r);
    if (this.pending.length >= (this.o.maxBatch ?? 500)) void this.flush();
    else this.cancelLinger ??= this.clock.setTimeout(() => void this.flush(), this.o.lingerMs ?? 5);
  }

  /**
   * Resolves once every record enqueued so far is acknowledged by Kafka or appended to the spool
   * (and, under the spool's fsync 'always', synced to disk). Unlike flush() it does not cut the
   * linger short, so concurrent callers share one batch. Rejects if the spool could not take them.
   */
  durable(): Promise<void> {
    if (this.pending.length === 0) return this.lastKept;
    if (!this.pendingKept) {
      let resolve!: () => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.pendingKept = { promise, resolve, reject };
    }
    return this.pendingKept.promise;
  }

  /**
   * Sends what is pending; resolves when everything enqueued before the call is in Kafka or,
   * while Kafka is away, in the spool.
   */
  flush(): Promise<void> {
    this.cancelLinger?.();
    this.cancelLinger = undefined;
    const batch = this.pending;
    this.pending = [];
    const waiting = this.pendingKept;
    this.pendingKept = undefined;
    let kept = true;
    this.flushing = this.flushing.then(async () => {
      if (batch.length === 0) return;
      // Records dropped or a failed sync while this batch was handled: do not vouch for it.
      const before = this.unkept();
      await this.place(await Promise.all(batch));
      kept = this.unkept() === before;
    });
    const outcome = this.flushing.then(() => {
      if (!kept) throw new Error('records dropped or not synced by the spool');
    });
    outcome.catch(() => undefined); // a rejection matters only to durable()'s callers
    this.lastKept = outcome;
    if (waiting) outcome.then(waiting.resolve, waiting.reject);
    return this.flushing;
  }

  /** Hands a batch to the spool or to memory; resolves once it is in Kafka or the spool. */
  private async place(records: OutputRecord[]): Promise<void> {
    const last = records.at(-1) as OutputRecord;
    if (routeOf(this.routeState()) === 'spool') {
      this.toSpool(records);
      void this.pump();
      return;
    }
    this.memory.push(...records);
    void this.pump();
    // Resolved once the last of these records has left memory (acknowledged or spooled).
    while (this.memory.includes(last)) await new Promise<void>((r) => this.waiters.push(r));
  }

  /** Records dropped by a full spool plus failed spool syncs, since the start. */
  private unkept(): number {
    return this.dropped + (this.o.spool?.syncFailures ?? 0);
  }

  /** Resolves when nothing is left in memory or in the spool (tests; a drain check). */
  async drained(): Promise<void> {
    await this.flush();
    while (this.memory.length > 0 || this.spooled() > 0) await new Promise<void>((r) => this.waiters.push(r));
  }

  /**
   * Stops the publisher: what is pending goes to Kafka or, while Kafka is away, to the spool
   * (which is then closed). Without a spool it waits for Kafka, as long as that takes.
   */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    this.o.spool?.close();
    this.wake();
  }

  healthy(): boolean | string {
    // While a spool takes the records, a Kafka outage is not a reason to restart ingest (a
    // restart would lose what is in memory); without one, it is reported.
    if (this.o.spool) return true;
    return this.failures === 0 || `Kafka publish failing (${this.failures} attempts)`;
  }

  private spooled(): number {
    return this.o.spool?.records ?? 0;
  }

  private routeState() {
    return { brokerDown: this.brokerDown, spooledRecords: this.spooled() };
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }

  /** Appends to the spool; returns how many records a full spool refused (counted and logged). */
  private toSpool(records: OutputRecord[]): number {
    const spool = this.o.spool as DiskSpool;
    const dropped = spool.append(records);
    if (dropped === 0) return 0;
    this.dropped += dropped;
    this.o.counters.spoolDropped?.inc({ tenant: this.o.tenant }, dropped);
    this.droppedSinceLog += dropped;
    const now = this.clock.now();
    if (now - this.lastDropLog >= DROP_LOG_INTERVAL_MS) {
      this.o.log.error(
        { count: this.droppedSinceLog, bytes: spool.bytes, reason: `spool limit ${spool.maxBytes} octets` },
        'spool full while Kafka is away: records dropped',
      );
      this.droppedSinceLog = 0;
      this.lastDropLog = now;
    }
    return dropped;
  }

  /**
   * Kafka is away: everything in memory moves to the (then empty) spool, the batch in flight
   * included, so a stop or crash during the outage loses nothing. If that batch is acknowledged
   * after all, its records are taken off the spool's head; if ingest stops first, they are sent
   * again at the next start (at least once: same eventIds).
   */
  private outage(why: string): void {
    if (this.brokerDown || !this.o.spool) return;
    this.brokerDown = true;
    const moved = this.memory.splice(0);
    const refused = this.toSpool(moved);
    this.inFlightSpooled = Math.max(0, Math.min(this.inFlight, moved.length - refused));
    this.o.log.warn(
      { count: moved.length, records: this.spooled() },
      `Kafka unavailable (${why}); spooling records to disk`,
    );
    this.wake();
  }

  /** Kafka acknowledged the first n records of the batch in flight: forget them, wherever they are. */
  private acknowledge(source: 'memory' | 'spool', n: number): void {
    const spool = this.o.spool as DiskSpool;
    if (source === 'spool') spool.commit(n);
    else if (this.inFlightSpooled > 0) {
      // An outage had also spooled this batch (its first inFlightSpooled records): at the spool's head.
      const spooled = Math.min(n, this.inFlightSpooled);
      spool.peek(spooled);
      spool.commit(spooled);
      this.inFlightSpooled -= spooled;
    } else this.memory.splice(0, n);
  }

  /** One loop sends memory first, then the spool, one batch in flight at a time. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    const max = this.o.maxBatch ?? 500;
    try {
      while (!this.closed) {
        const source = nextSource(this.memory.length, this.spooled());
        if (source === 'idle') break;
        const spool = this.o.spool as DiskSpool;
        const batch = source === 'memory' ? this.memory.slice(0, max) : spool.peek(max);
        if (batch.length === 0) break;
        this.inFlight = source === 'memory' ? batch.length : 0;
        this.inFlightSpooled = 0;
        const cancelWatch = this.clock.setTimeout(
          () => this.outage('send not acknowledged in time'),
          this.o.spoolAfterMs ?? 5000,
        );
        try {
          await this.o.bus.send(batch);
        } catch (err) {
          // The bus producer retries forever; a failure means Kafka is gone for long: keep the
          // records (in memory, or in the spool after an outage) and try again. Records of the
          // batch Kafka acknowledged before the failure are taken off first: sent again, they
          // would be written twice (the next producer has a new id, so the broker cannot tell).
          if (this.closed) break;
          const acknowledged = Math.min(acknowledgedBefore(err), batch.length);
          if (acknowledged > 0) {
            this.acknowledge(source, acknowledged);
            this.wake();
          }
          this.failures++;
          this.o.log.error({ err, count: batch.length, attempt: this.failures }, 'publishing events failed; retrying');
          this.outage('send failed');
          await new Promise<void>((r) => this.clock.setTimeout(r, Math.min(5000, 100 * 2 ** this.failures)));
          continue;
        } finally {
          cancelWatch();
          this.inFlight = 0;
        }
        // After close the spool is another run's: what was acknowledged is sent again (at least once).
        if (this.closed) break;
        this.failures = 0;
        this.acknowledge(source, batch.length);
        this.inFlightSpooled = 0;
        if (this.brokerDown) {
          this.brokerDown = false;
          this.o.log.info({ count: this.spooled() }, 'Kafka acknowledges again; sending spooled records');
        }
        this.wake();
      }
    } finally {
      this.pumping = false;
      this.wake();
    }
  }
}
