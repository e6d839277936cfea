// The tenant's router: reads li.<t>.hi2/hi3/reports once, with the bus's exactly-once processor,
// and copies each record into the queue topic of every LEMF its li.lemfs header names
// (domain/routing.ts). Copies and input offsets commit in one transaction: a crash neither loses
// nor doubles a copy. The LEMFs' consumers then read only their own queues.
import {
  type Bus,
  busProcessor,
  LEMF_STREAMS,
  type LemfStream,
  lemfTopicName,
  type Processor,
  topicName,
} from '@li/bus';
import type { Logger } from '@li/log';
import type { Registry } from 'prom-client';
import { routeRecords } from '../domain/routing.ts';
import type { LemfQueues } from './lemf-queues.ts';

/** The router's group (and transactional-id prefix): `.` is in no LEMF id, so no LEMF group can be it. */
const routerGroupId = (tenant: string) => `li.cc-delivery.${tenant}.router.streams`;

export interface RouterOptions {
  bus: Bus;
  log: Logger;
  tenant: string;
  queues: LemfQueues;
  /** The LEMF was removed (its latest li.<t>.lemfs record is a tombstone): route nothing to it. */
  removed(lemfId: string): boolean;
  metrics: Registry;
  /** Bytes of the records read (key, value, headers). */
  onRead(bytes: number): void;
}

export function createRouter(o: RouterOptions): Processor {
  const { tenant } = o;
  const streamOf = new Map<string, LemfStream>(LEMF_STREAMS.map((s) => [topicName(tenant, s), s]));
  return busProcessor<Buffer | null>(o.bus, {
    log: o.log,
    groupId: routerGroupId(tenant),
    topics: [...streamOf.keys()],
    transactionalIdPrefix: routerGroupId(tenant),
    decode: async (bytes) => bytes,
    dlqTopic: () => topicName(tenant, 'dlq'),
    metrics: o.metrics,
    maxWaitTimeMs: 1000,
    // One transaction per batch, each touching every addressed LEMF's queue partition: larger
    // batches keep the per-transaction cost (partitions added, commit markers) from growing with the LEMFs.
    maxBytesPerPartition: 8 * 2 ** 20,
    async process(records) {
      let bytes = 0;
      for (const r of records) {
        bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0);
        for (const [k, v] of Object.entries(r.headers)) bytes += k.length + v.length;
      }
      o.onRead(bytes);
      const { copies, rejected } = routeRecords(records, o.removed);
      // A LEMF named before its li.<t>.lemfs record arrived here still gets its records: its
      // queue is made now and its consumer, once started, reads it from the beginning.
      for (const id of new Set(copies.map((c) => c.lemfId))) await o.queues.ensure(tenant, id);
      return {
        outputs: copies.map((c) => ({
          topic: lemfTopicName(tenant, c.lemfId, streamOf.get(c.record.topic)!),
          key: c.record.key,
          value: c.record.value,
          headers: c.headers,
        })),
        rejected,
      };
    },
  });
}
