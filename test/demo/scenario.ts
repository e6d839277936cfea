// The demo's provisioning and traffic, in one place: `npm start` (run.ts) and its end-to-end test
// (e2e/demo.int.test.ts) both run exactly this. Three ETSI TCP LEMFs with a warrant each (a SIP
// number, a mail account, an MSN user); a round is a SIPp call mirrored to ingest, an SMTP
// submission, an IMAP session with Dovecot and an MSN conversation (the last three need capture).
import { msnConversation } from '@li/testing/msnp';
import { LemfReceiver } from '../pipeline/lemf.ts';
import { addEtsiLemf, addWarrant, endWarrant, type Provisioning } from '../pipeline/pipeline.ts';
import {
  imapSession,
  MAIL_USER,
  MSN_ACCOUNT,
  type Peers,
  SIP_SERVICE,
  sipCall,
  smtpSession,
} from '../pipeline/traffic.ts';

export type DemoLemfs = { voice: LemfReceiver; mail: LemfReceiver; msn: LemfReceiver };
export type DemoLiids = { voice: string; mail: string; msn: string };

/** The demo's LEMFs (not started). */
export function demoLemfs(): DemoLemfs {
  return {
    voice: new LemfReceiver({ name: 'LEMF voice (ETSI TCP)' }),
    mail: new LemfReceiver({ name: 'LEMF mail (ETSI TCP)' }),
    msn: new LemfReceiver({ name: 'LEMF messaging (ETSI TCP)' }),
  };
}

/** The LEMF ids admf knows the demo's LEMFs by (cc-delivery's groups are named after them). */
export const demoLemfIds = (lemfs: DemoLemfs): string[] => Object.keys(lemfs).map((id) => `lemf-${id}`);

/**
 * Registers the (started) LEMFs and a warrant each in the tenant, after ending the tenant's
 * warrants still active from earlier runs (they would deliver to the same LEMF ids). LIIDs carry
 * `suffix`: earlier runs' warrants stay in the warrant topic.
 */
export async function provisionDemo(p: Provisioning, lemfs: DemoLemfs, suffix: string): Promise<DemoLiids> {
  const earlier = await p.call(p.tokens.prov, 'GET', `/tenants/${p.tenant}/warrants`);
  for (const w of earlier.status === 200
    ? (earlier.json as { liid: string; authorisationCountry: string; state: string }[])
    : []) {
    if (w.state === 'ACTIVE') await endWarrant(p, w.liid, w.authorisationCountry);
  }
  for (const [id, l] of Object.entries(lemfs)) await addEtsiLemf(p, `lemf-${id}`, l);
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

export interface DemoTraffic {
  /** ingest's SIP listener (UDP). */
  sipPort: number;
  /** The mail and MSN peers, when ingest captures the loopback; null: SIP calls only. */
  peers: Peers | null;
  note?: (s: string) => void;
  /** True once Ctrl-C was pressed: a failed call is then reported as interrupted. */
  stopping?: () => boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The demo's traffic: `rounds` rounds (0: until `stopping`), 5 s apart, after a moment for
 * target-match to pick the warrants up. Returns how many rounds ran and how many SIPp calls failed.
 */
export async function demoTraffic(
  t: DemoTraffic & { rounds: number; onRound?: (round: number) => void },
): Promise<{ rounds: number; failedCalls: number }> {
  const stopping = t.stopping ?? (() => false);
  let round = 0;
  let failedCalls = 0;
  await sleep(1500);
  while (!stopping() && (t.rounds === 0 || round < t.rounds)) {
    round++;
    t.onRound?.(round);
    if (!(await demoRound(t, round))) failedCalls++;
    for (let i = 0; i < 10 && !stopping(); i++) await sleep(500);
  }
  return { rounds: round, failedCalls };
}

/** One round of the demo's traffic; resolves once the SIPp call is over. True when the call succeeded. */
async function demoRound(t: DemoTraffic, round: number): Promise<boolean> {
  const note = t.note ?? (() => undefined);
  const call = await sipCall(t.sipPort, 1000);
  note(`round ${round}: SIPp call to ${SIP_SERVICE} placed`);
  if (t.peers) {
    await smtpSession(t.peers.smtpPort);
    note(`round ${round}: SMTP submission from ${MAIL_USER}`);
    await imapSession(t.peers.imapPort);
    note(`round ${round}: IMAP session of ${MAIL_USER}`);
    await msnConversation(t.peers.msnPort);
    note(`round ${round}: MSN conversation of ${MSN_ACCOUNT}`);
  }
  const r = await call.done;
  note(`round ${round}: SIPp call ${r.ok ? 'completed' : t.stopping?.() ? 'interrupted' : 'FAILED'}`);
  return r.ok;
}
