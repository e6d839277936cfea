// What the domain needs from the adapters: where state is kept, where reports go, and who
// counts what happened. service.ts plugs in the Kafka, Diameter/file and prom-client ones.
import type { McdErrorCode } from '../errors.ts';
import type { Change, McidReport, StateView } from './model.ts';

/** Materialised state plus a durable commit of changes (one record per key, null = delete). */
export interface StateStore extends StateView {
  /** Resolves once the changes are durable and visible to get()/keys(). */
  commit(changes: readonly Change[]): Promise<void>;
  /** The keys of undelivered reports, when the store indexes them (else redelivery scans 'report/'). */
  undeliveredReportKeys?(): Iterable<string>;
}

export type DeliveryResult =
  | { ok: true; via: 'CDS' | 'LOCAL'; detail: string }
  | { ok: false; code: McdErrorCode; reason: string };

/** Where MCID reports go (seed 003 §3.2 mtasComDetailsReportingType: 0 CDS, 1 local storage). */
export interface ReportSink {
  deliver(report: McidReport): Promise<DeliveryResult>;
  /** Several reports in order, one result each; a sink that can make them durable together. */
  deliverMany?(reports: readonly McidReport[]): Promise<DeliveryResult[]>;
  close(): Promise<void>;
}

/** What McidService reports about its work, for metrics and logs: per batch, not per event. */
export interface McidObserver {
  eventsApplied(tenant: string, result: 'applied' | 'ignored', count: number): void;
  reportsMade(reports: readonly McidReport[]): void;
  /** One result per report, in order. */
  deliveriesTried(reports: readonly McidReport[], results: readonly DeliveryResult[]): void;
}
