// li_cc_delivery_consumer_lag_records{tenant,lemf,stream}: how many records of its queue
// li.<t>.lemf.<id>.<hi2|hi3|reports> each LEMF's consumer group has not committed yet (a LEMF
// that is down, slow or misconfigured shows here). Refreshed every intervalMs through the bus's
// admin client, and served from that cache on scrape; a failed admin call is logged by code and
// the last values stay.
import type { Bus } from '@li/bus';
import type { Logger } from '@li/log';
import { Gauge, type Registry } from 'prom-client';
import { consumerLag } from '../domain/lag.ts';

const LAG_STREAMS = ['hi2', 'hi3', 'reports'] as const;
export type LagStream = (typeof LAG_STREAMS)[number];

interface LagTarget {
  tenant: string;
  /** the LEMF id (label value) */
  lemf: string;
  groupId: string;
}

type Admin = Awaited<ReturnType<Bus['admin']>>;

export interface ConsumerLagOptions {
  admin: () => Promise<Admin>;
  registry: Registry;
  intervalMs: number;
  /** The LEMF groups to measure, read at every refresh. */
  targets: () => LagTarget[];
  /** The LEMF's queue topic of one stream. */
  topicOf: (tenant: string, lemf: string, stream: LagStream) => string;
  log: Logger;
}

const seriesKey = (tenant: string, lemf: string, stream: string) => `${tenant}\0${lemf}\0${stream}`;

export class ConsumerLagMonitor {
  readonly #o: ConsumerLagOptions;
  readonly #values = new Map<string, { tenant: string; lemf: string; stream: LagStream; value: number }>();
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #failing = false;

  constructor(o: ConsumerLagOptions) {
    this.#o = o;
    const values = this.#values;
    new Gauge({
      name: 'li_cc_delivery_consumer_lag_records',
      help: "offsets of the LEMF's queue li.<t>.lemf.<id>.<stream> not yet committed by its consumer group (records, plus one transaction marker per router commit)",
      labelNames: ['tenant', 'lemf', 'stream'],
      registers: [o.registry],
      collect() {
        this.reset();
        for (const v of values.values()) this.set({ tenant: v.tenant, lemf: v.lemf, stream: v.stream }, v.value);
      },
    });
  }

  start(): void {
    if (this.#timer) return;
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.#o.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  /** One refresh; never rejects. Overlapping calls share the refresh in progress. */
  refresh(): Promise<void> {
    if (!this.#running) {
      this.#running = this.#refresh()
        .catch((err: unknown) => this.#fail(err))
        .finally(() => {
          this.#running = null;
        });
    }
    return this.#running;
  }

  async #refresh(): Promise<void> {
    const targets = this.#o.targets();
    // LEMFs that are gone lose their series
    const live = new Set(targets.flatMap((t) => LAG_STREAMS.map((s) => seriesKey(t.tenant, t.lemf, s))));
    for (const k of [...this.#values.keys()]) if (!live.has(k)) this.#values.delete(k);
    if (targets.length === 0) return;
    const admin = await this.#o.admin();
    let failed = false;
    for (const target of targets) {
      const { tenant, lemf } = target;
      try {
        const topics = LAG_STREAMS.map((s) => this.#o.topicOf(tenant, lemf, s));
        const ends = await Promise.all(topics.map((t) => admin.fetchTopicOffsets(t)));
        const committed = await admin.fetchOffsets({ groupId: target.groupId, topics });
        LAG_STREAMS.forEach((stream, i) => {
          const partitions = committed.find((c) => c.topic === topics[i])?.partitions ?? [];
          const value = consumerLag(ends[i] ?? [], partitions);
          this.#values.set(seriesKey(tenant, lemf, stream), { tenant, lemf, stream, value });
        });
      } catch (err) {
        failed = true;
        this.#fail(err, { tenant, lemf });
      }
    }
    if (!failed) this.#failing = false;
  }

  #fail(err: unknown, where: { tenant?: string; lemf?: string } = {}): void {
    // once per failing streak: an unreachable broker would otherwise log every interval
    if (this.#failing) return;
    this.#failing = true;
    const e = err as { type?: unknown; name?: unknown };
    const code = typeof e?.type === 'string' ? e.type : typeof e?.name === 'string' ? e.name : 'UNKNOWN';
    this.#o.log.warn({ code, ...where, err }, 'consumer lag not measured; keeping the last values');
  }
}
