// The mcid-store service on Kafka: restores its state from the compacted topics, handles the
// SIP events of li.<t>.events (at least once; the engine is idempotent for a replayed event),
// runs the timer that expires registrations and retries undelivered reports, and serves the
// REST API for subscriber data and the administrative states.

import { loadTokenFile } from '@li/auth';
import { deploymentGroupId, dlqCounter, dlqRecord, type OutputRecord, SYSTEM_TOPICS, topicName } from '@li/bus';
import { ConfigError } from '@li/config';
import { CommonConfig, type ServiceDefinition } from '@li/runtime';
import type { NormalizedEvent } from '@li/schemas';
import Type from 'typebox';
import { KafkaStateStore } from './adapters/kafka-state.ts';
import { domainConfigOf, sinkFromConfig } from './adapters/reporters.ts';
import { buildApp } from './app.ts';
import { ConfigSchema, parseConfig } from './config.ts';
import { checkEventTenant } from './domain/tenant.ts';
import { systemClock } from './ports.ts';
import { McidService } from './service.ts';

// The domain's sections (http, ssc, diameter, localStorage, …) each default to {} so that
// their own defaults apply; env names follow them: LI_DIAMETER__PORT, LI_LOCAL_STORAGE__DIRECTORY.
const sections = Object.fromEntries(
  Object.entries(ConfigSchema.properties).map(([k, v]) => {
    const props = (v as { properties?: Type.TProperties }).properties;
    // Rebuilt, not spread: a spread copy of a TypeBox schema is no longer one.
    return [k, props ? Type.Object(props, { default: {} }) : v];
  }),
) as typeof ConfigSchema.properties;

export const Config = Type.Object({
  ...CommonConfig.properties,
  ...sections,
  metricsPort: Type.Integer({ minimum: 0, maximum: 65535, default: 9466 }),
  tenants: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'tenant ids this deployment serves' }),
  tickSeconds: Type.Number({ exclusiveMinimum: 0, default: 2 }),
  tokensFile: Type.String({
    minLength: 1,
    description: 'YAML/JSON file: token → {subject, tenant, role} (a mounted secret; the same format as admf)',
  }),
});

function tenantOf(topic: string): string {
  return topic.split('.')[1] ?? '';
}

export const mcidStoreService: ServiceDefinition<typeof Config> = {
  name: 'mcid-store',
  config: Config,
  async start({ config, log, bus, metrics, readiness }) {
    const parsed = parseConfig(config);
    if (!parsed.ok) {
      throw new ConfigError([
        { key: parsed.field.replace(/^\//, '').replaceAll('/', '.'), env: '', expected: parsed.reason },
      ]);
    }
    const c = parsed.config;
    const authenticator = loadTokenFile(config.tokensFile);
    await bus.ensureSystemTopics([SYSTEM_TOPICS.mcid]);
    for (const t of config.tenants) await bus.ensureTopics(t, ['events', 'mcid', 'dlq']);
    const store = new KafkaStateStore(bus, config.tenants);
    const restored = await store.restore();
    log.info({ records: restored }, 'MCID state restored');

    const sink = sinkFromConfig(c, { registry: metrics, log });
    const service = new McidService({
      store,
      sink,
      clock: systemClock,
      log,
      registry: metrics,
      domain: domainConfigOf(c),
    });
    const app = buildApp({ store, clock: systemClock, authenticator, tenants: config.tenants, log });
    await app.listen({ host: c.http.host, port: c.http.port });

    const codecs = await bus.codecsFor<NormalizedEvent>(config.tenants, 'events', 'NormalizedEvent');
    // The bus's own counter, so the dead-letter alert sees these records too.
    const deadLettered = dlqCounter(metrics);
    // Only SIP signalling concerns MCID; the consumer group keeps its place across restarts.
    const consumer = bus.kafka.consumer({
      groupId: deploymentGroupId('mcid-store', config.tenants),
      allowAutoTopicCreation: false,
      sessionTimeout: 10_000,
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...codecs.keys()], fromBeginning: true });
    await consumer.run({
      autoCommit: true,
      // The offsets of a batch are committed after it was handled: at least once, and the
      // engine ignores an event it has already applied.
      eachBatch: async ({ batch }) => {
        const tenant = tenantOf(batch.topic);
        const events: NormalizedEvent[] = [];
        const deadLetters: OutputRecord[] = [];
        for (const m of batch.messages) {
          let event: NormalizedEvent;
          try {
            event = await codecs.get(batch.topic)!.decode(m.value);
          } catch {
            // target-match and the other consumers of li.<t>.events report undecodable records
            continue;
          }
          if (event.protocol !== 'SIP') continue;
          const owner = checkEventTenant(tenant, event);
          if (!owner.ok) {
            const source = {
              topic: batch.topic,
              partition: batch.partition,
              offset: m.offset,
              key: m.key === null ? null : m.key.toString('utf8'),
              value: m.value,
            };
            deadLetters.push(dlqRecord(topicName(tenant, 'dlq'), source, owner.code, owner.reason));
            continue;
          }
          events.push(event);
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
        if (events.length > 0) await service.handleBatch(events);
      },
    });
    const timer = setInterval(() => {
      service.tick().catch((err: unknown) => log.error({ err }, 'MCID timer failed'));
    }, config.tickSeconds * 1000);
    readiness('state', () => true);
    return {
      ports: { http: (app.server.address() as { port: number }).port },
      async stop() {
        clearInterval(timer);
        await consumer.disconnect();
        await app.close();
        await sink.close();
      },
    };
  },
};
