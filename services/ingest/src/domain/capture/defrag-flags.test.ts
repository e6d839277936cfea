import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createIngestMetrics } from '../../adapters/metrics.ts';
import { collector } from '../../testing/decoder-kit.ts';
import { ethernet, ipPacket, tcpSegment, udpDatagram } from '../../testing/packets.ts';
import { writePcap } from '../../testing/pcap-writer.ts';
import { invite } from '../../testing/sip-messages.ts';
import { sipDatagramHandler, sipStreamFactory } from '../sip/decoder.ts';
import { createCapture } from './capture.ts';
import { CaptureReader, LINKTYPE } from './pcap.ts';

const A = '10.0.0.1';
const B = '10.0.0.2';

/** A UDP datagram carrying a SIP INVITE, checksummed, ready to be cut into fragments. */
function sipL4(callId: string): Buffer {
  const l4 = udpDatagram({
    src: A,
    dst: B,
    srcPort: 5060,
    dstPort: 5060,
    payload: invite({ callId, body: 'a=x\r\n'.repeat(500) }),
  });
  ipPacket(A, B, 17, l4); // fills in the UDP checksum
  return l4;
}

const frag = (id: number, l4: Buffer, offset: number, end: number, more: boolean, data?: Buffer) =>
  ipPacket(A, B, 17, data ?? l4.subarray(offset, end), { id, offsetBytes: offset, more, skipChecksum: true });

describe('IP fragments that overlap, run past the end or time out', () => {
  it('are flagged (DLQ problems and counters) while what reassembles is still decoded; counters reach the metrics', async () => {
    const t0 = 1_700_000_000_000_000;
    const c1 = sipL4('frag-conflict');
    const forged = Buffer.from(c1.subarray(1480, 2960));
    forged.fill(0x41, 100, 200);
    const c2 = sipL4('frag-end');
    const tail = 2960;
    const past = Buffer.concat([c2.subarray(tail - 16), Buffer.alloc(64, 0x5a)]); // 64 octets past the end
    const c3 = sipL4('frag-timeout');
    const ips = [
      frag(1, c1, 0, 1480, true),
      frag(1, c1, 1480, 2960, true),
      frag(1, c1, 1480, 2960, true, forged), // same place, other octets: the first are kept
      frag(1, c1, 2960, c1.length, false),
      frag(2, c2, 0, 1480, true),
      frag(2, c2, 1480, tail, true),
      frag(2, c2, tail - 16, 0, true, past), // runs past the end the last fragment sets
      frag(2, c2, tail, c2.length, false),
      frag(3, c3, 0, 1480, true), // never completed
    ];
    const packets = ips.map((ip, i) => ({ tsMicros: t0 + i * 10, data: ethernet(ip) }));
    // Much later: a TCP segment moves packet time past the reassembly timeout.
    const syn = ipPacket(A, B, 6, tcpSegment({ src: A, dst: B, srcPort: 40000, dstPort: 5060, seq: 1, flags: 0x02 }));
    packets.push({ tsMicros: t0 + 40_000_000, data: ethernet(syn) });
    const sink = collector();
    const cap = createCapture({ factories: [sipStreamFactory()], onDatagram: sipDatagramHandler(sink), sink });
    expect(new CaptureReader().push(writePcap(LINKTYPE.ETHERNET, packets), (p) => cap.packet(p))).toBeNull();
    cap.end();

    expect(sink.events.map((e) => e.communicationId)).toEqual(['frag-conflict', 'frag-end']);
    expect(sink.events[0]?.content?.includes('A'.repeat(100))).toBe(false);
    expect(sink.problems.map((p) => p.code)).toEqual([
      'ING_ERR_FRAG_CONFLICT',
      'ING_ERR_FRAG_OVERLAP',
      'ING_ERR_FRAG_BEYOND_END',
      'ING_ERR_FRAG_TIMEOUT',
    ]);
    const s = cap.stats().defrag;
    expect(s).toMatchObject({ reassembled: 2, conflicts: 1, beyondEnd: 1, timedOut: 1 });

    const registry = new Registry();
    createIngestMetrics(registry).watchCapture(() => cap.stats(), 'acme');
    const text = await registry.metrics();
    expect(text).toContain('li_ingest_capture_defrag_total{tenant="acme",counter="conflicts"} 1');
    expect(text).toContain('li_ingest_capture_defrag_total{tenant="acme",counter="timedOut"} 1');
    expect(text).toContain('li_ingest_capture_defrag_total{tenant="acme",counter="reassembled"} 2');
    expect(text).toContain('li_ingest_capture_tcp_total{tenant="acme",counter="segments"} 1');
    expect(text).toContain('li_ingest_capture_tcp_total{tenant="acme",counter="flowsCreated"} 1');
  });
});
