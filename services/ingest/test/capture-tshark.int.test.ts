// tshark/capinfos as independent decoders of the pcap files our writer and frame builders
// produce, and as the reference for what our pipeline extracts from them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readPcapFile, replayPcapFile } from '../src/adapters/pcap-file.ts';
import { createCapture } from '../src/domain/capture/capture.ts';
import { type CapturedPacket, LINKTYPE } from '../src/domain/capture/pcap.ts';
import { sipDatagramHandler, sipStreamFactory } from '../src/domain/sip/decoder.ts';
import type { DecodedEvent, DecodeProblem } from '../src/domain/stream.ts';
import { ethernet, fragmentIp, ipPacket, udpDatagram } from '../src/testing/packets.ts';
import { pcapRecord } from '../src/testing/pcap-writer.ts';
import { invite, response } from '../src/testing/sip-messages.ts';
import { syntheticSipPcap } from '../src/testing/synthetic.ts';

const dir = mkdtempSync(join(tmpdir(), 'ingest-tshark-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fixture(): { path: string; packets: number } {
  const syn = syntheticSipPcap({ calls: 6, mss: 200, udpEvery: 3 });
  const extra: Buffer[] = [];
  const v6 = ['2001:db8::10', '2001:db8::20'] as const;
  extra.push(
    ethernet(
      ipPacket(
        v6[0],
        v6[1],
        17,
        udpDatagram({
          src: v6[0],
          dst: v6[1],
          srcPort: 5060,
          dstPort: 5060,
          payload: response(180, 'Ringing', 'v6-call'),
        }),
      ),
      [10, 20],
    ),
  );
  const big = invite({ callId: 'frag-call', body: 'a=x\r\n'.repeat(700) });
  for (const f of fragmentIp(
    '10.9.0.1',
    '10.9.0.2',
    17,
    udpDatagram({ src: '10.9.0.1', dst: '10.9.0.2', srcPort: 5060, dstPort: 5060, payload: big }),
    1480,
    4242,
  )) {
    extra.push(ethernet(f, [7]));
  }
  const ts = 1_800_000_000_000_000;
  const pcap = Buffer.concat([syn.pcap, ...extra.map((e, i) => pcapRecord(ts + i, e))]);
  const path = join(dir, 'fixture.pcap');
  writeFileSync(path, pcap);
  return { path, packets: syn.packets + extra.length };
}

function tshark(args: string[]): string {
  return execFileSync('tshark', ['-n', ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe('pcap files checked with tshark', () => {
  const fx = fixture();

  it('capinfos and tshark read our writer output, with valid IP/TCP/UDP checksums', () => {
    const info = execFileSync('capinfos', ['-T', '-r', '-c', '-E', fx.path], { encoding: 'utf8' }).trim().split('\t');
    expect(info[1]).toBe('ether');
    expect(Number(info[2])).toBe(fx.packets);
    const bad = tshark([
      '-r',
      fx.path,
      '-o',
      'ip.check_checksum:TRUE',
      '-o',
      'tcp.check_checksum:TRUE',
      '-o',
      'udp.check_checksum:TRUE',
      '-Y',
      'ip.checksum.status == "Bad" || tcp.checksum.status == "Bad" || udp.checksum.status == "Bad" || _ws.malformed',
    ]);
    expect(bad.trim()).toBe('');
    const good = tshark([
      '-r',
      fx.path,
      '-o',
      'tcp.check_checksum:TRUE',
      '-o',
      'udp.check_checksum:TRUE',
      '-Y',
      'tcp.checksum.status == "Good" || udp.checksum.status == "Good"',
      '-T',
      'fields',
      '-e',
      'frame.number',
    ]);
    expect(good.trim().split('\n').length).toBeGreaterThan(100);
  });

  it('our pipeline finds the same SIP messages, in the same order, as tshark', async () => {
    const ref = tshark([
      '-r',
      fx.path,
      '-Y',
      'sip',
      '-T',
      'fields',
      '-E',
      'separator=|',
      '-e',
      'sip.Call-ID',
      '-e',
      'sip.Method',
      '-e',
      'sip.Status-Code',
      '-e',
      'ip.src',
      '-e',
      'ipv6.src',
    ])
      .trim()
      .split('\n')
      // tshark also tags body-continuation segments as sip, with no header fields.
      .filter((l) => !l.startsWith('||'))
      .map((l) => {
        const [callId, method, status, v4, v6] = l.split('|');
        return `${callId} ${status ? status : method} ${v4 || v6}`;
      });
    const events: DecodedEvent[] = [];
    const problems: DecodeProblem[] = [];
    const sink = { event: (e: DecodedEvent) => events.push(e), problem: (p: DecodeProblem) => problems.push(p) };
    const cap = createCapture({ factories: [sipStreamFactory()], onDatagram: sipDatagramHandler(sink), sink });
    const r = await replayPcapFile(fx.path, cap);
    expect(r).toEqual({ ok: true, packets: fx.packets });
    expect(problems).toEqual([]);
    const ours = events.map(
      (e) =>
        `${e.communicationId} ${e.action === 'sip.response' ? e.attributes.status : e.attributes.method} ${e.network?.srcAddress}`,
    );
    expect(ref.length).toBe(6 * 7 + 2);
    expect(ours).toEqual(ref);
  });

  it('reads tshark-converted pcapng and nanosecond pcap with identical packets', async () => {
    const orig: CapturedPacket[] = [];
    await readPcapFile(fx.path, (p) => orig.push({ ...p, data: Buffer.from(p.data) }));
    for (const format of ['pcapng', 'nsecpcap']) {
      const out = join(dir, `fixture.${format}`);
      execFileSync('editcap', ['-F', format, fx.path, out]);
      const got: CapturedPacket[] = [];
      const r = await readPcapFile(out, (p) => got.push({ ...p, data: Buffer.from(p.data) }));
      expect(r).toEqual({ ok: true, packets: orig.length });
      expect(got.map((p) => [p.tsMicros, p.linkType, p.data.toString('hex')])).toEqual(
        orig.map((p) => [p.tsMicros, LINKTYPE.ETHERNET, p.data.toString('hex')]),
      );
    }
  });
});

describe('pcap file adapter', () => {
  it('returns a typed error for a missing or non-capture file', async () => {
    expect(await readPcapFile(join(dir, 'missing.pcap'), () => {})).toMatchObject({
      ok: false,
      error: { code: 'ING_ERR_PCAP_TRUNCATED' },
    });
    const text = join(dir, 'text.pcap');
    writeFileSync(text, 'this is not a capture\n'.repeat(10));
    expect(await readPcapFile(text, () => {})).toMatchObject({ ok: false, error: { code: 'ING_ERR_PCAP_FORMAT' } });
  });
});
