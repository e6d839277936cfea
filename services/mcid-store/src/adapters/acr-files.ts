// Local storage of ACRs in files (seed 003 §2.3.4, §3.4, §3.5): one open file at a time,
// appended with whole Diameter ACR messages (self-delimiting by their length field), fsync'd
// once per batch before any of its records is confirmed, closed by max time, max record count
// or max size, written as *.tmp and renamed on closure. Storing stops at the disk-full percentage and resumes at the not-full one.
// Seed 003 §3.7: the directory and the files get the configured mode and, when we run as root,
// the configured owner, so that other accounts can be given access to them.
import { chmod, chown, type FileHandle, mkdir, open, rename, statfs, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';

/** How full a file system is, in percent of the space usable by us (as `df` shows it). */
export interface DiskUsagePort {
  usedPercent(directory: string): Promise<number>;
}

export const statfsDiskUsage: DiskUsagePort = {
  async usedPercent(directory: string): Promise<number> {
    const s = await statfs(directory);
    const used = s.blocks - s.bfree;
    const usable = used + s.bavail;
    return usable === 0 ? 100 : (100 * used) / usable;
  },
};

export interface AcrFileConfig {
  directory: string;
  /** Label for the metrics (e.g. `PL-1`): one store per file system. */
  fileSystem: string;
  /** Node name in the file names. */
  nodeId: string;
  maxTimeMs: number;
  maxRecords: number;
  maxBytes: number;
  /** Seed 003 §3.5 mtasFunctionFullDiskPercentage. */
  fullDiskPercent: number;
  /** Seed 003 §3.5 mtasFunctionNotFullDiskPercentage (below the full level). */
  notFullDiskPercent: number;
  /** Seed 003 §3.7 access rights: permission bits of the ACR files (default 0o640). */
  fileMode?: number;
  /** Permission bits of the store directory (default 0o750). */
  dirMode?: number;
  /** Owner of the directory and files; applied only when the process runs as root. */
  owner?: { uid: number; gid: number };
}

/** The owner to apply: only root may give files away; otherwise the process keeps them. */
function effectiveOwner(c: AcrFileConfig): { uid: number; gid: number } | null {
  return c.owner && process.getuid?.() === 0 ? c.owner : null;
}

type CloseReason = 'time' | 'records' | 'size' | 'shutdown';

type StoreResult =
  | { ok: true; file: string }
  | { ok: false; code: 'MCD_ERR_DISK_FULL' | 'MCD_ERR_STORAGE_IO' | 'MCD_ERR_CONFIG'; reason: string };

interface AcrFileMetrics {
  requests: Counter<'filesystem' | 'result'>;
  diskFull: Gauge<'filesystem'>;
  closed: Counter<'filesystem' | 'reason'>;
}

/** The counters of seed 003 §2.3.4, registered once per registry. */
function acrFileMetrics(registry: Registry): AcrFileMetrics {
  const existing = registry.getSingleMetric('mcid_acr_storage_requests_total');
  if (existing) {
    return {
      requests: existing as Counter<'filesystem' | 'result'>,
      diskFull: registry.getSingleMetric('mcid_acr_disk_full') as Gauge<'filesystem'>,
      closed: registry.getSingleMetric('mcid_acr_files_closed_total') as Counter<'filesystem' | 'reason'>,
    };
  }
  return {
    requests: new Counter({
      name: 'mcid_acr_storage_requests_total',
      help: 'ACR storage requests per file system, by result (success/failure)',
      labelNames: ['filesystem', 'result'],
      registers: [registry],
    }),
    diskFull: new Gauge({
      name: 'mcid_acr_disk_full',
      help: '1 while the file system is at or above the disk-full level and storing is stopped',
      labelNames: ['filesystem'],
      registers: [registry],
    }),
    closed: new Counter({
      name: 'mcid_acr_files_closed_total',
      help: 'ACR files closed, by closure trigger',
      labelNames: ['filesystem', 'reason'],
      registers: [registry],
    }),
  };
}

interface OpenFile {
  handle: FileHandle;
  tmpPath: string;
  finalPath: string;
  records: number;
  bytes: number;
  timer: NodeJS.Timeout;
}

export class AcrFileStore {
  readonly config: AcrFileConfig;
  private readonly disk: DiskUsagePort;
  private readonly metrics: AcrFileMetrics;
  private readonly now: () => number;
  private current: OpenFile | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private runningCount = 0;
  private prepared = false;
  /** Hysteresis state: true from the full level until usage falls to the not-full level. */
  diskFull = false;
  readonly closedFiles: { path: string; reason: CloseReason; records: number; bytes: number }[] = [];

  constructor(config: AcrFileConfig, deps: { disk?: DiskUsagePort; registry: Registry; now?: () => number }) {
    this.config = config;
    this.disk = deps.disk ?? statfsDiskUsage;
    this.metrics = acrFileMetrics(deps.registry);
    this.now = deps.now ?? Date.now;
    this.metrics.diskFull.set({ filesystem: config.fileSystem }, 0);
  }

  static validate(c: AcrFileConfig): string | null {
    if (!(c.maxRecords >= 1)) return 'maxRecords';
    if (!(c.maxBytes >= 1)) return 'maxBytes';
    if (!(c.maxTimeMs >= 1)) return 'maxTimeMs';
    if (!(c.fullDiskPercent > 0 && c.fullDiskPercent <= 100)) return 'fullDiskPercent';
    if (!(c.notFullDiskPercent >= 0 && c.notFullDiskPercent < c.fullDiskPercent)) return 'notFullDiskPercent';
    return null;
  }

  /** Stores one encoded ACR; requests are serialised so records never interleave. */
  store(acr: Buffer): Promise<StoreResult> {
    return this.storeMany([acr]).then((r) => r[0]!);
  }

  /**
   * Stores several ACRs in order, one result each: one disk check, one write and one sync per
   * file touched, so a batch of reports costs one fsync rather than one per report. A record's
   * result is ok only once its bytes are synced.
   */
  storeMany(acrs: readonly Buffer[]): Promise<StoreResult[]> {
    const run = this.chain.then(() => this.storeNow(acrs));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Closes the open file (management action / shutdown). */
  flush(reason: CloseReason = 'shutdown'): Promise<void> {
    const run = this.chain.then(() => this.closeCurrent(reason));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private count(ok: boolean, n = 1): void {
    if (n > 0) this.metrics.requests.inc({ filesystem: this.config.fileSystem, result: ok ? 'success' : 'failure' }, n);
  }

  private fail(results: StoreResult[], total: number, failure: StoreResult): StoreResult[] {
    this.count(false, total - results.length);
    while (results.length < total) results.push(failure);
    return results;
  }

  private async storeNow(acrs: readonly Buffer[]): Promise<StoreResult[]> {
    const results: StoreResult[] = [];
    if (acrs.length === 0) return results;
    const bad = AcrFileStore.validate(this.config);
    if (bad) return this.fail(results, acrs.length, { ok: false, code: 'MCD_ERR_CONFIG', reason: `invalid ${bad}` });
    // Records appended to the open file but not yet synced.
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const sync = async (): Promise<void> => {
      const f = this.current;
      if (!f || pending.length === 0) return;
      await f.handle.appendFile(pending.length === 1 ? pending[0]! : joined(pending, pendingBytes));
      await f.handle.datasync();
      f.records += pending.length;
      f.bytes += pendingBytes;
      this.count(true, pending.length);
      for (let i = 0; i < pending.length; i++) results.push({ ok: true, file: f.finalPath });
      pending = [];
      pendingBytes = 0;
    };
    try {
      await this.prepareDirectory();
      const used = await this.disk.usedPercent(this.config.directory);
      if (!this.diskFull && used >= this.config.fullDiskPercent) this.diskFull = true;
      else if (this.diskFull && used <= this.config.notFullDiskPercent) this.diskFull = false;
      this.metrics.diskFull.set({ filesystem: this.config.fileSystem }, this.diskFull ? 1 : 0);
      if (this.diskFull) {
        const reason = `file system ${used.toFixed(1)}% used`;
        return this.fail(results, acrs.length, { ok: false, code: 'MCD_ERR_DISK_FULL', reason });
      }
      for (const acr of acrs) {
        const open = this.current;
        // A record that would overflow a non-empty file goes to the next one.
        if (
          open &&
          open.records + pending.length > 0 &&
          open.bytes + pendingBytes + acr.length > this.config.maxBytes
        ) {
          await sync();
          await this.closeCurrent('size');
        }
        const f = this.current ?? (await this.openNext());
        pending.push(acr);
        pendingBytes += acr.length;
        if (f.records + pending.length >= this.config.maxRecords) {
          await sync();
          await this.closeCurrent('records');
        } else if (f.bytes + pendingBytes >= this.config.maxBytes) {
          await sync();
          await this.closeCurrent('size');
        }
      }
      await sync();
      return results;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      // A failed append may have left part of the batch in the file: cut it back to the synced
      // records (or a retried report would be in the files twice, the file ending mid-message)
      // and close it, since the handle's write position is past the cut.
      await this.current?.handle.truncate(this.current.bytes).catch(() => undefined);
      await this.closeCurrent('size').catch(() => undefined);
      if (err.code === 'ENOSPC') {
        // The disk filled between the check and the write: stop until it falls below not-full.
        this.diskFull = true;
        this.metrics.diskFull.set({ filesystem: this.config.fileSystem }, 1);
        return this.fail(results, acrs.length, {
          ok: false,
          code: 'MCD_ERR_DISK_FULL',
          reason: 'no space left on device',
        });
      }
      return this.fail(results, acrs.length, {
        ok: false,
        code: 'MCD_ERR_STORAGE_IO',
        reason: err.code ?? 'write failed',
      });
    }
  }

  private async prepareDirectory(): Promise<void> {
    const mode = this.config.dirMode ?? 0o750;
    await mkdir(this.config.directory, { recursive: true, mode });
    if (this.prepared) return;
    // chmod as well: mkdir's mode is masked by the umask and leaves an existing directory alone
    await chmod(this.config.directory, mode);
    const owner = effectiveOwner(this.config);
    if (owner) await chown(this.config.directory, owner.uid, owner.gid);
    this.prepared = true;
  }

  private async openNext(): Promise<OpenFile> {
    this.runningCount = (this.runningCount % 99_999_999) + 1;
    const name = fileName(this.config.nodeId, this.runningCount, new Date(this.now()));
    const finalPath = join(this.config.directory, name);
    const tmpPath = `${finalPath}.tmp`;
    const mode = this.config.fileMode ?? 0o640;
    const handle = await open(tmpPath, 'wx', mode);
    try {
      await handle.chmod(mode);
      const owner = effectiveOwner(this.config);
      if (owner) await handle.chown(owner.uid, owner.gid);
    } catch (e) {
      await handle.close();
      await unlink(tmpPath).catch(() => undefined);
      throw e;
    }
    const timer = setTimeout(() => {
      this.flush('time').catch(() => undefined);
    }, this.config.maxTimeMs);
    timer.unref();
    this.current = { handle, tmpPath, finalPath, records: 0, bytes: 0, timer };
    return this.current;
  }

  private async closeCurrent(reason: CloseReason): Promise<void> {
    const f = this.current;
    if (!f) return;
    this.current = null;
    clearTimeout(f.timer);
    await f.handle.close();
    if (f.records === 0) {
      await unlink(f.tmpPath).catch(() => undefined); // never leave empty files
      return;
    }
    await rename(f.tmpPath, f.finalPath);
    this.closedFiles.push({ path: f.finalPath, reason, records: f.records, bytes: f.bytes });
    this.metrics.closed.inc({ filesystem: this.config.fileSystem, reason });
  }
}

/** `<node>_-_<count>.<YYYYMMDD>_-_<hhmmss>+0000.acr` (TS 32.297-style, UTC). */
export function fileName(nodeId: string, count: number, at: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const day = `${at.getUTCFullYear()}${p(at.getUTCMonth() + 1)}${p(at.getUTCDate())}`;
  const time = `${p(at.getUTCHours())}${p(at.getUTCMinutes())}${p(at.getUTCSeconds())}`;
  return `${nodeId}_-_${p(count, 8)}.${day}_-_${time}+0000.acr`;
}

/** Buffer.concat with TypedArray set: Buffer's own copy per small ACR showed in the profile. */
function joined(parts: readonly Buffer[], bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
