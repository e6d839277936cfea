// buildApp: one LemfDelivery per LEMF destination, no I/O of its own. The Kafka wiring (main.ts)
// runs one consumer group per LEMF, calls offer() with that LEMF's records, commits what
// `commit` reports, sends `deadLetter` records to li.<t>.dlq, and calls applyLemf() for every
// record of the compacted li.<t>.lemfs topic so config changes apply live.
import { type LemfDestination, plaintextSetting } from '@li/schemas';
import type { Registry } from 'prom-client';
import { DeliveryMetrics } from './adapters/metrics.ts';
import {
  batchPolicyFor,
  createTransport,
  type TransportDeps,
  type TransportEvents,
} from './adapters/transport-factory.ts';
import { LemfDelivery, type LemfStatus } from './domain/delivery.ts';
import type { CommitPoint } from './domain/offsets.ts';
import type { DeliveryRecord } from './domain/types.ts';
import type { DeliveryError } from './errors.ts';

export interface AppConfig {
  maxBatchRecords: number;
}

export interface AppLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export interface AppPorts extends TransportDeps {
  registry: Registry;
  commit(lemfId: string, points: CommitPoint[]): void;
  deadLetter(record: DeliveryRecord, error: DeliveryError): void;
  /** File transports: next file number per LIID saved by `fileSeqUsed` (so names never repeat after a restart). */
  fileSeqStart?(lemfId: string): Record<string, number>;
  /** A promise holds that file's upload until it resolves (saved before the name is used). */
  fileSeqUsed?(lemfId: string, liid: string, seq: number): void | Promise<void>;
}

export interface App {
  applyLemf(dest: LemfDestination): Promise<void>;
  removeLemf(lemfId: string): Promise<void>;
  offer(lemfId: string, records: readonly DeliveryRecord[]): boolean;
  status(): LemfStatus[];
  delivery(lemfId: string): LemfDelivery | undefined;
  /** Shutdown: closes open files and waits up to `ms` for every record to be confirmed; returns how many are not. */
  drain(ms: number): Promise<number>;
  stop(): Promise<void>;
}

export function buildApp(config: AppConfig, ports: AppPorts, log: AppLog): App {
  const metrics = new DeliveryMetrics(ports.registry);
  const lemfs = new Map<string, { dest: LemfDestination; delivery: LemfDelivery }>();

  // The wiring keys LEMFs as <tenant>/<id>; the metric label is the LEMF id, the tenant has its own.
  const lemfLabel = (dest: LemfDestination) =>
    dest.id.startsWith(`${dest.tenant}/`) ? dest.id.slice(dest.tenant.length + 1) : dest.id;
  const labelsOf = (dest: LemfDestination) => ({
    tenant: dest.tenant,
    lemf: lemfLabel(dest),
    transport: String(dest.transport),
  });
  /** Allowed plaintext (allowInsecure): shown on li_cc_delivery_lemf_insecure and logged per connection. */
  const insecure = (dest: LemfDestination) => dest.allowInsecure === true && plaintextSetting(dest) !== null;

  const transportFor = (dest: LemfDestination) => {
    const labels = labelsOf(dest);
    const plain = plaintextSetting(dest);
    const events: TransportEvents = {
      insecureConnection: () =>
        log.warn(`insecure connection (allowInsecure): ${plain?.reason ?? 'plaintext'}`, {
          lemf: dest.id,
          transport: dest.transport,
        }),
      violation: (code) => {
        metrics.violation(labels, code);
        log.warn('LEMF connection closed: it broke the read limits or the protocol', { lemf: dest.id, code });
      },
    };
    return createTransport(dest, ports, events);
  };

  const create = (dest: LemfDestination): LemfDelivery => {
    const labels = labelsOf(dest);
    const obs = metrics.observer(labels);
    const delivery = new LemfDelivery({
      lemfId: dest.id,
      transport: transportFor(dest),
      clock: ports.clock,
      ...(ports.random ? { random: ports.random } : {}),
      ...(ports.backoff ? { backoff: ports.backoff } : {}),
      maxBatchRecords: config.maxBatchRecords,
      batching: batchPolicyFor(dest),
      ...(ports.fileSeqStart ? { fileSeqStart: ports.fileSeqStart(dest.id) } : {}),
      observer: {
        fileSeqUsed: (liid, seq) => ports.fileSeqUsed?.(dest.id, liid, seq),
        ...obs,
        committable: (points) => ports.commit(dest.id, points),
        deadLetter: (record, error) => {
          obs.deadLetter?.(record, error);
          ports.deadLetter(record, error);
        },
        error: (error) => log.warn('delivery error', { lemf: dest.id, code: error.code }),
      },
    });
    metrics.watch(dest.id, labels, () => delivery.status(), insecure(dest));
    delivery.start();
    return delivery;
  };

  const removeLemf = async (lemfId: string): Promise<void> => {
    const cur = lemfs.get(lemfId);
    if (!cur) return;
    lemfs.delete(lemfId);
    metrics.unwatch(lemfId);
    await cur.delivery.stop();
  };

  return {
    async applyLemf(dest) {
      const cur = lemfs.get(dest.id);
      if (!dest.enabled) return removeLemf(dest.id);
      if (cur && cur.dest.version === dest.version) return;
      const sameShape =
        cur &&
        cur.dest.transport === dest.transport &&
        JSON.stringify(batchPolicyFor(cur.dest)) === JSON.stringify(batchPolicyFor(dest));
      if (cur && sameShape) {
        // addresses, credentials, timers: swap the transport, keep the queue
        cur.dest = dest;
        const delivery = cur.delivery;
        metrics.watch(dest.id, labelsOf(dest), () => delivery.status(), insecure(dest));
        await cur.delivery.replaceTransport(transportFor(dest));
        log.info('lemf config updated', { lemf: dest.id, version: dest.version });
        return;
      }
      // transport kind or batching changed: start afresh; unconfirmed records were never committed,
      // so the wiring re-reads them from the last commit point.
      if (cur) await removeLemf(dest.id);
      lemfs.set(dest.id, { dest, delivery: create(dest) });
      log.info('lemf started', { lemf: dest.id, transport: dest.transport });
    },
    removeLemf,
    offer(lemfId, records) {
      const cur = lemfs.get(lemfId);
      if (!cur) return false;
      cur.delivery.offer(records);
      return true;
    },
    status: () => [...lemfs.values()].map((l) => l.delivery.status()),
    delivery: (lemfId) => lemfs.get(lemfId)?.delivery,
    async drain(ms) {
      const all = [...lemfs.values()].map((l) => l.delivery);
      for (const d of all) d.flushFiles();
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<void>((r) => {
        timer = setTimeout(r, ms);
      });
      await Promise.race([Promise.all(all.map((d) => d.drained())), limit]);
      clearTimeout(timer);
      return all.reduce((n, d) => n + d.pending(), 0);
    },
    async stop() {
      await Promise.all([...lemfs.keys()].map((id) => removeLemf(id)));
    },
  };
}
