// The MCID state in Kafka: each tenant's records in its compacted li.<t>.mcid topic, the
// global administrative state in li._system.mcid. Restored at start-up; each commit is
// durable in Kafka (idempotent producer, acks=all) before it is applied in memory, so a
// restart loses no stored communication. The topic is this service's own changelog, so its
// values are the domain's JSON records rather than a cross-service Avro schema.
import { type Bus, busRead, SYSTEM_TOPICS, topicName } from '@li/bus';
import { MemoryState } from '../domain/memory-state.ts';
import type { Change, StateValue } from '../domain/model.ts';
import type { StateStore } from '../domain/ports.ts';
import { MCD } from '../errors.ts';

/** Which tenant a state key names: the second segment ('admin/tenant/<t>' the third). */
function tenantOfKey(key: string): string {
  const a = key.indexOf('/');
  const b = key.startsWith('admin/') ? key.indexOf('/', a + 1) : a;
  if (b === -1) return '';
  const from = b + 1;
  const to = key.indexOf('/', from);
  return key.slice(from, to === -1 ? undefined : to);
}

export class KafkaStateStore extends MemoryState implements StateStore {
  private readonly bus: Bus;
  private readonly served: ReadonlySet<string>;
  /** Each served tenant's state topic, built once rather than per record. */
  private readonly topics: ReadonlyMap<string, string>;

  constructor(bus: Bus, tenants: readonly string[]) {
    super();
    this.bus = bus;
    this.served = new Set(tenants);
    this.topics = new Map(tenants.map((t) => [t, topicName(t, 'mcid')]));
  }

  /** Which topic a state key lives in: 'admin/global' is global, every other key names its tenant. */
  private topicOfKey(key: string): string {
    if (key === 'admin/global') return SYSTEM_TOPICS.mcid;
    const topic = this.topics.get(tenantOfKey(key));
    if (!topic) throw MCD.error('MCD_ERR_TENANT_NOT_SERVED');
    return topic;
  }

  /** Reads every state topic to its end; call before serving. */
  async restore(): Promise<number> {
    const topics = [SYSTEM_TOPICS.mcid, ...[...this.served].map((t) => topicName(t, 'mcid'))];
    let n = 0;
    for (const topic of topics) {
      for (const r of await busRead(this.bus, topic)) {
        if (!r.key) continue;
        this.applyChanges([
          { key: r.key, value: r.value ? (JSON.parse(r.value.toString('utf8')) as StateValue) : null },
        ]);
        n++;
      }
    }
    return n;
  }

  async commit(changes: readonly Change[]): Promise<void> {
    if (changes.length === 0) return;
    const records = changes.map((c) => ({
      topic: this.topicOfKey(c.key),
      key: c.key,
      value: c.value === null ? null : Buffer.from(JSON.stringify(c.value)),
      headers: { 'content-type': 'application/json' },
    }));
    await this.bus.send(records);
    this.applyChanges(changes);
  }
}
