// The disk spool: records the publisher could not hand to Kafka, kept in order in append-only
// segment files under one directory until Kafka acknowledges them. Each record is framed as
// [u32 length][u32 crc32][payload] so a tail torn by a crash is found at open and cut off
// (reported, never replayed as garbage). A `head` file remembers how far Kafka acknowledged,
// so a restart does not send the acknowledged part of a segment again. Bounded by maxBytes of
// segment files on disk: a record that does not fit is refused and the caller counts it.
// Synchronous I/O: records are small, and it keeps appends and reads in program order.
import {
  closeSync,
  existsSync,
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
import { spoolAdmits } from '../domain/spool-policy.ts';

export interface SpoolOptions {
  directory: string;
  /** Octets of segment files the spool may hold on disk. */
  maxBytes: number;
  /** A segment is closed and a new one started beyond this size; default min(maxBytes / 4, 16 MiB). */
  segmentBytes?: number;
  /** A damaged record (torn tail after a crash, or corruption) was found and skipped. */
  onCorrupt?(reason: string): void;
}

interface Segment {
  id: number;
  path: string;
  size: number;
  /** Records in this segment not yet acknowledged. */
  records: number;
}

const FRAME_HEADER = 8;
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
  #bytes = 0;
  #records = 0;

  /** Opens (creating) the spool directory and recovers what a previous run left. */
  constructor(options: SpoolOptions) {
    this.o = options;
    this.segmentBytes = options.segmentBytes ?? Math.max(64 * 1024, Math.min(options.maxBytes / 4, 16 * 1024 * 1024));
    mkdirSync(options.directory, { recursive: true });
    this.lockPath = join(options.directory, 'lock');
    this.lock();
    this.recover();
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

  /**
   * Appends in order; returns how many records did not fit (the caller counts them as dropped).
   * The first record that does not fit refuses the rest of the call too: what is kept is a
   * prefix, so the spool never holds a record whose predecessor in the call it refused.
   */
  append(records: readonly OutputRecord[]): number {
    for (const [i, r] of records.entries()) {
      const frame = encode(r);
      if (!spoolAdmits(this.#bytes, frame.length, this.o.maxBytes)) return records.length - i;
      const seg = this.writable();
      writeSync(this.writeFd as number, frame, 0, frame.length, seg.size);
      seg.size += frame.length;
      seg.records++;
      this.#bytes += frame.length;
      this.#records++;
    }
    return 0;
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
    let last = this.segments.at(-1);
    if (!last || last.size >= this.segmentBytes || this.writeFd === undefined) {
      if (this.writeFd !== undefined) closeSync(this.writeFd);
      const id = (last?.id ?? -1) + 1;
      last = {
        id,
        path: join(this.o.directory, `${String(id).padStart(16, '0')}${SEGMENT_SUFFIX}`),
        size: 0,
        records: 0,
      };
      if (this.segments.length === 0) this.headOffset = 0;
      this.segments.push(last);
      this.writeFd = openSync(last.path, 'w');
    }
    return last;
  }

  private dropHeadSegment(): void {
    const seg = this.segments.shift();
    if (!seg) return;
    if (this.segments.length === 0 && this.writeFd !== undefined) {
      closeSync(this.writeFd);
      this.writeFd = undefined;
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
    if (!seg) rmSync(headPath, { force: true });
    else writeFileSync(headPath, JSON.stringify({ segment: seg.id, offset: this.headOffset }));
  }
}
