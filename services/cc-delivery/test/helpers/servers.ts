// Real file-transfer peers on 127.0.0.1 for tests: ftp-srv (in-process) here; Debian vsftpd and
// Debian OpenSSH sshd (internal-sftp) are shared with other services in @li/testing/file-servers.
import { type Dirent, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@li/testing/file-servers';
import { FtpSrv } from 'ftp-srv';

export { freePort, SshdPeer, VsftpdPeer } from '@li/testing/file-servers';

const quiet = { child: () => quiet, trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {} };

/** ftp-srv with one user; `stop()`/`start()` simulate an outage on the same port. */
export class FtpSrvPeer {
  readonly root = mkdtempSync(join(tmpdir(), 'li-dlv-ftpsrv-'));
  port = 0;
  /** Every login attempt as user:password (test credentials only). */
  readonly logins: string[] = [];
  #srv: FtpSrv | null = null;
  readonly #host: string;

  /** `host`: the listen and passive address (default 127.0.0.1). */
  constructor(host = '127.0.0.1') {
    this.#host = host;
  }

  /** Files under the root, as paths relative to it. */
  uploads(): string[] {
    return (readdirSync(this.root, { recursive: true, withFileTypes: true }) as Dirent[])
      .filter((d) => d.isFile())
      .map((d) => join(d.parentPath, d.name).slice(this.root.length + 1));
  }

  async start(): Promise<this> {
    if (!this.port) this.port = await freePort();
    const srv = new FtpSrv({
      url: `ftp://${this.#host}:${this.port}`,
      pasv_url: this.#host,
      pasv_min: 30000,
      pasv_max: 39999,
      anonymous: false,
      log: quiet,
    });
    srv.on('login', ({ username, password }, resolve, reject) => {
      this.logins.push(`${username}:${password}`);
      if (username === 'mdf' && password === 'secret') resolve({ root: this.root });
      else reject(new Error('bad login'));
    });
    srv.on('client-error', () => undefined);
    await srv.listen();
    this.#srv = srv;
    return this;
  }

  async stop(): Promise<void> {
    const srv = this.#srv;
    this.#srv = null;
    if (srv) await srv.close();
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.root, { recursive: true, force: true });
  }
}
