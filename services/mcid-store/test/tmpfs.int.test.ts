// Disk-full hysteresis on a real, small, size-limited file system (a tmpfs mounted by the
// test as root) measured with statfs, not a fake.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AcrFileStore, statfsDiskUsage } from '../src/adapters/acr-files.ts';
import { acrMessage, buildAcrAvps } from '../src/adapters/diameter/acr.ts';
import { encodeMessage } from '../src/adapters/diameter/codec.ts';
import { sampleReports } from '../src/testing/reports.ts';

const mnt = mkdtempSync(join(tmpdir(), 'mcid-tmpfs-'));
const small = mkdtempSync(join(tmpdir(), 'mcid-tmpfs-enospc-'));
beforeAll(() => {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=128k,mode=0700', 'tmpfs', mnt]);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', small]);
});
afterAll(() => {
  for (const d of [mnt, small]) {
    execFileSync('umount', [d]);
    rmSync(d, { recursive: true, force: true });
  }
});

function encodedAcr(): Buffer {
  const [report] = sampleReports(1);
  return encodeMessage(
    acrMessage(
      buildAcrAvps(report!, {
        originHost: 'as1.test',
        originRealm: 'test',
        destinationRealm: 'test',
        serviceContextId: '32275@3gpp.org',
        privateVendorId: 32473,
      }),
      1,
      1,
    ),
  );
}

describe('ACR storage on a 128 KiB tmpfs', () => {
  it('rejects at the full level, keeps rejecting above not-full, resumes after files are collected', async () => {
    const registry = new Registry();
    const store = new AcrFileStore(
      {
        directory: mnt,
        fileSystem: 'tmpfs-test',
        nodeId: 'mtas1',
        maxTimeMs: 60_000,
        maxRecords: 2,
        maxBytes: 1 << 20,
        fullDiskPercent: 50,
        notFullDiskPercent: 25,
      },
      { registry, disk: statfsDiskUsage },
    );
    const acr = encodedAcr();
    // Pad records to one page so usage moves in visible steps.
    const record = Buffer.concat([acr, Buffer.alloc(4096 - acr.length)]);
    let stored = 0;
    let first: Awaited<ReturnType<typeof store.store>> | null = null;
    for (let i = 0; i < 40; i++) {
      const r = await store.store(record);
      if (!r.ok) {
        first = r;
        break;
      }
      stored++;
    }
    expect(first).toMatchObject({ ok: false, code: 'MCD_ERR_DISK_FULL' });
    const atFull = await statfsDiskUsage.usedPercent(mnt);
    expect(atFull).toBeGreaterThanOrEqual(50);
    expect(stored).toBeGreaterThan(5);
    expect(stored).toBeLessThan(20);

    // Collect (transfer away) files until usage sits between not-full and full: still rejected.
    const files = store.closedFiles.map((f) => f.path);
    while ((await statfsDiskUsage.usedPercent(mnt)) >= 40) unlinkSync(files.shift()!);
    expect((await store.store(record)).ok).toBe(false);

    // Below the not-full level storing resumes.
    while ((await statfsDiskUsage.usedPercent(mnt)) > 25) unlinkSync(files.shift()!);
    expect((await store.store(record)).ok).toBe(true);

    const counts = (await registry.getSingleMetric('mcid_acr_storage_requests_total')!.get()).values;
    const by = Object.fromEntries(counts.map((v) => [v.labels.result, v.value]));
    expect(by).toEqual({ success: stored + 1, failure: 2 });
    await store.flush();
  });
});

describe('ACR storage when the disk fills during a write (64 KiB tmpfs, the usage check passed)', () => {
  it('leaves only whole records in the files: the part of a batch written before ENOSPC is cut off', async () => {
    const store = new AcrFileStore(
      {
        directory: small,
        fileSystem: 'tmpfs-enospc',
        nodeId: 'mtas1',
        maxTimeMs: 60_000,
        maxRecords: 1000,
        maxBytes: 1 << 20,
        fullDiskPercent: 100,
        notFullDiskPercent: 99,
      },
      // The disk looks empty to the check, so the writes themselves run out of space.
      { registry: new Registry(), disk: { usedPercent: async () => 0 } },
    );
    // Not a divisor of the page size: a batch's write ends mid-record when the space runs out.
    const acr = encodedAcr();
    const record = Buffer.concat([acr, Buffer.alloc(3000 - acr.length)]);
    let stored = 0;
    let failure: Awaited<ReturnType<typeof store.storeMany>>[number] | null = null;
    for (let i = 0; i < 20 && !failure; i++) {
      for (const r of await store.storeMany([record, record, record, record, record])) {
        if (r.ok) stored++;
        else failure ??= r;
      }
    }
    expect(failure).toMatchObject({ ok: false, code: 'MCD_ERR_DISK_FULL' });
    await store.flush();
    const files = readdirSync(small);
    const bytes = files.reduce((n, f) => n + statSync(join(small, f)).size, 0);
    expect(
      files.every((f) => f.endsWith('.acr')),
      files.join(' '),
    ).toBe(true);
    expect(stored).toBeGreaterThan(0);
    expect(bytes, 'bytes in the files').toBe(stored * record.length);
  });
});
