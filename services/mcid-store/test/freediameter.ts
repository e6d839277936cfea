// Starts a real freeDiameter daemon (Debian freediameterd) as a test CDS: TCP, no TLS on the
// wire, the 3GPP dictionaries loaded, and our test_cds extension answering ACRs with 2001.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const EXT_DIR = '/usr/lib/freeDiameter';

export interface FreeDiameter {
  port: number;
  identity: string;
  realm: string;
  dumpPath: string;
  log: () => string;
  dumps: () => string;
  stop: () => Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function startFreeDiameter(opts: { twTimer?: number } = {}): Promise<FreeDiameter> {
  const dir = mkdtempSync(join(tmpdir(), 'mcid-fd-'));
  const ext = join(dir, 'test_cds.fdx');
  execFileSync('gcc', [
    '-shared',
    '-fPIC',
    '-Wall',
    '-o',
    ext,
    new URL('./fd-ext/test_cds.c', import.meta.url).pathname,
    '-lfdcore',
    '-lfdproto',
  ]);
  // freeDiameter insists on TLS credentials even when peers use plain TCP.
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-subj',
      '/CN=cds.test.local',
      '-days',
      '1',
    ],
    { stdio: 'ignore' },
  );
  const port = await freePort();
  const dumpPath = join(dir, 'acr-dump.txt');
  writeFileSync(join(dir, 'acl.conf'), 'ALLOW_IPSEC *.test.local\n');
  writeFileSync(
    join(dir, 'fd.conf'),
    [
      'Identity = "cds.test.local";',
      'Realm = "test.local";',
      `Port = ${port};`,
      'SecPort = 0;',
      'No_SCTP;',
      'No_IPv6;',
      'ListenOn = "127.0.0.1";',
      `TwTimer = ${opts.twTimer ?? 30};`,
      `TLS_Cred = "${dir}/cert.pem", "${dir}/key.pem";`,
      `TLS_CA = "${dir}/cert.pem";`,
      `LoadExtension = "${EXT_DIR}/dict_nasreq.fdx";`,
      `LoadExtension = "${EXT_DIR}/dict_dcca.fdx";`,
      `LoadExtension = "${EXT_DIR}/dict_dcca_3gpp.fdx";`,
      `LoadExtension = "${EXT_DIR}/acl_wl.fdx" : "${dir}/acl.conf";`,
      `LoadExtension = "${ext}" : "${dumpPath}";`,
      '',
    ].join('\n'),
  );
  let log = '';
  const child: ChildProcess = spawn('freeDiameterd', ['-c', join(dir, 'fd.conf')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 15_000;
  while (!log.includes('daemon initialized')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`freeDiameterd did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    identity: 'cds.test.local',
    realm: 'test.local',
    dumpPath,
    log: () => log,
    dumps: () => {
      try {
        return readFileSync(dumpPath, 'utf8');
      } catch {
        return '';
      }
    },
    stop: async () => {
      if (process.env.MCID_KEEP_FD_DUMP) writeFileSync(process.env.MCID_KEEP_FD_DUMP, readFileSafe(dumpPath));
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function readFileSafe(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}
