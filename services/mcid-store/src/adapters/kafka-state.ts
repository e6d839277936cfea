// The MCID state in Kafka: each tenant's records in its compacted li.<t>.mcid changelog, the
// global administrative state in li._system.mcid (a `Changelog` of @li/bus per topic, one
// in-memory view over all of them). Restored at start-up; each commit is durable in Kafka
// (idempotent producer, acks=all) before it is applied in memory, so a restart loses no stored
// communication. The topic is this service's own changelog, so its values are the domain's
// JSON records rather than a cross-service Avro schema.
import { type Bus, Changelog, jsonChangelog, type OutputRecord, SYSTEM_TOPICS, topicName } from '@li/bus';
import { MemoryState } from '../domain/memory-state.ts';
import type { Change, Delivery, StateValue } from '../domain/model.ts';
import type { StateStore } from '../domain/ports.ts';
import { MCD } from '../errors.ts';

/**
 * What the topics hold: the state values, and delivery marks. A report is written before its
 * delivery (undelivered) and its delivery afterwards; the second write is the small mark under
 * `delivered/<tenant>/<reportId>` rather than the whole report again. Restore merges the two.
 */
export type StateRecord = StateValue | ({ type: 'delivered' } & Delivery);

const DELIVERED = 'delivered/';
const REPORT = 'report/';

const markKeyOf = (reportKey: string): string => DELIVERED + reportKey.slice(REPORT.length);

/** Which tenant a state key names: the second segment ('admin/tenant/<t>' the third). */
export function tenantOfKey(key: string): string {
  const a = key.indexOf('/');
  const b = key.startsWith('admin/') ? key.indexOf('/', a + 1) : a;
  if (b === -1) return '';
  const from = b + 1;
  const to = key.indexOf('/', from);
  return key.slice(from, to === -1 ? undefined : to);
}

/** tenantOfKey(key) === tenant, read in place (no string cut out of the key per record). */
export function keyOfTenant(key: string, tenant: string): boolean {
  if (tenant === '' || tenant.includes('/')) return false;
  const a = key.indexOf('/');
  const b = key.startsWith('admin/') ? key.indexOf('/', a + 1) : a;
  if (b === -1) return false;
  const end = b + 1 + tenant.length;
  return key.startsWith(tenant, b + 1) && (end === key.length || key.charCodeAt(end) === 47);
}

/** The state a changelog's live records stand for: each delivery mark folded into its report. */
export function stateOfRecords(live: ReadonlyMap<string, StateRecord>): Map<string, StateValue> {
  const state = new Map<string, StateValue>();
  const marks: [string, Delivery][] = [];
  for (const [key, v] of live) {
    if (v.type === 'delivered')
      marks.push([REPORT + key.slice(DELIVERED.length), { via: v.via, atMicros: v.atMicros }]);
    else state.set(key, v);
  }
  for (const [key, delivery] of marks) {
    const r = state.get(key);
    if (r?.type === 'report' && r.delivery === null) state.set(key, { ...r, delivery });
  }
  return state;
}

export class KafkaStateStore extends MemoryState implements StateStore {
  private readonly bus: Bus;
  private readonly system: Changelog<StateRecord>;
  /** Each served tenant's changelog. */
  private readonly tenants: ReadonlyMap<string, Changelog<StateRecord>>;

  constructor(bus: Bus, tenants: readonly string[]) {
    super();
    this.bus = bus;
    const codec = jsonChangelog<StateRecord>();
    this.system = new Changelog(SYSTEM_TOPICS.mcid, codec);
    this.tenants = new Map(tenants.map((t) => [t, new Changelog(topicName(t, 'mcid'), codec)]));
  }

  /** Which changelog a state key lives in: 'admin/global' is global, every other key names its tenant. */
  private changelogOf(key: string): Changelog<StateRecord> {
    if (key === 'admin/global') return this.system;
    for (const [tenant, changelog] of this.tenants) if (keyOfTenant(key, tenant)) return changelog;
    throw MCD.error('MCD_ERR_TENANT_NOT_SERVED');
  }

  /** Reads every state topic to its end (committed records); call before serving. */
  async restore(): Promise<number> {
    let n = 0;
    for (const changelog of [this.system, ...this.tenants.values()]) {
      const { live, records } = await changelog.read(this.bus);
      for (const [key, value] of stateOfRecords(live)) this.load(key, value);
      n += records;
    }
    return n;
  }

  async commit(changes: readonly Change[]): Promise<void> {
    if (changes.length === 0) return;
    const records: OutputRecord[] = [];
    for (const c of changes) {
      const changelog = this.changelogOf(c.key);
      const v = c.value;
      const stored = this.records.get(c.key);
      if (v?.type === 'report' && v.delivery !== null && stored?.type === 'report' && stored.report === v.report) {
        // The report's bytes are on the topic already: only its delivery is new.
        records.push(changelog.record({ key: markKeyOf(c.key), value: { type: 'delivered', ...v.delivery } }));
        continue;
      }
      records.push(changelog.record(c));
      if (v === null && stored?.type === 'report')
        records.push(changelog.record({ key: markKeyOf(c.key), value: null }));
    }
    await this.bus.send(records);
    this.applyChanges(changes);
  }
}
