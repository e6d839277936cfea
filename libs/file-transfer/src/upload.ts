// One file to a file-transfer server: written under a temporary name, its stored size read back,
// then renamed to its final name. A reader of the final name never sees a half-written file, and
// a server whose disk is full, which can keep a short or empty file while reporting success (seen
// with OpenSSH on a full tmpfs), fails the upload instead of passing it as delivered.
import { Readable } from 'node:stream';

/** What the upload needs of a connected basic-ftp `Client`, in the directory it writes to. */
interface FtpSession {
  uploadFrom(source: Readable, toRemotePath: string): Promise<unknown>;
  size(path: string): Promise<number>;
  rename(from: string, to: string): Promise<unknown>;
}

/** What the upload needs of a connected ssh2-sftp-client `Client`. */
interface SftpSession {
  put(input: Buffer, remotePath: string): Promise<unknown>;
  stat(remotePath: string): Promise<{ size: number }>;
  posixRename(from: string, to: string): Promise<unknown>;
  rename(from: string, to: string): Promise<unknown>;
}

/** Thrown when the server holds fewer (or more) bytes under the temporary name than were sent. */
class ShortUpload extends Error {
  readonly code = 'SHORT_UPLOAD';
  constructor(stored: number, sent: number) {
    super(`server stored ${stored} of ${sent} bytes`);
  }
}

function checkStored(stored: number, sent: number): void {
  if (stored !== sent) throw new ShortUpload(stored, sent);
}

/** Uploads `bytes` as `tmp` in the FTP session's current directory, checks its size, renames it to `final`. */
export async function ftpUpload(c: FtpSession, tmp: string, final: string, bytes: Buffer): Promise<void> {
  await c.uploadFrom(Readable.from([bytes]), tmp);
  // SIZE (RFC 3659) is near universal; a server without it (5xx) is trusted on its 226
  const stored = await c.size(tmp).catch((e: { code?: number }) => {
    if (typeof e.code === 'number' && e.code >= 500 && e.code < 510) return bytes.length;
    throw e;
  });
  checkStored(stored, bytes.length);
  await c.rename(tmp, final);
}

/** Uploads `bytes` as `<dir>/<tmp>` over SFTP, checks its size, renames it to `<dir>/<final>`. */
export async function sftpUpload(
  c: SftpSession,
  dir: string,
  tmp: string,
  final: string,
  bytes: Buffer,
): Promise<void> {
  await c.put(bytes, `${dir}/${tmp}`);
  checkStored((await c.stat(`${dir}/${tmp}`)).size, bytes.length);
  try {
    // posix-rename@openssh.com replaces atomically; plain SFTP rename is the fallback
    await c.posixRename(`${dir}/${tmp}`, `${dir}/${final}`);
  } catch {
    await c.rename(`${dir}/${tmp}`, `${dir}/${final}`);
  }
}
