// The cc-delivery service on Kafka. LEMF destinations come from the compacted li.<t>.lemfs
// topics and apply live. Delivery reads each record once, however many LEMFs there are:
// - a router per tenant (adapters/router.ts) reads li.<t>.hi2, li.<t>.hi3 and li.<t>.reports with
//   the bus's exactly-once processor and copies each record into the queue of every LEMF its
//   li.lemfs header names, li.<t>.lemf.<id>.<stream> (copies and input offsets in one transaction);
// - each LEMF has its own consumer group over its own queue only, so one LEMF's outage never slows
//   another; it takes the records its transport carries, and commits an offset only once the
//   transport confirmed everything before it (libs/bus confirmed-consumer.ts).
// Records a transport can never take go to li.<t>.dlq. File numbers (FTP/SFTP names) are saved
// per LEMF and LIID in the compacted li.<t>.delivery-state before a file is uploaded under its
// name, and restored at start, so a name is never reused. Each LEMF's lag is
// li_cc_delivery_consumer_lag_records{tenant,lemf,stream}.

import {
  busTail,
  type ConfirmedConsumer,
  createConfirmedConsumer,
  dlqRecord,
  HEADERS,
  LEMF_STREAMS,
  lemfTopicName,
  type Processor,
  tenantOfTopic,
  topicName,
} from '@li/bus';
import { systemClock } from '@li/core';
import type { ServiceDefinition } from '@li/runtime';
import type { LemfDestination } from '@li/schemas';
import { Counter } from 'prom-client';
import { ConsumerLagMonitor } from './adapters/consumer-lag.ts';
import { FileSeqStore } from './adapters/file-seq-store.ts';
import { IpsecController } from './adapters/ipsec-controller.ts';
import { createLemfDeliveries } from './adapters/lemf-deliveries.ts';
import { LemfQueues } from './adapters/lemf-queues.ts';
import { createRouter } from './adapters/router.ts';
import { secretFiles } from './adapters/secrets.ts';
import { Config } from './config.ts';
import { DEFAULT_INBOUND_LIMITS } from './domain/inbound-budget.ts';
import { lemfKey, splitLemfKey } from './domain/lemf-key.ts';
import { lemfRecords, streamOfTopic } from './domain/lemf-records.ts';
import { LemfDirectory } from './domain/routing.ts';
import { createTriCodec } from './domain/tri-codec.ts';

/** Each LEMF has its own consumer group, so one LEMF's outage never holds another. */
export const lemfGroupId = (tenant: string, lemfId: string) => `li.cc-delivery.${tenant}.${lemfId}`;

export const ccDeliveryService: ServiceDefinition<typeof Config> = {
  name: 'cc-delivery',
  config: Config,
  async start({ config, log, bus, metrics, readiness }) {
    for (const t of config.tenants)
      await bus.ensureTopics(t, ['hi2', 'hi3', 'reports', 'lemfs', 'dlq', 'delivery-state']);
    const readBytes = new Counter({
      name: 'li_cc_delivery_read_bytes_total',
      help: 'Bytes of records (key, value, headers) read from Kafka: by the router (li.<t>.hi2/hi3/reports, once) and by the LEMF consumers (their own queues)',
      labelNames: ['tenant', 'stage'],
      registers: [metrics],
    });
    const queues = new LemfQueues(bus, log);
    const directories = new Map(config.tenants.map((t) => [t, new LemfDirectory()]));
    const consumers = new Map<string, ConfirmedConsumer>();
    // The latest settings of each LEMF: a running consumer selects records by them (files.streams, format).
    const current = new Map<string, LemfDestination>();
    const fileSeqs = await FileSeqStore.restore(bus, config.tenants, log);
    const secrets = secretFiles(config.secretsDir, config.tenants);
    // strongSwan's connections follow the LEMFs (adapters/ipsec-controller.ts)
    const tunnels = config.ipsecViciSocket
      ? new IpsecController({
          viciSocket: config.ipsecViciSocket,
          secrets,
          registry: metrics,
          log,
          pollMs: config.ipsecPollMs,
        })
      : null;
    tunnels?.start();

    /** Writes one LEMF's record to its tenant's DLQ (not in a transaction: its offset commits once confirmed). */
    function deadLetter(k: string, source: Parameters<typeof dlqRecord>[1], code: string, reason: string): void {
      const dlq = dlqRecord(topicName(splitLemfKey(k).tenant, 'dlq'), source, code, reason);
      void bus
        .send([{ ...dlq, headers: { ...dlq.headers, [HEADERS.lemf]: k } }])
        .catch((err: unknown) => log.error({ err }, 'dead letter could not be written'));
    }

    const deliveries = createLemfDeliveries({
      maxBatchRecords: config.maxBatchRecords,
      log,
      clock: systemClock,
      registry: metrics,
      codec: createTriCodec({
        operatorIdentifier: config.operatorIdentifier,
        networkElementIdentifier: config.networkElementIdentifier,
        timestampFormat: config.timestampFormat,
        clock: systemClock,
      }),
      secrets,
      ...(tunnels ? { tunnels } : {}),
      pipeCommands: config.pipeCommands,
      confirmIdleMs: config.keepaliveConfirmIdleMs,
      // Confirmed before the LEMF's consumer reaches its high water (below) and stops reading.
      confirmEveryRecords: Math.max(1, Math.floor(config.highWaterRecords / 2)),
      inbound: {
        ...DEFAULT_INBOUND_LIMITS,
        maxPduBytes: config.lemfReadMaxPduBytes,
        burstBytes: config.lemfReadBurstBytes,
        bytesPerSecond: config.lemfReadBytesPerSecond,
      },
      commit: (k, points) => consumers.get(k)?.confirmed(points),
      fileSeqStart: (k) => fileSeqs.start(k),
      fileSeqUsed: (k, liid, seq) => fileSeqs.used(k, liid, seq),
      deadLetter: (record, error) =>
        deadLetter(
          record.lemfId,
          {
            ...record.source,
            offset: String(record.source.offset),
            key: record.liid,
            value: Buffer.from(record.bytes),
          },
          error.code,
          error.message,
        ),
    });

    // Records handed to a LEMF and not yet confirmed; a LEMF no longer running commits nothing.
    const unconfirmed = (k: string) => deliveries.delivery(k)?.pending() ?? 1;

    async function startConsumer(dest: LemfDestination): Promise<void> {
      const k = lemfKey(dest.tenant, dest.id);
      if (consumers.has(k)) return;
      await queues.ensure(dest.tenant, dest.id);
      const consumer = createConfirmedConsumer({
        bus,
        log,
        groupId: lemfGroupId(dest.tenant, dest.id),
        topics: queues.topics(dest.tenant, dest.id),
        onBatch: (batch) => {
          const stream = streamOfTopic(batch.topic);
          if (!stream) return;
          const source = { topic: batch.topic, partition: batch.partition, stream };
          const { records, refused } = lemfRecords(current.get(k) ?? dest, k, source, batch.messages);
          for (const { message: m, code, reason } of refused) {
            const at = { topic: batch.topic, partition: batch.partition, offset: m.offset };
            deadLetter(k, { ...at, key: m.key?.toString() ?? null, value: m.value }, code, reason);
          }
          if (records.length > 0) deliveries.offer(k, records);
        },
        unconfirmed: () => unconfirmed(k),
        // Back-pressure: this LEMF's group waits while its queue is full; other LEMFs go on.
        full: () => (deliveries.delivery(k)?.pending() ?? 0) > config.highWaterRecords,
        onRead: (bytes) => readBytes.inc({ tenant: dest.tenant, stage: 'lemf' }, bytes),
        // Each assignment: file numbers another process stored for LIIDs that moved here are read
        // before any file of them is numbered (its records are handed over only after this).
        onAssigned: async () => {
          const d = deliveries.delivery(k);
          if (!d?.batchesFiles()) return;
          await fileSeqs.reload(dest.tenant, log);
          d.raiseFileSeq(fileSeqs.start(k));
        },
        // A rebalance: open files close and their numbers are saved before this process rejoins
        // (the next owner reads them after), then what was sent gets its confirmations, bounded.
        onHandOver: async () => {
          await deliveries.delivery(k)?.closeFiles();
        },
      });
      consumers.set(k, consumer);
      await consumer.start();
    }

    async function stopConsumer(k: string): Promise<void> {
      const c = consumers.get(k);
      consumers.delete(k);
      await c?.stop();
    }

    // Destinations: applied in order, one at a time, as they arrive.
    const codecs = await bus.codecsFor<LemfDestination>(config.tenants, 'lemfs', 'LemfDestination');
    let caughtUp = false;
    let chain = Promise.resolve();
    const tail = await busTail(bus, {
      log,
      topics: [...codecs.keys()],
      onRecord: (r) => {
        chain = chain.then(async () => {
          const tenant = tenantOfTopic(r.topic);
          const lemfId = r.key ?? '';
          const k = lemfKey(tenant, lemfId);
          const dest = r.value === null ? null : await codecs.get(r.topic)!.decode(r.value);
          // A destination naming another tenant is never trusted: tenants never see each other's records.
          if (dest && dest.tenant !== tenant) {
            log.error({ tenant, lemf: lemfId }, 'LEMF record names another tenant; ignored');
            return;
          }
          directories.get(tenant)?.set(lemfId, dest !== null);
          if (!dest?.enabled) {
            current.delete(k);
            await stopConsumer(k);
            await deliveries.removeLemf(k);
            // Removed (not only disabled): its queue goes. While replaying, only the final state counts.
            if (dest === null && caughtUp) await queues.remove(tenant, lemfId, lemfGroupId(tenant, lemfId));
            return;
          }
          current.set(k, dest);
          // A restarted delivery drops what waited in it. Its consumer goes first, so the group never
          // commits past those records and a new consumer reads them again for the new delivery.
          if (deliveries.restarts({ ...dest, id: k })) await stopConsumer(k);
          await deliveries.applyLemf({ ...dest, id: k });
          await startConsumer(dest);
        });
        // The tail sees this record's failure (and retries a retriable one); the chain goes on.
        const applied = chain;
        chain = chain.catch(() => undefined);
        return applied;
      },
    });
    await tail.caughtUp;
    caughtUp = true;
    // LEMFs removed while this service was down: their queues go now.
    for (const [tenant, dir] of directories)
      for (const id of dir.allRemoved()) await queues.remove(tenant, id, lemfGroupId(tenant, id));

    const routers: Processor[] = [];
    for (const tenant of config.tenants) {
      const router = createRouter({
        bus,
        log,
        tenant,
        queues,
        removed: (id) => directories.get(tenant)?.removed(id) ?? false,
        metrics,
        onRead: (bytes) => readBytes.inc({ tenant, stage: 'router' }, bytes),
      });
      routers.push(router);
      await router.start();
    }
    readiness('lemfs', () => true);

    const lag = new ConsumerLagMonitor({
      admin: () => bus.admin(),
      registry: metrics,
      intervalMs: config.lagIntervalMs,
      targets: () =>
        [...consumers.keys()].map((k) => {
          const { tenant, lemf } = splitLemfKey(k);
          return { tenant, lemf, groupId: lemfGroupId(tenant, lemf) };
        }),
      topicOf: (tenant, lemf, stream) => lemfTopicName(tenant, lemf, stream),
      log,
    });
    lag.start();
    return {
      async stop() {
        await lag.stop();
        await tail.stop();
        await Promise.all(routers.map((r) => r.stop()));
        // Stop reading, close open files, and give what is unconfirmed a bounded time to be
        // delivered and committed; the rest is re-read after the restart.
        for (const c of consumers.values()) c.pause();
        const unconfirmedNow = await deliveries.drain(config.shutdownDrainMs);
        await Promise.all([...consumers.values()].map((c) => c.settle(5_000)));
        if (unconfirmedNow > 0)
          log.warn({ records: unconfirmedNow }, 'stopping with unconfirmed records; they will be re-read');
        await Promise.all([...consumers.keys()].map(stopConsumer));
        await deliveries.stop();
        await tunnels?.stop();
      },
    };
  },
};

// The queue topics of one LEMF, for tests and tools that look at its group's offsets.
export const lemfQueueTopics = (tenant: string, lemfId: string) =>
  LEMF_STREAMS.map((s) => lemfTopicName(tenant, lemfId, s));
