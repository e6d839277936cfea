// Tenant onboarding for Kubernetes: one command renders the tenant's KafkaTopics, every
// deployment's KafkaUser (the grants of @li/bus access.ts), its ingest and the scalers.
//   npm run k8s:tenant -- add <tenant> [--overlay production]
//   npm run k8s:tenant -- remove <tenant> [--overlay production]
//   npm run k8s:tenant -- list [--overlay production]
// then `kubectl apply -k deploy/k8s/overlays/<overlay>`.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { validateTenant } from '@li/bus';
import { K8S_DIR, readTenantsFile } from './generate.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { overlay: { type: 'string', default: 'production' } },
});
const [command, tenant] = positionals;
const overlay = values.overlay;

function fail(message: string): never {
  console.error(`k8s:tenant: ${message}`);
  process.exit(2);
}

const t = (() => {
  try {
    return readTenantsFile(overlay);
  } catch {
    return fail(`no overlays/${overlay}/tenants.json`);
  }
})();

if (command === 'list') {
  console.log(t.tenants.join('\n'));
  process.exit(0);
}
if ((command !== 'add' && command !== 'remove') || !tenant) fail('usage: add|remove <tenant> [--overlay NAME] | list');
try {
  validateTenant(tenant);
} catch (e) {
  fail((e as Error).message);
}
if (command === 'add') {
  if (t.tenants.includes(tenant)) fail(`${tenant} is already a tenant of ${overlay}`);
  t.tenants = [...t.tenants, tenant].sort();
} else {
  if (!t.tenants.includes(tenant)) fail(`${tenant} is not a tenant of ${overlay}`);
  if (t.tenants.length === 1) fail('an overlay keeps at least one tenant');
  t.tenants = t.tenants.filter((x) => x !== tenant);
}
const file = join(K8S_DIR, 'overlays', overlay, 'tenants.json');
writeFileSync(file, `${JSON.stringify(t, null, 2)}\n`);
// In the repository's format, so that `npm run lint` stays clean after onboarding.
spawnSync('npx', ['biome', 'format', '--write', file], { stdio: 'ignore' });
const r = spawnSync(process.execPath, [join(import.meta.dirname, 'generate-cli.ts')], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
console.log(`${overlay}: tenants ${t.tenants.join(', ')}; apply with: kubectl apply -k deploy/k8s/overlays/${overlay}`);
