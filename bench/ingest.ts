// bench/ingest: packets/s for pcap decode + IP/TCP reassembly + SIP decoding of a large
// generated capture, beside tshark reading the same file in the same run (tshark -r with a
// SIP display filter, which makes it reassemble and dissect as deeply as we do, and plain
// tshark -r -q, which reads and frames the packets without building SIP trees).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureMediaThroughput, measureThroughput, syntheticRtpPcap, syntheticSipPcap } from '@li/ingest/testing';
import { SCHEMAS } from '@li/schemas';
import { benchDeadline } from './lib/deadline.ts';
import { fmt, printMachine, printRows } from './lib/report.ts';

const calls = Number(process.env.BENCH_CALLS ?? 5_000);
benchDeadline('bench/ingest', 900);
printMachine();
const { pcap, packets, messages } = syntheticSipPcap({ calls });
const dir = mkdtempSync(join(tmpdir(), 'bench-ingest-'));
const file = join(dir, 'calls.pcap');
writeFileSync(file, pcap);

measureThroughput(pcap.subarray(0, Math.min(pcap.length, 4 << 20))); // warm-up
const cpu0 = process.cpuUsage();
const ours = measureThroughput(pcap);
const cpu = process.cpuUsage(cpu0);
const oursCpuSec = (cpu.user + cpu.system) / 1e6;

function tshark(args: string[]): { seconds: number; cpuSeconds: number; lines: number } {
  const t0 = performance.now();
  const out = execFileSync('bash', ['-c', `TIMEFORMAT='%U %S'; { time tshark ${args.join(' ')} > out.txt; } 2>&1`], {
    cwd: dir,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    timeout: 600_000, // a stuck tshark fails the benchmark (ETIMEDOUT) instead of hanging it
  });
  const seconds = (performance.now() - t0) / 1000;
  const [u, s] = out.trim().split('\n').at(-1)!.split(' ').map(Number);
  const lines = Number(execFileSync('wc', ['-l', join(dir, 'out.txt')], { encoding: 'utf8' }).split(' ')[0]);
  return { seconds, cpuSeconds: (u ?? 0) + (s ?? 0), lines };
}
const plain = tshark(['-r', file, '-q']);
const sip = tshark(['-r', file, '-Y', 'sip', '-T', 'fields', '-e', 'sip.Call-ID']);
rmSync(dir, { recursive: true, force: true });

console.log(
  `bench/ingest: ${fmt(packets)} packets, ${(pcap.length / 2 ** 20).toFixed(1)} MiB, ${fmt(calls)} calls, ${fmt(messages)} SIP messages`,
);
console.log(
  `ours decoded ${fmt(ours.events)} SIP events (${ours.problems} problems); tshark -Y sip printed ${fmt(sip.lines)} messages`,
);
printRows([
  { name: 'tshark -r -q (wall; no SIP dissection)', value: packets / plain.seconds, unit: 'packets/s' },
  { name: 'ingest decode (wall)', value: ours.packetsPerSecond, unit: 'packets/s', reference: packets / plain.seconds },
  { name: 'tshark -r -Y sip (wall)', value: packets / sip.seconds, unit: 'packets/s' },
  { name: 'ingest decode (wall)', value: ours.packetsPerSecond, unit: 'packets/s', reference: packets / sip.seconds },
  { name: 'tshark -r -Y sip (CPU)', value: packets / sip.cpuSeconds, unit: 'packets/CPU-s' },
  {
    name: 'ingest decode (CPU)',
    value: packets / oursCpuSec,
    unit: 'packets/CPU-s',
    reference: packets / sip.cpuSeconds,
  },
]);

// Voice content: the same capture path with media following, on calls with RTP. "untapped": no
// call is tapped (a lookup per datagram, nothing published); "tapped": every call is, so each RTP
// packet becomes an event, Avro-encoded as the publisher does; reference: the capture path without
// media following on the same file (RTP datagrams then only fail the SIP check).
const rtpCalls = Number(process.env.BENCH_RTP_CALLS ?? 400);
const rtp = syntheticRtpPcap({ calls: rtpCalls, rtpPerDirection: 250, concurrent: 200 });
let encodedBytes = 0;
const avro = (e: object) => {
  encodedBytes += SCHEMAS.NormalizedEvent.type.toBuffer({
    ...e,
    eventId: '00000000-0000-4000-8000-000000000000',
    tenant: 'bench',
    source: 'pcap',
  }).length;
};
const run = (follow: boolean, tapped: readonly string[]) =>
  measureMediaThroughput(rtp.pcap, { follow, tapped, encode: avro });
// Each path warmed up, then the median of three runs (the JIT settles per path).
const median = (follow: boolean, tapped: readonly string[]) => {
  run(follow, tapped);
  const rs = [run(follow, tapped), run(follow, tapped), run(follow, tapped)];
  return rs.sort((a, b) => a.packetsPerSecond - b.packetsPerSecond)[1]!;
};
const plainMedia = median(false, []);
const untapped = median(true, []);
const tapped = median(true, rtp.callIds);
console.log(
  `bench/ingest media: ${fmt(rtp.packets)} packets (${fmt(rtp.rtpPackets)} RTP) of ${fmt(rtpCalls)} calls; ` +
    `tapped run published ${fmt(tapped.mediaEvents)} media events (expected ${fmt(rtp.rtpPackets)}), untapped run ${fmt(untapped.mediaEvents)}`,
);
if (tapped.mediaEvents !== rtp.rtpPackets || untapped.mediaEvents !== 0) {
  console.error('bench/ingest: media event count differs from the RTP packets generated');
  process.exitCode = 1;
}
printRows([
  { name: 'capture without media following (wall)', value: plainMedia.packetsPerSecond, unit: 'packets/s' },
  {
    name: 'media followed, no call tapped (wall)',
    value: untapped.packetsPerSecond,
    unit: 'packets/s',
    reference: plainMedia.packetsPerSecond,
  },
  {
    name: 'media followed, every call tapped + Avro (wall)',
    value: tapped.packetsPerSecond,
    unit: 'packets/s',
    reference: untapped.packetsPerSecond,
  },
]);
void encodedBytes;
