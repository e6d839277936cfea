import { ManualClock } from '@li/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from '../../testing/harness.ts';
import { DAY, HOUR, iso, seeded, silentLog, T0, warrantBody } from '../../testing/harness.ts';

const PROV = 'acme-provisioner-token-01';
const W = '/tenants/acme/warrants';
const W1 = `${W}/IT/ROMA2026A1`;

let h: Harness | undefined;
let sharedAdmf: unknown = null;
afterEach(async () => {
  if (h && h.admf !== sharedAdmf) await h.admf.close();
  h = undefined;
});

/** An SFTP LEMF body; `files` adds the credential and host-key fields under test. */
function sftpLemf<F extends Record<string, unknown>>(files: F) {
  return {
    name: 'sftp',
    transport: 'SFTP',
    address: { host: 'lemf.example', port: 22 },
    files: {
      directory: 'in',
      namePattern: '{liid}_{seq}.ber',
      maxRecords: 10,
      maxBytes: 100000,
      maxSeconds: 5,
      username: 'mdf',
      ...files,
    },
  };
}

async function create(over: Record<string, unknown> = {}) {
  return h!.req(PROV, 'POST', W, warrantBody(over));
}

describe('warrant creation and target normalisation', () => {
  it('creates a warrant, normalises every target type and audits it', async () => {
    h = await seeded();
    const targets = [
      { type: 'E164', value: '06 1234 5678' },
      { type: 'IMSI', value: '222 01 0123456789' },
      { type: 'IMEI', value: '490154203237518' },
      { type: 'SIP_URI', value: 'SIPS:Alice@Example.COM:5061;transport=tls' },
      { type: 'TEL_URI', value: 'tel:+39-06-7654321' },
      { type: 'EMAIL', value: 'Alice@Example.COM' },
      { type: 'MAIL_ACCOUNT', value: 'JDoe' },
      { type: 'IPV4', value: '192.0.2.77/27' },
      { type: 'IPV6', value: '2001:0DB8:0000::0001' },
      { type: 'PROVIDER_ACCOUNT', value: 'Cust-42', id: 'pa' },
    ];
    const r = await create({ targets });
    expect(r.status).toBe(201);
    expect(r.json.targets).toEqual([
      { id: 't1', type: 'E164', value: '+390612345678', incomplete: false },
      { id: 't2', type: 'IMSI', value: '222010123456789', incomplete: false },
      { id: 't3', type: 'IMEI', value: '49015420323751', incomplete: false },
      { id: 't4', type: 'SIP_URI', value: 'sip:Alice@example.com', incomplete: false },
      { id: 't5', type: 'TEL_URI', value: 'tel:+39067654321', incomplete: false },
      { id: 't6', type: 'EMAIL', value: 'alice@example.com', incomplete: false },
      { id: 't7', type: 'MAIL_ACCOUNT', value: 'jdoe', incomplete: false },
      { id: 't8', type: 'IPV4', value: '192.0.2.64/27', incomplete: false },
      { id: 't9', type: 'IPV6', value: '2001:db8::1', incomplete: false },
      { id: 'pa', type: 'PROVIDER_ACCOUNT', value: 'Cust-42', incomplete: false },
    ]);
    expect(r.json).toMatchObject({
      key: 'IT:ROMA2026A1',
      state: 'ACTIVE',
      status: 'SCHEDULED',
      version: 1,
      tenant: 'acme',
    });
    expect(r.json.validFrom).toBe(iso(T0 + HOUR));
    const got = await h.req(PROV, 'GET', W1);
    expect(got.json.targets).toHaveLength(10);
    const audit = await h.req('acme-auditor-token-000001', 'GET', '/tenants/acme/audit');
    const last = audit.json.at(-1);
    expect(last).toMatchObject({
      action: 'warrant.create',
      actor: 'acme-prov',
      role: 'provisioner',
      objectId: 'IT:ROMA2026A1',
      before: null,
    });
    expect(JSON.parse(last.after).targets).toHaveLength(10);
  });

  it('a staged warrant (activate=false) is DEACTIVATED until activated', async () => {
    h = await seeded();
    expect((await create({ activate: false })).json.state).toBe('DEACTIVATED');
    const a = await h.req(PROV, 'POST', `${W1}/activate`, {});
    expect(a.status).toBe(200);
    expect(a.json).toMatchObject({ state: 'ACTIVE', version: 2 });
  });
});

describe('bad input: a clear 4xx naming the field, nothing written', () => {
  const cases: [string, Record<string, unknown>, number, string][] = [
    ['LIID with a dash', { liid: 'ROMA-1' }, 400, 'liid'],
    ['LIID of 26 characters', { liid: 'A'.repeat(26) }, 400, 'liid'],
    ['empty LIID', { liid: '' }, 400, 'liid'],
    ['LIID not a string', { liid: 12345 }, 400, 'liid'],
    ['lower-case country', { authorisationCountry: 'it' }, 400, 'authorisationCountry'],
    ['unknown country', { authorisationCountry: 'QQ' }, 400, 'authorisationCountry'],
    ['no targets', { targets: [] }, 400, 'targets'],
    ['unknown target type', { targets: [{ type: 'FAX', value: '1' }] }, 400, 'targets[0].type'],
    [
      'bad IMSI',
      {
        targets: [
          { type: 'E164', value: '+390612345678' },
          { type: 'IMSI', value: '123' },
        ],
      },
      400,
      'targets[1].value',
    ],
    ['bad IMEI check digit', { targets: [{ type: 'IMEI', value: '490154203237519' }] }, 400, 'targets[0].value'],
    ['bad SIP URI', { targets: [{ type: 'SIP_URI', value: 'sip:nouser.example.com' }] }, 400, 'targets[0].value'],
    ['bad e-mail', { targets: [{ type: 'EMAIL', value: 'nobody' }] }, 400, 'targets[0].value'],
    ['bad IPv4 prefix', { targets: [{ type: 'IPV4', value: '10.0.0.0/33' }] }, 400, 'targets[0].value'],
    ['bad IPv6', { targets: [{ type: 'IPV6', value: '2001:db8::1::2' }] }, 400, 'targets[0].value'],
    [
      'duplicate target',
      {
        targets: [
          { type: 'E164', value: '+39 06 12345678' },
          { type: 'E164', value: '0039 0612345678' },
        ],
      },
      400,
      'targets[1].value',
    ],
    [
      'target with extra field',
      { targets: [{ type: 'E164', value: '+390612345678', note: 'x' }] },
      400,
      'targets[0].note',
    ],
    ['no LEMF', { lemfIds: [] }, 400, 'lemfIds'],
    ['another tenant’s LEMF', { lemfIds: ['lemf-berlin'] }, 400, 'lemfIds[0]'],
    ['window reversed', { validFrom: iso(T0 + 2 * DAY), validUntil: iso(T0 + DAY) }, 400, 'validUntil'],
    ['window already over', { validFrom: iso(T0 - 2 * DAY), validUntil: iso(T0 - DAY) }, 400, 'validUntil'],
    ['time without offset', { validFrom: '2026-11-21T10:00:00' }, 400, 'validFrom'],
    ['no selection', { selection: {} }, 400, 'selection'],
    ['unknown selection flag', { selection: { smoke: true } }, 400, 'selection.smoke'],
    ['bad delivery scope', { deliver: 'CC_ONLY' }, 400, 'deliver'],
    ['bad interception kind', { interceptionKind: 'TELEPATHY' }, 400, 'interceptionKind'],
    ['IT without Italian fields', { italian: null }, 400, 'italian'],
    [
      'Italian fields without officers',
      { italian: { ...warrantBody().italian, authorisedOfficers: [] } },
      400,
      'italian.authorisedOfficers',
    ],
    [
      'Italian fields without the interception type',
      { italian: { ...warrantBody().italian, interceptionType: undefined } },
      400,
      'italian.interceptionType',
    ],
    [
      'unknown Italian interception type',
      { italian: { ...warrantBody().italian, interceptionType: 'SATELLITARE' } },
      400,
      'italian.interceptionType',
    ],
    [
      'incomplete number of 7 digits',
      { targets: [{ type: 'E164', value: '06 123', incomplete: true }] },
      400,
      'targets[0].value',
    ],
    [
      'incomplete IMSI',
      { targets: [{ type: 'IMSI', value: '222010123456789', incomplete: true }] },
      400,
      'targets[0].incomplete',
    ],
    [
      'incomplete not a boolean',
      { targets: [{ type: 'E164', value: '06 1234 5', incomplete: 'yes' }] },
      400,
      'targets[0].incomplete',
    ],
    ['missing court case', { courtCaseId: undefined }, 400, 'courtCaseId'],
    ['unknown top-level field', { state: 'ACTIVE' }, 400, 'state'],
  ];
  // Nothing is written on bad input, so one seeded admf serves every case (and proves it).
  let shared: Harness;
  beforeAll(async () => {
    shared = await seeded();
    sharedAdmf = shared.admf;
  });
  afterAll(async () => {
    await shared.admf.close();
  });
  for (const [name, over, status, field] of cases) {
    it(name, async () => {
      h = shared;
      h.calls.length = 0;
      const r = await create(over);
      expect(r.status).toBe(status);
      expect(r.json.error.field).toBe(field);
      expect(r.json.error.code).toBe('ADM_ERR_VALIDATION');
      expect(r.json.error.message).toBeTruthy();
      expect(h.calls).not.toContain('commit');
      expect(h.mem.warrants.get('acme')?.size ?? 0).toBe(0);
    });
  }

  it('schema-level faults never reach the store at all', async () => {
    h = await seeded();
    const r = await create({ liid: 'bad liid!' });
    expect(r.status).toBe(400);
    expect(h.calls).toEqual([]);
  });

  it('national numbers use the tenant country code; beta (+49) reads them differently', async () => {
    h = await seeded();
    const r = await h.req('beta-provisioner-token-01', 'POST', '/tenants/beta/warrants', {
      ...warrantBody({ authorisationCountry: 'DE', italian: null, lemfIds: ['lemf-berlin'] }),
    });
    expect(r.status).toBe(201);
    // Germany's trunk prefix 0 is dropped (libphonenumber-js metadata), as a German caller dials it.
    expect(r.json.targets[0].value).toBe('+49612345678');
  });

  it('LIID is unique per tenant and authorising country', async () => {
    h = await seeded();
    expect((await create()).status).toBe(201);
    const dup = await create();
    expect(dup.status).toBe(409);
    expect(dup.json.error.field).toBe('liid');
    // Same LIID from another authorising country is another warrant.
    expect((await create({ authorisationCountry: 'FR', italian: null })).status).toBe(201);
    // And another tenant may use it too.
    const beta = await h.req(
      'beta-provisioner-token-01',
      'POST',
      '/tenants/beta/warrants',
      warrantBody({ lemfIds: ['lemf-berlin'] }),
    );
    expect(beta.status).toBe(201);
  });

  it('concurrent creates of one LIID: exactly one wins, the audit chain stays intact', async () => {
    h = await seeded();
    const results = await Promise.all(Array.from({ length: 8 }, () => create()));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
    const v = await h.req('acme-auditor-token-000001', 'GET', '/tenants/acme/audit/verify');
    expect(v.json).toMatchObject({ ok: true, count: 3 });
  });

  it('malformed JSON is a 400, not a crash', async () => {
    h = await seeded();
    const res = await h.admf.http.inject({
      method: 'POST',
      url: W,
      headers: { authorization: `Bearer ${PROV}`, 'content-type': 'application/json' },
      payload: '{"liid": ',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.field).toBe('body');
  });

  it('a store failure is a 503 and leaves nothing half-written', async () => {
    h = await seeded();
    h.mem.failNextCommit = true;
    const r = await create();
    expect(r.status).toBe(503);
    expect(r.json.error.code).toBe('ADM_ERR_STORE');
    expect(h.mem.warrants.get('acme')?.size ?? 0).toBe(0);
    expect((await create()).status).toBe(201);
    const v = await h.req('acme-auditor-token-000001', 'GET', '/tenants/acme/audit/verify');
    expect(v.json.ok).toBe(true);
  });
});

describe('lifecycle actions', () => {
  it('suspend, resume, extend, modify, deactivate, activate', async () => {
    h = await seeded();
    await create();
    const s = await h.req(PROV, 'POST', `${W1}/suspend`, { reason: 'court order 7' });
    expect(s.json).toMatchObject({ state: 'SUSPENDED', version: 2 });
    expect((await h.req(PROV, 'POST', `${W1}/suspend`, {})).status).toBe(409);
    expect((await h.req(PROV, 'POST', `${W1}/resume`, {})).json).toMatchObject({ state: 'ACTIVE', version: 3 });

    const badExtend = await h.req(PROV, 'POST', `${W1}/extend`, { validUntil: iso(T0 + 5 * DAY) });
    expect(badExtend.status).toBe(400);
    expect(badExtend.json.error.field).toBe('validUntil');
    const noDate = await h.req(PROV, 'POST', `${W1}/extend`, {});
    expect(noDate.json.error.field).toBe('validUntil');
    const ext = await h.req(PROV, 'POST', `${W1}/extend`, { validUntil: iso(T0 + 20 * DAY) });
    expect(ext.json).toMatchObject({ validUntil: iso(T0 + 20 * DAY), version: 4 });

    const mod = await h.req(PROV, 'PATCH', W1, {
      targets: [{ type: 'IMSI', value: '222010123456789' }],
      selection: { login: true },
    });
    expect(mod.status).toBe(200);
    expect(mod.json.targets).toEqual([{ id: 't1', type: 'IMSI', value: '222010123456789', incomplete: false }]);
    expect(mod.json.selection).toMatchObject({ login: true, signals: true, media: true, newMail: false });
    const badMod = await h.req(PROV, 'PATCH', W1, { liid: 'OTHER' });
    expect(badMod.status).toBe(400);
    expect(badMod.json.error.field).toBe('liid');

    expect((await h.req(PROV, 'POST', `${W1}/deactivate`, {})).json).toMatchObject({
      state: 'DEACTIVATED',
      status: 'DEACTIVATED',
    });
    expect((await h.req(PROV, 'PATCH', W1, { courtCaseId: 'x' })).status).toBe(409);
    expect((await h.req(PROV, 'POST', `${W1}/activate`, {})).json).toMatchObject({ state: 'ACTIVE', version: 7 });

    const audit = await h.req('acme-auditor-token-000001', 'GET', '/tenants/acme/audit');
    const actions = audit.json
      .filter((a: { objectType: string }) => a.objectType === 'WARRANT')
      .map((a: { action: string }) => a.action);
    expect(actions).toEqual([
      'warrant.create',
      'warrant.suspend',
      'warrant.resume',
      'warrant.extend',
      'warrant.modify',
      'warrant.deactivate',
      'warrant.activate',
    ]);
    const suspend = audit.json.find((a: { action: string }) => a.action === 'warrant.suspend');
    expect(suspend.reason).toBe('court order 7');
    expect(JSON.parse(suspend.before).state).toBe('ACTIVE');
    expect(JSON.parse(suspend.after).state).toBe('SUSPENDED');
  });

  it('unknown warrants are 404', async () => {
    h = await seeded();
    expect((await h.req(PROV, 'POST', `${W}/IT/NOPE/suspend`, {})).status).toBe(404);
    expect((await h.req(PROV, 'GET', `${W}/IT/NOPE`)).status).toBe(404);
  });
});

describe('scheduled start and end take effect with nobody acting', () => {
  it('the scheduler records the start and ends the warrant at validUntil', async () => {
    h = await seeded();
    await create({ validFrom: iso(T0 + HOUR), validUntil: iso(T0 + 2 * HOUR) });
    expect(await h.admf.useCases.nextTransition()).toBe(T0 + HOUR);
    expect((await h.admf.useCases.runScheduled()).ok).toBe(true);
    expect(h.mem.audit.get('acme')!.at(-1)!.action).toBe('warrant.create');

    h.clock.set((T0 + HOUR) / 1000);
    await h.admf.useCases.runScheduled();
    expect(h.mem.audit.get('acme')!.at(-1)).toMatchObject({ action: 'warrant.start', actor: 'system:scheduler' });
    const started = (await h.req(PROV, 'GET', W1)).json;
    expect(started.status).toBe('IN_EFFECT');
    expect(started.version).toBe(2); // a version written at the start: the iri-encoder's liActivated
    await h.admf.useCases.runScheduled(); // idempotent
    expect(h.mem.audit.get('acme')!.filter((a) => a.action === 'warrant.start')).toHaveLength(1);
    expect(await h.admf.useCases.nextTransition()).toBe(T0 + 2 * HOUR);

    h.clock.set((T0 + 2 * HOUR) / 1000);
    await h.admf.useCases.runScheduled();
    const w = (await h.req(PROV, 'GET', W1)).json;
    expect(w).toMatchObject({ state: 'DEACTIVATED', version: 3 });
    expect(h.mem.audit.get('acme')!.at(-1)).toMatchObject({ action: 'warrant.expire', role: 'system' });
    expect(await h.admf.useCases.nextTransition()).toBeNull();
  });

  it('with real timers: a warrant ending in 300 ms is DEACTIVATED without any request', async () => {
    h = await seeded({ realClock: true, schedule: true });
    const now = Date.now() * 1000;
    const r = await create({ validFrom: iso(now - HOUR), validUntil: new Date(Date.now() + 300).toISOString() });
    expect(r.status).toBe(201);
    const deadline = Date.now() + 3000;
    let state = 'ACTIVE';
    while (Date.now() < deadline && state !== 'DEACTIVATED') {
      await new Promise((res) => setTimeout(res, 50));
      state = (await h.req(PROV, 'GET', W1)).json.state;
    }
    expect(state).toBe('DEACTIVATED');
  });
});

describe('authentication, roles and tenant isolation', () => {
  it('needs a known bearer token', async () => {
    h = await seeded();
    expect((await h.req(null, 'GET', W)).status).toBe(401);
    const res = await h.admf.http.inject({
      method: 'GET',
      url: W,
      headers: { authorization: 'Bearer not-a-token-at-all' },
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect((await h.req(null, 'GET', '/openapi.json')).status).toBe(200);
  });

  it('roles: admin manages LEMFs, provisioner warrants, auditor reads the audit', async () => {
    h = await seeded();
    expect((await h.req('acme-admin-token-00000001', 'POST', W, warrantBody())).status).toBe(403);
    expect((await h.req('acme-auditor-token-000001', 'POST', W, warrantBody())).status).toBe(403);
    expect(
      (
        await h.req(PROV, 'PUT', '/tenants/acme/lemfs/x', {
          name: 'x',
          transport: 'ETSI_TCP',
          address: { host: 'h', port: 1 },
        })
      ).status,
    ).toBe(403);
    expect((await h.req(PROV, 'GET', '/tenants/acme/audit')).status).toBe(403);
    expect(
      (await h.req('acme-admin-token-00000001', 'POST', '/tenants', { id: 'x', name: 'x', defaultCountryCode: '1' }))
        .status,
    ).toBe(403);
    expect((await h.req('acme-auditor-token-000001', 'GET', '/tenants/acme/audit')).status).toBe(200);
    expect(h.calls).not.toContain('commit');
  });

  it("a mail server's token (ingest's role) may do nothing here, not even list its tenant", async () => {
    h = await seeded();
    const MX = 'acme-mailserver-token-001';
    for (const [method, url] of [
      ['GET', '/tenants'],
      ['GET', '/tenants/acme'],
      ['GET', W],
      ['GET', '/tenants/acme/lemfs'],
      ['GET', '/tenants/acme/audit'],
    ] as const) {
      const r = await h.req(MX, method, url);
      expect(r.status, url).toBe(403);
      expect(r.json.error.code).toBe('ADM_ERR_FORBIDDEN');
    }
  });

  it("another tenant's data is 404, never visible or changeable", async () => {
    h = await seeded();
    await create();
    const BETA = 'beta-provisioner-token-01';
    expect((await h.req(BETA, 'GET', W1)).status).toBe(404);
    expect((await h.req(BETA, 'GET', W)).status).toBe(404);
    expect((await h.req(BETA, 'POST', `${W1}/deactivate`, {})).status).toBe(404);
    expect((await h.req(BETA, 'PATCH', W1, { courtCaseId: 'x' })).status).toBe(404);
    expect((await h.req(BETA, 'POST', W, warrantBody())).status).toBe(404);
    expect((await h.req('beta-admin-token-00000001', 'GET', '/tenants/acme/lemfs/lemf-rome')).status).toBe(404);
    expect((await h.req('beta-admin-token-00000001', 'GET', '/tenants/acme')).status).toBe(404);
    // A tenant that does not exist looks the same as one that is not yours.
    expect((await h.req(BETA, 'GET', '/tenants/nosuch/warrants')).json).toEqual((await h.req(BETA, 'GET', W)).json);
    const tenants = await h.req('beta-admin-token-00000001', 'GET', '/tenants');
    expect(tenants.json.map((t: { id: string }) => t.id)).toEqual(['beta']);
    // Beta's own list does not contain acme's warrant.
    expect((await h.req(BETA, 'GET', '/tenants/beta/warrants')).json).toEqual([]);
    expect((await h.req(PROV, 'GET', W1)).json.state).toBe('ACTIVE');
  });
});

describe('LEMF destinations and tenants', () => {
  it('validates per transport and refuses deleting a LEMF in use', async () => {
    h = await seeded();
    const ADMIN = 'acme-admin-token-00000001';
    const bad = await h.req(ADMIN, 'PUT', '/tenants/acme/lemfs/ftp1', {
      name: 'ftp',
      transport: 'FTP',
      address: { host: 'h', port: 21 },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.field).toBe('files');
    const badPort = await h.req(ADMIN, 'PUT', '/tenants/acme/lemfs/t1', {
      name: 'x',
      transport: 'ETSI_TCP',
      address: { host: 'h', port: 70000 },
    });
    expect(badPort.json.error.field).toBe('address.port');
    await create();
    const del = await h.req(ADMIN, 'DELETE', '/tenants/acme/lemfs/lemf-rome');
    expect(del.status).toBe(409);
    const upd = await h.req(ADMIN, 'PUT', '/tenants/acme/lemfs/lemf-rome', {
      name: 'Rome 2',
      transport: 'HI2_TCP',
      address: { host: '10.0.0.1', port: 12500 },
      allowInsecure: true,
    });
    expect(upd.json).toMatchObject({ version: 2, transport: 'HI2_TCP', keepaliveSeconds: 30, tenant: 'acme' });
  });

  it('SFTP host-key pin: an OpenSSH SHA256 fingerprint, with or without its prefix; anything else is a 400', async () => {
    h = await seeded();
    const ADMIN = 'acme-admin-token-00000001';
    const fp = '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU';
    const sftp = (hostKeySha256: unknown) => sftpLemf({ credentialRef: 'k', hostKeySha256 });
    for (const bad of ['MD5:aa:bb', `SHA256:${fp}x`, fp.slice(1), `sha256:${fp}`, 'a'.repeat(64), 12]) {
      const r = await h.req(ADMIN, 'PUT', '/tenants/acme/lemfs/sftp1', sftp(bad));
      expect(r.status, String(bad)).toBe(400);
      expect(r.json.error.field).toBe('files.hostKeySha256');
      expect(r.json.error.message).toMatch(/hostKeySha256/);
    }
    const ok = await h.req(ADMIN, 'PUT', '/tenants/acme/lemfs/sftp1', sftp(`SHA256:${fp}`));
    expect(ok.status).toBeLessThan(300);
    expect(ok.json.files.hostKeySha256).toBe(`SHA256:${fp}`);
    const bare = await h.req(ADMIN, 'PUT', '/tenants/acme/lemfs/sftp2', sftp(fp));
    expect(bare.json.files.hostKeySha256).toBe(fp);
    const { hostKeySha256: _, ...unpinned } = sftp(null).files;
    const none = await h.req(ADMIN, 'PUT', '/tenants/acme/lemfs/sftp3', {
      ...sftp(null),
      files: unpinned,
      allowInsecure: true,
    });
    expect(none.json.files.hostKeySha256).toBeNull();
  });

  it('file LEMF: streams and one format; defaults IRI and CC as TS102232; bad values are a 400 naming the field', async () => {
    h = await seeded();
    const ADMIN = 'acme-admin-token-00000001';
    const put = (id: string, files: Record<string, unknown>) =>
      h!.req(ADMIN, 'PUT', `/tenants/acme/lemfs/${id}`, {
        ...sftpLemf({ credentialRef: 'k', ...files }),
        allowInsecure: true,
      });
    const bad: [Record<string, unknown>, string][] = [
      [{ streams: [] }, 'files.streams'],
      [{ streams: ['HI2', 'HI2'] }, 'files.streams'],
      [{ streams: ['REPORT'] }, 'files.streams'],
      [{ streams: 'HI2' }, 'files.streams'],
      [{ format: 'BOTH' }, 'files.format'],
      [{ format: 'TS101671' }, 'files.streams'], // default streams include CC, which has no TS 101 671 form
      [{ format: 'TS101671', streams: ['HI3'] }, 'files.streams'],
    ];
    for (const [files, field] of bad) {
      const r = await put('f1', files);
      expect(r.status, JSON.stringify(files)).toBe(400);
      // the schema names the item (files.streams[0]), the domain the setting
      expect(r.json.error.field, JSON.stringify(files)).toMatch(
        new RegExp(`^${field.replace('.', '\\.')}(\\[\\d+\\])?$`),
      );
    }
    const dflt = await put('f1', {});
    expect(dflt.status).toBe(200);
    expect(dflt.json.files).toMatchObject({ streams: ['HI2', 'HI3'], format: 'TS102232' });
    const iri = await put('f2', { streams: ['HI2'], format: 'TS101671' });
    expect(iri.status).toBe(200);
    expect(iri.json.files).toMatchObject({ streams: ['HI2'], format: 'TS101671' });
    const cc = await put('f3', { streams: ['HI3'] });
    expect(cc.json.files).toMatchObject({ streams: ['HI3'], format: 'TS102232' });
    const read = await h.req(ADMIN, 'GET', '/tenants/acme/lemfs/f2');
    expect(read.json.files).toMatchObject({ streams: ['HI2'], format: 'TS101671' });
  });

  it('timestampProfile: default ETSI_DEFAULT, a known profile is stored and shown, an unknown one is a 400 listing them', async () => {
    h = await seeded();
    const ADMIN = 'acme-admin-token-00000001';
    const tcp = {
      name: 't',
      transport: 'ETSI_TCP',
      address: { host: 'lemf.example', port: 6000 },
      allowInsecure: true,
    };
    const dflt = await h.req(ADMIN, 'PUT', '/tenants/acme/lemfs/ts1', tcp);
    expect(dflt.status).toBe(200);
    expect(dflt.json.timestampProfile).toBe('ETSI_DEFAULT');
    const ms = await h.req(ADMIN, 'PUT', '/tenants/acme/lemfs/ts2', { ...tcp, timestampProfile: 'MILLISECONDS' });
    expect(ms.status).toBe(200);
    expect((await h.req(ADMIN, 'GET', '/tenants/acme/lemfs/ts2')).json.timestampProfile).toBe('MILLISECONDS');
    for (const bad of ['milliseconds', 'NANOSECONDS', '']) {
      const r = await h.req(ADMIN, 'PUT', '/tenants/acme/lemfs/ts3', { ...tcp, timestampProfile: bad });
      expect(r.status, bad).toBe(400);
      expect(r.json.error).toMatchObject({ code: 'ADM_ERR_VALIDATION', field: 'timestampProfile' });
      expect(r.json.error.message).toMatch(/one of ETSI_DEFAULT, MILLISECONDS, MICROSECONDS/);
    }
    expect((await h.req(ADMIN, 'GET', '/tenants/acme/lemfs/ts3')).status).toBe(404);
  });

  it('PIPE: a LEMF names an entry of the operator allow-list, never a command', async () => {
    h = await seeded();
    const ADMIN = 'acme-admin-token-00000001';
    const put = (pipe: unknown) =>
      h!.req(ADMIN, 'PUT', '/tenants/acme/lemfs/pipe1', { name: 'p', transport: 'PIPE', pipe });
    const unknown = await put({ entry: 'rm-rf' });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.field).toBe('pipe.entry');
    expect(unknown.json.error.message).toMatch(/allow-list \(allowed: to-lea, archive\)/);
    const command = await put({ command: '/bin/sh', args: ['-c', 'id'] });
    expect(command.status).toBe(400);
    expect(command.json.error.field).toMatch(/^pipe/);
    const ok = await put({ entry: 'to-lea' });
    expect(ok.status).toBe(200);
    expect(ok.json.pipe).toEqual({ entry: 'to-lea' });
    expect(ok.json.allowInsecure).toBe(false); // PIPE is local: no network to be plaintext on
    expect(h.calls.filter((c) => c === 'commit')).toHaveLength(1);
  });

  it('a LEMF lacks none of the settings its transport needs to deliver (TRANSPORT_TRAITS.requires)', async () => {
    h = await seeded();
    const ADMIN = 'acme-admin-token-00000001';
    const email = { from: 'a@x', to: ['b@x'], username: null, credentialRef: null, startTls: true };
    const cases: [string, Record<string, unknown>, string][] = [
      ['EMAIL without the SMTP server', { transport: 'EMAIL', email }, 'address'],
      [
        'EMAIL without its mail settings',
        { transport: 'EMAIL', address: { host: 'smtp.example', port: 587 } },
        'email',
      ],
      ['SFTP without file settings', { transport: 'SFTP', address: { host: 'sftp.example', port: 22 } }, 'files'],
      ['PIPE without an entry', { transport: 'PIPE' }, 'pipe'],
    ];
    for (const [what, body, field] of cases) {
      const r = await h.req(ADMIN, 'PUT', '/tenants/acme/lemfs/l1', { name: 'l', ...body });
      expect(r.status, what).toBe(400);
      expect(r.json.error.field, what).toBe(field);
      expect(r.json.error.message, what).toBe(`${field} is required for ${body.transport}`);
    }
    expect(h.calls).not.toContain('commit');
  });

  it('IPsec: it-annex2 with a PSK makes plain HI2 TCP acceptable; bad settings are a 400 naming the field', async () => {
    h = await seeded();
    const ADMIN = 'acme-admin-token-00000001';
    const ipsec = {
      profile: 'it-annex2',
      gateway: '192.0.2.10',
      localTs: ['10.1.0.0/24'],
      remoteTs: ['10.2.0.0/24'],
      pskRef: 'psk',
    };
    const put = (id: string, over: Record<string, unknown>, host = '10.2.0.5') =>
      h!.req(ADMIN, 'PUT', `/tenants/acme/lemfs/${id}`, {
        name: 'procura',
        transport: 'HI2_TCP',
        address: { host, port: 12500 },
        ipsec: { ...ipsec, ...over },
      });
    const ok = await put('ip1', {});
    expect(ok.status).toBe(200);
    expect(ok.json.allowInsecure).toBe(false);
    expect(ok.json.ipsec).toMatchObject({ ...ipsec, localAddress: null, certRef: null });
    const bad: [Record<string, unknown>, string][] = [
      [{ profile: 'ikev1-aggressive' }, 'ipsec.profile'],
      [{ gateway: 'a b' }, 'ipsec.gateway'],
      [{ remoteTs: [] }, 'ipsec.remoteTs'],
      [{ localTs: ['10.1.0.0'] }, 'ipsec.localTs'],
      [{ pskRef: null }, 'ipsec.pskRef'],
      [{ pskRef: '../beta/psk' }, 'ipsec.pskRef'],
      [{ profile: 'modern', pskRef: null, certRef: 'c.pem', keyRef: null, caRef: 'ca.pem' }, 'ipsec.keyRef'],
      [{ remoteId: 'x", secret = "' }, 'ipsec.remoteId'],
    ];
    for (const [over, field] of bad) {
      const r = await put('ip2', over);
      expect(r.status, JSON.stringify(over)).toBe(400);
      expect(r.json.error.field, JSON.stringify(over)).toBe(field);
    }
    // a LEMF address outside the tunnel's selectors would go in clear
    const outside = await put('ip3', {}, '10.9.0.5');
    expect(outside.status).toBe(400);
    expect(outside.json.error.field).toBe('address.host');
    const modern = await put('ip4', {
      profile: 'modern',
      pskRef: null,
      certRef: 'c.pem',
      keyRef: 'k.pem',
      caRef: 'ca.pem',
    });
    expect(modern.status).toBe(200);
  });

  it("secret references are plain names in the tenant's own namespace: another tenant's is a 400", async () => {
    h = await seeded();
    const ADMIN = 'acme-admin-token-00000001';
    const files = (credentialRef: string) =>
      sftpLemf({ credentialRef, hostKeySha256: 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU' });
    for (const ref of ['../beta/sftp-key', 'beta/sftp-key', '/var/run/secrets/li/beta/sftp-key', '..', '.hidden']) {
      const r = await h.req(ADMIN, 'PUT', '/tenants/acme/lemfs/s1', files(ref));
      expect(r.status, ref).toBe(400);
      expect(r.json.error.field).toBe('files.credentialRef');
      expect(r.json.error.message).toMatch(/plain name of a secret of this tenant/);
    }
    const tls = await h.req(ADMIN, 'PUT', '/tenants/acme/lemfs/t1', {
      name: 't',
      transport: 'ETSI_TCP',
      address: { host: 'lemf.example', port: 6000 },
      tls: { caRef: 'ca.pem', certRef: '../beta/client.pem', keyRef: 'client.key', serverName: null },
    });
    expect(tls.status).toBe(400);
    expect(tls.json.error.field).toBe('tls.certRef');
    const mail = await h.req(ADMIN, 'PUT', '/tenants/acme/lemfs/m1', {
      name: 'm',
      transport: 'EMAIL',
      address: { host: 'smtp.example', port: 587 },
      email: { from: 'a@x', to: ['b@x'], username: 'u', credentialRef: 'beta/smtp', startTls: true },
    });
    expect(mail.json.error.field).toBe('email.credentialRef');
    expect(h.calls).not.toContain('commit');
    expect((await h.req(ADMIN, 'PUT', '/tenants/acme/lemfs/s1', files('sftp-key'))).status).toBe(200);
  });

  it('plaintext transports need allowInsecure: true; the reason names the setting; the flag is shown', async () => {
    h = await seeded();
    const ADMIN = 'acme-admin-token-00000001';
    const tcp = { name: 't', transport: 'ETSI_TCP', address: { host: 'lemf.example', port: 6000 } };
    const files = {
      directory: 'in',
      namePattern: '{liid}_{seq}.ber',
      maxRecords: 1,
      maxBytes: 1,
      maxSeconds: 1,
      username: null,
      credentialRef: null,
    };
    const email = { from: 'a@x', to: ['b@x'], username: null, credentialRef: null, startTls: false };
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      ['etsi', tcp, 'tls', /ETSI_TCP without tls is plaintext: set tls, or allowInsecure: true/],
      ['hi2', { ...tcp, transport: 'HI2_TCP' }, 'tls', /HI2_TCP without tls/],
      ['ftp', { ...tcp, transport: 'FTP', files }, 'allowInsecure', /FTP is plaintext/],
      [
        'sftp',
        { ...tcp, transport: 'SFTP', files },
        'files.hostKeySha256',
        /set files.hostKeySha256, or allowInsecure/,
      ],
      ['mail', { ...tcp, transport: 'EMAIL', email }, 'email.startTls', /set email.startTls, or allowInsecure/],
    ];
    for (const [id, body, field, message] of cases) {
      const refused = await h.req(ADMIN, 'PUT', `/tenants/acme/lemfs/${id}`, body);
      expect(refused.status, id).toBe(400);
      expect(refused.json.error).toMatchObject({ code: 'ADM_ERR_VALIDATION', field });
      expect(refused.json.error.message).toMatch(message);
      const allowed = await h.req(ADMIN, 'PUT', `/tenants/acme/lemfs/${id}`, { ...body, allowInsecure: true });
      expect(allowed.status, id).toBe(200);
      expect(allowed.json.allowInsecure).toBe(true);
    }
    const secure = await h.req(ADMIN, 'PUT', '/tenants/acme/lemfs/etsi-tls', {
      ...tcp,
      tls: { caRef: 'ca.pem', certRef: null, keyRef: null, serverName: null },
    });
    expect(secure.status).toBe(200);
    expect(secure.json.allowInsecure).toBe(false);
    const listed = await h.req(ADMIN, 'GET', '/tenants/acme/lemfs');
    expect(
      Object.fromEntries(listed.json.map((l: { id: string; allowInsecure: boolean }) => [l.id, l.allowInsecure])),
    ).toMatchObject({
      etsi: true,
      'etsi-tls': false,
    });
  });

  it('tenant ids must be topic-safe and unique', async () => {
    h = await seeded();
    const OP = 'operator-admin-token-0001';
    const bad = await h.req(OP, 'POST', '/tenants', { id: 'Bad_Id', name: 'x', defaultCountryCode: '39' });
    expect(bad.json.error.field).toBe('id');
    expect(
      (await h.req(OP, 'POST', '/tenants', { id: 'trailing-', name: 'x', defaultCountryCode: '39' })).json.error.field,
    ).toBe('id');
    expect((await h.req(OP, 'POST', '/tenants', { id: 'acme', name: 'x', defaultCountryCode: '39' })).status).toBe(409);
  });
});

describe('audit chain', () => {
  it('verifies, and detects a tampered, deleted or reordered record', async () => {
    h = await seeded();
    await create();
    await h.req(PROV, 'POST', `${W1}/suspend`, {});
    await h.req(PROV, 'POST', `${W1}/resume`, {});
    const AUD = 'acme-auditor-token-000001';
    const ok = await h.req(AUD, 'GET', '/tenants/acme/audit/verify');
    expect(ok.json).toMatchObject({ ok: true, count: 5, head: { seq: 5 } });

    const chain = h.mem.audit.get('acme')!;
    const original = chain[3]!;
    chain[3] = { ...original, after: original.after!.replace('"SUSPENDED"', '"ACTIVE"') };
    expect((await h.req(AUD, 'GET', '/tenants/acme/audit/verify')).json).toMatchObject({
      ok: false,
      index: 3,
      seq: 4,
      reason: 'HASH_MISMATCH',
    });
    chain[3] = original;

    chain.splice(2, 1);
    expect((await h.req(AUD, 'GET', '/tenants/acme/audit/verify')).json).toMatchObject({
      ok: false,
      index: 2,
      reason: 'SEQ_OUT_OF_ORDER',
    });
    chain.splice(2, 0, h.mem.audit.get('acme')![1]!); // wrong record put back
    expect((await h.req(AUD, 'GET', '/tenants/acme/audit/verify')).json.ok).toBe(false);
  });

  it('an anchored head catches a truncated tail', async () => {
    h = await seeded();
    await create();
    const AUD = 'acme-auditor-token-000001';
    const head = (await h.req(AUD, 'GET', '/tenants/acme/audit/verify')).json.head;
    h.mem.audit.get('acme')!.pop();
    const plain = await h.req(AUD, 'GET', '/tenants/acme/audit/verify');
    expect(plain.json.ok).toBe(true);
    const anchored = await h.req(AUD, 'GET', `/tenants/acme/audit/verify?headSeq=${head.seq}&headHash=${head.hash}`);
    expect(anchored.json).toMatchObject({ ok: false, reason: 'HEAD_MISMATCH' });
    expect((await h.req(AUD, 'GET', '/tenants/acme/audit/verify?headSeq=1')).status).toBe(400);
  });
});

describe('account rename and removal (seed 000)', () => {
  it('a renamed account is followed, a removed one drops the target; both audited', async () => {
    h = await seeded();
    await create({
      interceptionKind: 'EMAIL',
      targets: [
        { type: 'MAIL_ACCOUNT', value: 'JDoe' },
        { type: 'EMAIL', value: 'jdoe@example.it' },
      ],
      selection: { login: true, newMail: true },
    });
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
    const r1 = await h.admf.useCases.handleAccountEvent(
      ev('account.renamed', { old: 'jdoe', new: 'John.Doe' }),
      'acme',
    );
    expect(r1).toEqual({ ok: true, value: { changed: 1 } });
    let w = (await h.req(PROV, 'GET', W1)).json;
    expect(w.targets.map((t: { value: string }) => t.value)).toEqual(['john.doe', 'jdoe@example.it']);

    const r2 = await h.admf.useCases.handleAccountEvent(
      ev('account.renamed', { old: 'jdoe@example.it', new: 'jd@example.it' }),
      'acme',
    );
    expect(r2.ok).toBe(true);
    w = (await h.req(PROV, 'GET', W1)).json;
    expect(w.targets[1]).toEqual({ id: 't2', type: 'EMAIL', value: 'jd@example.it', incomplete: false });

    await h.admf.useCases.handleAccountEvent(ev('account.removed', { account: 'John.Doe' }), 'acme');
    w = (await h.req(PROV, 'GET', W1)).json;
    expect(w.targets).toEqual([{ id: 't2', type: 'EMAIL', value: 'jd@example.it', incomplete: false }]);
    expect(w.state).toBe('ACTIVE');

    await h.admf.useCases.handleAccountEvent(ev('account.removed', { account: 'jd@example.it' }), 'acme');
    w = (await h.req(PROV, 'GET', W1)).json;
    expect(w).toMatchObject({ targets: [], state: 'DEACTIVATED' });

    const audit = h.mem.audit
      .get('acme')!
      .filter((a) => a.actor === 'system:account-events')
      .map((a) => a.action);
    expect(audit).toEqual([
      'warrant.target.renamed',
      'warrant.target.renamed',
      'warrant.target.removed',
      'warrant.target.removed',
    ]);
    const bad = await h.admf.useCases.handleAccountEvent(ev('account.renamed', { old: 'x' }), 'acme');
    // An event of acme read from another tenant's topic changes nothing of acme's.
    const foreign = await h.admf.useCases.handleAccountEvent(
      ev('account.removed', { account: 'jd@example.it' }),
      'beta',
    );
    expect(foreign).toMatchObject({ ok: false, error: { code: 'ADM_ERR_TENANT_MISMATCH' } });
    expect(bad.ok).toBe(false);
    expect((await h.req('acme-auditor-token-000001', 'GET', '/tenants/acme/audit/verify')).json.ok).toBe(true);
  });
});

describe('billing (seed 001 Annex 3)', () => {
  it('bills Europe/Rome calendar days between effective start and end at the daily tariff', async () => {
    h = await seeded();
    // Created 2026-11-20 09:00Z, starts 10:00Z; extended; ended by the schedule 2026-11-25 10:00Z.
    await create({ validUntil: iso(T0 + 3 * DAY) });
    h.clock.set((T0 + HOUR) / 1000);
    await h.admf.useCases.runScheduled();
    h.clock.set((T0 + 2 * DAY) / 1000);
    await h.req(PROV, 'POST', `${W1}/extend`, { validUntil: iso(T0 + 5 * DAY + HOUR) });
    // A second warrant, e-mail, staged and never activated: 0 days.
    await create({ liid: 'MAIL1', interceptionKind: 'EMAIL', activate: false });
    h.clock.set((T0 + 6 * DAY) / 1000);
    await h.admf.useCases.runScheduled();
    const AUD = 'acme-auditor-token-000001';
    const r = await h.req(AUD, 'GET', '/tenants/acme/billing?from=2026-11-01&to=2026-11-30');
    expect(r.status).toBe(200);
    // VOICE with no line ordered: single-line POTS/mobile; 20..25 November (Rome) = 6 days at 1,50 EUR.
    expect(r.json.items).toEqual([
      expect.objectContaining({
        liid: 'ROMA2026A1',
        service: 'MONO_POTS_MOBILE',
        basis: 'days',
        firstDay: '2026-11-20',
        lastDay: '2026-11-25',
        quantity: 6,
        unitMinor: 150,
        amountMinor: 900,
      }),
    ]);
    // MAIL1 never took effect: nothing to bill. The shipped list has no office hours (the seed
    // defines none), so the activation's out-of-hours surcharge is reported as unpriced.
    expect(r.json.unpriced).toMatchObject([{ liid: 'ROMA2026A1', service: 'MONO_POTS_MOBILE' }]);
    expect(r.json).toMatchObject({ currency: 'EUR', timeZone: 'Europe/Rome', totalMinor: 900 });
    const audit = await h.req(AUD, 'GET', '/tenants/acme/audit');
    const voiceSeqs = audit.json
      .filter((a: { objectId: string }) => a.objectId === 'IT:ROMA2026A1')
      .map((a: { seq: number }) => a.seq);
    expect(r.json.items[0].auditSeqs).toEqual(voiceSeqs);
    expect(r.json.inputs.auditHeadSeq).toBe(audit.json.at(-1).seq);

    // A multi-line POTS order with 3 lines reprices the interception: 0,60 + 3 x 0,90 = 3,30 EUR a day.
    const ADMIN = 'acme-admin-token-00000001';
    const order = await h.req(ADMIN, 'POST', `${W1}/billing-orders`, { service: 'MULTI_POTS', lines: 3 });
    expect(order.status).toBe(200);
    expect(order.json).toMatchObject({ action: 'billing.order', objectType: 'WARRANT', objectId: 'IT:ROMA2026A1' });
    const multi = await h.req(AUD, 'GET', '/tenants/acme/billing?from=2026-11-01&to=2026-11-30');
    expect(multi.json.items[0]).toMatchObject({ service: 'MULTI_POTS', lines: 3, unitMinor: 330, amountMinor: 1980 });
    expect(multi.json.inputs.auditSeqs).toContain(order.json.seq);
    const noLines = await h.req(ADMIN, 'POST', `${W1}/billing-orders`, { service: 'MULTI_POTS' });
    expect([noLines.status, noLines.json.error.field]).toEqual([400, 'lines']);
    expect(
      (await h.req(ADMIN, 'POST', `${W}/IT/NOPE1`.concat('/billing-orders'), { service: 'GNR', lines: 2 })).status,
    ).toBe(404);
    expect((await h.req(AUD, 'POST', `${W1}/billing-orders`, { service: 'LOCATION_HLR' })).status).toBe(403);

    const part = await h.req(ADMIN, 'GET', '/tenants/acme/billing?from=2026-11-22&to=2026-11-23');
    expect(part.json.items[0].quantity).toBe(2);
    const bad = await h.req(AUD, 'GET', '/tenants/acme/billing?from=2026-11-30&to=2026-11-01');
    expect(bad.status).toBe(400);
    expect(bad.json.error.field).toBe('to');
    const badDate = await h.req(AUD, 'GET', '/tenants/acme/billing?from=2026-02-30&to=2026-03-01');
    expect(badDate.json.error.field).toBe('from');
    expect((await h.req(PROV, 'GET', '/tenants/acme/billing?from=2026-11-01&to=2026-11-30')).status).toBe(403);
  });
});

describe('OpenAPI', () => {
  it('documents every route with its schemas', async () => {
    h = await seeded();
    const r = await h.req(null, 'GET', '/openapi.json');
    const paths = Object.keys(r.json.paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/tenants',
        '/tenants/{tenantId}/lemfs/{lemfId}',
        '/tenants/{tenantId}/warrants',
        '/tenants/{tenantId}/warrants/{country}/{liid}',
        '/tenants/{tenantId}/warrants/{country}/{liid}/extend',
        '/tenants/{tenantId}/audit/verify',
        '/tenants/{tenantId}/billing',
        '/tenants/{tenantId}/warrants/{country}/{liid}/billing-orders',
      ]),
    );
    const create = r.json.paths['/tenants/{tenantId}/warrants'].post;
    expect(create.requestBody.content['application/json'].schema.properties.liid.pattern).toBe('^[A-Za-z0-9]{1,25}$');
    expect(r.json.components.securitySchemes.bearer.scheme).toBe('bearer');
  });
});

describe('defaults', () => {
  it('without a tariffs argument the shipped config/tariffs.json applies', async () => {
    const { InMemoryWarrantStore } = await import('../memory-store.ts');
    const { buildAdmf } = await import('../../service.ts');
    const admf = await buildAdmf({
      store: new InMemoryWarrantStore(),
      clock: new ManualClock(T0 / 1000),
      tokens: { 'operator-admin-token-0001': { subject: 'op', tenant: '*', role: 'admin' } },
      log: silentLog,
      schedule: false,
    });
    h = { admf } as Harness;
    await admf.useCases.createTenant(
      { subject: 'op', tenant: '*', role: 'admin' },
      { id: 'acme', name: 'A', defaultCountryCode: '39' },
    );
    const r = await admf.useCases.billing(
      { subject: 'op', tenant: '*', role: 'admin' },
      'acme',
      '2026-11-01',
      '2026-11-30',
    );
    expect(r).toMatchObject({ ok: true, value: { currency: 'EUR', timeZone: 'Europe/Rome', totalMinor: 0 } });
  });
});

describe('Italian activation request and technical data (seed 001 Art. 9)', () => {
  const AUDITOR = 'acme-auditor-token-000001';
  const lastAudit = async () => (await h!.req(AUDITOR, 'GET', '/tenants/acme/audit')).json.at(-1);
  const DATA = {
    supportServer: 'srv-appoggio-1.procura-roma.example',
    listeningSessionNumber: '2026-000417',
    addressBook: 'RUB-ROMA-17',
    supportLines: ['+39 06 9999 0001', '+39 06 9999 0002'],
    ftpServerAddress: 'sftp://ftp.procura-roma.example:2222/in',
  };

  it('an incomplete number is kept as a prefix only with the flag, and audited', async () => {
    h = await seeded();
    const r = await create({
      targets: [
        { type: 'E164', value: '06 1234 5', incomplete: true },
        { type: 'E164', value: '06 1234 5' },
      ],
    });
    expect(r.status).toBe(201);
    expect(r.json.targets).toEqual([
      { id: 't1', type: 'E164', value: '+390612345', incomplete: true },
      { id: 't2', type: 'E164', value: '+390612345', incomplete: false },
    ]);
    expect((await h.req(PROV, 'GET', W1)).json.targets[0].incomplete).toBe(true);
    const a = await lastAudit();
    expect(a.action).toBe('warrant.create');
    expect(JSON.parse(a.after).targets[0]).toEqual({ id: 't1', type: 'E164', value: '+390612345', incomplete: true });
  });

  it("records 'ambientale' as the Italian interception type; a change is audited", async () => {
    h = await seeded();
    const italian = { ...warrantBody().italian, interceptionType: 'AMBIENTALE' };
    const r = await create({ italian });
    expect(r.status).toBe(201);
    expect(r.json.italian.interceptionType).toBe('AMBIENTALE');
    expect((await h.req(PROV, 'GET', W1)).json.italian.interceptionType).toBe('AMBIENTALE');
    const m = await h.req(PROV, 'PATCH', W1, { italian: { ...italian, interceptionType: 'TELEMATICA' } });
    expect(m.status).toBe(200);
    const a = await lastAudit();
    expect(a.action).toBe('warrant.modify');
    expect([JSON.parse(a.before).italian.interceptionType, JSON.parse(a.after).italian.interceptionType]).toEqual([
      'AMBIENTALE',
      'TELEMATICA',
    ]);
  });

  it('records the technical data on the warrant: returned by GET, audited, kept by later changes', async () => {
    h = await seeded();
    expect((await create()).json.italian.technicalData).toBeNull();
    h.clock.advance(1000);
    const put = await h.req(PROV, 'PUT', `${W1}/technical-data`, DATA);
    expect(put.status).toBe(200);
    expect(put.json.version).toBe(2);
    const got = (await h.req(PROV, 'GET', W1)).json;
    expect(got.italian.technicalData).toEqual({
      ...DATA,
      recordedAtMicros: got.updatedAtMicros,
    });
    const a = await lastAudit();
    expect(a).toMatchObject({ action: 'warrant.technical-data', actor: 'acme-prov', objectId: 'IT:ROMA2026A1' });
    expect(JSON.parse(a.before).italian.technicalData).toBeNull();
    expect(JSON.parse(a.after).italian.technicalData.listeningSessionNumber).toBe('2026-000417');
    // A later change of the Italian fields does not drop what was recorded.
    const m = await h.req(PROV, 'PATCH', W1, {
      italian: { ...warrantBody().italian, judge: 'GIP Tribunale di Roma 2' },
    });
    expect(m.status).toBe(200);
    expect(m.json.italian.technicalData.addressBook).toBe('RUB-ROMA-17');
    // Replacing it is another audited version.
    const again = await h.req(PROV, 'PUT', `${W1}/technical-data`, { ...DATA, listeningSessionNumber: '2026-000418' });
    expect(again.json).toMatchObject({
      version: 4,
      italian: { technicalData: { listeningSessionNumber: '2026-000418' } },
    });
  });

  it('refuses bad technical data with the field, and data for a non-Italian warrant', async () => {
    h = await seeded();
    await create();
    const bad: [Record<string, unknown>, string][] = [
      [{ ...DATA, ftpServerAddress: 'http://ftp.example/in' }, 'ftpServerAddress'],
      [{ ...DATA, ftpServerAddress: 'ftp://user:secret@ftp.example/in' }, 'ftpServerAddress'],
      [{ ...DATA, ftpServerAddress: 'not a url' }, 'ftpServerAddress'],
      [{ ...DATA, supportLines: [] }, 'supportLines'],
      [{ ...DATA, supportServer: '   ' }, 'supportServer'],
      [{ ...DATA, listeningSessionNumber: undefined }, 'listeningSessionNumber'],
      [{ ...DATA, extra: 1 }, 'extra'],
    ];
    for (const [body, field] of bad) {
      const r = await h.req(PROV, 'PUT', `${W1}/technical-data`, body);
      expect([r.status, r.json.error.field], field).toEqual([400, field]);
    }
    expect((await h.req(PROV, 'GET', W1)).json.version).toBe(1);
    expect((await h.req(AUDITOR, 'PUT', `${W1}/technical-data`, DATA)).status).toBe(403);
    expect((await h.req(PROV, 'PUT', `${W}/IT/NOSUCH1/technical-data`, DATA)).status).toBe(404);
    const de = await create({ liid: 'DE1', authorisationCountry: 'FR', italian: null });
    expect(de.status).toBe(201);
    const r = await h.req(PROV, 'PUT', `${W}/FR/DE1/technical-data`, DATA);
    expect([r.status, r.json.error.field]).toEqual([400, 'authorisationCountry']);
  });
});
