// Mail-account renames and removals (seed 000) arrive as ACCOUNT events on li.<t>.events; admf
// follows them into the warrants. One consumer group per tenant (`<eventsGroupId>.<tenant>`):
// a tenant created later adds its own consumer instead of re-joining (and pausing) the others.
// Each consumer is a @li/bus processor, so it is registered for /readyz and /healthz, made anew
// after a crash, and commits its offsets in a transaction with its dead letters.
import {
  type Bus,
  createProcessor,
  type InputRecord,
  type Processor,
  type Rejection,
  registerConsumer,
  topicName,
} from '@li/bus';
import type { Logger } from '@li/log';
import type { NormalizedEvent } from '@li/schemas';
import { Counter, type Registry } from 'prom-client';
import { accountFailureDisposition } from '../domain/accounts.ts';
import type { UseCases } from '../domain/use-cases.ts';
import { errResult, type Result } from '../errors.ts';

/** A failure worth retrying: the batch is aborted, its offsets stay where they were. */
class NotAppliedYet extends Error {}

/**
 * Applies the ACCOUNT events of one batch. A store failure throws NotAppliedYet (the processor
 * aborts, waits with bounded backoff and hands the batch again); `applied` remembers what was
 * already written so a retried batch writes each change once. Events that can never apply are
 * returned as rejections (dead-lettered with their code in the offsets' transaction).
 */
export async function applyAccountBatch(
  useCases: Pick<UseCases, 'handleAccountEvent'>,
  decode: (bytes: Buffer | null) => Promise<NormalizedEvent | null>,
  tenant: string,
  records: readonly InputRecord<Buffer | null>[],
  applied: Set<string>,
): Promise<Rejection<Buffer | null>[]> {
  const rejected: Rejection<Buffer | null>[] = [];
  for (const record of records) {
    const id = `${record.partition}:${record.offset}`;
    if (applied.has(id)) continue;
    let event: NormalizedEvent | null;
    try {
      event = await decode(record.value);
    } catch (err) {
      // The schema registry away: no fault of the event; the batch is aborted and handed again.
      if ((err as { retriable?: unknown }).retriable === true) throw err;
      continue; // undecodable events are target-match's to dead-letter, not a second copy here
    }
    if (event === null || event.category !== 'ACCOUNT') continue;
    let r: Result<{ changed: number }>;
    try {
      r = await useCases.handleAccountEvent(event, tenant);
    } catch (err) {
      r = errResult('ADM_ERR_STORE', (err as Error).message);
    }
    if (r.ok) {
      applied.add(id);
      continue;
    }
    const disposition = accountFailureDisposition(r.error.code);
    if (disposition === 'retry') throw new NotAppliedYet(`account event not applied (${r.error.code}); retried`);
    if (disposition === 'dead-letter') rejected.push({ record, code: r.error.code, reason: r.error.message });
  }
  return rejected;
}

/**
 * Decodes an event only when it is an ACCOUNT event, else null: admf reads every event of the
 * tenant for the few account ones, and the category alone (the other fields skipped in the
 * bytes) costs a fraction of the whole event.
 */
export function accountEventDecoder(
  categoryOf: (bytes: Buffer | null) => Promise<Pick<NormalizedEvent, 'category'>>,
  decode: (bytes: Buffer | null) => Promise<NormalizedEvent>,
): (bytes: Buffer | null) => Promise<NormalizedEvent | null> {
  return async (bytes) => ((await categoryOf(bytes)).category === 'ACCOUNT' ? decode(bytes) : null);
}

export interface AccountEventFollower {
  /** Starts following this tenant's events (once; again after a failed start). */
  follow(tenant: string): void;
  /** Stops every tenant's consumer; does not wait for a join in progress. */
  stop(): Promise<void>;
}

const START_RETRY = { initialMs: 1_000, maxMs: 30_000 };

export function followAccountEvents(opts: {
  bus: Bus;
  metrics: Registry;
  log: Logger;
  /** Each tenant's group is `<eventsGroupId>.<tenant>` (admf's ACLs grant the prefix li.admf.). */
  eventsGroupId: string;
  /** Transactional ids (offsets and dead letters) start with this; admf's own writes use another. */
  transactionalIdPrefix: string;
  useCases: Pick<UseCases, 'handleAccountEvent'>;
}): AccountEventFollower {
  const { bus, log } = opts;
  // One counter per registry: a writer that stands by and takes over again follows anew.
  const retries =
    (opts.metrics.getSingleMetric('li_admf_account_event_retries_total') as Counter<'tenant'> | undefined) ??
    new Counter({
      name: 'li_admf_account_event_retries_total',
      help: 'Batches of account events aborted because an update could not be stored; retried with backoff.',
      labelNames: ['tenant'],
      registers: [opts.metrics],
    });
  const followed = new Map<string, Processor>();
  const retryTimers = new Set<NodeJS.Timeout>();
  let stopped = false;

  /**
   * A tenant's new group starts where the deployment's former single group (`eventsGroupId`
   * itself, before one group per tenant) left off: an upgrade must not replay renames and
   * removals applied already (a removal replayed after the name was reused would drop a target).
   */
  const carryOver = async (topic: string, groupId: string) => {
    const admin = await bus.admin();
    const [own] = await admin.fetchOffsets({ groupId, topics: [topic] });
    if (own?.partitions.some((p) => p.offset !== '-1')) return;
    const [former] = await admin.fetchOffsets({ groupId: opts.eventsGroupId, topics: [topic] });
    const partitions = (former?.partitions ?? []).filter((p) => p.offset !== '-1');
    if (partitions.length === 0) return;
    await admin.setOffsets({ groupId, topic, partitions });
    log.info({ groupId }, 'account events continue from the former group');
  };

  const start = (tenant: string, failures: number) => {
    const topic = topicName(tenant, 'events');
    const groupId = `${opts.eventsGroupId}.${tenant}`;
    const applied = new Set<string>();
    const processor = createProcessor<Buffer | null>({
      kafka: bus,
      log,
      groupId,
      topics: [topic],
      transactionalIdPrefix: opts.transactionalIdPrefix,
      // Decoded in process(): a registry outage there is retried, not taken for a bad record.
      decode: async (bytes) => bytes,
      dlqTopic: () => topicName(tenant, 'dlq'),
      process: async (records) => {
        const codec = await bus.codec<NormalizedEvent>(topic, 'NormalizedEvent');
        const category = await bus.codec<Pick<NormalizedEvent, 'category'>>(topic, 'NormalizedEvent', {
          readFields: ['category'],
        });
        const decode = accountEventDecoder(
          (b) => category.decode(b),
          (b) => codec.decode(b),
        );
        try {
          const rejected = await applyAccountBatch(opts.useCases, decode, tenant, records, applied);
          return { outputs: [], rejected };
        } catch (err) {
          if (err instanceof NotAppliedYet) retries.inc({ tenant });
          throw err;
        }
      },
      onCommitted: () => applied.clear(),
      fromBeginning: true,
      // Account events are rare: an idle fetch of 1 s keeps admf's stop short (one per tenant).
      maxWaitTimeMs: 1_000,
      // ...among all the tenant's events: a fetch waits for 256 KiB (or that second), so a busy
      // topic costs a transaction per 256 KiB rather than one per few events.
      minBytes: 256 * 1024,
      metrics: opts.metrics,
    });
    followed.set(tenant, processor);
    // Not ready until the processor registers itself (in start()).
    const carrying = registerConsumer(bus, {
      name: `account events ${groupId}`,
      health: () => ({ live: true, ready: false, reason: 'reading the former group offsets' }),
    });
    carryOver(topic, groupId)
      .finally(carrying)
      .then(() => (stopped || followed.get(tenant) !== processor ? undefined : processor.start()))
      .then(
        () => log.info({ tenant }, 'following account events'),
        async (err: unknown) => {
          if (stopped || followed.get(tenant) !== processor) return;
          // A processor that gave up restarting stays registered: liveness fails, as for any consumer.
          if (!processor.health().live) return;
          // It never joined, or the offsets could not be carried over (broker or ACL trouble at
          // start): a new one, after a growing wait.
          await processor.stop().catch(() => {});
          const delayMs = Math.min(START_RETRY.maxMs, START_RETRY.initialMs * 2 ** failures);
          log.error({ tenant, err: (err as Error).message, delayMs }, 'account event consumer did not start; retrying');
          const timer = setTimeout(() => {
            retryTimers.delete(timer);
            if (!stopped && followed.get(tenant) === processor) start(tenant, failures + 1);
          }, delayMs);
          retryTimers.add(timer);
        },
      );
  };

  return {
    follow(tenant) {
      if (stopped || followed.has(tenant)) return;
      start(tenant, 0);
    },
    async stop() {
      stopped = true;
      for (const t of retryTimers) clearTimeout(t);
      retryTimers.clear();
      const all = [...followed.values()];
      followed.clear();
      await Promise.all(all.map((p) => p.stop().catch((err: unknown) => log.warn({ err }, 'account consumer stop'))));
    },
  };
}
