// The ingest service: every adapter that is configured publishes NormalizedEvents to
// li.<t>.events through one batching publisher; what cannot be decoded goes to li.<t>.dlq.
// One ingest deployment serves one tenant: each virtual provider's mirror, capture interface
// or mail server points at its own ingest.
import { readFileSync } from 'node:fs';
import { loadTokenFile } from '@li/auth';
import { topicName } from '@li/bus';
import { ConfigError } from '@li/config';
import { CommonConfig, type ServiceDefinition } from '@li/runtime';
import type { NormalizedEvent } from '@li/schemas';
import { Counter } from 'prom-client';
import Type from 'typebox';
import { EventPublisher } from './adapters/event-publisher.ts';
import { buildMailEventsApp, MAIL_EVENTS_DEFAULTS } from './adapters/mail-events-http.ts';
import { replayPcapFile } from './adapters/pcap-file.ts';
import { startSipListener } from './adapters/sip-listener.ts';
import { startTcpdump } from './adapters/tcpdump.ts';
import {
  createX2X3Receiver,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_UNREAD_REPLY_BYTES,
} from './adapters/x2x3-receiver.ts';
import { type CaptureCounters, createCapture } from './domain/capture/capture.ts';
import { DEFAULT_DEFRAG_LIMITS } from './domain/capture/defrag.ts';
import { DEFAULT_TCP_LIMITS } from './domain/capture/tcp.ts';
import {
  IMAP_DEFAULT_PORTS,
  mailDecoderFactories,
  POP3_DEFAULT_PORTS,
  SMTP_DEFAULT_PORTS,
} from './domain/mail/index.ts';
import { MSNP_DEFAULT_PORTS, msnpDecoderFactory } from './domain/msnp/msnp.ts';
import { sipDatagramHandler, sipStreamFactory } from './domain/sip/decoder.ts';
import { pduToEvent } from './domain/x2x3/event.ts';
import { DEFAULT_MAX_PDU_BYTES } from './domain/x2x3/framer.ts';
import { FIXED_HEADER_LENGTH } from './domain/x2x3/pdu.ts';

const PortNumber = Type.Integer({ minimum: 1, maximum: 65535 });
const Port = (def: number) => Type.Integer({ minimum: 0, maximum: 65535, default: def });
const section = <P extends Type.TProperties>(props: P) => Type.Object(props, { default: {} });
const Octets = (def: number, description: string, minimum = 1) => Type.Integer({ minimum, default: def, description });

export const Config = Type.Object({
  ...CommonConfig.properties,
  metricsPort: Port(9461),
  tenant: Type.String({ minLength: 1, description: 'the tenant whose traffic this deployment sees' }),
  sip: section({
    enabled: Type.Boolean({ default: true }),
    host: Type.String({ default: '0.0.0.0' }),
    udpPort: Port(5060),
    tcpPort: Port(5060),
  }),
  capture: section({
    interface: Type.String({ default: '', description: 'live capture with tcpdump on this interface; empty: off' }),
    filter: Type.String({ default: '' }),
    pcapFile: Type.String({ default: '', description: 'a pcap/pcapng file to replay once at start; empty: none' }),
    /** Server ports that select a flow's decoder; servers on other ports are not decoded. */
    smtpPorts: Type.Array(PortNumber, { default: [...SMTP_DEFAULT_PORTS] }),
    pop3Ports: Type.Array(PortNumber, { default: [...POP3_DEFAULT_PORTS] }),
    imapPorts: Type.Array(PortNumber, { default: [...IMAP_DEFAULT_PORTS] }),
    msnpPorts: Type.Array(PortNumber, { default: [...MSNP_DEFAULT_PORTS] }),
    maxFlowBytes: Octets(
      DEFAULT_TCP_LIMITS.maxFlowBytes,
      'octets one TCP flow may hold (out-of-order segments and decoder buffers); beyond, the flow is dropped',
    ),
    maxTotalBytes: Octets(
      DEFAULT_TCP_LIMITS.maxTotalBytes,
      'octets all TCP flows together may hold; beyond, the flows holding most are dropped',
    ),
    defragMaxDatagrams: Octets(DEFAULT_DEFRAG_LIMITS.maxDatagrams, 'IP datagrams reassembled at once'),
    defragMaxBytes: Octets(DEFAULT_DEFRAG_LIMITS.maxBytes, 'octets of IP fragments held across all datagrams'),
    defragMaxFragments: Octets(
      DEFAULT_DEFRAG_LIMITS.maxFragmentsPerDatagram,
      'fragments one IP datagram may take (duplicates included); beyond, it is dropped',
    ),
  }),
  /** Token table (@li/auth format): mail servers post events with a `mailserver` token of `tenant`. */
  tokensFile: Type.String({ default: '', description: 'YAML/JSON token file; required while mailEvents is enabled' }),
  mailEvents: section({
    enabled: Type.Boolean({ default: true }),
    /** Loopback unless the mail servers are elsewhere: events can move and deactivate warrants. */
    host: Type.String({ default: '127.0.0.1' }),
    port: Port(8090),
    bodyLimitBytes: Type.Integer({ minimum: 1024, default: MAIL_EVENTS_DEFAULTS.bodyLimit }),
    maxDepth: Type.Integer({ minimum: 3, maximum: 1000, default: MAIL_EVENTS_DEFAULTS.maxDepth }),
    requestTimeoutMs: Type.Integer({ minimum: 100, default: MAIL_EVENTS_DEFAULTS.requestTimeoutMs }),
  }),
  x2x3: section({
    enabled: Type.Boolean({ default: false }),
    host: Type.String({ default: '0.0.0.0' }),
    port: Port(30000),
    /** XIDs of the X1 tasks this MDF accepts; a PDU with another XID goes to the DLQ. */
    tasks: Type.Array(Type.String(), { default: [] }),
    tlsKeyFile: Type.String({ default: '' }),
    tlsCertFile: Type.String({ default: '' }),
    tlsCaFile: Type.String({ default: '', description: 'CA of the client certificates; required with TLS' }),
    tlsAllowNoClientCert: Type.Boolean({
      default: false,
      description: 'TLS without tlsCaFile: accept clients without a certificate (insecure; refused otherwise)',
    }),
    maxConnections: Type.Integer({ minimum: 1, default: DEFAULT_MAX_CONNECTIONS }),
    idleTimeoutMs: Type.Integer({
      minimum: 0,
      default: 180_000,
      description: 'close a connection without PDU or keepalive for this long (3 × TIME_P1); 0: never',
    }),
    maxPduBytes: Octets(
      DEFAULT_MAX_PDU_BYTES,
      'largest PDU accepted; a larger one closes the connection',
      FIXED_HEADER_LENGTH,
    ),
    maxUnreadReplyBytes: Octets(
      DEFAULT_MAX_UNREAD_REPLY_BYTES,
      'octets of keepalive answers a peer may leave unread before the connection is closed',
    ),
  }),
});

export const ingestService: ServiceDefinition<typeof Config> = {
  name: 'ingest',
  config: Config,
  async start({ config, log, bus, metrics, readiness, liveness }) {
    const tenant = config.tenant;
    await bus.ensureTopics(tenant, ['events', 'dlq']);
    const eventsTopic = topicName(tenant, 'events');
    const publisher = new EventPublisher({
      bus,
      log,
      tenant,
      eventsTopic,
      dlqTopic: topicName(tenant, 'dlq'),
      codec: await bus.codec<NormalizedEvent>(eventsTopic, 'NormalizedEvent'),
      counters: {
        events: new Counter({
          name: 'li_ingest_events_total',
          help: 'Events decoded and published, by adapter.',
          labelNames: ['tenant', 'source'],
          registers: [metrics],
        }),
        problems: new Counter({
          name: 'li_ingest_problems_total',
          help: 'Input that could not be decoded (sent to the DLQ), by adapter and error code.',
          labelNames: ['tenant', 'source', 'code'],
          registers: [metrics],
        }),
      },
    });
    liveness('publisher', () => publisher.healthy());
    const collectors: (() => void)[] = [];
    // Input shed to protect the service (not decoded, no DLQ record each): by reason, never by peer.
    const dropped = new Counter({
      name: 'li_ingest_dropped_total',
      help: 'Input dropped by a resource cap (connections, fragments, flow memory), by reason.',
      labelNames: ['tenant', 'reason'],
      registers: [metrics],
      collect() {
        for (const c of collectors) c();
      },
    });
    const stops: (() => Promise<void>)[] = [];
    const listening: Record<string, number> = {};

    if (config.sip.enabled) {
      const sink = publisher.sink('sip');
      const sip = await startSipListener({
        host: config.sip.host,
        udpPort: config.sip.udpPort,
        tcpPort: config.sip.tcpPort,
        onEvent: sink.event,
        onProblem: sink.problem,
      });
      if (sip.udpPort !== null) listening.sipUdp = sip.udpPort;
      if (sip.tcpPort !== null) listening.sipTcp = sip.tcpPort;
      stops.push(() => sip.close());
    }

    if (config.capture.interface || config.capture.pcapFile) {
      const sink = publisher.sink('pcap');
      const capture = createCapture({
        factories: [
          sipStreamFactory(),
          ...mailDecoderFactories({
            smtp: config.capture.smtpPorts,
            pop3: config.capture.pop3Ports,
            imap: config.capture.imapPorts,
          }),
          msnpDecoderFactory({ ports: config.capture.msnpPorts }),
        ],
        onDatagram: sipDatagramHandler(sink),
        sink,
        limits: {
          tcp: { maxFlowBytes: config.capture.maxFlowBytes, maxTotalBytes: config.capture.maxTotalBytes },
          defrag: {
            maxDatagrams: config.capture.defragMaxDatagrams,
            maxBytes: config.capture.defragMaxBytes,
            maxFragmentsPerDatagram: config.capture.defragMaxFragments,
          },
        },
      });
      collectors.push(captureDrops(capture.stats, (reason, n) => dropped.inc({ tenant, reason }, n)));
      if (config.capture.pcapFile) {
        const r = await replayPcapFile(config.capture.pcapFile, capture);
        capture.end();
        log.info({ count: r.packets, code: r.ok ? null : r.error.code }, 'pcap file replayed');
      }
      if (config.capture.interface) {
        const live = startTcpdump({
          interface: config.capture.interface,
          ...(config.capture.filter ? { filter: config.capture.filter } : {}),
          onPacket: (p) => capture.packet(p),
        });
        const quiet = setInterval(() => capture.tick(Date.now() * 1000), 1000);
        await live.ready;
        stops.push(async () => {
          clearInterval(quiet);
          live.stop();
          await live.done;
          capture.end();
        });
      }
    }

    if (config.mailEvents.enabled) {
      if (!config.tokensFile) {
        throw new ConfigError([
          {
            key: 'tokensFile',
            env: 'LI_TOKENS_FILE',
            expected:
              'a token file with mailserver tokens while mailEvents is enabled (or LI_MAIL_EVENTS__ENABLED=false)',
          },
        ]);
      }
      const sink = publisher.sink('mail-events');
      const refused = new Counter({
        name: 'li_ingest_mail_events_refused_total',
        help: 'Mail-event requests refused before their body was read (no or a wrong credential), by error code.',
        labelNames: ['tenant', 'code'],
        registers: [metrics],
      });
      const app = await buildMailEventsApp({
        onEvent: sink.event,
        onProblem: sink.problem,
        onRefused: (code) => refused.inc({ tenant, code }),
        tenant,
        authenticator: loadTokenFile(config.tokensFile),
        bodyLimit: config.mailEvents.bodyLimitBytes,
        maxDepth: config.mailEvents.maxDepth,
        requestTimeoutMs: config.mailEvents.requestTimeoutMs,
      });
      await app.listen({ host: config.mailEvents.host, port: config.mailEvents.port });
      listening.mailEvents = (app.server.address() as { port: number }).port;
      stops.push(() => app.close());
    }

    if (config.x2x3.enabled) {
      const sink = publisher.sink('x2x3');
      const tasks = new Set(config.x2x3.tasks.map((x) => x.toLowerCase()));
      const receiver = createX2X3Receiver({
        ...(config.x2x3.tlsKeyFile
          ? {
              tls: {
                key: readFileSync(config.x2x3.tlsKeyFile),
                cert: readFileSync(config.x2x3.tlsCertFile),
                allowNoClientCert: config.x2x3.tlsAllowNoClientCert,
                ...(config.x2x3.tlsCaFile ? { ca: readFileSync(config.x2x3.tlsCaFile) } : {}),
              },
            }
          : {}),
        onPdu: (pdu, attrs) => {
          const r = pduToEvent(
            pdu,
            attrs,
            (xid) => (tasks.has(xid.toLowerCase()) ? { taskId: xid } : null),
            Date.now() * 1000,
          );
          if (r.ok) sink.event(r.event);
          else sink.problem({ code: r.code, reason: r.reason });
        },
        onProblem: (p) => sink.problem({ code: p.code, reason: p.reason }),
        maxConnections: config.x2x3.maxConnections,
        idleTimeoutMs: config.x2x3.idleTimeoutMs,
        maxPduBytes: config.x2x3.maxPduBytes,
        maxUnreadReplyBytes: config.x2x3.maxUnreadReplyBytes,
        onConnectionRefused: () => dropped.inc({ tenant, reason: 'x2x3_connection_limit' }),
      });
      listening.x2x3 = await receiver.listen(config.x2x3.port, config.x2x3.host);
      stops.push(() => receiver.close());
    }

    readiness('adapters', () => true);
    log.info({ reason: JSON.stringify(listening) }, 'ingest adapters listening');
    return {
      ports: listening,
      async stop() {
        for (const stop of stops.reverse()) await stop();
        await publisher.flush();
      },
    };
  },
};

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
