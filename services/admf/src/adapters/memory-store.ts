// In-memory WarrantStore for tests and local runs. The production store (PublishingWarrantStore)
// writes the same changes in one Kafka transaction first and serves reads from the state it loaded.
import { warrantKey } from '@li/identifiers';
import type { LemfDestination, Warrant } from '@li/schemas';
import type { AuditRecord, StoreChanges, Tenant, WarrantStore } from '../domain/model.ts';

const clone = <T>(v: T): T => structuredClone(v);

export class InMemoryWarrantStore implements WarrantStore {
  readonly tenants = new Map<string, Tenant>();
  readonly lemfs = new Map<string, Map<string, LemfDestination>>();
  readonly warrants = new Map<string, Map<string, Warrant>>();
  /** Exposed so tests can tamper with the audit trail the way an attacker with disk access would. */
  readonly audit = new Map<string, AuditRecord[]>();
  commits = 0;
  /** Makes the next commit fail, as a broker outage would. */
  failNextCommit = false;

  private sub<V>(m: Map<string, Map<string, V>>, tenant: string): Map<string, V> {
    let s = m.get(tenant);
    if (!s) {
      s = new Map();
      m.set(tenant, s);
    }
    return s;
  }

  async getTenant(id: string) {
    return clone(this.tenants.get(id));
  }
  async listTenants() {
    return [...this.tenants.values()].map(clone);
  }
  async getLemf(tenant: string, id: string) {
    return clone(this.lemfs.get(tenant)?.get(id));
  }
  async listLemfs(tenant: string) {
    return [...(this.lemfs.get(tenant)?.values() ?? [])].map(clone);
  }
  async getWarrant(tenant: string, key: string) {
    return clone(this.warrants.get(tenant)?.get(key));
  }
  async listWarrants(tenant: string) {
    return [...(this.warrants.get(tenant)?.values() ?? [])].map(clone);
  }
  async listAudit(tenant: string) {
    return (this.audit.get(tenant) ?? []).map(clone);
  }
  async auditHead(tenant: string) {
    const last = this.audit.get(tenant)?.at(-1);
    return last ? { seq: last.seq, hash: last.hash } : null;
  }

  async commit(changes: StoreChanges): Promise<void> {
    if (this.failNextCommit) {
      this.failNextCommit = false;
      throw new Error('store unavailable');
    }
    // All or nothing: everything is copied before anything is applied.
    const c = clone(changes);
    this.commits += 1;
    for (const t of c.tenants ?? []) this.tenants.set(t.id, t);
    for (const l of c.lemfs ?? []) this.sub(this.lemfs, l.tenant).set(l.id, l);
    for (const r of c.lemfRemovals ?? []) this.lemfs.get(r.tenant)?.delete(r.id);
    for (const w of c.warrants ?? []) this.sub(this.warrants, w.tenant).set(warrantKey(w), w);
    for (const a of c.audit ?? []) {
      let list = this.audit.get(a.tenant);
      if (!list) {
        list = [];
        this.audit.set(a.tenant, list);
      }
      list.push(a);
    }
  }
}
