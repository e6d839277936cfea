// A real Dovecot (Debian dovecot-imapd/pop3d) on loopback with one passwd-file user, for tests
// and the demo. Optionally its event exporter posts to an HTTP endpoint (ingest's mail events).
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './line-client.ts';

export interface DovecotOptions {
  user: string;
  password: string;
  /** Fixed ports (the demo); absent: free ones. */
  imapPort?: number;
  pop3Port?: number;
  /** When set, Dovecot's JSON event exporter posts here (http-post). */
  exporterUrl?: string;
}

export interface Dovecot {
  dir: string;
  imapPort: number;
  pop3Port: number;
  stop(): Promise<void>;
}

function config(dir: string, o: DovecotOptions, imapPort: number, pop3Port: number): string {
  const exporter = o.exporterUrl
    ? `event_exporter li_http {
  format = json
  format_args = time-rfc3339
  transport = http-post
  transport_args = ${o.exporterUrl}
  transport_timeout = 2sec
}
metric li_mail {
  filter = event=auth_request_finished OR event=imap_command_finished OR event=mail_delivery_finished
  exporter = li_http
}
`
    : '';
  return `base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = li-test-${process.pid}-${imapPort}
protocols = imap pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = ${dir}/dovecot.log
default_login_user = dovenull
default_internal_user = dovecot
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=${dir}/mail/%u
}
mail_location = maildir:~/Maildir
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${imapPort}
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = ${pop3Port}
  }
  inet_listener pop3s {
    port = 0
  }
}
service stats {
  inet_listener http {
    port = 0
  }
}
${exporter}`;
}

/** Starts Dovecot in the foreground (dovecot -F) and waits until both listeners accept. */
export async function startDovecot(o: DovecotOptions): Promise<Dovecot> {
  const dir = mkdtempSync(join(tmpdir(), 'li-dovecot-'));
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'mail'));
  chownSync(join(dir, 'mail'), 65534, 65534); // nobody: the static userdb's uid
  writeFileSync(join(dir, 'passwd'), `${o.user}:{PLAIN}${o.password}::::::\n`);
  const imapPort = o.imapPort ?? (await freePort());
  const pop3Port = o.pop3Port ?? (await freePort());
  writeFileSync(join(dir, 'dovecot.conf'), config(dir, o, imapPort, pop3Port));
  const child: ChildProcess = spawn('dovecot', ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: 'ignore' });
  await waitForPort(imapPort);
  await waitForPort(pop3Port);
  return {
    dir,
    imapPort,
    pop3Port,
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      if (!process.env.KEEP_LI_TMP) rmSync(dir, { recursive: true, force: true });
    },
  };
}
