// The web console in a real browser (Debian's Chromium driven by playwright-core, no browser
// download) against admf on the real broker, with the data path running: a tenant admin adds a
// LEMF and a provisioner a warrant through the console; a SIP call's records reach the LEMF and
// its delivery status (cc-delivery's own metrics, read by admf) shows them; an auditor verifies
// the chain and can change nothing; a read-only (SRE) user sees the delivery status and nothing
// to change; another tenant's admin sees none of it. Screenshots of the
// main screens go to docs/console/.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniqueTenant, waitFor } from '@li/testing';
import { freePort } from '@li/testing/peers';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LemfReceiver } from '../pipeline/lemf.ts';
import { type Pipeline, startPipeline } from '../pipeline/pipeline.ts';
import { SIP_SERVICE, sipCall } from '../pipeline/traffic.ts';
import { TOKENS } from './harness.ts';

const CHROMIUM = '/usr/bin/chromium';
const CONSOLE_BUILD = join(import.meta.dirname, '../../services/admf/console/dist/index.html');
const SHOTS = join(import.meta.dirname, '../../docs/console');
const OTHER_ADMIN = 'other-tenant-admin-token-e2e';
const VIEWER = 'tenant-viewer-token-e2e-0001';

const tenant = uniqueTenant('con');
const other = uniqueTenant('oth');
const lemf = new LemfReceiver({ name: 'console LEMF' });
let pipeline: Pipeline;
let base: string;
let context: BrowserContext;
let profile: string;
const problems: string[] = [];

beforeAll(async () => {
  if (!existsSync(CONSOLE_BUILD)) throw new Error('no console build: run npx turbo run build first');
  await lemf.start();
  // One token table with a second tenant's admin; cc-delivery's metrics on a known port for admf.
  const dir = mkdtempSync(join(tmpdir(), 'console-tokens-'));
  const tokens = join(dir, 'tokens.json');
  writeFileSync(
    tokens,
    JSON.stringify({
      [TOKENS.op]: { subject: 'op-admin', tenant: '*', role: 'admin' },
      [TOKENS.admin]: { subject: 'anna.admin', tenant, role: 'admin' },
      [TOKENS.prov]: { subject: 'paolo.prov', tenant, role: 'provisioner' },
      [TOKENS.audit]: { subject: 'aldo.audit', tenant, role: 'auditor' },
      [OTHER_ADMIN]: { subject: 'olga.admin', tenant: other, role: 'admin' },
      [VIEWER]: { subject: 'vera.sre', tenant, role: 'viewer' },
    }),
  );
  const metricsPort = await freePort();
  pipeline = await startPipeline({
    tenant,
    serviceEnv: {
      admf: {
        // The second tenant is created through this admf below.
        LI_SERVED_TENANTS: `${tenant},${other}`,
        LI_TOKENS_FILE: tokens,
        LI_CONSOLE__DELIVERY_METRICS_URLS: `http://127.0.0.1:${metricsPort}/metrics`,
      },
      'cc-delivery': { LI_METRICS_PORT: String(metricsPort) },
    },
  });
  const created = await pipeline.call(TOKENS.op, 'POST', '/tenants', {
    id: other,
    name: 'Other',
    defaultCountryCode: '49',
  });
  expect(created.status).toBe(201);
  expect((await pipeline.call(TOKENS.admin, 'GET', '/whoami')).json).toMatchObject({ tenant, role: 'admin' });
  base = `http://127.0.0.1:${pipeline.admfPort}`;
  profile = mkdtempSync(join(tmpdir(), 'console-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
    timezoneId: 'Europe/Rome',
    locale: 'en-GB',
  });
}, 180_000);

afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await pipeline?.stop();
  await lemf.stop();
});

/** A fresh page signed in with a token typed into the sign-in form; CSP violations and errors are collected. */
async function signIn(token: string): Promise<Page> {
  const page = await context.newPage();
  // Refused requests (401, 403, 404 the tests provoke) log "Failed to load resource"; anything
  // else at error level (a CSP violation, a script error) is a problem.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  const res = await page.goto(`${base}/console/`);
  expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
  await page.getByLabel('Access token').fill(token);
  await page.keyboard.press('Enter');
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return page;
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

describe('web console', () => {
  it('a tenant admin adds a LEMF; a provisioner adds a warrant; demo traffic shows in the LEMF status', async () => {
    const signin = await context.newPage();
    await signin.goto(`${base}/console/`);
    await shot(signin, 'sign-in');
    await signin.close();

    const admin = await signIn(TOKENS.admin);
    // The admin's screens: LEMFs and billing; no warrants (admf keeps warrants to provisioners).
    await expect(admin.getByRole('navigation').getByRole('button').allTextContents()).resolves.toEqual([
      'LEMFs',
      'Billing',
    ]);
    await admin.getByRole('button', { name: 'New LEMF' }).click();
    const form = admin.getByRole('form', { name: 'New LEMF' });
    await form.getByLabel('ID', { exact: true }).fill('lemf-rome');
    await form.getByLabel('Name', { exact: true }).fill('Procura di Roma');
    await form.getByLabel('Transport').selectOption('ETSI_TCP');
    await form.getByLabel('Host', { exact: true }).fill('127.0.0.1');
    await form.getByLabel('Port', { exact: true }).fill(String(lemf.hi2Port));
    await form.getByLabel('CC host').fill('127.0.0.1');
    await form.getByLabel('CC port').fill(String(lemf.hi3Port));
    await form.getByLabel('Keep-alive (s)', { exact: true }).fill('5');
    // Plaintext without allowInsecure: admf's 400 names the field, shown next to it.
    await form.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => form.locator('[data-error-for="tls"]').textContent()).toMatch(/allowInsecure/);
    await form.getByLabel('Allow plaintext (insecure)').check();
    await form.getByRole('button', { name: 'Save' }).click();
    await admin.locator('tr[data-lemf="lemf-rome"]').waitFor();
    await admin.close();

    const prov = await signIn(TOKENS.prov);
    await prov.getByRole('button', { name: 'New warrant' }).click();
    const w = prov.getByRole('form', { name: 'New warrant' });
    await w.getByLabel('LIID').fill('bad liid!');
    await w.getByLabel('Court Case ID').fill('RG-2026-1234');
    await w.getByLabel('Identifier').fill(SIP_SERVICE);
    for (const r of ['Login', 'Signals', 'Media']) await w.getByLabel(r, { exact: true }).check();
    await w.getByLabel('lemf-rome').check();
    // Italian fields appear for IT (the default country); left empty they are refused by name.
    await w.getByLabel('LIID').fill('ROMA2026X1');
    await w.getByRole('button', { name: 'Create' }).click();
    await expect
      .poll(() => w.locator('[data-error-for^="italian"]').allTextContents())
      .toContainEqual(expect.stringMatching(/\S/));
    await shot(prov, 'warrant-validation');
    await w.getByLabel('LIID').fill('bad liid!');
    await w.getByLabel('Authorising country').fill('DE');
    await w.getByRole('button', { name: 'Create' }).click();
    await expect.poll(() => w.locator('[data-error-for="liid"]').textContent()).toMatch(/liid|pattern/i);
    await w.getByLabel('LIID').fill('ROMA2026X1');
    await w.getByRole('button', { name: 'Create' }).click();
    const detail = prov.getByRole('article', { name: 'ROMA2026X1' });
    await detail.waitFor();
    // Lifecycle from the console: suspend, resume; each is a version in the history.
    await detail.getByLabel('Reason').fill('court order 17/2026');
    await detail.getByRole('button', { name: 'Suspend' }).click();
    await prov.getByRole('article', { name: 'ROMA2026X1' }).getByText('SUSPENDED').first().waitFor();
    await prov.getByRole('article', { name: 'ROMA2026X1' }).getByRole('button', { name: 'Resume' }).click();
    await expect
      .poll(() => prov.getByRole('article', { name: 'ROMA2026X1' }).locator('table.history tbody tr').count())
      .toBe(3);
    await shot(prov, 'warrants');
    // The address bar never carries the LIID or the target.
    expect(prov.url()).toBe(`${base}/console/`);

    // target-match follows the warrants topic: then one SIP call to the target.
    await new Promise((r) => setTimeout(r, 1500));
    const call = await sipCall(pipeline.sipUdpPort, 300);
    expect((await call.done).ok).toBe(true);
    await waitFor(() => lemf.of('ROMA2026X1').length > 0, { timeoutMs: 60_000, what: 'records at the LEMF' });
    await prov.getByRole('navigation').getByRole('button', { name: 'LEMFs' }).click();
    const row = prov.locator('tr[data-lemf="lemf-rome"]');
    await expect
      .poll(async () => Number(await row.locator('[data-col="sent"]').textContent()), { timeout: 30_000 })
      .toBeGreaterThan(0);
    await expect.poll(() => row.locator('[data-col="state"]').textContent()).toBe('Connected');
    await shot(prov, 'lemfs');
    await prov.close();
  }, 180_000);

  it('an auditor verifies the chain, exports it, and can change nothing', async () => {
    const page = await signIn(TOKENS.audit);
    await expect(page.getByRole('navigation').getByRole('button').allTextContents()).resolves.toEqual([
      'Audit',
      'Billing',
    ]);
    // Keyboard only: Tab to the verify button, Enter.
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate('document.activeElement?.textContent')) === 'Verify chain') break;
    }
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('.verdict').textContent()).toMatch(/Chain intact: \d+ records/);
    expect(await page.locator('tbody tr').count()).toBeGreaterThanOrEqual(4);
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export CSV' }).click();
    expect((await download).suggestedFilename()).toBe(`audit-${tenant}.csv`);
    await shot(page, 'audit');
    // Nothing to edit on any screen, and admf refuses a write with this token anyway.
    expect(await page.locator('form button[type=submit]').count()).toBe(0);
    await page.getByRole('navigation').getByRole('button', { name: 'Billing' }).click();
    await page.locator('section.invoice table').waitFor();
    await shot(page, 'billing');
    expect(await page.getByRole('button', { name: /New|Save|Create|Suspend|Deactivate/ }).count()).toBe(0);
    const status = await page.evaluate(
      async ([t, tok]) =>
        (
          await fetch(`/tenants/${t}/lemfs/x`, {
            method: 'PUT',
            headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' },
            body: JSON.stringify({ name: 'x', transport: 'PIPE', pipe: { entry: 'x' } }),
          })
        ).status,
      [tenant, TOKENS.audit],
    );
    expect(status).toBe(403);
    // Italian: the same screen in the regulation's language.
    await page.getByLabel('Language').selectOption('it');
    await page.getByRole('navigation').getByRole('button', { name: 'Registro' }).click();
    await page.getByRole('button', { name: 'Verifica catena' }).click();
    await expect.poll(() => page.locator('.verdict').textContent()).toMatch(/Catena integra/);
    await shot(page, 'audit-it');
    await page.close();
  }, 60_000);

  it('a read-only user sees the delivery status, no write control and no warrant', async () => {
    const page = await signIn(VIEWER);
    await expect(page.getByRole('navigation').getByRole('button').allTextContents()).resolves.toEqual(['LEMFs']);
    const row = page.locator('tr[data-lemf="lemf-rome"]');
    await expect
      .poll(async () => Number(await row.locator('[data-col="sent"]').textContent()), { timeout: 30_000 })
      .toBeGreaterThan(0);
    await expect.poll(() => row.locator('[data-col="state"]').textContent()).toBe('Connected');
    await page.getByText('Read-only: your role cannot change anything here.').waitFor();
    // No control that changes anything: no New LEMF, the LEMF id is text, not an edit button.
    expect(await page.getByRole('button', { name: /New|Save|Create|Delete|lemf-rome/ }).count()).toBe(0);
    expect(await page.locator('form').count()).toBe(0);
    expect(await page.content()).not.toContain('ROMA2026X1');
    // admf refuses a direct write (403) and any warrant read with this token.
    const statuses = await page.evaluate(
      async ([t, tok]) => {
        const headers = { authorization: `Bearer ${tok}`, 'content-type': 'application/json' };
        const put = await fetch(`/tenants/${t}/lemfs/lemf-rome`, {
          method: 'PUT',
          headers,
          body: JSON.stringify({ name: 'x', transport: 'PIPE', pipe: { entry: 'x' } }),
        });
        const warrants = await fetch(`/tenants/${t}/warrants`, { headers });
        return [put.status, warrants.status];
      },
      [tenant, VIEWER],
    );
    expect(statuses).toEqual([403, 403]);
    await page.close();
  }, 60_000);

  it('the operator-wide admin picks a tenant and sees its LEMFs', async () => {
    const page = await signIn(TOKENS.op);
    const picker = page.getByLabel('Tenant');
    await expect(picker.locator('option').allTextContents()).resolves.toEqual(expect.arrayContaining([tenant, other]));
    await picker.selectOption(tenant);
    await page.locator('tr[data-lemf="lemf-rome"]').waitFor();
    await picker.selectOption(other);
    await page.getByText('Nothing to show.').waitFor();
    await page.close();
  }, 60_000);

  it("another tenant's admin sees none of it", async () => {
    const page = await signIn(OTHER_ADMIN);
    await page.locator('table tbody').waitFor();
    expect(await page.locator('tr[data-lemf]').count()).toBe(0);
    expect(await page.content()).not.toContain('lemf-rome');
    expect(await page.content()).not.toContain(tenant);
    const statuses = await page.evaluate(
      async ([t, tok]) =>
        Promise.all(
          [`/tenants/${t}/lemfs`, `/tenants/${t}/warrants`, `/tenants/${t}/lemf-status`].map(
            async (p) => (await fetch(p, { headers: { authorization: `Bearer ${tok}` } })).status,
          ),
        ),
      [tenant, OTHER_ADMIN],
    );
    expect(statuses).toEqual([404, 404, 404]);
    await page.close();
    // No script, style or connection was blocked by the CSP and no script failed.
    expect(problems).toEqual([]);
  }, 60_000);
});
