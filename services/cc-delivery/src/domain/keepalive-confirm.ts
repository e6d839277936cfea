// When to send an extra keep-alive that confirms records on a TS 102 232-1 connection without PDU
// acknowledgement. An answered keep-alive proves the LEMF read everything written before it (TCP
// delivers in order, the LEMF handles PDUs in order), so records count as confirmed — and their
// offsets may be committed — only once one written after them is answered. Waiting for the
// periodic keep-alive would hold commits for a whole period, so one goes out as soon as the
// connection has been idle for `idleMs` with records written since the last keep-alive, and one
// every `everyBytes` or `everyRecords` written while data flows (so a keep-alive answer frees the
// resend window, and the records the consumer counts against its high water, before either fills
// and back-pressure stops the writes: stopped writes would wait out `idleMs` for their answer).
import type { Clock } from '@li/core';

export interface ConfirmTriggerOptions {
  idleMs: number;
  /** Bytes written since the last keep-alive that make one go out at once (e.g. half the window). */
  everyBytes: number;
  /** Records written since the last keep-alive that make one go out at once (e.g. half the high water). */
  everyRecords?: number;
  clock: Clock;
  /** Sends a keep-alive now (which calls keepaliveSent). */
  fire: () => void;
}

export class ConfirmTrigger {
  readonly #o: ConfirmTriggerOptions;
  /** Bytes written since the last keep-alive: not yet covered by any. */
  #since = 0;
  #recordsSince = 0;
  #cancelIdle: (() => void) | null = null;
  #stopped = false;

  constructor(o: ConfirmTriggerOptions) {
    this.#o = o;
  }

  /** `records` records of `bytes` were handed to the socket. */
  wrote(bytes: number, records = 1): void {
    if (this.#stopped) return;
    this.#since += bytes;
    this.#recordsSince += records;
    if (this.#since >= this.#o.everyBytes || this.#recordsSince >= (this.#o.everyRecords ?? Number.POSITIVE_INFINITY)) {
      this.flush();
      return;
    }
    this.#cancelIdle?.();
    this.#cancelIdle = this.#o.clock.setTimeout(() => {
      this.#cancelIdle = null;
      this.flush();
    }, this.#o.idleMs);
  }

  /** A keep-alive (periodic or ours) went out: it covers everything written so far. */
  keepaliveSent(): void {
    this.#since = 0;
    this.#recordsSince = 0;
    this.#cancelIdle?.();
    this.#cancelIdle = null;
  }

  /** Sends a keep-alive now if anything written is not covered by one yet (e.g. the window is full). */
  flush(): void {
    if (this.#stopped || this.#since === 0) return;
    this.#o.fire();
  }

  /** Bytes written and not covered by a keep-alive yet. */
  uncovered(): number {
    return this.#since;
  }

  stop(): void {
    this.#stopped = true;
    this.#cancelIdle?.();
    this.#cancelIdle = null;
  }
}
