// One chaos run with mail traffic: a LEMF and a warrant of its own, the mail server posting
// events until the pipeline delivers them, a fault injected mid-stream, then the LEMF-side
// check (lemf-check.ts) and the recovery time: from the fault's end until the LEMF held every
// record of the events the mail server had handed over by then.
import { topicName } from '@li/bus';
import { adminClient, waitFor } from '@li/testing';
import { PipelineOffsets } from '../demo/pipeline-offsets.ts';
import { LemfReceiver } from '../pipeline/lemf.ts';
import { addEtsiLemf, addWarrant } from '../pipeline/pipeline.ts';
import { checkLemf, describeVerdict, type LemfVerdict, waitCaughtUp } from './lemf-check.ts';
import { MailTraffic } from './mail-traffic.ts';
import type { ProcessPipeline } from './processes.ts';

export interface MailRunOptions {
  /** Names the run's LEMF (lemf-<id>) and prints. */
  id: string;
  /** Distinct per run of one pipeline: the target's account and client ports derive from it. */
  index: number;
  /**
   * Injects the fault and calls `ended()` the moment it is over (the service or broker started
   * again); resolves when the scenario may go on (e.g. once the service is ready).
   */
  inject(ended: () => void): Promise<{ downSeconds: number; note?: string }>;
  /** How long the LEMF may take to catch up (default 120 s). */
  catchUpMs?: number;
}

export interface MailRunResult {
  verdict: LemfVerdict;
  liid: string;
  events: number;
  senderRetries: number;
  /** New DLQ records of the tenant during the run. */
  dlq: number;
  downSeconds: number;
  recoverySeconds: number;
  /** What the fault said about itself. */
  note: string;
  line: string;
}

async function dlqEnd(tenant: string): Promise<number> {
  const admin = await adminClient('li-chaos');
  try {
    const ends = await admin.fetchTopicOffsets(topicName(tenant, 'dlq'));
    return ends.reduce((n, e) => n + Number(e.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Where records wait, for a failure message: what each service's consumer groups have not committed. */
export async function backlogLine(p: ProcessPipeline): Promise<string> {
  try {
    const offsets = await PipelineOffsets.connect([p.tenant], p.lemfIds);
    try {
      const b = await offsets.backlog();
      const parts = b.parts.map((x) => `${x.groupId} ${x.topic}[${x.partition}] ${x.high - x.from}`).join(', ');
      return `uncommitted: ${b.total} (${parts || 'none'}); ready: ${(await p.readiness()).join(', ')}`;
    } finally {
      await offsets.close();
    }
  } catch (err) {
    return `backlog unknown (${(err as Error).message})`;
  }
}

/** Waits until the LEMF's count has not changed for `quietMs` (late resends included). */
async function settled(lemf: LemfReceiver, quietMs = 2000): Promise<void> {
  let n = -1;
  let since = Date.now();
  await waitFor(
    () => {
      if (lemf.records.length !== n) {
        n = lemf.records.length;
        since = Date.now();
      }
      return Date.now() - since >= quietMs;
    },
    { what: 'the LEMF to stop receiving', timeoutMs: 60_000, intervalMs: 100 },
  );
}

export async function runMailFault(p: ProcessPipeline, o: MailRunOptions): Promise<MailRunResult> {
  const lemf = await new LemfReceiver({ name: `LEMF ${o.id}` }).start();
  const account = `target-${o.index}@example.org`;
  const liid = `CH${o.index}${p.tenant.slice(-6).toUpperCase()}`;
  const traffic = new MailTraffic({
    port: p.ports.mailEvents,
    token: p.tokens.mail,
    account,
    firstClientPort: 20000 + o.index * 2000,
  });
  try {
    await addEtsiLemf(p, `lemf-${o.id}`, lemf);
    p.lemfIds.push(`lemf-${o.id}`);
    await addWarrant(p, {
      liid,
      kind: 'EMAIL',
      target: { type: 'MAIL_ACCOUNT', value: account },
      lemfIds: [`lemf-${o.id}`],
    });
    const dlqBefore = await dlqEnd(p.tenant);
    await traffic.warmUp(lemf);
    traffic.start();
    // Flowing end to end before the fault.
    await waitFor(
      () =>
        traffic.acknowledged.size >= 8 &&
        checkLemf(lemf.records, traffic.snapshot(), traffic.identify).missing.length === 0,
      { what: 'records at the LEMF before the fault', timeoutMs: 60_000, intervalMs: 200 },
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}; ${await backlogLine(p)}`);
    });
    // Everything the mail server had handed over when the fault ended; the LEMF is watched from
    // then on, while the fault's end runs its course (a restarted service getting ready).
    let endedAt = 0;
    let caughtUpP: Promise<number> | null = null;
    const fault = await o.inject(() => {
      endedAt = Date.now();
      caughtUpP = waitCaughtUp(lemf, traffic.snapshot(), traffic.identify, o.catchUpMs ?? 120_000);
      caughtUpP.catch(() => undefined); // awaited below
    });
    if (!caughtUpP) throw new Error('the fault never said it ended');
    const caughtUp = await (caughtUpP as Promise<number>).catch(async (err: Error) => {
      throw new Error(`${err.message}; ${await backlogLine(p)}`);
    });
    await new Promise((r) => setTimeout(r, 1000));
    await traffic.stop();
    await waitCaughtUp(lemf, traffic.acknowledged, traffic.identify, 60_000);
    await settled(lemf);
    const verdict = checkLemf(lemf.records, traffic.acknowledged, traffic.identify);
    const dlq = (await dlqEnd(p.tenant)) - dlqBefore;
    const recoverySeconds = (caughtUp - endedAt) / 1000;
    const line = `${o.id}: down ${fault.downSeconds.toFixed(1)} s${fault.note ? ` (${fault.note})` : ''}, LEMF caught up ${recoverySeconds.toFixed(1)} s after; ${traffic.acknowledged.size} events, ${traffic.retries} sender retries, ${dlq} new DLQ records; ${describeVerdict(verdict)}`;
    console.log(`[chaos] ${line}`);
    return {
      verdict,
      liid,
      events: traffic.acknowledged.size,
      senderRetries: traffic.retries,
      dlq,
      downSeconds: fault.downSeconds,
      recoverySeconds,
      note: fault.note ?? '',
      line,
    };
  } finally {
    await traffic.stop().catch(() => undefined);
    await lemf.stop();
  }
}
