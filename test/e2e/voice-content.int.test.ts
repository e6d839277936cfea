// Voice content from a mirror (issue 18): SIPp calls with RTP played from pcap files, captured on
// loopback by ingest; target-match taps the calls that match a warrant (li.<t>.taps), ingest
// publishes only their media, the encoder writes IPMMCC with the call's CIN. The LEMF's content is
// compared with an independent tcpdump of the wire: every RTP/RTCP packet of the call, byte for
// byte, in order, per direction relative to the target. A call with a port change (hold and
// resume on a new port) keeps its content; a call of no target gives no record and publishes no
// media event; a warrant that ends mid-call, or whose target is replaced mid-call while it stays
// active, untaps the call at once.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePsPdu, PAYLOAD_DIRECTION } from '@li/etsi';
import { ingestService } from '@li/ingest/service';
import { startService } from '@li/runtime';
import { serviceEnv, uniqueTenant, waitFor } from '@li/testing';
import { killAllSipp } from '@li/testing/sip';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LemfReceiver, type ReceivedRecord } from '../pipeline/lemf.ts';
import { endWarrant, type Pipeline, startProvisionedPipeline, type WarrantSpec } from '../pipeline/pipeline.ts';
import {
  AUDIO_LONG,
  AUDIO_SHORT,
  readWire,
  rtpPcap,
  voiceCall,
  type WireDatagram,
  wireDump,
} from '../pipeline/voice.ts';

const dir = mkdtempSync(join(tmpdir(), 'li-voice-'));
// One block of UDP ports for the SIPp peers and their media, so the capture sees only them.
const BASE = 30_000 + 40 * Math.floor(Math.random() * 800);
const PORTS = {
  uas: BASE,
  uac: BASE + 1,
  callerMedia: BASE + 10, // and +2 after the resume, +1/+3 RTCP
  calleeMedia: BASE + 20,
};
const FILTER = `udp and portrange ${BASE}-${BASE + 39}`;
const SIP_PORTS = new Set([PORTS.uas, PORTS.uac]);

const CALLEE_TARGET = '+390612345001';
const CALLER_TARGET = '+390612345002';
const ENDED_TARGET = '+390612345003';
const MOVED_TARGET = '+390612345004';
const NOBODY = ['+390612345777', '+390612345888'];

const lemf = new LemfReceiver({ name: 'voice LEMF' });
let pipeline: Pipeline;

beforeAll(async () => {
  await lemf.start();
  const voiceWarrant = (liid: string, target: string): WarrantSpec => ({
    liid,
    kind: 'VOICE',
    target: { type: 'E164', value: target },
    lemfIds: ['lemf-voice'],
  });
  pipeline = await startProvisionedPipeline({
    tenant: uniqueTenant('voice'),
    capture: { interface: 'lo', smtpPorts: [25], imapPorts: [143], msnpPorts: [1863], filter: FILTER },
    lemfs: [{ id: 'lemf-voice', receiver: lemf }],
    warrants: [
      voiceWarrant('VCALLEE', CALLEE_TARGET),
      voiceWarrant('VEND', ENDED_TARGET),
      voiceWarrant('VMOVE', MOVED_TARGET),
      voiceWarrant('VCALLER', CALLER_TARGET),
    ],
  });
}, 180_000);

afterEach(() => killAllSipp());

afterAll(async () => {
  await pipeline?.stop();
  await lemf.stop();
});

/** A call with an independent capture of the wire running through it. */
async function capturedCall(
  name: string,
  o: Omit<Parameters<typeof voiceCall>[0], 'dir' | 'uasPort' | 'uacPort' | 'callerMediaPort' | 'calleeMediaPort'>,
) {
  const file = join(dir, `${name}.pcap`);
  const dump = wireDump(file, FILTER);
  await dump.ready;
  const r = await voiceCall({
    ...o,
    dir,
    uasPort: PORTS.uas,
    uacPort: PORTS.uac,
    callerMediaPort: PORTS.callerMedia,
    calleeMediaPort: PORTS.calleeMedia,
  });
  await new Promise((r) => setTimeout(r, 500)); // the last packets reach the dump
  await dump.stop();
  expect(r.ok, r.output.slice(-2000)).toBe(true);
  const wire = readWire(file);
  const media = wire.filter((d) => !SIP_PORTS.has(d.srcPort) && !SIP_PORTS.has(d.dstPort));
  const callerPorts = new Set([PORTS.callerMedia, PORTS.callerMedia + 1, PORTS.callerMedia + 2, PORTS.callerMedia + 3]);
  return {
    sip: wire.length - media.length,
    fromCaller: media.filter((d) => callerPorts.has(d.srcPort)),
    fromCallee: media.filter((d) => !callerPorts.has(d.srcPort)),
  };
}

interface Content {
  record: ReceivedRecord;
  direction: number;
  rtp: Buffer;
}

function content(liid: string): Content[] {
  return lemf.records
    .filter((r) => r.liid === liid && r.handover === 'HI3')
    .map((record) => {
      const d = decodePsPdu(record.bytes);
      if (!d.ok || d.value.payload.kind !== 'cc') throw new Error(`not a CC PS-PDU: ${record.type}`);
      const item = d.value.payload.items[0]!;
      if (item.contents.kind !== 'iPMMCC') throw new Error(`not IPMMCC: ${item.contents.kind}`);
      return { record, direction: item.payloadDirection ?? -1, rtp: Buffer.from(item.contents.value.mmccContents) };
    });
}

const hex = (ds: readonly { payload?: Buffer; rtp?: Buffer }[]) => ds.map((d) => (d.payload ?? d.rtp)!.toString('hex'));

async function metric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${pipeline.metricsPorts.ingest}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(labels)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Expects the LEMF's content of a call to be exactly the wire's packets, per direction relative to the target. */
async function expectContent(liid: string, fromTarget: WireDatagram[], toTarget: WireDatagram[]) {
  const total = fromTarget.length + toTarget.length;
  await waitFor(() => content(liid).length >= total, { timeoutMs: 60_000, what: `${total} CC records for ${liid}` });
  await new Promise((r) => setTimeout(r, 1000)); // nothing more may come
  const cc = content(liid);
  expect(cc.length).toBe(total);
  expect(hex(cc.filter((c) => c.direction === PAYLOAD_DIRECTION.fromTarget))).toEqual(hex(fromTarget));
  expect(hex(cc.filter((c) => c.direction === PAYLOAD_DIRECTION.toTarget))).toEqual(hex(toTarget));
  // The call's CIN, as on its IRI; CC numbered 0..n on its own.
  const iri = lemf.records.filter((r) => r.liid === liid && r.handover === 'HI2' && r.type.includes('iPMMIRI'));
  expect(iri.length).toBeGreaterThan(0);
  expect(new Set(cc.map((c) => c.record.cin))).toEqual(new Set([iri[0]!.cin]));
  expect(new Set(iri.map((r) => r.cin)).size).toBe(1);
  expect(cc.map((c) => c.record.seq).sort((a, b) => a - b)).toEqual(cc.map((_, i) => i));
  console.log(
    `${liid}: ${cc.length} IPMMCC (${fromTarget.length} from target, ${toTarget.length} to target) = the wire's packets; CIN ${iri[0]!.cin} as its ${iri.length} IRIs`,
  );
  return cc;
}

/** tshark decodes the unwrapped content as RTP: its sequence numbers and payload types as on the wire. */
function expectTsharkReadsRtp(name: string, cc: Content[], wire: WireDatagram[]) {
  const file = join(dir, `${name}-lemf-rtp.pcap`);
  writeFileSync(file, rtpPcap(cc.map((c) => c.rtp)));
  const out = execFileSync(
    'tshark',
    ['-r', file, '-d', 'udp.port==5004,rtp', '-T', 'fields', '-e', 'rtp.seq', '-e', 'rtp.p_type'],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  const rows = out.trim().split('\n');
  const expected = wire.map((d) => `${d.payload.readUInt16BE(2)}\t${d.payload[1]! & 0x7f}`);
  expect(rows).toEqual(expected);
}

describe('voice content from the mirror', () => {
  it('callee is the target: both directions byte-identical, through hold and a resume on a new port', async () => {
    const wire = await capturedCall('callee-target', {
      caller: NOBODY[0]!,
      callee: CALLEE_TARGET,
      callerAudio: AUDIO_LONG,
      calleeAudio: AUDIO_LONG,
      holdResume: true,
      talkMs: 4500,
    });
    // The callee's media went to the caller's old port and, after the resume, to the new one.
    const toNewPort = wire.fromCallee.filter((d) => d.dstPort === PORTS.callerMedia + 2);
    expect(toNewPort.length).toBeGreaterThan(10);
    expect(wire.fromCallee.length - toNewPort.length).toBeGreaterThan(10);
    expect(wire.fromCaller.length).toBeGreaterThan(100);
    // The caller's audio goes TO the target (not "from target" because the caller sent the INVITE).
    const cc = await expectContent('VCALLEE', wire.fromCallee, wire.fromCaller);
    // The caller's RTP only (its port sends no RTCP here): tshark reads it back as RTP.
    const rtpOnly = wire.fromCaller.filter((d) => d.payload.length >= 12 && (d.payload[1]! & 0x7f) < 64);
    expect(rtpOnly.length).toBe(wire.fromCaller.length);
    expectTsharkReadsRtp(
      'callee-target',
      cc.filter((c) => c.direction === PAYLOAD_DIRECTION.toTarget),
      rtpOnly,
    );
  });

  it('a capture file replayed at full speed gives the same content, exactly (media before the tap is held)', async () => {
    const file = join(dir, 'callee-target.pcap');
    const wire = readWire(file);
    const media = wire.filter((d) => !SIP_PORTS.has(d.srcPort) && !SIP_PORTS.has(d.dstPort));
    const before = content('VCALLEE').length;
    // A second ingest of the tenant reads the file as fast as it can: the whole call, RTP included,
    // is read before target-match can have tapped it.
    const env = await serviceEnv('ingest', [pipeline.tenant], {
      LI_TENANT: pipeline.tenant,
      LI_SIP__ENABLED: 'false',
      LI_MAIL_EVENTS__ENABLED: 'false',
      LI_CAPTURE__PCAP_FILE: file,
    });
    const replay = await startService(ingestService, env);
    try {
      await waitFor(() => content('VCALLEE').length >= before + media.length, {
        timeoutMs: 60_000,
        what: `${media.length} CC records of the replayed call`,
      });
      await new Promise((r) => setTimeout(r, 1000));
      const again = content('VCALLEE').slice(before);
      expect(again.length).toBe(media.length);
      const callerPorts = new Set([
        PORTS.callerMedia,
        PORTS.callerMedia + 1,
        PORTS.callerMedia + 2,
        PORTS.callerMedia + 3,
      ]);
      expect(hex(again.filter((c) => c.direction === PAYLOAD_DIRECTION.toTarget))).toEqual(
        hex(media.filter((d) => callerPorts.has(d.srcPort))),
      );
      expect(hex(again.filter((c) => c.direction === PAYLOAD_DIRECTION.fromTarget))).toEqual(
        hex(media.filter((d) => !callerPorts.has(d.srcPort))),
      );
      console.log(`replay at full speed: ${again.length} of ${media.length} media packets delivered`);
    } finally {
      await replay.stop();
    }
  });

  const replaceTarget = async () => {
    const r = await pipeline.call(pipeline.tokens.prov, 'PATCH', `/tenants/${pipeline.tenant}/warrants/DE/VMOVE`, {
      targets: [{ type: 'E164', value: '+390612345999' }],
    });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.state).toBe('ACTIVE');
  };
  for (const [name, liid, target, change] of [
    ['a warrant ended mid-call', 'VEND', ENDED_TARGET, () => endWarrant(pipeline, 'VEND')],
    ['a warrant whose target is replaced mid-call (still active)', 'VMOVE', MOVED_TARGET, replaceTarget],
  ] as const) {
    it(`${name} stops the call's tap, and its content, while the call goes on`, async () => {
      const tapped = () => metric('li_ingest_media_calls', 'state="tapped"');
      const packets = (outcome: string) => metric('li_ingest_media_packets', `outcome="${outcome}"`);
      const published0 = await packets('tapped');
      let finished = false;
      const call = voiceCall({
        dir,
        caller: NOBODY[0]!,
        callee: target,
        uasPort: PORTS.uas,
        uacPort: PORTS.uac,
        callerMediaPort: PORTS.callerMedia,
        calleeMediaPort: PORTS.calleeMedia,
        callerAudio: AUDIO_LONG,
        calleeAudio: AUDIO_LONG,
        holdResume: false,
        talkMs: 6000,
      }).then((r) => {
        finished = true;
        return r;
      });
      await waitFor(() => content(liid).length > 20, { timeoutMs: 30_000, what: 'content of the call' });
      expect(await tapped()).toBe(1);
      await change();
      await waitFor(async () => (await tapped()) === 0, { timeoutMs: 20_000, what: 'the tap withdrawn' });
      expect(finished).toBe(false); // withdrawn while the call was still talking
      const published = (await packets('tapped')) - published0;
      const untapped0 = await packets('untapped');
      const r = await call;
      expect(r.ok, r.output.slice(-2000)).toBe(true);
      // Once withdrawn, ingest publishes nothing more of the call, though its RTP goes on.
      expect((await packets('tapped')) - published0).toBe(published);
      expect(await packets('untapped')).toBeGreaterThan(untapped0 + 20);
      // The LEMF gets at most what was published while the tap was in place: what target-match
      // reads after the warrant's end matches no warrant any more.
      await new Promise((r) => setTimeout(r, 3000));
      const delivered = content(liid).length;
      expect(delivered).toBeGreaterThan(20);
      expect(delivered).toBeLessThanOrEqual(published);
      console.log(
        `${name}: ${published} media events published, ${delivered} CC delivered, then ${(await packets('untapped')) - untapped0} packets not published`,
      );
    });
  }

  it('caller is the target: directions the other way round', async () => {
    const wire = await capturedCall('caller-target', {
      caller: CALLER_TARGET,
      callee: NOBODY[1]!,
      callerAudio: AUDIO_LONG,
      calleeAudio: AUDIO_SHORT,
      holdResume: false,
      talkMs: 1500,
    });
    expect(wire.fromCallee.length).toBeGreaterThan(0);
    await expectContent('VCALLER', wire.fromCaller, wire.fromCallee);
  });

  it('a call of no target gives no record and publishes no media event', async () => {
    const before = {
      records: lemf.records.length,
      events: await metric('li_ingest_events_total', 'source="pcap"'),
      tapped: await metric('li_ingest_media_packets', 'outcome="tapped"'),
      untapped:
        (await metric('li_ingest_media_packets', 'outcome="untapped"')) +
        (await metric('li_ingest_media_packets', 'outcome="held"')),
    };
    const wire = await capturedCall('no-target', {
      caller: NOBODY[0]!,
      callee: NOBODY[1]!,
      callerAudio: AUDIO_SHORT,
      calleeAudio: AUDIO_SHORT,
      holdResume: false,
      talkMs: 1000,
    });
    const rtp = wire.fromCaller.length + wire.fromCallee.length;
    expect(rtp).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 3000));
    expect(lemf.records.length).toBe(before.records);
    // ingest saw every media packet of the call and published none: only its SIP messages.
    expect(await metric('li_ingest_events_total', 'source="pcap"')).toBe(before.events + wire.sip);
    expect(await metric('li_ingest_media_packets', 'outcome="tapped"')).toBe(before.tapped);
    const untapped =
      (await metric('li_ingest_media_packets', 'outcome="untapped"')) +
      (await metric('li_ingest_media_packets', 'outcome="held"'));
    expect(untapped - before.untapped).toBe(rtp);
  });
});
