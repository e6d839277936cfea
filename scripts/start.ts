// `npm start`: the local Kafka and schema registry, every service that can run, and the demo
// when there is one. Ctrl-C stops the services, then the infra this script started.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICES, type ServiceName } from '@li/bus';
import { localPrincipal, securityEnv } from '@li/testing';

const root = join(import.meta.dirname, '..');
const infra = join(root, 'deploy/local/infra.sh');
const children: { name: string; proc: ChildProcess }[] = [];
let stopping = false;

function infraCmd(cmd: string): number {
  return spawnSync('bash', [infra, cmd], { cwd: root, stdio: cmd === 'ready' ? 'ignore' : 'inherit' }).status ?? 1;
}

const startedInfra = infraCmd('ready') !== 0;
if (startedInfra && infraCmd('up') !== 0) {
  console.error('the local infra did not start; see .run/infra/*/stdout.log');
  process.exit(1);
}
console.log(
  `local infra ready: Kafka ${process.env.LI_KAFKA_BROKERS ?? '127.0.0.1:9092'} (SASL_SSL), schema registry ${process.env.LI_SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7'}`,
);

// Every service connects as its own principal; onboarding the demo tenant grants each the ACLs of
// a deployment serving it (scripts/kafka-access.ts, from the access description in @li/bus).
const kafkaAccess = (...args: string[]) =>
  spawnSync(process.execPath, [join(root, 'scripts/kafka-access.ts'), ...args], { cwd: root, stdio: 'inherit' }).status;
if (kafkaAccess('tenant', 'add', 'demo') !== 0 || kafkaAccess('grant', 'admf') !== 0) {
  console.error('could not grant the local services their Kafka ACLs');
  process.exit(1);
}

const services = readdirSync(join(root, 'services')).filter((s) =>
  existsSync(join(root, 'services', s, 'src/main.ts')),
);
const notYet = readdirSync(join(root, 'services')).filter((s) => !services.includes(s));
if (notYet.length > 0) console.log(`not runnable yet (no src/main.ts): ${notYet.join(', ')}`);

// Local configuration: one demo tenant, everything on loopback. Development tokens only:
// deploy/local/dev-tokens.json is not a secret and must never be used elsewhere. Any LI_*
// variable already set in the environment wins.
const localEnv: Record<string, string> = {
  LI_TENANTS: 'demo',
  LI_TENANT: 'demo',
  LI_OPERATOR_IDENTIFIER: 'DEMO',
  LI_METRICS_HOST: '127.0.0.1',
  LI_HTTP__HOST: '127.0.0.1',
  LI_SIP__HOST: '127.0.0.1',
  LI_SIP__UDP_PORT: '15060',
  LI_SIP__TCP_PORT: '15060',
  LI_MAIL_EVENTS__HOST: '127.0.0.1',
  LI_TOKENS_FILE: join(root, 'deploy/local/dev-tokens.json'),
  LI_LOCAL_STORAGE__DIRECTORY: join(root, '.run/mcid-acr'),
  LI_SECRETS_DIR: join(root, '.run/secrets'),
  // admf's web console reads each LEMF's status from cc-delivery's metrics (its default port).
  LI_CONSOLE__DELIVERY_METRICS_URLS: 'http://127.0.0.1:9465/metrics',
};
// The demo's mail and MSN peers are seen by packet capture on the loopback, which needs root
// (tcpdump); without it the demo runs SIP calls only. Ports as in test/demo/run.ts.
const capture = process.getuid?.() === 0 && spawnSync('tcpdump', ['--version'], { stdio: 'ignore' }).status === 0;
if (capture) {
  Object.assign(localEnv, {
    LI_CAPTURE__INTERFACE: 'lo',
    LI_CAPTURE__FILTER: 'tcp port 2525 or tcp port 10143 or tcp port 1863',
    LI_CAPTURE__SMTP_PORTS: '2525',
    LI_CAPTURE__IMAP_PORTS: '10143',
    LI_CAPTURE__MSNP_PORTS: '1863',
    LI_DEMO_CAPTURE: '1',
  });
}
for (const [k, v] of Object.entries(process.env)) if (k.startsWith('LI_') && v !== undefined) localEnv[k] = v;

// admf serves the web console's production build: build it when a fresh checkout has none.
if (!existsSync(join(root, 'services/admf/console/dist/index.html'))) {
  spawnSync('npm', ['run', 'build:console', '-w', 'services/admf'], { cwd: root, stdio: 'inherit' });
}

const colours = [36, 33, 35, 32, 34, 31];
function prefixLines(name: string, colour: number, stream: NodeJS.ReadableStream, out: NodeJS.WritableStream): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) out.write(`\x1b[${colour}m${name.padEnd(13)}\x1b[0m ${line}\n`);
  });
}

// With the demo's live view on the terminal, the services log to files instead.
const demo = join(root, 'test/demo/run.ts');
const logDir = join(root, '.run/logs');
const toFiles = existsSync(demo);
if (toFiles) {
  mkdirSync(logDir, { recursive: true });
  console.log(`service logs: ${logDir}/<service>.log`);
}

services.forEach((name, i) => {
  const proc = spawn(process.execPath, [join(root, 'services', name, 'src/main.ts')], {
    cwd: join(root, 'services', name),
    env: {
      ...process.env,
      ...((SERVICES as readonly string[]).includes(name) ? securityEnv(localPrincipal(name as ServiceName)) : {}),
      ...localEnv,
      LI_INSTANCE_ID: `${name}-local`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const colour = colours[i % colours.length] ?? 36;
  if (toFiles) {
    const file = createWriteStream(join(logDir, `${name}.log`));
    proc.stdout!.pipe(file);
    proc.stderr!.pipe(file);
  } else {
    prefixLines(name, colour, proc.stdout!, process.stdout);
    prefixLines(name, colour, proc.stderr!, process.stderr);
  }
  proc.on('exit', (code, signal) => {
    if (!stopping) {
      const where = toFiles ? ` (see ${join(logDir, `${name}.log`)})` : '';
      console.error(`${name} exited (${signal ?? code})${where}; stopping everything`);
    }
    void stop(stopping ? 0 : 1);
  });
  children.push({ name, proc });
});

// The console's address with a development token (deploy/local/dev-tokens.json, never a real
// one) in the fragment: browsers do not send fragments, and the console clears it at once.
if (services.includes('admf')) {
  const consoleUrl = `http://${localEnv.LI_HTTP__HOST}:${localEnv.LI_HTTP__PORT ?? '8080'}/console/`;
  console.log(`web console: ${consoleUrl}#token=dev-demo-provisioner-token-01  (provisioner of tenant demo)`);
  console.log(
    `  other development tokens: dev-demo-admin-token-local-01 (admin), dev-demo-auditor-token-local1 (auditor), dev-operator-admin-token-local (operator)`,
  );
}

if (toFiles) {
  const proc = spawn(process.execPath, [demo], { cwd: root, stdio: 'inherit', env: { ...process.env, ...localEnv } });
  proc.on('exit', (code) => void stop(code ?? 0));
  children.push({ name: 'demo', proc });
} else {
  console.log(services.length > 0 ? `running: ${services.join(', ')} — Ctrl-C stops them` : 'no service to run yet');
  if (services.length === 0) void stop(0);
}

async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const exits = children.map(
    ({ proc }) =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 15_000).unref();
      }),
  );
  await Promise.all(exits);
  if (startedInfra) infraCmd('down');
  else console.log('leaving the local infra running (it was running before npm start); npm run infra:down stops it');
  process.exit(code);
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
