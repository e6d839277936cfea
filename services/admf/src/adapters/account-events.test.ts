import type { InputRecord } from '@li/bus';
import type { NormalizedEvent } from '@li/schemas';
import { describe, expect, it } from 'vitest';
import { seeded, T0, warrantBody } from '../testing/harness.ts';
import { accountEventDecoder, applyAccountBatch } from './account-events.ts';

const PROV = 'acme-provisioner-token-01';
const W1 = '/tenants/acme/warrants/IT/ROMA2026A1';

const ev = (n: number, action: string, attributes: Record<string, string>, tenant = 'acme'): NormalizedEvent => ({
  eventId: `ev-${n}`,
  tenant,
  category: 'ACCOUNT',
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

// The batch as the processor hands it: the value is the event, JSON here instead of Avro.
const batch = (events: NormalizedEvent[]): InputRecord<Buffer | null>[] =>
  events.map((e, i) => ({
    topic: 'li.acme.events',
    partition: 0,
    offset: String(i),
    key: 'acct',
    value: Buffer.from(JSON.stringify(e)),
    headers: {},
    timestamp: '0',
  }));
const decode = async (b: Buffer | null) => JSON.parse(b!.toString('utf8')) as NormalizedEvent;

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

const targetsOf = async (h: Awaited<ReturnType<typeof seeded>>) =>
  (await h.req(PROV, 'GET', W1)).json.targets.map((t: { value: string }) => t.value);
const audited = (h: Awaited<ReturnType<typeof seeded>>, action: string) =>
  h.mem.audit.get('acme')!.filter((a) => a.action === action).length;

describe('account event batches', () => {
  it('a store failure throws (batch retried); the retry writes each change once', async () => {
    const h = await withMailWarrant();
    // Rename jdoe→john, then back john→jdoe, then a rename the store refuses once.
    const records = batch([
      ev(0, 'account.renamed', { old: 'jdoe', new: 'john' }),
      ev(1, 'account.renamed', { old: 'john', new: 'jdoe' }),
      ev(2, 'account.renamed', { old: 'jdoe', new: 'jack' }),
    ]);
    const applied = new Set<string>();
    let calls = 0;
    const commit = h.mem.commit.bind(h.mem);
    h.mem.commit = async (changes) => {
      if (++calls === 3) throw new Error('store unavailable');
      return commit(changes);
    };
    await expect(applyAccountBatch(h.admf.useCases, decode, 'acme', records, applied)).rejects.toThrow(/ADM_ERR_STORE/);
    expect(await targetsOf(h)).toEqual(['jdoe']);
    expect([...applied]).toEqual(['0:0', '0:1']);
    // The same batch again: the first two are not re-applied (a second jdoe→john would be wrong).
    expect(await applyAccountBatch(h.admf.useCases, decode, 'acme', records, applied)).toEqual([]);
    expect(await targetsOf(h)).toEqual(['jack']);
    expect(audited(h, 'warrant.target.renamed')).toBe(3);
  });

  it('returns what can never apply as rejections with its code, and passes over the rest', async () => {
    const h = await withMailWarrant();
    const records = batch([
      ev(0, 'account.removed', { account: 'jdoe' }, 'beta'),
      ev(1, 'account.renamed', { old: 'jdoe' }),
      ev(2, 'account.removed', { account: 'nobody' }),
      { ...ev(3, 'x', {}), category: 'NEW_MAIL' },
      ev(4, 'account.renamed', { old: 'jdoe', new: 'john' }),
    ]);
    records.push({ ...records[0]!, offset: '5', value: Buffer.from('not an event') });
    const rejected = await applyAccountBatch(h.admf.useCases, decode, 'acme', records, new Set());
    expect(rejected.map((r) => [r.record.offset, r.code])).toEqual([
      ['0', 'ADM_ERR_TENANT_MISMATCH'],
      ['1', 'ADM_ERR_VALIDATION'],
    ]);
    expect(await targetsOf(h)).toEqual(['john']);
  });
});

describe('accountEventDecoder', () => {
  it('decodes the whole event only for ACCOUNT events, and passes a decoding failure on', async () => {
    const full: string[] = [];
    const decoder = accountEventDecoder(
      async (b) => {
        if (b === null) throw new Error('no value');
        return { category: (JSON.parse(b.toString('utf8')) as NormalizedEvent).category };
      },
      async (b) => {
        const e = await decode(b);
        full.push(e.eventId);
        return e;
      },
    );
    const [account, mail] = batch([
      ev(0, 'account.removed', { account: 'jdoe' }),
      { ...ev(1, 'x', {}), category: 'NEW_MAIL' },
    ]);
    expect((await decoder(account!.value))?.eventId).toBe('ev-0');
    expect(await decoder(mail!.value)).toBeNull();
    expect(full).toEqual(['ev-0']);
    await expect(decoder(null)).rejects.toThrow('no value');
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
