// What a LEMF may send back on one connection. On TS 102 232-1 we expect only small TRI PDUs:
// keep-alive responses, the LEMF's own keep-alives and PDU acknowledgements (cl. 6.3.4, 6.3.6).
// A token bucket bounds the bytes read: a burst, a steady rate, and a credit per record sent
// (each may be acknowledged). A LEMF over it is closed, so it costs us a bounded amount of work.

export interface InboundLimits {
  /** Largest PDU accepted from the LEMF; a longer one is a protocol violation (not buffered). */
  maxPduBytes: number;
  /** Bytes a connection may receive at once before the rate applies. */
  burstBytes: number;
  /** Sustained bytes per second a connection may receive. */
  bytesPerSecond: number;
  /** Extra bytes allowed per record sent (its acknowledgement). */
  perRecordBytes: number;
}

export const DEFAULT_INBOUND_LIMITS: InboundLimits = {
  maxPduBytes: 64 * 1024,
  burstBytes: 1024 * 1024,
  bytesPerSecond: 64 * 1024,
  perRecordBytes: 1024,
};

export class InboundBudget {
  readonly #l: InboundLimits;
  #tokens: number;
  #at: number;

  constructor(limits: InboundLimits, now: number) {
    this.#l = limits;
    this.#tokens = limits.burstBytes;
    this.#at = now;
  }

  /** Records were sent: their acknowledgements may come back. */
  credit(records: number): void {
    this.#tokens += records * this.#l.perRecordBytes;
  }

  /** Counts `bytes` received at `now` (ms); false once the connection is over its limit. */
  take(bytes: number, now: number): boolean {
    const refill = (Math.max(0, now - this.#at) / 1000) * this.#l.bytesPerSecond;
    this.#at = now;
    // the rate refills up to the burst; credit for records sent may stand above it
    if (this.#tokens < this.#l.burstBytes) this.#tokens = Math.min(this.#l.burstBytes, this.#tokens + refill);
    this.#tokens -= bytes;
    return this.#tokens >= 0;
  }
}
