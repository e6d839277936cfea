// HI2 file delivery over FTP or SFTP (seed 001 Art. 6 c. 3 a; HI2-HI3-delivery.md §7): upload each
// closed file under a temporary name, then rename; the file counts as delivered only after the
// rename succeeded, so the LEMF never picks up a half-written file and the offset never passes it.
// Before the rename the temporary file's size is read back: an SFTP server whose disk is full can
// leave an empty file while the client library reports success (seen with OpenSSH on a full tmpfs).
import { createHash } from 'node:crypto';
import { type FileServerLogin, ftpAccessOptions, ftpUpload, sftpConnectOptions, sftpUpload } from '@li/file-transfer';
import { Client as FtpClient } from 'basic-ftp';
import SftpClient from 'ssh2-sftp-client';
import type { DeliveryTransport, OutboundBatch, SendOutcome, TransportStatus } from '../domain/types.ts';
import { type DeliveryError, dlvError } from '../errors.ts';

export interface RemoteStore {
  readonly connected: boolean;
  connect(): Promise<void>;
  /** Writes `bytes` to dir/tmp and renames it to dir/final. */
  upload(tmp: string, final: string, bytes: Buffer): Promise<void>;
  end(): Promise<void>;
}

export interface RemoteLogin extends FileServerLogin {
  directory: string;
}

/** Thrown by a store whose server presented another host key than the pinned one. */
class HostKeyMismatch extends Error {
  readonly code = 'HOST_KEY_MISMATCH';
}

/**
 * Parses an OpenSSH SHA-256 fingerprint, `SHA256:<base64 without padding>` (prefix and padding
 * optional), into its 32 bytes; null when it is not one.
 */
export function parseHostKeyFingerprint(text: string): Buffer | null {
  const b64 = text.startsWith('SHA256:') ? text.slice(7) : text;
  const bare = b64.replace(/=$/, '');
  if (!/^[A-Za-z0-9+/]{43}$/.test(bare)) return null;
  const bytes = Buffer.from(bare, 'base64');
  return bytes.length === 32 && bytes.toString('base64').replace(/=$/, '') === bare ? bytes : null;
}

/** The OpenSSH fingerprint of a host key blob: SHA256:<base64 without padding>. */
function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

function mapRemoteError(e: unknown, during: 'connect' | 'upload'): DeliveryError {
  const err = e as { code?: string | number; message?: string };
  const msg = String(err.message ?? e);
  if (err.code === 'HOST_KEY_MISMATCH') return dlvError('DLV_ERR_HOST_KEY', msg.slice(0, 160));
  if (err.code === 'SHORT_UPLOAD') return dlvError('DLV_ERR_UPLOAD_SHORT', msg);
  if (err.code === 530 || /authentication|login incorrect|\b530\b|permission denied \(/i.test(msg)) {
    return dlvError('DLV_ERR_AUTH', during);
  }
  if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|EAI_AGAIN|timed? ?out/i.test(`${err.code ?? ''} ${msg}`)) {
    return dlvError('DLV_ERR_CONNECT', during);
  }
  if (during === 'connect') return dlvError('DLV_ERR_CONNECT', msg.slice(0, 120));
  return dlvError('DLV_ERR_UPLOAD', msg.slice(0, 120));
}

export class FtpStore implements RemoteStore {
  readonly #l: RemoteLogin;
  #c: FtpClient | null = null;

  constructor(l: RemoteLogin) {
    this.#l = l;
  }

  get connected(): boolean {
    return this.#c !== null && !this.#c.closed;
  }

  async connect(): Promise<void> {
    this.#c?.close();
    const c = new FtpClient(this.#l.timeoutMs);
    this.#c = c;
    await c.access(ftpAccessOptions(this.#l));
    if (this.#l.directory && this.#l.directory !== '.') await c.ensureDir(this.#l.directory);
  }

  async upload(tmp: string, final: string, bytes: Buffer): Promise<void> {
    const c = this.#c;
    if (!c) throw new Error('not connected');
    await ftpUpload(c, tmp, final, bytes);
  }

  async end(): Promise<void> {
    this.#c?.close();
    this.#c = null;
  }
}

export class SftpStore implements RemoteStore {
  readonly #l: RemoteLogin;
  #c: SftpClient | null = null;
  #up = false;

  constructor(l: RemoteLogin) {
    this.#l = l;
  }

  get connected(): boolean {
    return this.#up;
  }

  async connect(): Promise<void> {
    await this.end();
    // our own event callbacks: the library's defaults print to the console
    const down = () => {
      if (this.#c === c) this.#up = false;
    };
    const c: SftpClient = new SftpClient('cc-delivery', { error: down, end: down, close: down });
    this.#c = c;
    let presented: string | null = null;
    try {
      await c.connect(
        sftpConnectOptions(this.#l, (key) => {
          presented = hostKeyFingerprint(key);
        }),
      );
    } catch (e) {
      if (presented) throw new HostKeyMismatch(`server presented ${presented}`);
      throw e;
    }
    this.#up = true;
    if (this.#l.directory && !(await c.exists(this.#l.directory))) await c.mkdir(this.#l.directory, true);
  }

  async upload(tmp: string, final: string, bytes: Buffer): Promise<void> {
    const c = this.#c;
    if (!c) throw new Error('not connected');
    const dir = this.#l.directory || '.';
    await sftpUpload(c, dir, tmp, final, bytes);
  }

  async end(): Promise<void> {
    const c = this.#c;
    this.#c = null;
    this.#up = false;
    if (c) await c.end().catch(() => undefined);
  }
}

export class FileTransport implements DeliveryTransport {
  readonly kind: string;
  readonly #store: RemoteStore;
  readonly #now: () => number;
  #st: TransportStatus = { connected: false, lastError: null, lastErrorAt: null, keepaliveRttMs: null, resent: 0 };
  #busy: Promise<unknown> = Promise.resolve();

  constructor(kind: 'FTP' | 'SFTP', store: RemoteStore, now: () => number) {
    this.kind = kind;
    this.#store = store;
    this.#now = now;
  }

  /** Connects eagerly so bad config shows on the status before the first file closes. */
  start(): void {
    this.#busy = this.#ensure().catch(() => undefined);
  }

  async send(batch: OutboundBatch): Promise<SendOutcome> {
    if (!batch.file)
      return { confirmed: 0, rejected: true, error: dlvError('DLV_ERR_BAD_RECORD', 'file transport needs a file') };
    await this.#busy;
    const file = batch.file;
    const run = (async (): Promise<SendOutcome> => {
      const up = await this.#ensure();
      if (up) return { confirmed: 0, error: up };
      const bytes = Buffer.concat(batch.records.map((r) => r.bytes));
      try {
        await this.#store.upload(`.${file.name}.part`, file.name, bytes);
        return { confirmed: batch.records.length, error: null };
      } catch (e) {
        const err = mapRemoteError(e, 'upload');
        this.#note(err);
        await this.#store.end();
        this.#st.connected = false;
        return { confirmed: 0, error: err };
      }
    })();
    this.#busy = run;
    return run;
  }

  status(): TransportStatus {
    return { ...this.#st, connected: this.#store.connected };
  }

  async close(): Promise<void> {
    await this.#busy.catch(() => undefined);
    await this.#store.end();
  }

  async #ensure(): Promise<DeliveryError | null> {
    if (this.#store.connected) return null;
    try {
      await this.#store.connect();
      return null;
    } catch (e) {
      const err = mapRemoteError(e, 'connect');
      this.#note(err);
      await this.#store.end();
      return err;
    }
  }

  #note(e: DeliveryError): void {
    this.#st.lastError = e;
    this.#st.lastErrorAt = this.#now();
  }
}
