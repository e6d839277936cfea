// The running LEMFs: one LemfDelivery per LEMF destination, with its transport, metrics and logs.
// service.ts feeds it from Kafka: offer() with each LEMF's records, applyLemf()/removeLemf() for
// every record of the compacted li.<t>.lemfs topic (config changes apply live), and it reports
// what to commit (`commit`) and what to send to li.<t>.dlq (`deadLetter`).
import { unreachable } from '@li/core';
import type { Logger } from '@li/log';
import { type LemfDestination, plaintextSetting } from '@li/schemas';
import type { Registry } from 'prom-client';
import { batchPolicyFor } from '../domain/batcher.ts';
import { LemfDelivery, type LemfStatus } from '../domain/delivery.ts';
import { lemfUpdate } from '../domain/lemf-update.ts';
import type { CommitPoint } from '../domain/offsets.ts';
import { keepsRecords, profiledCodec, withTimestampProfile } from '../domain/timestamp-profile.ts';
import { TunnelGatedTransport } from '../domain/tunnel-gate.ts';
import type { DeliveryRecord } from '../domain/types.ts';
import type { DeliveryError } from '../errors.ts';
import { DeliveryMetrics } from './metrics.ts';
import { confirmsOnWrite, createTransport, type TransportDeps, type TransportEvents } from './transport-factory.ts';

export interface LemfDeliveriesOptions extends TransportDeps {
  maxBatchRecords: number;
  registry: Registry;
  log: Logger;
  commit(lemfId: string, points: CommitPoint[]): void;
  deadLetter(record: DeliveryRecord, error: DeliveryError): void;
  /** File transports: next file number per LIID saved by `fileSeqUsed` (so names never repeat after a restart). */
  fileSeqStart?(lemfId: string): Record<string, number>;
  /** A promise holds that file's upload until it resolves (saved before the name is used). */
  fileSeqUsed?(lemfId: string, liid: string, seq: number): void | Promise<void>;
  /** IPsec tunnels (adapters/ipsec-controller.ts): a LEMF with ipsec settings delivers only while its tunnel is up. */
  tunnels?: TunnelControl;
}

/** What delivery needs of the IPsec controller. */
export interface TunnelControl {
  apply(dest: LemfDestination): Promise<void>;
  remove(lemfId: string): Promise<void>;
  ready(lemfId: string): boolean;
}

export interface LemfDeliveries {
  applyLemf(dest: LemfDestination): Promise<void>;
  /** Whether applying `dest` replaces a running LEMF's delivery, dropping the records queued in it. */
  restarts(dest: LemfDestination): boolean;
  removeLemf(lemfId: string): Promise<void>;
  offer(lemfId: string, records: readonly DeliveryRecord[]): boolean;
  status(): LemfStatus[];
  delivery(lemfId: string): LemfDelivery | undefined;
  /** Shutdown: closes open files and waits up to `ms` for every record to be confirmed; returns how many are not. */
  drain(ms: number): Promise<number>;
  stop(): Promise<void>;
}

export function createLemfDeliveries(o: LemfDeliveriesOptions): LemfDeliveries {
  const { log } = o;
  const metrics = new DeliveryMetrics(o.registry);
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
        log.warn(
          { lemf: dest.id, transport: dest.transport },
          `insecure connection (allowInsecure): ${plain?.reason ?? 'plaintext'}`,
        ),
      violation: (code) => {
        metrics.violation(labels, code);
        log.warn({ lemf: dest.id, code }, 'LEMF connection closed: it broke the read limits or the protocol');
      },
    };
    if (confirmsOnWrite(dest, o.codec))
      log.warn(
        { lemf: dest.id },
        'ETSI TCP LEMF without PDU acknowledgement and without keep-alives: records count as confirmed on the socket write (a crash during a network black hole can lose them)',
      );
    // keep-alives and ack requests follow the LEMF's timestamp profile too
    const codec = o.codec ? profiledCodec(o.codec, dest.timestampProfile) : null;
    const transport = createTransport(dest, { ...o, codec }, events);
    const tunnels = o.tunnels;
    // No tunnel control in this process: such a LEMF gets nothing rather than records in clear.
    if (dest.ipsec && !tunnels)
      log.warn({ lemf: dest.id }, 'LEMF requires IPsec and no ipsecViciSocket is set: it receives nothing');
    if (dest.ipsec)
      return new TunnelGatedTransport(transport, {
        ready: () => tunnels?.ready(dest.id) ?? false,
        now: () => o.clock.now(),
      });
    return transport;
  };

  const create = (dest: LemfDestination): LemfDelivery => {
    const labels = labelsOf(dest);
    const obs = metrics.observer(labels);
    const delivery = new LemfDelivery({
      lemfId: dest.id,
      transport: transportFor(dest),
      clock: o.clock,
      ...(o.random ? { random: o.random } : {}),
      ...(o.backoff ? { backoff: o.backoff } : {}),
      maxBatchRecords: o.maxBatchRecords,
      batching: batchPolicyFor(dest),
      ...(keepsRecords(dest.timestampProfile)
        ? {}
        : { prepare: (r) => withTimestampProfile(r, dest.timestampProfile) }),
      ...(o.fileSeqStart ? { fileSeqStart: o.fileSeqStart(dest.id) } : {}),
      observer: {
        fileSeqUsed: (liid, seq) => o.fileSeqUsed?.(dest.id, liid, seq),
        ...obs,
        committable: (points) => o.commit(dest.id, points),
        deadLetter: (record, error) => {
          obs.deadLetter?.(record, error);
          o.deadLetter(record, error);
        },
        error: (error) => log.warn({ lemf: dest.id, code: error.code }, 'delivery error'),
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
    await o.tunnels?.remove(lemfId);
  };

  return {
    async applyLemf(dest) {
      const cur = lemfs.get(dest.id);
      if (dest.enabled) await o.tunnels?.apply(dest);
      const update = lemfUpdate(cur?.dest, dest);
      switch (update) {
        case 'remove':
          return removeLemf(dest.id);
        case 'unchanged':
          return;
        case 'replace-transport': {
          if (!cur) return; // lemfUpdate replaces only a running LEMF
          cur.dest = dest;
          const delivery = cur.delivery;
          metrics.watch(dest.id, labelsOf(dest), () => delivery.status(), insecure(dest));
          await delivery.replaceTransport(transportFor(dest));
          log.info({ lemf: dest.id, version: dest.version }, 'lemf config updated');
          return;
        }
        case 'restart':
          if (cur) await removeLemf(dest.id);
          lemfs.set(dest.id, { dest, delivery: create(dest) });
          log.info({ lemf: dest.id, transport: dest.transport }, 'lemf started');
          return;
        default:
          return unreachable(update, 'LEMF update');
      }
    },
    restarts(dest) {
      const cur = lemfs.get(dest.id);
      return cur !== undefined && lemfUpdate(cur.dest, dest) === 'restart';
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
