// Per-LEMF delivery: one instance per LEMF so an outage of one never slows another. Inside a LEMF
// each stream (HI2, HI3, REPORT; or the files of a file transport) is its own lane, so a dead HI3
// connection does not hold back HI2. A lane sends in arrival order (so per-LIID order holds),
// retries from its first unconfirmed record with back-off, and offsets advance only over confirmed
// records. A transport may accept records and confirm them later (ETSI TCP without PDU
// acknowledgement: an answered keep-alive); they leave the lane but stay pending until then.

import type { Clock } from '@li/core';
import { type DeliveryError, dlvError, type Result } from '../errors.ts';
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';
import { type BatchOutput, type BatchPolicy, FileBatcher } from './batcher.ts';
import { splitLemfKey } from './lemf-key.ts';
import { type CommitPoint, OffsetTracker } from './offsets.ts';
import type { DeliveryRecord, DeliveryTransport, OutboundBatch, SendOutcome, Stream } from './types.ts';

export interface DeliveryObserver {
  sent?(stream: Stream, records: number, bytes: number): void;
  retry?(error: DeliveryError): void;
  error?(error: DeliveryError, at: number): void;
  /** A record this transport can never deliver: the wiring sends it to li.<t>.dlq with the reason. */
  deadLetter?(record: DeliveryRecord, error: DeliveryError): void;
  committable?(points: CommitPoint[]): void;
  /**
   * A file of `liid` took number `seq`: persist `seq + 1` (e.g. a compacted topic) and pass it back
   * as `fileSeqStart` after a restart, so a file name is never reused (HI2-HI3-delivery.md §7).
   * A returned promise holds the file's upload until it resolves: the number is saved before the
   * name is used, so a crash can skip a number but never reuse one. A rejection is retried.
   */
  fileSeqUsed?(liid: string, seq: number): void | Promise<void>;
}

export interface LemfDeliveryOptions {
  /** The wiring's key, <tenant>/<LEMF id> (lemf-key.ts). */
  lemfId: string;
  transport: DeliveryTransport;
  clock: Clock;
  random?: () => number;
  backoff?: BackoffPolicy;
  /** Records per send for streaming transports. Small batches keep the socket buffer (and keep-alive latency) short. */
  maxBatchRecords?: number;
  /** File transports: group records into files per LIID. */
  batching?: BatchPolicy | null;
  /** Next file number per LIID, as persisted from `fileSeqUsed`. */
  fileSeqStart?: Record<string, number>;
  observer?: DeliveryObserver;
  /**
   * What the LEMF's settings make of a record before it is queued (its timestamp profile). A
   * failure dead-letters that record; the rest goes on.
   */
  prepare?(record: DeliveryRecord): Result<DeliveryRecord>;
}

export interface LemfStatus {
  lemfId: string;
  transport: string;
  connected: boolean;
  lastErrorCode: string | null;
  lastErrorMessage: string | null;
  lastErrorAt: number | null;
  retries: number;
  pending: number;
  recordsSent: number;
  bytesSent: number;
  deadLettered: number;
  resent: number;
  keepaliveRttMs: number | null;
}

type LaneKey = Stream | 'FILES';

interface QueuedFile {
  batch: OutboundBatch;
  /** Resolves once the file's number is saved: null, or the error to retry on. */
  saved: Promise<DeliveryError | null> | null;
}

interface Lane {
  key: LaneKey;
  // queue with a moving head: splice/shift at the front of a large array is O(n) per batch
  records: DeliveryRecord[];
  head: number;
  files: QueuedFile[];
  pumping: Promise<void> | null;
  attempt: number;
  sleeping: boolean;
  cancelSleep: (() => void) | null;
}

export class LemfDelivery {
  readonly #o: LemfDeliveryOptions;
  #transport: DeliveryTransport;
  readonly #offsets = new OffsetTracker();
  readonly #lanes = new Map<LaneKey, Lane>();
  readonly #batcher: FileBatcher | null;
  #stopped = false;
  #swapping = false;
  #cancelBatchTimer: (() => void) | null = null;
  #batchTimerAt: number | null = null;
  #idle: (() => void)[] = [];
  #s = { retries: 0, recordsSent: 0, bytesSent: 0, deadLettered: 0 };
  #lastError: DeliveryError | null = null;
  #lastErrorAt: number | null = null;

  constructor(o: LemfDeliveryOptions) {
    this.#o = o;
    this.#transport = o.transport;
    // {lemf} in a file name is the LEMF's own id: the key's `<tenant>/` would make every name unsafe
    this.#batcher = o.batching ? new FileBatcher(o.batching, splitLemfKey(o.lemfId).lemf, o.fileSeqStart) : null;
  }

  start(): void {
    this.#transport.start(this.#confirmedLater);
  }

  /**
   * Live config change: swap the transport; queued records stay and go out on the new one, and so
   * do those the old one accepted but never confirmed (ahead of the queue: they came first).
   */
  async replaceTransport(next: DeliveryTransport): Promise<void> {
    const old = this.#transport;
    this.#transport = next;
    next.start(this.#confirmedLater);
    // lanes pause: records go back in front of a queue no send is working on
    this.#swapping = true;
    for (const lane of this.#lanes.values()) lane.cancelSleep?.();
    await old.close();
    await Promise.all([...this.#lanes.values()].map((l) => l.pumping));
    this.#swapping = false;
    const back = old.unconfirmed?.() ?? [];
    for (const key of new Set(back.map((r) => r.stream))) {
      const lane = this.#lane(key);
      lane.records = [...back.filter((r) => r.stream === key), ...lane.records.slice(lane.head)];
      lane.head = 0;
    }
    for (const lane of this.#lanes.values()) this.#kick(lane);
  }

  /** Records a transport accepted earlier, now confirmed by the LEMF: their offsets may move. */
  readonly #confirmedLater = (records: readonly DeliveryRecord[]): void => {
    this.#countConfirmed(records);
    this.#notifyIdle();
  };

  /** Accepts records (in source order) for this LEMF. Records for another LEMF are dead-lettered. */
  offer(records: readonly DeliveryRecord[]): void {
    const now = this.#o.clock.now();
    const touched = new Set<Lane>();
    for (const r of records) {
      if (r.lemfId !== this.#o.lemfId) {
        this.#o.observer?.deadLetter?.(r, dlvError('DLV_ERR_BAD_RECORD', 'record addressed to another LEMF'));
        continue;
      }
      // Read again (kafkajs restarted the consumer from the committed offset after a broker
      // outage, or a rebalance): already queued or confirmed by the LEMF, so not sent twice.
      if (!this.#offsets.track(r.source)) continue;
      const ready = this.#o.prepare ? this.#o.prepare(r) : null;
      if (ready && !ready.ok) {
        this.#deadLetter(r, ready.error);
        continue;
      }
      const record = ready ? ready.value : r;
      if (this.#batcher) {
        this.#takeBatches(this.#batcher.add(record, now));
      } else {
        const lane = this.#lane(record.stream);
        lane.records.push(record);
        touched.add(lane);
      }
    }
    this.#armBatchTimer();
    for (const lane of touched) this.#kick(lane);
  }

  /** Closes open files now (shutdown). */
  flushFiles(): void {
    if (this.#batcher) this.#takeBatches(this.#batcher.flushAll(this.#o.clock.now()));
  }

  /**
   * A rebalance is starting (another process may take this LEMF's partitions): open files close
   * now, and this resolves once their numbers are saved, so a next owner reading the numbers
   * after the rebalance sees them.
   */
  async closeFiles(): Promise<void> {
    this.flushFiles();
    await Promise.all((this.#lanes.get('FILES')?.files ?? []).map((f) => f.saved));
  }

  /** A file transport: its records go out in numbered files. */
  batchesFiles(): boolean {
    return this.#batcher !== null;
  }

  /** File numbers another process stored (a partition moved here); see FileBatcher.raiseSeq. */
  raiseFileSeq(next: Record<string, number>): void {
    this.#batcher?.raiseSeq(next);
  }

  pending(): number {
    return this.#offsets.pendingCount();
  }

  committed(): CommitPoint[] {
    return this.#offsets.committed();
  }

  status(): LemfStatus {
    const t = this.#transport.status();
    const err = pickLatest(this.#lastError, this.#lastErrorAt, t.lastError, t.lastErrorAt);
    return {
      lemfId: this.#o.lemfId,
      transport: this.#transport.kind,
      connected: t.connected,
      lastErrorCode: err.error?.code ?? null,
      lastErrorMessage: err.error?.message ?? null,
      lastErrorAt: err.at,
      retries: this.#s.retries,
      pending: this.pending(),
      recordsSent: this.#s.recordsSent,
      bytesSent: this.#s.bytesSent,
      deadLettered: this.#s.deadLettered,
      resent: t.resent,
      keepaliveRttMs: t.keepaliveRttMs,
    };
  }

  /** Resolves when every offered record is confirmed (or dead-lettered). */
  drained(): Promise<void> {
    if (this.pending() === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelBatchTimer?.();
    for (const lane of this.#lanes.values()) lane.cancelSleep?.();
    await Promise.all([...this.#lanes.values()].map((l) => l.pumping));
    await this.#transport.close();
  }

  #lane(key: LaneKey): Lane {
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = { key, records: [], head: 0, files: [], pumping: null, attempt: 0, sleeping: false, cancelSleep: null };
      this.#lanes.set(key, lane);
    }
    return lane;
  }

  #takeBatches(outs: BatchOutput[]): void {
    const lane = this.#lane('FILES');
    for (const out of outs) {
      if ('batch' in out) {
        const batch = { records: out.batch.records, file: out.batch.file };
        lane.files.push({ batch, saved: this.#saveSeq(batch) });
      } else if (!out.error.ok) {
        for (const r of out.rejected) this.#deadLetter(r, out.error.error);
      }
    }
    if (lane.files.length > 0) this.#kick(lane);
  }

  #saveSeq(batch: OutboundBatch): Promise<DeliveryError | null> | null {
    const file = batch.file;
    if (!file) return null;
    let r: void | Promise<void>;
    try {
      r = this.#o.observer?.fileSeqUsed?.(file.liid, file.seq);
    } catch (e) {
      return Promise.resolve(dlvError('DLV_ERR_STATE', (e as Error).message));
    }
    if (!r || typeof (r as Promise<void>).then !== 'function') return null;
    return r.then(
      () => null,
      (e: unknown) => dlvError('DLV_ERR_STATE', String((e as Error)?.message ?? e).slice(0, 120)),
    );
  }

  #armBatchTimer(): void {
    if (!this.#batcher) return;
    const at = this.#batcher.nextDeadline();
    if (at === null || (this.#batchTimerAt !== null && this.#batchTimerAt <= at)) return;
    this.#cancelBatchTimer?.();
    this.#batchTimerAt = at;
    this.#cancelBatchTimer = this.#o.clock.setTimeout(
      () => {
        this.#batchTimerAt = null;
        this.#cancelBatchTimer = null;
        if (this.#stopped || !this.#batcher) return;
        this.#takeBatches(this.#batcher.due(this.#o.clock.now()));
        this.#armBatchTimer();
      },
      Math.max(0, at - this.#o.clock.now()),
    );
  }

  #kick(lane: Lane): void {
    // during back-off a kick does not cut the wait short; the loop re-checks after it
    if (lane.sleeping || lane.pumping || this.#stopped || this.#swapping) return;
    lane.pumping = this.#pump(lane).finally(() => {
      lane.pumping = null;
      // records offered between the loop's last look and now would otherwise wait for the next offer
      if (this.#next(lane)) this.#kick(lane);
    });
  }

  #next(lane: Lane): OutboundBatch | null {
    if (lane.key === 'FILES') return lane.files[0]?.batch ?? null;
    if (lane.records.length === lane.head) return null;
    return { records: lane.records.slice(lane.head, lane.head + (this.#o.maxBatchRecords ?? 256)), file: null };
  }

  async #pump(lane: Lane): Promise<void> {
    for (;;) {
      if (this.#stopped || this.#swapping) return;
      const batch = this.#next(lane);
      if (!batch) {
        this.#notifyIdle();
        return;
      }
      const queued = lane.key === 'FILES' ? lane.files[0] : undefined;
      if (queued?.saved) {
        // the file's number must be durable before its name is used on the server
        const unsaved = await queued.saved;
        if (this.#stopped) return;
        if (unsaved) {
          queued.saved = null;
          await this.#failed(lane, unsaved);
          queued.saved = this.#saveSeq(queued.batch);
          continue;
        }
        queued.saved = null;
      }
      let out: SendOutcome;
      try {
        out = await this.#transport.send(batch);
      } catch (e) {
        // the port promises never to reject; guard anyway so a buggy adapter cannot crash the service
        out = { confirmed: 0, error: dlvError('DLV_ERR_CONNECTION_LOST', (e as Error).message) };
      }
      const all = batch.records.length;
      const n = batch.file ? (out.confirmed >= all ? all : 0) : Math.max(0, Math.min(out.confirmed, all));
      // accepted, not yet confirmed: the transport resends them itself and confirms them later
      const taken = batch.file ? n : Math.max(n, Math.min(out.accepted ?? n, all));
      this.#confirm(lane, batch, taken, n);
      if (taken >= all) {
        lane.attempt = 0;
        continue;
      }
      const err = out.error ?? dlvError('DLV_ERR_TIMEOUT', 'transport confirmed only part of the batch');
      if (out.rejected) {
        // this record (or this whole file) can never go over this transport: dead-letter, go on
        const bad = batch.file ? batch.records : batch.records.slice(taken, taken + 1);
        this.#remove(lane, batch, bad.length);
        for (const r of bad) this.#deadLetter(r, err);
        continue;
      }
      await this.#failed(lane, err);
    }
  }

  /** Records a failed attempt and waits the lane's back-off. */
  async #failed(lane: Lane, err: DeliveryError): Promise<void> {
    this.#lastError = err;
    this.#lastErrorAt = this.#o.clock.now();
    this.#o.observer?.error?.(err, this.#lastErrorAt);
    this.#s.retries++;
    this.#o.observer?.retry?.(err);
    await this.#sleep(lane, backoffDelay(this.#o.backoff ?? DEFAULT_BACKOFF, lane.attempt++, this.#o.random));
  }

  /** The first `taken` records leave the lane; the first `n` of them are confirmed. */
  #confirm(lane: Lane, batch: OutboundBatch, taken: number, n: number): void {
    if (taken === 0) return;
    this.#remove(lane, batch, taken);
    this.#countConfirmed(batch.records.slice(0, n));
  }

  #countConfirmed(done: readonly DeliveryRecord[]): void {
    if (done.length === 0) return;
    const moved = new Map<string, CommitPoint>();
    const perStream = new Map<Stream, { records: number; bytes: number }>();
    for (const r of done) {
      const p = this.#offsets.confirm(r.source);
      if (p) moved.set(OffsetTracker.key(p), p);
      const s = perStream.get(r.stream) ?? { records: 0, bytes: 0 };
      s.records++;
      s.bytes += r.bytes.length;
      perStream.set(r.stream, s);
      this.#s.recordsSent++;
      this.#s.bytesSent += r.bytes.length;
    }
    for (const [stream, s] of perStream) this.#o.observer?.sent?.(stream, s.records, s.bytes);
    if (moved.size > 0) this.#o.observer?.committable?.([...moved.values()]);
  }

  /** Removes the first n records of the lane (a file goes as a whole). */
  #remove(lane: Lane, batch: OutboundBatch, n: number): void {
    if (batch.file) {
      lane.files.shift();
      return;
    }
    lane.head += n;
    if (lane.head === lane.records.length) {
      lane.records = [];
      lane.head = 0;
    } else if (lane.head > 4096 && lane.head * 2 > lane.records.length) {
      lane.records = lane.records.slice(lane.head);
      lane.head = 0;
    }
  }

  #deadLetter(r: DeliveryRecord, err: DeliveryError): void {
    this.#s.deadLettered++;
    this.#o.observer?.deadLetter?.(r, err);
    const p = this.#offsets.confirm(r.source);
    if (p) this.#o.observer?.committable?.([p]);
    this.#notifyIdle();
  }

  #notifyIdle(): void {
    if (this.pending() !== 0) return;
    const waiters = this.#idle;
    this.#idle = [];
    for (const w of waiters) w();
  }

  #sleep(lane: Lane, ms: number): Promise<void> {
    if (this.#swapping) return Promise.resolve();
    return new Promise((resolve) => {
      lane.sleeping = true;
      const done = () => {
        lane.sleeping = false;
        lane.cancelSleep = null;
        resolve();
      };
      const cancel = this.#o.clock.setTimeout(done, ms);
      lane.cancelSleep = () => {
        cancel();
        done();
      };
    });
  }
}

function pickLatest(
  a: DeliveryError | null,
  aAt: number | null,
  b: DeliveryError | null,
  bAt: number | null,
): { error: DeliveryError | null; at: number | null } {
  if (b && (bAt ?? 0) >= (aAt ?? 0)) return { error: b, at: bAt };
  return { error: a, at: aAt };
}
