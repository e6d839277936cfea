// The service's ports: where state is kept and where reports go. main.ts plugs in the Kafka
// implementations (compacted `li.<t>.mcid`); tests use the in-memory ones here.

import { MemoryState } from './domain/memory-state.ts';
import type { Change, McidReport, StateView } from './domain/model.ts';

/** Materialised state plus a durable commit of changes (one record per key, null = delete). */
export interface StateStore extends StateView {
  /** Resolves once the changes are durable and visible to get()/keys(). */
  commit(changes: readonly Change[]): Promise<void>;
}

export class MemoryStateStore extends MemoryState implements StateStore {
  async commit(changes: readonly Change[]): Promise<void> {
    this.applyChanges(changes);
  }
}

export type DeliveryResult =
  | { ok: true; via: 'CDS' | 'LOCAL'; detail: string }
  | { ok: false; code: string; reason: string };

/** Where MCID reports go (seed 003 §3.2 mtasComDetailsReportingType: 0 CDS, 1 local storage). */
export interface ReportSink {
  deliver(report: McidReport): Promise<DeliveryResult>;
  close(): Promise<void>;
}

export interface Clock {
  nowMicros(): number;
}

export const systemClock: Clock = { nowMicros: () => Date.now() * 1000 };

/** The log calls the service makes; pino's Logger satisfies it. Never pass identities or content. */
export interface Log {
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
}

export const silentLog: Log = { info: () => {}, warn: () => {}, error: () => {} };
