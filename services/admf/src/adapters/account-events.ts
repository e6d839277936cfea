// Mail-account renames and removals (seed 000) arrive as ACCOUNT events from ingest on
// li.<t>.events; admf follows them into the warrants. Events that can never be applied go to
// li.<t>.dlq with their code.
import { type Bus, dlqCounter, dlqRecord, tenantOfTopic, topicName } from '@li/bus';
import type { Logger } from '@li/log';
import type { NormalizedEvent } from '@li/schemas';
import type { UseCases } from '../domain/use-cases.ts';
import type { AdmErrorCode } from '../errors.ts';

const DEAD_LETTERED: ReadonlySet<AdmErrorCode> = new Set(['ADM_ERR_TENANT_MISMATCH', 'ADM_ERR_VALIDATION']);

/** Follows the events topics of `tenants` (those known at start); stop() disconnects. */
export async function followAccountEvents(opts: {
  bus: Bus;
  metrics: Parameters<typeof dlqCounter>[0];
  log: Logger;
  groupId: string;
  tenants: readonly string[];
  useCases: UseCases;
}): Promise<{ stop(): Promise<void> }> {
  const { bus, log, useCases } = opts;
  const consumer = bus.kafka.consumer({ groupId: opts.groupId, allowAutoTopicCreation: false, sessionTimeout: 10_000 });
  const eventTopics = opts.tenants.map((t) => topicName(t, 'events'));
  // The bus's own counter, so the dead-letter alert sees these records too.
  const deadLettered = dlqCounter(opts.metrics);
  if (eventTopics.length > 0) {
    const codecs = new Map(
      await Promise.all(
        eventTopics.map(async (t) => [t, await bus.codec<NormalizedEvent>(t, 'NormalizedEvent')] as const),
      ),
    );
    await consumer.connect();
    await consumer.subscribe({ topics: eventTopics, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        let event: NormalizedEvent;
        try {
          event = await codecs.get(topic)!.decode(message.value);
        } catch (err) {
          // The schema registry away: no fault of the record, which kafkajs hands over again.
          if ((err as { retriable?: unknown }).retriable === true) throw err;
          return; // reported to the DLQ by target-match
        }
        if (event.category !== 'ACCOUNT') return;
        const tenant = tenantOfTopic(topic);
        const r = await useCases.handleAccountEvent(event, tenant);
        if (r.ok || !DEAD_LETTERED.has(r.error.code)) return;
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
  }
  return { stop: () => consumer.disconnect() };
}
