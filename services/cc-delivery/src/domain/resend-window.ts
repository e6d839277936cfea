// TS 102 232-1 cl. 6.3.3 resend buffer for a connection that confirms on the socket write (no PDU
// acknowledgement): records the kernel took but the LEMF may not have read, replayed first after
// an unexpected close. Bounded in bytes (the oldest go first, as the clause allows). A keep-alive
// response is a cumulative confirmation: the LEMF answered a keep-alive written after these
// records, and TCP delivers in order, so it has read them and they leave the window.
// Two uses: records confirmed on the write (the oldest are dropped past the bound, as the clause
// allows), or records confirmed only by a keep-alive answer (keepalive-confirm.ts): then nothing
// is ever dropped — the writer waits while the window is `full` (back-pressure).

interface Sized {
  bytes: Uint8Array;
}

export class ResendWindow<R extends Sized> {
  readonly #maxBytes: number;
  readonly #drop: boolean;
  #items: R[] = [];
  /** Index in #items of the oldest record still held. */
  #head = 0;
  /** Position (count of records remembered on this window, ever) of #items[0]. */
  #base = 0;
  #bytes = 0;

  /** maxBytes 0: nothing is kept. dropOldest false: never drops; `full` tells the writer to wait. */
  constructor(maxBytes: number, dropOldest = true) {
    this.#maxBytes = maxBytes;
    this.#drop = dropOldest;
  }

  /** At or over the bound: a writer that must not drop waits for a confirmation. */
  get full(): boolean {
    return this.#maxBytes > 0 && this.#bytes >= this.#maxBytes;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** A record handed to the socket. */
  remember(r: R): void {
    if (this.#maxBytes <= 0) return;
    this.#items.push(r);
    this.#bytes += r.bytes.length;
    // always keep the newest record, even one over the bound on its own
    while (this.#drop && this.size > 1 && this.#bytes - this.#items[this.#head]!.bytes.length >= this.#maxBytes)
      this.#dropOldest();
    this.#compact();
  }

  /** Where the window ends now: confirm(position) later releases every record remembered before it. */
  position(): number {
    return this.#base + this.#items.length;
  }

  /**
   * The LEMF has read everything written before `position` (a keep-alive written then was
   * answered): those records leave the window and are returned, oldest first.
   */
  confirm(position: number): R[] {
    const upTo = Math.min(position - this.#base, this.#items.length);
    const released = upTo > this.#head ? this.#items.slice(this.#head, upTo) : [];
    while (this.#head < upTo) this.#dropOldest();
    this.#compact();
    return released;
  }

  /** Everything still held, oldest first; the window is empty afterwards (positions keep counting). */
  takeAll(): R[] {
    const out = this.#items.slice(this.#head);
    this.#base += this.#items.length;
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
    return out;
  }

  #dropOldest(): void {
    this.#bytes -= this.#items[this.#head]!.bytes.length;
    this.#head++;
  }

  // a moving head, compacted now and then: shift() on a large window is O(n) per record
  #compact(): void {
    if (this.#head > 4096 && this.#head * 2 > this.#items.length) {
      this.#base += this.#head;
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
