// Mail-account renames and removals (seed 000) arrive as ACCOUNT events from ingest on
// li.<t>.events; admf follows them into the warrants. Events that can never be applied go to
// li.<t>.dlq with their code; a failed update is retried before its offset is committed.
import { type Bus, type Codec, dlqCounter, dlqRecord, tenantOfTopic, topicName } from '@li/bus';
import type { Clock } from '@li/core';
import type { Logger } from '@li/log';
import type { NormalizedEvent } from '@li/schemas';
import type { Consumer } from 'kafkajs';
import { accountFailureDisposition } from '../domain/accounts.ts';
import type { UseCases } from '../domain/use-cases.ts';
import { errResult, type Result } from '../errors.ts';

const BACKOFF = { initialMs: 200, maxMs: 5_000 };

/** The wait before retry number `attempt` (0-based): doubling, capped. */
export const retryDelayMs = (attempt: number) => Math.min(BACKOFF.initialMs * 2 ** attempt, BACKOFF.maxMs);

interface RetryControl {
  log: Logger;
  /** Resolves after ms, or at once when the consumer is stopping. */
  sleep(ms: number): Promise<void>;
  /** True once the consumer is stopping: give up and leave the offset uncommitted. */
  stopping(): boolean;
  /** Keeps the consumer in its group while it waits. */
  heartbeat(): Promise<void>;
}

/**
 * Applies one account event, retrying a transient failure with backoff until it is applied or
 * the consumer stops (then null). Anything else it returns is final: applied, skipped or refused.
 */
export async function applyAccountEvent(
  useCases: Pick<UseCases, 'handleAccountEvent'>,
  event: NormalizedEvent,
  topicTenant: string,
  ctl: RetryControl,
): Promise<Result<{ changed: number }> | null> {
  for (let attempt = 0; ; attempt++) {
    let r: Result<{ changed: number }>;
    try {
      r = await useCases.handleAccountEvent(event, topicTenant);
    } catch (err) {
      // Reading the store threw: as transient as a failed commit.
      r = errResult('ADM_ERR_STORE', (err as Error).message);
    }
    if (r.ok || accountFailureDisposition(r.error.code) !== 'retry') return r;
    if (ctl.stopping()) return null;
    const ms = retryDelayMs(attempt);
    ctl.log.warn(
      { tenant: topicTenant, code: r.error.code, attempt: attempt + 1, delayMs: ms },
      'account event not applied; retrying',
    );
    await ctl.sleep(ms);
    if (ctl.stopping()) return null;
    await ctl.heartbeat();
  }
}

/** Thrown out of eachMessage so kafkajs does not commit the offset of an event left unapplied. */
class Unapplied extends Error {}

export interface AccountEventFollower {
  /** Follows these tenants' events topics too; a tenant already followed is ignored. */
  follow(tenants: readonly string[]): void;
  stop(): Promise<void>;
}

/**
 * Follows the events topics of the tenants it is told about: those known at start and each one
 * created later. kafkajs fixes a consumer's topics at subscribe (a RegExp is resolved then too),
 * so a new tenant restarts the consumer with the longer list; the group's committed offsets carry
 * over, and a new topic is read from its beginning.
 */
export function followAccountEvents(opts: {
  bus: Bus;
  metrics: Parameters<typeof dlqCounter>[0];
  log: Logger;
  clock: Clock;
  groupId: string;
  useCases: UseCases;
}): AccountEventFollower {
  const { bus, log, useCases, clock } = opts;
  // The bus's own counter, so the dead-letter alert sees these records too.
  const deadLettered = dlqCounter(opts.metrics);
  const topics = new Set<string>();
  const codecs = new Map<string, Promise<Codec<NormalizedEvent>>>();
  const codecOf = (topic: string) => {
    let c = codecs.get(topic);
    if (!c) {
      c = bus.codec<NormalizedEvent>(topic, 'NormalizedEvent');
      c.catch(() => codecs.delete(topic));
      codecs.set(topic, c);
    }
    return c;
  };
  let current: { consumer: Consumer; stop(): Promise<void> } | undefined;
  let stopped = false;
  // Restarts run one after another; the last one subscribes to every topic known by then.
  let chain: Promise<void> = Promise.resolve();
  let pending = false;
  let failures = 0;

  const start = async (): Promise<{ consumer: Consumer; stop(): Promise<void> }> => {
    let stopping = false;
    const wakers = new Set<() => void>();
    const ctlBase = {
      log,
      stopping: () => stopping || stopped,
      sleep: (ms: number) =>
        new Promise<void>((resolve) => {
          const done = () => {
            cancel();
            wakers.delete(done);
            resolve();
          };
          const cancel = clock.setTimeout(done, ms);
          wakers.add(done);
        }),
    };
    // Every codec before the first message: a registry outage fails the start, which is retried,
    // instead of passing events over.
    await Promise.all([...topics].map(codecOf));
    const consumer = bus.kafka.consumer({
      groupId: opts.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: 10_000,
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [...topics], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ topic, partition, message, heartbeat }) => {
          let event: NormalizedEvent;
          try {
            event = await (await codecOf(topic)).decode(message.value);
          } catch {
            return; // reported to the DLQ by target-match
          }
          if (event.category !== 'ACCOUNT') return;
          const tenant = tenantOfTopic(topic);
          const r = await applyAccountEvent(useCases, event, tenant, { ...ctlBase, heartbeat });
          if (r === null) throw new Unapplied('account follower stopping; the event is read again');
          if (r.ok || accountFailureDisposition(r.error.code) !== 'dead-letter') return;
          const source = {
            topic,
            partition,
            offset: message.offset,
            key: message.key === null ? null : message.key.toString('utf8'),
            value: message.value,
          };
          // Sent before kafkajs commits the message's offset: at least once.
          await bus.send([dlqRecord(topicName(tenant, 'dlq'), source, r.error.code, r.error.message)]);
          deadLettered.inc({ tenant, code: r.error.code });
          log.warn({ tenant, code: r.error.code, offset: message.offset }, 'account event dead-lettered');
        },
      });
    } catch (err) {
      await consumer.disconnect().catch(() => {});
      throw err;
    }
    return {
      consumer,
      async stop() {
        stopping = true;
        for (const wake of [...wakers]) wake();
        await consumer.disconnect();
      },
    };
  };

  const restart = async () => {
    pending = false;
    if (stopped) return;
    try {
      await current?.stop();
      current = undefined;
      current = await start();
      failures = 0;
    } catch (err) {
      // Without a consumer no account event is followed: try again until it works or admf stops.
      const ms = retryDelayMs(failures++);
      log.error({ err: (err as Error).message, delayMs: ms }, 'account event consumer did not start');
      clock.setTimeout(schedule, ms);
    }
  };

  function schedule() {
    if (pending || stopped) return;
    pending = true;
    chain = chain.then(restart, restart);
  }

  return {
    follow(tenants) {
      let added = false;
      for (const t of tenants) {
        const topic = topicName(t, 'events');
        if (topics.has(topic)) continue;
        topics.add(topic);
        added = true;
      }
      if (added) schedule();
    },
    async stop() {
      stopped = true;
      await chain.catch(() => {});
      await current?.stop();
      current = undefined;
    },
  };
}
