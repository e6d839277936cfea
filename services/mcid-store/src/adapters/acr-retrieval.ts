// Retrieval of closed ACR files (seed 003 §3.6): each closed `*.acr` of the local PL-<n> directory
// is pushed to a configured FTP or SFTP server, into `<remote>/MtasMcidInfo/PL-<n>/`. The upload
// goes under a temporary name, its size is read back, then it is renamed; only after that rename
// succeeded is the local file removed. A failed push keeps the file and is retried later; files
// left over from before a restart are found by the directory scan and pushed too.
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type FileServerLogin, ftpAccessOptions, ftpUpload, sftpConnectOptions, sftpUpload } from '@li/file-transfer';
import type { Logger } from '@li/log';
import { Client as FtpClient } from 'basic-ftp';
import { Counter, Gauge, type Registry } from 'prom-client';
import SftpClient from 'ssh2-sftp-client';

/** A file-transfer server the closed files go to. */
export interface AcrRemote {
  connect(): Promise<void>;
  /** Writes `bytes` to `<dir>/<tmp>`, checks the stored size, renames it to `<dir>/<final>`. */
  upload(dir: string, tmp: string, final: string, bytes: Buffer): Promise<void>;
  end(): Promise<void>;
}

/** The server's login; an SFTP host key pinned by its SHA-256 is checked before authentication. */
export type RemoteLogin = FileServerLogin;

/** `SHA256:<base64>` (prefix and padding optional) → its 32 bytes; null when it is not one. */
export function parseHostKeyFingerprint(text: string): Buffer | null {
  const bare = (text.startsWith('SHA256:') ? text.slice(7) : text).replace(/=$/, '');
  if (!/^[A-Za-z0-9+/]{43}$/.test(bare)) return null;
  const bytes = Buffer.from(bare, 'base64');
  return bytes.length === 32 ? bytes : null;
}

export class FtpRemote implements AcrRemote {
  readonly #l: RemoteLogin;
  #c: FtpClient | null = null;
  /** The login directory: relative remote paths start there, as with SFTP. */
  #home = '/';

  constructor(l: RemoteLogin) {
    this.#l = l;
  }

  async connect(): Promise<void> {
    this.#c?.close();
    const c = new FtpClient(this.#l.timeoutMs);
    this.#c = c;
    await c.access(ftpAccessOptions(this.#l));
    this.#home = await c.pwd();
  }

  async upload(dir: string, tmp: string, final: string, bytes: Buffer): Promise<void> {
    const c = this.#c;
    if (!c) throw new Error('not connected');
    await c.cd(this.#home);
    await c.ensureDir(dir); // creates and enters it
    await ftpUpload(c, tmp, final, bytes);
  }

  async end(): Promise<void> {
    this.#c?.close();
    this.#c = null;
  }
}

export class SftpRemote implements AcrRemote {
  readonly #l: RemoteLogin;
  #c: SftpClient | null = null;

  constructor(l: RemoteLogin) {
    this.#l = l;
  }

  async connect(): Promise<void> {
    await this.end();
    const ignore = () => undefined; // the library's default handlers print to the console
    const c = new SftpClient('mcid-store', { error: ignore, end: ignore, close: ignore });
    this.#c = c;
    await c.connect(sftpConnectOptions(this.#l));
  }

  async upload(dir: string, tmp: string, final: string, bytes: Buffer): Promise<void> {
    const c = this.#c;
    if (!c) throw new Error('not connected');
    if (!(await c.exists(dir))) await c.mkdir(dir, true);
    await sftpUpload(c, dir, tmp, final, bytes);
  }

  async end(): Promise<void> {
    const c = this.#c;
    this.#c = null;
    if (c) await c.end().catch(() => undefined);
  }
}

export interface AcrPushConfig {
  /** The local PL-<n> directory the file store writes. */
  localDirectory: string;
  /** `PL-<n>`: the remote sub-directory. */
  plName: string;
  /** Metric label, as the file store's. */
  fileSystem: string;
  /** Remote base directory; files go to `<remoteDirectory>/MtasMcidInfo/<plName>`. */
  remoteDirectory: string;
  /** Directory scan period. */
  scanMs: number;
  /** Wait after a failed push before the next attempt. */
  retryMs: number;
}

interface PushMetrics {
  pushed: Counter<'filesystem' | 'result'>;
  pending: Gauge<'filesystem'>;
}

function pushMetrics(registry: Registry): PushMetrics {
  const existing = registry.getSingleMetric('mcid_acr_files_pushed_total');
  if (existing) {
    return {
      pushed: existing as Counter<'filesystem' | 'result'>,
      pending: registry.getSingleMetric('mcid_acr_files_pending') as Gauge<'filesystem'>,
    };
  }
  return {
    pushed: new Counter({
      name: 'mcid_acr_files_pushed_total',
      help: 'Closed ACR file push attempts to the file-transfer server, by result (success/failure)',
      labelNames: ['filesystem', 'result'],
      registers: [registry],
    }),
    pending: new Gauge({
      name: 'mcid_acr_files_pending',
      help: 'Closed ACR files kept locally, not yet confirmed by the file-transfer server',
      labelNames: ['filesystem'],
      registers: [registry],
    }),
  };
}

export class AcrPusher {
  readonly #c: AcrPushConfig;
  readonly #remote: AcrRemote;
  readonly #m: PushMetrics;
  readonly #log: Logger | undefined;
  #connected = false;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<unknown> = Promise.resolve();
  #stopped = false;

  constructor(c: AcrPushConfig, remote: AcrRemote, deps: { registry: Registry; log?: Logger }) {
    this.#c = c;
    this.#remote = remote;
    this.#m = pushMetrics(deps.registry);
    this.#log = deps.log;
  }

  get remoteDirectory(): string {
    const base = this.#c.remoteDirectory.replace(/\/+$/, '') || '.';
    return `${base}/MtasMcidInfo/${this.#c.plName}`;
  }

  /** Closed files waiting, oldest name first (`.tmp` files are still open). */
  async pending(): Promise<string[]> {
    const names = await readdir(this.#c.localDirectory).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [] as string[];
      throw e;
    });
    return names.filter((n) => n.endsWith('.acr')).sort();
  }

  /**
   * One pass: pushes every closed file; stops at the first failure (the server is likely down)
   * and keeps that file and the rest for the next pass.
   */
  pushOnce(): Promise<{ pushed: number; failed: boolean }> {
    const run = this.#running.then(() => this.#pass());
    this.#running = run.catch(() => undefined);
    return run;
  }

  async #pass(): Promise<{ pushed: number; failed: boolean }> {
    const label = { filesystem: this.#c.fileSystem };
    const names = await this.pending();
    this.#m.pending.set(label, names.length);
    let pushed = 0;
    for (const name of names) {
      if (this.#stopped) break;
      const path = join(this.#c.localDirectory, name);
      try {
        const bytes = await readFile(path);
        if (!this.#connected) {
          await this.#remote.connect();
          this.#connected = true;
        }
        await this.#remote.upload(this.remoteDirectory, `.${name}.part`, name, bytes);
      } catch (err) {
        this.#m.pushed.inc({ ...label, result: 'failure' });
        this.#log?.warn(
          { reason: String((err as Error).message ?? err).slice(0, 160), count: names.length - pushed },
          'ACR file push failed; kept for retry',
        );
        this.#connected = false;
        await this.#remote.end();
        this.#m.pending.set(label, names.length - pushed);
        return { pushed, failed: true };
      }
      // Confirmed by the server (size read back, renamed): only now is the local copy removed.
      await unlink(path);
      pushed += 1;
      this.#m.pushed.inc({ ...label, result: 'success' });
      this.#m.pending.set(label, names.length - pushed);
    }
    return { pushed, failed: false };
  }

  /** Scans periodically; after a failure waits retryMs before the next pass. */
  start(): void {
    this.#stopped = false;
    const loop = async () => {
      if (this.#stopped) return;
      const r = await this.pushOnce().catch((err: unknown) => {
        this.#log?.error({ err }, 'ACR file scan failed');
        return { pushed: 0, failed: true };
      });
      if (this.#stopped) return;
      this.#timer = setTimeout(loop, r.failed ? this.#c.retryMs : this.#c.scanMs);
      this.#timer.unref();
    };
    this.#timer = setTimeout(loop, 0);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
    await this.#remote.end();
    this.#connected = false;
  }
}
