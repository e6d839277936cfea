// Real file-transfer servers on 127.0.0.1 for tests: Debian vsftpd (anonymous uploads) and
// Debian OpenSSH sshd (internal-sftp, public-key login), each with a temporary config on a free
// high port. The same peers as cc-delivery's test helpers, shared here for other services.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} never opened`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Debian vsftpd, anonymous uploads (write + rename) into <root>/upload. */
export class VsftpdPeer {
  readonly dir = mkdtempSync(join(tmpdir(), 'li-test-vsftpd-'));
  readonly root = join(this.dir, 'root');
  readonly upload = join(this.root, 'upload');
  port = 0;
  #proc: ChildProcess | null = null;

  async start(): Promise<this> {
    this.port = await freePort();
    mkdirSync(this.upload, { recursive: true });
    mkdirSync(join(this.dir, 'empty'));
    chmodSync(this.root, 0o755); // vsftpd refuses a writable anonymous root
    const ftp = execFileSync('id', ['-u', 'ftp'], { encoding: 'utf8' }).trim();
    chownSync(this.upload, Number(ftp), 0);
    const pasv = this.port + 1;
    const conf = [
      'listen=YES',
      'listen_ipv6=NO',
      'listen_address=127.0.0.1',
      `listen_port=${this.port}`,
      'background=NO',
      'anonymous_enable=YES',
      'no_anon_password=YES',
      'local_enable=NO',
      'write_enable=YES',
      'anon_upload_enable=YES',
      'anon_mkdir_write_enable=YES',
      'anon_other_write_enable=YES',
      'anon_umask=022',
      `anon_root=${this.root}`,
      `secure_chroot_dir=${join(this.dir, 'empty')}`,
      'pasv_enable=YES',
      'pasv_address=127.0.0.1',
      `pasv_min_port=${pasv}`,
      `pasv_max_port=${pasv + 20}`,
      'seccomp_sandbox=NO',
      'isolate=NO',
      'isolate_network=NO',
      // the command log lets a test see STOR under the temporary name, then RNFR/RNTO
      'xferlog_enable=YES',
      'xferlog_std_format=NO',
      'log_ftp_protocol=YES',
      `vsftpd_log_file=${join(this.dir, 'vsftpd.log')}`,
      'connect_from_port_20=NO',
    ].join('\n');
    writeFileSync(join(this.dir, 'vsftpd.conf'), `${conf}\n`);
    this.#proc = spawn('/usr/sbin/vsftpd', [join(this.dir, 'vsftpd.conf')], { stdio: 'ignore' });
    await waitPort(this.port);
    return this;
  }

  log(): string {
    return existsSync(join(this.dir, 'vsftpd.log')) ? readFileSync(join(this.dir, 'vsftpd.log'), 'utf8') : '';
  }

  async dispose(): Promise<void> {
    const p = this.#proc;
    if (p && p.exitCode === null) {
      await new Promise<void>((r) => {
        p.once('exit', () => r());
        p.kill('SIGTERM');
      });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Debian OpenSSH sshd on a high port, public-key login for the current user, internal-sftp. */
export class SshdPeer {
  readonly dir = mkdtempSync(join(tmpdir(), 'li-test-sshd-'));
  readonly files = join(this.dir, 'files');
  readonly user = userInfo().username;
  port = 0;
  clientKey = Buffer.alloc(0);
  otherKey = Buffer.alloc(0);
  #proc: ChildProcess | null = null;
  stderr = '';

  /** Starts sshd; a second start() after stop() reuses port, keys and files (an outage). */
  async start(): Promise<this> {
    if (this.port) return this.#spawn();
    this.port = await freePort();
    mkdirSync(this.files);
    const keygen = (name: string) =>
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(this.dir, name)], { stdio: 'ignore' });
    keygen('host');
    keygen('client');
    keygen('other');
    this.clientKey = readFileSync(join(this.dir, 'client'));
    this.otherKey = readFileSync(join(this.dir, 'other'));
    writeFileSync(join(this.dir, 'authorized_keys'), readFileSync(join(this.dir, 'client.pub')));
    const conf = [
      `Port ${this.port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(this.dir, 'host')}`,
      `PidFile ${join(this.dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'StrictModes no',
      'UsePAM no',
      `AllowUsers ${this.user}`,
      'Subsystem sftp internal-sftp',
      'LogLevel ERROR',
    ].join('\n');
    writeFileSync(join(this.dir, 'sshd_config'), `${conf}\n`);
    return this.#spawn();
  }

  async #spawn(): Promise<this> {
    // sshd insists on its privilege-separation directory (Debian's service unit creates it)
    if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 });
    const p = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(this.dir, 'sshd_config')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    p.stderr?.on('data', (c: Buffer) => {
      this.stderr += c.toString();
    });
    this.#proc = p;
    await waitPort(this.port);
    return this;
  }

  /** Outage: ends the per-connection sshd processes this listener forked, then the listener. */
  async stop(): Promise<void> {
    const p = this.#proc;
    this.#proc = null;
    if (p?.pid && p.exitCode === null) {
      const kids = spawnSync('pgrep', ['-P', String(p.pid)], { encoding: 'utf8' })
        .stdout.split(/\s+/)
        .filter(Boolean);
      for (const pid of kids) {
        try {
          process.kill(Number(pid), 'SIGTERM');
        } catch {
          // already gone
        }
      }
      await new Promise<void>((r) => {
        p.once('exit', () => r());
        p.kill('SIGTERM');
      });
    }
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
