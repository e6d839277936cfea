import { sampleLemf, sampleWarrant } from '@li/schemas/testing';
import { describe, expect, it } from 'vitest';
import { chainAudit } from '../domain/audit.ts';
import type { StoreRecord } from './publishing-store.ts';
import { PublishingWarrantStore, recordsOf } from './publishing-store.ts';

describe('PublishingWarrantStore', () => {
  it('maps a change set to keyed records (warrants keyed <country>:<LIID>, LEMF removal = tombstone)', () => {
    const audit = chainAudit('acme', null, [
      {
        atMicros: 1,
        actor: 'a',
        role: 'provisioner',
        action: 'x',
        objectType: 'WARRANT',
        objectId: 'IT:LIID0001',
        before: null,
        after: {},
      },
    ]);
    const recs = recordsOf({ warrants: [sampleWarrant()], lemfRemovals: [{ tenant: 'acme', id: 'old' }], audit });
    expect(recs.map((r) => [r.stream, r.tenant, r.key, r.value === null])).toEqual([
      ['lemfs', 'acme', 'old', true],
      ['warrants', 'acme', 'IT:LIID0001', false],
      ['audit', 'acme', '1', false],
    ]);
  });

  it('publishes before applying; a failed publish changes nothing', async () => {
    const sent: StoreRecord[][] = [];
    let fail = false;
    const store = new PublishingWarrantStore(async (records) => {
      if (fail) throw new Error('transaction aborted');
      sent.push(records);
    });
    await store.commit({ lemfs: [sampleLemf()] });
    expect(sent).toHaveLength(1);
    expect(await store.getLemf('acme', 'lemf-rome')).toBeDefined();
    fail = true;
    await expect(store.commit({ warrants: [sampleWarrant()] })).rejects.toThrow('aborted');
    expect(await store.getWarrant('acme', 'IT:LIID0001')).toBeUndefined();
    await store.load({ warrants: [sampleWarrant()] });
    expect(await store.getWarrant('acme', 'IT:LIID0001')).toBeDefined();
    expect(sent).toHaveLength(1);
  });
});
