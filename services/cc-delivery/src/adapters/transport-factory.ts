// Builds the transport a LemfDestination names. Never throws: bad config becomes a transport whose
// every send fails with a clear DLV_ERR_* code, visible on the LEMF's status and metrics.
import type { ConnectionOptions } from 'node:tls';
import type { LemfDestination } from '@li/schemas';
import { type BackoffPolicy, DEFAULT_BACKOFF } from '../domain/backoff.ts';
import type { BatchPolicy } from '../domain/batcher.ts';
import type { Framing } from '../domain/framing.ts';
import { validatePattern } from '../domain/naming.ts';
import type { Clock, KeepaliveCodec, LemfTransport, SendOutcome, TransportStatus } from '../domain/types.ts';
import { type DeliveryError, dlvError } from '../errors.ts';
import { FileTransport, FtpStore, parseHostKeyFingerprint, SftpStore } from './file-transport.ts';
import type { PduConnectionOptions } from './pdu-connection.ts';
import { PipeTransport } from './pipe-transport.ts';
import { SmtpTransport } from './smtp-transport.ts';
import { EtsiTcpTransport, Hi2TcpTransport } from './tcp-transports.ts';

/** Resolves a credential/certificate reference from config to its secret bytes (null: unknown ref). */
export type SecretResolver = (ref: string) => Buffer | null;

export interface TransportDeps {
  clock: Clock;
  secrets: SecretResolver;
  /** TS 102 232-1 TRI codec (libs/etsi); null disables keep-alives and PDU acknowledgement. */
  codec: KeepaliveCodec | null;
  backoff?: BackoffPolicy;
  connectTimeoutMs?: number;
  ackTimeoutMs?: number;
  /** Bytes replayed after a reconnect on unacknowledged TCP (default 8 MiB). */
  resendWindowBytes?: number;
  hi2Framing?: Framing;
  pipeFraming?: 'raw' | 'length32';
  random?: () => number;
}

export const DEFAULT_HI2_PORT = 12500; // seed 001 Art. 6 c. 3 b

export class ErrorTransport implements LemfTransport {
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

export function batchPolicyFor(dest: LemfDestination): BatchPolicy | null {
  if (dest.transport !== 'FTP' && dest.transport !== 'SFTP') return null;
  const f = dest.files;
  // an invalid pattern is a config error shown by the transport; records then wait unbatched
  if (!f || !validatePattern(f.namePattern).ok) return null;
  return {
    maxRecords: Math.max(1, f.maxRecords),
    maxBytes: Math.max(1, f.maxBytes),
    maxMs: Math.max(0, f.maxSeconds) * 1000,
    namePattern: f.namePattern,
  };
}

export function createTransport(dest: LemfDestination, deps: TransportDeps): LemfTransport {
  const bad = (code: 'DLV_ERR_BAD_CONFIG' | 'DLV_ERR_UNKNOWN_TRANSPORT', why: string) =>
    new ErrorTransport(String(dest.transport), dlvError(code, why), deps.clock.now());
  const backoff = deps.backoff ?? DEFAULT_BACKOFF;
  const connectTimeoutMs = deps.connectTimeoutMs ?? 10_000;
  switch (dest.transport) {
    case 'ETSI_TCP':
    case 'HI2_TCP': {
      if (!dest.address) return bad('DLV_ERR_BAD_CONFIG', 'address missing');
      if (dest.acknowledged && !deps.codec) return bad('DLV_ERR_BAD_CONFIG', 'PDU acknowledgement needs the TRI codec');
      let tlsOptions: ConnectionOptions | null = null;
      if (dest.tls) {
        const t = dest.tls;
        const load = (ref: string | null) => (ref ? deps.secrets(ref) : undefined);
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
      const secret = f.credentialRef ? deps.secrets(f.credentialRef) : undefined;
      if (secret === null) return bad('DLV_ERR_BAD_CONFIG', 'credential reference not found');
      const pinText = dest.transport === 'SFTP' ? (f.hostKeySha256 ?? null) : null;
      const pin = pinText === null ? null : parseHostKeyFingerprint(pinText);
      if (pinText !== null && pin === null)
        return bad('DLV_ERR_BAD_CONFIG', 'hostKeySha256 is not an OpenSSH SHA256 fingerprint');
      const isKey = secret?.includes('PRIVATE KEY');
      const login = {
        host: dest.address.host,
        port: dest.address.port,
        directory: f.directory,
        username: f.username ?? 'anonymous',
        timeoutMs: connectTimeoutMs,
        ...(secret !== undefined && !isKey ? { password: secret.toString('utf8') } : {}),
        ...(isKey ? { privateKey: secret } : {}),
        hostKeySha256: pin,
      };
      const store = dest.transport === 'FTP' ? new FtpStore(login) : new SftpStore(login);
      return new FileTransport(dest.transport, store, () => deps.clock.now());
    }
    case 'EMAIL': {
      const e = dest.email;
      if (!dest.address || !e || e.to.length === 0)
        return bad('DLV_ERR_BAD_CONFIG', 'SMTP address or recipients missing');
      const secret = e.credentialRef ? deps.secrets(e.credentialRef) : undefined;
      if (secret === null) return bad('DLV_ERR_BAD_CONFIG', 'credential reference not found');
      const ca = dest.tls?.caRef ? deps.secrets(dest.tls.caRef) : null;
      return new SmtpTransport(
        {
          host: dest.address.host,
          port: dest.address.port,
          from: e.from,
          to: e.to,
          username: e.username,
          password: secret ? secret.toString('utf8') : null,
          startTls: e.startTls,
          ca,
          timeoutMs: connectTimeoutMs,
        },
        () => deps.clock.now(),
      );
    }
    case 'PIPE': {
      if (!dest.pipe?.command) return bad('DLV_ERR_BAD_CONFIG', 'PIPE command missing');
      return new PipeTransport({
        command: dest.pipe.command,
        args: dest.pipe.args,
        framing: deps.pipeFraming ?? 'raw',
        clock: deps.clock,
        backoff,
        ...(deps.random ? { random: deps.random } : {}),
      });
    }
    default:
      return bad('DLV_ERR_UNKNOWN_TRANSPORT', String(dest.transport).slice(0, 32));
  }
}
