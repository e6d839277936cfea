// Delivery waits for the LEMF's IPsec tunnel: a transport behind this gate neither connects nor
// sends while the tunnel is down, so no record leaves in clear; the engine keeps the records
// (pending, uncommitted) and retries with its back-off, so they go out once the tunnel is back.
import { dlvError } from '../errors.ts';
import type { ConfirmedLater, DeliveryTransport, OutboundBatch, SendOutcome, TransportStatus } from './types.ts';

export interface TunnelGateOptions {
  /** Whether the LEMF's tunnel (IKE SA and CHILD_SA) is up now. */
  ready(): boolean;
  now(): number;
  /** How often a transport waiting to start looks again (default 200 ms). */
  recheckMs?: number;
}

export class TunnelGatedTransport implements DeliveryTransport {
  readonly kind: string;
  readonly #inner: DeliveryTransport;
  readonly #o: TunnelGateOptions;
  #started = false;
  #closed = false;
  #timer: ReturnType<typeof setInterval> | null = null;
  #downAt: number | null = null;

  constructor(inner: DeliveryTransport, o: TunnelGateOptions) {
    this.kind = inner.kind;
    this.#inner = inner;
    this.#o = o;
  }

  start(confirmedLater?: ConfirmedLater): void {
    const go = () => {
      if (this.#closed || this.#started || !this.#o.ready()) return false;
      this.#started = true;
      this.#inner.start(confirmedLater);
      return true;
    };
    if (go()) return;
    this.#timer = setInterval(() => {
      if (go() && this.#timer) {
        clearInterval(this.#timer);
        this.#timer = null;
      }
    }, this.#o.recheckMs ?? 200);
  }

  async send(batch: OutboundBatch): Promise<SendOutcome> {
    if (!this.#started || !this.#o.ready()) {
      this.#downAt ??= this.#o.now();
      return { confirmed: 0, error: dlvError('DLV_ERR_IPSEC_DOWN') };
    }
    this.#downAt = null;
    return this.#inner.send(batch);
  }

  status(): TransportStatus {
    const s = this.#inner.status();
    if (this.#started && this.#o.ready()) return s;
    return {
      ...s,
      connected: false,
      lastError: dlvError('DLV_ERR_IPSEC_DOWN'),
      lastErrorAt: this.#downAt ?? s.lastErrorAt,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#inner.close();
  }

  unconfirmed() {
    return this.#inner.unconfirmed?.() ?? [];
  }
}
