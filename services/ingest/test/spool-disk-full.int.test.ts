// The spool's own disk fills up (a tmpfs the test mounts as root and fills): appends that do not
// fit are refused with ING_ERR_SPOOL_IO (counted by the caller, never a crash), what was spooled
// before stays readable in order, and appending works again once the space returns.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OutputRecord } from '@li/bus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskSpool } from '../src/adapters/spool.ts';

const mnt = mkdtempSync(join(tmpdir(), 'ingest-spool-tmpfs-'));
beforeAll(() => {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', mnt], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`this test mounts a tmpfs on ${mnt} and needs root (or CAP_SYS_ADMIN): ${String(e)}`);
  }
});
afterAll(() => {
  execFileSync('umount', ['-l', mnt]);
  rmSync(mnt, { recursive: true, force: true });
});

const rec = (i: number): OutputRecord => ({ topic: 'li.t.events', key: 'c', value: Buffer.alloc(1000, i % 256) });

describe('DiskSpool on a full disk', () => {
  it('refuses with ING_ERR_SPOOL_IO instead of throwing, keeps what it had, and resumes when space returns', () => {
    const errors: string[] = [];
    const spool = new DiskSpool({
      directory: join(mnt, 'spool'),
      maxBytes: 10 << 20, // far above the disk: the disk is what fills
      segmentBytes: 64 * 1024,
      onIoError: (r) => errors.push(r),
    });
    expect(spool.append([rec(0), rec(1), rec(2)])).toBe(0);
    // Fill the rest of the file system.
    const filler = join(mnt, 'filler');
    const fd = openSync(filler, 'w');
    try {
      for (;;) writeSync(fd, Buffer.alloc(4096, 0xff));
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      closeSync(fd);
    }
    let refused = 0;
    for (let i = 3; i < 200 && refused === 0; i++) refused = spool.append([rec(i)]);
    expect(refused).toBe(1);
    expect(errors.at(-1)).toBe('ENOSPC');
    const kept = spool.records;
    expect(kept).toBeGreaterThanOrEqual(3);

    unlinkSync(filler);
    expect(spool.append([rec(500), rec(501)])).toBe(0);
    expect(spool.records).toBe(kept + 2);
    // Everything spooled reads back in order, with no torn record in between.
    const out: OutputRecord[] = [];
    for (let b = spool.peek(50); b.length > 0; b = spool.peek(50)) {
      out.push(...b);
      spool.commit(b.length);
    }
    const firsts = out.map((r) => r.value![0]);
    expect(firsts).toEqual([...Array.from({ length: kept }, (_, i) => i % 256), 500 % 256, 501 % 256]);
    spool.close();
  });
});
