// The admf service on Kafka. Every change — tenant, LEMF, warrant and its audit record —
// is written in ONE Kafka transaction (li._system.tenants, li.<t>.lemfs, li.<t>.warrants,
// li.<t>.audit) and applied in memory only after the commit. At start the state is read back
// from those topics. admf is the single writer of warrants: run one active instance.
import { readFileSync } from 'node:fs';
import { loadTokenFile } from '@li/auth';
import {
  type Bus,
  type Codec,
  dlqCounter,
  dlqRecord,
  EXACTLY_ONCE_PRODUCER,
  readTopic,
  SYSTEM_TOPICS,
  topicName,
} from '@li/bus';
import { ConfigError } from '@li/config';
import { CommonConfig, type ServiceDefinition } from '@li/runtime';
import type { AuditRecord, LemfDestination, NormalizedEvent, Tenant, Warrant } from '@li/schemas';
import type { Producer } from 'kafkajs';
import Type from 'typebox';
import { loadTariffs } from './adapters/config-files.ts';
import { PublishingWarrantStore, type StoreRecord } from './adapters/publishing-store.ts';
import { buildApp } from './app.ts';

export const Config = Type.Object({
  ...CommonConfig.properties,
  metricsPort: Type.Integer({ minimum: 0, maximum: 65535, default: 9460 }),
  http: Type.Object(
    {
      host: Type.String({ default: '0.0.0.0' }),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
      tlsCertFile: Type.String({ default: '', description: 'PEM certificate chain; with tlsKeyFile, serve HTTPS' }),
      tlsKeyFile: Type.String({ default: '', description: 'PEM private key (a mounted secret); empty: plain HTTP' }),
    },
    { default: {} },
  ),
  tokensFile: Type.String({
    minLength: 1,
    description: 'YAML/JSON file: token → {subject, tenant, role} (a mounted secret)',
  }),
  tariffsFile: Type.String({ default: '', description: 'price list; empty: the shipped config/tariffs.json' }),
  /** The entry names of cc-delivery's pipeCommands allow-list: a PIPE LEMF must name one. */
  pipeCommands: Type.Array(Type.String({ minLength: 1 }), {
    default: [],
    description: "entry names of cc-delivery's PIPE allow-list (comma-separated); none: PIPE LEMFs are refused",
  }),
  /**
   * Consumer group of the account-event follower: one per admf deployment. Two deployments in one
   * group would be handed each other's partitions, which they never read (li.admf.<name> for more).
   */
  eventsGroupId: Type.String({ pattern: '^li\\.admf(\\.[a-z0-9.+-]+)?$', default: 'li.admf' }),
});

// Account events that can never be applied: they go to li.<t>.dlq with their code.
const DEAD_LETTERED: ReadonlySet<string> = new Set(['ADM_ERR_TENANT_MISMATCH', 'ADM_ERR_VALIDATION']);

const TENANT_STREAMS = ['warrants', 'lemfs', 'audit', 'events', 'dlq'] as const;

class KafkaPublisher {
  private producer: Producer | undefined;
  private readonly codecs = new Map<string, Promise<Codec<unknown>>>();
  private readonly knownTenants = new Set<string>();

  private readonly bus: Bus;
  private readonly transactionalId: string;

  constructor(bus: Bus, transactionalId: string) {
    this.bus = bus;
    this.transactionalId = transactionalId;
  }

  private codec(
    topic: string,
    name: 'Tenant' | 'LemfDestination' | 'Warrant' | 'AuditRecord',
  ): Promise<Codec<unknown>> {
    let c = this.codecs.get(topic);
    if (!c) {
      c = this.bus.codec(topic, name);
      this.codecs.set(topic, c);
    }
    return c;
  }

  async publish(records: StoreRecord[]): Promise<void> {
    if (records.length === 0) return;
    // A new tenant's topics exist before the transaction that writes into them.
    for (const r of records) {
      if (!this.knownTenants.has(r.tenant)) {
        await this.bus.ensureTopics(r.tenant, TENANT_STREAMS);
        this.knownTenants.add(r.tenant);
      }
    }
    const messages = [];
    for (const r of records) {
      const topic = r.stream === 'tenants' ? SYSTEM_TOPICS.tenants : topicName(r.tenant, r.stream);
      const name = { tenants: 'Tenant', lemfs: 'LemfDestination', warrants: 'Warrant', audit: 'AuditRecord' }[
        r.stream
      ] as 'Tenant' | 'LemfDestination' | 'Warrant' | 'AuditRecord';
      const value = r.value === null ? null : await (await this.codec(topic, name)).encode(r.value);
      messages.push({ topic, key: r.key, value });
    }
    if (!this.producer) {
      this.producer = this.bus.kafka.producer({ ...EXACTLY_ONCE_PRODUCER, transactionalId: this.transactionalId });
      await this.producer.connect();
    }
    const txn = await this.producer.transaction();
    try {
      const byTopic = new Map<string, { key: string; value: Buffer | null }[]>();
      for (const m of messages) byTopic.set(m.topic, [...(byTopic.get(m.topic) ?? []), { key: m.key, value: m.value }]);
      await txn.sendBatch({
        topicMessages: [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs })),
        acks: -1,
      });
      await txn.commit();
    } catch (err) {
      await txn.abort().catch(() => {});
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.producer?.disconnect();
  }

  markKnown(tenant: string): void {
    this.knownTenants.add(tenant);
  }
}

async function readAll<T>(bus: Bus, topic: string, name: 'Tenant' | 'LemfDestination' | 'Warrant' | 'AuditRecord') {
  const codec = await bus.codec<T>(topic, name);
  const out: { key: string | null; value: T | null }[] = [];
  for (const r of await readTopic(bus.kafka, topic, { timeoutMs: 60_000 })) {
    out.push({ key: r.key, value: r.value === null ? null : await codec.decode(r.value) });
  }
  return out;
}

function lastPerKey<T>(records: { key: string | null; value: T | null }[]): T[] {
  const m = new Map<string, T | null>();
  for (const r of records) if (r.key !== null) m.set(r.key, r.value);
  return [...m.values()].filter((v): v is T => v !== null);
}

/** Both files or neither: one without the other is a configuration error, not plain HTTP. */
export function tlsOf(http: { tlsCertFile: string; tlsKeyFile: string }): { key: Buffer; cert: Buffer } | undefined {
  if (!http.tlsCertFile && !http.tlsKeyFile) return undefined;
  if (!http.tlsCertFile || !http.tlsKeyFile) {
    throw new ConfigError([
      {
        key: http.tlsCertFile ? 'http.tlsKeyFile' : 'http.tlsCertFile',
        env: http.tlsCertFile ? 'LI_HTTP__TLS_KEY_FILE' : 'LI_HTTP__TLS_CERT_FILE',
        expected: 'set together with the other of http.tlsCertFile and http.tlsKeyFile',
      },
    ]);
  }
  return { key: readFileSync(http.tlsKeyFile), cert: readFileSync(http.tlsCertFile) };
}

export const admfService: ServiceDefinition<typeof Config> = {
  name: 'admf',
  config: Config,
  async start({ config, log, bus, metrics, readiness }) {
    const authenticator = loadTokenFile(config.tokensFile);
    const tls = tlsOf(config.http);
    const tariffs = config.tariffsFile ? await loadTariffs(config.tariffsFile) : undefined;
    if (tariffs && !tariffs.ok) throw new Error(`tariffs file: ${tariffs.error.message}`);

    await bus.ensureSystemTopics();
    const publisher = new KafkaPublisher(bus, `li.admf.${config.instanceId}`);
    const store = new PublishingWarrantStore((records) => publisher.publish(records));

    // State from the topics: the tenant registry, then each tenant's LEMFs, warrants and audit.
    const tenants = lastPerKey(await readAll<Tenant>(bus, SYSTEM_TOPICS.tenants, 'Tenant'));
    const lemfs: LemfDestination[] = [];
    const warrants: Warrant[] = [];
    const audit: AuditRecord[] = [];
    for (const t of tenants) {
      await bus.ensureTopics(t.id, TENANT_STREAMS);
      publisher.markKnown(t.id);
      lemfs.push(...lastPerKey(await readAll<LemfDestination>(bus, topicName(t.id, 'lemfs'), 'LemfDestination')));
      warrants.push(...lastPerKey(await readAll<Warrant>(bus, topicName(t.id, 'warrants'), 'Warrant')));
      const trail = await readAll<AuditRecord>(bus, topicName(t.id, 'audit'), 'AuditRecord');
      audit.push(...trail.flatMap((r) => (r.value ? [r.value] : [])).sort((a, b) => a.seq - b.seq));
    }
    await store.load({ tenants, lemfs, warrants, audit });
    log.info({ count: warrants.length, records: audit.length }, 'admf state loaded');

    const app = await buildApp({
      store,
      clock: { nowMicros: () => Date.now() * 1000 },
      authenticator,
      log,
      pipeCommands: config.pipeCommands,
      ...(tls ? { tls } : {}),
      ...(tariffs?.ok ? { tariffs: tariffs.value } : {}),
    });
    await app.http.listen({ host: config.http.host, port: config.http.port });

    // Mail-account renames and removals (seed 000) arrive as ACCOUNT events from ingest.
    const consumer = bus.kafka.consumer({
      groupId: config.eventsGroupId,
      allowAutoTopicCreation: false,
      sessionTimeout: 10_000,
    });
    const eventTopics = tenants.map((t) => topicName(t.id, 'events'));
    // The bus's own counter, so the dead-letter alert sees these records too.
    const deadLettered = dlqCounter(metrics);
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
          } catch {
            return; // reported to the DLQ by target-match
          }
          if (event.category !== 'ACCOUNT') return;
          const tenant = topic.split('.')[1] ?? '';
          const r = await app.service.handleAccountEvent(event, tenant);
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
    readiness('http', () => app.http.server.listening || 'not listening');
    return {
      ports: { http: (app.http.server.address() as { port: number }).port },
      async stop() {
        await consumer.disconnect();
        await app.close();
        await publisher.close();
      },
    };
  },
};
