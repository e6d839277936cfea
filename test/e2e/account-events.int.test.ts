// Account renames and removals where the mail server is Dovecot: Dovecot's event exporter has no
// event for them, so the provisioning system posts them to ingest as generic mail events, exactly
// as docs/ARCHITECTURE.md ("Account events") says; admf follows them into the warrant of a tenant
// it did not know when it started.
import { admfService } from '@li/admf/service';
import { ingestService } from '@li/ingest/service';
import { startService } from '@li/runtime';
import { serviceEnv, uniqueTenant, waitFor } from '@li/testing';
import { describe, expect, it } from 'vitest';
import { api, TOKENS, tokensFile } from './harness.ts';

describe('account events from the provisioning system', () => {
  it('a rename and a removal posted to ingest reach the warrant through admf', async () => {
    const tenant = uniqueTenant('acct');
    const tokens = tokensFile(tenant);
    const admf = await startService(
      admfService,
      await serviceEnv('admf', [tenant], { LI_HTTP__HOST: '127.0.0.1', LI_HTTP__PORT: '0', LI_TOKENS_FILE: tokens }),
    );
    let ingest: Awaited<ReturnType<typeof startService>> | undefined;
    try {
      const call = api(admf.ports.http!);
      expect(
        (await call(TOKENS.op, 'POST', '/tenants', { id: tenant, name: 'A', defaultCountryCode: '49' })).status,
      ).toBe(201);
      const lemf = {
        name: 'L',
        transport: 'ETSI_TCP',
        address: { host: '127.0.0.1', port: 16000 },
        allowInsecure: true,
      };
      expect((await call(TOKENS.admin, 'PUT', `/tenants/${tenant}/lemfs/lemf-1`, lemf)).status).toBe(200);
      const warrant = {
        liid: 'ACCT1',
        authorisationCountry: 'DE',
        courtCaseId: 'AZ-1',
        interceptionKind: 'EMAIL',
        targets: [
          { type: 'MAIL_ACCOUNT', value: 'jdoe' },
          { type: 'EMAIL', value: 'other@example.org' },
        ],
        selection: { login: true, newMail: true },
        deliver: 'IRI_AND_CC',
        lemfIds: ['lemf-1'],
        validFrom: new Date(Date.now() - 60_000).toISOString(),
        validUntil: new Date(Date.now() + 86_400_000).toISOString(),
      };
      expect((await call(TOKENS.prov, 'POST', `/tenants/${tenant}/warrants`, warrant)).status).toBe(201);
      ingest = await startService(
        ingestService,
        await serviceEnv('ingest', [tenant], {
          LI_TENANT: tenant,
          LI_TOKENS_FILE: tokens,
          LI_SIP__ENABLED: 'false',
          LI_MAIL_EVENTS__HOST: '127.0.0.1',
          LI_MAIL_EVENTS__PORT: '0',
        }),
      );
      const post = async (body: unknown) => {
        const res = await fetch(`http://127.0.0.1:${ingest!.ports.mailEvents}/ingest/mail-events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKENS.mail}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        return { status: res.status, json: await res.json() };
      };
      const targets = async () =>
        (await call(TOKENS.prov, 'GET', `/tenants/${tenant}/warrants/DE/ACCT1`)).json.targets.map(
          (t: { type: string; value: string }) => `${t.type}:${t.value}`,
        );

      expect(
        await post({ type: 'account.renamed', account: 'jdoe', newAccount: 'john', time: new Date().toISOString() }),
      ).toEqual({ status: 200, json: { accepted: 1 } });
      await waitFor(async () => (await targets()).includes('MAIL_ACCOUNT:john'), {
        what: 'the rename posted to ingest applied to the warrant',
        timeoutMs: 45_000,
        intervalMs: 300,
      });
      expect(
        await post({ type: 'account.removed', account: 'other@example.org', time: Math.floor(Date.now() / 1000) }),
      ).toEqual({ status: 200, json: { accepted: 1 } });
      await waitFor(async () => (await targets()).length === 1, {
        what: 'the removal posted to ingest applied to the warrant',
        timeoutMs: 45_000,
        intervalMs: 300,
      });
      expect(await targets()).toEqual(['MAIL_ACCOUNT:john']);
      // A body that cannot be an account event is refused at the door, with the reason.
      const bad = await post({ type: 'account.renamed', account: 'john', time: 1 });
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.json)).toMatch(/newAccount/);
    } finally {
      await ingest?.stop();
      await admf.stop();
    }
  }, 120_000);
});
