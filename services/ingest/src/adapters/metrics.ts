// ingest's Prometheus series. Labels are tenant, adapter, error code and drop reason: never a
// peer or anything seen in the traffic.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CaptureCounters } from '../domain/capture/capture.ts';
import type { MediaCounters } from '../domain/media/tracker.ts';

export interface IngestMetrics {
  events: Counter<'tenant' | 'source'>;
  problems: Counter<'tenant' | 'source' | 'code'>;
  /** Input shed to protect the service (not decoded, no DLQ record each): by reason, never by peer. */
  dropped: Counter<'tenant' | 'reason'>;
  /** Adds what a capture read to li_ingest_captured_packets_total and what it shed to li_ingest_dropped_total at each scrape. */
  watchCapture(stats: () => CaptureCounters, tenant: string): void;
  /**
   * Takes tcpdump's running total of packets the kernel dropped; adds the new ones to
   * li_ingest_dropped_total{reason="capture_kernel_buffer"} and returns how many were new.
   */
  kernelDrops(tenant: string): (total: number) => number;
  /** Records a full spool refused while Kafka was away. */
  spoolDropped: Counter<'tenant'>;
  /** li_ingest_spool_bytes and li_ingest_spool_events, read from the spool at each scrape. */
  watchSpool(stats: () => { bytes: number; records: number; maxBytes: number }, tenant: string): void;
  /** li_ingest_replay_started_seconds: when a paced pcap replay handed over its first packet. */
  replayStarted(tenant: string, wallMs: number): void;
  /** li_ingest_media_* from the media tracker, read at each scrape. */
  watchMedia(stats: () => MediaCounters, tenant: string): void;
  /** Registered only when the mail-events API runs. */
  mailEventsRefused(): Counter<'tenant' | 'code'>;
}

export function createIngestMetrics(registry: Registry): IngestMetrics {
  // Registered in this order, as /metrics lists them.
  const events = new Counter({
    name: 'li_ingest_events_total',
    help: 'Events decoded and published, by adapter.',
    labelNames: ['tenant', 'source'],
    registers: [registry],
  });
  const problems = new Counter({
    name: 'li_ingest_problems_total',
    help: 'Input that could not be decoded (sent to the DLQ), by adapter and error code.',
    labelNames: ['tenant', 'source', 'code'],
    registers: [registry],
  });
  const collectors: (() => void)[] = [];
  const dropped = new Counter({
    name: 'li_ingest_dropped_total',
    help: 'Input dropped by a resource cap (connections, fragments, flow memory), by reason.',
    labelNames: ['tenant', 'reason'],
    registers: [registry],
    collect() {
      for (const c of collectors) c();
    },
  });
  // ingest's input, so the stalled-stage alert can tell "nothing arrives" from "nothing comes out".
  const packetCollectors: (() => void)[] = [];
  const captured = new Counter({
    name: 'li_ingest_captured_packets_total',
    help: 'Frames read from the capture (interface or pcap file), whether decoded or not.',
    labelNames: ['tenant'],
    registers: [registry],
    collect() {
      for (const c of packetCollectors) c();
    },
  });
  const spoolDropped = new Counter({
    name: 'li_ingest_spool_dropped_events_total',
    help: 'Records (events and DLQ records) dropped because the spool was full while Kafka was away.',
    labelNames: ['tenant'],
    registers: [registry],
  });
  return {
    events,
    problems,
    dropped,
    spoolDropped,
    kernelDrops(tenant) {
      let seen = 0;
      return (total) => {
        const n = total - seen;
        if (n <= 0) return 0;
        seen = total;
        dropped.inc({ tenant, reason: 'capture_kernel_buffer' }, n);
        return n;
      };
    },
    replayStarted(tenant, wallMs) {
      new Gauge({
        name: 'li_ingest_replay_started_seconds',
        help: 'Wall time (Unix seconds) a paced pcap replay handed over its first packet: packet times map to wall times from it.',
        labelNames: ['tenant'],
        registers: [registry],
      }).set({ tenant }, wallMs / 1000);
    },
    watchMedia(stats, tenant) {
      new Gauge({
        name: 'li_ingest_media_calls',
        help: 'Calls whose SDP media endpoints ingest follows, and how many of them are tapped.',
        labelNames: ['tenant', 'state'],
        registers: [registry],
        collect() {
          const s = stats();
          this.set({ tenant, state: 'followed' }, s.calls);
          this.set({ tenant, state: 'tapped' }, s.tapped);
        },
      });
      new Gauge({
        name: 'li_ingest_media_packets',
        help: 'Media datagrams of followed calls since start: tapped (published), untapped (not published), held, held then sent, held then dropped.',
        labelNames: ['tenant', 'outcome'],
        registers: [registry],
        collect() {
          const s = stats();
          this.set({ tenant, outcome: 'tapped' }, s.packetsTapped);
          this.set({ tenant, outcome: 'untapped' }, s.packetsUntapped);
          this.set({ tenant, outcome: 'held' }, s.packetsHeld);
          this.set({ tenant, outcome: 'held_sent' }, s.heldSent);
          this.set({ tenant, outcome: 'held_dropped' }, s.heldDropped);
        },
      });
    },
    watchSpool(stats, tenant) {
      const gauge = (name: string, help: string, read: (s: ReturnType<typeof stats>) => number) =>
        new Gauge({
          name,
          help,
          labelNames: ['tenant'],
          registers: [registry],
          collect() {
            this.set({ tenant }, read(stats()));
          },
        });
      gauge('li_ingest_spool_bytes', 'Octets of spool files on disk (records waiting for Kafka).', (s) => s.bytes);
      gauge('li_ingest_spool_max_bytes', 'The configured spool size (spool.maxBytes).', (s) => s.maxBytes);
      gauge('li_ingest_spool_events', 'Records in the spool waiting for Kafka.', (s) => s.records);
    },
    watchCapture(stats, tenant) {
      collectors.push(captureDrops(stats, (reason, n) => dropped.inc({ tenant, reason }, n)));
      let seen = 0;
      packetCollectors.push(() => {
        const packets = stats().packets;
        if (packets > seen) captured.inc({ tenant }, packets - seen);
        seen = packets;
      });
    },
    mailEventsRefused: () =>
      new Counter({
        name: 'li_ingest_mail_events_refused_total',
        help: 'Mail-event requests refused before their body was read (no or a wrong credential), by error code.',
        labelNames: ['tenant', 'code'],
        registers: [registry],
      }),
  };
}

/** Capture counters that mean input was shed, as li_ingest_dropped_total reasons. */
const CAPTURE_DROPS: Record<string, (s: CaptureCounters) => number> = {
  tcp_flow_memory: (s) => s.tcp.flowsDroppedFlowMemory,
  tcp_total_memory: (s) => s.tcp.flowsDroppedTotalMemory,
  tcp_flow_table_full: (s) => s.tcp.flowsEvictedForRoom,
  defrag_too_many_fragments: (s) => s.defrag.tooManyFragments,
  defrag_evicted: (s) => s.defrag.evicted,
  defrag_timeout: (s) => s.defrag.timedOut,
  defrag_too_large: (s) => s.defrag.tooLarge,
};

/** At each scrape, adds what the capture dropped since the last one. */
function captureDrops(stats: () => CaptureCounters, add: (reason: string, n: number) => void): () => void {
  const seen: Record<string, number> = {};
  return () => {
    const s = stats();
    for (const [reason, get] of Object.entries(CAPTURE_DROPS)) {
      const n = get(s) - (seen[reason] ?? 0);
      seen[reason] = get(s);
      if (n > 0) add(reason, n);
    }
  };
}
