// The connect options of a file-transfer server's login, the same for every service that uploads:
// one attempt bounded by the login's timeout, and an SFTP host key pinned by its SHA-256.
import { createHash } from 'node:crypto';

/** What a service knows of the server it delivers to. */
export interface FileServerLogin {
  host: string;
  port: number;
  username: string;
  password?: string;
  privateKey?: Buffer;
  timeoutMs: number;
  /** SFTP: SHA-256 of the server's host key blob (the OpenSSH `SHA256:` fingerprint); absent or null: not pinned. */
  hostKeySha256?: Buffer | null;
}

/** The options of basic-ftp's `Client.access()` (no password: an empty one). */
export function ftpAccessOptions(l: FileServerLogin) {
  return { host: l.host, port: l.port, user: l.username, password: l.password ?? '' };
}

/**
 * The options of ssh2-sftp-client's `connect()`: a pinned host key is checked before
 * authentication, so a server with another key never sees the credentials; `onOtherKey` is told
 * the key blob such a server presented.
 */
export function sftpConnectOptions(l: FileServerLogin, onOtherKey?: (key: Buffer) => void) {
  const pin = l.hostKeySha256 ?? null;
  return {
    host: l.host,
    port: l.port,
    username: l.username,
    ...(l.password !== undefined ? { password: l.password } : {}),
    ...(l.privateKey ? { privateKey: l.privateKey } : {}),
    readyTimeout: l.timeoutMs,
    retries: 0,
    ...(pin
      ? {
          hostVerifier: (key: Buffer) => {
            if (createHash('sha256').update(key).digest().equals(pin)) return true;
            onOtherKey?.(key);
            return false;
          },
        }
      : {}),
  };
}
