// The capture pipeline: captured frames in, decoder calls out. Link layer → IP (with fragment
// reassembly) → UDP datagrams to onDatagram, TCP segments to the reassembler and its decoders.
// Packet time drives every timeout, so a replayed file behaves as the live capture did.
import type { NetworkInfo } from '@li/schemas';
import type { IngestErrorCode } from '../../errors.ts';
import type { DecoderSink, StreamDecoderFactory } from '../stream.ts';
import { type DedupCounters, type DedupLimits, Deduplicator } from './dedup.ts';
import { type DefragCounters, type DefragLimits, Defragmenter } from './defrag.ts';
import { decodeLink, type IpPacket, parseIp, parseTcp, parseUdp, skipV6Extensions } from './packet.ts';
import type { CapturedPacket } from './pcap.ts';
import { type TcpCounters, type TcpLimits, TcpReassembler } from './tcp.ts';

const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;

export interface Datagram {
  tsMicros: number;
  network: NetworkInfo;
  payload: Buffer;
}

interface CaptureLimits {
  tcp: Partial<TcpLimits>;
  defrag: Partial<DefragLimits>;
  /** Copies of a packet a mirror delivered twice. */
  dedup: Partial<DedupLimits>;
  /** How often (packet time) timeouts are checked. */
  housekeepingMicros: number;
}

export interface CaptureOptions {
  factories: readonly StreamDecoderFactory[];
  onDatagram?: (d: Datagram) => void;
  /** Receives decoder events, decoder problems and malformed-packet problems. */
  sink: DecoderSink;
  limits?: Partial<CaptureLimits>;
  /** Ports taken as the server side of TCP flows whose handshake was not captured. */
  serverPorts?: ReadonlySet<number>;
}

export interface CaptureCounters {
  packets: number;
  bytes: number;
  nonIp: number;
  malformed: number;
  malformedByCode: Record<string, number>;
  otherProtocols: number;
  udpDatagrams: number;
  tcpSegments: number;
  tcp: TcpCounters;
  defrag: DefragCounters;
  dedup: DedupCounters;
}

export interface Capture {
  /** Feeds one captured frame. Never throws. */
  packet(p: CapturedPacket): void;
  /** Advances time without a packet (a live capture that went quiet). */
  tick(nowMicros: number): void;
  /** Ends all flows, e.g. at the end of a file. */
  end(): void;
  stats(): CaptureCounters;
}

export function createCapture(opts: CaptureOptions): Capture {
  const sink = opts.sink;
  const housekeeping = opts.limits?.housekeepingMicros ?? 1_000_000;
  const defrag = new Defragmenter(opts.limits?.defrag, (code, reason) => sink.problem({ code, reason }));
  const dedup = new Deduplicator(opts.limits?.dedup);
  const tcp = new TcpReassembler({
    factories: opts.factories,
    sink,
    limits: opts.limits?.tcp,
    serverPorts: opts.serverPorts,
  });
  const c: Omit<CaptureCounters, 'tcp' | 'defrag' | 'dedup'> = {
    packets: 0,
    bytes: 0,
    nonIp: 0,
    malformed: 0,
    malformedByCode: {},
    otherProtocols: 0,
    udpDatagrams: 0,
    tcpSegments: 0,
  };
  let now = 0;
  let lastHousekeeping = -1;

  const malformed = (code: IngestErrorCode, reason: string) => {
    c.malformed++;
    c.malformedByCode[code] = (c.malformedByCode[code] ?? 0) + 1;
    sink.problem({ code, reason });
  };

  const advance = (ts: number) => {
    if (ts > now) now = ts;
    if (lastHousekeeping < 0) lastHousekeeping = now;
    if (now - lastHousekeeping >= housekeeping) {
      lastHousekeeping = now;
      defrag.expire(now);
      tcp.expire(now);
    }
  };

  const transport = (ip: IpPacket, ts: number) => {
    let protocol = ip.protocol;
    let payload = ip.payload;
    if (ip.version === 6 && ip.fragment === null && protocol !== IPPROTO_TCP && protocol !== IPPROTO_UDP) {
      // After IPv6 reassembly the fragmentable part may still start with extension headers.
      const w = skipV6Extensions(protocol, payload, 0);
      if (!w.ok) return malformed(w.code, w.reason);
      protocol = w.protocol;
      payload = payload.subarray(w.offset);
    }
    if (protocol === IPPROTO_UDP) {
      const u = parseUdp(payload);
      if (!u.ok) return malformed(u.code, u.reason);
      c.udpDatagrams++;
      opts.onDatagram?.({
        tsMicros: ts,
        network: {
          transport: 'udp',
          srcAddress: ip.src,
          srcPort: u.udp.srcPort,
          dstAddress: ip.dst,
          dstPort: u.udp.dstPort,
        },
        payload: u.udp.payload,
      });
      return;
    }
    if (protocol === IPPROTO_TCP) {
      const t = parseTcp(payload);
      if (!t.ok) return malformed(t.code, t.reason);
      c.tcpSegments++;
      tcp.segment(ip.src, ip.dst, t.tcp, ts);
      return;
    }
    c.otherProtocols++;
  };

  return {
    packet(p) {
      try {
        c.packets++;
        c.bytes += p.data.length;
        advance(p.tsMicros);
        const link = decodeLink(p.linkType, p.data);
        if (!link.ok) return malformed(link.code, link.reason);
        if (link.ip === null) {
          c.nonIp++;
          return;
        }
        if (dedup.seen(link.ip, p.tsMicros)) return;
        const ipr = parseIp(link.ip);
        if (!ipr.ok) return malformed(ipr.code, ipr.reason);
        let ip: IpPacket | null = ipr.packet;
        if (ip.fragment) {
          ip = defrag.add(ip, p.tsMicros);
          if (!ip) return;
        }
        transport(ip, p.tsMicros);
      } catch (err) {
        // Defensive: parsing code above returns results; anything thrown is a bug, not input.
        malformed(
          'ING_ERR_CAPTURE_INTERNAL',
          `capture failed on a packet: ${err instanceof Error ? err.name : 'error'}`,
        );
      }
    },
    tick(nowMicros) {
      advance(nowMicros);
    },
    end() {
      tcp.endAll(now);
    },
    stats() {
      return {
        ...c,
        malformedByCode: { ...c.malformedByCode },
        tcp: { ...tcp.counters },
        defrag: { ...defrag.counters },
        dedup: { ...dedup.counters },
      };
    },
  };
}
