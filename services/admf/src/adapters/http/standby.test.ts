// A standby admf: reads answered, every write refused with 503 ADM_ERR_STANDBY and the reason,
// nothing committed; a store that may not write (a fenced writer) answers the same code.
import { describe, expect, it } from 'vitest';
import { StoreNotWritable } from '../../domain/model.ts';
import { seeded, warrantBody } from '../../testing/harness.ts';

const PROV = 'acme-provisioner-token-01';

describe('standby', () => {
  it('serves reads and refuses writes with the reason, committing nothing', async () => {
    let refusal: string | undefined;
    const h = await seeded({ refuseWrites: () => refusal });
    try {
      expect((await h.req(PROV, 'POST', '/tenants/acme/warrants', warrantBody())).status).toBe(201);
      refusal = 'admf standby: another instance is the writer';
      const commits = h.mem.commits;
      const res = await h.admf.http.inject({
        method: 'POST',
        url: '/tenants/acme/warrants/IT/ROMA2026A1/suspend',
        headers: { authorization: `Bearer ${PROV}` },
        payload: {},
      });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json()).toEqual({ error: { code: 'ADM_ERR_STANDBY', message: refusal } });
      expect(h.mem.commits).toBe(commits);
      const read = await h.req(PROV, 'GET', '/tenants/acme/warrants/IT/ROMA2026A1');
      expect([read.status, read.json.state]).toEqual([200, 'ACTIVE']);
      // An unauthenticated write is still a 401, not a hint about the instance's role.
      expect((await h.req(null, 'POST', '/tenants/acme/warrants', warrantBody())).status).toBe(401);
      refusal = undefined;
      expect((await h.req(PROV, 'POST', '/tenants/acme/warrants/IT/ROMA2026A1/suspend', {})).status).toBe(200);
    } finally {
      await h.admf.close();
    }
  });

  it('answers ADM_ERR_STANDBY when the store may not write (a fenced writer)', async () => {
    const h = await seeded();
    try {
      const commit = h.mem.commit.bind(h.mem);
      h.mem.commit = async () => {
        throw new StoreNotWritable('this admf instance was fenced: another instance took over as the writer');
      };
      const r = await h.req(PROV, 'POST', '/tenants/acme/warrants', warrantBody());
      expect(r.status).toBe(503);
      expect(r.json.error.code).toBe('ADM_ERR_STANDBY');
      expect(r.json.error.message).toMatch(/fenced.*retry on the active instance/);
      h.mem.commit = commit;
      expect((await h.req(PROV, 'POST', '/tenants/acme/warrants', warrantBody())).status).toBe(201);
    } finally {
      await h.admf.close();
    }
  });
});
