// How many partitions and replicas a tenant's topics get when they are created. The streams that
// carry traffic have several partitions, so each consumer group can have several working members;
// every producer keys its records so that what must stay in order shares a partition (see
// docs/ARCHITECTURE.md, "Partitions and keys"). Existing topics are never changed here.

import { STREAMS, type Stream } from '@li/records';
import { BusError } from './errors.ts';
import { validateTenant } from './topics.ts';

/** Partitions of a stream's topics when the configuration says nothing else. */
export const DEFAULT_PARTITIONS: Readonly<Record<Stream, number>> = {
  events: 3,
  matched: 3,
  hi2: 3,
  hi3: 3,
  reports: 3,
  // State read whole by every instance (compacted), and the DLQ: one partition is enough.
  warrants: 1,
  lemfs: 1,
  'encoder-state': 1,
  'delivery-state': 1,
  taps: 1,
  mcid: 1,
  dlq: 1,
  audit: 1,
};

/** The audit trail is one hash chain in offset order: one partition, whatever the configuration. */
const SINGLE_PARTITION: ReadonlySet<Stream> = new Set<Stream>(['audit']);

const MAX_PARTITIONS = 1000;

export interface TopicLayout {
  partitions(tenant: string, stream: Stream): number;
  /** Replicas per partition; -1: the broker's default.replication.factor. */
  readonly replicationFactor: number;
  /** min.insync.replicas of the tenant's topics; 0: the broker's default. */
  readonly minInsyncReplicas: number;
}

export interface TopicLayoutSettings {
  /**
   * Overrides, each `<stream>=<n>`, `<tenant>/<stream>=<n>`, `*=<n>` or `<tenant>/*=<n>`. The most
   * specific wins: tenant and stream, tenant, stream, `*`, then DEFAULT_PARTITIONS.
   */
  partitions?: readonly string[];
  replicationFactor?: number;
  minInsyncReplicas?: number;
}

/** The pattern of one override, for configuration schemas. */
export const PARTITIONS_ENTRY = '^(?:[a-z0-9-]+/)?(?:[a-z0-9-]+|\\*)=[0-9]+$';

function layoutError(message: string): BusError {
  return new BusError('BUS_ERR_TOPIC_LAYOUT', message);
}

/** Parses the overrides; throws BUS_ERR_TOPIC_LAYOUT naming the bad entry's position, not echoing it. */
export function topicLayout(settings: TopicLayoutSettings = {}): TopicLayout {
  const overrides = new Map<string, number>();
  (settings.partitions ?? []).forEach((entry, i) => {
    const m = /^(?:([a-z0-9-]+)\/)?([a-z0-9-]+|\*)=([0-9]+)$/.exec(entry);
    if (!m) throw layoutError(`partitions entry ${i + 1}: expected <stream>=<n>, <tenant>/<stream>=<n> or *=<n>`);
    const [, tenant, stream, count] = m as unknown as [string, string | undefined, string, string];
    if (tenant !== undefined) {
      try {
        validateTenant(tenant);
      } catch {
        throw layoutError(`partitions entry ${i + 1}: invalid tenant id`);
      }
    }
    if (stream !== '*' && !(STREAMS as readonly string[]).includes(stream)) {
      throw layoutError(`partitions entry ${i + 1}: unknown stream, expected one of ${STREAMS.join(', ')} or *`);
    }
    const n = Number(count);
    if (!Number.isInteger(n) || n < 1 || n > MAX_PARTITIONS) {
      throw layoutError(`partitions entry ${i + 1}: expected 1 to ${MAX_PARTITIONS} partitions`);
    }
    if (stream !== '*' && SINGLE_PARTITION.has(stream as Stream) && n !== 1) {
      throw layoutError(`partitions entry ${i + 1}: ${stream} keeps one partition (its order is the whole topic's)`);
    }
    overrides.set(`${tenant ?? ''}/${stream}`, n);
  });
  const replicationFactor = settings.replicationFactor ?? -1;
  if (!Number.isInteger(replicationFactor) || replicationFactor === 0 || replicationFactor < -1) {
    throw layoutError('replication factor: expected -1 (the broker default) or at least 1');
  }
  const minInsyncReplicas = settings.minInsyncReplicas ?? 0;
  if (!Number.isInteger(minInsyncReplicas) || minInsyncReplicas < 0) {
    throw layoutError('min.insync.replicas: expected 0 (the broker default) or at least 1');
  }
  if (replicationFactor > 0 && minInsyncReplicas > replicationFactor) {
    throw layoutError('min.insync.replicas: expected at most the replication factor');
  }
  return {
    replicationFactor,
    minInsyncReplicas,
    partitions(tenant, stream) {
      if (SINGLE_PARTITION.has(stream)) return 1;
      return (
        overrides.get(`${tenant}/${stream}`) ??
        overrides.get(`${tenant}/*`) ??
        overrides.get(`/${stream}`) ??
        overrides.get('/*') ??
        DEFAULT_PARTITIONS[stream]
      );
    },
  };
}

/** One partition per topic, as before partitions were configurable: tools and tests that build a bus by hand. */
export const SINGLE_PARTITION_LAYOUT: TopicLayout = topicLayout({ partitions: ['*=1'] });
