// The whole pipeline with real peers: SIPp calls mirrored to ingest, an SMTP submission to a real
// SMTP server and an IMAP session with a real Dovecot (both captured by tcpdump), an MSN
// Messenger conversation on loopback; admf warrants for a SIP number, a mail account and an MSN
// user, each to its own LEMF. Every LEMF must receive exactly its warrant's records, decodable
// by asn1c, with sequence numbers 0..n per (LIID, CIN, stream); a LEMF with no warrant gets
// nothing; a warrant ended mid-call stops the records of events after the end.
import { Asn1c } from '@li/etsi/asn1c';
import { asn1cNotRun, decoderPath } from '@li/etsi/asn1c-build';
import { Tshark } from '@li/etsi/tshark';
import { uniqueTenant, waitFor } from '@li/testing';
import { msnConversation } from '@li/testing/msnp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LemfReceiver, type ReceivedRecord } from '../pipeline/lemf.ts';
import { addWarrant, endWarrant, type Pipeline, startProvisionedPipeline } from '../pipeline/pipeline.ts';
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

let peers: Peers;
let pipeline: Pipeline;
const lemfs = {
  voice: new LemfReceiver({ name: 'voice LEMF' }),
  mail: new LemfReceiver({ name: 'mail LEMF' }),
  msn: new LemfReceiver({ name: 'messaging LEMF' }),
  idle: new LemfReceiver({ name: 'LEMF with no warrant' }),
  italy: new LemfReceiver({ name: 'Italian LEMF, HI2 over TCP' }),
};

beforeAll(async () => {
  // Build (or find cached) the asn1c decoder before the in-process services start: the build is
  // synchronous and, on a loaded machine, long enough to starve admf's group heartbeat.
  if (!ASN1C_NOT_RUN) decoderPath('pspdu');
  peers = await startPeers();
  for (const l of Object.values(lemfs)) await l.start();
  pipeline = await startProvisionedPipeline({
    tenant: uniqueTenant('e2e'),
    capture: {
      interface: 'lo',
      smtpPorts: [peers.smtpPort],
      imapPorts: [peers.imapPort],
      msnpPorts: [peers.msnPort],
    },
    lemfs: Object.entries(lemfs).map(([id, receiver]) => ({ id: `lemf-${id}`, receiver, hi2: id === 'italy' })),
    warrants: [
      { liid: 'VOICE1', kind: 'VOICE', target: { type: 'E164', value: SIP_SERVICE }, lemfIds: ['lemf-voice'] },
      { liid: 'MAIL1', kind: 'EMAIL', target: { type: 'MAIL_ACCOUNT', value: MAIL_USER }, lemfIds: ['lemf-mail'] },
      { liid: 'MSN1', kind: 'MESSAGING', target: { type: 'EMAIL', value: MSN_ACCOUNT }, lemfIds: ['lemf-msn'] },
    ],
  });
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
  for (const l of Object.values(lemfs)) await l.stop();
  await peers?.stop();
});

/** Waits until a LEMF has received something and then nothing new for quietMs. */
async function settled(l: LemfReceiver, what: string, quietMs = 3000): Promise<void> {
  await waitFor(() => l.records.length > 0, { timeoutMs: 60_000, what: `records at the ${what}` });
  let seen = -1;
  let since = Date.now();
  await waitFor(
    () => {
      if (l.records.length !== seen) {
        seen = l.records.length;
        since = Date.now();
      }
      return Date.now() - since >= quietMs;
    },
    { timeoutMs: 60_000, intervalMs: 200, what: `the ${what} to settle` },
  );
}

/** Per (LIID, CIN, handover): the sequence numbers in arrival order must be exactly 0..n. */
function expectGapFree(records: ReceivedRecord[]): void {
  const byKey = new Map<string, number[]>();
  for (const r of records) {
    const k = `${r.liid}/${r.cin}/${r.handover}`;
    byKey.set(k, [...(byKey.get(k) ?? []), r.seq]);
  }
  for (const [k, seqs] of byKey) {
    expect(seqs, k).toEqual(seqs.map((_, i) => i));
  }
}

// Without the ETSI modules (LI_ASN1_DIR) the asn1c test is reported as not run, by name.
const ASN1C_NOT_RUN = asn1cNotRun('asn1c decoding of pipeline records');

/** Every record through the asn1c PS-PDU decoder: LIID and sequence number as we read them. */
function expectAsn1cAgrees(records: ReceivedRecord[]): void {
  const asn1c = new Asn1c('pspdu');
  try {
    for (const r of records) {
      // Only IP access (TS 102 232-3) is in the profile asn1c compiles. The e-mail, IP multimedia
      // and HI1 alternatives are skipped by asn1c as unknown extensions: it checks the header and
      // every length around them, then cannot print them as XML (their bytes are checked by the
      // golden tests of libs/etsi).
      const ipOnly = /iPIRI|iPCC|TRI/.test(r.type);
      const out = ipOnly ? asn1c.run(r.bytes) : asn1c.runBerOnly(r.bytes);
      if (ipOnly) expect(out.status, `${r.type}: ${out.stderr}`).toBe(0);
      else expect(out.stderr, r.type).not.toMatch(/Decode failed/);
      const liidHex = /<lawfulInterceptionIdentifier>([^<]*)</.exec(out.xer)?.[1] ?? '';
      expect(Buffer.from(liidHex.replace(/\s+/g, ''), 'hex').toString('latin1')).toBe(r.liid);
      expect(Number(/<sequenceNumber>(\d+)</.exec(out.xer)?.[1])).toBe(r.seq);
    }
  } finally {
    asn1c.close();
  }
}

describe('the whole pipeline with real peers', () => {
  it('delivers each warrant’s records to its own LEMF only, decodable and gap-free', async () => {
    const call = await sipCall(pipeline.sipUdpPort, 300);
    await smtpSession(peers.smtpPort);
    await imapSession(peers.imapPort);
    await msnConversation(peers.msnPort);
    expect((await call.done).ok).toBe(true);
    expect(peers.smtpReceived()).toBe(1);

    await settled(lemfs.voice, 'voice LEMF');
    await settled(lemfs.mail, 'mail LEMF');
    await settled(lemfs.msn, 'messaging LEMF');

    // Exactly its warrant's records, and nobody else's.
    expect(new Set(lemfs.voice.records.map((r) => r.liid))).toEqual(new Set(['VOICE1']));
    expect(new Set(lemfs.mail.records.map((r) => r.liid))).toEqual(new Set(['MAIL1']));
    expect(new Set(lemfs.msn.records.map((r) => r.liid))).toEqual(new Set(['MSN1']));
    const types = (l: LemfReceiver) => [...new Set(l.records.map((r) => `${r.handover} ${r.type}`))].sort();
    console.log('voice LEMF:', types(lemfs.voice).join(', '));
    console.log('mail LEMF:', types(lemfs.mail).join(', '));
    console.log('messaging LEMF:', types(lemfs.msn).join(', '));

    // A SIP call: IRI-BEGIN for the INVITE, CONTINUE for the rest, END with the BYE exchange.
    // Each LEMF was told first that its warrant became active (HI1 notification on HI2).
    for (const l of [lemfs.voice, lemfs.mail, lemfs.msn]) expect(l.records[0]?.type).toBe('HI1 liActivated');
    const voice = lemfs.voice.records.filter((r) => !r.type.startsWith('HI1'));
    expect(voice[0]?.type).toBe('IRI-BEGIN iPMMIRI');
    expect(voice.some((r) => r.type === 'IRI-END iPMMIRI')).toBe(true);
    // Mail: e-mail IRIs on HI2 and the message itself as e-mail CC on HI3.
    expect(lemfs.mail.records.some((r) => r.handover === 'HI2' && r.type.endsWith('emailIRI'))).toBe(true);
    expect(lemfs.mail.records.some((r) => r.handover === 'HI3' && r.type === 'CC emailCC')).toBe(true);
    // Messaging on the wire: IP IRIs.
    expect(lemfs.msn.records.some((r) => r.handover === 'HI2' && r.type.endsWith('iPIRI'))).toBe(true);

    for (const l of [lemfs.voice, lemfs.mail, lemfs.msn]) {
      expect(l.records.every((r) => r.format === 'TS102232')).toBe(true);
      expect(l.records.every((r) => (r.handover === 'HI2') === !r.type.startsWith('CC'))).toBe(true);
      expectGapFree(l.records);
    }
    expect(lemfs.idle.records).toEqual([]);
  }, 180_000);

  it('those records decode with asn1c built from the ETSI modules', (ctx) => {
    if (ASN1C_NOT_RUN) ctx.skip(ASN1C_NOT_RUN);
    for (const l of [lemfs.voice, lemfs.mail, lemfs.msn]) {
      expect(l.records.length).toBeGreaterThan(0);
      expectAsn1cAgrees(l.records);
    }
  }, 180_000);

  it('stops a call’s records once its warrant is ended mid-call', async () => {
    await addWarrant(pipeline, {
      liid: 'VOICE2',
      kind: 'VOICE',
      target: { type: 'E164', value: SIP_SERVICE },
      lemfIds: ['lemf-idle'],
    });
    await new Promise((r) => setTimeout(r, 1500));
    const call = await sipCall(pipeline.sipUdpPort, 6000);
    await waitFor(() => lemfs.idle.of('VOICE2').some((r) => r.type === 'IRI-BEGIN iPMMIRI'), {
      timeoutMs: 30_000,
      what: 'the INVITE at the LEMF',
    });
    await endWarrant(pipeline, 'VOICE2');
    const endedAt = Date.now();
    expect((await call.done).ok).toBe(true);
    await new Promise((r) => setTimeout(r, 4000));

    const records = lemfs.idle.of('VOICE2');
    // The BYE came about 6 s after the INVITE, well after the end: no IRI-END, nothing after.
    expect(records.some((r) => r.type === 'IRI-END iPMMIRI')).toBe(false);
    // Nothing intercepted more than a second after the API answered (judged by interception time:
    // a record of the call's set-up may still be in flight when the warrant ends, and is due).
    const late = records.filter((r) => !r.type.startsWith('HI1') && (r.timeMicros ?? 0) / 1000 > endedAt + 1000);
    expect(late).toEqual([]);
    expect(records.filter((r) => !r.type.startsWith('HI1')).every((r) => r.timeMicros !== null)).toBe(true);
    // The LEMF was told the interception ended.
    expect(records.at(-1)?.type).toBe('HI1 liDeactivated');
    // The other warrant on the same number kept receiving the whole call.
    expect(lemfs.voice.records.filter((r) => r.type === 'IRI-END iPMMIRI').length).toBe(2);
    expectGapFree(records);
  }, 120_000);

  it('delivers an Italian warrant’s IRIs as TS 101 671 records over HI2 TCP, and PS-PDUs to an ETSI LEMF', async () => {
    await addWarrant(pipeline, {
      liid: 'ITVOICE1',
      kind: 'VOICE',
      country: 'IT',
      deliver: 'IRI_ONLY',
      target: { type: 'E164', value: SIP_SERVICE },
      lemfIds: ['lemf-italy', 'lemf-idle'],
    });
    await new Promise((r) => setTimeout(r, 1500));
    const call = await sipCall(pipeline.sipUdpPort, 300);
    expect((await call.done).ok).toBe(true);
    await waitFor(() => lemfs.italy.records.some((r) => r.type === 'TS101671 IRI-END'), {
      timeoutMs: 30_000,
      what: 'the TS 101 671 IRI-END',
    });
    await waitFor(() => lemfs.idle.of('ITVOICE1').some((r) => r.type === 'IRI-END iPMMIRI'), {
      timeoutMs: 30_000,
      what: 'the PS-PDU IRI-END',
    });
    await new Promise((r) => setTimeout(r, 1000));

    // The HI2 TCP LEMF gets only TS 101 671 records; tshark's HI2Operations dissector reads them.
    const italian = lemfs.italy.records;
    expect(italian.every((r) => r.format === 'TS101671' && r.liid === 'ITVOICE1')).toBe(true);
    expect(italian[0]?.type).toBe('TS101671 IRI-BEGIN');
    const tshark = new Tshark();
    try {
      const pcap = tshark.pcap(
        italian.map((r) => r.bytes),
        'HI2Operations',
      );
      expect(tshark.problems(pcap)).toBe(0);
      const liids = tshark.fields(pcap, ['HI2Operations.lawfulInterceptionIdentifier']).map((row) => row[0] ?? '');
      expect(liids.map((h) => Buffer.from(h.replace(/:/g, ''), 'hex').toString('latin1'))).toEqual(
        italian.map(() => 'ITVOICE1'),
      );
    } finally {
      tshark.close();
    }
    // The ETSI TCP LEMF of the same warrant gets the PS-PDU twins only, as many as there are IRIs.
    const etsi = lemfs.idle.of('ITVOICE1').filter((r) => !r.type.startsWith('HI1'));
    expect(etsi.every((r) => r.format === 'TS102232')).toBe(true);
    expect(etsi).toHaveLength(italian.length);
    expectGapFree(lemfs.idle.of('ITVOICE1'));
  }, 120_000);
});
