// The consumer of li.<t>.events: decodes each batch, dead-letters events of another tenant to
// li.<t>.dlq and hands the admitted SIP events to the handler. Offsets are committed after the
// handler settles: at least once, and the engine ignores an event it has already applied.

import {
  type Bus,
  busConsumer,
  deploymentGroupId,
  dlqCounter,
  dlqRecord,
  type OutputRecord,
  tenantOfTopic,
  topicName,
} from '@li/bus';
import { unreachable } from '@li/core';
import type { Logger } from '@li/log';
import type { Registry } from 'prom-client';
import { admitEvent } from '../domain/admission.ts';
import { MCID_EVENT_FIELDS, type McidEvent } from '../domain/sip.ts';

interface EventsConsumerDeps {
  bus: Bus;
  tenants: readonly string[];
  log: Logger;
  metrics: Registry;
  handle(events: readonly McidEvent[]): Promise<void>;
}

export async function startEventsConsumer(deps: EventsConsumerDeps): Promise<{ stop(): Promise<void> }> {
  const { bus, log } = deps;
  // Only the fields the service reads are decoded: the rest of each event is skipped in the bytes.
  const codecs = await bus.codecsFor<McidEvent>(deps.tenants, 'events', 'NormalizedEvent', {
    readFields: MCID_EVENT_FIELDS,
  });
  // The bus's own counter, so the dead-letter alert sees these records too.
  const deadLettered = dlqCounter(deps.metrics);
  // The consumer group keeps its place across restarts.
  const consumer = busConsumer(bus, {
    groupId: deploymentGroupId('mcid-store', deps.tenants),
    allowAutoTopicCreation: false,
    sessionTimeout: 10_000,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [...codecs.keys()], fromBeginning: true });
  await consumer.run({
    autoCommit: true,
    eachBatch: async ({ batch }) => {
      const tenant = tenantOfTopic(batch.topic);
      const codec = codecs.get(batch.topic)!;
      const events: McidEvent[] = [];
      const deadLetters: OutputRecord[] = [];
      for (const m of batch.messages) {
        let event: McidEvent;
        try {
          event = await codec.decode(m.value);
        } catch {
          // target-match and the other consumers of li.<t>.events report undecodable records
          continue;
        }
        const admission = admitEvent(tenant, event);
        switch (admission.kind) {
          case 'skip':
            break;
          case 'apply':
            events.push(event);
            break;
          case 'dead-letter': {
            const source = {
              topic: batch.topic,
              partition: batch.partition,
              offset: m.offset,
              key: m.key === null ? null : m.key.toString('utf8'),
              value: m.value,
            };
            deadLetters.push(dlqRecord(topicName(tenant, 'dlq'), source, admission.code, admission.reason));
            break;
          }
          default:
            return unreachable(admission, 'admission outcome');
        }
      }
      // Written before the batch's offsets are committed: at least once, like the events.
      if (deadLetters.length > 0) {
        await bus.send(deadLetters);
        deadLettered.inc({ tenant, code: 'MCD_ERR_TENANT_MISMATCH' }, deadLetters.length);
        log.warn(
          { tenant, code: 'MCD_ERR_TENANT_MISMATCH', count: deadLetters.length },
          'events of another tenant dead-lettered',
        );
      }
      if (events.length > 0) await deps.handle(events);
    },
  });
  return { stop: () => consumer.disconnect() };
}
