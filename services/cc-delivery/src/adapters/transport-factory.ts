// Builds the transport a LemfDestination names. Never throws: bad config becomes a transport whose
// every send fails with a clear DLV_ERR_* code, visible on the LEMF's status and metrics.
import type { ConnectionOptions } from 'node:tls';
import type { Clock } from '@li/core';
import { isSecretRef, type LemfDestination, plaintextSetting, secretRefsOf } from '@li/schemas';
import { type BackoffPolicy, DEFAULT_BACKOFF } from '../domain/backoff.ts';
import type { Framing } from '../domain/framing.ts';
import { DEFAULT_INBOUND_LIMITS, type InboundLimits } from '../domain/inbound-budget.ts';
import { validatePattern } from '../domain/naming.ts';
import type {
  ConfirmedLater,
  DeliveryTransport,
  KeepaliveCodec,
  SendOutcome,
  TransportStatus,
} from '../domain/types.ts';
import { type DeliveryError, type DlvErrorCode, dlvError } from '../errors.ts';
import { FileTransport, FtpStore, parseHostKeyFingerprint, type RemoteStore, SftpStore } from './file-transport.ts';
import { PacketCableCccTransport } from './packetcable-transport.ts';
import type { PduConnectionOptions } from './pdu-connection.ts';
import { PipeTransport } from './pipe-transport.ts';
import { SmtpTransport } from './smtp-transport.ts';
import { EtsiTcpTransport, Hi2TcpTransport } from './tcp-transports.ts';

/**
 * Resolves a credential/certificate reference of a LEMF of `tenant` to its secret bytes, looking
 * only in that tenant's own secrets (null: unknown ref). Refs reach it already checked as plain names.
 */
export type SecretResolver = (tenant: string, ref: string) => Buffer | null;

/** An operator allow-list entry (config pipeCommands): what a PIPE LEMF's `pipe.entry` runs. */
interface PipeCommand {
  /** Absolute path of the program. */
  command: string;
  args?: readonly string[];
  /** Run the program as this user / group instead of cc-delivery's own. */
  uid?: number;
  gid?: number;
}

/** What a transport reports about its connections, per LEMF (logs and metrics in lemf-deliveries.ts). */
export interface TransportEvents {
  /** A plaintext connection (allowed by allowInsecure) was opened. */
  insecureConnection?(): void;
  /** A connection was closed because the LEMF broke the read limits or the protocol. */
  violation?(code: DlvErrorCode): void;
}

export interface TransportDeps {
  clock: Clock;
  secrets: SecretResolver;
  /** The operator's PIPE allow-list by entry name; a LEMF naming another entry delivers nothing. */
  pipeCommands?: Readonly<Record<string, PipeCommand>>;
  /** TS 102 232-1 TRI codec (libs/etsi); null disables keep-alives and PDU acknowledgement. */
  codec: KeepaliveCodec | null;
  backoff?: BackoffPolicy;
  connectTimeoutMs?: number;
  ackTimeoutMs?: number;
  /**
   * Unacknowledged ETSI TCP: bytes written and not yet confirmed by a keep-alive answer, at most
   * (then writes wait); without keep-alives, bytes replayed after a reconnect (default 8 MiB).
   */
  resendWindowBytes?: number;
  /** Unacknowledged ETSI TCP: idle time after a write before a keep-alive confirms it (default 200 ms). */
  confirmIdleMs?: number;
  /** Unacknowledged ETSI TCP: records written after which a keep-alive confirms them at once. */
  confirmEveryRecords?: number;
  /** What a LEMF may send back on a TCP connection (default DEFAULT_INBOUND_LIMITS). */
  inbound?: InboundLimits;
  hi2Framing?: Framing;
  pipeFraming?: 'raw' | 'length32';
  random?: () => number;
}

const DEFAULT_HI2_PORT = 12500; // seed 001 Art. 6 c. 3 b

export class ErrorTransport implements DeliveryTransport {
  readonly kind: string;
  readonly #error: DeliveryError;
  readonly #at: number;

  constructor(kind: string, error: DeliveryError, at: number) {
    this.kind = kind;
    this.#error = error;
    this.#at = at;
  }

  start(): void {}

  async send(): Promise<SendOutcome> {
    return { confirmed: 0, error: this.#error };
  }

  status(): TransportStatus {
    return { connected: false, lastError: this.#error, lastErrorAt: this.#at, keepaliveRttMs: null, resent: 0 };
  }

  async close(): Promise<void> {}
}

/** Calls `notice` once per start (SMTP: nodemailer's pooled connection has no connect event of its own). */
class NoticeOnStart implements DeliveryTransport {
  readonly kind: string;
  readonly #t: DeliveryTransport;
  readonly #notice: () => void;
  constructor(t: DeliveryTransport, notice: () => void) {
    this.kind = t.kind;
    this.#t = t;
    this.#notice = notice;
  }
  start(confirmedLater?: ConfirmedLater): void {
    this.#t.start(confirmedLater);
    this.#notice();
  }
  send(batch: Parameters<DeliveryTransport['send']>[0]): Promise<SendOutcome> {
    return this.#t.send(batch);
  }
  status(): TransportStatus {
    return this.#t.status();
  }
  close(): Promise<void> {
    return this.#t.close();
  }
}

/** A store that reports each new (plaintext) session. */
function noticeOnConnect(store: RemoteStore, notice: () => void): RemoteStore {
  return {
    get connected() {
      return store.connected;
    },
    async connect() {
      await store.connect();
      notice();
    },
    upload: (tmp, final, bytes) => store.upload(tmp, final, bytes),
    end: () => store.end(),
  };
}

/**
 * An ETSI TCP LEMF without PDU acknowledgement whose records can only count as confirmed on the
 * socket write: keep-alives are off (keepaliveSeconds 0) or there is no TRI codec. Weaker than a
 * keep-alive answer: records the network or the LEMF's buffers swallowed are lost if cc-delivery
 * dies before it notices (lemf-deliveries.ts warns about such a LEMF).
 */
export function confirmsOnWrite(dest: LemfDestination, codec: KeepaliveCodec | null): boolean {
  return dest.transport === 'ETSI_TCP' && !dest.acknowledged && (codec === null || dest.keepaliveSeconds <= 0);
}

export function createTransport(
  dest: LemfDestination,
  deps: TransportDeps,
  events: TransportEvents = {},
): DeliveryTransport {
  const bad = (code: DlvErrorCode, why: string) =>
    new ErrorTransport(String(dest.transport), dlvError(code, why), deps.clock.now());
  const backoff = deps.backoff ?? DEFAULT_BACKOFF;
  const connectTimeoutMs = deps.connectTimeoutMs ?? 10_000;
  // Secure by default: a plaintext transport only where the LEMF says so (admf checks it too).
  const plain = plaintextSetting(dest);
  if (plain && dest.allowInsecure !== true)
    return bad('DLV_ERR_INSECURE', `${plain.reason}; set ${plain.field} or allowInsecure`);
  const insecure = plain ? () => events.insecureConnection?.() : null;
  // A reference is a plain name looked up in this tenant's own secrets, never a path.
  for (const { field, ref } of secretRefsOf(dest)) {
    if (typeof ref !== 'string' || !isSecretRef(ref)) return bad('DLV_ERR_SECRET_REF', field);
  }
  const secret = (ref: string) => deps.secrets(dest.tenant, ref);
  switch (dest.transport) {
    case 'ETSI_TCP':
    case 'HI2_TCP': {
      if (!dest.address) return bad('DLV_ERR_BAD_CONFIG', 'address missing');
      if (dest.acknowledged && !deps.codec) return bad('DLV_ERR_BAD_CONFIG', 'PDU acknowledgement needs the TRI codec');
      let tlsOptions: ConnectionOptions | null = null;
      if (dest.tls) {
        const t = dest.tls;
        const load = (ref: string | null) => (ref ? secret(ref) : undefined);
        const ca = load(t.caRef);
        const cert = load(t.certRef);
        const key = load(t.keyRef);
        if (ca === null || cert === null || key === null) return bad('DLV_ERR_BAD_CONFIG', 'TLS reference not found');
        if ((cert === undefined) !== (key === undefined))
          return bad('DLV_ERR_BAD_CONFIG', 'client certificate needs its key');
        // TS 102 232-1 cl. 6.3.1: at least TLS 1.2
        tlsOptions = { minVersion: 'TLSv1.2', ca, cert, key, ...(t.serverName ? { servername: t.serverName } : {}) };
      }
      const base = (host: string, port: number, framing: Framing): PduConnectionOptions => ({
        host,
        port,
        tls: tlsOptions,
        framing,
        clock: deps.clock,
        backoff,
        connectTimeoutMs,
        keepalive:
          dest.transport === 'ETSI_TCP' && deps.codec && dest.keepaliveSeconds > 0
            ? { intervalMs: dest.keepaliveSeconds * 1000, timeoutMs: Math.max(1, dest.keepaliveTimeoutSeconds) * 1000 }
            : null,
        codec: deps.codec,
        acknowledged: dest.acknowledged,
        ackTimeoutMs: deps.ackTimeoutMs ?? 30_000,
        resendWindowBytes: dest.acknowledged ? 0 : (deps.resendWindowBytes ?? 8 * 1024 * 1024),
        confirmIdleMs: deps.confirmIdleMs ?? 200,
        ...(deps.confirmEveryRecords ? { confirmEveryRecords: deps.confirmEveryRecords } : {}),
        inbound: deps.inbound ?? DEFAULT_INBOUND_LIMITS,
        ...(insecure ? { onConnected: insecure } : {}),
        ...(events.violation ? { onViolation: events.violation } : {}),
        ...(deps.random ? { random: deps.random } : {}),
      });
      if (dest.transport === 'HI2_TCP') {
        return new Hi2TcpTransport(
          base(dest.address.host, dest.address.port || DEFAULT_HI2_PORT, deps.hi2Framing ?? 'ber'),
        );
      }
      const cc = dest.ccAddress ?? dest.address;
      return new EtsiTcpTransport(base(dest.address.host, dest.address.port, 'ber'), base(cc.host, cc.port, 'ber'));
    }
    case 'FTP':
    case 'SFTP': {
      const f = dest.files;
      if (!dest.address || !f) return bad('DLV_ERR_BAD_CONFIG', 'address or file settings missing');
      const pattern = validatePattern(f.namePattern);
      if (!pattern.ok) return new ErrorTransport(dest.transport, pattern.error, deps.clock.now());
      const credential = f.credentialRef ? secret(f.credentialRef) : undefined;
      if (credential === null) return bad('DLV_ERR_BAD_CONFIG', 'credential reference not found');
      const pinText = dest.transport === 'SFTP' ? (f.hostKeySha256 ?? null) : null;
      const pin = pinText === null ? null : parseHostKeyFingerprint(pinText);
      if (pinText !== null && pin === null)
        return bad('DLV_ERR_BAD_CONFIG', 'hostKeySha256 is not an OpenSSH SHA256 fingerprint');
      const isKey = credential?.includes('PRIVATE KEY');
      const login = {
        host: dest.address.host,
        port: dest.address.port,
        directory: f.directory,
        username: f.username ?? 'anonymous',
        timeoutMs: connectTimeoutMs,
        ...(credential !== undefined && !isKey ? { password: credential.toString('utf8') } : {}),
        ...(isKey ? { privateKey: credential } : {}),
        hostKeySha256: pin,
      };
      const store = dest.transport === 'FTP' ? new FtpStore(login) : new SftpStore(login);
      return new FileTransport(dest.transport, insecure ? noticeOnConnect(store, insecure) : store, () =>
        deps.clock.now(),
      );
    }
    case 'EMAIL': {
      const e = dest.email;
      if (!dest.address || !e || e.to.length === 0)
        return bad('DLV_ERR_BAD_CONFIG', 'SMTP address or recipients missing');
      const password = e.credentialRef ? secret(e.credentialRef) : undefined;
      if (password === null) return bad('DLV_ERR_BAD_CONFIG', 'credential reference not found');
      const ca = dest.tls?.caRef ? secret(dest.tls.caRef) : null;
      const smtp = new SmtpTransport(
        {
          host: dest.address.host,
          port: dest.address.port,
          from: e.from,
          to: e.to,
          username: e.username,
          password: password ? password.toString('utf8') : null,
          startTls: e.startTls,
          ca,
          timeoutMs: connectTimeoutMs,
        },
        () => deps.clock.now(),
      );
      return insecure ? new NoticeOnStart(smtp, insecure) : smtp;
    }
    case 'PIPE': {
      if (!dest.pipe) return bad('DLV_ERR_BAD_CONFIG', 'pipe settings missing');
      // The command is the operator's: a LEMF only picks an entry (records before entries existed have none).
      const entry = typeof dest.pipe.entry === 'string' ? dest.pipe.entry : '';
      const allowed = deps.pipeCommands ?? {};
      const cmd = entry !== '' && Object.hasOwn(allowed, entry) ? allowed[entry] : undefined;
      if (!cmd) return bad('DLV_ERR_PIPE_ENTRY', 'pipe.entry');
      return new PipeTransport({
        command: cmd.command,
        args: [...(cmd.args ?? [])],
        ...(cmd.uid !== undefined ? { uid: cmd.uid } : {}),
        ...(cmd.gid !== undefined ? { gid: cmd.gid } : {}),
        framing: deps.pipeFraming ?? 'raw',
        clock: deps.clock,
        backoff,
        ...(deps.random ? { random: deps.random } : {}),
      });
    }
    case 'PKT_CABLE': {
      if (!dest.address) return bad('DLV_ERR_BAD_CONFIG', 'address missing');
      const media = dest.ccAddress ?? dest.address;
      return new PacketCableCccTransport({
        host: media.host,
        port: media.port,
        cdc: { host: dest.address.host, port: dest.address.port },
        clock: deps.clock,
      });
    }
    default:
      // A new LemfTransport member fails to compile here; an unknown value from a topic still gets an error transport.
      dest.transport satisfies never;
      return bad('DLV_ERR_UNKNOWN_TRANSPORT', String(dest.transport).slice(0, 32));
  }
}
