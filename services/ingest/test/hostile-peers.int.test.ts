// ingest on the real broker against hostile peers: the X2/X3 caps and the capture memory and
// fragment caps come from configuration, what they shed is counted in li_ingest_dropped_total,
// and what closes a connection or drops a flow leaves a DLQ record with its code.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bus, createBus, readTopic, topicName } from '@li/bus';
import { startService } from '@li/runtime';
import { memoryLogger, serviceEnv, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TCP_ACK, TCP_SYN } from '../src/domain/capture/packet.ts';
import { LINKTYPE } from '../src/domain/capture/pcap.ts';
import { keepalive } from '../src/domain/x2x3/pdu.ts';
import { ingestService } from '../src/service.ts';
import { ethernet, fragmentIp, ipPacket, tcpSegment, udpDatagram } from '../src/testing/packets.ts';
import { writePcap } from '../src/testing/pcap-writer.ts';

const infra = testInfra();
let bus: Bus;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'li-ingest-hostile-'));
  bus = await createBus({ ...infra, clientId: 'ingest-hostile-test' }, memoryLogger().log);
});
afterAll(async () => {
  await bus?.close();
  rmSync(dir, { recursive: true, force: true });
});

const quiet = { LI_SIP__ENABLED: 'false', LI_MAIL_EVENTS__ENABLED: 'false' };

async function dlqCodes(tenant: string, atLeast: number): Promise<string[]> {
  const records = await waitFor(
    async () => {
      const r = await readTopic(bus.kafka, topicName(tenant, 'dlq'));
      return r.length >= atLeast ? r : undefined;
    },
    { what: `${atLeast} DLQ records`, intervalMs: 200 },
  );
  return records.map((r) => r.headers['li.dlq.code'] ?? '').sort();
}

async function metric(port: number, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.split(' ').at(-1));
  }
  return 0;
}

function closedOf(s: net.Socket): Promise<void> {
  s.on('error', () => {});
  s.resume();
  return new Promise((r) => (s.destroyed ? r() : s.once('close', () => r())));
}

function connected(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

describe('ingest against hostile peers', () => {
  it('X2/X3: the configured connection cap, PDU size bound and idle timeout apply, each counted', async () => {
    const tenant = uniqueTenant('ingx');
    const svc = await startService(
      ingestService,
      await serviceEnv('ingest', [tenant], {
        ...quiet,
        LI_TENANT: tenant,
        LI_X2X3__ENABLED: 'true',
        LI_X2X3__HOST: '127.0.0.1',
        LI_X2X3__PORT: '0',
        LI_X2X3__MAX_CONNECTIONS: '1',
        LI_X2X3__MAX_PDU_BYTES: '4096',
        LI_X2X3__IDLE_TIMEOUT_MS: '400',
      }),
    );
    const port = svc.ports.x2x3!;
    try {
      // A header announcing a 1 MiB payload, over the 4096-octet bound: closed at once.
      const big = await connected(port);
      const head = keepalive(1).subarray(0, 12);
      head.writeUInt16BE(2, 2); // X3
      head.writeUInt32BE(1 << 20, 8);
      big.write(head);
      await closedOf(big);
      await new Promise((r) => setTimeout(r, 50));

      // One connection is allowed; a second one is closed at accept.
      const one = await connected(port);
      const oneClosed = closedOf(one);
      one.write(keepalive(2));
      await new Promise((r) => setTimeout(r, 50));
      const extra = await connected(port);
      await closedOf(extra);
      // The allowed one then goes silent and times out.
      await oneClosed;

      expect(await dlqCodes(tenant, 2)).toEqual(['ING_ERR_X2X3_IDLE', 'ING_ERR_X2X3_TOO_LARGE']);
      const m = svc.metricsPort;
      expect(await metric(m, 'li_ingest_dropped_total', { reason: 'x2x3_connection_limit' })).toBe(1);
      expect(await metric(m, 'li_ingest_problems_total', { source: 'x2x3', code: 'ING_ERR_X2X3_TOO_LARGE' })).toBe(1);
    } finally {
      await svc.stop();
    }
  }, 60_000);

  it('capture: a flow over the per-flow cap and a datagram over the fragment cap are dropped and counted', async () => {
    const packets: { tsMicros: number; data: Buffer }[] = [];
    let ts = 1_700_000_000_000_000;
    const add = (ip: Buffer) => {
      ts += 100;
      packets.push({ tsMicros: ts, data: ethernet(ip) });
    };
    // IMAP APPEND with literal after literal: 1 MiB held by the decoder, over a 256 KiB cap.
    const [c, s, cp, sp] = ['192.0.2.10', '198.51.100.5', 40100, 143];
    let cs = 1000;
    let ss = 90000;
    const tcp = (up: boolean, flags: number, payload?: Buffer) => {
      const [a, b, ap, bp] = up ? [c, s, cp, sp] : [s, c, sp, cp];
      const seq = up ? cs : ss;
      add(ipPacket(a, b, 6, tcpSegment({ src: a, dst: b, srcPort: ap, dstPort: bp, seq, flags, payload })));
      const adv = (payload?.length ?? 0) + (flags & TCP_SYN ? 1 : 0);
      if (up) cs += adv;
      else ss += adv;
    };
    tcp(true, TCP_SYN);
    tcp(false, TCP_SYN | TCP_ACK);
    tcp(false, TCP_ACK, Buffer.from('* OK IMAP ready\r\n'));
    tcp(true, TCP_ACK, Buffer.from('a1 APPEND INBOX {65536+}\r\n'));
    for (let i = 0; i < 16; i++) {
      for (let o = 0; o < 65536; o += 1400) tcp(true, TCP_ACK, Buffer.alloc(Math.min(1400, 65536 - o), 0x61));
      tcp(true, TCP_ACK, Buffer.from(' {65536+}\r\n'));
    }
    // A UDP datagram cut into 10 fragments, over a cap of 4.
    const l4 = udpDatagram({ src: c, dst: s, srcPort: 5060, dstPort: 5060, payload: Buffer.alloc(600, 0x62) });
    for (const f of fragmentIp(c, s, 17, l4, 64, 77)) add(f);
    const file = join(dir, 'hostile.pcap');
    writeFileSync(file, writePcap(LINKTYPE.ETHERNET, packets));

    const tenant = uniqueTenant('ingc');
    const svc = await startService(
      ingestService,
      await serviceEnv('ingest', [tenant], {
        ...quiet,
        LI_TENANT: tenant,
        LI_CAPTURE__PCAP_FILE: file,
        LI_CAPTURE__MAX_FLOW_BYTES: String(256 * 1024),
        LI_CAPTURE__DEFRAG_MAX_FRAGMENTS: '4',
      }),
    );
    try {
      expect(await dlqCodes(tenant, 1)).toEqual(['ING_ERR_FLOW_MEMORY']);
      const m = svc.metricsPort;
      expect(await metric(m, 'li_ingest_dropped_total', { reason: 'tcp_flow_memory' })).toBe(1);
      expect(
        await metric(m, 'li_ingest_dropped_total', { reason: 'defrag_too_many_fragments' }),
      ).toBeGreaterThanOrEqual(1);
      expect(await metric(m, 'li_ingest_problems_total', { source: 'pcap', code: 'ING_ERR_FLOW_MEMORY' })).toBe(1);
    } finally {
      await svc.stop();
    }
  }, 60_000);
});
