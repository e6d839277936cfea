import { describe, expect, it } from 'vitest';
import { ftpUpload, sftpUpload } from './upload.ts';

/** A server directory in memory; `keep` bytes of each upload are stored (a full disk keeps fewer). */
function memoryServer(keep = Number.POSITIVE_INFINITY) {
  const files = new Map<string, Buffer>();
  const calls: string[] = [];
  const rename = async (from: string, to: string) => {
    calls.push(`rename ${from} ${to}`);
    files.set(to, files.get(from)!);
    files.delete(from);
  };
  const store = (path: string, bytes: Buffer) => files.set(path, bytes.subarray(0, keep));
  return { files, calls, rename, store };
}

describe('file-transfer > upload', () => {
  it('FTP: stores under the temporary name, then renames it to the final name', async () => {
    const s = memoryServer();
    const ftp = {
      uploadFrom: async (src: AsyncIterable<Buffer>, to: string) => {
        const parts: Buffer[] = [];
        for await (const p of src) parts.push(p);
        s.store(to, Buffer.concat(parts));
      },
      size: async (p: string) => s.files.get(p)!.length,
      rename: s.rename,
    };
    await ftpUpload(ftp, '.a.part', 'a', Buffer.from('hello'));
    expect([...s.files]).toEqual([['a', Buffer.from('hello')]]);
  });

  it('FTP: a short stored file fails with SHORT_UPLOAD and is not renamed', async () => {
    const s = memoryServer(2);
    const ftp = {
      uploadFrom: async (_: unknown, to: string) => s.store(to, Buffer.from('hello')),
      size: async (p: string) => s.files.get(p)!.length,
      rename: s.rename,
    };
    await expect(ftpUpload(ftp, '.a.part', 'a', Buffer.from('hello'))).rejects.toMatchObject({
      code: 'SHORT_UPLOAD',
      message: 'server stored 2 of 5 bytes',
    });
    expect(s.calls).toEqual([]);
  });

  it('FTP: a server without SIZE (5xx) is trusted; another SIZE failure fails the upload', async () => {
    const s = memoryServer();
    const upload = (sizeError: { code: number }) =>
      ftpUpload(
        {
          uploadFrom: async (_: unknown, to: string) => s.store(to, Buffer.from('x')),
          size: async () => Promise.reject(sizeError),
          rename: s.rename,
        },
        '.a.part',
        'a',
        Buffer.from('x'),
      );
    await upload({ code: 502 });
    expect(s.calls).toEqual(['rename .a.part a']);
    await expect(upload({ code: 421 })).rejects.toEqual({ code: 421 });
  });

  it('SFTP: falls back to a plain rename when the server has no posix-rename', async () => {
    const s = memoryServer();
    const sftp = {
      put: async (bytes: Buffer, path: string) => s.store(path, bytes),
      stat: async (p: string) => ({ size: s.files.get(p)!.length }),
      posixRename: async () => Promise.reject(new Error('not supported')),
      rename: s.rename,
    };
    await sftpUpload(sftp, 'out', '.a.part', 'a', Buffer.from('abc'));
    expect([...s.files.keys()]).toEqual(['out/a']);
    const short = memoryServer(0);
    await expect(
      sftpUpload(
        { ...sftp, put: async (b, p) => short.store(p, b), stat: async () => ({ size: 0 }) },
        'out',
        '.b.part',
        'b',
        Buffer.from('abc'),
      ),
    ).rejects.toMatchObject({ code: 'SHORT_UPLOAD' });
  });
});
