// The local overlay for real: the image built by deploy/image/build.sh, the overlay rendered by
// kubectl kustomize for a fresh tenant, its Deployments run by `podman kube play` on the host
// network against the local Kafka and schema registry. Every service must report ready on
// /readyz, and a warrant's record must reach a LEMF (a login posted to ingest's mail-events API
// → target-match → iri-encoder → cc-delivery → an ETSI TCP receiver in this test).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LemfReceiver } from '@li/e2e/lemf';
import { addEtsiLemf, addWarrant } from '@li/e2e/pipeline';
import { grantDeployment, localSecurity, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { freePort } from '@li/testing/peers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { K8S_DIR, REPO_ROOT, readTenantsFile, toYaml } from './generate.ts';
import { forPodman, podman } from './kube-play.ts';
import { renderKustomization } from './render.ts';
import { renderTenants } from './tenants.ts';

const SERVICES = ['admf', 'target-match', 'iri-encoder', 'cc-delivery', 'mcid-store', 'ingest'] as const;
const TOKENS = {
  op: `k8s-operator-${randomBytes(8).toString('hex')}`,
  admin: `k8s-admin-${randomBytes(8).toString('hex')}`,
  prov: `k8s-prov-${randomBytes(8).toString('hex')}`,
  mail: `k8s-mail-${randomBytes(8).toString('hex')}`,
};

describe('the local overlay under podman kube play', () => {
  const tenant = uniqueTenant('k8s');
  const tmp = mkdtempSync(join(tmpdir(), 'li-kube-play-'));
  chmodSync(tmp, 0o755);
  const playFile = join(tmp, 'play.yaml');
  let ports: Record<string, Record<string, number>> = {};
  let played = false;
  let passed = false;
  const lemf = new LemfReceiver({ name: 'k8s-lemf' });

  beforeAll(async () => {
    const image = spawnImageBuild();
    expect(image.status, image.out).toBe(0);

    // The overlay for this test's tenant, generated as `npm run k8s:tenant` would.
    for (const d of ['base', 'components', 'overlays']) cpSync(join(K8S_DIR, d), join(tmp, d), { recursive: true });
    const { files, kustomization } = renderTenants({ ...readTenantsFile('local'), tenants: [tenant] }, '');
    rmSync(join(tmp, 'overlays/local/tenants'), { recursive: true });
    for (const f of [{ path: 'kustomization.yaml', objects: [kustomization] }, ...files]) {
      const p = join(tmp, 'overlays/local/tenants', f.path);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, toYaml(f.objects));
    }
    const rendered = renderKustomization(join(tmp, 'overlays/local'));

    // Each service's local principal gets the ACLs of a deployment serving the tenant.
    for (const s of SERVICES) await grantDeployment(s, s === 'admf' ? [] : [tenant]);
    const infra = testInfra();
    const tokens = JSON.stringify({
      [TOKENS.op]: { subject: 'op', tenant: '*', role: 'admin' },
      [TOKENS.admin]: { subject: 'admin', tenant, role: 'admin' },
      [TOKENS.prov]: { subject: 'prov', tenant, role: 'provisioner' },
      [TOKENS.mail]: { subject: 'mail', tenant, role: 'mailserver' },
    });
    const password = (s: string) => readFileSync(localSecurity(`li-${s}`).sasl!.passwordFile, 'utf8');
    const id = randomBytes(4).toString('hex');
    const secrets: Record<string, Record<string, string>> = {
      'li-kafka-cluster-ca-cert': { 'ca.crt': readFileSync(localSecurity('admin').tls!.caFile!, 'utf8') },
      ...Object.fromEntries(SERVICES.map((s) => [`li-${s}`, { password: password(s) }])),
      'li-admf-tokens': { 'tokens.json': tokens },
      'li-mcid-store-tokens': { 'tokens.json': tokens },
      [`li-ingest-tokens-${tenant}`]: { 'tokens.json': tokens },
    };
    const play = await forPodman(rendered, {
      common: {
        LI_KAFKA_BROKERS: infra.brokers.join(','),
        LI_SCHEMA_REGISTRY_URL: infra.registryUrl,
        LI_OPERATOR_IDENTIFIER: 'K8S',
      },
      containerEnv: {
        // A deployment of its own: other admfs on this broker keep their groups and ids.
        admf: { LI_EVENTS_GROUP_ID: `li.admf.k8s${id}`, LI_INSTANCE_ID: `k8s-${id}`, LI_HTTP__HOST: '127.0.0.1' },
        ingest: { LI_MAIL_EVENTS__HOST: '127.0.0.1', LI_SIP__HOST: '127.0.0.1' },
        'mcid-store': { LI_HTTP__HOST: '127.0.0.1' },
      },
      port: freePort,
      secrets,
      secretsDir: join(tmp, 'secrets'),
    });
    ports = play.ports;
    writeFileSync(playFile, toYaml(play.objects));
    await lemf.start();
    const r = podman(['kube', 'play', '--replace', '--network', 'host', playFile]);
    played = true;
    expect(r.status, r.out).toBe(0);
  }, 600_000);

  afterAll(async () => {
    if (played) {
      // A failed run shows what each container said last (services log no identifiers).
      if (!passed) {
        for (const name of podman(['ps', '-a', '--format', '{{.Names}}']).out.split('\n')) {
          if (!/^li-.*-pod-0-/.test(name)) continue;
          console.error(`--- ${name}\n${podman(['logs', '--tail', '20', name]).out}`);
        }
      }
      podman(['kube', 'down', playFile]);
    }
    await lemf.stop();
    rmSync(tmp, { recursive: true, force: true });
  }, 120_000);

  it('every service reports ready, and a warrant record reaches the LEMF', async () => {
    for (const s of SERVICES) {
      const port = ports[s]!.LI_METRICS_PORT!;
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200, {
        what: `${s} ready on /readyz (port ${port})`,
        timeoutMs: 180_000,
        intervalMs: 1000,
      });
    }
    const admf = ports.admf!.LI_HTTP__PORT!;
    const call = async (token: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`http://127.0.0.1:${admf}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : null,
      });
      const text = await res.text();
      return { status: res.status, json: (text ? JSON.parse(text) : null) as unknown };
    };
    expect(
      (await call(TOKENS.op, 'POST', '/tenants', { id: tenant, name: 'K8S', defaultCountryCode: '39' })).status,
    ).toBe(201);
    const p = { tenant, call, tokens: { admin: TOKENS.admin, prov: TOKENS.prov } };
    await addEtsiLemf(p, 'lemf-1', lemf);
    await addWarrant(p, {
      liid: 'K8S1',
      kind: 'EMAIL',
      target: { type: 'MAIL_ACCOUNT', value: 'jdoe' },
      lemfIds: ['lemf-1'],
    });
    const mail = ports.ingest!.LI_MAIL_EVENTS__PORT!;
    // The warrant reaches target-match through Kafka: post until a login is matched and delivered.
    await waitFor(
      async () => {
        if (lemf.of('K8S1').length > 0) return true;
        const res = await fetch(`http://127.0.0.1:${mail}/ingest/mail-events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKENS.mail}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            type: 'login',
            account: 'jdoe',
            protocol: 'imap',
            result: 'success',
            time: new Date().toISOString(),
          }),
        });
        expect(res.status).toBe(200);
        return false;
      },
      { what: 'a record of warrant K8S1 at the LEMF', timeoutMs: 120_000, intervalMs: 3000 },
    );
    expect(lemf.of('K8S1')[0]!.handover).toBe('HI2');
    passed = true;
  }, 600_000);
});

function spawnImageBuild(): { status: number; out: string } {
  const r = spawnSync('bash', [join(REPO_ROOT, 'deploy/image/build.sh')], { encoding: 'utf8', timeout: 600_000 });
  return { status: r.status ?? 1, out: `${r.stdout}${r.stderr}`.slice(-4000) };
}
