// HI2 file delivery over FTP (ftp-srv and Debian vsftpd) and SFTP (Debian OpenSSH): files per
// LIID, temporary name then rename, decodable content equal to what was sent, retries across an
// outage, clear errors for bad credentials and unreachable hosts, and a server whose disk is full.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { LemfDestination } from '@li/schemas';
import { sampleLemf } from '@li/schemas/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryRecord } from '../src/domain/types.ts';
import { psPdu } from './helpers/ber.ts';
import { decodePsPdus, psPduDecoder } from './helpers/decoders.ts';
import { FtpSrvPeer, freePort, SshdPeer, VsftpdPeer } from './helpers/servers.ts';
import { record, recordingLogger, sleep, testDeliveries, waitFor } from './helpers/util.ts';

const cleanup: (() => Promise<void>)[] = [];
beforeAll(() => {
  psPduDecoder();
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function fileLemf(
  id: string,
  transport: 'FTP' | 'SFTP',
  port: number,
  files: Partial<NonNullable<LemfDestination['files']>> = {},
): LemfDestination {
  return sampleLemf({
    // plain FTP and unpinned SFTP are plaintext / unauthenticated: these tests accept that
    allowInsecure: transport === 'FTP' || !files.hostKeySha256,
    id,
    transport,
    address: { host: '127.0.0.1', port },
    ccAddress: null,
    files: {
      directory: 'hi2',
      namePattern: '{liid}_{seq:6}.ber',
      maxRecords: 10,
      maxBytes: 1_000_000,
      maxSeconds: 1,
      username: 'mdf',
      credentialRef: 'pw',
      ...files,
    },
  });
}

function makeRecords(lemf: string, liids: string[], perLiid: number): DeliveryRecord[] {
  const out: DeliveryRecord[] = [];
  for (let i = 0; i < perLiid; i++) for (const l of liids) out.push(record(lemf, l, i, 'HI2', psPdu('iri', l, 5, i)));
  return out;
}

/** Checks a delivered directory: final names only, one LIID per file, in sequence, every record once. */
function checkDelivered(dir: string, sent: DeliveryRecord[], pattern: RegExp) {
  const names = readdirSync(dir).sort();
  expect(names.filter((n) => n.endsWith('.part'))).toEqual([]);
  for (const n of names) expect(n).toMatch(pattern);
  const byLiid = new Map<string, Buffer[]>();
  for (const n of names) {
    const liid = n.split('_')[0]!;
    const content = readFileSync(join(dir, n));
    const decoded = decodePsPdus(content);
    expect(new Set(decoded.map((d) => d.liid))).toEqual(new Set([liid]));
    byLiid.set(liid, [...(byLiid.get(liid) ?? []), content]);
  }
  for (const [liid, contents] of byLiid) {
    const expected = Buffer.concat(sent.filter((r) => r.liid === liid).map((r) => r.bytes));
    expect(Buffer.concat(contents).equals(expected)).toBe(true);
  }
  expect([...byLiid.keys()].sort()).toEqual([...new Set(sent.map((r) => r.liid))].sort());
  return names;
}

describe('FTP (ftp-srv)', () => {
  it('batches per LIID by count and age, renames after upload, byte-equal and decodable', async () => {
    const ftp = await new FtpSrvPeer().start();
    cleanup.push(() => ftp.dispose());
    const { deliveries, commits } = testDeliveries({ secrets: (_t, r) => (r === 'pw' ? Buffer.from('secret') : null) });
    cleanup.push(() => deliveries.stop());
    await deliveries.applyLemf(fileLemf('ftp', 'FTP', ftp.port));
    const sent = makeRecords('ftp', ['LIIDF1', 'LIIDF2'], 25); // 2 full files + 5 left per LIID
    deliveries.offer('ftp', sent);
    await deliveries.delivery('ftp')!.drained(); // the last two files close by age (1 s)
    const names = checkDelivered(join(ftp.root, 'hi2'), sent, /^LIIDF\d_\d{6}\.ber$/);
    expect(names).toEqual([
      'LIIDF1_000001.ber',
      'LIIDF1_000002.ber',
      'LIIDF1_000003.ber',
      'LIIDF2_000001.ber',
      'LIIDF2_000002.ber',
      'LIIDF2_000003.ber',
    ]);
    expect(commits.at(-1)?.offset).toBe(sent.at(-1)!.source.offset + 1);
  });

  it('outage: uploads retry until the server is back; no file lost, none named twice', async () => {
    const ftp = await new FtpSrvPeer().start();
    cleanup.push(() => ftp.dispose());
    const { deliveries } = testDeliveries({ secrets: () => Buffer.from('secret') });
    cleanup.push(() => deliveries.stop());
    await deliveries.applyLemf(fileLemf('ftp2', 'FTP', ftp.port, { maxRecords: 5 }));
    const first = makeRecords('ftp2', ['LIIDO'], 10);
    deliveries.offer('ftp2', first);
    await deliveries.delivery('ftp2')!.drained();
    await ftp.stop();
    const second = makeRecords('ftp2', ['LIIDO'], 20).slice(10);
    deliveries.offer('ftp2', second);
    await waitFor(() => deliveries.status()[0]!.retries >= 2, 'retries during the outage');
    expect(['DLV_ERR_CONNECT', 'DLV_ERR_UPLOAD']).toContain(deliveries.status()[0]!.lastErrorCode);
    await ftp.start();
    await deliveries.delivery('ftp2')!.drained();
    const names = checkDelivered(join(ftp.root, 'hi2'), [...first, ...second], /^LIIDO_\d{6}\.ber$/);
    expect(names).toEqual(['LIIDO_000001.ber', 'LIIDO_000002.ber', 'LIIDO_000003.ber', 'LIIDO_000004.ber']);
  });

  it('bad credentials and an unreachable host are clear status errors', async () => {
    const ftp = await new FtpSrvPeer().start();
    cleanup.push(() => ftp.dispose());
    const closed = await freePort();
    const { deliveries, commits } = testDeliveries({ secrets: () => Buffer.from('wrong') });
    cleanup.push(() => deliveries.stop());
    await deliveries.applyLemf(fileLemf('badpw', 'FTP', ftp.port));
    await deliveries.applyLemf(fileLemf('nohost', 'FTP', closed));
    await waitFor(
      () => deliveries.status().find((s) => s.lemfId === 'badpw')?.lastErrorCode === 'DLV_ERR_AUTH',
      'auth error',
    );
    await waitFor(
      () => deliveries.status().find((s) => s.lemfId === 'nohost')?.lastErrorCode === 'DLV_ERR_CONNECT',
      'connect error',
    );
    deliveries.offer('badpw', makeRecords('badpw', ['L'], 10));
    await sleep(300);
    expect(commits).toEqual([]);
    expect(readdirSync(ftp.root)).toEqual([]);
  });
});

describe('FTP (Debian vsftpd)', () => {
  it('uploads under a temporary name and renames; content byte-equal', async () => {
    const vs = await new VsftpdPeer().start();
    cleanup.push(() => vs.dispose());
    const { deliveries } = testDeliveries({ secrets: () => Buffer.from('mdf@') });
    cleanup.push(() => deliveries.stop());
    await deliveries.applyLemf(
      fileLemf('vs', 'FTP', vs.port, {
        username: 'anonymous',
        directory: 'upload',
        namePattern: '{liid}_{lemf}_{seq}.ber',
      }),
    );
    const sent = makeRecords('vs', ['LIIDV1', 'LIIDV2'], 10);
    deliveries.offer('vs', sent);
    await deliveries.delivery('vs')!.drained();
    const names = checkDelivered(vs.upload, sent, /^LIIDV\d_vs_1\.ber$/);
    expect(names).toEqual(['LIIDV1_vs_1.ber', 'LIIDV2_vs_1.ber']);
    const log = vs.log();
    for (const n of names) {
      const stor = log.indexOf(`"STOR .${n}.part"`);
      const rnfr = log.indexOf(`"RNFR .${n}.part"`);
      const rnto = log.indexOf(`"RNTO ${n}"`);
      expect(stor).toBeGreaterThan(-1);
      expect(rnfr).toBeGreaterThan(stor);
      expect(rnto).toBeGreaterThan(rnfr);
    }
  });
});

describe('SFTP (Debian OpenSSH)', () => {
  it('uploads with key authentication, renames, byte-equal; a wrong key is DLV_ERR_AUTH', async () => {
    const ssh = await new SshdPeer().start();
    cleanup.push(() => ssh.dispose());
    const secrets = (_tenant: string, ref: string) =>
      ref === 'good' ? ssh.clientKey : ref === 'bad' ? ssh.otherKey : null;
    const { deliveries, commits } = testDeliveries({ secrets });
    cleanup.push(() => deliveries.stop());
    await deliveries.applyLemf(
      fileLemf('sftp', 'SFTP', ssh.port, { username: ssh.user, credentialRef: 'good', directory: ssh.files }),
    );
    await deliveries.applyLemf(
      fileLemf('sftp-bad', 'SFTP', ssh.port, { username: ssh.user, credentialRef: 'bad', directory: ssh.files }),
    );
    const sent = makeRecords('sftp', ['LIIDS1', 'LIIDS2'], 15);
    deliveries.offer('sftp', sent);
    deliveries.offer('sftp-bad', makeRecords('sftp-bad', ['LIIDZZ'], 10));
    await deliveries.delivery('sftp')!.drained();
    checkDelivered(ssh.files, sent, /^LIIDS\d_\d{6}\.ber$/);
    expect(commits.filter((c) => c.lemf === 'sftp').at(-1)?.offset).toBe(sent.at(-1)!.source.offset + 1);
    await waitFor(
      () => deliveries.status().find((s) => s.lemfId === 'sftp-bad')?.lastErrorCode === 'DLV_ERR_AUTH',
      'auth error',
    );
    expect(commits.filter((c) => c.lemf === 'sftp-bad')).toEqual([]);
  });
});

describe('file server with a full disk (a tmpfs the test mounts and fills)', () => {
  let dir = '';
  let filler = '';

  /** Mounts a 1 MiB tmpfs on dir and fills it with one file; returns that file's path. */
  function fillTmpfs(dir: string): string {
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0777', 'tmpfs', dir], { stdio: 'pipe' });
    } catch (e) {
      throw new Error(`this test mounts a tmpfs on ${dir} and needs root (or CAP_SYS_ADMIN): ${String(e)}`);
    }
    cleanup.push(async () => {
      execFileSync('umount', ['-l', dir]);
    });
    const filler = join(dir, 'filler');
    const fd = openSync(filler, 'w');
    try {
      for (;;) writeSync(fd, Buffer.alloc(64 * 1024, 1));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
    } finally {
      closeSync(fd);
    }
    return filler;
  }

  it.each([
    ['SFTP (OpenSSH, which leaves an empty file and reports success)', 'SFTP', 'DLV_ERR_UPLOAD_SHORT'],
    ['FTP (vsftpd, which answers 451)', 'FTP', 'DLV_ERR_UPLOAD'],
  ] as const)(
    '%s: a clear error, nothing renamed or committed, all delivered once space returns',
    async (_name, transport, code) => {
      const { deliveries, commits } =
        transport === 'SFTP'
          ? await (async () => {
              const ssh = await new SshdPeer().start();
              cleanup.push(() => ssh.dispose());
              const d = testDeliveries({ secrets: () => ssh.clientKey });
              cleanup.push(() => d.deliveries.stop());
              dir = ssh.files;
              filler = fillTmpfs(dir);
              await d.deliveries.applyLemf(
                fileLemf('full', 'SFTP', ssh.port, { username: ssh.user, credentialRef: 'k', directory: ssh.files }),
              );
              return d;
            })()
          : await (async () => {
              const vs = await new VsftpdPeer().start();
              cleanup.push(() => vs.dispose());
              const d = testDeliveries({ secrets: () => Buffer.from('mdf@') });
              cleanup.push(() => d.deliveries.stop());
              dir = vs.upload;
              filler = fillTmpfs(dir);
              await d.deliveries.applyLemf(
                fileLemf('full', 'FTP', vs.port, { username: 'anonymous', directory: 'upload' }),
              );
              return d;
            })();
      const sent = makeRecords('full', ['LIIDF1', 'LIIDF2'], 15);
      deliveries.offer('full', sent);
      await waitFor(() => deliveries.status()[0]?.lastErrorCode === code, `${code} while the disk is full`);
      await sleep(1500); // a few retries against the full disk
      expect(readdirSync(dir).filter((n) => /^LIIDF\d_\d{6}\.ber$/.test(n))).toEqual([]);
      expect(commits.filter((c) => c.lemf === 'full')).toEqual([]);
      unlinkSync(filler);
      await deliveries.delivery('full')!.drained();
      const names = checkDelivered(dir, sent, /^LIIDF\d_\d{6}\.ber$/);
      expect(names).toEqual(['LIIDF1_000001.ber', 'LIIDF1_000002.ber', 'LIIDF2_000001.ber', 'LIIDF2_000002.ber']);
      expect(commits.filter((c) => c.lemf === 'full').at(-1)?.offset).toBe(sent.at(-1)!.source.offset + 1);
    },
  );
});

describe('SFTP host-key pinning (Debian OpenSSH)', () => {
  /** The fingerprint as OpenSSH itself prints it: SHA256:<base64 without padding>. */
  const fingerprint = (pub: string) =>
    execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pub], { encoding: 'utf8' }).split(' ')[1]!;

  it('the right fingerprint delivers (with or without SHA256:); a wrong one refuses with DLV_ERR_HOST_KEY', async () => {
    const ssh = await new SshdPeer().start();
    cleanup.push(() => ssh.dispose());
    const right = fingerprint(join(ssh.dir, 'host.pub'));
    const wrong = fingerprint(join(ssh.dir, 'other.pub')); // a real key, just not the server's
    expect(right).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    const { log, lines } = recordingLogger();
    const warnings = () => lines.filter((l) => l.level === 'warn').map((l) => l.msg);
    const { deliveries, commits, registry } = testDeliveries({ secrets: () => ssh.clientKey }, 128, log);
    cleanup.push(() => deliveries.stop());
    const lemf = (id: string, hostKeySha256: string | null) =>
      fileLemf(id, 'SFTP', ssh.port, { username: ssh.user, directory: ssh.files, hostKeySha256 });
    await deliveries.applyLemf(lemf('pinned', right));
    await deliveries.applyLemf(lemf('pinned-bare', right.slice('SHA256:'.length)));
    await deliveries.applyLemf(lemf('impostor', wrong));
    await deliveries.applyLemf(lemf('garbage', 'SHA256:not-a-fingerprint'));
    const sent = makeRecords('pinned', ['LIIDP1'], 10);
    const bare = makeRecords('pinned-bare', ['LIIDP2'], 10);
    deliveries.offer('pinned', sent);
    deliveries.offer('pinned-bare', bare);
    deliveries.offer('impostor', makeRecords('impostor', ['LIIDP3'], 10));
    deliveries.offer('garbage', makeRecords('garbage', ['LIIDP4'], 10));
    await deliveries.delivery('pinned')!.drained();
    await deliveries.delivery('pinned-bare')!.drained();
    checkDelivered(ssh.files, [...sent, ...bare], /^LIIDP[12]_\d{6}\.ber$/);
    const st = await waitFor(
      () =>
        deliveries
          .status()
          .find((s) => s.lemfId === 'impostor' && s.lastErrorCode === 'DLV_ERR_HOST_KEY' && s.retries > 0),
      'host key refused',
    );
    expect(st.connected).toBe(false);
    expect(st.pending).toBe(10); // kept: it goes out once the pin (or the server) is fixed
    expect(st.lastErrorMessage).toContain(right); // tells the operator what the server presented
    expect(deliveries.status().find((s) => s.lemfId === 'garbage')?.lastErrorCode).toBe('DLV_ERR_BAD_CONFIG');
    expect(commits.filter((c) => c.lemf === 'impostor' || c.lemf === 'garbage')).toEqual([]);
    expect(readdirSync(ssh.files).filter((n) => n.includes('LIIDP3'))).toEqual([]);
    expect(await registry.metrics()).toMatch(
      /li_cc_delivery_last_error_info\{tenant="acme",lemf="impostor",transport="SFTP",code="DLV_ERR_HOST_KEY"\} 1/,
    );
    expect(warnings().filter((w) => /insecure/.test(w))).toEqual([]);
    const insecure = (id: string) =>
      new RegExp(`li_cc_delivery_lemf_insecure\\{tenant="acme",lemf="${id}",transport="SFTP"\\} (\\d)`);
    expect((await registry.metrics()).match(insecure('pinned'))?.[1]).toBe('0');

    // no pin and no allowInsecure: refused, nothing uploaded
    await deliveries.applyLemf({ ...lemf('unpinned', null), allowInsecure: false });
    deliveries.offer('unpinned', makeRecords('unpinned', ['LIIDP5'], 10));
    await waitFor(
      () =>
        deliveries
          .status()
          .find((s) => s.lemfId === 'unpinned' && s.lastErrorCode === 'DLV_ERR_INSECURE' && s.retries > 0),
      'unpinned refused',
    );
    expect(readdirSync(ssh.files).filter((n) => n.includes('LIIDP5'))).toEqual([]);
    // allowInsecure: delivered, shown on the metric, and each new SSH session is logged as insecure
    await deliveries.applyLemf({ ...lemf('unpinned', null), allowInsecure: true, version: 2 });
    await deliveries.delivery('unpinned')!.drained();
    expect(readdirSync(ssh.files).filter((n) => n.includes('LIIDP5')).length).toBeGreaterThan(0);
    expect(
      warnings().filter((w) => /insecure connection.*SFTP without a pinned host key/.test(w)).length,
    ).toBeGreaterThan(0);
    expect((await registry.metrics()).match(insecure('unpinned'))?.[1]).toBe('1');
  });
});

describe('SFTP outage', () => {
  it('the SSH server goes away mid-stream and comes back: every file arrives, no crash', async () => {
    const ssh = await new SshdPeer().start();
    cleanup.push(() => ssh.dispose());
    const { deliveries } = testDeliveries({ secrets: () => ssh.clientKey });
    cleanup.push(() => deliveries.stop());
    await deliveries.applyLemf(
      fileLemf('sftp-o', 'SFTP', ssh.port, { username: ssh.user, directory: ssh.files, maxRecords: 5 }),
    );
    const all = makeRecords('sftp-o', ['LIIDQ'], 30);
    deliveries.offer('sftp-o', all.slice(0, 10));
    await deliveries.delivery('sftp-o')!.drained();
    await ssh.stop();
    deliveries.offer('sftp-o', all.slice(10));
    await waitFor(() => deliveries.status()[0]!.retries >= 2, 'retries while SSH is down');
    expect(deliveries.status()[0]!.connected).toBe(false);
    expect(['DLV_ERR_CONNECT', 'DLV_ERR_UPLOAD']).toContain(deliveries.status()[0]!.lastErrorCode);
    await ssh.start();
    await deliveries.delivery('sftp-o')!.drained();
    const names = checkDelivered(ssh.files, all, /^LIIDQ_\d{6}\.ber$/);
    expect(names).toHaveLength(6);
  });
});
