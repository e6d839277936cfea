// TS 102 232-1 over TCP (separate HI2 and HI3 connections) and TS 101 671 HI2 over TCP streaming
// on a dedicated port (seed 001 Art. 6 c. 3 b: e.g. 12500).
import type {
  ConfirmedLater,
  DeliveryRecord,
  DeliveryTransport,
  OutboundBatch,
  SendOutcome,
  Stream,
  TransportStatus,
} from '../domain/types.ts';
import { dlvError } from '../errors.ts';
import { PduConnection, type PduConnectionOptions } from './pdu-connection.ts';

function combine(list: TransportStatus[]): TransportStatus {
  let latest: TransportStatus | null = null;
  for (const s of list)
    if (s.lastErrorAt !== null && (latest === null || s.lastErrorAt > (latest.lastErrorAt ?? 0))) latest = s;
  const rtts = list.map((s) => s.keepaliveRttMs).filter((x): x is number => x !== null);
  return {
    connected: list.every((s) => s.connected),
    lastError: latest?.lastError ?? null,
    lastErrorAt: latest?.lastErrorAt ?? null,
    keepaliveRttMs: rtts.length ? Math.max(...rtts) : null,
    resent: list.reduce((n, s) => n + s.resent, 0),
  };
}

/** How many leading records of `ok` the two connections cover, given each one's count for its stream. */
function leading(ok: readonly DeliveryRecord[], counts: { HI2: number; HI3: number }): number {
  const left = { ...counts };
  let n = 0;
  for (const r of ok) {
    const s = r.stream as 'HI2' | 'HI3';
    if (left[s] <= 0) break;
    left[s]--;
    n++;
  }
  return n;
}

/** Records up to the first one this transport cannot carry; `rejected` marks that one. */
function carriable(
  records: readonly DeliveryRecord[],
  allowed: readonly Stream[],
): { ok: DeliveryRecord[]; blocked: boolean } {
  const i = records.findIndex((r) => !allowed.includes(r.stream));
  return i < 0 ? { ok: [...records], blocked: false } : { ok: records.slice(0, i), blocked: true };
}

export class EtsiTcpTransport implements DeliveryTransport {
  readonly kind = 'ETSI_TCP';
  readonly #conns: Record<'HI2' | 'HI3', PduConnection>;

  constructor(hi2: PduConnectionOptions, hi3: PduConnectionOptions) {
    this.#conns = { HI2: new PduConnection(hi2), HI3: new PduConnection(hi3) };
  }

  start(confirmedLater?: ConfirmedLater): void {
    this.#conns.HI2.start(confirmedLater);
    this.#conns.HI3.start(confirmedLater);
  }

  unconfirmed(): DeliveryRecord[] {
    return [...this.#conns.HI2.unconfirmed(), ...this.#conns.HI3.unconfirmed()];
  }

  async send(batch: OutboundBatch): Promise<SendOutcome> {
    const { ok, blocked } = carriable(batch.records, ['HI2', 'HI3']);
    const hi2 = ok.filter((r) => r.stream === 'HI2');
    const hi3 = ok.filter((r) => r.stream === 'HI3');
    const [a, b] = await Promise.all([this.#conns.HI2.send(hi2), this.#conns.HI3.send(hi3)]);
    if (a.accepted !== undefined || b.accepted !== undefined) {
      // keep-alive confirmation: the connections hold what they accepted and confirm it later
      const accepted = leading(ok, { HI2: a.accepted ?? a.confirmed, HI3: b.accepted ?? b.confirmed });
      const confirmed = leading(ok, { HI2: a.confirmed, HI3: b.confirmed });
      if (accepted === ok.length && blocked) {
        return {
          confirmed,
          accepted,
          rejected: true,
          error: dlvError('DLV_ERR_BAD_RECORD', 'stream not carried over ETSI TCP'),
        };
      }
      return { confirmed, accepted, error: accepted === ok.length ? null : (a.error ?? b.error) };
    }
    // confirmed prefix of the original order: stop at the first record its connection did not confirm
    const left = { HI2: a.confirmed, HI3: b.confirmed };
    const outcome = { HI2: a, HI3: b };
    let confirmed = 0;
    for (const r of ok) {
      const s = r.stream as 'HI2' | 'HI3';
      if (left[s] <= 0) {
        // the first record its connection can never carry (e.g. no ack request can name it)
        if (outcome[s].rejected) return { confirmed, rejected: true, error: outcome[s].error };
        break;
      }
      left[s]--;
      confirmed++;
    }
    if (confirmed === ok.length && blocked) {
      return { confirmed, rejected: true, error: dlvError('DLV_ERR_BAD_RECORD', 'stream not carried over ETSI TCP') };
    }
    return { confirmed, error: confirmed === ok.length ? null : (a.error ?? b.error) };
  }

  status(): TransportStatus {
    return combine([this.#conns.HI2.status(), this.#conns.HI3.status()]);
  }

  async close(): Promise<void> {
    await Promise.all([this.#conns.HI2.close(), this.#conns.HI3.close()]);
  }
}

export class Hi2TcpTransport implements DeliveryTransport {
  readonly kind = 'HI2_TCP';
  readonly #conn: PduConnection;

  constructor(o: PduConnectionOptions) {
    this.#conn = new PduConnection(o);
  }

  start(confirmedLater?: ConfirmedLater): void {
    this.#conn.start(confirmedLater);
  }

  unconfirmed(): DeliveryRecord[] {
    return this.#conn.unconfirmed();
  }

  async send(batch: OutboundBatch): Promise<SendOutcome> {
    const { ok, blocked } = carriable(batch.records, ['HI2']);
    const out = await this.#conn.send(ok);
    if ((out.accepted ?? out.confirmed) === ok.length && blocked) {
      return {
        ...out,
        rejected: true,
        error: dlvError('DLV_ERR_BAD_RECORD', 'only HI2 over HI2 TCP'),
      };
    }
    return out;
  }

  status(): TransportStatus {
    return this.#conn.status();
  }

  close(): Promise<void> {
    return this.#conn.close();
  }
}
