// The `npm start` demo. scripts/start.ts runs the services for tenant `demo`; this script
// provisions that tenant through admf's API (three LEMFs, a warrant each for a SIP number, a
// mail account and an MSN user), drives real traffic round after round (a SIPp call mirrored to
// ingest, an SMTP submission and an IMAP session with a real Dovecot, an MSN conversation, the
// last three captured by ingest's tcpdump) and shows what the LEMFs receive, decoded.
// Ctrl-C stops it; LI_DEMO_ROUNDS=n stops it after n rounds. At the end it waits (bounded by
// LI_DEMO_DRAIN_SECONDS, default 60) for the pipeline to drain, then reports per LIID and LEMF
// whether the sequence numbers are complete, and exits 1 when they are not.
import { msnConversation } from '@li/testing/msnp';
import { api } from '../e2e/harness.ts';
import { LemfReceiver, type ReceivedRecord } from '../pipeline/lemf.ts';
import { addEtsiLemf, addWarrant, endWarrant, type Provisioning } from '../pipeline/pipeline.ts';
import {
  imapSession,
  MAIL_USER,
  MSN_ACCOUNT,
  type Peers,
  SIP_SERVICE,
  sipCall,
  smtpSession,
  startPeers,
} from '../pipeline/traffic.ts';
import { type Backlog, PipelineOffsets } from './pipeline-offsets.ts';
import { checkSequences, DrainTracker, describeCheck, isComplete, type StreamCheck, verdict } from './report.ts';

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
async function provision(lemfs: Record<string, LemfReceiver>, suffix: string): Promise<Record<string, string>> {
  const call = api(ADMF);
  const tenant = await call(OPERATOR, 'POST', '/tenants', {
    id: 'demo',
    name: 'Demo provider',
    defaultCountryCode: '39',
  });
  if (tenant.status !== 201 && tenant.status !== 409) throw new Error(`tenant: ${JSON.stringify(tenant.json)}`);
  const p: Provisioning = { tenant: 'demo', call, tokens };
  // Warrants of earlier runs would still deliver to these LEMF ids: end them first (their
  // LEMFs are told so by an HI1 liDeactivated).
  const earlier = await call(tokens.prov, 'GET', '/tenants/demo/warrants');
  for (const w of earlier.status === 200
    ? (earlier.json as { liid: string; authorisationCountry: string; state: string }[])
    : []) {
    if (w.state === 'ACTIVE') await endWarrant(p, w.liid, w.authorisationCountry);
  }
  for (const [id, l] of Object.entries(lemfs)) await addEtsiLemf(p, `lemf-${id}`, l);
  // LIIDs carry the run's suffix: warrants of earlier runs stay in the warrant topic.
  const liids = { voice: `SIP${suffix}`, mail: `MAIL${suffix}`, msn: `MSN${suffix}` };
  await addWarrant(p, {
    liid: liids.voice,
    kind: 'VOICE',
    target: { type: 'E164', value: SIP_SERVICE },
    lemfIds: ['lemf-voice'],
  });
  await addWarrant(p, {
    liid: liids.mail,
    kind: 'EMAIL',
    target: { type: 'MAIL_ACCOUNT', value: MAIL_USER },
    lemfIds: ['lemf-mail'],
  });
  await addWarrant(p, {
    liid: liids.msn,
    kind: 'MESSAGING',
    target: { type: 'EMAIL', value: MSN_ACCOUNT },
    lemfIds: ['lemf-msn'],
  });
  return liids;
}

// ---------------------------------------------------------------- end of the run
const received = (lemfs: LemfReceiver[]) => lemfs.reduce((n, l) => n + l.records.length, 0);
const perService = (b: Backlog) =>
  Object.entries(b.byService)
    .map(([s, n]) => `${s} ${n}`)
    .join(', ');

const partsOf = (b: Backlog) =>
  b.parts.map((p) => `${p.groupId} ${p.topic}[${p.partition}] ${p.high - p.from}`).join(', ');

/**
 * Waits until nothing is left to commit and the LEMFs' count stays put, or the deadline passes.
 * `left`: records still on their way to the LEMFs.
 */
async function drain(lemfs: LemfReceiver[], offsets: PipelineOffsets): Promise<{ left: number; settled: boolean }> {
  const tracker = new DrainTracker(QUIET_MS);
  const deadline = Date.now() + DRAIN_MS;
  let toldAt = 0;
  let inspectedAt = 0;
  for (;;) {
    const backlog = await offsets.backlog();
    const now = Date.now();
    const count = received(lemfs);
    const status = tracker.observe({ atMs: now, received: count, backlog: backlog.total });
    if (status === 'drained') {
      say(`pipeline drained: nothing left to commit, the LEMFs hold ${count} records`);
      return { left: 0, settled: true };
    }
    // On Ctrl-C the services are stopping too: report what arrived without waiting.
    if (stopping) return { left: backlog.total, settled: true };
    const ccOnly = backlog.total === backlog.byService['cc-delivery'];
    // A LEMF's group may stay behind other LEMFs' records it has read past: look at what they are.
    if (ccOnly && (status === 'quiet' || now >= deadline) && (now - inspectedAt >= 10_000 || now >= deadline)) {
      inspectedAt = now;
      const own = await offsets.addressed(backlog.parts);
      if (own === 0) {
        say(
          `pipeline drained: the LEMFs hold ${count} records; cc-delivery has not committed ${backlog.total} offsets it read past, none of them addressed to its LEMF (${partsOf(backlog)})`,
        );
        return { left: 0, settled: true };
      }
      if (now >= deadline) return gaveUp(own, backlog, count);
    }
    if (now >= deadline) return gaveUp(backlog.total, backlog, count);
    if (now - toldAt >= 2000) {
      say(
        backlog.total > 0
          ? `waiting for ${backlog.total} records still in the pipeline (${perService(backlog)}); the LEMFs hold ${count}`
          : `waiting for the LEMFs' count to settle (${count} records)`,
      );
      toldAt = now;
    }
    await sleep(500);
  }
}

function gaveUp(left: number, backlog: Backlog, count: number): { left: number; settled: boolean } {
  say(
    `\x1b[31mgave up waiting after ${DRAIN_MS / 1000} s\x1b[0m: ${left} records still in the pipeline (${partsOf(backlog) || 'none uncommitted'}), the LEMFs hold ${count}; LI_DEMO_DRAIN_SECONDS sets the wait`,
  );
  return { left, settled: false };
}

/** Per LEMF and LIID: records, CINs and whether each (CIN, handover) is 0..n. True when complete. */
function report(
  lemfs: LemfReceiver[],
  liids: readonly string[],
  pipeline: { left: number; settled: boolean },
  dlq: { before: Record<string, number>; after: Record<string, number> },
): boolean {
  const lines: string[] = ['', '\x1b[1msequence numbers per LIID and LEMF\x1b[0m'];
  const checks: StreamCheck[] = [];
  for (const l of lemfs) {
    const own = checkSequences(l.records);
    checks.push(...own);
    lines.push(`${l.name}: ${l.records.length} records`);
    const others: string[] = [];
    for (const liid of [...new Set(own.map((c) => c.liid))]) {
      const of = own.filter((c) => c.liid === liid);
      const n = of.reduce((a, c) => a + c.records, 0);
      if (!liids.includes(liid)) {
        others.push(`${liid} (${n})`);
        continue;
      }
      const cins = [...new Set(of.map((c) => c.cin))];
      lines.push(`  LIID ${liid}: ${n} records, CINs ${cins.join(', ')}`);
      for (const c of of) {
        const mark = isComplete(c) ? 'ok ' : '\x1b[31m!! \x1b[0m';
        lines.push(`    ${mark} CIN ${c.cin} ${c.handover}: ${c.records} records, ${describeCheck(c)}`);
      }
    }
    const bare = l.records.filter((r) => r.seq < 0).length;
    if (bare > 0) lines.push(`  ${bare} records without a sequence number`);
    // HI1 notifications ending earlier runs' warrants: their numbering began in those runs.
    if (others.length > 0) lines.push(`  earlier runs' LIIDs, not checked: ${others.join(', ')}`);
  }
  const dlqNew: Record<string, number> = {};
  for (const [t, end] of Object.entries(dlq.after)) {
    dlqNew[t] = end - (dlq.before[t] ?? 0);
    lines.push(`DLQ li.${t}.dlq: end offset ${end}, ${dlqNew[t]} new during this run`);
  }
  const v = verdict({
    liids,
    checks,
    undecodable: lemfs.reduce((n, l) => n + l.records.filter((r) => r.format === 'UNKNOWN').length, 0),
    backlog: pipeline.left,
    settled: pipeline.settled,
    dlq: dlqNew,
  });
  lines.push(v.complete ? `\x1b[32m${v.line}\x1b[0m` : `\x1b[31m${v.line}\x1b[0m`);
  console.log(lines.join('\n'));
  return v.complete;
}

// ---------------------------------------------------------------- main
async function main(): Promise<boolean> {
  say('waiting for the services to be ready');
  await waitReady();
  if (stopping) return true;
  const lemfs = {
    voice: new LemfReceiver({ name: 'LEMF voice (ETSI TCP)' }),
    mail: new LemfReceiver({ name: 'LEMF mail (ETSI TCP)' }),
    msn: new LemfReceiver({ name: 'LEMF messaging (ETSI TCP)' }),
  };
  const offsets = await PipelineOffsets.connect(
    TENANTS,
    Object.keys(lemfs).map((id) => `lemf-${id}`),
  );
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
  const view = setInterval(() => render(list, round), process.stdout.isTTY ? 1000 : 5000);
  let round = 0;
  try {
    await sleep(1500); // target-match picks the warrants up from its topic
    while (!stopping && (ROUNDS === 0 || round < ROUNDS)) {
      round++;
      const call = await sipCall(SIP_PORT, 1000);
      note(`round ${round}: SIPp call to ${SIP_SERVICE} placed`);
      if (peers) {
        await smtpSession(peers.smtpPort);
        note(`round ${round}: SMTP submission from ${MAIL_USER}`);
        await imapSession(peers.imapPort);
        note(`round ${round}: IMAP session of ${MAIL_USER}`);
        await msnConversation(peers.msnPort);
        note(`round ${round}: MSN conversation of ${MSN_ACCOUNT}`);
      }
      const r = await call.done;
      note(`round ${round}: SIPp call ${r.ok ? 'completed' : stopping ? 'interrupted' : 'FAILED'}`);
      for (let i = 0; i < 10 && !stopping; i++) await sleep(500);
    }
    clearInterval(view);
    render(list, round);
    const complete = report(list, Object.values(liids), await drain(list, offsets), {
      before: dlqBefore,
      after: await offsets.dlqEnds(),
    });
    say(`done: ${received(list)} records received`);
    return complete;
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
