// Seed 003 §3.6/§3.7 end to end with real file-transfer servers (Debian vsftpd and OpenSSH
// internal-sftp, as cc-delivery's tests run them): closed ACR files of the PL-<n> directory
// arrive in <remote>/MtasMcidInfo/PL-<n> with their content; a server that is down keeps the
// local file (never removed before the server confirmed it) and the push is retried.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, SshdPeer, VsftpdPeer } from '@li/testing/file-servers';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AcrFileStore } from '../src/adapters/acr-files.ts';
import {
  AcrPusher,
  FtpRemote,
  parseHostKeyFingerprint,
  type RemoteLogin,
  SftpRemote,
} from '../src/adapters/acr-retrieval.ts';
import { acrMessage, buildAcrAvps } from '../src/adapters/diameter/acr.ts';
import { encodeMessage } from '../src/adapters/diameter/codec.ts';
import { acrLayoutOf, parseConfig } from '../src/config.ts';
import { sampleReports } from '../src/testing/reports.ts';

const acrs = sampleReports(6).map((r, i) =>
  encodeMessage(
    acrMessage(
      buildAcrAvps(r, {
        originHost: 'as1.test',
        originRealm: 'test',
        destinationRealm: 'test',
        serviceContextId: '32275@3gpp.org',
        privateVendorId: null,
      }),
      i,
      i,
    ),
  ),
);

let base: string;
beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'mcid-acr-push-'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** A file store on the PL-<processor> layout closing a file every two records. */
function storeFor(processor: number, registry: Registry) {
  const parsed = parseConfig({ localStorage: { baseDirectory: base, processor, fileMode: '0640', dirMode: '0750' } });
  if (!parsed.ok) throw new Error(parsed.reason);
  const layout = acrLayoutOf(parsed.config);
  const store = new AcrFileStore(
    {
      directory: layout.directory,
      fileSystem: layout.fileSystem,
      nodeId: 'mcid1',
      maxTimeMs: 600_000,
      maxRecords: 2,
      maxBytes: 1 << 20,
      fullDiskPercent: 99.9,
      notFullDiskPercent: 99,
      fileMode: layout.fileMode,
      dirMode: layout.dirMode,
    },
    { registry },
  );
  return { store, layout };
}

function pusherFor(
  layout: ReturnType<typeof acrLayoutOf>,
  remote: FtpRemote | SftpRemote,
  remoteDirectory: string,
  registry: Registry,
) {
  return new AcrPusher(
    {
      localDirectory: layout.directory,
      plName: layout.plName,
      fileSystem: layout.fileSystem,
      remoteDirectory,
      scanMs: 50,
      retryMs: 100,
    },
    remote,
    { registry },
  );
}

async function pushed(registry: Registry): Promise<Record<string, number>> {
  const m = await registry.getSingleMetric('mcid_acr_files_pushed_total')!.get();
  return Object.fromEntries(m.values.map((v) => [`${v.labels.filesystem}/${v.labels.result}`, v.value]));
}

async function until(what: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('ACR file push (seed 003 §3.6)', () => {
  it('FTP (vsftpd): files arrive in MtasMcidInfo/PL-2 with their content; a dead server keeps them, then the retry delivers', async () => {
    const vs = await new VsftpdPeer().start();
    const registry = new Registry();
    try {
      const { store, layout } = storeFor(2, registry);
      for (const a of acrs.slice(0, 5)) expect((await store.store(a)).ok).toBe(true);
      // two closed files, one still open (.tmp): only closed ones go
      const closed = store.closedFiles.map((f) => f.path);
      expect(closed).toHaveLength(2);
      const local = new Map(closed.map((p) => [p.split('/').at(-1)!, readFileSync(p)]));
      for (const p of closed) expect(statSync(p).mode & 0o777).toBe(0o640);

      // First the server is unreachable: every file stays, nothing reaches anywhere.
      const login: RemoteLogin = { host: '127.0.0.1', port: await freePort(), username: 'anonymous', timeoutMs: 3000 };
      const pusher = pusherFor(layout, new FtpRemote(login), 'upload', registry);
      expect(await pusher.pushOnce()).toEqual({ pushed: 0, failed: true });
      for (const p of closed) expect(existsSync(p)).toBe(true);
      expect(await pushed(registry)).toEqual({ 'PL-2/failure': 1 });
      expect(await registry.getSingleMetricAsString('mcid_acr_files_pending')).toContain(
        'mcid_acr_files_pending{filesystem="PL-2"} 2',
      );

      // The server comes back (same login, now pointing at vsftpd): the retry loop delivers.
      login.port = vs.port;
      pusher.start();
      const remoteDir = join(vs.upload, 'MtasMcidInfo', 'PL-2');
      await until(() => existsSync(remoteDir) && readdirSync(remoteDir).filter((n) => n.endsWith('.acr')).length === 2);
      await until(() => closed.every((p) => !existsSync(p)));
      await pusher.stop();
      const arrived = readdirSync(remoteDir).sort();
      expect(arrived).toEqual([...local.keys()].sort()); // no .part left behind
      for (const [name, bytes] of local) expect(readFileSync(join(remoteDir, name)).equals(bytes)).toBe(true);
      // the open file is still local and was not pushed
      expect(readdirSync(layout.directory).filter((n) => n.endsWith('.tmp'))).toHaveLength(1);
      // upload under a temporary name, then rename: the command log shows the order
      const log = vs.log();
      const name = [...local.keys()][0]!;
      expect(log.indexOf(`STOR .${name}.part`)).toBeGreaterThan(-1);
      expect(log.indexOf(`RNTO ${name}`)).toBeGreaterThan(log.indexOf(`STOR .${name}.part`));
      expect((await pushed(registry))['PL-2/success']).toBe(2);
      await store.flush();
    } finally {
      await vs.dispose();
    }
  });

  it('SFTP (OpenSSH): PL-3 files pushed; during an outage the file is kept and pushed once sshd is back', async () => {
    const ssh = await new SshdPeer().start();
    const registry = new Registry();
    try {
      const { store, layout } = storeFor(3, registry);
      const fingerprint = (pub: string) =>
        parseHostKeyFingerprint(
          execFileSync('ssh-keygen', ['-lf', join(ssh.dir, pub)], { encoding: 'utf8' }).split(' ')[1]!,
        )!;
      const login: RemoteLogin = {
        host: '127.0.0.1',
        port: ssh.port,
        username: ssh.user,
        privateKey: ssh.clientKey,
        timeoutMs: 5000,
        hostKeySha256: fingerprint('other.pub'), // not the server's key
      };
      const pusher = pusherFor(layout, new SftpRemote(login), ssh.files, registry);
      const remoteDir = join(ssh.files, 'MtasMcidInfo', 'PL-3');

      for (const a of acrs.slice(0, 2)) await store.store(a);
      const first = store.closedFiles[0]!.path;
      const firstBytes = readFileSync(first);
      // A server with another host key than the pinned one gets nothing; the file stays.
      expect(await pusher.pushOnce()).toEqual({ pushed: 0, failed: true });
      expect(existsSync(first)).toBe(true);
      expect(existsSync(remoteDir)).toBe(false);
      login.hostKeySha256 = fingerprint('host.pub');
      expect(await pusher.pushOnce()).toEqual({ pushed: 1, failed: false });
      expect(existsSync(first)).toBe(false);
      const firstName = first.split('/').at(-1)!;
      expect(readFileSync(join(remoteDir, firstName)).equals(firstBytes)).toBe(true);

      // Outage: the next closed file cannot go and stays local.
      await ssh.stop();
      for (const a of acrs.slice(2, 4)) await store.store(a);
      const second = store.closedFiles[1]!.path;
      const secondBytes = readFileSync(second);
      expect((await pusher.pushOnce()).failed).toBe(true);
      expect(existsSync(second)).toBe(true);
      expect(existsSync(join(remoteDir, second.split('/').at(-1)!))).toBe(false);

      // Back: the retry loop delivers it and only then removes the local copy.
      pusher.start();
      await ssh.start();
      await until(() => !existsSync(second));
      await pusher.stop();
      expect(readFileSync(join(remoteDir, second.split('/').at(-1)!)).equals(secondBytes)).toBe(true);
      expect(readdirSync(remoteDir).sort()).toEqual([firstName, second.split('/').at(-1)!].sort());
      const counts = await pushed(registry);
      expect(counts['PL-3/success']).toBe(2);
      expect(counts['PL-3/failure']).toBeGreaterThanOrEqual(2);
    } finally {
      await ssh.dispose();
    }
  });
});
