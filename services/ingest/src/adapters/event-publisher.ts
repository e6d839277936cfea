// Publishes what the adapters decode to li.<t>.events, keyed by communication, and what they
// could not decode to li.<t>.dlq with the reason. Records are batched for a few milliseconds:
// one produce request carries many, and the order of one communication's events is kept
// (same key, same partition, one request in flight).
import { randomUUID } from 'node:crypto';
import type { Bus, Codec, OutputRecord } from '@li/bus';
import { type Clock, systemClock } from '@li/core';
import type { Logger } from '@li/log';
import type { NormalizedEvent } from '@li/schemas';
import type { Counter } from 'prom-client';
import type { DecodedEvent, DecodeProblem } from '../domain/stream.ts';

export interface PublisherOptions {
  bus: Bus;
  log: Logger;
  tenant: string;
  eventsTopic: string;
  dlqTopic: string;
  codec: Codec<NormalizedEvent>;
  lingerMs?: number;
  maxBatch?: number;
  /** Linger and retry timers; default the system clock. */
  clock?: Clock;
  counters: { events: Counter<'tenant' | 'source'>; problems: Counter<'tenant' | 'source' | 'code'> };
}

export class EventPublisher {
  private readonly o: PublisherOptions;
  private pending: Promise<OutputRecord>[] = [];
  /** Cancels the pending linger timer. */
  private cancelLinger: (() => void) | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private failures = 0;

  private readonly clock: Clock;
  constructor(options: PublisherOptions) {
    this.o = options;
    this.clock = options.clock ?? systemClock;
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
    this.enqueue(
      this.o.codec.encode(event).then(
        (value) => ({ topic: this.o.eventsTopic, key: event.communicationId, value }),
        // A decoder produced an event its own schema refuses: a bug, kept in the DLQ.
        (err: Error) => this.dlq(source, { code: 'ING_ERR_SCHEMA', reason: err.message }),
      ),
    );
  }

  problem(source: string, p: DecodeProblem): void {
    this.o.counters.problems.inc({ tenant: this.o.tenant, source, code: p.code });
    this.enqueue(Promise.resolve(this.dlq(source, p)));
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

  /** Sends what is pending; resolves when everything enqueued before the call is in Kafka. */
  flush(): Promise<void> {
    this.cancelLinger?.();
    this.cancelLinger = undefined;
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.flushing.then(async () => {
      if (batch.length === 0) return;
      const records = await Promise.all(batch);
      // The bus producer retries forever (idempotent); a failure here means Kafka is gone for
      // long: keep the records and try again rather than drop what the network showed us.
      for (;;) {
        try {
          await this.o.bus.send(records);
          this.failures = 0;
          return;
        } catch (err) {
          this.failures++;
          this.o.log.error(
            { err, count: records.length, attempt: this.failures },
            'publishing events failed; retrying',
          );
          await new Promise<void>((r) => this.clock.setTimeout(r, Math.min(5000, 100 * 2 ** this.failures)));
        }
      }
    });
    return this.flushing;
  }

  healthy(): boolean | string {
    return this.failures === 0 || `Kafka publish failing (${this.failures} attempts)`;
  }
}
