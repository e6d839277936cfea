// admf's use cases: checks who may do what, runs the domain rules, and commits the new
// records together with their audit entries through the WarrantStore port. One change per
// tenant at a time, so the audit chain and LIID uniqueness hold under concurrent requests.
import type { Clock } from '@li/core';
import { warrantKey } from '@li/identifiers';
import type { LemfDestination, NormalizedEvent, Warrant } from '@li/schemas';
import type { AdmError, Result } from '../errors.ts';
import { errResult, okResult } from '../errors.ts';
import { decide, MAY } from './access.ts';
import { checkEventTenant, followAccountChange, readAccountEvent } from './accounts.ts';
import type { AuditDraft, ChainVerdict } from './audit.ts';
import { chainAudit, verifyAuditChain } from './audit.ts';
import type { Invoice, TariffTable } from './billing.ts';
import { BILLING_ORDER_ACTION, invoice, isDate, parseBillingOrder } from './billing.ts';
import type { LemfInput, LemfPolicy } from './lemf.ts';
import { buildLemf } from './lemf.ts';
import type { LifecycleAction } from './lifecycle.ts';
import { applyLifecycle, dueTransitions, nextTransitionAt } from './lifecycle.ts';
import type { Actor, AuditRecord, Caller, Role, StoreChanges, Tenant, WarrantStore } from './model.ts';
import { StoreNotWritable } from './model.ts';
import type { TenantInput, TenantPatch } from './tenant.ts';
import { buildTenant, updateTenant } from './tenant.ts';
import { planTransfer, TRANSFER_IN_ACTION, TRANSFER_OUT_ACTION } from './transfer.ts';
import type { WarrantCreateInput, WarrantFields } from './warrant.ts';
import { createWarrant, modifyWarrant, parseTimeMicros, recordTechnicalData } from './warrant.ts';

/** One audited version of a warrant: the record's metadata and the warrant after it (null: removed). */
export interface WarrantVersion {
  seq: number;
  atMicros: number;
  actor: string;
  action: string;
  reason: string | null;
  after: Warrant | null;
}

const SCHEDULER: Actor = { subject: 'system:scheduler', role: 'system' };
const ACCOUNT_EVENTS: Actor = { subject: 'system:account-events', role: 'system' };

const notFound = <T>(what: string) => errResult<T>('ADM_ERR_NOT_FOUND', `${what} not found`);

export class UseCases {
  private readonly store: WarrantStore;
  private readonly clock: Clock;
  private readonly tariffs: TariffTable;
  private readonly onCommitFailed: (tenant: string, err: Error) => void;
  private readonly lemfPolicy: LemfPolicy;
  private readonly servesTenant: (tenant: string) => boolean;
  private readonly locks = new Map<string, Promise<unknown>>();
  /** "<tenant>/<key>@<validFrom>" of window starts already in the audit. */
  private readonly startsRecorded = new Set<string>();
  private readonly startsLoaded = new Set<string>();
  /** Called after every committed warrant change (the scheduler re-arms on it). */
  onWarrantsChanged: () => void = () => {};
  /** Called once a new tenant is stored (admf starts following its account events). */
  onTenantCreated: (tenant: string) => void = () => {};

  constructor(deps: {
    store: WarrantStore;
    clock: Clock;
    tariffs: TariffTable;
    /** Told why a commit failed (the caller only sees ADM_ERR_STORE); the wiring logs it. */
    onCommitFailed: (tenant: string, err: Error) => void;
    lemfPolicy?: LemfPolicy;
    /** The tenants this deployment serves (config servedTenants); default every one. */
    servesTenant?: (tenant: string) => boolean;
  }) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.tariffs = deps.tariffs;
    this.onCommitFailed = deps.onCommitFailed;
    this.lemfPolicy = deps.lemfPolicy ?? { pipeCommands: [] };
    this.servesTenant = deps.servesTenant ?? (() => true);
  }

  private nowMicros(): number {
    return this.clock.now() * 1000;
  }

  // ---- access ----------------------------------------------------------------------------

  /** Another tenant's data is reported as not found, never as forbidden: its existence is not disclosed. */
  private async scope(caller: Caller, tenantId: string, roles: readonly Role[]): Promise<Result<Tenant>> {
    const d = decide(caller, tenantId, roles);
    if (d === 'not-found') return notFound('tenant');
    if (d === 'forbidden') {
      return errResult('ADM_ERR_FORBIDDEN', `role ${caller.role} may not do this (needs ${roles.join(' or ')})`);
    }
    const t = await this.store.getTenant(tenantId);
    return t ? okResult(t) : notFound('tenant');
  }

  private async locked<T>(tenant: string, fn: () => Promise<Result<T>>): Promise<Result<T>> {
    const prev = this.locks.get(tenant) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(tenant, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(tenant) === tail) this.locks.delete(tenant);
    }
  }

  private async commit(tenant: string, changes: StoreChanges, drafts: AuditDraft[]): Promise<Result<AuditRecord[]>> {
    try {
      const audit = chainAudit(tenant, await this.store.auditHead(tenant), drafts);
      await this.store.commit({ ...changes, audit });
      if (changes.warrants?.length) this.onWarrantsChanged();
      return okResult(audit);
    } catch (e) {
      this.onCommitFailed(tenant, e as Error);
      if (e instanceof StoreNotWritable)
        return errResult('ADM_ERR_STANDBY', `${e.message}; retry on the active instance`);
      return errResult('ADM_ERR_STORE', 'the change could not be stored; nothing was written, retry later');
    }
  }

  private draft(
    actor: Actor,
    action: string,
    type: AuditDraft['objectType'],
    id: string,
    before: unknown,
    after: unknown,
    reason?: string,
  ): AuditDraft {
    return {
      atMicros: this.nowMicros(),
      actor: actor.subject,
      role: actor.role,
      action,
      objectType: type,
      objectId: id,
      before,
      after,
      reason: reason ?? null,
    };
  }

  // ---- tenants ---------------------------------------------------------------------------

  async createTenant(caller: Caller, input: TenantInput): Promise<Result<Tenant>> {
    if (caller.role !== 'admin' || caller.tenant !== '*') {
      return errResult('ADM_ERR_FORBIDDEN', 'only an operator-wide admin creates tenants');
    }
    const built = buildTenant(input, this.nowMicros());
    if (!built.ok) return built;
    const t = built.value;
    // Another deployment's tenant: this one would neither load nor follow it after a restart.
    if (!this.servesTenant(t.id)) {
      return errResult(
        'ADM_ERR_VALIDATION',
        'this admf deployment does not serve that tenant (config servedTenants)',
        'id',
      );
    }
    return this.locked(t.id, async () => {
      if (await this.store.getTenant(t.id)) return errResult('ADM_ERR_CONFLICT', 'tenant already exists', 'id');
      const c = await this.commit(t.id, { tenants: [t] }, [
        this.draft(caller, 'tenant.create', 'TENANT', t.id, null, t),
      ]);
      if (!c.ok) return c;
      this.onTenantCreated(t.id);
      return okResult(t);
    });
  }

  /**
   * Changes a tenant's name or numbering plan (services read national numbers with it). Like
   * creation, for operator-wide admins only; another tenant's admin sees 404 as everywhere.
   */
  async updateTenant(caller: Caller, id: string, patch: TenantPatch): Promise<Result<Tenant>> {
    const s = await this.scope(caller, id, ['admin']);
    if (!s.ok) return s;
    if (caller.tenant !== '*') {
      return errResult('ADM_ERR_FORBIDDEN', "only an operator-wide admin changes a tenant's settings");
    }
    return this.locked(id, async () => {
      const before = await this.store.getTenant(id);
      if (!before) return notFound('tenant');
      const updated = updateTenant(before, patch);
      if (!updated.ok) return updated;
      const after = updated.value;
      if (after === null) return okResult(before); // nothing changes: no new version, no audit entry
      const c = await this.commit(id, { tenants: [after] }, [
        this.draft(caller, 'tenant.update', 'TENANT', id, before, after),
      ]);
      return c.ok ? okResult(after) : c;
    });
  }

  async listTenants(caller: Caller): Promise<Result<Tenant[]>> {
    const all = await this.store.listTenants();
    if (caller.tenant === '*' && caller.role === 'admin') return okResult(all);
    return okResult(all.filter((t) => t.id === caller.tenant));
  }

  async getTenant(caller: Caller, id: string): Promise<Result<Tenant>> {
    return this.scope(caller, id, MAY.readTenant);
  }

  // ---- LEMF destinations -----------------------------------------------------------------

  async putLemf(caller: Caller, tenantId: string, id: string, input: LemfInput): Promise<Result<LemfDestination>> {
    const s = await this.scope(caller, tenantId, MAY.writeLemfs);
    if (!s.ok) return s;
    return this.locked(tenantId, async () => {
      const before = await this.store.getLemf(tenantId, id);
      const built = buildLemf(tenantId, id, input, before?.version ?? 0, this.lemfPolicy);
      if (!built.ok) return built;
      const action = before ? 'lemf.update' : 'lemf.create';
      const c = await this.commit(tenantId, { lemfs: [built.value] }, [
        this.draft(caller, action, 'LEMF', id, before ?? null, built.value),
      ]);
      return c.ok ? okResult(built.value) : c;
    });
  }

  async listLemfs(caller: Caller, tenantId: string): Promise<Result<LemfDestination[]>> {
    const s = await this.scope(caller, tenantId, MAY.readLemfs);
    return s.ok ? okResult(await this.store.listLemfs(tenantId)) : s;
  }

  async getLemf(caller: Caller, tenantId: string, id: string): Promise<Result<LemfDestination>> {
    const s = await this.scope(caller, tenantId, MAY.readLemfs);
    if (!s.ok) return s;
    const l = await this.store.getLemf(tenantId, id);
    return l ? okResult(l) : notFound('LEMF destination');
  }

  async deleteLemf(caller: Caller, tenantId: string, id: string): Promise<Result<LemfDestination>> {
    const s = await this.scope(caller, tenantId, MAY.writeLemfs);
    if (!s.ok) return s;
    return this.locked(tenantId, async () => {
      const before = await this.store.getLemf(tenantId, id);
      if (!before) return notFound('LEMF destination');
      const users = (await this.store.listWarrants(tenantId)).filter(
        (w) => w.state !== 'DEACTIVATED' && w.lemfIds.includes(id),
      );
      if (users.length > 0) {
        return errResult('ADM_ERR_CONFLICT', `LEMF destination is used by ${users.length} warrant(s)`, 'lemfId');
      }
      const c = await this.commit(tenantId, { lemfRemovals: [{ tenant: tenantId, id }] }, [
        this.draft(caller, 'lemf.delete', 'LEMF', id, before, null),
      ]);
      return c.ok ? okResult(before) : c;
    });
  }

  // ---- warrants --------------------------------------------------------------------------

  private async context(tenant: Tenant) {
    const lemfs = await this.store.listLemfs(tenant.id);
    return { tenant, nowMicros: this.nowMicros(), lemfIds: new Set(lemfs.map((l) => l.id)) };
  }

  async createWarrant(caller: Caller, tenantId: string, input: WarrantCreateInput): Promise<Result<Warrant>> {
    const s = await this.scope(caller, tenantId, MAY.writeWarrants);
    if (!s.ok) return s;
    return this.locked(tenantId, async () => {
      const key =
        typeof input.liid === 'string' && typeof input.authorisationCountry === 'string' ? warrantKey(input) : '';
      const existing = key ? await this.store.getWarrant(tenantId, key) : undefined;
      const r = createWarrant(input, await this.context(s.value), existing);
      if (!r.ok) return r;
      const c = await this.commit(tenantId, { warrants: [r.value] }, [
        this.draft(caller, 'warrant.create', 'WARRANT', warrantKey(r.value), null, r.value),
      ]);
      return c.ok ? okResult(r.value) : c;
    });
  }

  async listWarrants(caller: Caller, tenantId: string): Promise<Result<Warrant[]>> {
    const s = await this.scope(caller, tenantId, MAY.readWarrants);
    if (!s.ok) return s;
    const list = await this.store.listWarrants(tenantId);
    return okResult(list.sort((a, b) => (warrantKey(a) < warrantKey(b) ? -1 : 1)));
  }

  async getWarrant(caller: Caller, tenantId: string, key: string): Promise<Result<Warrant>> {
    const s = await this.scope(caller, tenantId, MAY.readWarrants);
    if (!s.ok) return s;
    const w = await this.store.getWarrant(tenantId, key);
    return w ? okResult(w) : notFound('warrant');
  }

  /** The versions of one warrant as its audit records hold them, oldest first (the console's history). */
  async warrantHistory(caller: Caller, tenantId: string, key: string): Promise<Result<WarrantVersion[]>> {
    const s = await this.scope(caller, tenantId, MAY.readWarrantHistory);
    if (!s.ok) return s;
    const records = (await this.store.listAudit(tenantId)).filter(
      (r) => r.objectType === 'WARRANT' && r.objectId === key,
    );
    if (records.length === 0 && !(await this.store.getWarrant(tenantId, key))) return notFound('warrant');
    return okResult(
      records.map((r) => ({
        seq: r.seq,
        atMicros: r.atMicros,
        actor: r.actor,
        action: r.action,
        reason: r.reason ?? null,
        after: r.after === null ? null : (JSON.parse(r.after) as Warrant),
      })),
    );
  }

  async modifyWarrant(caller: Caller, tenantId: string, key: string, fields: WarrantFields): Promise<Result<Warrant>> {
    const s = await this.scope(caller, tenantId, MAY.writeWarrants);
    if (!s.ok) return s;
    return this.locked(tenantId, async () => {
      const current = await this.store.getWarrant(tenantId, key);
      if (!current) return notFound('warrant');
      const r = modifyWarrant(current, fields, await this.context(s.value));
      if (!r.ok) return r;
      const c = await this.commit(tenantId, { warrants: [r.value] }, [
        this.draft(caller, 'warrant.modify', 'WARRANT', key, current, r.value),
      ]);
      return c.ok ? okResult(r.value) : c;
    });
  }

  /** Seed 001 Art. 9 c.3-4: the technical data the operator starts transmission with. */
  async recordTechnicalData(caller: Caller, tenantId: string, key: string, input: unknown): Promise<Result<Warrant>> {
    const s = await this.scope(caller, tenantId, MAY.writeWarrants);
    if (!s.ok) return s;
    return this.locked(tenantId, async () => {
      const current = await this.store.getWarrant(tenantId, key);
      if (!current) return notFound('warrant');
      const r = recordTechnicalData(current, input, this.nowMicros());
      if (!r.ok) return r;
      const c = await this.commit(tenantId, { warrants: [r.value] }, [
        this.draft(caller, 'warrant.technical-data', 'WARRANT', key, current, r.value),
      ]);
      return c.ok ? okResult(r.value) : c;
    });
  }

  async lifecycle(
    caller: Caller,
    tenantId: string,
    key: string,
    action: LifecycleAction,
    body: { validUntil?: string; reason?: string },
  ): Promise<Result<Warrant>> {
    const s = await this.scope(caller, tenantId, MAY.writeWarrants);
    if (!s.ok) return s;
    let until: number | undefined;
    if (action === 'extend') {
      const t = parseTimeMicros(body.validUntil);
      if (t === null)
        return errResult('ADM_ERR_VALIDATION', 'validUntil must be an RFC 3339 date-time with offset', 'validUntil');
      until = t;
    }
    return this.locked(tenantId, async () => {
      const current = await this.store.getWarrant(tenantId, key);
      if (!current) return notFound('warrant');
      const r = applyLifecycle(current, action, this.nowMicros(), until);
      if (!r.ok) return r;
      const c = await this.commit(tenantId, { warrants: [r.value] }, [
        this.draft(caller, `warrant.${action}`, 'WARRANT', key, current, r.value, body.reason),
      ]);
      return c.ok ? okResult(r.value) : c;
    });
  }

  /**
   * Operator change (seed 001 Art. 9 c.5): moves the warrant to tenant toTenant under the same
   * LIID. Both tenants' changes and audit records go in one commit (one Kafka transaction), the
   * new tenant's warrant first; each audit record names the other tenant. Operator-wide admin only.
   */
  async transferWarrant(
    caller: Caller,
    tenantId: string,
    key: string,
    body: { toTenant?: unknown; lemfIds?: unknown },
  ): Promise<Result<{ from: Warrant; to: Warrant }>> {
    const s = await this.scope(caller, tenantId, MAY.transferWarrants);
    if (!s.ok) return s;
    if (caller.tenant !== '*') {
      return errResult('ADM_ERR_FORBIDDEN', 'only an operator-wide admin moves a warrant to another tenant');
    }
    const toTenant = body.toTenant;
    if (typeof toTenant !== 'string' || toTenant === '') {
      return errResult('ADM_ERR_VALIDATION', 'toTenant must name the tenant the number moved to', 'toTenant');
    }
    // Checked before locking: the same tenant twice would wait on its own lock.
    if (toTenant === tenantId) {
      return errResult('ADM_ERR_VALIDATION', 'toTenant must be another tenant than the warrant’s own', 'toTenant');
    }
    if (!(await this.store.getTenant(toTenant))) {
      return errResult('ADM_ERR_NOT_FOUND', 'toTenant is not a tenant', 'toTenant');
    }
    // Both tenants locked, always in the same order, so two opposite transfers cannot deadlock.
    const [first, second] = [tenantId, toTenant].sort() as [string, string];
    return this.locked(first, () =>
      this.locked(second, async () => {
        const current = await this.store.getWarrant(tenantId, key);
        if (!current) return notFound('warrant');
        const plan = planTransfer(
          current,
          {
            tenant: toTenant,
            lemfIds: new Set((await this.store.listLemfs(toTenant)).map((l) => l.id)),
            existing: await this.store.getWarrant(toTenant, key),
          },
          body.lemfIds,
          this.nowMicros(),
        );
        if (!plan.ok) return plan;
        const { incoming, outgoing } = plan.value;
        try {
          const audit = [
            ...chainAudit(toTenant, await this.store.auditHead(toTenant), [
              this.draft(
                caller,
                TRANSFER_IN_ACTION,
                'WARRANT',
                key,
                null,
                incoming,
                `transferred from tenant ${tenantId}`,
              ),
            ]),
            ...chainAudit(tenantId, await this.store.auditHead(tenantId), [
              this.draft(
                caller,
                TRANSFER_OUT_ACTION,
                'WARRANT',
                key,
                current,
                outgoing,
                `transferred to tenant ${toTenant}`,
              ),
            ]),
          ];
          await this.store.commit({ warrants: [incoming, outgoing], audit });
        } catch (e) {
          this.onCommitFailed(tenantId, e as Error);
          return errResult('ADM_ERR_STORE', 'the change could not be stored; nothing was written, retry later');
        }
        this.onWarrantsChanged();
        return okResult({ from: outgoing, to: incoming });
      }),
    );
  }

  // ---- audit -----------------------------------------------------------------------------

  async listAudit(caller: Caller, tenantId: string, afterSeq = 0, limit = 1000): Promise<Result<AuditRecord[]>> {
    const s = await this.scope(caller, tenantId, MAY.readAudit);
    if (!s.ok) return s;
    const all = await this.store.listAudit(tenantId);
    return okResult(all.filter((r) => r.seq > afterSeq).slice(0, limit));
  }

  async verifyAudit(
    caller: Caller,
    tenantId: string,
    expectedHead?: { seq: number; hash: string },
  ): Promise<Result<ChainVerdict>> {
    const s = await this.scope(caller, tenantId, MAY.readAudit);
    if (!s.ok) return s;
    return okResult(verifyAuditChain(tenantId, await this.store.listAudit(tenantId), expectedHead));
  }

  // ---- billing ---------------------------------------------------------------------------

  async billing(caller: Caller, tenantId: string, fromDate: string, toDate: string): Promise<Result<Invoice>> {
    const s = await this.scope(caller, tenantId, MAY.readBilling);
    if (!s.ok) return s;
    if (!isDate(fromDate)) return errResult('ADM_ERR_VALIDATION', 'from must be a date YYYY-MM-DD', 'from');
    if (!isDate(toDate)) return errResult('ADM_ERR_VALIDATION', 'to must be a date YYYY-MM-DD', 'to');
    if (toDate < fromDate) return errResult('ADM_ERR_VALIDATION', 'to must not be before from', 'to');
    const audit = await this.store.listAudit(tenantId);
    return okResult(invoice(tenantId, audit, this.tariffs, { fromDate, toDate }, this.nowMicros()));
  }

  /** Records a priced service requested on a warrant (line type, traffic documentation, CLI, location). */
  async orderBilling(caller: Caller, tenantId: string, key: string, input: unknown): Promise<Result<AuditRecord>> {
    const s = await this.scope(caller, tenantId, MAY.orderBilling);
    if (!s.ok) return s;
    const order = parseBillingOrder(input, this.tariffs);
    if (!order.ok) return order;
    return this.locked(tenantId, async () => {
      if (!(await this.store.getWarrant(tenantId, key))) return notFound('warrant');
      const c = await this.commit(tenantId, {}, [
        this.draft(caller, BILLING_ORDER_ACTION, 'WARRANT', key, null, order.value),
      ]);
      return c.ok ? okResult(c.value[0]!) : c;
    });
  }

  // ---- events without a human actor -------------------------------------------------------

  /** An ACCOUNT event from li.<topicTenant>.events (seed 000 rename/remove). */
  async handleAccountEvent(event: NormalizedEvent, topicTenant: string): Promise<Result<{ changed: number }>> {
    const owner = checkEventTenant(topicTenant, event);
    if (!owner.ok) return errResult('ADM_ERR_TENANT_MISMATCH', owner.reason, 'tenant');
    const read = readAccountEvent(event);
    if (!read.ok) return errResult('ADM_ERR_VALIDATION', read.reason, 'event');
    const tenant = await this.store.getTenant(event.tenant);
    if (!tenant) return notFound('tenant');
    return this.locked(tenant.id, async () => {
      const now = this.nowMicros();
      const ups = followAccountChange(await this.store.listWarrants(tenant.id), read.change, now);
      if (ups.length === 0) return okResult({ changed: 0 });
      const drafts = ups.map((u) =>
        this.draft(
          ACCOUNT_EVENTS,
          u.action,
          'WARRANT',
          warrantKey(u.after),
          u.before,
          u.after,
          `event ${event.eventId}; targets ${u.targetIds.join(',')}`,
        ),
      );
      const c = await this.commit(tenant.id, { warrants: ups.map((u) => u.after) }, drafts);
      return c.ok ? okResult({ changed: ups.length }) : c;
    });
  }

  private startId(w: Warrant): string {
    return `${w.tenant}/${warrantKey(w)}@${w.validFromMicros}`;
  }

  /** Records the scheduled starts and ends due now. Returns how many were recorded. */
  async runScheduled(): Promise<Result<number>> {
    let count = 0;
    let failure: AdmError | null = null;
    for (const tenant of await this.store.listTenants()) {
      const r = await this.locked(tenant.id, async () => {
        if (!this.startsLoaded.has(tenant.id)) {
          for (const a of await this.store.listAudit(tenant.id)) {
            if (a.action === 'warrant.start' && a.after)
              this.startsRecorded.add(this.startId(JSON.parse(a.after) as Warrant));
          }
          this.startsLoaded.add(tenant.id);
        }
        const now = this.nowMicros();
        // A write at or after the start already shows the warrant in effect.
        const due = dueTransitions(
          await this.store.listWarrants(tenant.id),
          now,
          (w) => w.updatedAtMicros >= w.validFromMicros || this.startsRecorded.has(this.startId(w)),
        );
        if (due.length === 0) return okResult(0);
        const drafts = due.map((d) =>
          this.draft(
            SCHEDULER,
            d.kind === 'start' ? 'warrant.start' : 'warrant.expire',
            'WARRANT',
            warrantKey(d.after),
            d.before,
            d.after,
            d.kind === 'start' ? 'validity window started' : 'validity window ended',
          ),
        );
        const warrants = due.map((d) => d.after);
        const c = await this.commit(tenant.id, { warrants }, drafts);
        if (!c.ok) return c;
        for (const d of due) if (d.kind === 'start') this.startsRecorded.add(this.startId(d.after));
        return okResult(due.length);
      });
      if (r.ok) count += r.value;
      else failure = r.error;
    }
    return failure ? { ok: false, error: failure } : okResult(count);
  }

  /** Earliest instant after now at which some warrant starts or ends by itself. */
  async nextTransition(): Promise<number | null> {
    const now = this.nowMicros();
    let next: number | null = null;
    for (const t of await this.store.listTenants()) {
      for (const w of await this.store.listWarrants(t.id)) {
        const n = nextTransitionAt(w, now);
        if (n !== null && (next === null || n < next)) next = n;
      }
    }
    return next;
  }
}
