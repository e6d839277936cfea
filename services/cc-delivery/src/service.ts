// The cc-delivery service on Kafka. LEMF destinations come from the compacted li.<t>.lemfs
// topics and apply live. Each LEMF has its own consumer group over its tenant's li.<t>.hi2,
// li.<t>.hi3 and li.<t>.reports, so one LEMF's outage never slows another; it takes only the
// records whose li.lemfs header names it, and commits an offset only once the transport
// confirmed everything before it. Records a transport can never take go to li.<t>.dlq.
// File numbers (FTP/SFTP names) are saved per LEMF and LIID in the compacted li.<t>.delivery-state
// before a file is uploaded under its name, and restored at start, so a name is never reused.
// Each group's lag is li_cc_delivery_consumer_lag_records{tenant,lemf,stream}.

import { dlqRecord, tailTopics, tenantOfTopic, topicName } from '@li/bus';
import { systemClock } from '@li/core';
import type { ServiceDefinition } from '@li/runtime';
import type { LemfDestination } from '@li/schemas';
import type { Consumer } from 'kafkajs';
import { ConsumerLagMonitor } from './adapters/consumer-lag.ts';
import { FileSeqStore } from './adapters/file-seq-store.ts';
import { IpsecController } from './adapters/ipsec-controller.ts';
import { createLemfDeliveries } from './adapters/lemf-deliveries.ts';
import { secretFiles } from './adapters/secrets.ts';
import { Config } from './config.ts';
import { DEFAULT_INBOUND_LIMITS } from './domain/inbound-budget.ts';
import { lemfKey, splitLemfKey } from './domain/lemf-key.ts';
import { lemfRecords, streamOfTopic } from './domain/lemf-records.ts';
import { commitPlan, OffsetTracker, type PartitionOffset } from './domain/offsets.ts';
import { createTriCodec } from './domain/tri-codec.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The topics a LEMF's consumer reads. */
const streamsOf = (tenant: string) => (['hi2', 'hi3', 'reports'] as const).map((s) => topicName(tenant, s));

/** Each LEMF has its own consumer group, so one LEMF's outage never holds another. */
export const lemfGroupId = (tenant: string, lemfId: string) => `li.cc-delivery.${tenant}.${lemfId}`;

export const ccDeliveryService: ServiceDefinition<typeof Config> = {
  name: 'cc-delivery',
  config: Config,
  async start({ config, log, bus, metrics, readiness }) {
    for (const t of config.tenants)
      await bus.ensureTopics(t, ['hi2', 'hi3', 'reports', 'lemfs', 'dlq', 'delivery-state']);
    const consumers = new Map<string, Consumer>();
    // The latest settings of each LEMF: a running consumer selects records by them (files.streams, format).
    const current = new Map<string, LemfDestination>();
    // Per LEMF and partition, the offset after the last record read: records of other LEMFs
    // need no confirmation, so a LEMF with nothing unconfirmed may commit up to here.
    const readUpTo = new Map<string, Map<string, PartitionOffset>>();
    const readOf = (k: string) => readUpTo.get(k) ?? readUpTo.set(k, new Map()).get(k)!;
    // Only forward: a consumer kafkajs restarted reads again from the committed offset.
    const read = (k: string, topic: string, partition: number, offset: bigint) => {
      const at = readOf(k).get(OffsetTracker.key({ topic, partition }));
      if (!at || offset > at.offset)
        readOf(k).set(OffsetTracker.key({ topic, partition }), { topic, partition, offset });
    };
    // Per LEMF and partition, the last offset handed to commitOffsets.
    const committed = new Map<string, Map<string, bigint>>();
    const committedOf = (k: string) => committed.get(k) ?? committed.set(k, new Map()).get(k)!;
    // Offset commits in flight, awaited on stop so a confirmed record is not read again after a restart.
    const commits = new Set<Promise<void>>();
    const commit = (k: string, consumer: Consumer, offsets: PartitionOffset[]) => {
      if (offsets.length === 0) return;
      const done = committedOf(k);
      for (const o of offsets) done.set(OffsetTracker.key(o), o.offset);
      const p = consumer
        .commitOffsets(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset) })))
        .catch((err: unknown) => {
          // not committed after all: a later plan must not leave these out
          for (const o of offsets) if (done.get(OffsetTracker.key(o)) === o.offset) done.delete(OffsetTracker.key(o));
          log.warn({ lemf: k, err }, 'offset commit failed; records will be re-read');
        })
        .finally(() => commits.delete(p));
      commits.add(p);
    };
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
      inbound: {
        ...DEFAULT_INBOUND_LIMITS,
        maxPduBytes: config.lemfReadMaxPduBytes,
        burstBytes: config.lemfReadBurstBytes,
        bytesPerSecond: config.lemfReadBytesPerSecond,
      },
      commit: (lemfKey, points) => {
        const consumer = consumers.get(lemfKey);
        if (!consumer) return;
        const drained = (deliveries.delivery(lemfKey)?.pending() ?? 1) === 0;
        commit(lemfKey, consumer, commitPlan(points, readOf(lemfKey), drained, committedOf(lemfKey)));
      },
      fileSeqStart: (k) => fileSeqs.start(k),
      fileSeqUsed: (k, liid, seq) => fileSeqs.used(k, liid, seq),
      deadLetter: (record, error) => {
        const source = {
          ...record.source,
          offset: String(record.source.offset),
          key: record.liid,
          value: Buffer.from(record.bytes),
        };
        const dlq = dlqRecord(topicName(tenantOfTopic(record.source.topic), 'dlq'), source, error.code, error.message);
        void bus
          .send([{ ...dlq, headers: { ...dlq.headers, 'li.lemf': record.lemfId } }])
          .catch((err: unknown) => log.error({ err }, 'dead letter could not be written'));
      },
    });

    async function startConsumer(dest: LemfDestination): Promise<void> {
      const k = lemfKey(dest.tenant, dest.id);
      if (consumers.has(k)) return;
      const consumer = bus.kafka.consumer({
        groupId: lemfGroupId(dest.tenant, dest.id),
        readUncommitted: false,
        allowAutoTopicCreation: false,
        sessionTimeout: 10_000,
        // Records still arrive as soon as they exist; the short long-poll only keeps a stop quick.
        maxWaitTimeInMs: 1000,
      });
      consumers.set(k, consumer);
      // kafkajs never hands eachBatch a batch it filtered to nothing (an aborted transaction, a lone
      // commit marker) and, without autoCommit, never commits past it: do so here, or the group
      // would sit behind the end for good and its lag would never read 0.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        if (payload.batchSize !== 0) return;
        const end = BigInt(payload.lastOffset) + 1n;
        const at = readOf(k).get(OffsetTracker.key(payload));
        if (at && end <= at.offset) return;
        read(k, payload.topic, payload.partition, end);
        // the confirmation that drains this LEMF commits up to `end` (commitPlan)
        if (deliveries.delivery(k)?.pending() !== 0) return;
        commit(k, consumer, commitPlan([], readOf(k), true, committedOf(k)));
      });
      await consumer.connect();
      await consumer.subscribe({
        topics: streamsOf(dest.tenant),
        fromBeginning: true,
      });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch, heartbeat, isRunning }) => {
          const stream = streamOfTopic(batch.topic);
          if (!stream) return;
          const source = { topic: batch.topic, partition: batch.partition, stream };
          const records = lemfRecords(current.get(k) ?? dest, k, source, batch.messages);
          const delivery = deliveries.delivery(k);
          if (records.length > 0) deliveries.offer(k, records);
          else if (delivery && delivery.pending() === 0) {
            // Nothing of ours in this batch and nothing unconfirmed before it: move past it.
            const end = BigInt(batch.lastOffset()) + 1n;
            committedOf(k).set(OffsetTracker.key(batch), end);
            await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(end) }]);
          }
          // After the offer: a commit may pass this batch only once its records are tracked.
          read(k, batch.topic, batch.partition, BigInt(batch.lastOffset()) + 1n);
          // Back-pressure: this LEMF's group waits while its queue is full; other LEMFs go on.
          while (isRunning() && (deliveries.delivery(k)?.pending() ?? 0) > config.highWaterRecords) {
            await sleep(100);
            await heartbeat();
          }
        },
      });
    }

    async function stopConsumer(k: string): Promise<void> {
      const c = consumers.get(k);
      consumers.delete(k);
      await c?.disconnect();
      readUpTo.delete(k);
      committed.delete(k);
    }

    // Destinations: applied in order, one at a time, as they arrive.
    const codecs = await bus.codecsFor<LemfDestination>(config.tenants, 'lemfs', 'LemfDestination');
    let chain = Promise.resolve();
    const tail = await tailTopics({
      kafka: bus.kafka,
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
          if (!dest?.enabled) {
            current.delete(k);
            await stopConsumer(k);
            await deliveries.removeLemf(k);
            return;
          }
          current.set(k, dest);
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
      topicOf: (tenant, stream) => topicName(tenant, stream),
      log,
    });
    lag.start();
    return {
      async stop() {
        await lag.stop();
        await tail.stop();
        // Stop reading, close open files, and give what is unconfirmed a bounded time to be
        // delivered and committed; the rest is re-read after the restart.
        for (const [k, c] of consumers) c.pause(streamsOf(splitLemfKey(k).tenant).map((topic) => ({ topic })));
        const unconfirmed = await deliveries.drain(config.shutdownDrainMs);
        // A commit that hangs must not hold the stop.
        await Promise.race([Promise.all(commits), new Promise((r) => setTimeout(r, 5_000).unref())]);
        if (unconfirmed > 0)
          log.warn({ records: unconfirmed }, 'stopping with unconfirmed records; they will be re-read');
        await Promise.all([...consumers.keys()].map(stopConsumer));
        await deliveries.stop();
        await tunnels?.stop();
      },
    };
  },
};
