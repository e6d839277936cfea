// The shape of the production store without Kafka in it: state is materialised in memory from
// the topics (load() while tailing them at start), and commit() first publishes the changes
// (service.ts passes a function that writes recordsOf(changes) in ONE Kafka transaction) and only
// then applies them locally, so a failed transaction leaves both Kafka and memory unchanged.
import { warrantKey } from '@li/identifiers';
import type { LemfDestination, Warrant } from '@li/schemas';
import type { AuditRecord, StoreChanges, Tenant } from '../domain/model.ts';
import { InMemoryWarrantStore } from './memory-store.ts';

/** One record to write. stream "tenants" is the system topic li._system.tenants; value null = tombstone. */
export type StoreRecord =
  | { stream: 'tenants'; tenant: string; key: string; value: Tenant }
  | { stream: 'lemfs'; tenant: string; key: string; value: LemfDestination | null }
  | { stream: 'warrants'; tenant: string; key: string; value: Warrant }
  | { stream: 'audit'; tenant: string; key: string; value: AuditRecord };

/** The records a change set becomes, in the order they should be produced. */
export function recordsOf(changes: StoreChanges): StoreRecord[] {
  const out: StoreRecord[] = [];
  for (const t of changes.tenants ?? []) out.push({ stream: 'tenants', tenant: t.id, key: t.id, value: t });
  for (const l of changes.lemfs ?? []) out.push({ stream: 'lemfs', tenant: l.tenant, key: l.id, value: l });
  for (const r of changes.lemfRemovals ?? []) out.push({ stream: 'lemfs', tenant: r.tenant, key: r.id, value: null });
  for (const w of changes.warrants ?? [])
    out.push({ stream: 'warrants', tenant: w.tenant, key: warrantKey(w), value: w });
  for (const a of changes.audit ?? []) out.push({ stream: 'audit', tenant: a.tenant, key: String(a.seq), value: a });
  return out;
}

export class PublishingWarrantStore extends InMemoryWarrantStore {
  private readonly publish: (records: StoreRecord[]) => Promise<void>;

  constructor(publish: (records: StoreRecord[]) => Promise<void>) {
    super();
    this.publish = publish;
  }

  /** Applies records read from the topics (start-up, or another writer) without publishing. */
  load(changes: StoreChanges): Promise<void> {
    return super.commit(changes);
  }

  override async commit(changes: StoreChanges): Promise<void> {
    await this.publish(recordsOf(changes));
    await super.commit(changes);
  }
}
