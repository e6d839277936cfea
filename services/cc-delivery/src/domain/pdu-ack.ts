// PDU acknowledgement (TS 102 232-1 cl. 6.3.6) of one send: each data PDU goes out with a
// pDUAcknowledgementRequest naming it (LIID, CIN, sequence number) and is confirmed only by the
// pDUAcknowledgementResponse that names the same PDU. Acks are matched, never counted: one may
// arrive out of order, but an ack naming no PDU that awaits one (never sent, or acknowledged
// already) is a protocol error. Confirmation runs over the leading acknowledged PDUs, since the
// offsets behind them may move only over a contiguous run.
import type { PduRef } from './types.ts';

const refKey = (p: PduRef) => `${p.liid}\u0000${p.cin}\u0000${p.seq}`;

export class PduAcks {
  /** Per named PDU, the indexes still waiting (a sequence number may repeat after it wraps). */
  readonly #waiting = new Map<string, number[]>();
  readonly #acked: boolean[];
  #confirmed = 0;

  constructor(pdus: readonly PduRef[]) {
    this.#acked = pdus.map(() => false);
    pdus.forEach((p, i) => {
      const k = refKey(p);
      const list = this.#waiting.get(k);
      if (list) list.push(i);
      else this.#waiting.set(k, [i]);
    });
  }

  /** Records an ack; false when it names no PDU awaiting one. */
  ack(p: PduRef): boolean {
    const k = refKey(p);
    const list = this.#waiting.get(k);
    const i = list?.shift();
    if (i === undefined) return false;
    if (list!.length === 0) this.#waiting.delete(k);
    this.#acked[i] = true;
    while (this.#confirmed < this.#acked.length && this.#acked[this.#confirmed]) this.#confirmed++;
    return true;
  }

  /** How many leading PDUs are acknowledged. */
  confirmed(): number {
    return this.#confirmed;
  }
}
