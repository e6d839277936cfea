// The consumers of a Kafka client and whether they work, so the service runtime can answer
// /healthz and /readyz for all of them without each service wiring its own checks.
import type { Consumer, Kafka } from 'kafkajs';
import { Counter, type Registry } from 'prom-client';
import { type BusClient, clientOf } from './client.ts';

export interface ConsumerHealth {
  /** false: it gave up; only a new process helps. */
  live: boolean;
  /** true: it is in its group and consuming. */
  ready: boolean;
  reason?: string;
}

export interface HealthSource {
  /** Names the consumer in probe answers (group id or role; no target data). */
  name: string;
  health(): ConsumerHealth;
}

const sources = new WeakMap<Kafka, Set<HealthSource>>();

/** Adds a consumer of this client; returns the function that removes it (on stop). */
export function registerConsumer(client: BusClient, source: HealthSource): () => void {
  const kafka = clientOf(client);
  let set = sources.get(kafka);
  if (!set) {
    set = new Set();
    sources.set(kafka, set);
  }
  set.add(source);
  return () => set.delete(source);
}

/** The running consumers of this client. */
export function consumersOf(kafka: Kafka): HealthSource[] {
  return [...(sources.get(kafka) ?? [])];
}

/** A joined consumer that has neither fetched nor heartbeated this long is not moving. */
const STALL_MS = 30_000;

/**
 * Watches a consumer's fetches and heartbeats. A consumer cut off from its broker may take a
 * while to crash (or not crash at all); until then it looks joined but does nothing.
 * Returns why it is stalled, or undefined while it moves.
 */
export function watchActivity(consumer: Consumer, now: () => number = Date.now): () => string | undefined {
  let last = now();
  const seen = () => {
    last = now();
  };
  consumer.on(consumer.events.FETCH_START, seen);
  consumer.on(consumer.events.HEARTBEAT, seen);
  consumer.on(consumer.events.GROUP_JOIN, seen);
  return () => {
    const idle = now() - last;
    return idle < STALL_MS ? undefined : `no fetch or heartbeat for ${Math.round(idle / 1000)} s`;
  };
}

const RESTART_METRIC = 'li_bus_consumer_restarts_total';

/** One counter per registry. The label is the kind of consumer, never a group id (it names tenants). */
export function restartCounter(registry: Registry): Counter<'consumer'> {
  const existing = registry.getSingleMetric(RESTART_METRIC);
  if (existing) return existing as Counter<'consumer'>;
  return new Counter({
    name: RESTART_METRIC,
    help: 'Consumers made anew after a crash kafkajs would not recover from.',
    labelNames: ['consumer'],
    registers: [registry],
  });
}
