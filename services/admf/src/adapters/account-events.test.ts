import { describe, expect, it } from 'vitest';
import { seeded, silentLog, T0, warrantBody } from '../testing/harness.ts';
import { applyAccountEvent, retryDelayMs } from './account-events.ts';

const PROV = 'acme-provisioner-token-01';
const W1 = '/tenants/acme/warrants/IT/ROMA2026A1';

const ev = (action: string, attributes: Record<string, string>) => ({
  eventId: `ev-${action}`,
  tenant: 'acme',
  category: 'ACCOUNT' as const,
  action,
  occurredAtMicros: T0,
  source: 'mail',
  protocol: 'ADMIN',
  communicationId: 'c',
  parties: [],
  network: null,
  attributes,
  content: null,
  contentType: null,
});

async function withMailWarrant() {
  const h = await seeded();
  const body = warrantBody({
    interceptionKind: 'EMAIL',
    targets: [{ type: 'MAIL_ACCOUNT', value: 'jdoe' }],
    selection: { login: true, newMail: true },
  });
  const r = await h.req(PROV, 'POST', '/tenants/acme/warrants', body);
  if (r.status !== 201) throw new Error(JSON.stringify(r.json));
  return h;
}

/** A RetryControl that records its waits; `stopAfter` waits it reports the consumer stopping. */
function control(stopAfter = Number.POSITIVE_INFINITY) {
  const waits: number[] = [];
  let heartbeats = 0;
  return {
    waits,
    heartbeats: () => heartbeats,
    ctl: {
      log: silentLog,
      sleep: async (ms: number) => {
        waits.push(ms);
      },
      stopping: () => waits.length >= stopAfter,
      heartbeat: async () => {
        heartbeats++;
      },
    },
  };
}

const renamedAudit = (h: Awaited<ReturnType<typeof seeded>>) =>
  h.mem.audit.get('acme')!.filter((a) => a.action === 'warrant.target.renamed');

describe('account events follower: a failed update is retried, not passed over', () => {
  it('retries a store failure with growing waits until the rename is applied, audited once', async () => {
    const h = await withMailWarrant();
    let failures = 3;
    const commit = h.mem.commit.bind(h.mem);
    h.mem.commit = async (changes) => {
      if (failures-- > 0) throw new Error('store unavailable');
      return commit(changes);
    };
    const c = control();
    const r = await applyAccountEvent(
      h.admf.useCases,
      ev('account.renamed', { old: 'jdoe', new: 'john' }),
      'acme',
      c.ctl,
    );
    expect(r).toEqual({ ok: true, value: { changed: 1 } });
    expect(c.waits).toEqual([200, 400, 800]);
    expect(c.heartbeats()).toBe(3);
    expect((await h.req(PROV, 'GET', W1)).json.targets.map((t: { value: string }) => t.value)).toEqual(['john']);
    expect(renamedAudit(h)).toHaveLength(1);
  });

  it('gives up (null, nothing written) when the consumer stops while the store still fails', async () => {
    const h = await withMailWarrant();
    h.mem.commit = async () => {
      throw new Error('store unavailable');
    };
    const c = control(2);
    const r = await applyAccountEvent(
      h.admf.useCases,
      ev('account.renamed', { old: 'jdoe', new: 'john' }),
      'acme',
      c.ctl,
    );
    expect(r).toBeNull();
    expect(c.waits).toEqual([200, 400]);
    expect((await h.req(PROV, 'GET', W1)).json.targets.map((t: { value: string }) => t.value)).toEqual(['jdoe']);
    expect(renamedAudit(h)).toHaveLength(0);
  });

  it('does not retry an event that can never apply, nor one with nothing to change', async () => {
    const h = await withMailWarrant();
    const c = control();
    const bad = await applyAccountEvent(h.admf.useCases, ev('account.renamed', { old: 'jdoe' }), 'acme', c.ctl);
    expect(bad).toMatchObject({ ok: false, error: { code: 'ADM_ERR_VALIDATION' } });
    const foreign = await applyAccountEvent(h.admf.useCases, ev('account.removed', { account: 'jdoe' }), 'beta', c.ctl);
    expect(foreign).toMatchObject({ ok: false, error: { code: 'ADM_ERR_TENANT_MISMATCH' } });
    const none = await applyAccountEvent(h.admf.useCases, ev('account.removed', { account: 'nobody' }), 'acme', c.ctl);
    expect(none).toEqual({ ok: true, value: { changed: 0 } });
    expect(c.waits).toEqual([]);
  });

  it('waits double up to a cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 20].map(retryDelayMs)).toEqual([200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
  });
});

describe('tenants created after start', () => {
  it('the follower is told of each tenant created, once it is stored, and not of a refused one', async () => {
    const h = await seeded();
    const told: string[] = [];
    h.admf.useCases.onTenantCreated = (t) => told.push(t);
    const create = (id: string) =>
      h.req('operator-admin-token-0001', 'POST', '/tenants', { id, name: id, defaultCountryCode: '39' });
    expect((await create('gamma')).status).toBe(201);
    expect((await create('gamma')).status).toBe(409);
    h.mem.failNextCommit = true;
    expect((await create('delta')).status).toBe(503);
    expect(told).toEqual(['gamma']);
  });
});
