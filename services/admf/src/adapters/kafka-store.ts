// admf's state on Kafka. Every change — tenant, LEMF, warrant and its audit record — is written
// in ONE Kafka transaction (li._system.tenants, li.<t>.lemfs, li.<t>.warrants, li.<t>.audit);
// the PublishingWarrantStore applies it in memory only after the commit. At start the state is
// read back from those topics. One instance writes at a time: it holds the deployment's
// transactional id (adapters/writer-role.ts), and a holder that was replaced writes nothing.
import {
  type Bus,
  type Codec,
  isFencedError,
  readTopic,
  SYSTEM_TOPICS,
  type TransactionalProducer,
  topicName,
} from '@li/bus';
import type { AuditRecord, LemfDestination, Tenant, Warrant } from '@li/schemas';
import { type StoreChanges, StoreNotWritable } from '../domain/model.ts';
import type { StoreRecord } from './publishing-store.ts';

type SchemaName = 'Tenant' | 'LemfDestination' | 'Warrant' | 'AuditRecord';

const SCHEMA_OF: Record<StoreRecord['stream'], SchemaName> = {
  tenants: 'Tenant',
  lemfs: 'LemfDestination',
  warrants: 'Warrant',
  audit: 'AuditRecord',
};

const TENANT_STREAMS = ['warrants', 'lemfs', 'audit', 'events', 'dlq'] as const;

/** Writes each change set in one transaction, under admf's transactional id (while it holds it). */
export class KafkaPublisher {
  /** The producer of the current term as the writer; none while standing by. */
  producer: TransactionalProducer | undefined;
  /** Told when the producer was fenced: another instance writes now. */
  onFenced: () => void = () => {};
  private readonly codecs = new Map<string, Promise<Codec<unknown>>>();
  private readonly knownTenants = new Set<string>();

  private readonly bus: Bus;

  constructor(bus: Bus) {
    this.bus = bus;
  }

  private codec(topic: string, name: SchemaName): Promise<Codec<unknown>> {
    let c = this.codecs.get(topic);
    if (!c) {
      c = this.bus.codec(topic, name);
      this.codecs.set(topic, c);
    }
    return c;
  }

  publish(records: StoreRecord[]): Promise<void> {
    return this.publishNow(records);
  }

  private async publishNow(records: StoreRecord[]): Promise<void> {
    const producer = this.producer;
    if (!producer?.usable())
      throw new StoreNotWritable('this admf instance is standing by: another instance is the writer');
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
      const value = r.value === null ? null : await (await this.codec(topic, SCHEMA_OF[r.stream])).encode(r.value);
      messages.push({ topic, key: r.key, value });
    }
    // The producer runs one transaction at a time, in call order.
    try {
      await producer.send(messages);
    } catch (err) {
      if (!isFencedError(err) && producer.usable()) throw err;
      // Fenced (or unusable): this instance may have lost the writer role; it must not go on
      // with state that another writer may have advanced.
      if (this.producer === producer) this.onFenced();
      throw new StoreNotWritable(
        isFencedError(err)
          ? 'this admf instance was fenced: another instance took over as the writer; nothing was written'
          : // A commit without an answer (the broker died after it got EndTxn) may have happened.
            'the writer lost its Kafka transaction; the change may have been written (a retried create answers 409)',
      );
    }
  }

  markKnown(tenant: string): void {
    this.knownTenants.add(tenant);
  }
}

async function readAll<T>(bus: Bus, topic: string, name: SchemaName) {
  const codec = await bus.codec<T>(topic, name);
  const out: { key: string | null; value: T | null }[] = [];
  for (const r of await readTopic(bus, topic, { timeoutMs: 60_000 })) {
    out.push({ key: r.key, value: r.value === null ? null : await codec.decode(r.value) });
  }
  return out;
}

function lastPerKey<T>(records: { key: string | null; value: T | null }[]): T[] {
  const m = new Map<string, T | null>();
  for (const r of records) if (r.key !== null) m.set(r.key, r.value);
  return [...m.values()].filter((v): v is T => v !== null);
}

/**
 * The state from the topics: the tenant registry, then each served tenant's LEMFs, warrants and
 * audit (the other tenants' topics are not read).
 */
export async function readState(
  bus: Bus,
  publisher: KafkaPublisher,
  servesTenant: (tenant: string) => boolean,
): Promise<Required<Pick<StoreChanges, 'tenants' | 'lemfs' | 'warrants' | 'audit'>>> {
  const tenants = lastPerKey(await readAll<Tenant>(bus, SYSTEM_TOPICS.tenants, 'Tenant')).filter((t) =>
    servesTenant(t.id),
  );
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
  return { tenants, lemfs, warrants, audit };
}
