// TS 102 232-1 cl. 6.3.4 keep-alive, on an injected clock. A keep-alive goes out every period
// (and at once on sendNow, to confirm records: keepalive-confirm.ts), is never queued behind
// data, and each response is matched by its own sequence number.
// A response can still sit behind bytes already in the kernel's socket buffers; while the LEMF
// visibly drains those (onProgress), the wait restarts instead of tearing down a working link.
import type { Clock } from '@li/core';

export interface KeepaliveOptions {
  intervalMs: number;
  timeoutMs: number;
  clock: Clock;
  /** Writes keep-alive `seq` straight to the connection. */
  send: (seq: number) => void;
  onTimeout: (seq: number) => void;
  /** Keep-alive `seq` was answered after `ms`. */
  onRtt: (ms: number, seq: number) => void;
}

const SEQ_MOD = 2 ** 32; // keep-alives use their own counter, wrapping like PSHeader.sequenceNumber

export class KeepaliveTimer {
  readonly #o: KeepaliveOptions;
  #seq = 0;
  #outstanding = new Map<number, { sentAt: number; cancel: () => void }>();
  #lastProgressArm = Number.NEGATIVE_INFINITY;
  #cancelTick: (() => void) | null = null;
  #running = false;

  constructor(o: KeepaliveOptions) {
    this.#o = o;
  }

  start(): void {
    if (this.#running || this.#o.intervalMs <= 0) return;
    this.#running = true;
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
    this.#cancelTick?.();
    this.#cancelTick = null;
    for (const o of this.#outstanding.values()) o.cancel();
    this.#outstanding.clear();
  }

  /** Sends a keep-alive now (e.g. to confirm records written since the last one); the period restarts. */
  sendNow(): void {
    if (!this.#running) return;
    this.#cancelTick?.();
    this.#fire();
  }

  outstanding(): number {
    return this.#outstanding.size;
  }

  /** A keep-alive response arrived. Without a sequence number it answers the oldest outstanding one. */
  onResponse(seq?: number): number | null {
    let key = seq;
    if (key === undefined || !this.#outstanding.has(key)) key = this.#outstanding.keys().next().value;
    if (key === undefined) return null;
    const o = this.#outstanding.get(key)!;
    o.cancel();
    this.#outstanding.delete(key);
    const rtt = this.#o.clock.now() - o.sentAt;
    this.#o.onRtt(rtt, key);
    return rtt;
  }

  /**
   * The LEMF consumed data we wrote before (or around) the keep-alive: restart the response wait.
   * Only a write that had to wait for socket buffer space says so; one the kernel took at once
   * says nothing about the LEMF.
   */
  onProgress(): void {
    const now = this.#o.clock.now();
    // re-arming on every drained chunk would churn timers: once per tenth of the timeout is enough
    if (this.#outstanding.size === 0 || now - this.#lastProgressArm < this.#o.timeoutMs / 10) return;
    this.#lastProgressArm = now;
    for (const [seq, o] of this.#outstanding) {
      o.cancel();
      o.cancel = this.#arm(seq);
    }
  }

  #arm(seq: number): () => void {
    return this.#o.clock.setTimeout(() => {
      if (!this.#outstanding.delete(seq) || !this.#running) return;
      this.#o.onTimeout(seq);
    }, this.#o.timeoutMs);
  }

  #schedule(): void {
    this.#cancelTick = this.#o.clock.setTimeout(() => this.#fire(), this.#o.intervalMs);
  }

  #fire(): void {
    if (!this.#running) return;
    const seq = this.#seq;
    this.#seq = (this.#seq + 1) % SEQ_MOD;
    this.#outstanding.set(seq, { sentAt: this.#o.clock.now(), cancel: this.#arm(seq) });
    this.#o.send(seq);
    this.#schedule();
  }
}
