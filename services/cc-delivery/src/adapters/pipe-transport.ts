// PIPE (seed 000): reports go to a long-running external program's stdin, which converts them
// to what the local LEA needs. Back-pressure: wait for 'drain'; confirmed when the write callback
// fired (bytes handed to the pipe). A program that dies is restarted with back-off.
import { type ChildProcess, spawn } from 'node:child_process';
import type { Clock } from '@li/core';
import { type BackoffPolicy, backoffDelay } from '../domain/backoff.ts';
import type { DeliveryTransport, OutboundBatch, SendOutcome, TransportStatus } from '../domain/types.ts';
import { type DeliveryError, dlvError } from '../errors.ts';

export interface PipeOptions {
  command: string;
  args: string[];
  /** Run as this user / group (the operator's allow-list entry); default cc-delivery's own. */
  uid?: number;
  gid?: number;
  /** raw: bytes back-to-back; length32: 4-byte big-endian length before each record. */
  framing: 'raw' | 'length32';
  clock: Clock;
  backoff: BackoffPolicy;
  random?: () => number;
}

export class PipeTransport implements DeliveryTransport {
  readonly kind = 'PIPE';
  readonly #o: PipeOptions;
  #child: ChildProcess | null = null;
  #up = false;
  #closed = true;
  #attempt = 0;
  #cancelRestart: (() => void) | null = null;
  #exited: Promise<'exit'> = Promise.resolve('exit');
  #resolveExit: (() => void) | null = null;
  #st: TransportStatus = { connected: false, lastError: null, lastErrorAt: null, keepaliveRttMs: null, resent: 0 };
  restarts = 0;
  /** How often a write had to wait for 'drain' (the program reads slower than we write). */
  backpressureWaits = 0;

  constructor(o: PipeOptions) {
    this.#o = o;
  }

  start(): void {
    if (!this.#closed) return;
    this.#closed = false;
    this.#spawn();
  }

  #spawn(): void {
    this.#cancelRestart = null;
    if (this.#closed) return;
    let child: ChildProcess;
    try {
      // An empty environment: cc-delivery's variables (broker, registry, secrets paths) are not the program's.
      child = spawn(this.#o.command, this.#o.args, {
        stdio: ['pipe', 'ignore', 'ignore'],
        env: {},
        ...(this.#o.uid !== undefined ? { uid: this.#o.uid } : {}),
        ...(this.#o.gid !== undefined ? { gid: this.#o.gid } : {}),
      });
    } catch (e) {
      this.#note(dlvError('DLV_ERR_PIPE', (e as Error).message));
      this.#scheduleRestart();
      return;
    }
    this.#child = child;
    this.#up = true;
    this.#exited = new Promise<'exit'>((resolve) => {
      this.#resolveExit = () => resolve('exit');
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      this.#note(dlvError('DLV_ERR_PIPE', e.code ?? 'spawn failed'));
      this.#down(child);
    });
    child.stdin?.on('error', (e: NodeJS.ErrnoException) => this.#note(dlvError('DLV_ERR_PIPE', e.code ?? 'stdin')));
    child.on('exit', (code, signal) => {
      if (!this.#closed) this.#note(dlvError('DLV_ERR_PIPE', `program exited (${signal ?? code})`));
      this.#down(child);
    });
  }

  #down(child: ChildProcess): void {
    if (this.#child !== child) return;
    this.#child = null;
    this.#up = false;
    this.#resolveExit?.();
    this.#resolveExit = null;
    this.#scheduleRestart();
  }

  #scheduleRestart(): void {
    if (this.#closed || this.#cancelRestart) return;
    this.restarts++;
    this.#cancelRestart = this.#o.clock.setTimeout(
      () => this.#spawn(),
      backoffDelay(this.#o.backoff, this.#attempt++, this.#o.random),
    );
  }

  async send(batch: OutboundBatch): Promise<SendOutcome> {
    const child = this.#child;
    const stdin = child?.stdin;
    if (!this.#up || !child || !stdin || stdin.destroyed) {
      return { confirmed: 0, error: this.#st.lastError ?? dlvError('DLV_ERR_PIPE', 'not running') };
    }
    const exited = this.#exited;
    const results: Promise<Error | null | 'exit'>[] = [];
    for (const r of batch.records) {
      if (!this.#up) break;
      const data = this.#o.framing === 'length32' ? withLength(r.bytes) : r.bytes;
      let ok = true;
      const written = new Promise<Error | null>((resolve) => {
        ok = stdin.write(data, (err) => resolve(err ?? null));
      });
      results.push(Promise.race([written, exited]));
      // back-pressure: the program reads slower than we write
      if (!ok) this.backpressureWaits++;
      if (!ok) await Promise.race([new Promise<void>((res) => stdin.once('drain', () => res())), exited]);
    }
    const outcome = await Promise.all(results);
    let confirmed = 0;
    while (confirmed < outcome.length && outcome[confirmed] === null) confirmed++;
    const failed = outcome.some((o) => o instanceof Error) ? dlvError('DLV_ERR_PIPE', 'write failed') : null;
    if (confirmed === batch.records.length) {
      this.#attempt = 0;
      this.#st.connected = true;
      return { confirmed, error: null };
    }
    return { confirmed, error: failed ?? this.#st.lastError ?? dlvError('DLV_ERR_PIPE') };
  }

  status(): TransportStatus {
    return { ...this.#st, connected: this.#up };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#cancelRestart?.();
    const child = this.#child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.stdin?.end();
      const t = setTimeout(() => child.kill('SIGTERM'), 2000);
      t.unref();
    });
  }

  #note(e: DeliveryError): void {
    this.#st.lastError = e;
    this.#st.lastErrorAt = this.#o.clock.now();
  }
}

function withLength(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + 4);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}
