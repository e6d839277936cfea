// `npm test`: type check, lint and every package's tests, against the local Kafka and schema
// registry. Starts them if they are not running (and stops them again afterwards), so that
// `npm ci && npm test` works on a fresh clone.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const infra = join(root, 'deploy/local/infra.sh');
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' };

function run(cmd: string, args: string[], opts: { quiet?: boolean } = {}): number {
  const r = spawnSync(cmd, args, { cwd: root, env, stdio: opts.quiet ? 'ignore' : 'inherit' });
  return r.status ?? 1;
}

const major = Number(process.versions.node.split('.')[0]);
if (major !== 26) {
  console.error(`expected Node 26 (the pinned "node" devDependency), got ${process.version}: run through npm scripts`);
  process.exit(1);
}
console.log(`node ${process.version} (${process.execPath})`);

let startedInfra = false;
if (run('bash', [infra, 'ready'], { quiet: true }) !== 0) {
  console.log('starting the local Kafka and schema registry (deploy/local/infra.sh up)');
  if (run('bash', [infra, 'up']) !== 0) {
    console.error('the local infra did not start; see .run/infra/*/stdout.log');
    process.exit(1);
  }
  startedInfra = !process.env.LI_KEEP_INFRA;
}

rmSync(join(root, '.run/test-counts'), { recursive: true, force: true });
const turbo = run('turbo', [
  'run',
  'build',
  'lint',
  'test',
  'lint:root',
  '--concurrency=2',
  '--continue',
  '--output-logs=new-only',
  '--log-order=grouped',
  ...process.argv.slice(2),
]);
const summary = run(process.execPath, [join(root, 'scripts/test-summary.ts')]);
if (startedInfra) run('bash', [infra, 'down']);
process.exit(turbo !== 0 ? turbo : summary);
