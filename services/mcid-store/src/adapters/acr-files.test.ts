import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acrLayoutOf, parseConfig } from '../config.ts';
import { sampleReports } from '../testing/reports.ts';
import type { AcrFileConfig, DiskUsagePort } from './acr-files.ts';
import { AcrFileStore, fileName } from './acr-files.ts';
import { acrMessage, buildAcrAvps } from './diameter/acr.ts';
import { asUtf8, decodeMessage, encodeMessage, findAvp, MessageFramer } from './diameter/codec.ts';
import { BASE, groupedPredicate } from './diameter/dictionary.ts';

const reports = sampleReports(12);
const acrs = reports.map((r, i) =>
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

/** A disk whose fill level the test sets. */
class FakeDisk implements DiskUsagePort {
  percent = 10;
  async usedPercent(): Promise<number> {
    return this.percent;
  }
}

let dir: string;
let registry: Registry;
let disk: FakeDisk;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mcid-acr-'));
  registry = new Registry();
  disk = new FakeDisk();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function store(over: Partial<AcrFileConfig> = {}): AcrFileStore {
  return new AcrFileStore(
    {
      directory: dir,
      fileSystem: 'PL-1',
      nodeId: 'mtas1',
      maxTimeMs: 60_000,
      maxRecords: 1000,
      maxBytes: 10 * 1024 * 1024,
      fullDiskPercent: 90,
      notFullDiskPercent: 80,
      ...over,
    },
    { disk, registry, now: () => Date.UTC(2026, 10, 21, 22, 5, 9) },
  );
}

function readAcrFile(path: string): string[] {
  const framer = new MessageFramer();
  return framer.push(readFileSync(path)).map((b) => {
    const m = decodeMessage(b, groupedPredicate(null));
    if (!m.ok) throw new Error(m.reason);
    return asUtf8(findAvp(m.value.avps, BASE.SESSION_ID)) ?? '';
  });
}

/** The Session-Id of one encoded ACR. */
function readAcrFileOf(acr: Buffer): string {
  const m = decodeMessage(acr, groupedPredicate(null));
  if (!m.ok) throw new Error(m.reason);
  return asUtf8(findAvp(m.value.avps, BASE.SESSION_ID)) ?? '';
}

async function counters(): Promise<Record<string, number>> {
  const m = await registry.getSingleMetric('mcid_acr_storage_requests_total')!.get();
  return Object.fromEntries(m.values.map((v) => [`${v.labels.filesystem}/${v.labels.result}`, v.value]));
}

describe('ACR file store', () => {
  it('closes a file at the maximum record count', async () => {
    const s = store({ maxRecords: 3 });
    for (const a of acrs.slice(0, 7)) expect((await s.store(a)).ok).toBe(true);
    expect(s.closedFiles.map((f) => [f.reason, f.records])).toEqual([
      ['records', 3],
      ['records', 3],
    ]);
    await s.flush();
    expect(s.closedFiles.at(-1)).toMatchObject({ reason: 'shutdown', records: 1 });
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(3);
    expect(files.every((f) => f.endsWith('.acr'))).toBe(true);
    // Every stored record decodes back, in order, none lost or duplicated.
    const ids = files.flatMap((f) => readAcrFile(join(dir, f)));
    expect(ids).toHaveLength(7);
    expect(new Set(ids).size).toBe(7);
  });

  it('closes a file at the maximum size, never splitting a record', async () => {
    const size = acrs[0]!.length;
    const s = store({ maxBytes: Math.floor(size * 2.5) });
    for (const a of acrs.slice(0, 5)) await s.store(a);
    expect(s.closedFiles.map((f) => [f.reason, f.records])).toEqual([
      ['size', 2],
      ['size', 2],
    ]);
    for (const f of s.closedFiles) expect(f.bytes).toBeLessThanOrEqual(Math.floor(size * 2.5));
  });

  it('stores a batch in order across record- and size-closed files, each result naming its file', async () => {
    const size = acrs[0]!.length;
    const s = store({ maxRecords: 4, maxBytes: Math.floor(size * 3.5) });
    const rs = await s.storeMany(acrs.slice(0, 10));
    expect(rs.every((r) => r.ok)).toBe(true);
    // 3 fit by size (the 4th would overflow), so every file closes by size: 3, 3, 3, then 1 open.
    expect(s.closedFiles.map((f) => [f.reason, f.records])).toEqual([
      ['size', 3],
      ['size', 3],
      ['size', 3],
    ]);
    const files = rs.map((r) => (r.ok ? r.file : ''));
    expect(files.slice(0, 3).every((f) => f === s.closedFiles[0]!.path)).toBe(true);
    expect(files[9]).not.toBe(s.closedFiles[2]!.path);
    await s.flush();
    const ids = readdirSync(dir)
      .sort()
      .flatMap((f) => readAcrFile(join(dir, f)));
    expect(ids).toEqual(acrs.slice(0, 10).map((a) => readAcrFileOf(a)));
    expect(await counters()).toEqual({ 'PL-1/success': 10 });
    const byRecords = store({ maxRecords: 4 });
    await byRecords.storeMany(acrs.slice(0, 9));
    expect(byRecords.closedFiles.map((f) => [f.reason, f.records])).toEqual([
      ['records', 4],
      ['records', 4],
    ]);
  });

  it('fails a whole batch at the disk-full level, counting each record', async () => {
    const s = store();
    disk.percent = 95;
    const rs = await s.storeMany(acrs.slice(0, 3));
    expect(rs.map((r) => (r.ok ? 'ok' : r.code))).toEqual([
      'MCD_ERR_DISK_FULL',
      'MCD_ERR_DISK_FULL',
      'MCD_ERR_DISK_FULL',
    ]);
    expect(await counters()).toEqual({ 'PL-1/failure': 3 });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('closes a file when its maximum time has passed', async () => {
    const s = store({ maxTimeMs: 80 });
    await s.store(acrs[0]!);
    await s.store(acrs[1]!);
    expect(s.closedFiles).toHaveLength(0);
    expect(readdirSync(dir)[0]).toMatch(/\.acr\.tmp$/);
    await new Promise((r) => setTimeout(r, 250));
    expect(s.closedFiles.map((f) => [f.reason, f.records])).toEqual([['time', 2]]);
    expect(readdirSync(dir)).toEqual([s.closedFiles[0]!.path.split('/').at(-1)]);
  });

  it('stops storing at the disk-full level and resumes only at the not-full level (hysteresis), counting both', async () => {
    const s = store({ fullDiskPercent: 90, notFullDiskPercent: 80 });
    const seen: string[] = [];
    for (const [i, pct] of [50, 89.9, 90, 85, 80.1, 80, 85, 89].entries()) {
      disk.percent = pct;
      const r = await s.store(acrs[i]!);
      seen.push(r.ok ? 'ok' : r.code);
    }
    expect(seen).toEqual(['ok', 'ok', 'MCD_ERR_DISK_FULL', 'MCD_ERR_DISK_FULL', 'MCD_ERR_DISK_FULL', 'ok', 'ok', 'ok']);
    expect(await counters()).toEqual({ 'PL-1/success': 5, 'PL-1/failure': 3 });
    const metrics = await registry.metrics();
    expect(metrics).toContain('mcid_acr_disk_full{filesystem="PL-1"} 0');
  });

  it('counts per file system and rejects an invalid configuration with the field named', async () => {
    const a = store({ fileSystem: 'PL-1' });
    const b = store({ fileSystem: 'PL-2', notFullDiskPercent: 95 });
    await a.store(acrs[0]!);
    const r = await b.store(acrs[1]!);
    expect(r).toEqual({ ok: false, code: 'MCD_ERR_CONFIG', reason: 'invalid notFullDiskPercent' });
    expect(await counters()).toEqual({ 'PL-1/success': 1, 'PL-2/failure': 1 });
  });

  it('names files TS 32.297-style in UTC', () => {
    expect(fileName('mtas1', 7, new Date(Date.UTC(2026, 10, 21, 22, 5, 9)))).toBe(
      'mtas1_-_00000007.20261121_-_220509+0000.acr',
    );
  });

  it('lays files out in <base>/MtasMcidInfo/PL-<n> with the configured modes and owner', async () => {
    const parsed = parseConfig({
      localStorage: {
        baseDirectory: dir,
        processor: 3,
        fileMode: '0604',
        dirMode: '0711',
        ownerUid: 4321,
        ownerGid: 4322,
      },
    });
    if (!parsed.ok) throw new Error(parsed.reason);
    const layout = acrLayoutOf(parsed.config);
    expect(layout).toMatchObject({
      directory: join(dir, 'MtasMcidInfo', 'PL-3'),
      plName: 'PL-3',
      fileSystem: 'PL-3',
      fileMode: 0o604,
      dirMode: 0o711,
      owner: { uid: 4321, gid: 4322 },
    });
    const s = store({ ...layout, maxRecords: 2 });
    await s.store(acrs[0]!);
    // the open file already has its rights, before it is closed
    const open = statSync(join(layout.directory, readdirSync(layout.directory)[0]!));
    expect(open.mode & 0o777).toBe(0o604);
    await s.store(acrs[1]!);
    const [closed] = s.closedFiles;
    expect(closed!.path.startsWith(`${join(dir, 'MtasMcidInfo', 'PL-3')}/`)).toBe(true);
    const f = statSync(closed!.path);
    const d = statSync(layout.directory);
    expect(f.mode & 0o777).toBe(0o604);
    expect(d.mode & 0o777).toBe(0o711);
    if (process.getuid?.() === 0) {
      expect([f.uid, f.gid, d.uid, d.gid]).toEqual([4321, 4322, 4321, 4322]);
    } else {
      expect(f.uid).toBe(process.getuid?.()); // not root: the owner setting is not applied
    }
  });

  it('applies the default rights 0640/0750 whatever the umask, and fixes an existing directory', async () => {
    const pl = join(dir, 'MtasMcidInfo', 'PL-1');
    const old = process.umask(0o077);
    try {
      const s = store({ directory: pl });
      await s.store(acrs[0]!);
      await s.flush();
      expect(statSync(pl).mode & 0o777).toBe(0o750);
      expect(statSync(s.closedFiles[0]!.path).mode & 0o777).toBe(0o640);
    } finally {
      process.umask(old);
    }
  });

  it('defaults to the PL-1 layout and rejects an owner without a group', () => {
    const d = parseConfig({});
    if (!d.ok) throw new Error(d.reason);
    expect(acrLayoutOf(d.config).directory).toBe('/var/lib/li/mcid/MtasMcidInfo/PL-1');
    expect(parseConfig({ localStorage: { ownerUid: 5 } })).toMatchObject({
      ok: false,
      field: '/localStorage/ownerGid',
    });
    expect(parseConfig({ localStorage: { fileMode: '0999' } })).toMatchObject({
      ok: false,
      field: '/localStorage/fileMode',
    });
  });
});
