// The `npm start` demo. scripts/start.ts runs the services for tenant `demo`; this script creates
// that tenant through admf's API, provisions it and drives its traffic round after round
// (scenario.ts, shared with the end-to-end test e2e/demo.int.test.ts: three LEMFs, a warrant each
// for a SIP number, a mail account and an MSN user; a SIPp call mirrored to ingest, an SMTP
// submission and an IMAP session with a real Dovecot, an MSN conversation, the last three
// captured by ingest's tcpdump) and shows what the LEMFs receive, decoded.
// Ctrl-C stops it; LI_DEMO_ROUNDS=n stops it after n rounds. At the end it waits (bounded by
// LI_DEMO_DRAIN_SECONDS, default 60) for the pipeline to drain, then reports per LIID and LEMF
// whether the sequence numbers are complete, and exits 1 when they are not.
import { api } from '../e2e/harness.ts';
import type { LemfReceiver, ReceivedRecord } from '../pipeline/lemf.ts';
import { MAIL_USER, MSN_ACCOUNT, type Peers, SIP_SERVICE, startPeers } from '../pipeline/traffic.ts';
import { drain, received, report } from './end.ts';
import { PipelineOffsets } from './pipeline-offsets.ts';
import { type DemoLemfs, type DemoLiids, demoLemfIds, demoLemfs, demoTraffic, provisionDemo } from './scenario.ts';

const env = process.env;
const ADMF = Number(env.LI_DEMO_ADMF_PORT ?? 8080);
const SIP_PORT = Number(env.LI_SIP__UDP_PORT ?? 15060);
const CAPTURE = env.LI_DEMO_CAPTURE === '1';
const ROUNDS = Number(env.LI_DEMO_ROUNDS ?? 0); // 0: until Ctrl-C
const DRAIN_MS = Number(env.LI_DEMO_DRAIN_SECONDS ?? 60) * 1000;
// Drained once the LEMFs' count has not grown for this long with nothing left to commit.
const QUIET_MS = 3000;
const TENANTS = (env.LI_TENANTS ?? 'demo').split(',').map((t) => t.trim());
// The ports start.ts told ingest to capture (it sets the same ones).
export const DEMO_PORTS = { smtp: 2525, imap: 10143, msn: 1863 };
// Development tokens from deploy/local/dev-tokens.json: not secrets, never for real use.
const OPERATOR = 'dev-operator-admin-token-local';
const tokens = { admin: 'dev-demo-admin-token-local-01', prov: 'dev-demo-provisioner-token-01' };
const READY_PORTS: Record<string, number> = {
  admf: 9460,
  ingest: 9461,
  'iri-encoder': 9462,
  'target-match': 9463,
  'cc-delivery': 9465,
};

const say = (s: string) => console.log(`\x1b[1mdemo\x1b[0m ${s}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let stopping = false;

async function waitReady(): Promise<void> {
  for (const [name, port] of Object.entries(READY_PORTS)) {
    for (let i = 0; ; i++) {
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      if (stopping) return;
      if (i === 120) throw new Error(`${name} is not ready after 60 s (http://127.0.0.1:${port}/readyz)`);
      await sleep(500);
    }
  }
}

// ---------------------------------------------------------------- live view
const started = Date.now();
const progress: string[] = [];
const note = (s: string) => {
  progress.push(`${new Date().toISOString().slice(11, 19)} ${s}`);
  if (progress.length > 6) progress.shift();
};

function table(lemfs: LemfReceiver[]): string {
  const lines: string[] = [];
  for (const l of lemfs) {
    lines.push(
      `\x1b[1m${l.name}\x1b[0m  (HI2 :${l.hi2Port}, HI3 :${l.hi3Port}, keep-alives answered: ${l.keepalives})`,
    );
    const byLiid = new Map<string, Map<string, number>>();
    for (const r of l.records) {
      const m = byLiid.get(r.liid) ?? new Map<string, number>();
      const k = `${r.handover} ${r.type}`;
      m.set(k, (m.get(k) ?? 0) + 1);
      byLiid.set(r.liid, m);
    }
    if (byLiid.size === 0) lines.push('    (nothing yet)');
    for (const [liid, m] of byLiid) {
      const total = [...m.values()].reduce((a, b) => a + b, 0);
      lines.push(`  LIID ${liid}: ${total} records`);
      for (const [k, n] of [...m].sort()) lines.push(`    ${String(n).padStart(5)}  ${k}`);
    }
  }
  return lines.join('\n');
}

function lastRecord(records: ReceivedRecord[]): string {
  const r = records.at(-1);
  return r ? `last: ${r.liid} ${r.handover} ${r.type} CIN ${r.cin} seq ${r.seq}` : '';
}

function render(lemfs: LemfReceiver[], round: number): void {
  const all = lemfs.flatMap((l) => l.records);
  const body = [
    `\x1b[1mLEMF view\x1b[0m  tenant demo, round ${round}${ROUNDS ? `/${ROUNDS}` : ''}, ${Math.round((Date.now() - started) / 1000)} s, ${all.length} records decoded  ${lastRecord(all)}`,
    '',
    table(lemfs),
    '',
    '\x1b[1mprogress\x1b[0m',
    ...progress.map((p) => `  ${p}`),
    '',
    'Ctrl-C stops the demo and every service.',
  ].join('\n');
  if (process.stdout.isTTY) process.stdout.write(`\x1b[2J\x1b[H${body}\n`);
  else console.log(`${body}\n`);
}

// ---------------------------------------------------------------- provisioning
/** Creates the tenant (if new), then the demo's LEMFs and warrants (scenario.ts). */
async function provision(lemfs: DemoLemfs, suffix: string): Promise<DemoLiids> {
  const call = api(ADMF);
  const tenant = await call(OPERATOR, 'POST', '/tenants', {
    id: 'demo',
    name: 'Demo provider',
    defaultCountryCode: '39',
  });
  if (tenant.status !== 201 && tenant.status !== 409) throw new Error(`tenant: ${JSON.stringify(tenant.json)}`);
  return provisionDemo({ tenant: 'demo', call, tokens }, lemfs, suffix);
}

// ---------------------------------------------------------------- main
async function main(): Promise<boolean> {
  say('waiting for the services to be ready');
  await waitReady();
  if (stopping) return true;
  const lemfs = demoLemfs();
  const offsets = await PipelineOffsets.connect(TENANTS, demoLemfIds(lemfs));
  const dlqBefore = await offsets.dlqEnds();
  for (const l of Object.values(lemfs)) await l.start();
  const suffix = Date.now().toString(36).toUpperCase();
  const liids = await provision(lemfs, suffix);
  say(`tenant demo: warrants ${Object.values(liids).join(', ')} for ${SIP_SERVICE}, ${MAIL_USER}, ${MSN_ACCOUNT}`);
  let peers: Peers | null = null;
  if (CAPTURE) {
    peers = await startPeers(DEMO_PORTS);
    say(`peers: SMTP :${peers.smtpPort}, Dovecot IMAP :${peers.imapPort}, MSN :${peers.msnPort} (captured on lo)`);
  } else {
    say('mail and MSN sessions need packet capture (tcpdump as root); running SIP calls only');
  }
  const list = Object.values(lemfs);
  let round = 0;
  const view = setInterval(() => render(list, round), process.stdout.isTTY ? 1000 : 5000);
  try {
    await demoTraffic({
      sipPort: SIP_PORT,
      peers,
      rounds: ROUNDS,
      note,
      stopping: () => stopping,
      onRound: (n) => {
        round = n;
      },
    });
    clearInterval(view);
    render(list, round);
    const drained = await drain(list, offsets, {
      drainMs: DRAIN_MS,
      quietMs: QUIET_MS,
      say,
      stopping: () => stopping,
    });
    const v = report(list, Object.values(liids), drained, { before: dlqBefore, after: await offsets.dlqEnds() });
    say(`done: ${received(list)} records received`);
    return v.complete;
  } finally {
    clearInterval(view);
    for (const l of list) await l.stop();
    await peers?.stop();
    await offsets.close();
  }
}

process.on('SIGINT', () => {
  stopping = true;
});
process.on('SIGTERM', () => {
  stopping = true;
});
main().then(
  (complete) => process.exit(complete ? 0 : 1),
  (err: unknown) => {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
