// The disk spool: records the publisher could not hand to Kafka, kept in order in append-only
// segment files under one directory until Kafka acknowledges them. Each record is framed as
// [u32 length][u32 crc32][payload] so a tail torn by a crash is found at open and cut off
// (reported, never replayed as garbage). A `head` file remembers how far Kafka acknowledged,
// so a restart does not send the acknowledged part of a segment again. Bounded by maxBytes of
// segment files on disk: a record that does not fit is refused and the caller counts it.
// Synchronous I/O: records are small, and it keeps appends and reads in program order.
// Durability (domain/spool-policy.ts SpoolFsync): 'always' fdatasyncs each append() call (one
// publisher batch: a group commit) and the directory when a segment is created, so what append
// returned survives a power cut; 'interval' syncs the open segment every period; 'never' leaves
// it to the kernel's writeback (a power cut can lose the last ~30 s of spooled records).
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { OutputRecord } from '@li/bus';
import { type SpoolFsync, spoolAdmits, syncAfterAppend } from '../domain/spool-policy.ts';

/** The two syscalls the durability policy makes: a seam so tests can count them. */
export interface SpoolSyncer {
  /** Flushes a file's data (and the metadata needed to read it back) to stable storage. */
  data(fd: number): void;
  /** Flushes a directory, so a file created in it is found after a power cut. */
  directory(path: string): void;
}

const fsSyncer: SpoolSyncer = {
  data: (fd) => fdatasyncSync(fd),
  directory(path) {
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  },
};

export interface SpoolOptions {
  directory: string;
  /** Octets of segment files the spool may hold on disk. */
  maxBytes: number;
  /** A segment is closed and a new one started beyond this size; default min(maxBytes / 4, 16 MiB). */
  segmentBytes?: number;
  /** A damaged record (torn tail after a crash, or corruption) was found and skipped. */
  onCorrupt?(reason: string): void;
  /** A write or sync failed (disk full, I/O error): the records of that append were refused. */
  onIoError?(reason: string): void;
  /** When appended records reach stable storage; default 'always'. */
  fsync?: SpoolFsync;
  /** Default: fdatasync(2) and fsync(2) of the directory. */
  syncer?: SpoolSyncer;
}

interface Segment {
  id: number;
  path: string;
  size: number;
  /** Records in this segment not yet acknowledged. */
  records: number;
}

const FRAME_HEADER = 8;

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

/** writeSync until every octet is written (a disk near full may take part of a buffer). */
function writeFullSync(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position + done);
}
const SEGMENT_SUFFIX = '.seg';

function encode(r: OutputRecord): Buffer {
  const payload = Buffer.from(
    JSON.stringify({ t: r.topic, k: r.key, v: r.value === null ? null : r.value.toString('base64'), h: r.headers }),
  );
  const frame = Buffer.allocUnsafe(FRAME_HEADER + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.writeUInt32BE(crc32(payload), 4);
  payload.copy(frame, FRAME_HEADER);
  return frame;
}

function decode(payload: Buffer): OutputRecord {
  const o = JSON.parse(payload.toString()) as {
    t: string;
    k: string | null;
    v: string | null;
    h?: Record<string, string>;
  };
  const r: OutputRecord = { topic: o.t, key: o.k, value: o.v === null ? null : Buffer.from(o.v, 'base64') };
  if (o.h) r.headers = o.h;
  return r;
}

/** Reads the frame at `offset` of an open file: the record and its end, or why it is unusable. */
function readFrame(
  fd: number,
  offset: number,
  size: number,
): { ok: true; record: OutputRecord; end: number } | { ok: false; reason: string } {
  if (size - offset < FRAME_HEADER) return { ok: false, reason: 'torn record header' };
  const header = Buffer.alloc(FRAME_HEADER);
  readSync(fd, header, 0, FRAME_HEADER, offset);
  const length = header.readUInt32BE(0);
  if (length > size - offset - FRAME_HEADER) return { ok: false, reason: 'torn record' };
  const payload = Buffer.alloc(length);
  readSync(fd, payload, 0, length, offset + FRAME_HEADER);
  if (crc32(payload) !== header.readUInt32BE(4)) return { ok: false, reason: 'record checksum mismatch' };
  try {
    return { ok: true, record: decode(payload), end: offset + FRAME_HEADER + length };
  } catch {
    return { ok: false, reason: 'record not decodable' };
  }
}

export class DiskSpool {
  private readonly o: SpoolOptions;
  private readonly segmentBytes: number;
  private segments: Segment[] = [];
  /** Offset of the first unacknowledged record in segments[0]. */
  private headOffset = 0;
  private writeFd: number | undefined;
  /** Ends of the records the last peek returned, for commit. */
  private peeked: number[] = [];
  private lockPath: string;
  private readonly fsync: SpoolFsync;
  private readonly syncer: SpoolSyncer;
  /** Appended since the last sync of the open segment ('interval'). */
  private dirty = false;
  private syncTimer: NodeJS.Timeout | undefined;
  #bytes = 0;
  #records = 0;
  #syncFailures = 0;

  /** Opens (creating) the spool directory and recovers what a previous run left. */
  constructor(options: SpoolOptions) {
    this.o = options;
    this.segmentBytes = options.segmentBytes ?? Math.max(64 * 1024, Math.min(options.maxBytes / 4, 16 * 1024 * 1024));
    mkdirSync(options.directory, { recursive: true });
    this.lockPath = join(options.directory, 'lock');
    this.fsync = options.fsync ?? { mode: 'always' };
    this.syncer = options.syncer ?? fsSyncer;
    this.lock();
    this.recover();
    if (this.fsync.mode === 'interval') {
      this.syncTimer = setInterval(() => this.trySync(), this.fsync.intervalMs);
      this.syncTimer.unref();
    }
  }

  /** Syncs the open segment if anything was appended since its last sync. */
  syncNow(): void {
    if (!this.dirty || this.writeFd === undefined) return;
    this.syncer.data(this.writeFd);
    this.dirty = false;
  }

  /** syncNow, reporting a failure instead of throwing. */
  private trySync(): void {
    try {
      this.syncNow();
    } catch (err) {
      this.#syncFailures++;
      this.o.onIoError?.(`sync: ${errorCode(err)}`);
    }
  }

  /** Cuts the open segment back to what its accounting says (after a short or failed write). */
  private cutTail(): void {
    const seg = this.segments.at(-1);
    if (!seg || this.writeFd === undefined) return;
    try {
      ftruncateSync(this.writeFd, seg.size);
    } catch {
      // the torn frame is found by its checksum at the next start
    }
  }

  /** Octets of segment files on disk. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Records waiting for Kafka. */
  get records(): number {
    return this.#records;
  }

  get maxBytes(): number {
    return this.o.maxBytes;
  }

  /** Syncs that failed since the start (records appended around them may not survive a power cut). */
  get syncFailures(): number {
    return this.#syncFailures;
  }

  /**
   * Appends in order; returns how many records did not fit (the caller counts them as dropped).
   * The first record that does not fit refuses the rest of the call too: what is kept is a
   * prefix, so the spool never holds a record whose predecessor in the call it refused.
   */
  append(records: readonly OutputRecord[]): number {
    let refused = 0;
    for (const [i, r] of records.entries()) {
      const frame = encode(r);
      if (!spoolAdmits(this.#bytes, frame.length, this.o.maxBytes)) {
        refused = records.length - i;
        break;
      }
      let seg: Segment;
      try {
        seg = this.writable();
        writeFullSync(this.writeFd as number, frame, seg.size);
      } catch (err) {
        // Disk full or failing: refuse this record and the rest (a prefix is kept, as above).
        this.o.onIoError?.(errorCode(err));
        this.cutTail();
        refused = records.length - i;
        break;
      }
      seg.size += frame.length;
      seg.records++;
      this.#bytes += frame.length;
      this.#records++;
      this.dirty = true;
    }
    // A failed sync leaves the records spooled (they are sent when Kafka is back) but not durable:
    // syncFailures tells the publisher not to vouch for them.
    if (syncAfterAppend(this.fsync)) this.trySync();
    return refused;
  }

  /** Up to max records from the head, oldest first; they stay spooled until commit. */
  peek(max: number): OutputRecord[] {
    this.peeked = [];
    const out: OutputRecord[] = [];
    while (out.length === 0 && this.segments.length > 0) {
      const seg = this.segments[0] as Segment;
      const fd = openSync(seg.path, 'r');
      try {
        let offset = this.headOffset;
        while (out.length < max && offset < seg.size) {
          const f = readFrame(fd, offset, seg.size);
          if (!f.ok) {
            // The rest of this segment cannot be framed: report it and skip to the next one.
            this.o.onCorrupt?.(f.reason);
            this.#records -= seg.records - out.length;
            seg.records = out.length;
            this.#bytes -= seg.size - offset;
            seg.size = offset;
            break;
          }
          out.push(f.record);
          this.peeked.push(f.end);
          offset = f.end;
        }
      } finally {
        closeSync(fd);
      }
      if (out.length === 0) this.dropHeadSegment();
    }
    return out;
  }

  /** Kafka acknowledged the first n records of the last peek: forget them. */
  commit(n: number): void {
    if (n <= 0) return;
    const end = this.peeked[n - 1];
    const seg = this.segments[0];
    if (end === undefined || !seg) throw new Error('spool commit beyond what was peeked');
    this.peeked = this.peeked.slice(n);
    this.headOffset = end;
    seg.records -= n;
    this.#records -= n;
    if (seg.records === 0 && this.headOffset >= seg.size) this.dropHeadSegment();
    else this.saveHead();
  }

  close(): void {
    clearInterval(this.syncTimer);
    if (this.fsync.mode !== 'never') this.trySync();
    if (this.writeFd !== undefined) closeSync(this.writeFd);
    this.writeFd = undefined;
    rmSync(this.lockPath, { force: true });
  }

  /** One process per directory: a second ingest on the same spool would interleave records. */
  private lock(): void {
    try {
      writeFileSync(this.lockPath, String(process.pid), { flag: 'wx' });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number(readFileSync(this.lockPath, 'utf8'));
    let alive = false;
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch {
        alive = false;
      }
    }
    if (alive) throw new Error(`spool directory ${this.o.directory} is in use by process ${pid}`);
    writeFileSync(this.lockPath, String(process.pid));
  }

  private recover(): void {
    const dir = this.o.directory;
    const ids = readdirSync(dir)
      .filter((f) => f.endsWith(SEGMENT_SUFFIX))
      .map((f) => Number(f.slice(0, -SEGMENT_SUFFIX.length)))
      .filter((id) => Number.isInteger(id))
      .sort((a, b) => a - b);
    const headPath = join(dir, 'head');
    let head = { segment: -1, offset: 0 };
    if (existsSync(headPath)) {
      try {
        head = JSON.parse(readFileSync(headPath, 'utf8')) as typeof head;
      } catch {
        this.o.onCorrupt?.('unreadable head file; replaying whole segments');
      }
    }
    for (const id of ids) {
      const path = join(dir, `${String(id).padStart(16, '0')}${SEGMENT_SUFFIX}`);
      if (id < head.segment) {
        rmSync(path, { force: true });
        continue;
      }
      const start = id === head.segment ? head.offset : 0;
      const size = statSync(path).size;
      const fd = openSync(path, 'r+');
      let offset = start;
      let records = 0;
      try {
        while (offset < size) {
          const f = readFrame(fd, offset, size);
          if (!f.ok) {
            this.o.onCorrupt?.(`${f.reason} at restart; ${size - offset} octets cut off`);
            ftruncateSync(fd, offset);
            break;
          }
          records++;
          offset = f.end;
        }
      } finally {
        closeSync(fd);
      }
      if (this.segments.length === 0) this.headOffset = start;
      this.segments.push({ id, path, size: offset, records });
      this.#bytes += offset;
      this.#records += records;
    }
    // Segments that hold nothing left to send go at once.
    while (this.segments[0] && this.segments[0].records === 0) this.dropHeadSegment();
  }

  /** The segment to append to, opening a new one when there is none or the last is full. */
  private writable(): Segment {
    const last = this.segments.at(-1);
    if (last && last.size < this.segmentBytes && this.writeFd !== undefined) return last;
    // a full segment's last records reach the disk before it is left behind
    if (this.fsync.mode !== 'never') this.trySync();
    if (this.writeFd !== undefined) closeSync(this.writeFd);
    this.writeFd = undefined;
    this.dirty = false;
    const id = (last?.id ?? -1) + 1;
    const seg: Segment = {
      id,
      path: join(this.o.directory, `${String(id).padStart(16, '0')}${SEGMENT_SUFFIX}`),
      size: 0,
      records: 0,
    };
    const fd = openSync(seg.path, 'w');
    if (this.segments.length === 0) this.headOffset = 0;
    this.segments.push(seg);
    this.writeFd = fd;
    // the new file's name must survive too, or its synced records are not found after a power cut
    if (syncAfterAppend(this.fsync)) {
      try {
        this.syncer.directory(this.o.directory);
      } catch (err) {
        this.#syncFailures++;
        this.o.onIoError?.(`directory sync: ${errorCode(err)}`);
      }
    }
    return seg;
  }

  private dropHeadSegment(): void {
    const seg = this.segments.shift();
    if (!seg) return;
    if (this.segments.length === 0 && this.writeFd !== undefined) {
      closeSync(this.writeFd);
      this.writeFd = undefined;
      this.dirty = false; // every record in it was acknowledged by Kafka
    }
    rmSync(seg.path, { force: true });
    this.#bytes -= seg.size;
    this.#records -= seg.records;
    this.headOffset = 0;
    this.peeked = [];
    this.saveHead();
  }

  private saveHead(): void {
    const headPath = join(this.o.directory, 'head');
    const seg = this.segments[0];
    try {
      if (!seg) rmSync(headPath, { force: true });
      else writeFileSync(headPath, JSON.stringify({ segment: seg.id, offset: this.headOffset }));
    } catch (err) {
      // Only costs duplicates: a restart sends again what Kafka had acknowledged (at least once).
      this.o.onIoError?.(`head: ${errorCode(err)}`);
    }
  }
}
