import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ftpAccessOptions, sftpConnectOptions } from './connect.ts';

const login = { host: 'files.example', port: 2222, username: 'lea', timeoutMs: 3000 };

describe('file-transfer > connect options', () => {
  it('FTP: the login as basic-ftp names it, no password as an empty one', () => {
    expect(ftpAccessOptions(login)).toEqual({ host: 'files.example', port: 2222, user: 'lea', password: '' });
    expect(ftpAccessOptions({ ...login, password: 'pw' }).password).toBe('pw');
  });

  it('SFTP: one attempt within the timeout, only the credentials given, no host check without a pin', () => {
    expect(sftpConnectOptions(login)).toEqual({
      host: 'files.example',
      port: 2222,
      username: 'lea',
      readyTimeout: 3000,
      retries: 0,
    });
    const key = Buffer.from('key');
    expect(sftpConnectOptions({ ...login, password: '', privateKey: key, hostKeySha256: null })).toEqual({
      host: 'files.example',
      port: 2222,
      username: 'lea',
      password: '',
      privateKey: key,
      readyTimeout: 3000,
      retries: 0,
    });
  });

  it('SFTP: a pinned host key accepts that key only and tells which other key a server presented', () => {
    const key = Buffer.from('the server host key blob');
    const presented: Buffer[] = [];
    const { hostVerifier } = sftpConnectOptions(
      { ...login, hostKeySha256: createHash('sha256').update(key).digest() },
      (k) => presented.push(k),
    );
    expect(hostVerifier?.(key)).toBe(true);
    expect(hostVerifier?.(Buffer.from('another key'))).toBe(false);
    expect(presented).toEqual([Buffer.from('another key')]);
    // Without a listener a mismatch is still refused.
    const { hostVerifier: quiet } = sftpConnectOptions({ ...login, hostKeySha256: Buffer.alloc(32) });
    expect(quiet?.(key)).toBe(false);
  });
});
