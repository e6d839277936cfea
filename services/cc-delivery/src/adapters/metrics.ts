// Prometheus metrics per LEMF. Labels are only tenant, lemf, transport and stream: never a LIID
// or anything derived from a target.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DeliveryObserver, LemfStatus } from '../domain/delivery.ts';

export interface LemfLabels {
  tenant: string;
  lemf: string;
  transport: string;
}

type Watched = { labels: LemfLabels; status: () => LemfStatus; insecure: boolean };

export class DeliveryMetrics {
  readonly #watched = new Map<string, Watched>();
  readonly #records: Counter<'tenant' | 'lemf' | 'transport' | 'stream'>;
  readonly #bytes: Counter<'tenant' | 'lemf' | 'transport' | 'stream'>;
  readonly #retries: Counter<'tenant' | 'lemf' | 'transport'>;
  readonly #dead: Counter<'tenant' | 'lemf' | 'transport'>;
  readonly #violations: Counter<'tenant' | 'lemf' | 'transport' | 'code'>;

  constructor(registry: Registry) {
    const labelNames = ['tenant', 'lemf', 'transport'] as const;
    const watched = this.#watched;
    const gauge = (name: string, help: string, pick: (s: LemfStatus) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          for (const w of watched.values()) {
            const v = pick(w.status());
            if (v !== null) this.set(w.labels, v);
          }
        },
      });
    gauge('li_cc_delivery_connected_bool', '1 when every connection to the LEMF is up', (s) => (s.connected ? 1 : 0));
    gauge('li_cc_delivery_pending_records', 'records offered but not yet confirmed by the LEMF', (s) => s.pending);
    gauge('li_cc_delivery_keepalive_rtt_seconds', 'last TS 102 232-1 keep-alive round trip', (s) =>
      s.keepaliveRttMs === null ? null : s.keepaliveRttMs / 1000,
    );
    gauge('li_cc_delivery_last_error_timestamp_seconds', 'time of the last delivery error', (s) =>
      s.lastErrorAt === null ? null : s.lastErrorAt / 1000,
    );
    new Gauge({
      name: 'li_cc_delivery_last_error_info',
      help: 'the DLV_ERR_* code of the last delivery error (value 1), e.g. DLV_ERR_HOST_KEY, DLV_ERR_AUTH',
      labelNames: [...labelNames, 'code'],
      registers: [registry],
      collect() {
        this.reset();
        for (const w of watched.values()) {
          const code = w.status().lastErrorCode;
          if (code !== null) this.set({ ...w.labels, code }, 1);
        }
      },
    });
    new Gauge({
      name: 'li_cc_delivery_lemf_insecure',
      help: 'LEMF on a plaintext transport it allows with allowInsecure (1), or not (0)',
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const w of watched.values()) this.set(w.labels, w.insecure ? 1 : 0);
      },
    });
    gauge('li_cc_delivery_resent_records', 'records replayed after a reconnect (possible duplicates)', (s) => s.resent);
    this.#records = new Counter({
      name: 'li_cc_delivery_sent_records_total',
      help: 'records confirmed by the LEMF transport',
      labelNames: [...labelNames, 'stream'],
      registers: [registry],
    });
    this.#bytes = new Counter({
      name: 'li_cc_delivery_sent_bytes_total',
      help: 'bytes confirmed by the LEMF transport',
      labelNames: [...labelNames, 'stream'],
      registers: [registry],
    });
    this.#retries = new Counter({
      name: 'li_cc_delivery_retries_total',
      help: 'send attempts repeated after a failure',
      labelNames,
      registers: [registry],
    });
    this.#dead = new Counter({
      name: 'li_cc_delivery_dead_letter_records_total',
      help: 'records the transport can never deliver, sent to the DLQ',
      labelNames,
      registers: [registry],
    });
    this.#violations = new Counter({
      name: 'li_cc_delivery_lemf_violations_total',
      help: 'connections closed because the LEMF sent more than its read limit (DLV_ERR_LEMF_FLOOD) or bytes that are not the protocol (DLV_ERR_LEMF_PROTOCOL)',
      labelNames: [...labelNames, 'code'],
      registers: [registry],
    });
  }

  /** `key` identifies the LEMF across tenants (the same LEMF id may exist in two tenants). */
  watch(key: string, labels: LemfLabels, status: () => LemfStatus, insecure = false): void {
    this.#watched.set(key, { labels, status, insecure });
  }

  violation(labels: LemfLabels, code: string): void {
    this.#violations.inc({ ...labels, code });
  }

  unwatch(key: string): void {
    this.#watched.delete(key);
  }

  observer(labels: LemfLabels): DeliveryObserver {
    return {
      sent: (stream, records, bytes) => {
        this.#records.inc({ ...labels, stream }, records);
        this.#bytes.inc({ ...labels, stream }, bytes);
      },
      retry: () => this.#retries.inc(labels),
      deadLetter: () => this.#dead.inc(labels),
    };
  }
}
