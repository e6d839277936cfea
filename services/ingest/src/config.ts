// The ingest config schema: every setting and its LI_* variable (CommonConfig's rules).
import { join } from 'node:path';
import { ConfigError } from '@li/config';
import { CommonConfig } from '@li/runtime';
import Type from 'typebox';
import { MAIL_EVENTS_DEFAULTS } from './adapters/mail-events-http.ts';
import { DEFAULT_CAPTURE_BUFFER_KIB } from './adapters/tcpdump.ts';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_UNREAD_REPLY_BYTES } from './adapters/x2x3-receiver.ts';
import { DEFAULT_DEFRAG_LIMITS } from './domain/capture/defrag.ts';
import { DEFAULT_TCP_LIMITS } from './domain/capture/tcp.ts';
import { IMAP_DEFAULT_PORTS } from './domain/mail/imap.ts';
import { POP3_DEFAULT_PORTS } from './domain/mail/pop3.ts';
import { SMTP_DEFAULT_PORTS } from './domain/mail/smtp.ts';
import { DEFAULT_MEDIA_LIMITS } from './domain/media/tracker.ts';
import { MSNP_DEFAULT_PORTS } from './domain/msnp/msnp.ts';
import type { SpoolFsync } from './domain/spool-policy.ts';
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
    pcapSpeed: Type.Number({
      minimum: 0,
      default: 0,
      description: 'pcapFile replay pace in times real time (1: as captured); 0: as fast as it reads',
    }),
    bufferBytes: Octets(
      DEFAULT_CAPTURE_BUFFER_KIB * 1024,
      "the kernel's capture buffer for tcpdump (-B, rounded down to KiB); a burst beyond it is lost to the capture",
      1024 * 1024,
    ),
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
  /** Voice content: the media of tapped calls (li.<t>.taps), found from their SDP (docs/ARCHITECTURE.md). */
  media: section({
    enabled: Type.Boolean({ default: true, description: "follow SDP and capture tapped calls' RTP/RTCP/UDPTL" }),
    pendingMs: Type.Integer({
      minimum: 0,
      default: DEFAULT_MEDIA_LIMITS.pendingMs,
      description:
        "longest wall time a new call's media is held waiting for its tap decision (target-match's watermark normally decides sooner)",
    }),
    idleSeconds: Type.Integer({
      minimum: 1,
      default: DEFAULT_MEDIA_LIMITS.idleMicros / 1e6,
      description: 'a call with neither SIP nor media this long is forgotten (lost BYE)',
    }),
    maxPendingBytes: Octets(DEFAULT_MEDIA_LIMITS.maxPendingBytes, 'octets of media held in all while taps are awaited'),
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
  /** Where records wait while Kafka is away (README: spool). */
  spool: section({
    enabled: Type.Boolean({
      default: true,
      description: 'false: records wait in memory (unbounded) while Kafka is away',
    }),
    directory: Type.String({
      default: '',
      description: 'spool directory, one per ingest; empty: .run/ingest-spool/<tenant> under the working directory',
    }),
    maxBytes: Octets(
      256 * 1024 * 1024,
      'octets of spool files on disk; beyond, records are dropped (counted)',
      64 * 1024,
    ),
    afterMs: Type.Integer({
      minimum: 100,
      default: 5000,
      description: 'a Kafka send not acknowledged for this long starts spooling',
    }),
    fsync: Type.Union([Type.Literal('always'), Type.Literal('interval'), Type.Literal('never')], {
      default: 'always',
      description:
        "always: each spooled batch is fdatasync'd before it counts as kept, and mail events are answered and X2/X3 keepalives acknowledged only once what came before is in Kafka or synced; interval: synced every fsyncIntervalMs; never: left to the kernel",
    }),
    fsyncIntervalMs: Type.Integer({
      minimum: 10,
      default: 1000,
      description: "fsync 'interval': how often the open spool segment is synced (what a power cut can lose)",
    }),
  }),
});

/** The spool directory a config names, or the default one of its tenant. */
export function spoolDirectory(config: Type.Static<typeof Config>): string {
  return config.spool.directory || join('.run', 'ingest-spool', config.tenant);
}

/** The spool's durability policy as the adapter takes it. */
export function spoolFsyncOf(config: Type.Static<typeof Config>): SpoolFsync {
  const f = config.spool.fsync;
  return f === 'interval' ? { mode: 'interval', intervalMs: config.spool.fsyncIntervalMs } : { mode: f };
}

/** What the schema cannot say: settings that depend on each other. Checked before anything starts. */
export function checkConfig(config: Type.Static<typeof Config>): void {
  if (config.mailEvents.enabled && !config.tokensFile) {
    throw new ConfigError([
      {
        key: 'tokensFile',
        env: 'LI_TOKENS_FILE',
        expected: 'a token file with mailserver tokens while mailEvents is enabled (or LI_MAIL_EVENTS__ENABLED=false)',
      },
    ]);
  }
}
